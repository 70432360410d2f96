from __future__ import annotations

import pytest

from clinicline.accounts.models import User
from clinicline.accounts.roles import Role
from clinicline.triage import service
from clinicline.triage.spec import ProtocolSpec, compile_protocol
from tests.conftest import make_member


@pytest.fixture(scope="session")
def default_spec() -> ProtocolSpec:
    """The shipped default protocol, compiled without a database (as version 1)."""
    return compile_protocol(service.default_document(), 1)


@pytest.fixture
def practice_admin(practice) -> User:
    return make_member(practice, Role.PRACTICE_ADMIN, "admin")
