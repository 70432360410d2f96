from __future__ import annotations

import pytest

from clinicline.accounts.models import User
from clinicline.accounts.roles import Role
from clinicline.intake import service
from clinicline.intake.spec import CallType, parse_document
from tests.conftest import make_member


@pytest.fixture(scope="session")
def defaults() -> dict[str, CallType]:
    """The shipped call types, parsed without a database (as version 1)."""
    return {t.slug: t for t in parse_document(service.default_document(), 1)}


@pytest.fixture
def practice_admin(practice) -> User:
    return make_member(practice, Role.PRACTICE_ADMIN, "admin")
