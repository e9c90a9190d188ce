from __future__ import annotations

import pytest

from onething.complaints import classifier
from tests.notifications.conftest import email_topics  # noqa: F401 - a fixture used here


@pytest.fixture(scope="session")
def shipped_data() -> classifier.DataSet:
    return classifier.read_samples(classifier.DEFAULT_DATA)


@pytest.fixture(scope="session")
def trained(shipped_data) -> classifier.Model:
    """The classifier trained once per test session on the shipped data set."""
    return classifier.train(shipped_data.samples, data_sha256=shipped_data.sha256)


@pytest.fixture
def hotline(db):
    """A hotline agent, a supervisor over Xiamen, and members of Siming units."""
    from onething.accounts.models import Role, RoleAssignment
    from onething.catalog.models import Region
    from onething.complaints.models import UnitMember
    from tests.factories import StaffFactory

    xiamen, _ = Region.objects.get_or_create(
        code="350200", defaults={"name_zh": "厦门市", "name_en": "Xiamen", "level": "city"}
    )
    fuzhou, _ = Region.objects.get_or_create(
        code="350100", defaults={"name_zh": "福州市", "name_en": "Fuzhou", "level": "city"}
    )
    agent = StaffFactory(email="agent@example.test")
    RoleAssignment.objects.create(user=agent, role=Role.HOTLINE_AGENT)
    supervisor = StaffFactory(email="supervisor@example.test")
    RoleAssignment.objects.create(user=supervisor, role=Role.SUPERVISOR, region=xiamen)
    fuzhou_supervisor = StaffFactory()
    RoleAssignment.objects.create(user=fuzhou_supervisor, role=Role.SUPERVISOR, region=fuzhou)
    members = {}
    for unit in (
        "sm_zhonghua_police",
        "sm_police",
        "sm_12345",
        "xm_12345",
        "sm_housing",
        "sm_zhonghua_office",
        "sm_urban_management",
        "gl_12345",
    ):
        user = StaffFactory(email=f"{unit}@example.test")
        UnitMember.objects.create(user=user, unit=unit)
        members[unit] = user
    return {
        "agent": agent,
        "supervisor": supervisor,
        "fuzhou_supervisor": fuzhou_supervisor,
        "units": members,
    }
