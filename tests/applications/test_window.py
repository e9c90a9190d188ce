"""One-window acceptance (一窗受理): the window clerk identifies the person at the counter, applies
with them, records the paper materials seen, submits and prints the receipt."""

from __future__ import annotations

import re

import pytest

from onething.accounts.models import Enterprise, EnterpriseAgent, Role, RoleAssignment, User
from onething.applications import services, window
from onething.applications.lifecycle import ApplicationStatus
from onething.applications.models import (
    APPLICATION_STATUS_LABELS,
    Application,
    ApplicationMaterial,
    CaseEvent,
    Channel,
)
from onething.audit.models import AuditRecord
from onething.core.errors import InvalidInput, NotFound
from onething.sharing.services import register_load
from tests.applications.test_views import EN, fill_every_step, sign_in, text, token_on
from tests.factories import PersonFactory, StaffFactory, make_ric, reviewer
from tests.qr import decode_svg_qr

pytestmark = pytest.mark.django_db

MOTHER = "350203199406121242"  # 林晓燕 in the demo population register, without an account here
DECEASED = "350200194403152113"  # 黄福生, deceased in the demo population register
RESTAURANT = "91350206MA8RW2Q3XY"  # 厦门鹭味餐饮有限公司; legal representative 张伟
RESTAURANT_OWNER = "350203198509304696"
ANSWERS = "mother_insured=yes"


def clerk_user(**extra) -> User:
    user = StaffFactory(**extra)
    RoleAssignment.objects.create(user=user, role=Role.WINDOW_CLERK)
    return user


@pytest.fixture
def registers(loaded_catalog, demo_registers):
    register_load(actor="test", registers=demo_registers)


@pytest.fixture
def clerk(client, loaded_catalog):
    user = clerk_user(real_name="窗口 郑丽")
    sign_in(client, user)
    return user


def identify(client, **form):
    return client.post("/window/", form, **EN)


def start_newborn(client) -> Application:
    response = client.post(f"/window/things/newborn/?{ANSWERS}", **EN)
    assert response.status_code == 302, text(response)
    reference = response.url.split("/")[2]
    return Application.objects.get(reference=reference)


def mark_every_material_seen(client, application, seen_as="original") -> None:
    plan = services.application_plan(application)
    form = {f"seen-{m.material.code}": seen_as for m in services.applicant_materials(plan)}
    page = text(client.get(f"/applications/{application.reference}/materials/", **EN))
    assert all(f'name="{name}" value="{seen_as}"' in page for name in form)
    response = client.post(
        f"/applications/{application.reference}/materials/", {**form, "then": "check"}, **EN
    )
    assert response.status_code == 302, text(response)
    assert response.url == f"/applications/{application.reference}/check/"


@pytest.fixture
def window_draft(client, clerk, registers) -> Application:
    """林晓燕 at the counter: registered from the population register, newborn started."""
    assert identify(client, kind="person", id_number=MOTHER).status_code == 302
    return start_newborn(client)


@pytest.fixture
def window_submitted(client, window_draft) -> Application:
    mother = window_draft.applicant
    fill_every_step(client, window_draft, mother)
    mark_every_material_seen(client, window_draft)
    page = text(client.get(f"/applications/{window_draft.reference}/check/", **EN))
    response = client.post(
        f"/applications/{window_draft.reference}/check/",
        {"consent": "yes", "idempotency_key": token_on(page)},
        **EN,
    )
    assert response.status_code == 302, text(response)
    window_draft.refresh_from_db()
    return window_draft


# --- who is at the counter -----------------------------------------------------------------------


def test_a_clerk_finds_a_person_with_an_account_by_resident_id_number(client, clerk):
    person = PersonFactory(real_name="陈小明")
    response = identify(client, kind="person", id_number=person.id_number.lower())
    assert response.status_code == 302
    assert response.url == "/window/things/"
    page = text(client.get("/window/things/", **EN))
    assert "陈小明" in page and person.id_number not in page
    assert "/window/things/newborn/" in page and "/window/things/restaurant" not in page


def test_a_wrong_check_digit_is_named_in_the_users_language(client, clerk):
    good = make_ric()
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = identify(client, kind="person", id_number=wrong)
    assert response.status_code == 422
    assert "Resident ID number: the check digit does not match." in text(response)
    short = identify(client, kind="person", id_number=good[:10])
    assert "Resident ID number must have 18 characters." in text(short)


def test_a_person_without_an_account_is_registered_from_the_population_register(
    client, clerk, registers
):
    assert not User.objects.filter(id_number=MOTHER).exists()
    response = identify(client, kind="person", id_number=MOTHER)
    assert response.status_code == 302
    person = User.objects.get(id_number=MOTHER)
    assert person.real_name == "林晓燕"
    assert person.kind == User.Kind.PERSON
    assert person.id_verified_at is not None
    assert not person.has_usable_password()
    assert RoleAssignment.objects.filter(user=person, role=Role.APPLICANT).exists()
    record = AuditRecord.objects.get(action="user.registered_at_window")
    assert record.actor == f"user:{clerk.pk}" and MOTHER not in str(record.data)
    page = text(client.get("/window/things/", **EN))
    assert "林晓燕" in page and 'data-testid="registered"' in page
    # The next time she is found, not registered again.
    assert window.window_person_identify(actor=clerk, id_number=MOTHER) == (person, False)


def test_nobody_in_the_register_and_the_deceased_get_a_clear_message(client, clerk, registers):
    unknown = identify(client, kind="person", id_number=make_ric(region="110101"))
    assert unknown.status_code == 422
    assert "Nobody with this resident ID number is in the population register." in text(unknown)
    deceased = identify(client, kind="person", id_number=DECEASED)
    assert deceased.status_code == 422
    assert "does not list this person as a living resident" in text(deceased)
    assert not User.objects.filter(id_number__in=[DECEASED]).exists()


def test_a_refused_identification_is_recorded_with_the_number_masked(client, clerk, registers):
    """What a refusal reveals (this person is dead) stays answerable, though nothing is saved."""
    assert identify(client, kind="person", id_number=DECEASED).status_code == 422
    record = AuditRecord.objects.get(action="user.identify_refused")
    assert record.actor == f"user:{clerk.pk}"
    assert record.data["reason"] == "not_living"
    assert record.subject == DECEASED[:4] + "*" * 12 + DECEASED[-2:]
    assert DECEASED not in str(record.data) and DECEASED not in record.subject
    refused = identify(client, kind="enterprise", uscc=RESTAURANT, agent_id_number=MOTHER)
    assert refused.status_code == 422
    probe = AuditRecord.objects.get(action="user.identify_refused", data__reason="not_an_agent")
    assert MOTHER not in str(probe.data) and probe.data["uscc"] == RESTAURANT


def test_an_enterprise_is_found_with_its_legal_representative_and_anybody_else_is_refused(
    client, clerk, registers
):
    refused = identify(client, kind="enterprise", uscc=RESTAURANT, agent_id_number=MOTHER)
    assert refused.status_code == 422
    assert "neither the enterprise's legal representative" in text(refused)
    assert not User.objects.filter(id_number=MOTHER).exists()
    response = identify(
        client, kind="enterprise", uscc=RESTAURANT, agent_id_number=RESTAURANT_OWNER
    )
    assert response.status_code == 302
    enterprise = Enterprise.objects.get(uscc=RESTAURANT)
    assert enterprise.name == "厦门鹭味餐饮有限公司"
    owner = User.objects.get(id_number=RESTAURANT_OWNER)
    assert EnterpriseAgent.objects.get(enterprise=enterprise, user=owner).is_legal_representative
    page = text(client.get("/window/things/", **EN))
    assert "厦门鹭味餐饮有限公司" in page and "/window/things/newborn/" not in page
    assert client.get("/window/things/newborn/", **EN).status_code == 404
    response = client.post("/window/things/open_restaurant/?floor_area=80&has_signboard=yes", **EN)
    assert response.status_code == 302, text(response)
    application = Application.objects.get(reference=response.url.split("/")[2])
    assert (application.applicant, application.enterprise) == (owner, enterprise)
    assert (application.channel, application.taken_by) == (Channel.WINDOW, clerk)
    wrong_code = identify(client, kind="enterprise", uscc=RESTAURANT[:-1] + "0", agent_id_number="")
    assert "Unified social credit code: the check digit does not match." in text(wrong_code)


# --- applying at the window ----------------------------------------------------------------------


def test_the_clerk_applies_with_the_person_and_the_application_records_the_window(
    client, clerk, window_submitted
):
    application = window_submitted
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.channel == Channel.WINDOW
    assert application.taken_by == clerk
    assert application.applicant.id_number == MOTHER
    assert application.consent_given_at is not None
    seen = application.materials.filter(provision=ApplicationMaterial.Provision.SEEN_AT_WINDOW)
    assert seen.exists() and set(seen.values_list("seen_as", flat=True)) == {"original"}
    started = CaseEvent.objects.get(application=application, action="started")
    assert started.actor == clerk and started.data == {"channel": "window"}
    submitted = CaseEvent.objects.get(application=application, action="submitted")
    assert submitted.actor == clerk
    assert CaseEvent.objects.filter(application=application, action="material_seen").exists()


def test_the_check_page_asks_the_clerk_to_confirm_the_signed_consent(client, window_draft):
    fill_every_step(client, window_draft, window_draft.applicant)
    mark_every_material_seen(client, window_draft, seen_as="copy")
    page = text(client.get(f"/applications/{window_draft.reference}/check/", **EN))
    assert "The applicant has read and signed this consent." in page
    assert "seen at the window" in page
    response = client.post(
        f"/applications/{window_draft.reference}/check/",
        {"idempotency_key": token_on(page)},
        **EN,
    )
    assert response.status_code == 422
    assert "Confirm that the applicant has read and signed the consent." in text(response)


def test_after_submission_the_clerk_gets_the_printable_receipt_with_a_qr_code(
    client, window_submitted
):
    application = window_submitted
    after = client.get(f"/applications/{application.reference}/submitted/", **EN)
    assert after.status_code == 302
    assert after.url == f"/window/applications/{application.reference}/receipt/"
    receipt = client.get(after.url, **EN)
    assert receipt.status_code == 200
    page = text(receipt)
    assert application.reference in page and "<svg" in page
    assert "Acceptance receipt" in page and "林晓燕" in page and MOTHER not in page
    assert application.due_date.isoformat() in page
    assert decode_svg_qr(page) == [f"http://testserver/applications/{application.reference}/"]
    assert page.count('data-testid="receipt-case"') == application.cases.count()


def test_the_clerks_queue_lists_what_they_took_with_the_receipt_and_the_timeline(
    client, window_submitted
):
    reference = window_submitted.reference
    page = text(client.get("/window/", **EN))
    row = re.search(rf'<tr data-reference="{reference}".*?</tr>', page, re.S).group()
    label = str(APPLICATION_STATUS_LABELS[ApplicationStatus(window_submitted.status)])
    assert f">{label}</span>" in row
    assert f"/window/applications/{reference}/receipt/" in page
    timeline = client.get(f"/applications/{reference}/", **EN)
    assert timeline.status_code == 200
    assert "The one-stop window" in text(timeline)
    assert 'data-testid="withdraw"' not in text(timeline)


def test_the_clerk_may_no_longer_change_it_once_submitted_but_the_applicant_sees_it(
    client, clerk, window_submitted
):
    application = window_submitted
    with pytest.raises(NotFound):
        services.application_save_form(actor=clerk, application=application, values={})
    step = client.get(f"/applications/{application.reference}/step/1/", **EN)
    assert step.status_code == 302 and step.url == f"/applications/{application.reference}/"
    client.logout()
    sign_in(client, application.applicant)
    assert client.get(f"/applications/{application.reference}/", **EN).status_code == 200
    assert client.get("/window/", **EN).status_code == 404


def test_another_clerk_can_neither_open_nor_edit_it(client, window_draft):
    other = clerk_user()
    client.logout()
    sign_in(client, other)
    reference = window_draft.reference
    for url in (
        f"/applications/{reference}/step/1/",
        f"/applications/{reference}/materials/",
        f"/applications/{reference}/check/",
        f"/applications/{reference}/",
        f"/window/applications/{reference}/receipt/",
    ):
        assert client.get(url, **EN).status_code == 404, url
    with pytest.raises(NotFound):
        services.application_save_form(actor=other, application=window_draft, values={})
    with pytest.raises(NotFound):
        window.application_material_seen(
            actor=other, application=window_draft, material_code="x", seen_as="original"
        )
    assert f'data-reference="{reference}"' not in text(client.get("/window/", **EN))


def test_only_the_clerk_who_took_it_may_record_a_material_as_seen(client, window_draft):
    applicant = window_draft.applicant
    plan = services.application_plan(window_draft)
    code = services.applicant_materials(plan)[0].material.code
    with pytest.raises(NotFound):
        window.application_material_seen(
            actor=applicant, application=window_draft, material_code=code, seen_as="original"
        )
    with pytest.raises(InvalidInput) as wrong:
        window.application_material_seen(
            actor=window_draft.taken_by,
            application=window_draft,
            material_code=code,
            seen_as="photo",
        )
    assert f"materials.{code}" in wrong.value.fields
    with pytest.raises(InvalidInput) as not_asked:
        window.application_material_seen(
            actor=window_draft.taken_by,
            application=window_draft,
            material_code="food_safety_rules",  # a restaurant's, not a newborn's
            seen_as="original",
        )
    assert set(not_asked.value.fields) == {"material"}


def test_applicants_reviewers_and_strangers_cannot_open_the_window(client, loaded_catalog):
    assert client.get("/window/").status_code == 302  # to the sign-in page
    sign_in(client, PersonFactory())
    assert client.get("/window/", **EN).status_code == 404
    client.logout()
    sign_in(client, reviewer("fj_health"))
    assert client.get("/window/", **EN).status_code == 404
    assert client.post("/window/", {"id_number": MOTHER}, **EN).status_code == 404
