"""Prefill against the database: the demo registers, the catalog's grants, every use recorded."""

from __future__ import annotations

import hashlib
import time

import pytest
from django.test import override_settings
from django.utils import translation

from onething.audit.models import AuditRecord
from onething.audit.verification import audit_verify
from onething.core.registry import Registry
from onething.sharing.connectors import SourceUnavailable
from onething.sharing.connectors.table import TableConnector
from onething.sharing.models import DataUse
from onething.sharing.services import PrefillRequest, prefill_run, register_load, subject_stream
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

LIN = "350203199406121242"  # the newborn's mother in the demo population
NEWBORN_SERVICES = (
    "birth_medical_certificate",
    "vaccination_certificate",
    "birth_hukou_registration",
    "newborn_medical_insurance",
    "newborn_social_security_card",
    "maternity_benefit",
)
NEWBORN_FORM = (
    "mother.name",
    "mother.id_number",
    "father.name",
    "father.id_number",
    "child.name",
    "child.sex",
    "child.birth_date",
    "child.birth_place",
    "child.birth_weight",
    "household.register_number",
    "household.address",
    "marriage.certificate_number",
    "bank.account_number",
)
SENSITIVE = frozenset({"child.sex", "child.birth_date", "child.birth_place", "child.birth_weight"})


@pytest.fixture
def registers(loaded_catalog, demo_registers):
    register_load(actor="test", registers=demo_registers)


@pytest.fixture
def applicant(db):
    return PersonFactory(id_number=LIN, real_name="林晓燕")


def request_for(applicant, **changes):
    values = {
        "actor": applicant,
        "applicant_id_number": LIN,
        "thing": "newborn",
        "services": NEWBORN_SERVICES,
        "wanted": NEWBORN_FORM,
        "sensitive": SENSITIVE,
        "application_reference": "OT20261127-TEST01",
    }
    values.update(changes)
    return PrefillRequest(**values)


def test_the_mother_types_only_what_no_register_holds(registers, applicant):
    result = prefill_run(request_for(applicant, sensitive_consented=True))
    assert {k: v.value for k, v in result.values.items()} == {
        "mother.name": "林晓燕",
        "mother.id_number": LIN,
        "household.register_number": "350203-0012876",
        "household.address": "福建省厦门市思明区湖滨南路 388 号 3 单元 1201 室",
        "child.sex": "female",
        "child.birth_date": "2026-11-16",
        "child.birth_place": "厦门大学附属第一医院",
        "child.birth_weight": 3250,
        "marriage.certificate_number": "J350203-2021-004512",
    }
    assert result.values["mother.name"].source == "population_register"
    # The father's data waits for his own consent; the baby's name and the bank card are hers.
    assert set(result.needs_related_consent) == {"father.name", "father.id_number"}
    uses = DataUse.objects.filter(subject=LIN, use="prefill")
    assert {u.source: u.outcome for u in uses} == {
        "population_register": "provided",
        "hospital_births": "provided",
        "marriage_register": "provided",
    }
    # Working out that she is the mother read her own population record: recorded once.
    [relation] = DataUse.objects.filter(subject=LIN, use="relation")
    assert relation.source == "population_register" and relation.outcome == "provided"
    assert relation.application_reference == "OT20261127-TEST01"
    assert audit_verify().ok
    assert AuditRecord.objects.filter(stream__name=subject_stream(LIN)).count() == 4
    assert LIN not in subject_stream(LIN)


def test_a_persons_audit_stream_cannot_be_found_by_hashing_id_numbers():
    # ID numbers are few enough to hash them all: the name is keyed with the server's secret.
    name = subject_stream(LIN)
    assert name.removeprefix("subject:") not in hashlib.sha256(LIN.encode()).hexdigest()
    assert subject_stream(LIN) == name  # the same person, the same stream
    with override_settings(SECRET_KEY="another server's secret key, long enough"):
        assert subject_stream(LIN) != name


def test_sensitive_elements_are_read_only_with_their_own_tick(registers, applicant):
    result = prefill_run(request_for(applicant, sensitive_consented=False))
    assert not {k for k in result.values if k.startswith("child.")}
    assert "mother.name" in result.values


class Remote:
    """A stand-in for a remote source that answers after `delay` seconds (or fails)."""

    local = False

    def __init__(self, delays, failing=()):
        self.delays, self.failing = delays, set(failing)

    def fetch(self, lookup, *, timeout):
        time.sleep(min(self.delays.get(lookup.source, 0.05), timeout + 1))
        if lookup.source in self.failing:
            raise SourceUnavailable("HTTP 500")
        return {field: f"{lookup.source}:{field}" for field in lookup.fields}


def registry_with(remote) -> Registry:
    registry = Registry("test connector")
    registry.register("table")(remote)
    registry.register("http-json")(remote)
    registry.register("certificates")(TableConnector())
    return registry


def test_a_failing_or_slow_source_leaves_its_fields_to_fill_in(registers, applicant):
    remote = Remote({"marriage_register": 5.0}, failing={"hospital_births"})
    started = time.monotonic()
    result = prefill_run(
        request_for(applicant, sensitive_consented=True),
        budget=0.5,
        registry=registry_with(remote),
    )
    assert time.monotonic() - started < 1.0
    assert "mother.name" in result.values
    assert "child.birth_date" not in result.values
    assert "marriage.certificate_number" not in result.values
    assert set(result.unavailable) == {"hospital_births", "marriage_register"}
    outcomes = dict(DataUse.objects.filter(subject=LIN).values_list("source", "outcome"))
    assert outcomes["hospital_births"] == "unavailable"
    assert outcomes["marriage_register"] == "unavailable"


def test_an_element_without_a_grant_is_refused_and_the_refusal_logged(registers, applicant):
    from django.utils import translation

    # Retirement's grants do not cover the household address: asked, it is refused.
    with translation.override("en"):
        result = prefill_run(
            request_for(
                applicant,
                thing="retirement",
                services=("pension_claim",),
                wanted=("retiree.name", "household.address"),
            )
        )
    assert "household.address" not in result.values
    assert result.denied == {"household.address": ("population_register",)}
    denied = DataUse.objects.get(subject=LIN, outcome="denied")
    assert denied.elements == ["household.address"] and denied.source == "population_register"
    # The refusal still says what the read was for: the service's purpose with that register.
    assert denied.purpose == "Checking the retiree's identity"


def test_the_person_sees_every_use_of_their_data_and_nobody_elses(client, registers, applicant):
    prefill_run(request_for(applicant, sensitive_consented=True))
    other = PersonFactory()
    client.force_login(applicant)
    page = client.get("/my-data/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count("<tr data-source=") == 4  # three sources read, and who is who
    assert "Population register" in page
    body = client.get("/api/v1/me/data-uses").json()
    assert {item["source"] for item in body["items"]} == {
        "population_register",
        "hospital_births",
        "marriage_register",
    }
    client.force_login(other)
    assert client.get("/api/v1/me/data-uses").json()["items"] == []
    assert "<tr data-source=" not in client.get("/my-data/").content.decode()


def test_the_seller_of_a_home_finds_it_in_the_real_estate_register(registers):
    seller = PersonFactory(id_number="350121196308093173", real_name="郑国平")
    result = prefill_run(
        PrefillRequest(
            actor=seller,
            applicant_id_number=seller.id_number,
            thing="home_transfer",
            services=(),
            wanted=("seller.name", "property.certificate_number", "property.address"),
            application_reference="OT20261127-HOME01",
        )
    )
    assert result.values["seller.name"].value == "郑国平"
    assert result.values["property.certificate_number"].value.startswith("闽(2019)厦门市")
    assert result.values["property.address"].source == "real_estate_register"


def test_who_used_my_data_lists_the_newest_use_first(client, registers, applicant):
    prefill_run(request_for(applicant, application_reference="OT20261127-FIRST1"))
    prefill_run(request_for(applicant, application_reference="OT20261127-LATER2"))
    client.force_login(applicant)
    items = client.get("/api/v1/me/data-uses").json()["items"]
    times = [item["at"] for item in items]
    assert times == sorted(times, reverse=True)
    assert items[0]["application_reference"] == "OT20261127-LATER2"
    assert items[-1]["application_reference"] == "OT20261127-FIRST1"
    page = client.get("/my-data/").content.decode()
    assert page.index("OT20261127-LATER2") < page.index("OT20261127-FIRST1")


HUANG = "350200197004083572"  # his father died on 2026-11-19 (demo registers)
HUANG_FATHER = "350200194403152113"
HUANG_MOTHER = "350200194610021829"


def test_every_population_record_read_to_work_out_who_died_is_recorded_for_its_person(
    client, registers
):
    son = PersonFactory(id_number=HUANG)
    request = PrefillRequest(
        actor=son,
        applicant_id_number=HUANG,
        thing="after_death",
        services=("hukou_cancellation",),
        wanted=("deceased.name", "deceased.id_number"),
        application_reference="OT20261127-DEATH2",
    )
    with translation.override("en"):
        result = prefill_run(request)
    assert result.values["deceased.name"].value == "黄福生"
    relation_reads = DataUse.objects.filter(use="relation")
    # Each person whose record was read, once, however many roles were resolved.
    assert sorted(relation_reads.values_list("subject", flat=True)) == sorted(
        [HUANG, HUANG_FATHER, HUANG_MOTHER]
    )
    mother_read = relation_reads.get(subject=HUANG_MOTHER)
    assert mother_read.elements == ["death_date", "status"]
    assert mother_read.application_reference == "OT20261127-DEATH2"
    assert AuditRecord.objects.filter(
        stream__name=subject_stream(HUANG_MOTHER), action="data.relation"
    ).exists()
    # The widow, whose record was read only to see whether she died, finds it on her page.
    client.force_login(PersonFactory(id_number=HUANG_MOTHER))
    page = client.get("/my-data/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count("<tr data-source=") == 1
    assert "Population register" in page and "OT20261127-DEATH2" in page
    assert "Working out who is who for" in page
