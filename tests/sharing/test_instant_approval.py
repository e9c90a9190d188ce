"""Instant approval (秒批) of the retiree's medical insurance: approved at once when the
contribution years come from the social insurance system and reach 25; otherwise — too few
years, or years the applicant typed because the system could not answer — the case waits for a
reviewer of the medical security bureau, with the reason recorded. The rule never rejects."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.utils import translation

from onething.applications import services
from onething.applications.lifecycle import CaseStatus
from onething.applications.models import DepartmentEndpoint
from onething.applications.selectors import cases_for_staff
from onething.catalog.models import Department
from onething.outbox.registry import autodiscover
from onething.outbox.worker import outbox_run_once
from onething.sharing.services import register_load
from onething.simulator import DepartmentSimulator, SimulatorConfig
from tests.applications.conftest import fill_and_attach
from tests.factories import PersonFactory, reviewer

pytestmark = pytest.mark.django_db

WANG = "350121196611202467"  # retiring this year: 28 years of medical insurance contributions
REMOTE = Path(settings.BASE_DIR) / "demo_data" / "remote"
ANSWERS = {"retirement_type": "normal", "file_review_needed": "no", "has_housing_fund": "no"}


@pytest.fixture
def retiree(loaded_catalog, demo_registers):
    register_load(actor="test", registers=demo_registers)
    return PersonFactory(id_number=WANG, real_name="王秀英")


def hrss_endpoint(base_url: str) -> None:
    DepartmentEndpoint.objects.create(
        department=Department.objects.get(code="fj_hrss"), base_url=base_url, secret="s3cret"
    )


@pytest.fixture
def hrss_system(db):
    """Start the social insurance system answering from a register folder or file."""
    started = []

    def start(registers: Path) -> None:
        simulator = DepartmentSimulator(
            SimulatorConfig(secret="s3cret", registers=(str(registers),))
        )
        started.append(simulator)
        hrss_endpoint(simulator.start())

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def with_fewer_years(tmp_path):
    """The social insurance register, but she has paid medical insurance for 20 years only."""
    document = yaml.safe_load((REMOTE / "social_insurance.yaml").read_text(encoding="utf-8"))
    [record] = [r for r in document["records"] if r["id_number"] == WANG]
    record["medical_contribution_years"] = 20
    changed = tmp_path / "social_insurance.yaml"
    changed.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return changed


def retire(retiree, *, typed=None):
    """Apply, let the platform read the records, submit, and have the pension approved; then
    the medical insurance case is handed to its automatic rule."""
    draft = services.application_start(actor=retiree, thing_code="retirement", answers=ANSWERS)
    services.application_prefill(actor=retiree, application=draft, consent=True, sensitive=True)
    draft.refresh_from_db()
    fill_and_attach(
        draft,
        retiree,
        overrides={**{k: draft.form_data[k] for k in draft.prefilled}, **(typed or {})},
    )
    application = services.application_submit(actor=retiree, application=draft, consent=True)
    hrss = reviewer("fj_hrss")
    pension = services.case_accept(
        actor=hrss, case=application.cases.get(service__code="pension_retirement_standard")
    )
    services.case_approve(
        actor=hrss,
        case=pension,
        outputs={"retiree.retirement_date": date(2026, 12, 1), "retiree.monthly_pension": 4120},
    )
    autodiscover()
    with translation.override("en"):  # the reason is recorded in the worker's language
        outbox_run_once(worker_id="test", batch=50)
    return application, application.cases.get(service__code="retiree_medical_insurance")


def test_with_enough_years_from_the_register_it_is_approved_at_once(retiree, hrss_system):
    hrss_system(REMOTE)
    application, insurance = retire(retiree)
    assert application.prefilled["retiree.medical_contribution_years"] == {
        "source": "social_insurance",
        "authoritative": True,
    }
    assert insurance.status == CaseStatus.APPROVED
    assert insurance.decided_by_rule == "authoritative_inputs"
    approved = insurance.events.get(action="approved")
    assert approved.actor_label == "system:rule:authoritative_inputs"
    assert approved.data["rule"] == "authoritative_inputs"
    assert approved.data["inputs_from"] == {
        "retiree.id_number": "population_register",
        "retiree.medical_contribution_years": "social_insurance",
    }
    assert insurance not in cases_for_staff(reviewer("fj_medical_security"), status="open")


def assert_waits_for_a_reviewer(insurance, reason: str) -> None:
    assert insurance.status == CaseStatus.READY
    assert insurance.decided_by_rule == ""
    assert not insurance.events.filter(action__in=("approved", "rejected")).exists()
    referred = insurance.events.get(action="referred")
    assert referred.actor_label == "system:rule:authoritative_inputs"
    assert reason in referred.note
    assert insurance in cases_for_staff(reviewer("fj_medical_security"), status="open")


def test_with_too_few_years_it_waits_for_a_reviewer(retiree, hrss_system, with_fewer_years):
    hrss_system(with_fewer_years)
    application, insurance = retire(retiree)
    assert application.form_data["retiree.medical_contribution_years"] == 20
    assert_waits_for_a_reviewer(insurance, "condition does not hold")


def test_years_the_applicant_typed_go_to_a_reviewer_however_many(retiree):
    # The social insurance system cannot be reached: she types the years herself.
    hrss_endpoint("http://127.0.0.1:9")
    application, insurance = retire(retiree, typed={"retiree.medical_contribution_years": "30"})
    assert "retiree.medical_contribution_years" not in application.prefilled
    assert application.form_data["retiree.medical_contribution_years"] == 30
    assert_waits_for_a_reviewer(insurance, "retiree.medical_contribution_years")
