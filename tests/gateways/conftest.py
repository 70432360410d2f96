"""The gateway tests' own fixture: a signed-in practice admin."""

from __future__ import annotations

import pytest
from django.test import Client

from clinicline.accounts.models import User
from clinicline.accounts.roles import Role
from clinicline.practices.models import Practice
from tests.conftest import make_member, signed_in


@pytest.fixture
def admin_user(practice: Practice) -> User:
    return make_member(practice, Role.PRACTICE_ADMIN, "admin")


@pytest.fixture
def admin(admin_user: User) -> Client:
    return signed_in(admin_user)
