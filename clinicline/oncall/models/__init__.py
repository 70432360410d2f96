"""The on-call app's models, one module per concern."""

from clinicline.oncall.models.contacts import ContactMethod, NotificationRule

__all__ = ["ContactMethod", "NotificationRule"]
