"""The loopback gateway: outbound texts and calls land on the simulator's virtual phones."""

import uuid

from clinicline.outbox.models import Channel, Delivery
from clinicline.outbox.transports import Transport
from clinicline.simulator import history


class LoopbackTransport(Transport):
    """A first-class gateway whose phones are the simulator's: texts and calls land on the
    virtual phone with that number (development, demos, drills and tests)."""

    name = "loopback"

    def send(self, delivery: Delivery) -> str:
        sms = delivery.channel == Channel.SMS
        sid = f"{'SM' if sms else 'CA'}{uuid.uuid4().hex}"
        history.log_event(delivery.practice_id, delivery.to, history.TO_PHONE,
                          history.SMS if sms else history.CALL, delivery.body,
                          "" if sms else sid, delivery=delivery)
        return sid
