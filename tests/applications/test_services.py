"""Applying once, against the database: the journeys a user would go through."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from onething.applications import services
from onething.applications.lifecycle import ApplicationStatus, CaseStatus
from onething.applications.models import Application, Case, CaseEvent
from onething.audit.verification import audit_verify
from onething.core.errors import Conflict, InvalidInput, NotFound
from onething.outbox.models import OutboxMessage
from onething.outbox.registry import autodiscover
from onething.outbox.worker import outbox_run_once
from tests.applications.conftest import fill_and_attach
from tests.factories import make_ric, reviewer

pytestmark = pytest.mark.django_db


def statuses(application) -> dict[str, str]:
    return dict(application.cases.values_list("service__code", "status"))


def run_worker() -> int:
    autodiscover()
    return outbox_run_once(worker_id="test", batch=50)


def case(application, code) -> Case:
    return application.cases.get(service__code=code)


@pytest.fixture
def newborn(loaded_catalog, applicant):
    application = services.application_start(
        actor=applicant, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    fill_and_attach(application, applicant)
    return application


def test_the_whole_newborn_journey(newborn, applicant):
    application = services.application_submit(
        actor=applicant, application=newborn, consent=True, idempotency_key="k-1"
    )
    assert application.status == ApplicationStatus.SUBMITTED
    # The consent as the applicant saw it is kept with the application, naming the departments.
    assert application.consent_given_at is not None
    assert application.consent_text.startswith("本人同意办理本申请的部门")
    assert "福建省卫生健康委员会" in application.consent_text
    assert statuses(application) == {
        "birth_medical_certificate": CaseStatus.READY,
        "vaccination_certificate": CaseStatus.READY,
        "birth_hukou_registration": CaseStatus.WAITING,
        "maternity_benefit": CaseStatus.WAITING,
        "newborn_medical_insurance": CaseStatus.WAITING,
        "newborn_social_security_card": CaseStatus.WAITING,
    }
    assert OutboxMessage.objects.filter(topic="case.dispatch").count() == 2
    run_worker()

    health = reviewer("fj_health")
    birth = services.case_accept(actor=health, case=case(application, "birth_medical_certificate"))
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_PROGRESS
    services.case_approve(
        actor=health, case=birth, outputs={"child.birth_certificate_number": "Q350203456"}
    )
    # The result flows into the next case, which is now with the police.
    hukou = case(application, "birth_hukou_registration")
    assert hukou.status == CaseStatus.READY
    assert hukou.inputs == {"child.birth_certificate_number": "Q350203456"}
    assert case(application, "maternity_benefit").status == CaseStatus.READY

    police = reviewer("fj_public_security")
    services.case_accept(actor=police, case=hukou)
    child_id = make_ric(birth=application.created_at.date())
    services.case_approve(actor=police, case=hukou, outputs={"child.id_number": child_id})
    # The automatic member cannot decide alone: the birth date was typed, not read from the
    # hospital's record (no consent to read it), so the rule passes it to a reviewer.
    run_worker()
    insurance = case(application, "newborn_medical_insurance")
    assert insurance.status == CaseStatus.READY
    assert insurance.events.filter(action="referred").exists()

    cdc, medical, hrss = reviewer("fj_cdc"), reviewer("fj_medical_security"), reviewer("fj_hrss")
    for code, staff in [
        ("vaccination_certificate", cdc),
        ("maternity_benefit", medical),
        ("newborn_medical_insurance", medical),
        ("newborn_social_security_card", hrss),
    ]:
        services.case_accept(actor=staff, case=case(application, code))
        services.case_approve(actor=staff, case=case(application, code))

    application.refresh_from_db()
    assert application.status == ApplicationStatus.COMPLETED
    assert set(statuses(application).values()) == {CaseStatus.APPROVED}
    actions = list(application.events.values_list("action", flat=True))
    assert actions[0] == "started" and actions[-1] == "finished"
    assert audit_verify().ok


def test_approval_needs_the_declared_outputs(newborn, applicant):
    services.application_submit(actor=applicant, application=newborn, consent=True)
    health = reviewer("fj_health")
    birth = services.case_accept(actor=health, case=case(newborn, "birth_medical_certificate"))
    with pytest.raises(InvalidInput) as caught:
        services.case_approve(actor=health, case=birth, outputs={})
    assert set(caught.value.fields) == {"outputs.child.birth_certificate_number"}
    assert case(newborn, "birth_medical_certificate").status == CaseStatus.ACCEPTED


def test_a_rejection_cancels_the_dependents_and_the_rest_goes_on(newborn, applicant):
    services.application_submit(actor=applicant, application=newborn, consent=True)
    health, cdc = reviewer("fj_health"), reviewer("fj_cdc")
    birth = services.case_accept(actor=health, case=case(newborn, "birth_medical_certificate"))
    services.case_reject(actor=health, case=birth, reason="出生医学证明信息与分娩记录不符")
    result = statuses(newborn)
    assert result["birth_medical_certificate"] == CaseStatus.REJECTED
    for dependent in (
        "birth_hukou_registration",
        "maternity_benefit",
        "newborn_medical_insurance",
        "newborn_social_security_card",
    ):
        assert result[dependent] == CaseStatus.CANCELLED
    assert "出生医学证明信息与分娩记录不符" in case(newborn, "birth_hukou_registration").reason
    assert result["vaccination_certificate"] == CaseStatus.READY
    services.case_accept(actor=cdc, case=case(newborn, "vaccination_certificate"))
    services.case_approve(actor=cdc, case=case(newborn, "vaccination_certificate"))
    newborn.refresh_from_db()
    assert newborn.status == ApplicationStatus.PARTLY_COMPLETED


def test_rejecting_everything_rejects_the_application(loaded_catalog, applicant):
    application = services.application_start(
        actor=applicant,
        thing_code="newborn",
        answers={
            "mother_insured": "no",
            "vaccination_certificate_issued": "yes",
            "apply_social_security_card": "no",
        },
    )
    fill_and_attach(application, applicant)
    services.application_submit(actor=applicant, application=application, consent=True)
    health = reviewer("fj_health")
    birth = services.case_accept(actor=health, case=case(application, "birth_medical_certificate"))
    services.case_reject(actor=health, case=birth, reason="not born in this hospital")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED


def test_a_rejection_needs_a_reason(newborn, applicant):
    services.application_submit(actor=applicant, application=newborn, consent=True)
    health = reviewer("fj_health")
    birth = services.case_accept(actor=health, case=case(newborn, "birth_medical_certificate"))
    with pytest.raises(InvalidInput) as caught:
        services.case_reject(actor=health, case=birth, reason="  ")
    assert "reason" in caught.value.fields


def test_withdrawal_cancels_every_open_case_and_nothing_moves_after(newborn, applicant):
    services.application_submit(actor=applicant, application=newborn, consent=True)
    health = reviewer("fj_health")
    services.case_accept(actor=health, case=case(newborn, "birth_medical_certificate"))
    services.application_withdraw(actor=applicant, application=newborn, reason="moved away")
    assert set(statuses(newborn).values()) == {CaseStatus.CANCELLED}
    newborn.refresh_from_db()
    assert newborn.status == ApplicationStatus.WITHDRAWN
    with pytest.raises(Conflict):
        services.case_approve(
            actor=health,
            case=case(newborn, "birth_medical_certificate"),
            outputs={"child.birth_certificate_number": "Q1"},
        )
    with pytest.raises(Conflict):
        services.application_withdraw(actor=applicant, application=newborn)


def test_submission_names_every_missing_thing_at_once(loaded_catalog, applicant):
    application = services.application_start(
        actor=applicant, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    problems = services.application_save_form(
        actor=applicant,
        application=application,
        values={"mother.id_number": "350203199205171230", "child.birth_date": "2099-01-01"},
    )
    assert "form.mother.id_number" in problems and "form.child.birth_date" in problems
    # What was typed is kept, even though it is wrong.
    application.refresh_from_db()
    assert application.form_data["child.birth_date"] == "2099-01-01"
    with pytest.raises(InvalidInput) as caught:
        services.application_submit(actor=applicant, application=application, consent=False)
    fields = caught.value.fields
    assert {
        "consent",
        "form.child.name",
        "form.mother.id_number",
        "form.child.birth_date",
        "materials.bank_card",
    } <= set(fields)
    assert "form.child.birth_certificate_number" not in fields  # produced by the first case
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT
    assert not application.cases.exists()


def test_a_child_cannot_be_born_before_the_mother(loaded_catalog, applicant):
    application = services.application_start(
        actor=applicant, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    fill_and_attach(application, applicant, overrides={"child.birth_date": "1980-01-01"})
    with translation.override("en"), pytest.raises(InvalidInput) as caught:
        services.application_submit(actor=applicant, application=application, consent=True)
    assert "mother" in caught.value.fields["form.child.birth_date"]


def test_uploads_are_checked_by_content(newborn, applicant):
    with pytest.raises(InvalidInput) as caught:
        services.application_attach_material(
            actor=applicant,
            application=newborn,
            material_code="bank_card",
            name="card.pdf",
            content=b"MZ\x90\x00 this is an executable",
        )
    assert "materials.bank_card" in caught.value.fields
    attached = newborn.materials.get(material__code="bank_card")
    assert attached.content_type == "image/png" and len(attached.sha256) == 64


def test_a_material_the_plan_does_not_ask_for_is_neither_uploaded_nor_promised(newborn, applicant):
    from tests.applications.conftest import PNG

    not_asked = "food_safety_rules"  # a restaurant's, not a newborn's
    with pytest.raises(InvalidInput) as upload:
        services.application_attach_material(
            actor=applicant,
            application=newborn,
            material_code=not_asked,
            name="rules.png",
            content=PNG,
        )
    with pytest.raises(InvalidInput) as promise:
        services.application_promise_material(
            actor=applicant,
            application=newborn,
            material_code=not_asked,
            promised_by=timezone.localdate() + timedelta(days=3),
        )
    assert set(upload.value.fields) == set(promise.value.fields) == {"material"}
    assert not newborn.materials.filter(material__code=not_asked).exists()


def test_an_upload_over_the_size_limit_is_refused_and_the_earlier_file_kept(newborn, applicant):
    from tests.applications.conftest import PNG

    too_big = PNG + b"\x00" * services.MAX_UPLOAD_BYTES
    with pytest.raises(InvalidInput) as caught:
        services.application_attach_material(
            actor=applicant,
            application=newborn,
            material_code="bank_card",
            name="card.png",
            content=too_big,
        )
    assert "materials.bank_card" in caught.value.fields
    assert newborn.materials.get(material__code="bank_card").size == len(PNG)


def test_another_applicant_cannot_touch_the_application(newborn):
    from tests.factories import PersonFactory

    stranger = PersonFactory()
    with pytest.raises(NotFound):
        services.application_submit(actor=stranger, application=newborn, consent=True)
    with pytest.raises(NotFound):
        services.application_withdraw(actor=stranger, application=newborn)


def test_a_reviewer_of_another_department_cannot_act(newborn, applicant):
    services.application_submit(actor=applicant, application=newborn, consent=True)
    police = reviewer("fj_public_security")
    with pytest.raises(NotFound):
        services.case_accept(actor=police, case=case(newborn, "birth_medical_certificate"))


def test_submitting_twice_with_the_same_key_gives_the_same_application(newborn, applicant):
    first = services.application_submit(
        actor=applicant, application=newborn, consent=True, idempotency_key="same"
    )
    again = services.application_submit(
        actor=applicant, application=newborn, consent=True, idempotency_key="same"
    )
    assert again.pk == first.pk
    assert Case.objects.filter(application=first).count() == 6
    with pytest.raises(Conflict):
        services.application_submit(
            actor=applicant, application=newborn, consent=True, idempotency_key="other"
        )


def test_every_change_is_on_the_timeline_and_in_the_audit_trail(newborn, applicant):
    services.application_submit(actor=applicant, application=newborn, consent=True)
    events = CaseEvent.objects.filter(application=newborn)
    assert events.filter(action="submitted").count() == 1
    assert events.filter(action="released").count() == 2
    from onething.audit.models import AuditRecord

    trail = AuditRecord.objects.filter(stream__name=f"application:{newborn.public_id}")
    assert trail.count() == events.count()


def test_one_call_submission_is_idempotent_and_refuses_a_changed_body(resident_mother):
    applicant = resident_mother
    from tests.applications.conftest import valid_value

    draft = services.application_start(
        actor=applicant,
        thing_code="newborn",
        answers={
            "mother_insured": "no",
            "vaccination_certificate_issued": "yes",
            "apply_social_security_card": "no",
        },
    )
    plan = services.application_plan(draft)
    form = {f.element.key: valid_value(f.element, applicant) for f in plan.form if f.asked}
    draft.delete()
    body = dict(
        actor=applicant,
        thing_code="newborn",
        answers={
            "mother_insured": "no",
            "vaccination_certificate_issued": "yes",
            "apply_social_security_card": "no",
        },
        form=form,
        consent=True,
        idempotency_key="api-1",
        share_data=True,
        share_sensitive=True,
    )
    first = services.application_create_and_submit(**body)
    again = services.application_create_and_submit(**body)
    assert first.created and not again.created
    assert again.application.pk == first.application.pk
    assert Application.objects.filter(applicant=applicant).count() == 1
    with pytest.raises(InvalidInput) as caught:
        services.application_create_and_submit(**{**body, "form": {**form, "child.name": "x"}})
    assert "Idempotency-Key" in caught.value.fields


def test_instant_approval_when_every_input_the_rule_names_is_authoritative(resident_mother):
    """The mother lets the platform read the registers (sensitive data too): the baby's birth
    date comes from the hospital, her ID from the population register, the baby's ID number from
    the household registration just approved — the insurance is granted at once (秒批)."""
    mother = resident_mother
    draft = services.application_start(
        actor=mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    services.application_prefill(actor=mother, application=draft, consent=True, sensitive=True)
    draft.refresh_from_db()
    assert draft.prefilled["child.birth_date"]["source"] == "hospital_births"
    fill_and_attach(draft, mother, overrides={k: draft.form_data[k] for k in draft.prefilled})
    application = services.application_submit(actor=mother, application=draft, consent=True)
    health, police = reviewer("fj_health"), reviewer("fj_public_security")
    birth = services.case_accept(actor=health, case=case(application, "birth_medical_certificate"))
    services.case_approve(
        actor=health, case=birth, outputs={"child.birth_certificate_number": "Q350203456"}
    )
    hukou = services.case_accept(actor=police, case=case(application, "birth_hukou_registration"))
    services.case_approve(
        actor=police, case=hukou, outputs={"child.id_number": make_ric(birth=date(2026, 11, 16))}
    )
    run_worker()
    insurance = case(application, "newborn_medical_insurance")
    assert insurance.status == CaseStatus.APPROVED
    assert insurance.decided_by_rule == "authoritative_inputs"
    approved = insurance.events.get(action="approved")
    assert approved.data["inputs_from"] == {
        "child.id_number": "result",
        "child.birth_date": "hospital_births",
        "mother.id_number": "population_register",
    }


def test_approving_the_birth_case_issues_a_certificate_anyone_can_verify(newborn, applicant):
    from onething.certificates.models import Certificate
    from onething.certificates.selectors import certificate_verify

    application = services.application_submit(actor=applicant, application=newborn, consent=True)
    health = reviewer("fj_health")
    birth = services.case_accept(actor=health, case=case(application, "birth_medical_certificate"))
    services.case_approve(
        actor=health, case=birth, outputs={"child.birth_certificate_number": "Q350203456"}
    )
    certificate = Certificate.objects.get(application_reference=application.reference)
    assert certificate.type.code == "birth_medical_certificate"
    assert (certificate.holder, certificate.issuer) == (applicant, birth.department)
    assert certificate.data["child.birth_certificate_number"] == "Q350203456"
    by_code = certificate_verify(code=certificate.verification_code)
    by_token = certificate_verify(token=certificate.jws)
    for result in (by_code, by_token):
        assert result.verdict.status == "valid"
        assert result.certificate == certificate


def test_a_rule_input_the_mother_typed_sends_the_insurance_to_a_reviewer_never_a_rejection(
    resident_mother,
):
    """She lets the platform read the registers but not the sensitive data (the baby's birth
    record, identity numbers), so she types the baby's birth date and her ID number herself: the
    rule cannot trust them, and the medical security bureau's reviewers decide — the referral
    and its reason are recorded, nothing is rejected."""
    from onething.applications.selectors import cases_for_staff

    mother = resident_mother
    draft = services.application_start(
        actor=mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    services.application_prefill(actor=mother, application=draft, consent=True, sensitive=False)
    draft.refresh_from_db()
    assert "child.birth_date" not in draft.prefilled
    assert "mother.id_number" not in draft.prefilled
    fill_and_attach(
        draft,
        mother,
        overrides={
            **{k: draft.form_data[k] for k in draft.prefilled},
            "child.birth_date": "2026-11-16",
        },
    )
    application = services.application_submit(actor=mother, application=draft, consent=True)
    health, police = reviewer("fj_health"), reviewer("fj_public_security")
    birth = services.case_accept(actor=health, case=case(application, "birth_medical_certificate"))
    services.case_approve(
        actor=health, case=birth, outputs={"child.birth_certificate_number": "Q350203456"}
    )
    hukou = services.case_accept(actor=police, case=case(application, "birth_hukou_registration"))
    services.case_approve(
        actor=police, case=hukou, outputs={"child.id_number": make_ric(birth=date(2026, 11, 16))}
    )
    with translation.override("en"):  # the reason is recorded in the worker's language
        run_worker()
    insurance = case(application, "newborn_medical_insurance")
    assert insurance.status == CaseStatus.READY
    assert insurance.decided_by_rule == ""
    assert not insurance.events.filter(action__in=("approved", "rejected")).exists()
    referred = insurance.events.get(action="referred")
    assert referred.actor_label == "system:rule:authoritative_inputs"
    assert referred.note == (
        "Not decided automatically: child.birth_date, mother.id_number typed by the applicant."
    )
    assert insurance in cases_for_staff(reviewer("fj_medical_security"), status="open")
