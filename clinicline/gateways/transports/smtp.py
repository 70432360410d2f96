import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from clinicline.outbox.models import Delivery
from clinicline.outbox.transports import Transport, TransportError

# Without a timeout a hung mail server holds the worker until the row is requeued as stuck.
TIMEOUT_S = 20


def refusal_code(exc: Exception) -> int:
    """The server's reply code: 5xx is a final no, 4xx (and no answer at all) is "later"."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        # Every recipient was refused at RCPT; each has its own (code, message).
        return min((code for code, _ in exc.recipients.values()), default=0)
    return getattr(exc, "smtp_code", 0)


class SMTPTransport(Transport):
    """Notification email through the configured SMTP server. Notification only: the body
    says there is something to read, never what ("You have 2 new secure messages")."""

    name = "smtp"

    def send(self, delivery: Delivery) -> str:
        subject, _, text = delivery.body.partition("\n")
        message = EmailMessage(subject=subject or "clinicline notification",
                               body=text or subject, to=[delivery.to],
                               from_email=settings.DEFAULT_FROM_EMAIL,
                               headers={"X-Clinicline-Delivery": str(delivery.pk)},
                               connection=get_connection(timeout=TIMEOUT_S))
        try:
            message.send(fail_silently=False)
        except ValueError:  # a malformed address or header: sending again will not mend it
            raise TransportError("SMTP: the message could not be built", permanent=True) \
                from None
        except OSError as exc:  # smtplib's errors and the network's are OSErrors
            # The server's reply text may quote the address: only the code is kept.
            code = refusal_code(exc)
            raise TransportError(f"SMTP: {type(exc).__name__}{f' {code}' if code else ''}",
                                 permanent=code >= 500) from None
        return f"email-{delivery.pk}"
