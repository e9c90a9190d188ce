"""Prefill through a department's system over real HTTP: the social insurance register served by
the department simulator, read under the retirement grants."""

from __future__ import annotations

import pytest

from onething.applications.models import DepartmentEndpoint
from onething.catalog.models import Department
from onething.sharing.models import DataUse
from onething.sharing.services import PrefillRequest, prefill_run, register_load
from onething.simulator import DepartmentSimulator, SimulatorConfig
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db
WANG = "350121196611202467"  # retiring this year, in the demo population


@pytest.fixture
def hrss_system(settings, loaded_catalog, demo_registers):
    register_load(actor="test", registers=demo_registers)
    remote = settings.BASE_DIR / "demo_data" / "remote"
    simulator = DepartmentSimulator(SimulatorConfig(secret="s3cret", registers=(str(remote),)))
    url = simulator.start()
    DepartmentEndpoint.objects.create(
        department=Department.objects.get(code="fj_hrss"), base_url=url, secret="s3cret"
    )
    yield simulator
    simulator.stop()


def retirement_request(actor, endpoints=None):
    return PrefillRequest(
        actor=actor,
        applicant_id_number=WANG,
        thing="retirement",
        services=("pension_claim",),
        wanted=(
            "retiree.name",
            "retiree.id_number",
            "retiree.contribution_years",
            "retiree.medical_contribution_years",
        ),
        endpoints=endpoints or {},
        application_reference="OT20261127-RETIRE",
    )


def test_contribution_years_come_from_the_departments_own_system(hrss_system):
    applicant = PersonFactory(id_number=WANG)
    endpoint = DepartmentEndpoint.objects.get(department__code="fj_hrss")
    result = prefill_run(
        retirement_request(applicant, {"fj_hrss": (endpoint.base_url, endpoint.secret)}),
        budget=5,
    )
    assert result.values["retiree.name"].value == "王秀英"
    assert result.values["retiree.contribution_years"].source == "social_insurance"
    assert isinstance(result.values["retiree.contribution_years"].value, int)
    assert hrss_system.stats()["registry_reads"] >= 1
    use = DataUse.objects.get(subject=WANG, source="social_insurance")
    assert use.outcome == "provided" and use.department == "fj_hrss"


def test_an_unreachable_system_leaves_the_years_to_fill_in(hrss_system):
    applicant = PersonFactory(id_number=WANG)
    result = prefill_run(
        retirement_request(applicant, {"fj_hrss": ("http://127.0.0.1:9", "")}), budget=1
    )
    assert "retiree.contribution_years" not in result.values
    assert "retiree.name" in result.values
    assert "social_insurance" in result.unavailable
