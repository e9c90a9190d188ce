"""The applicant's journey and the reviewer's workbench, page by page, through Django's client."""

from __future__ import annotations

import hashlib
import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from onething.applications import services
from onething.applications.form_steps import form_steps
from onething.applications.lifecycle import ApplicationStatus, CaseStatus
from onething.applications.models import Application, CaseEvent
from onething.core.masking import mask
from tests.applications.conftest import PNG, fill_and_attach, valid_value
from tests.factories import PersonFactory, enterprise_with_agent, make_ric, reviewer

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}
ANSWERS = {"mother_insured": "yes"}
BIRTH_CERTIFICATE = "Q350203456"


def text(response) -> str:
    """The page with HTML entities resolved, as a reader sees it."""
    return html.unescape(response.content.decode())


def as_typed(value) -> str:
    """A value as a browser sends it from our inputs (yes/no radios send `yes` / `no`)."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def steps_of(application):
    specs = services.asked_fields(services.application_plan(application))
    by_key = {spec.element.key: spec for spec in specs}
    return form_steps(list(by_key)), by_key


def step_url(application, number: int) -> str:
    return f"/applications/{application.reference}/step/{number}/"


def start(client, answers=ANSWERS) -> Application:
    response = client.post("/apply/newborn/", answers, **EN)
    assert response.status_code == 302, text(response)
    reference = response.url.split("/")[2]
    # First the data the departments hold: this applicant chooses to fill in everything.
    assert response.url == f"/applications/{reference}/data/"
    myself = client.post(response.url, {"then": "myself"}, **EN)
    assert myself.url == f"/applications/{reference}/step/1/"
    return Application.objects.get(reference=reference)


def fill_every_step(client, application, applicant, overrides=None) -> dict[str, str]:
    steps, specs = steps_of(application)
    typed = {}
    for step in steps:
        values = {key: as_typed(valid_value(specs[key].element, applicant)) for key in step.keys}
        values.update({k: v for k, v in (overrides or {}).items() if k in step.keys})
        response = client.post(step_url(application, step.number), values, **EN)
        assert response.status_code == 302, text(response)
        typed.update(values)
    return typed


def upload_every_material(client, application) -> None:
    plan = services.application_plan(application)
    files = {
        f"material-{item.material.code}": SimpleUploadedFile(
            f"{item.material.code}.png", PNG, content_type="image/png"
        )
        for item in services.applicant_materials(plan)
    }
    response = client.post(
        f"/applications/{application.reference}/materials/", {**files, "then": "check"}, **EN
    )
    assert response.status_code == 302, text(response)
    assert response.url == f"/applications/{application.reference}/check/"


def sign_in(client, user) -> None:
    # The factories set the password after saving and never save again, so the stored row has
    # none and the session's hash would not match it: store the password first.
    user.save(update_fields=["password"])
    client.force_login(user)


def token_on(page: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)


@pytest.fixture
def signed_in(client, loaded_catalog, applicant):
    sign_in(client, applicant)
    return client


@pytest.fixture
def ready_to_submit(signed_in, applicant):
    application = start(signed_in)
    fill_every_step(signed_in, application, applicant)
    upload_every_material(signed_in, application)
    return application


@pytest.fixture
def submitted_newborn(loaded_catalog, applicant):
    application = services.application_start(actor=applicant, thing_code="newborn", answers=ANSWERS)
    fill_and_attach(application, applicant)
    return services.application_submit(actor=applicant, application=application, consent=True)


def birth_case(application):
    return application.cases.get(service__code="birth_medical_certificate")


# --- applying ------------------------------------------------------------------------------------


def test_the_apply_page_shows_the_plan_and_a_start_button_in_both_languages(
    signed_in, loaded_catalog
):
    thing = loaded_catalog.things["newborn"]
    english = text(signed_in.get("/apply/newborn/", ANSWERS, **EN))
    assert f"Apply for “{thing.name.en}”" in english
    assert "Start my application" in english
    assert 'name="mother_insured" value="yes"' in english
    assert english.count('class="member"') == 6
    chinese = text(signed_in.get("/apply/newborn/", ANSWERS, **ZH))
    assert thing.name.zh in chinese and 'lang="zh-Hans"' in chinese
    assert loaded_catalog.services["birth_medical_certificate"].name.zh in chinese


def test_the_apply_page_asks_to_sign_in_first(client, loaded_catalog):
    response = client.get("/apply/newborn/", ANSWERS, **EN)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=/apply/newborn/")


def test_wrong_answers_on_the_apply_page_are_named(signed_in):
    page = text(signed_in.get("/apply/newborn/", {"mother_insured": "perhaps"}, **EN))
    assert "Please check your answers" in page
    assert "must be yes or no" in page
    assert "Start my application" not in page


def test_an_applicant_applies_for_a_newborn_through_every_page(signed_in, applicant):
    application = start(signed_in)
    steps, _specs = steps_of(application)
    total = len(steps) + 2  # the form steps, materials, check your answers

    first = text(signed_in.get(step_url(application, 1), **EN))
    assert f"Step 1 of {total}" in first
    # What the account already knows is filled in for the applicant.
    if "applicant.phone" in steps[0].keys:
        assert f'value="{applicant.phone}"' in first

    typed = fill_every_step(signed_in, application, applicant)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT
    assert {k: application.form_data[k] for k in typed} == typed

    second = text(signed_in.get(step_url(application, 2), **EN))
    assert f"Step 2 of {total}" in second
    assert 'aria-current="step"' in second

    upload_every_material(signed_in, application)
    materials_page = text(signed_in.get(f"/applications/{application.reference}/materials/", **EN))
    assert hashlib.sha256(PNG).hexdigest()[:12] in materials_page
    assert "No need to submit" in materials_page

    check_page = text(signed_in.get(f"/applications/{application.reference}/check/", **EN))
    assert f"Step {total} of {total}" in check_page
    assert "Check your answers before you submit" in check_page
    # The mother's ID number is shown masked: the page may be printed.
    assert applicant.id_number not in check_page
    assert mask(applicant.id_number) in check_page
    assert "I agree that the departments handling this application" in check_page

    response = signed_in.post(
        f"/applications/{application.reference}/check/",
        {"consent": "yes", "idempotency_key": token_on(check_page)},
        **EN,
    )
    assert response.status_code == 302
    assert response.url == f"/applications/{application.reference}/submitted/"

    confirmation = text(signed_in.get(response.url, **EN))
    assert "Application submitted" in confirmation
    assert f'data-testid="reference">{application.reference}<' in confirmation
    application.refresh_from_db()
    assert f"within {application.promised_days} working day" in confirmation

    timeline = text(signed_in.get(f"/applications/{application.reference}/", **EN))
    assert timeline.count("data-case=") == 6
    assert "received by the department" in timeline  # the birth case is with the hospital
    assert "waiting for an earlier step" in timeline
    assert 'hx-trigger="every 5s"' in timeline
    assert "Application submitted" in timeline
    assert "Withdraw this application" in timeline

    polled = text(signed_in.get(f"/applications/{application.reference}/progress/", **EN))
    assert polled.count("data-case=") == 6 and "<html" not in polled

    listing = text(signed_in.get("/applications/", **EN))
    assert application.reference in listing and "submitted" in listing


def test_a_wrong_resident_id_number_is_named_next_to_its_field_and_kept(signed_in, applicant):
    application = start(signed_in)
    steps, specs = steps_of(application)
    number = next(s.number for s in steps if "mother.id_number" in s.keys)
    values = {
        key: as_typed(valid_value(specs[key].element, applicant)) for key in steps[number - 1].keys
    }
    wrong = applicant.id_number[:-1] + ("0" if applicant.id_number[-1] != "0" else "1")
    values["mother.id_number"] = wrong

    response = signed_in.post(step_url(application, number), values, **EN)
    page = text(response)
    assert response.status_code == 200  # stays on the step
    field = re.search(
        r'<div class="field has-error" data-field="mother.id_number">.*?</div>', page, re.S
    )
    assert field is not None
    assert "the check digit does not match" in field.group(0)
    assert f'value="{wrong}"' in field.group(0)
    assert "There is a problem" in page
    application.refresh_from_db()
    assert application.form_data["mother.id_number"] == wrong  # nothing typed is lost


def test_submitting_without_consent_asks_for_it(ready_to_submit, signed_in):
    reference = ready_to_submit.reference
    page = text(signed_in.get(f"/applications/{reference}/check/", **EN))
    response = signed_in.post(
        f"/applications/{reference}/check/", {"idempotency_key": token_on(page)}, **EN
    )
    errors = text(response)
    assert response.status_code == 422
    assert "You must agree to the use of your data to submit." in errors
    assert 'href="#consent"' in errors
    ready_to_submit.refresh_from_db()
    assert ready_to_submit.status == ApplicationStatus.DRAFT


def test_missing_answers_are_listed_with_links_to_their_steps(signed_in, applicant):
    application = start(signed_in)
    page = text(signed_in.get(f"/applications/{application.reference}/check/", **EN))
    response = signed_in.post(
        f"/applications/{application.reference}/check/",
        {"consent": "yes", "idempotency_key": token_on(page)},
        **EN,
    )
    errors = text(response)
    steps, _specs = steps_of(application)
    child_step = next(s.number for s in steps if "child.name" in s.keys)
    assert f'href="{step_url(application, child_step)}#f-child-name"' in errors
    assert f'href="/applications/{application.reference}/materials/#m-bank_card"' in errors


def test_a_double_click_on_submit_gives_one_application(ready_to_submit, signed_in, applicant):
    reference = ready_to_submit.reference
    token = token_on(text(signed_in.get(f"/applications/{reference}/check/", **EN)))
    form = {"consent": "yes", "idempotency_key": token}
    first = signed_in.post(f"/applications/{reference}/check/", form, **EN)
    second = signed_in.post(f"/applications/{reference}/check/", form, **EN)
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == f"/applications/{reference}/submitted/"
    assert Application.objects.filter(applicant=applicant).count() == 1
    assert ready_to_submit.cases.count() == 6
    assert ready_to_submit.events.filter(action="submitted").count() == 1


def test_another_applicant_gets_not_found_for_my_reference(client, submitted_newborn):
    sign_in(client, PersonFactory(id_number=make_ric()))
    reference = submitted_newborn.reference
    for url in (
        f"/applications/{reference}/",
        f"/applications/{reference}/progress/",
        f"/applications/{reference}/step/1/",
        f"/applications/{reference}/check/",
        f"/applications/{reference}/submitted/",
    ):
        assert client.get(url, **EN).status_code == 404, url
    assert client.post(f"/applications/{reference}/withdraw/", **EN).status_code == 404
    assert reference not in text(client.get("/applications/", **EN))


def test_my_applications_offers_to_continue_a_draft(signed_in, applicant):
    application = start(signed_in)
    listing = text(signed_in.get("/applications/", **EN))
    assert application.reference in listing and "draft" in listing
    assert f"/applications/{application.reference}/continue/" in listing
    response = signed_in.get(f"/applications/{application.reference}/continue/", **EN)
    assert response.url == step_url(application, 1)

    fill_every_step(signed_in, application, applicant)
    response = signed_in.get(f"/applications/{application.reference}/continue/", **EN)
    assert response.url == f"/applications/{application.reference}/materials/"


def test_a_submitted_application_no_longer_opens_its_form(signed_in, submitted_newborn):
    reference = submitted_newborn.reference
    response = signed_in.get(f"/applications/{reference}/step/1/", **EN)
    assert response.status_code == 302 and response.url == f"/applications/{reference}/"


def test_the_applicant_withdraws_and_every_open_case_is_cancelled(signed_in, submitted_newborn):
    reference = submitted_newborn.reference
    response = signed_in.post(
        f"/applications/{reference}/withdraw/", {"reason": "moved to another city"}, **EN
    )
    assert response.status_code == 302
    page = text(signed_in.get(f"/applications/{reference}/", **EN))
    assert "withdrawn" in page
    assert page.count('data-status="cancelled"') == 6
    assert "moved to another city" in page
    assert "Withdraw this application" not in page
    assert 'hx-trigger="every 5s"' not in page  # nothing moves any more


def test_the_journey_pages_speak_chinese(signed_in, loaded_catalog):
    application = start(signed_in)
    page = text(signed_in.get(step_url(application, 1), **ZH))
    element = loaded_catalog.data_elements["mother.name"]
    assert element.label.zh in page and element.label.en not in page


# --- workbench ----------------------------------------------------------------------------------


def test_a_health_reviewer_sees_the_birth_case_and_not_the_police_case(
    client, submitted_newborn, loaded_catalog
):
    sign_in(client, reviewer("fj_health"))
    page = text(client.get("/workbench/", **EN))
    assert submitted_newborn.reference in page
    assert loaded_catalog.services["birth_medical_certificate"].name.en in page
    assert loaded_catalog.services["birth_hukou_registration"].name.en not in page
    assert loaded_catalog.services["vaccination_certificate"].name.en not in page
    approved = text(client.get("/workbench/", {"status": "approved"}, **EN))
    assert submitted_newborn.reference not in approved


def test_a_reviewer_accepts_and_approves_the_birth_case_through_the_pages(
    client, submitted_newborn, applicant
):
    sign_in(client, reviewer("fj_health"))
    case = birth_case(submitted_newborn)
    page = text(client.get(f"/workbench/cases/{case.pk}/", **EN))
    assert "Accept the case" in page and "Approve" not in page

    response = client.post(f"/workbench/cases/{case.pk}/accept/", **EN)
    assert response.status_code == 302
    page = text(client.get(f"/workbench/cases/{case.pk}/", **EN))
    assert "accepted, to be decided" in page
    assert 'name="child.birth_certificate_number"' in page

    response = client.post(
        f"/workbench/cases/{case.pk}/approve/",
        {"child.birth_certificate_number": BIRTH_CERTIFICATE},
        **EN,
    )
    assert response.status_code == 302
    page = text(client.get(f"/workbench/cases/{case.pk}/", **EN))
    assert 'data-testid="case-status">approved<' in page
    # The certificate number is sensitive: the workbench shows it masked, revealable.
    assert mask(BIRTH_CERTIFICATE) in page and BIRTH_CERTIFICATE not in page
    assert 'data-testid="reveal-output-child.birth_certificate_number"' in page

    # The applicant sees it on the timeline, and the next cases started.
    sign_in(client, applicant)
    timeline = text(client.get(f"/applications/{submitted_newborn.reference}/", **EN))
    assert BIRTH_CERTIFICATE in timeline
    assert 'data-case="birth_medical_certificate" data-status="approved"' in timeline
    assert 'data-case="birth_hukou_registration" data-status="ready"' in timeline
    assert "17% done" in timeline


def test_approving_without_the_certificate_number_names_the_field(client, submitted_newborn):
    health = reviewer("fj_health")
    sign_in(client, health)
    case = services.case_accept(actor=health, case=birth_case(submitted_newborn))
    response = client.post(
        f"/workbench/cases/{case.pk}/approve/", {"child.birth_certificate_number": ""}, **EN
    )
    page = text(response)
    assert response.status_code == 422
    field = re.search(
        r'<div class="field has-error" data-field="child.birth_certificate_number">.*?</div>',
        page,
        re.S,
    )
    assert field is not None and "is required" in field.group(0)
    assert birth_case(submitted_newborn).status == CaseStatus.ACCEPTED


def test_rejecting_needs_a_reason_and_then_cancels_the_dependents(client, submitted_newborn):
    health = reviewer("fj_health")
    sign_in(client, health)
    case = services.case_accept(actor=health, case=birth_case(submitted_newborn))
    response = client.post(f"/workbench/cases/{case.pk}/reject/", {"reason": " "}, **EN)
    assert response.status_code == 422 and "A reason is required." in text(response)

    response = client.post(
        f"/workbench/cases/{case.pk}/reject/", {"reason": "not born in this hospital"}, **EN
    )
    assert response.status_code == 302
    assert birth_case(submitted_newborn).status == CaseStatus.REJECTED
    assert (
        submitted_newborn.cases.get(service__code="birth_hukou_registration").status
        == CaseStatus.CANCELLED
    )


def test_accepting_twice_says_the_case_is_already_taken_up(client, submitted_newborn):
    health = reviewer("fj_health")
    sign_in(client, health)
    case = birth_case(submitted_newborn)
    client.post(f"/workbench/cases/{case.pk}/accept/", **EN)
    response = client.post(f"/workbench/cases/{case.pk}/accept/", **EN)
    assert response.status_code == 409
    assert "being handled; it cannot be changed that way" in text(response)


def test_revealing_a_masked_id_number_shows_it_and_is_recorded(
    client, submitted_newborn, applicant
):
    health = reviewer("fj_health")
    sign_in(client, health)
    case = birth_case(submitted_newborn)
    page = text(client.get(f"/workbench/cases/{case.pk}/", **EN))
    assert applicant.id_number not in page
    assert mask(applicant.id_number) in page
    assert 'data-testid="reveal-mother.id_number"' in page

    response = client.post(
        f"/workbench/cases/{case.pk}/reveal/",
        {"field": "mother.id_number"},
        HTTP_HX_REQUEST="true",
        **EN,
    )
    fragment = text(response)
    assert response.status_code == 200
    assert applicant.id_number in fragment and "<html" not in fragment
    event = CaseEvent.objects.get(case=case, action="value_revealed")
    assert event.actor == health and event.data == {"field": "mother.id_number"}


def test_a_reviewer_cannot_reveal_what_their_service_does_not_use(client, submitted_newborn):
    sign_in(client, reviewer("fj_health"))
    case = birth_case(submitted_newborn)
    response = client.post(
        f"/workbench/cases/{case.pk}/reveal/", {"field": "bank.account_number"}, **EN
    )
    assert response.status_code == 404
    assert not CaseEvent.objects.filter(action="value_revealed").exists()


def test_a_reviewer_of_another_department_gets_not_found(client, submitted_newborn):
    sign_in(client, reviewer("fj_public_security"))
    case = birth_case(submitted_newborn)
    assert client.get(f"/workbench/cases/{case.pk}/", **EN).status_code == 404
    assert client.post(f"/workbench/cases/{case.pk}/accept/", **EN).status_code == 404
    reveal = client.post(f"/workbench/cases/{case.pk}/reveal/", {"field": "mother.id_number"})
    assert reveal.status_code == 404
    assert birth_case(submitted_newborn).status == CaseStatus.READY
    assert submitted_newborn.reference not in text(client.get("/workbench/", **EN))


def test_an_applicant_cannot_open_the_workbench(signed_in):
    assert signed_in.get("/workbench/", **EN).status_code == 403


def test_the_workbench_speaks_chinese(client, submitted_newborn, loaded_catalog):
    sign_in(client, reviewer("fj_health"))
    page = text(client.get("/workbench/", **ZH))
    assert loaded_catalog.services["birth_medical_certificate"].name.zh in page
    assert loaded_catalog.things["newborn"].name.zh in page


def answers_for(catalog, code: str) -> dict[str, str]:
    answers = {}
    for question in catalog.things[code].questions:
        if question.type.value == "yes_no":
            answers[question.key] = "yes"
        elif question.type.value == "choice":
            answers[question.key] = question.options[0].value
        else:
            answers[question.key] = str(question.min if question.min is not None else 1)
    return answers


def test_an_enterprise_thing_asks_which_enterprise_the_applicant_acts_for(
    signed_in, applicant, loaded_catalog
):
    enterprise = enterprise_with_agent(applicant)
    answers = answers_for(loaded_catalog, "open_restaurant")
    page = text(signed_in.get("/apply/open_restaurant/", answers, **EN))
    assert "Which enterprise do you act for?" in page
    assert f'value="{enterprise.uscc}"' in page

    missing = signed_in.post("/apply/open_restaurant/", answers, **EN)
    assert missing.status_code == 422
    assert "Choose the enterprise you act for." in text(missing)

    response = signed_in.post(
        "/apply/open_restaurant/", {**answers, "enterprise": enterprise.uscc}, **EN
    )
    assert response.status_code == 302
    application = Application.objects.get(applicant=applicant)
    assert application.enterprise == enterprise


def test_staff_cannot_start_an_application(client, loaded_catalog):
    sign_in(client, reviewer("fj_health"))
    page = text(client.get("/apply/newborn/", ANSWERS, **EN))
    assert "Only a signed-in applicant can apply." in page and 'data-testid="start"' not in page
    assert client.post("/apply/newborn/", ANSWERS, **EN).status_code == 403
    assert not Application.objects.exists()


# --- results of earlier cases are personal data too ----------------------------------------------


@pytest.fixture
def registered_baby(submitted_newborn):
    """The birth certificate issued and the baby registered: the police's result is the baby's
    ID number, which flows into the medical-insurance case."""
    health, police = reviewer("fj_health"), reviewer("fj_public_security")
    birth = services.case_accept(actor=health, case=birth_case(submitted_newborn))
    services.case_approve(
        actor=health, case=birth, outputs={"child.birth_certificate_number": BIRTH_CERTIFICATE}
    )
    hukou = services.case_accept(
        actor=police, case=submitted_newborn.cases.get(service__code="birth_hukou_registration")
    )
    child_id = make_ric()
    services.case_approve(actor=police, case=hukou, outputs={"child.id_number": child_id})
    return submitted_newborn, hukou, child_id


def test_the_insurance_reviewer_reads_the_babys_id_number_masked_until_revealed(
    client, registered_baby
):
    from onething.audit.models import AuditRecord
    from onething.sharing.models import DataUse

    application, hukou, child_id = registered_baby
    sign_in(client, reviewer("fj_medical_security"))
    insurance = application.cases.get(service__code="newborn_medical_insurance")
    page = text(client.get(f"/workbench/cases/{insurance.pk}/", **EN))
    assert "Results of earlier cases" in page
    assert child_id not in page
    assert mask(child_id) in page
    assert 'data-testid="reveal-output-child.id_number"' in page

    response = client.post(
        f"/workbench/cases/{insurance.pk}/reveal/",
        {"field": "child.id_number", "output_of": str(hukou.pk)},
        HTTP_HX_REQUEST="true",
        **EN,
    )
    assert response.status_code == 200 and child_id in text(response)
    event = CaseEvent.objects.get(case=insurance, action="value_revealed")
    assert event.data == {"field": "child.id_number", "output_of": "birth_hukou_registration"}
    assert AuditRecord.objects.filter(
        action="case.value_revealed", subject__endswith="/newborn_medical_insurance"
    ).exists()
    assert [use.elements for use in DataUse.objects.filter(use="reveal")] == [["child.id_number"]]


def test_a_result_of_an_unrelated_case_cannot_be_revealed(client, registered_baby):
    application, hukou, _child_id = registered_baby
    sign_in(client, reviewer("fj_cdc"))
    # The vaccination case does not depend on the household registration.
    vaccination = application.cases.get(service__code="vaccination_certificate")
    response = client.post(
        f"/workbench/cases/{vaccination.pk}/reveal/",
        {"field": "child.id_number", "output_of": str(hukou.pk)},
        **EN,
    )
    assert response.status_code == 404
    assert not CaseEvent.objects.filter(action="value_revealed").exists()


def test_a_supervisor_reads_decided_results_masked_without_a_reveal(client, registered_baby):
    from onething.accounts.models import Role, RoleAssignment
    from tests.factories import StaffFactory

    application, hukou, child_id = registered_baby
    supervisor = StaffFactory()
    RoleAssignment.objects.create(user=supervisor, role=Role.SUPERVISOR)
    sign_in(client, supervisor)
    for case in (hukou, application.cases.get(service__code="newborn_medical_insurance")):
        page = text(client.get(f"/workbench/cases/{case.pk}/", **EN))
        assert child_id not in page and mask(child_id) in page
        assert "reveal-output-" not in page  # supervisors read; they do not reveal


# --- materials -----------------------------------------------------------------------------------


def test_a_reviewer_downloads_a_material_of_their_case_and_the_download_is_recorded(
    client, submitted_newborn
):
    from onething.audit.models import AuditRecord

    sign_in(client, reviewer("fj_health"))
    case = birth_case(submitted_newborn)
    page = text(client.get(f"/workbench/cases/{case.pk}/", **EN))
    assert 'data-testid="download-delivery_record"' in page
    assert 'data-testid="download-bank_card"' not in page  # for the maternity benefit only

    response = client.get(f"/workbench/cases/{case.pk}/materials/delivery_record/", **EN)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert "attachment" in response["Content-Disposition"]
    record = AuditRecord.objects.get(action="case.material_opened")
    assert record.data["material"] == "delivery_record"
    assert record.subject.endswith("/birth_medical_certificate")


def test_materials_outside_the_case_or_its_department_are_not_found(client, submitted_newborn):
    from onething.audit.models import AuditRecord

    case = birth_case(submitted_newborn)
    sign_in(client, reviewer("fj_health"))
    # The bank card was uploaded, but the birth certificate does not use it.
    assert client.get(f"/workbench/cases/{case.pk}/materials/bank_card/").status_code == 404
    sign_in(client, reviewer("fj_public_security"))
    url = f"/workbench/cases/{case.pk}/materials/delivery_record/"
    assert client.get(url).status_code == 404
    assert not AuditRecord.objects.filter(action="case.material_opened").exists()
