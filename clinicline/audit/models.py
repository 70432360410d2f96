"""The audit trail: append-only, hash-chained, free of PHI.

Rows refer to people, practices and records by id only (no foreign keys: a cascade or a
SET NULL would rewrite history and break the chain).
"""

from __future__ import annotations

from typing import Any

from django.db import models


class Action(models.TextChoices):
    LOGIN = "auth.login", "logged in"
    LOGIN_FAILED = "auth.login_failed", "failed login"
    LOGOUT = "auth.logout", "logged out"
    SESSION_TIMEOUT = "auth.timeout", "session timed out"
    LOCKOUT = "auth.lockout", "locked out"
    REAUTH = "auth.reauth", "re-authenticated"
    REAUTH_FAILED = "auth.reauth_failed", "failed re-authentication"
    MFA_ENROL = "mfa.enrol", "enrolled MFA"
    MFA_VERIFIED = "mfa.verified", "passed MFA"
    MFA_FAILED = "mfa.failed", "failed MFA"
    RECOVERY_USED = "mfa.recovery_used", "used a recovery code"
    VIEW = "phi.view", "viewed PHI"
    SEARCH = "phi.search", "searched PHI"
    CREATE = "phi.create", "created PHI"
    UPDATE = "phi.update", "updated PHI"
    DELETE = "phi.delete", "deleted PHI"
    DENIED = "access.denied", "access denied"
    BREAK_GLASS = "access.break_glass", "break-glass access"
    AUDIT_VIEW = "audit.view", "viewed the audit trail"
    EXPORT = "audit.export", "exported the audit trail"
    CONSENT_EXPORT = "consent.export", "exported a patient's consent history"
    KEY_ROTATION = "vault.rotate", "rotated keys"
    SETTINGS_CHANGE = "practice.settings", "changed practice settings"
    DELIVERY_REFUSED = "delivery.refused", "refused to send (looks like PHI)"
    WEBHOOK_FORGED = "webhook.forged", "refused a webhook with a bad signature"
    BAA_CHANGE = "practice.baa", "recorded a business associate agreement"
    GATEWAY_CHANGE = "practice.gateway", "changed the telephony gateway"
    IDENTITY_CHECK = "phi.identity_check", "checked a caller's identity"
    MESSAGE_CLAIM = "message.claim", "claimed a message"
    MESSAGE_ASSIGN = "message.assign", "reassigned a message"
    MESSAGE_NOTE = "message.note", "added a note to a message"
    MESSAGE_CLOSE = "message.close", "closed a message"
    MESSAGE_TRIAGE = "message.triage", "re-triaged a message"
    PAGE_OPEN = "page.open", "opened a page"
    PAGE_NOTIFY = "page.notify", "notified a member of a page"
    PAGE_UNREACHABLE = "page.unreachable", "a page step reached nobody"
    PAGE_LINK = "page.link", "opened a page's link"
    PAGE_ACK = "page.ack", "acknowledged a page"
    PAGE_PASS = "page.pass", "passed a page on"
    PAGE_ALARM = "page.alarm", "alarmed: nobody acknowledged a page"
    PAGE_RESOLVE = "page.resolve", "resolved a page"
    SESSION_REVOKED = "auth.revoked", "session ended (signed out everywhere)"
    STAFF_ADD = "staff.add", "added a member"
    STAFF_ROLE = "staff.role", "changed a member's role"
    STAFF_DEACTIVATE = "staff.deactivate", "deactivated a member"
    STAFF_MFA_RESET = "staff.mfa_reset", "reset a member's MFA"
    STAFF_SIGN_OUT = "staff.sign_out", "signed a member out everywhere"
    CONTACT_CHANGE = "oncall.contact", "changed a contact method"
    CONTACT_VERIFY = "oncall.contact_verify", "verified a contact method"
    NOTIFY_RULES = "oncall.rules", "changed notification rules"
    ONCALL_CHANGE = "oncall.change", "changed an on-call schedule"
    ONCALL_REVIEW = "oncall.review", "reviewed an on-call schedule"
    FEED_LINK_NEW = "oncall.feed_new", "made a calendar feed link"
    FEED_LINK_REVOKE = "oncall.feed_revoke", "revoked a calendar feed link"
    VOICE_PIN_SET = "oncall.voice_pin", "set a voice PIN"
    VOICE_PIN_LOCKED = "oncall.voice_pin_lock", "voice PIN locked after wrong tries"
    TEMPLATE_DRAFT = "outreach.draft", "drafted outreach template words"
    TEMPLATE_APPROVE = "outreach.approve", "approved outreach template words"
    BINDER_PRINT = "intake.binder_pdf", "downloaded the script binder (PDF)"
    APPOINTMENT_IMPORT = "outreach.appt_import", "imported appointments"
    REMINDER_RUN = "outreach.reminder_run", "started a reminder run"
    REMINDER_POLICY = "outreach.reminder_policy", "changed reminder timing"
    OUTREACH_CALL = "outreach.call", "placed a reminder or results call"
    OUTREACH_CALL_KEY = "outreach.call_key", "a patient answered a reminder call by key"
    RESULTS_REQUEST = "outreach.results", "asked to tell a patient results are ready"
    RESULTS_LINK = "outreach.results_link", "a results link was tried"
    RESULTS_LINK_LOCK = "outreach.results_lock", "a results link locked after wrong tries"
    SMS_REPLY = "outreach.sms_reply", "a patient's text reply changed an appointment"
    STAFF_REPLY = "outreach.staff_reply", "replied to a patient's text"
    SEND_MESSAGE = "outreach.send", "sent (or tried to send) a message to a patient"
    SENDING_POLICY = "outreach.policy", "changed the sending policy (limits and hours)"


class Outcome(models.TextChoices):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def for_practice(self, practice_id: int,
                     member_ids: models.QuerySet[Any, Any] | list[int]) -> AuditEventQuerySet:
        """A practice's events, and its members' events that belong to no practice (logins,
        lockouts): those are part of its staff's trail too."""
        return self.filter(models.Q(practice_id=practice_id)
                           | models.Q(practice_id__isnull=True, actor_id__in=member_ids))


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_label = models.CharField(max_length=150, blank=True, help_text="username at the time")
    practice_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=32, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.CharField(max_length=64, blank=True, db_index=True,
                                  help_text="the patient the event concerns (opaque id)")
    fields = models.TextField(blank=True, help_text="comma-separated field names touched")
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    reason = models.TextField(blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.SUCCESS)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label or '-'}"


class AuditHead(models.Model):
    """The end of the chain: one row, locked by every append, so appends form one chain
    under concurrent writers and a deleted tail is noticed."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit head at #{self.seq}"
