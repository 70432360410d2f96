from clinicline.accounts.models import Membership
from clinicline.inbox.models import Notice
from clinicline.outbox.models import Delivery
from clinicline.outbox.transports import Transport, TransportError


class InAppTransport(Transport):
    """Delivers to a member's home page: our own channel, so it is delivered at once."""

    name = "in-app"
    delivered_on_send = True

    def send(self, delivery: Delivery) -> str:
        # The recipient is a member of the delivery's practice, or nobody: a notice must
        # never land on the page of someone outside the practice.
        member = delivery.to.isdigit() and Membership.objects.filter(
            practice_id=delivery.practice_id, user_id=int(delivery.to)).first()
        if not member:
            raise TransportError("in-app: the recipient is not a member of this practice",
                                 permanent=True)
        # Keyed by the delivery: an attempt repeated after a crash shows one notice.
        notice, _ = Notice.objects.get_or_create(
            delivery=delivery, defaults={"practice_id": delivery.practice_id,
                                         "user_id": member.user_id, "body": delivery.body[:500]})
        return f"notice-{notice.pk}"
