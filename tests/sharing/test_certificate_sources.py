"""Catalog sources read through the `certificates` connector: the father's resident ID
e-certificate for the newborn (only once he has said yes in his own portal), and a company's
own licences for its change of details."""

from __future__ import annotations

import pytest

from onething.applications import services
from onething.catalog.models import CertificateType
from onething.certificates.models import Certificate
from onething.certificates.services import certificate_issue, certificate_revoke
from onething.sharing.models import DataUse
from onething.sharing.services import register_load, related_consent_decide
from tests.factories import PersonFactory, enterprise_with_agent, reviewer

pytestmark = pytest.mark.django_db

LIN = "350203199406121242"  # the mother in the demo population
CHEN = "35020319920203135X"  # her husband
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def issue(type_code, *, holder, enterprise=None, data):
    certificate_type = CertificateType.objects.get(code=type_code)
    return certificate_issue(
        actor="test",
        certificate_type=certificate_type,
        holder=holder,
        holder_enterprise=enterprise,
        issuer=certificate_type.issuer,
        data=data,
    )


@pytest.fixture
def mother(loaded_catalog, demo_registers):
    register_load(actor="test", registers=demo_registers)
    return PersonFactory(id_number=LIN, real_name="林晓燕")


@pytest.fixture
def father(mother):
    father = PersonFactory(id_number=CHEN, real_name="陈建国")
    # As the demo issues them: the card names its holder as the applicant it was issued to.
    issue(
        "resident_id_card",
        holder=father,
        data={"applicant.name": "陈建国", "applicant.id_number": CHEN},
    )
    return father


def newborn_draft(mother):
    return services.application_start(
        actor=mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )


def prefill(mother, draft):
    services.application_prefill(actor=mother, application=draft, consent=True, sensitive=True)
    draft.refresh_from_db()
    return draft


def test_the_fathers_certificate_fills_his_fields_only_after_his_yes(client, mother, father):
    draft = prefill(mother, newborn_draft(mother))
    # Before he agrees, his fields stay for her to fill, and nothing of his is read.
    assert "father.name" not in draft.form_data and "father.id_number" not in draft.form_data
    waiting = draft.events.get(action="prefilled").data["awaiting_related_consent"]
    assert set(waiting) == {"father.name", "father.id_number"}
    assert not DataUse.objects.filter(subject=CHEN).exists()

    asked = services.application_ask_related_consent(actor=mother, application=draft)
    assert {"father.name", "father.id_number"} <= set(asked.elements)
    related_consent_decide(actor=father, consent_request=asked, approve=True)
    draft = prefill(mother, draft)

    assert draft.form_data["father.name"] == "陈建国"
    assert draft.form_data["father.id_number"] == CHEN
    assert draft.prefilled["father.id_number"] == {
        "source": "resident_id_certificates",
        "authoritative": True,
    }
    read = DataUse.objects.get(subject=CHEN, use="prefill", source="resident_id_certificates")
    assert read.outcome == "provided"
    assert read.elements == ["father.id_number", "father.name"]
    assert read.application_reference == draft.reference

    # Like any other source, the form names where the value came from.
    client.force_login(mother)
    steps = [
        client.get(f"/applications/{draft.reference}/step/{n}/", **EN).content.decode()
        for n in range(1, 6)
    ]
    [page] = [p for p in steps if 'data-testid="source-father.name"' in p]
    note = page.split('data-testid="source-father.name"')[1].split("</p>")[0]
    assert "Resident ID e-certificates" in note


def test_a_revoked_certificate_is_not_read(mother, father):
    draft = newborn_draft(mother)
    asked = services.application_ask_related_consent(actor=mother, application=draft)
    related_consent_decide(actor=father, consent_request=asked, approve=True)
    card = Certificate.objects.get(holder_id_number=CHEN, type__code="resident_id_card")
    certificate_revoke(actor=reviewer(card.issuer.code), certificate=card, reason="reported lost")
    draft = prefill(mother, draft)
    assert "father.id_number" not in draft.form_data
    assert "father_id_card" not in draft.exemptions
    read = DataUse.objects.get(subject=CHEN, use="prefill", source="resident_id_certificates")
    assert read.outcome == "no_record"


@pytest.mark.parametrize(
    ("certificate_type", "answer", "element"),
    [
        ("food_business_licence", "has_food_licence", "enterprise.food_licence_number"),
        ("tobacco_retail_licence", "has_tobacco_licence", "enterprise.tobacco_licence_number"),
    ],
)
def test_a_companys_change_reads_the_licence_it_already_holds(
    loaded_catalog, certificate_type, answer, element
):
    agent = PersonFactory()
    company = enterprise_with_agent(agent)
    issue(
        certificate_type,
        holder=agent,
        enterprise=company,
        data={"enterprise.uscc": company.uscc, element: "JY13502060012345"},
    )
    draft = services.application_start(
        actor=agent,
        thing_code="enterprise_change",
        answers={"change_name": "yes", answer: "yes"},
        enterprise_uscc=company.uscc,
    )
    draft = prefill(agent, draft)
    assert draft.form_data[element] == "JY13502060012345"
    assert draft.prefilled[element]["source"].endswith("_licences")
    read = DataUse.objects.get(subject=company.uscc, source=draft.prefilled[element]["source"])
    assert read.outcome == "provided" and read.elements == [element]


def test_without_the_licence_in_the_library_the_company_types_its_number(loaded_catalog):
    agent = PersonFactory()
    company = enterprise_with_agent(agent)
    draft = services.application_start(
        actor=agent,
        thing_code="enterprise_change",
        answers={"change_name": "yes", "has_food_licence": "yes"},
        enterprise_uscc=company.uscc,
    )
    draft = prefill(agent, draft)
    assert "enterprise.food_licence_number" not in draft.form_data
    read = DataUse.objects.get(subject=company.uscc, source="food_business_licences")
    assert read.outcome == "no_record"
