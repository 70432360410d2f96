"""A practice admin's staff: who works here in which role, and the few things an admin may
do to a member's account.

Every function takes the practice and finds the member through its own memberships, so an
admin of one practice can never name a member who is only in another. A practice keeps at
least one active admin: the change that would leave it none is refused. Each change is
audited in the same transaction by the caller's ``audit`` function.

Ending sessions: each session records the account's ``session_epoch`` at login and the
session middleware compares it on every request, so raising the epoch ends every session of
the account, on every device and whatever the session backend, without searching the
session table (whose rows can only be found by decoding each one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicline.accounts.models import Membership, User
from clinicline.accounts.roles import Role
from clinicline.practices.models import Practice

ADMIN = Role.PRACTICE_ADMIN
INVITE_PURPOSE = "staff-invitation"


class StaffError(Exception):
    """Refused, with a message for the admin."""


@dataclass(frozen=True)
class Member:
    """One row of the staff list."""

    membership: Membership
    mfa_enrolled: bool

    @property
    def user(self) -> User:
        return self.membership.user


def members(practice: Practice) -> list[Member]:
    rows = list(Membership.objects.filter(practice=practice).select_related("user")
                .order_by("-user__is_active", "user__username"))
    enrolled = set(TOTPDevice.objects.filter(
        user_id__in=[m.user_id for m in rows], confirmed=True).values_list("user_id", flat=True))
    return [Member(m, m.user_id in enrolled) for m in rows]


def membership(practice: Practice, user_id: int) -> Membership:
    """The member of this practice, or LookupError: never a member of another practice."""
    found = (Membership.objects.filter(practice=practice, user_id=user_id)
             .select_related("user").first())
    if found is None:
        raise LookupError(user_id)
    return found


def _admins_left(practice: Practice, without: Membership) -> int:
    """Active admins of the practice other than ``without``, rows locked till commit."""
    admins = (Membership.objects.select_for_update()
              .filter(practice=practice, role=ADMIN, user__is_active=True)
              .exclude(pk=without.pk))
    return len(list(admins))


def _keep_an_admin(practice: Practice, member: Membership) -> None:
    if member.role == ADMIN and not _admins_left(practice, member):
        raise StaffError("This is the practice's only active admin. Make another member an "
                         "admin first: a practice without one cannot manage its staff.")


def change_role(practice: Practice, member: Membership, role: str) -> None:
    if role not in Role.values:
        raise StaffError("Choose one of the roles listed.")
    if role == member.role:
        raise StaffError("That is the member's role already.")
    if role != ADMIN:
        _keep_an_admin(practice, member)
    Membership.objects.filter(pk=member.pk).update(role=role)
    member.role = role


def end_sessions(user: User) -> None:
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)


def deactivate(practice: Practice, member: Membership) -> bool:
    """Stop the member signing in here. A member of this practice only loses the account
    (and every session); one who also works for another practice only loses this
    membership, since the account is theirs there too. True if the account was closed."""
    _keep_an_admin(practice, member)
    user = member.user
    if Membership.objects.filter(user=user).exclude(pk=member.pk).exists():
        member.delete()
        return False
    User.objects.filter(pk=user.pk).update(is_active=False)
    end_sessions(user)
    return True


def reset_mfa(user: User) -> None:
    """Remove the authenticator and recovery codes: the member enrols again at their next
    login, and the sessions verified by the old device end now."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    end_sessions(user)


def add_member(practice: Practice, *, username: str, email: str, role: str,
               first_name: str = "", last_name: str = "") -> Membership:
    """A new account with no password, and its membership. The member sets a password
    through the one-time link of ``invite_link`` (then enrols MFA at first login); nobody,
    the admin included, ever knows it."""
    if User.objects.filter(email__iexact=email).exists():
        raise StaffError("That email address already has a clinicline account. Adding an "
                         "existing account to another practice is done by clinicline "
                         "support, who confirm it with the person first.")
    try:
        with transaction.atomic():
            user = User(username=username, email=email, first_name=first_name,
                        last_name=last_name)
            user.set_unusable_password()
            user.save()
            return Membership.objects.create(user=user, practice=practice, role=role)
    except IntegrityError:
        raise StaffError("That username is taken: choose another.") from None


class InviteTokens(PasswordResetTokenGenerator):
    """Django's password-reset tokens, spelled without digits. The outbox's last screen
    withholds a message with a long run of digits (it could be a phone or record number),
    and a token of hex digits has one in about one link in five: the link spells the
    token's digits as capitals, which the token itself never holds."""

    def make_token(self, user: Any) -> str:
        return super().make_token(user).translate(_DIGITS_AS_CAPITALS)

    def check_token(self, user: Any, token: str | None) -> bool:
        return super().check_token(user, token and token.translate(_CAPITALS_AS_DIGITS))


_DIGITS_AS_CAPITALS = str.maketrans("0123456789", "ABCDEFGHIJ")
_CAPITALS_AS_DIGITS = str.maketrans("ABCDEFGHIJ", "0123456789")
invite_tokens = InviteTokens()


def invite_link(user: User, site_url: str) -> str:
    """A link to set a first password. The token is made of the password hash and last
    login, so it works once (setting a password changes the hash) and expires after
    PASSWORD_RESET_TIMEOUT."""
    path = reverse("accounts:set_password", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": invite_tokens.make_token(user)})
    return site_url.rstrip("/") + path


def invitation_text(practice: Practice, link: str) -> str:
    """Subject, then the body: who invites, and the link; nothing about any patient."""
    days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
    return (f"You are invited to clinicline\n{practice.name} has added you to clinicline. "
            f"Set your password here (the link works once, for {days} days): {link}\n"
            "You will then set up an authenticator app for sign-in codes.")

