"""Prefill through a department's system over real HTTP: the social insurance register served by
the department simulator, read under the retirement and after-death grants — and asked at the
same time as the platform's own records."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from onething.applications.models import DepartmentEndpoint
from onething.catalog.models import DataSource, Department, Grant, Thing
from onething.catalog.services import catalog_revision_bump
from onething.core.registry import Registry
from onething.sharing.circuit import CircuitBreaker
from onething.sharing.connectors.certificates import CertificatesConnector
from onething.sharing.connectors.http_json import HttpJsonConnector
from onething.sharing.connectors.table import TableConnector
from onething.sharing.models import DataUse
from onething.sharing.services import PrefillRequest, prefill_run, register_load
from onething.simulator import DepartmentSimulator, SimulatorConfig
from tests.factories import PersonFactory, id_card_issue

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
        endpoints=endpoints,
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


def test_the_retirees_employer_comes_from_the_social_insurance_record(hrss_system):
    applicant = PersonFactory(id_number=WANG)
    request = replace(
        retirement_request(applicant),
        wanted=("retiree.name", "employer.name", "employer.uscc"),
    )
    result = prefill_run(request, budget=5)
    assert result.values["employer.name"].value == "福州东街百货有限公司"
    assert result.values["employer.uscc"].value == "913501021543812697"
    assert result.values["employer.uscc"].source == "social_insurance"


HUANG = "350200197004083572"  # his father died on 2026-11-19 (demo registers)
HUANG_FATHER = "350200194403152113"
PENSION = (
    "deceased.pension_status",
    "deceased.pension_start_date",
    "deceased.monthly_pension",
    "deceased.pension_stopped_on",
)


def after_death_request(son, *, sensitive_consented):
    return PrefillRequest(
        actor=son,
        applicant_id_number=HUANG,
        thing="after_death",
        services=("pension_survivor_benefits",),
        wanted=("deceased.name", *PENSION),
        sensitive=frozenset({"deceased.monthly_pension"}),
        sensitive_consented=sensitive_consented,
        application_reference="OT20261127-DEATH1",
    )


def test_after_a_death_the_pension_record_of_the_person_who_died_is_read(hrss_system):
    son = PersonFactory(id_number=HUANG)
    result = prefill_run(after_death_request(son, sensitive_consented=True), budget=5)
    assert {key: result.values[key].value for key in PENSION} == {
        "deceased.pension_status": "stopped",
        "deceased.pension_start_date": "2004-04-01",
        "deceased.monthly_pension": 3920,
        "deceased.pension_stopped_on": "2026-11-19",
    }
    assert {result.values[key].source for key in PENSION} == {"social_insurance"}
    # Recorded as a use of the father's data, not of his son's.
    read = DataUse.objects.get(source="social_insurance", use="prefill")
    assert read.subject == HUANG_FATHER and read.outcome == "provided"
    assert set(read.elements) == set(PENSION)
    assert not DataUse.objects.filter(subject=HUANG, source="social_insurance").exists()


def test_the_pension_amount_is_read_only_with_the_sensitive_tick(hrss_system):
    son = PersonFactory(id_number=HUANG)
    result = prefill_run(after_death_request(son, sensitive_consented=False), budget=5)
    assert result.values["deceased.pension_status"].value == "stopped"
    assert "deceased.monthly_pension" not in result.values
    read = DataUse.objects.get(source="social_insurance", use="prefill")
    assert "deceased.monthly_pension" not in read.elements


class Timed:
    """The real connector answers; this only notes when each of its reads began and ended."""

    def __init__(self, connector, reads):
        self.connector, self.reads = connector, reads
        self.local = getattr(connector, "local", False)

    def fetch(self, lookup, *, timeout):
        began = time.monotonic()
        try:
            return self.connector.fetch(lookup, timeout=timeout)
        finally:
            self.reads[lookup.source] = (began, time.monotonic())


def test_sources_are_asked_at_once_so_the_slowest_sets_the_time(hrss_system):
    """The social insurance system answers after 1 s; the population register, the housing fund
    and the e-certificate library at once. The prefill takes about 1 s, not their sum: the
    platform's own records are read while the department's system is still answering."""
    hrss_system.configure(registry_delay_seconds=1.0)
    applicant = PersonFactory(id_number=WANG, real_name="王秀英")
    card = id_card_issue(applicant, {"applicant.name": "王秀英", "applicant.id_number": WANG})
    # The catalog grants retirement no certificate; this test lets it read the retiree's card.
    cards = DataSource.objects.create(
        code="retiree_id_cards",
        name_zh="居民身份证电子证照",
        name_en="Resident ID e-certificates",
        department=Department.objects.get(code="fj_public_security"),
        connector="certificates",
        options={"certificate_type": "resident_id_card"},
        serves=[{"element": "retiree.id_card_number", "field": "number", "of": "applicant"}],
    )
    Grant.objects.create(
        code="retirement_id_card",
        thing=Thing.objects.get(code="retirement"),
        source=cards,
        elements=["retiree.id_card_number"],
        purpose_zh="测试",
        purpose_en="test",
        legal_basis_zh="测试",
        legal_basis_en="test",
    )
    catalog_revision_bump()  # as a catalog load does after writing sources and grants
    reads: dict[str, tuple[float, float]] = {}
    registry = Registry("timed connectors")
    registry.register("table")(Timed(TableConnector(), reads))
    registry.register("certificates")(Timed(CertificatesConnector(), reads))
    breaker = CircuitBreaker()
    http = HttpJsonConnector(breakers=lambda _code: breaker, trust_env=False)
    registry.register("http-json")(Timed(http, reads))
    request = PrefillRequest(
        actor=applicant,
        applicant_id_number=WANG,
        thing="retirement",
        services=("housing_fund_retirement_withdrawal",),
        wanted=(
            "retiree.name",
            "retiree.contribution_years",
            "retiree.housing_fund_account",
            "retiree.id_card_number",
        ),
        application_reference="OT20261127-TIMING",
    )
    try:
        started = time.monotonic()
        result = prefill_run(request, budget=3, registry=registry)
        elapsed = time.monotonic() - started
    finally:
        http.close()

    assert {key: (found.value, found.source) for key, found in result.values.items()} == {
        "retiree.name": ("王秀英", "population_register"),
        "retiree.contribution_years": (32, "social_insurance"),
        "retiree.housing_fund_account": ("FZ3501020004418", "housing_fund"),
        "retiree.id_card_number": (card.number, "retiree_id_cards"),
    }
    # About the slowest source, not the sum of all four read one after another.
    assert 1.0 <= elapsed < 1.9, elapsed
    slow_began, slow_ended = reads.pop("social_insurance")
    assert set(reads) == {"population_register", "housing_fund", "retiree_id_cards"}
    for source, (began, ended) in reads.items():
        assert slow_began <= began and ended <= slow_ended, f"{source} was not read meanwhile"
