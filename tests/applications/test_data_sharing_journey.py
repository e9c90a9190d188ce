"""The newborn journey with data sharing: the mother types only what no register holds and
uploads nothing a register or an e-certificate holds; the father's data are read only after he
agrees in his own portal."""

from __future__ import annotations

import pytest

from onething.applications import services
from onething.core.errors import InvalidInput, NotFound
from onething.sharing.models import DataUse, RelatedConsentRequest
from onething.sharing.services import related_consent_decide
from tests.factories import PersonFactory, id_card_issue

pytestmark = pytest.mark.django_db
CHEN = "35020319920203135X"  # her husband in the demo population


@pytest.fixture
def father(resident_mother):
    father = PersonFactory(id_number=CHEN, real_name="陈建国")
    id_card_issue(father, {"applicant.name": "陈建国", "applicant.id_number": CHEN})
    return father


def test_the_mother_types_and_uploads_only_what_no_department_holds(resident_mother, father):
    mother = resident_mother
    draft = services.application_start(
        actor=mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    # Her husband's data need his own yes, in his own portal.
    asked = services.application_ask_related_consent(actor=mother, application=draft)
    assert asked.subject == CHEN and asked.status == "pending"
    with pytest.raises(NotFound):
        related_consent_decide(actor=mother, consent_request=asked, approve=True)
    related_consent_decide(actor=father, consent_request=asked, approve=True)

    services.application_prefill(actor=mother, application=draft, consent=True, sensitive=True)
    draft.refresh_from_db()
    plan = services.application_plan(draft)
    asked_fields = {spec.element.key for spec in services.asked_fields(plan)}
    to_type = asked_fields - set(draft.form_data)
    # Only what no register holds: the baby's name and ethnicity (the parents choose them),
    # the bank card the maternity benefit is paid to, and where to post the baby's card.
    assert to_type == {
        "child.name",
        "child.ethnicity",
        "bank.account_number",
        "bank.name",
        "bank.account_holder",
        "applicant.postal_address",
        "applicant.postcode",
    }, to_type
    assert draft.form_data["father.id_number"] == CHEN
    assert draft.prefilled["father.name"]["source"] == "resident_id_certificates"

    to_upload = [m.material.code for m in services.applicant_materials(plan, draft.exemptions)]
    # Only papers no register or certificate holds: the bank card, the baby's photo, and the
    # power of attorney a proxy would need (optional) — each asked for once.
    assert sorted(to_upload) == ["bank_card", "child_photo", "power_of_attorney"], to_upload
    # Everything else is 免提交: the ID cards, the household book, the delivery record and the
    # marriage certificate come from the registers and the father's e-certificate.
    assert set(draft.exemptions) == {
        "mother_id_card",
        "father_id_card",
        "hukou_book",
        "delivery_record",
        "parents_marriage_certificate",
    }
    assert draft.exemptions["father_id_card"]["kind"] == "certificate"
    assert len(to_type) == 7 and len(to_upload) == 3

    # The father sees that his data were read, for what.
    uses = DataUse.objects.filter(subject=CHEN, use="prefill", outcome="provided")
    assert uses.filter(source="resident_id_certificates").exists()


def test_without_the_spouses_yes_nothing_of_theirs_is_read(resident_mother, father):
    mother = resident_mother
    draft = services.application_start(
        actor=mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    asked = services.application_ask_related_consent(actor=mother, application=draft)
    related_consent_decide(actor=father, consent_request=asked, approve=False)
    services.application_prefill(actor=mother, application=draft, consent=True, sensitive=True)
    draft.refresh_from_db()
    assert "father.id_number" not in draft.form_data
    assert "father_id_card" not in draft.exemptions
    assert not DataUse.objects.filter(subject=CHEN).exists()
    assert RelatedConsentRequest.objects.get(pk=asked.pk).status == "declined"


def test_the_spouse_answers_in_their_own_portal(client, resident_mother, father):
    draft = services.application_start(
        actor=resident_mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    asked = services.application_ask_related_consent(actor=resident_mother, application=draft)
    client.force_login(father)
    page = client.get("/my-data/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="consent-requests"' in page and draft.reference in page
    # Nobody else can answer for him: while it is pending, another person's answer is a 404.
    other = PersonFactory()
    client.force_login(other)
    assert client.post(f"/my-data/requests/{asked.pk}/", {"answer": "approve"}).status_code == 404
    asked.refresh_from_db()
    assert asked.status == "pending"
    client.force_login(father)
    client.post(f"/my-data/requests/{asked.pk}/", {"answer": "approve"})
    asked.refresh_from_db()
    assert asked.status == "approved"


@pytest.mark.parametrize("posted", [{}, {"answer": ""}, {"answer": "yes"}, {"answer": "APPROVE"}])
def test_a_missing_or_garbled_answer_is_refused_and_changes_nothing(
    client, resident_mother, father, posted
):
    draft = services.application_start(
        actor=resident_mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    asked = services.application_ask_related_consent(actor=resident_mother, application=draft)
    client.force_login(father)
    response = client.post(f"/my-data/requests/{asked.pk}/", posted, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert "answer" in response.content.decode()
    asked.refresh_from_db()
    # Still his to answer: a garbled post is not a final "no".
    assert asked.status == "pending"
    client.post(f"/my-data/requests/{asked.pk}/", {"answer": "decline"})
    asked.refresh_from_db()
    assert asked.status == "declined"


def test_a_typed_value_the_register_contradicts_is_named_on_its_field(resident_mother):
    """She let the platform read the records but typed the marriage certificate number herself
    (wrongly): submission names the field and the register that disagrees."""
    from django.utils import translation

    from tests.applications.conftest import fill_and_attach

    mother = resident_mother
    draft = services.application_start(
        actor=mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    services.application_prefill(actor=mother, application=draft, consent=True, sensitive=True)
    draft.refresh_from_db()
    # Pretend she had typed it: drop the prefilled origin and put a wrong number in.
    draft.prefilled.pop("marriage.certificate_number")
    draft.form_data["marriage.certificate_number"] = "J350203-2021-009999"
    draft.save()
    fill_and_attach(
        draft,
        mother,
        overrides={
            **{k: draft.form_data[k] for k in draft.prefilled},
            "marriage.certificate_number": "J350203-2021-009999",
        },
    )
    with translation.override("en"), pytest.raises(InvalidInput) as error:
        services.application_submit(actor=mother, application=draft, consent=True)
    message = error.value.fields["form.marriage.certificate_number"]
    assert "does not match the record held by" in message
    assert DataUse.objects.filter(
        subject=mother.id_number, use="verification", source="marriage_register"
    ).exists()


def test_when_the_father_applies_his_data_fill_the_fathers_fields_not_the_mothers(father):
    draft = services.application_start(
        actor=father, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    services.application_prefill(actor=father, application=draft, consent=True, sensitive=True)
    draft.refresh_from_db()
    assert draft.form_data["father.id_number"] == CHEN
    assert "mother.id_number" not in draft.form_data, "the mother's data need her consent"
    assert "mother_id_card" not in draft.exemptions
    assert "father_id_card" in draft.exemptions


def test_the_fathers_certificate_and_a_reveal_of_his_number_are_recorded_for_him(
    resident_mother, father
):
    from tests.applications.conftest import fill_and_attach
    from tests.factories import reviewer

    mother = resident_mother
    draft = services.application_start(
        actor=mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    asked = services.application_ask_related_consent(actor=mother, application=draft)
    related_consent_decide(actor=father, consent_request=asked, approve=True)
    services.application_prefill(actor=mother, application=draft, consent=True, sensitive=True)
    assert DataUse.objects.filter(subject=CHEN, use="exemption", source="certificates").exists()
    draft.refresh_from_db()
    fill_and_attach(draft, mother, overrides={k: draft.form_data[k] for k in draft.prefilled})
    application = services.application_submit(actor=mother, application=draft, consent=True)
    health = reviewer("fj_health")
    birth = application.cases.get(service__code="birth_medical_certificate")
    services.case_reveal_value(actor=health, case=birth, key="father.id_number")
    assert DataUse.objects.filter(subject=CHEN, use="reveal").exists()
    assert not DataUse.objects.filter(subject=mother.id_number, use="reveal").exists()


def test_a_refused_one_call_submission_keeps_the_record_of_the_reads(resident_mother):
    with pytest.raises(InvalidInput):
        services.application_create_and_submit(
            actor=resident_mother,
            thing_code="newborn",
            answers={"mother_insured": "yes"},
            form={},
            consent=True,
            idempotency_key="refused-0001",
            share_data=True,
            share_sensitive=True,
        )
    assert DataUse.objects.filter(subject=resident_mother.id_number, use="prefill").exists()


def test_a_supplied_value_is_no_longer_counted_as_the_records(resident_mother):
    from tests.applications.conftest import fill_and_attach
    from tests.factories import reviewer

    mother = resident_mother
    draft = services.application_start(
        actor=mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    services.application_prefill(actor=mother, application=draft, consent=True, sensitive=True)
    draft.refresh_from_db()
    fill_and_attach(draft, mother, overrides={k: draft.form_data[k] for k in draft.prefilled})
    application = services.application_submit(actor=mother, application=draft, consent=True)
    health = reviewer("fj_health")
    birth = services.case_accept(
        actor=health, case=application.cases.get(service__code="birth_medical_certificate")
    )
    notice = services.case_ask_supplement(
        actor=health,
        case=birth,
        items=[{"kind": "field", "target": "child.birth_date", "reason": "请核对"}],
    )
    services.supplement_request_release(actor=health, request=notice)
    services.supplement_answer(
        actor=mother, request=notice, values={"child.birth_date": "2026-11-15"}
    )
    application.refresh_from_db()
    assert "child.birth_date" not in application.prefilled


def test_a_prefill_that_finds_the_draft_submitted_meanwhile_writes_nothing(
    resident_mother, monkeypatch
):
    from onething.applications.models import Application
    from onething.core.errors import Conflict
    from onething.sharing import services as sharing_services

    draft = services.application_start(
        actor=resident_mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    real_run = sharing_services.prefill_run

    def run_while_submitted_elsewhere(request, **kwargs):
        result = real_run(request, **kwargs)
        Application.objects.filter(pk=draft.pk).update(status="submitted")
        return result

    monkeypatch.setattr(sharing_services, "prefill_run", run_while_submitted_elsewhere)
    with pytest.raises(Conflict):
        services.application_prefill(
            actor=resident_mother, application=draft, consent=True, sensitive=True
        )
    draft.refresh_from_db()
    assert draft.prefilled == {}


HUANG = "350200197004083572"  # his father 黄福生 died on 2026-11-19 (demo registers)


def test_after_a_death_the_records_of_the_person_who_died_fill_the_form(resident_mother):
    son = PersonFactory(id_number=HUANG, real_name="黄志强")
    plan_answers = {}
    from onething.catalog.models import Thing

    for question in Thing.objects.get(code="after_death").questions.all():
        if question.type == "yes_no":
            plan_answers[question.key] = "yes"
        elif question.options:
            plan_answers[question.key] = question.options[0]["value"]
    draft = services.application_start(actor=son, thing_code="after_death", answers=plan_answers)
    services.application_prefill(actor=son, application=draft, consent=True, sensitive=True)
    draft.refresh_from_db()
    form = draft.form_data
    asked = {s.element.key for s in services.asked_fields(services.application_plan(draft))}
    expected = {
        "deceased.id_number": "350200194403152113",
        "deceased.name": "黄福生",
        "deceased.death_place": "厦门大学附属中山医院",
        "deceased.driving_licence_file_number": "350200056632",
        "deceased.housing_fund_account": "XM3502030001187",
    }
    # Everything the form asks about him that a register holds (the rest, such as the death
    # date, comes from the medical death certificate issued by the first case).
    assert {k: form.get(k) for k in expected if k in asked} == {
        k: v for k, v in expected.items() if k in asked
    }
    assert {"deceased.id_number", "deceased.name", "deceased.driving_licence_file_number"} <= asked
    # The father's data were used: recorded under his number.
    assert DataUse.objects.filter(subject="350200194403152113", outcome="provided").exists()


def test_the_case_shows_the_record_that_stands_in_for_an_exempt_paper(client, resident_mother):
    from tests.applications.conftest import fill_and_attach
    from tests.factories import reviewer

    mother = resident_mother
    draft = services.application_start(
        actor=mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    services.application_prefill(actor=mother, application=draft, consent=True, sensitive=True)
    draft.refresh_from_db()
    fill_and_attach(draft, mother, overrides={k: draft.form_data[k] for k in draft.prefilled})
    application = services.application_submit(actor=mother, application=draft, consent=True)
    health = reviewer("fj_health")
    birth = application.cases.get(service__code="birth_medical_certificate")
    client.force_login(health)
    page = client.get(f"/workbench/cases/{birth.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # The mother's ID card: her resident ID e-certificate stands in for the paper.
    assert 'data-testid="material-record"' in page
    assert "RESIDENT-ID-CARD" in page
