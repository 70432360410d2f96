from __future__ import annotations

import pytest

from clinicline.accounts.models import User
from clinicline.accounts.roles import Role
from clinicline.practices.models import Provider
from tests.conftest import make_member


@pytest.fixture
def practice_admin(practice) -> User:
    return make_member(practice, Role.PRACTICE_ADMIN, "admin")


@pytest.fixture
def dr_osei(practice) -> Provider:
    return Provider.objects.create(practice=practice, display_name="Dr. Osei")
