from __future__ import annotations

from datetime import date

import pytest

from onething.accounts.models import Role, RoleAssignment
from onething.catalog.models import CertificateType
from onething.certificates import services
from onething.core.actors import SystemActor
from tests.factories import PersonFactory, StaffFactory, make_ric, reviewer


@pytest.fixture(autouse=True)
def keys_dir(tmp_path, settings):
    """Each test signs with keys of its own, in a folder of its own."""
    settings.ONETHING_KEYS_DIR = tmp_path / "keys"
    return settings.ONETHING_KEYS_DIR


@pytest.fixture
def birth_type(loaded_catalog):
    return CertificateType.objects.select_related("issuer").get(code="birth_medical_certificate")


@pytest.fixture
def holder(db):
    return PersonFactory(real_name="林小燕", id_number=make_ric(birth=date(1992, 5, 17)))


@pytest.fixture
def issue(birth_type):
    """Issue a birth certificate through the service (the way case approval does)."""

    def issue(holder, *, certificate_type=None, **extra):
        certificate_type = certificate_type or birth_type
        values = {
            "actor": SystemActor("worker"),
            "certificate_type": certificate_type,
            "holder": holder,
            "issuer": certificate_type.issuer,
            "data": {"child.name": "林小满", "child.birth_date": "2026-11-20"},
            "application_reference": "OT20261127-TEST01",
        }
        values.update(extra)
        return services.certificate_issue(**values)

    return issue


@pytest.fixture
def people(loaded_catalog):
    """One user per kind of caller a revocation must tell apart."""
    administrator = StaffFactory()
    RoleAssignment.objects.create(user=administrator, role=Role.ADMINISTRATOR)
    clerk = StaffFactory()
    RoleAssignment.objects.create(user=clerk, role=Role.WINDOW_CLERK)
    return {
        "health_reviewer": reviewer("fj_health"),
        "police_reviewer": reviewer("fj_public_security"),
        "administrator": administrator,
        "clerk": clerk,
        "applicant": PersonFactory(),
    }
