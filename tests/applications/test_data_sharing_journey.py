"""The newborn journey with data sharing: the mother types only what no register holds and
uploads nothing a register or an e-certificate holds; the father's data are read only after he
agrees in his own portal."""

from __future__ import annotations

import pytest

from onething.applications import services
from onething.catalog.models import CertificateType
from onething.certificates.services import certificate_issue
from onething.core.errors import InvalidInput, NotFound
from onething.sharing.models import DataUse, RelatedConsentRequest
from onething.sharing.services import related_consent_decide
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db
CHEN = "35020319920203135X"  # her husband in the demo population


@pytest.fixture
def father(resident_mother):
    father = PersonFactory(id_number=CHEN, real_name="陈建国")
    id_card = CertificateType.objects.get(code="resident_id_card")
    certificate_issue(
        actor="test",
        certificate_type=id_card,
        holder=father,
        issuer=id_card.issuer,
        data={"name": "陈建国", "id_number": CHEN},
    )
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
    assert draft.prefilled["father.name"]["source"] == "population_register"

    to_upload = {m.material.code for m in services.applicant_materials(plan, draft.exemptions)}
    # Only papers no register or certificate holds: the bank card, the baby's photo, and the
    # power of attorney a proxy would need (optional).
    assert to_upload <= {"bank_card", "child_photo", "power_of_attorney"}, to_upload
    assert {"mother_id_card", "father_id_card", "hukou_book", "delivery_record"} <= set(
        draft.exemptions
    )
    assert draft.exemptions["father_id_card"]["kind"] == "certificate"
    assert len(to_type) == 7 and len(to_upload) <= 3

    # The father sees that his data were read, for what.
    uses = DataUse.objects.filter(subject=CHEN, use="prefill", outcome="provided")
    assert uses.filter(source="population_register").exists()


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
    client.post(f"/my-data/requests/{asked.pk}/", {"answer": "approve"})
    asked.refresh_from_db()
    assert asked.status == "approved"
    # Nobody else can answer for him.
    other = PersonFactory()
    client.force_login(other)
    client.post(f"/my-data/requests/{asked.pk}/", {"answer": "decline"})
    asked.refresh_from_db()
    assert asked.status == "approved"


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
