"""Deadlines in working days on cases: due dates, pauses, the sweep and its escalation."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from onething.applications import services
from onething.applications.models import Case
from onething.catalog.models import ThingMember
from onething.catalog.selectors import work_calendar
from onething.core.workdays import WorkCalendar
from tests.applications.conftest import fill_and_attach
from tests.factories import reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(loaded_catalog, applicant):
    application = services.application_start(
        actor=applicant, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    fill_and_attach(application, applicant)
    return services.application_submit(actor=applicant, application=application, consent=True)


def birth_case(application) -> Case:
    return application.cases.select_related("department__region").get(
        service__code="birth_medical_certificate"
    )


def test_a_ready_case_is_due_its_promised_working_days_later(submitted):
    case = birth_case(submitted)
    calendar = work_calendar()
    today = timezone.localdate()
    assert case.due_date == calendar.add_working_days(today, case.promised_days, region="350000")
    assert calendar.working_days_between(today, case.due_date) == case.promised_days
    submitted.refresh_from_db()
    assert submitted.due_date == calendar.add_working_days(today, submitted.promised_days)
    waiting = submitted.cases.get(service__code="birth_hukou_registration")
    assert waiting.due_date is None, "the clock starts when the case becomes ready"


def test_the_clock_stops_while_the_case_waits_for_the_applicant(submitted, applicant):
    health = reviewer("fj_health")
    case = services.case_accept(actor=health, case=birth_case(submitted))
    first_due = case.due_date
    services.case_ask_supplement(
        actor=health,
        case=case,
        items=[{"kind": "field", "target": "child.birth_weight", "reason": "不一致"}],
    )
    # Held for the CDC's first review: the applicant has not been asked, the clock runs.
    assert birth_case(submitted).paused_since is None
    request = submitted.supplement_requests.get()
    services.supplement_request_release(actor=health, request=request)  # the hold ran out
    case = birth_case(submitted)
    assert case.paused_since == timezone.localdate()
    # The applicant answers three days later (time travel by moving the pause back).
    sent = timezone.localdate() - timedelta(days=3)
    Case.objects.filter(pk=case.pk).update(paused_since=sent, deadline_state="due_soon")
    services.supplement_answer(
        actor=applicant, request=request, values={"child.birth_weight": "3250"}
    )
    case = birth_case(submitted)
    assert case.paused_since is None
    waited = (sent + timedelta(days=1), timezone.localdate())
    assert case.pauses == [[waited[0].isoformat(), waited[1].isoformat()]]
    ready = timezone.localdate(case.ready_at)
    assert case.due_date == work_calendar().due_date(
        ready, case.promised_days, [waited], region="350000"
    )
    assert case.due_date >= first_due
    assert case.deadline_state == "", "a later due date clears the yellow mark"


def test_asked_and_answered_the_same_day_the_clock_never_stopped(submitted, applicant):
    health = reviewer("fj_health")
    case = services.case_accept(actor=health, case=birth_case(submitted))
    due = case.due_date
    services.case_ask_supplement(
        actor=health,
        case=case,
        items=[{"kind": "field", "target": "child.birth_weight", "reason": "不一致"}],
    )
    request = submitted.supplement_requests.get()
    services.supplement_request_release(actor=health, request=request)
    services.supplement_answer(
        actor=applicant, request=request, values={"child.birth_weight": "3250"}
    )
    case = birth_case(submitted)
    assert case.pauses == [] and case.due_date == due


def test_the_sweep_marks_due_soon_then_overdue_then_escalates_once_each(submitted):
    case = birth_case(submitted)
    calendar = work_calendar()
    due = case.due_date
    before_due = due - timedelta(days=1)
    while not calendar.is_working_day(before_due):
        before_due -= timedelta(days=1)
    # Both stage-1 cases (health, CDC) promise the same days: both are due soon, once.
    assert services.deadline_sweep(actor="test", today=before_due)["due_soon"] == 2
    assert services.deadline_sweep(actor="test", today=before_due)["due_soon"] == 0
    assert birth_case(submitted).deadline_state == "due_soon"
    day_after = calendar.add_working_days(due, 1)
    assert services.deadline_sweep(actor="test", today=day_after)["overdue"] >= 1
    assert birth_case(submitted).deadline_state == "overdue"
    late = calendar.add_working_days(due, 3)
    assert services.deadline_sweep(actor="test", today=late)["escalated"] >= 1
    case = birth_case(submitted)
    assert case.deadline_state == "escalated" and case.escalated_at is not None
    actions = list(case.events.values_list("action", flat=True))
    assert actions.count("deadline_due_soon") == 1
    assert actions.count("deadline_overdue") == 1
    assert actions.count("deadline_escalated") == 1


def test_a_paused_or_finished_case_is_never_marked(submitted):
    health = reviewer("fj_health")
    case = services.case_accept(actor=health, case=birth_case(submitted))
    services.case_approve(
        actor=health, case=case, outputs={"child.birth_certificate_number": "Q350203456"}
    )
    far = date(2030, 1, 7)
    services.deadline_sweep(actor="test", today=far)
    assert birth_case(submitted).deadline_state == ""


def test_the_queue_shows_the_most_urgent_first_with_its_mark(client, submitted):
    health = reviewer("fj_health")
    case = birth_case(submitted)
    Case.objects.filter(pk=case.pk).update(deadline_state="overdue")
    client.force_login(health)
    page = client.get("/workbench/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'data-testid="due-{case.pk}"' in page
    assert 'data-deadline="overdue"' in page


def test_the_queue_sorts_by_attention_then_lateness_then_due_date(
    client, loaded_catalog, applicant
):
    """Six birth cases for the same department, each in another state; by due date alone
    they would sort almost the other way round."""
    states = ["attention", "escalated", "overdue", "due_soon", "on_time", "on_time_later"]
    due_in_days = {"attention": 9, "escalated": 8, "overdue": 7, "due_soon": 6}
    due_in_days |= {"on_time": 1, "on_time_later": 2}
    cases = {}
    for state in states:
        application = services.application_start(
            actor=applicant, thing_code="newborn", answers={"mother_insured": "yes"}
        )
        fill_and_attach(application, applicant)
        application = services.application_submit(
            actor=applicant, application=application, consent=True
        )
        case = birth_case(application)
        Case.objects.filter(pk=case.pk).update(
            deadline_state={"attention": "", "on_time_later": "on_time"}.get(state, state),
            needs_attention=state == "attention",
            due_date=timezone.localdate() + timedelta(days=due_in_days[state]),
        )
        cases[case.pk] = state
    client.force_login(reviewer("fj_health"))
    page = client.get("/workbench/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    positions = {state: page.index(f'data-case-id="{pk}"') for pk, state in cases.items()}
    assert sorted(positions, key=positions.get) == states
    assert 'data-deadline="due_soon"' in page and 'data-testid="needs-attention"' in page


def longest_chain_of_promised_days(thing_code: str, included: set[str]) -> int:
    """The plan's promised time worked out here from the catalog rows: the longest chain of
    promised working days along the members' `after` dependencies (a member starts when the
    last member it waits for has finished)."""
    members = ThingMember.objects.filter(thing__code=thing_code).select_related("service")
    days = {m.service.code: m.service.promised_days for m in members}
    after = {m.service.code: [a for a in m.after if a in included] for m in members}

    @cache
    def finished_on(code: str) -> int:
        return max((finished_on(a) for a in after[code]), default=0) + days[code]

    return max(finished_on(code) for code in included)


NEWBORN_DUE_DATES = [
    # submitted on, answers, the services that apply, their longest chain, due on
    pytest.param(
        date(2025, 9, 30),
        {"mother_insured": "no", "apply_social_security_card": "no"},
        {
            "birth_medical_certificate",  # 1 day
            "vaccination_certificate",  # 1 day
            "birth_hukou_registration",  # 1 day, after the birth certificate
            "newborn_medical_insurance",  # 0 days, after the household registration
        },
        2,
        date(2025, 10, 10),  # 1–8 October off: the 9th and 10th count
        id="national-day",
    ),
    pytest.param(
        date(2025, 11, 14),  # a Friday
        {"mother_insured": "yes", "apply_social_security_card": "no"},
        {
            "birth_medical_certificate",
            "vaccination_certificate",
            "birth_hukou_registration",
            "newborn_medical_insurance",
            "maternity_benefit",  # 4 days, after the birth certificate: 1 + 4
        },
        5,
        date(2025, 11, 21),  # the weekend does not count
        id="over-a-weekend",
    ),
    pytest.param(
        date(2026, 2, 13),  # the Friday before the Spring Festival
        {"mother_insured": "no", "apply_social_security_card": "yes"},
        {
            "birth_medical_certificate",
            "vaccination_certificate",
            "birth_hukou_registration",
            "newborn_medical_insurance",
            "newborn_social_security_card",  # 3 days, after the registration: 1 + 1 + 3
        },
        5,
        date(2026, 2, 27),  # Saturday the 14th is worked, the 15th to the 23rd are off
        id="spring-festival",
    ),
]


@pytest.mark.parametrize(
    ("submitted_on", "answers", "applying", "longest_chain", "due_on"), NEWBORN_DUE_DATES
)
def test_the_application_is_due_the_plans_longest_chain_of_working_days_after_submission(
    loaded_catalog, applicant, submitted_on, answers, applying, longest_chain, due_on
):
    # Worked out here, not by the planner: the longest chain, then the working days after it.
    assert longest_chain_of_promised_days("newborn", applying) == longest_chain
    assert WorkCalendar().add_working_days(submitted_on, longest_chain) == due_on

    morning = datetime.combine(submitted_on, time(9, 30), tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(morning, tick=False):
        draft = services.application_start(
            actor=applicant,
            thing_code="newborn",
            answers={**answers, "vaccination_certificate_issued": "no"},
        )
        fill_and_attach(draft, applicant)
        application = services.application_submit(actor=applicant, application=draft, consent=True)

    assert set(application.cases.values_list("service__code", flat=True)) == applying
    assert timezone.localdate(application.submitted_at) == submitted_on
    application.refresh_from_db()
    assert application.promised_days == longest_chain
    assert application.due_date == due_on
