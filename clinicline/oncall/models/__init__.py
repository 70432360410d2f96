"""The on-call app's models, one module per concern."""

from clinicline.oncall.models.contacts import ContactMethod, NotificationRule
from clinicline.oncall.models.paging import Page, PageEvent, Policy, PolicyStep

__all__ = ["ContactMethod", "NotificationRule", "Page", "PageEvent", "Policy", "PolicyStep"]
