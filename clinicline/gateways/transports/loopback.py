import uuid

from clinicline.gateways.models import SimulatorEvent
from clinicline.outbox.models import Channel, Delivery
from clinicline.outbox.transports import Transport
from clinicline.patients.models import BY_PHONE
from clinicline.vault.blind import blind_index


class LoopbackTransport(Transport):
    """A first-class gateway whose phones are the simulator's: texts and calls land on the
    virtual phone with that number (development, demos, drills and tests)."""

    name = "loopback"

    def send(self, delivery: Delivery) -> str:
        prefix = "SM" if delivery.channel == Channel.SMS else "CA"
        sid = f"{prefix}{uuid.uuid4().hex}"
        SimulatorEvent.objects.create(
            practice_id=delivery.practice_id, number=delivery.to,
            number_index=blind_index(delivery.practice_id, BY_PHONE, delivery.to),
            direction=SimulatorEvent.Direction.TO_PHONE,
            kind="sms" if delivery.channel == Channel.SMS else "call",
            body=delivery.body, call_sid=sid if prefix == "CA" else "", delivery=delivery)
        return sid
