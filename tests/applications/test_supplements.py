"""The one-time supplement notice and promised materials, against the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from onething.applications import services
from onething.applications.lifecycle import ApplicationStatus, CaseStatus
from onething.applications.models import SupplementItem, SupplementRequest
from onething.core.errors import Conflict, InvalidInput, NotFound
from onething.outbox.registry import autodiscover
from onething.outbox.worker import outbox_run_once
from tests.applications.conftest import PNG, fill_and_attach
from tests.factories import PersonFactory, enterprise_with_agent, reviewer

pytestmark = pytest.mark.django_db

BIG_RESTAURANT = {"floor_area": 600, "has_signboard": "yes", "sells_tobacco": "no"}


def work(*, later: timedelta = timedelta(0)) -> int:
    autodiscover()
    return outbox_run_once(worker_id="test", now=timezone.now() + later, batch=50)


def case(application, code):
    return application.cases.select_related("service").get(service__code=code)


def accepted(application, code, department):
    staff = reviewer(department)
    return staff, services.case_accept(actor=staff, case=case(application, code))


@pytest.fixture
def restaurant(loaded_catalog):
    """A big restaurant with a signboard: four departments work on stage 2 side by side."""
    applicant = PersonFactory()
    enterprise = enterprise_with_agent(applicant)
    application = services.application_start(
        actor=applicant,
        thing_code="open_restaurant",
        answers=BIG_RESTAURANT,
        enterprise_uscc=enterprise.uscc,
    )
    fill_and_attach(application, applicant, overrides={"enterprise.uscc": enterprise.uscc})
    services.application_submit(actor=applicant, application=application, consent=True)
    work()  # the automatic licence check approves and releases stage 2
    assert case(application, "business_licence_check").status == CaseStatus.APPROVED
    return application


def ask(staff, a_case, *items):
    return services.case_ask_supplement(
        actor=staff,
        case=a_case,
        items=[{"kind": k, "target": t, "reason": r} for k, t, r in items],
    )


def test_three_departments_asking_reach_the_applicant_as_one_notice(restaurant):
    market, food = accepted(restaurant, "food_business_licence", "fj_market_regulation")
    housing, sign = accepted(restaurant, "outdoor_signboard_permit", "fj_housing")
    fire_staff, fire = accepted(restaurant, "fire_safety_inspection", "fj_fire_rescue")
    health, hygiene = accepted(restaurant, "public_place_hygiene_licence", "fj_health")

    first = ask(
        market,
        food,
        ("material", "kitchen_layout_plan", "图纸看不清"),
        ("material", "premises_certificate", "租赁合同已过期"),
    )
    # Two departments asking for the same material: the applicant answers it once.
    ask(
        housing,
        sign,
        ("field", "signboard.area", "面积与设计图不符"),
        ("material", "premises_certificate", "缺少产权人同意书"),
    )
    ask(fire_staff, fire, ("material", "fire_floor_plan", "缺少疏散通道标注"))
    first.refresh_from_db()
    assert first.status == SupplementRequest.Status.COLLECTING, "health has not reviewed yet"
    restaurant.refresh_from_db()
    assert restaurant.status == ApplicationStatus.IN_PROGRESS

    services.case_approve(actor=health, case=hygiene)
    first.refresh_from_db()
    assert first.status == SupplementRequest.Status.SENT
    assert SupplementRequest.objects.filter(application=restaurant).count() == 1
    assert first.items.count() == 5
    restaurant.refresh_from_db()
    assert restaurant.status == ApplicationStatus.AWAITING_SUPPLEMENT
    assert list(restaurant.events.filter(action="supplement_notice_sent")) != []

    # After the notice went out, the stage cannot ask again (一次性告知).
    other = PersonFactory()
    with pytest.raises(NotFound):
        services.supplement_answer(actor=other, request=first, values={}, files={})
    applicant = restaurant.applicant
    with pytest.raises(InvalidInput) as missing:
        services.supplement_answer(
            actor=applicant, request=first, values={"signboard.area": "abc"}, files={}
        )
    assert set(missing.value.fields) == {
        "form.signboard.area",
        "materials.kitchen_layout_plan",
        "materials.premises_certificate",
        "materials.fire_floor_plan",
    }
    first.refresh_from_db()
    assert first.status == SupplementRequest.Status.SENT, "nothing saved from a wrong answer"

    services.supplement_answer(
        actor=applicant,
        request=first,
        values={"signboard.area": "4.5"},
        files={
            code: (f"{code}.png", PNG)
            for code in ("kitchen_layout_plan", "premises_certificate", "fire_floor_plan")
        },
    )
    first.refresh_from_db()
    assert first.status == SupplementRequest.Status.ANSWERED
    assert {code: c.status for code, c in _cases(restaurant).items()} == {
        "business_licence_check": CaseStatus.APPROVED,
        "food_business_licence": CaseStatus.ACCEPTED,
        "outdoor_signboard_permit": CaseStatus.ACCEPTED,
        "fire_safety_inspection": CaseStatus.ACCEPTED,
        "public_place_hygiene_licence": CaseStatus.APPROVED,
    }
    restaurant.refresh_from_db()
    assert restaurant.status == ApplicationStatus.IN_PROGRESS
    assert str(restaurant.form_data["signboard.area"]) == "4.5"
    with translation.override("en"), pytest.raises(Conflict, match="already sent"):
        ask(market, case(restaurant, "food_business_licence"), ("field", "food.main_category", "x"))


def _cases(application):
    return {c.service.code: c for c in application.cases.select_related("service")}


def test_the_others_never_stop_while_one_case_waits_for_a_supplement(restaurant):
    market, food = accepted(restaurant, "food_business_licence", "fj_market_regulation")
    ask(market, food, ("material", "food_safety_rules", "未盖章"))
    housing, sign = accepted(restaurant, "outdoor_signboard_permit", "fj_housing")
    services.case_approve(actor=housing, case=sign)
    assert case(restaurant, "outdoor_signboard_permit").status == CaseStatus.APPROVED
    assert case(restaurant, "food_business_licence").status == CaseStatus.SUPPLEMENT


def test_a_held_notice_goes_out_when_its_hold_runs_out(restaurant, settings):
    market, food = accepted(restaurant, "food_business_licence", "fj_market_regulation")
    notice = ask(market, food, ("field", "premises.seats", "座位数与平面图不符"))
    work()
    notice.refresh_from_db()
    assert notice.status == SupplementRequest.Status.COLLECTING
    work(later=settings.SUPPLEMENT_HOLD + timedelta(minutes=1))
    notice.refresh_from_db()
    assert notice.status == SupplementRequest.Status.SENT
    restaurant.refresh_from_db()
    assert restaurant.status == ApplicationStatus.AWAITING_SUPPLEMENT


def test_a_reviewer_may_ask_only_for_what_the_service_needs_and_must_say_why(restaurant):
    market, food = accepted(restaurant, "food_business_licence", "fj_market_regulation")
    with pytest.raises(InvalidInput) as error:
        ask(
            market,
            food,
            ("material", "signboard_design", "不属于本事项"),
            ("field", "premises.seats", "  "),
        )
    assert set(error.value.fields) == {"items.0.target", "items.1.reason"}
    assert case(restaurant, "food_business_licence").status == CaseStatus.ACCEPTED
    housing = reviewer("fj_housing")
    with pytest.raises(NotFound):
        ask(housing, food, ("field", "premises.seats", "x"))


def test_a_later_stage_item_opens_a_second_notice(loaded_catalog, applicant):
    newborn = services.application_start(
        actor=applicant, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    fill_and_attach(newborn, applicant)
    services.application_submit(actor=applicant, application=newborn, consent=True)
    health, birth = accepted(newborn, "birth_medical_certificate", "fj_health")
    cdc, vaccination = accepted(newborn, "vaccination_certificate", "fj_cdc")
    ask(health, birth, ("field", "child.birth_weight", "与分娩记录不一致"))
    ask(cdc, vaccination, ("material", "delivery_record", "缺少第二页"))
    [first] = SupplementRequest.objects.filter(application=newborn)
    assert first.status == SupplementRequest.Status.SENT and first.stage == 1
    services.supplement_answer(
        actor=applicant,
        request=first,
        values={"child.birth_weight": "3250"},
        files={"delivery_record": ("record.pdf", b"%PDF-1.4\n" + b"0" * 32)},
    )
    birth = case(newborn, "birth_medical_certificate")
    services.case_approve(
        actor=health, case=birth, outputs={"child.birth_certificate_number": "Q350203456"}
    )
    police, hukou = accepted(newborn, "birth_hukou_registration", "fj_public_security")
    second = ask(police, hukou, ("material", "hukou_book", "户口簿首页缺失"))
    assert second.number == 2 and second.stage == 2
    assert second.status == SupplementRequest.Status.COLLECTING  # maternity benefit to review
    medical, maternity = accepted(newborn, "maternity_benefit", "fj_medical_security")
    services.case_approve(actor=medical, case=maternity)
    second.refresh_from_db()
    assert second.status == SupplementRequest.Status.SENT
    assert SupplementRequest.objects.filter(application=newborn).count() == 2


def test_answering_one_notice_resumes_only_its_cases_while_another_notice_waits(
    loaded_catalog, applicant
):
    """The CDC's question (notice 1) is still open when the police ask theirs (notice 2):
    answering notice 2 resumes the hukou case only; the vaccination case keeps waiting."""
    newborn = services.application_start(
        actor=applicant, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    fill_and_attach(newborn, applicant)
    services.application_submit(actor=applicant, application=newborn, consent=True)
    health, birth = accepted(newborn, "birth_medical_certificate", "fj_health")
    cdc, vaccination = accepted(newborn, "vaccination_certificate", "fj_cdc")
    first = ask(cdc, vaccination, ("material", "delivery_record", "缺少第二页"))
    services.case_approve(
        actor=health, case=birth, outputs={"child.birth_certificate_number": "Q350203456"}
    )
    first.refresh_from_db()
    assert first.status == SupplementRequest.Status.SENT
    police, hukou = accepted(newborn, "birth_hukou_registration", "fj_public_security")
    second = ask(police, hukou, ("material", "hukou_book", "户口簿首页缺失"))
    medical, maternity = accepted(newborn, "maternity_benefit", "fj_medical_security")
    services.case_approve(actor=medical, case=maternity)
    second.refresh_from_db()
    assert second.status == SupplementRequest.Status.SENT and second.number == 2

    services.supplement_answer(
        actor=applicant, request=second, files={"hukou_book": ("book.png", PNG)}
    )

    assert case(newborn, "birth_hukou_registration").status == CaseStatus.ACCEPTED
    assert case(newborn, "vaccination_certificate").status == CaseStatus.SUPPLEMENT
    first.refresh_from_db()
    assert first.status == SupplementRequest.Status.SENT  # still waiting for its answer


@pytest.fixture
def restaurant_draft(loaded_catalog):
    applicant = PersonFactory()
    enterprise = enterprise_with_agent(applicant)
    draft = services.application_start(
        actor=applicant,
        thing_code="open_restaurant",
        answers=BIG_RESTAURANT,
        enterprise_uscc=enterprise.uscc,
    )
    fill_and_attach(draft, applicant, overrides={"enterprise.uscc": enterprise.uscc})
    return draft


def test_a_deferrable_material_can_be_promised_and_the_case_proceeds(restaurant_draft):
    applicant, today = restaurant_draft.applicant, timezone.localdate()
    services.application_promise_material(
        actor=applicant,
        application=restaurant_draft,
        material_code="food_safety_rules",
        promised_by=today + timedelta(days=5),
    )
    services.application_submit(actor=applicant, application=restaurant_draft, consent=True)
    promise = SupplementRequest.objects.get(
        application=restaurant_draft, kind=SupplementRequest.Kind.PROMISE
    )
    [item] = promise.items.all()
    assert (item.target, item.case.service.code) == ("food_safety_rules", "food_business_licence")
    assert item.due_date == today + timedelta(days=5)
    work()
    market, food = accepted(restaurant_draft, "food_business_licence", "fj_market_regulation")
    outputs = {"enterprise.food_licence_number": "JY13502060001"}
    # Past the promised date and still missing: approval is refused.
    SupplementItem.objects.filter(pk=item.pk).update(due_date=today - timedelta(days=1))
    with translation.override("en"), pytest.raises(Conflict, match="promised"):
        services.case_approve(actor=market, case=food, outputs=outputs)
    services.supplement_answer(
        actor=applicant, request=promise, files={"food_safety_rules": ("rules.png", PNG)}
    )
    promise.refresh_from_db()
    assert promise.status == SupplementRequest.Status.ANSWERED
    services.case_approve(
        actor=market, case=case(restaurant_draft, "food_business_licence"), outputs=outputs
    )
    assert case(restaurant_draft, "food_business_licence").status == CaseStatus.APPROVED


@pytest.mark.parametrize(
    ("material", "days", "field"),
    [
        ("kitchen_layout_plan", 5, "materials.kitchen_layout_plan"),  # not deferrable
        ("food_safety_rules", 0, "materials.food_safety_rules.promised_by"),
        ("food_safety_rules", 400, "materials.food_safety_rules.promised_by"),
    ],
)
def test_a_promise_needs_a_deferrable_material_and_a_date_soon(
    restaurant_draft, material, days, field
):
    with pytest.raises(InvalidInput) as error:
        services.application_promise_material(
            actor=restaurant_draft.applicant,
            application=restaurant_draft,
            material_code=material,
            promised_by=timezone.localdate() + timedelta(days=days),
        )
    assert field in error.value.fields


def test_withdrawing_closes_open_notices(restaurant):
    market, food = accepted(restaurant, "food_business_licence", "fj_market_regulation")
    notice = ask(market, food, ("field", "premises.seats", "x"))
    services.application_withdraw(actor=restaurant.applicant, application=restaurant)
    notice.refresh_from_db()
    assert notice.status == SupplementRequest.Status.CLOSED


def test_a_promise_is_chased_the_day_before_and_once_more_when_overdue(restaurant_draft):
    from onething.notifications.models import Notification

    applicant, today = restaurant_draft.applicant, timezone.localdate()
    due = today + timedelta(days=3)
    services.application_promise_material(
        actor=applicant,
        application=restaurant_draft,
        material_code="food_safety_rules",
        promised_by=due,
    )
    services.application_submit(actor=applicant, application=restaurant_draft, consent=True)
    reminders = Notification.objects.filter(recipient=applicant, kind="promise-due")
    assert services.deadline_sweep(actor="test", today=today)["promises_chased"] == 0
    day_before = due - timedelta(days=1)
    assert services.deadline_sweep(actor="test", today=day_before)["promises_chased"] == 1
    assert services.deadline_sweep(actor="test", today=day_before)["promises_chased"] == 0
    assert reminders.count() == 1
    # The reminder was sent the day before the due date (the test moves it back in time).
    SupplementItem.objects.filter(request__application=restaurant_draft).update(
        chased_at=timezone.now() + timedelta(days=1)
    )
    assert (
        services.deadline_sweep(actor="test", today=due + timedelta(days=1))["promises_chased"] == 1
    )
    assert reminders.count() == 2
    assert restaurant_draft.events.filter(action="promise_chased").count() == 2


def test_a_supplement_answer_must_keep_the_forms_cross_field_rules(loaded_catalog, applicant):
    newborn = services.application_start(
        actor=applicant, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    fill_and_attach(newborn, applicant)
    services.application_submit(actor=applicant, application=newborn, consent=True)
    health, birth = accepted(newborn, "birth_medical_certificate", "fj_health")
    services.case_ask_supplement(
        actor=health,
        case=birth,
        items=[{"kind": "field", "target": "child.birth_date", "reason": "日期有误"}],
    )
    request = newborn.supplement_requests.get()
    services.supplement_request_release(actor=health, request=request)
    with pytest.raises(InvalidInput) as error:
        # The mother (the applicant) was born in 1992: her child cannot be born in 1980.
        services.supplement_answer(
            actor=applicant, request=request, values={"child.birth_date": "1980-01-01"}
        )
    assert set(error.value.fields) == {"form.child.birth_date"}


def test_a_promise_whose_date_passed_before_submission_is_refused(restaurant_draft):
    from onething.applications.models import ApplicationMaterial

    applicant, today = restaurant_draft.applicant, timezone.localdate()
    services.application_promise_material(
        actor=applicant,
        application=restaurant_draft,
        material_code="food_safety_rules",
        promised_by=today + timedelta(days=2),
    )
    ApplicationMaterial.objects.filter(application=restaurant_draft).filter(
        provision="promised"
    ).update(promised_by=today - timedelta(days=1))
    with pytest.raises(InvalidInput) as error:
        services.application_submit(actor=applicant, application=restaurant_draft, consent=True)
    assert "materials.food_safety_rules.promised_by" in error.value.fields


def test_a_promise_is_not_chased_once_its_case_is_decided(restaurant_draft):
    from onething.notifications.models import Notification

    applicant, today = restaurant_draft.applicant, timezone.localdate()
    services.application_promise_material(
        actor=applicant,
        application=restaurant_draft,
        material_code="food_safety_rules",
        promised_by=today + timedelta(days=1),
    )
    services.application_submit(actor=applicant, application=restaurant_draft, consent=True)
    work()
    market, food = accepted(restaurant_draft, "food_business_licence", "fj_market_regulation")
    services.case_reject(actor=market, case=food, reason="经营场所不符合要求")
    assert services.deadline_sweep(actor="test", today=today)["promises_chased"] == 0
    assert not Notification.objects.filter(recipient=applicant, kind="promise-due").exists()


def test_fields_asked_for_that_the_catalog_since_dropped_are_still_checked_and_answered(
    loaded_catalog, applicant
):
    from onething.catalog.models import ServiceField

    newborn = services.application_start(
        actor=applicant, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    fill_and_attach(newborn, applicant)
    services.application_submit(actor=applicant, application=newborn, consent=True)
    health, birth = accepted(newborn, "birth_medical_certificate", "fj_health")
    ask(
        health,
        birth,
        ("field", "child.birth_weight", "体重有误"),
        ("field", "child.birth_place", "地点不全"),
    )
    request = newborn.supplement_requests.get()
    services.supplement_request_release(actor=health, request=request)
    # The catalog administrator drops both fields from every service while the notice is open.
    ServiceField.objects.filter(
        element__key__in=["child.birth_weight", "child.birth_place"]
    ).delete()

    with translation.override("en"), pytest.raises(InvalidInput) as error:
        services.supplement_answer(
            actor=applicant,
            request=request,
            values={"child.birth_weight": "-5", "child.birth_place": ""},
        )
    problems = error.value.fields
    assert set(problems) == {"form.child.birth_place", "form.child.birth_weight"}
    assert problems["form.child.birth_place"] == "Place of birth is required."
    assert problems["form.child.birth_weight"] == "Birth weight (grams) must be at least 300."
    services.supplement_answer(
        actor=applicant,
        request=request,
        values={"child.birth_weight": "3250", "child.birth_place": "福州市妇幼保健院"},
    )
    newborn.refresh_from_db()
    assert newborn.form_data["child.birth_weight"] == 3250
    assert newborn.form_data["child.birth_place"] == "福州市妇幼保健院"
    assert case(newborn, "birth_medical_certificate").status == CaseStatus.ACCEPTED
