"""The on-call app's models, one module per concern."""

from clinicline.oncall.models.bundles import Bundle, BundleEntry
from clinicline.oncall.models.contacts import ContactMethod, NotificationRule, VoicePin
from clinicline.oncall.models.paging import Page, PageEvent, Policy, PolicyStep
from clinicline.oncall.models.schedules import (
    FeedToken,
    Layer,
    Override,
    Rotation,
    RotationMember,
    Schedule,
)

__all__ = ["Bundle", "BundleEntry", "ContactMethod", "FeedToken", "Layer", "NotificationRule",
           "Override", "Page", "PageEvent", "Policy", "PolicyStep", "Rotation", "RotationMember",
           "Schedule", "VoicePin"]
