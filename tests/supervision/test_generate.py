"""The synthetic history (`onething generate`): what a supervisor looking at the generated data
would find, checked against the platform's own rules (lifecycle, working-day calendar,
references, who may rate what)."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from onething.applications import lifecycle, reductions
from onething.applications.models import Application, Case, SupplementRequest
from onething.audit.models import AuditRecord
from onething.catalog.models import Region, Thing
from onething.catalog.selectors import work_calendar
from onething.cli import main
from onething.complaints import deadlines as ticket_deadlines
from onething.complaints.models import Ticket, TicketEvent
from onething.core.actors import SystemActor
from onething.core.references import ALPHABET
from onething.core.workdays import DayKind, Override, WorkCalendar, WorkdayIndex
from onething.ratings import rules
from onething.ratings.models import DepartmentRating, Rating, Rectification, RectificationEvent
from onething.supervision import generate, metrics, rollups, synthetic
from onething.supervision.generate import GenerateRefused, history_generate
from onething.supervision.models import Rollup, RollupLedger

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 27, 15, 30, tzinfo=TZ)
TODAY = NOW.date()
SWEEP = dt.timedelta(minutes=synthetic.SWEEP_MINUTES)
ACTOR = SystemActor("test")
FINISHED = {"completed", "partly_completed", "rejected"}


def _generate(applications: int, tickets: int, seed: int, **options):
    return history_generate(
        actor=ACTOR,
        applications=applications,
        tickets=tickets,
        seed=seed,
        now=NOW,
        batch_size=options.pop("batch_size", 250),
        **options,
    )


# Before the module's history exists (it is set up by the first test that asks for it).


@pytest.mark.django_db
def test_a_database_without_a_catalog_is_refused_with_a_clear_message(capsys):
    Thing.objects.all().delete()
    with translation.override("en"):
        assert main(["generate", "--applications", "5", "--tickets", "5"]) == 1
    error = capsys.readouterr().err
    assert "no catalog" in error
    assert "onething catalog load" in error
    with translation.override("zh-hans"):
        assert main(["generate", "--applications", "5", "--tickets", "5"]) == 1
    assert "没有事项目录" in capsys.readouterr().err
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_the_command_prints_rows_per_second_and_the_totals(capsys):
    assert main(["generate", "--applications", "30", "--tickets", "20", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"applications\s+30\n", printed)
    assert re.search(r"tickets\s+20\n", printed)
    assert re.search(r"rows in [\d.]+s \([\d,]+ rows/s\)", printed)
    # The history's own speed, before the roll-ups are rebuilt.
    written = re.search(r"written: (\d+) rows in [\d.]+s, [\d,]+ rows/s\n", printed)
    total = re.search(r"^([\d,]+) rows in", printed, re.MULTILINE)
    assert written and total
    assert int(written.group(1)) == int(total.group(1).replace(",", ""))
    assert printed.index(written.group(0)) < printed.index(total.group(0))
    assert Application.objects.count() == 30
    assert Ticket.objects.count() == 20


@pytest.mark.django_db
def test_wrong_counts_are_named_by_the_command(capsys):
    assert main(["generate", "--applications", "-1"]) == 2
    assert "--applications" in capsys.readouterr().err


def _snapshot():
    return (
        list(
            Application.objects.order_by("reference").values_list(
                "reference", "thing__code", "status", "channel", "submitted_at", "finished_at"
            )
        ),
        sorted(Case.objects.values_list("application__reference", "service__code", "status")),
        list(Ticket.objects.order_by("reference").values_list("reference", "status", "unit")),
        sorted(Rating.objects.values_list("subject_kind", "stars", "created_at")),
    )


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_history_and_another_seed_another():
    histories = []
    for seed in (5, 5, 6):
        with transaction.atomic():
            _generate(60, 40, seed=seed, batch_size=25)
            histories.append(_snapshot())
            transaction.set_rollback(True)
    assert len(histories[0][0]) == 60
    assert len(histories[0][2]) == 40
    assert histories[0] == histories[1]
    assert histories[0] != histories[2]


# One history for the tests below, rolled back at the end of the module.


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        report = _generate(700, 500, seed=11)
        yield report
        transaction.set_rollback(True)


@pytest.fixture
def cases_by_application(history, db):
    grouped = defaultdict(list)
    for case in Case.objects.select_related("service").prefetch_related("prerequisites"):
        grouped[case.application_id].append(case)
    return grouped


def test_the_counts_asked_for_are_written(history, db):
    assert Application.objects.count() == 700
    assert Ticket.objects.count() == 500
    assert history.rows["applications"] == 700
    assert history.rows["cases"] == Case.objects.count() > 700
    assert history.rows["ticket_events"] == TicketEvent.objects.count() >= 500


def test_the_roll_ups_are_rebuilt_from_the_history_and_the_rebuild_is_recorded(history, db):
    assert history.rollups == Rollup.objects.count() > 0
    assert rollups.differences() == []
    assert AuditRecord.objects.filter(action="rollups.rebuild", data__rows=history.rollups).exists()


def test_every_thing_region_channel_and_outcome_is_present(history, db):
    applications = Application.objects.all()
    assert set(applications.values_list("thing_id", flat=True)) == set(
        Thing.objects.values_list("pk", flat=True)
    )
    counties = set(Region.objects.filter(level="county").values_list("code", flat=True))
    assert set(applications.values_list("region__code", flat=True)) == counties
    assert set(Ticket.objects.values_list("region_code", flat=True)) == counties
    channels = Counter(applications.values_list("channel", flat=True))
    assert set(channels) == {"web", "window", "api", "federated"}
    assert channels["web"] > channels["window"] > channels["api"]
    assert set(Ticket.objects.values_list("channel", flat=True)) == {"phone", "web", "open311"}
    statuses = Counter(applications.values_list("status", flat=True))
    for status in FINISHED | {"withdrawn", "in_progress", "awaiting_supplement"}:
        assert statuses[status], f"no application is {status}: {statuses}"
    assert statuses["completed"] > statuses["rejected"]
    assert {"closed", "replied", "accepted"} <= set(Ticket.objects.values_list("status", flat=True))


def test_enterprise_things_are_applied_for_by_an_agent_of_the_enterprise(history, db):
    from onething.accounts.models import EnterpriseAgent

    for application in Application.objects.filter(thing__audience="enterprise"):
        assert application.enterprise_id is not None
        assert EnterpriseAgent.objects.filter(
            user=application.applicant_id, enterprise=application.enterprise_id
        ).exists()


def test_cases_agree_with_the_status_of_their_application(history, cases_by_application):
    for application in Application.objects.all():
        cases = cases_by_application[application.pk]
        statuses = [c.status for c in cases]
        assert cases, application.reference
        if application.status == "withdrawn":
            assert not set(statuses) & lifecycle.CASE_OPEN
            assert application.finished_at is not None
        elif application.status in FINISHED:
            outcome = lifecycle.application_outcome(statuses)
            expected = lifecycle.application_next("in_progress", outcome)
            assert application.status == expected
            assert application.finished_at == max(c.decided_at for c in cases)
        else:
            assert set(statuses) & lifecycle.CASE_OPEN, application.reference
            assert application.finished_at is None
        if application.status == "awaiting_supplement":
            assert "supplement" in statuses
        for case in cases:
            if case.status in ("cancelled", "rejected"):
                assert case.reason, f"{application.reference}/{case.service.code} has no reason"
            if case.status == "approved":
                assert all(p.status == "approved" for p in case.prerequisites.all())
                assert case.ready_at <= case.accepted_at <= case.decided_at <= NOW
            if case.status == "waiting":
                assert case.ready_at is None
                assert any(p.status in lifecycle.CASE_OPEN for p in case.prerequisites.all())
            if any(p.status in ("rejected", "cancelled") for p in case.prerequisites.all()):
                assert case.status == "cancelled"


def test_instant_approvals_are_decided_by_the_rule_of_rule_services(history, db):
    instant = Case.objects.exclude(decided_by_rule="").select_related("service")
    assert instant.exists()
    for case in instant:
        assert case.service.handler == "automatic"
        assert case.decided_by_rule == case.service.rule
        assert case.status == "approved"
        assert case.decided_at - case.ready_at < dt.timedelta(minutes=1)


def test_references_are_unique_and_in_the_platforms_format(history, db):
    letters = re.escape(ALPHABET)
    references = list(Application.objects.values_list("reference", "submitted_at"))
    assert len({r for r, _at in references}) == len(references)
    for reference, submitted_at in references:
        assert re.fullmatch(rf"OT\d{{8}}-[{letters}]{{6}}", reference)
        assert reference[2:10] == f"{submitted_at.astimezone(TZ):%Y%m%d}"
    tickets = list(Ticket.objects.values_list("reference", flat=True))
    assert len(set(tickets)) == len(tickets)
    assert all(re.fullmatch(rf"12345-\d{{8}}-[{letters}]{{6}}", r) for r in tickets)


def test_times_spread_over_two_years_with_weekday_peaks(history, db):
    submitted = [
        a.astimezone(TZ) for a in Application.objects.values_list("submitted_at", flat=True)
    ]
    assert min(submitted).date() >= TODAY - dt.timedelta(days=730)
    assert max(submitted) <= NOW
    assert max(submitted) - min(submitted) > dt.timedelta(days=650)
    weekdays = Counter(moment.weekday() for moment in submitted)
    assert weekdays[0] > weekdays[4] > weekdays[6]


def test_case_deadlines_are_counted_in_working_days(history, db):
    calendar = work_calendar()
    checked = 0
    for case in Case.objects.exclude(ready_at=None).select_related("department__region"):
        region = case.department.region.code
        pauses = [(dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for a, b in case.pauses]
        start = case.ready_at.astimezone(TZ).date()
        assert case.due_date == calendar.due_date(start, case.promised_days, pauses, region)
        checked += 1
    assert checked > 700
    for application in Application.objects.all():
        start = application.submitted_at.astimezone(TZ).date()
        assert application.due_date == calendar.add_working_days(start, application.promised_days)


def test_open_cases_carry_the_yellow_and_red_marks_of_their_deadline(history, db):
    calendar = work_calendar()
    marks = Counter()
    for case in Case.objects.filter(status__in=["ready", "accepted"]).select_related(
        "department__region"
    ):
        region = case.department.region.code
        state = str(calendar.status_on(case.due_date, TODAY, 2, region))
        if state == "overdue" and calendar.working_days_between(case.due_date, TODAY, region) >= 3:
            state = "escalated"
        assert case.deadline_state == ("" if state == "on_time" else state)
        marks[case.deadline_state] += 1
    assert marks["due_soon"] and (marks["overdue"] or marks["escalated"]), marks
    assert not Case.objects.exclude(status__in=["ready", "accepted"]).exclude(deadline_state="")


def test_supplements_stop_the_clock_and_are_asked_once_per_stage(history, db):
    requests = SupplementRequest.objects.prefetch_related("items__case")
    assert requests.filter(status="sent").exists()
    assert requests.filter(status="answered").exists()
    for request in requests:
        (item,) = request.items.all()
        assert item.case.stage == request.stage
        if request.status == "sent":
            assert item.case.status == "supplement"
            assert item.case.paused_since == request.sent_at.astimezone(TZ).date()
            assert request.application.status in ("awaiting_supplement", "withdrawn")
        else:
            assert request.answered_at > request.sent_at
        assert request.sent_at <= NOW
        assert item.case.status != "ready", "a case not taken up yet has asked for nothing"


def test_ticket_deadlines_follow_the_hotline_rules(history, db):
    calendar = work_calendar()
    for ticket in Ticket.objects.exclude(dispatched_at=None):
        dispatched = ticket.dispatched_at.astimezone(TZ).date()
        assert ticket.due_date == ticket_deadlines.resolve_due(
            calendar, dispatched, ticket.urgency, region=ticket.region_code
        )
        assert ticket.sign_due_at == ticket_deadlines.sign_due(ticket.dispatched_at, ticket.urgency)
        assert ticket.unit
        if ticket.status == "closed":
            assert ticket.dispatched_at < ticket.accepted_at < ticket.replied_at
            assert ticket.replied_at < ticket.callback_at < ticket.closed_at <= NOW
            assert ticket.callback_due == ticket_deadlines.callback_due(
                calendar, ticket.replied_at.astimezone(TZ).date(), ticket.region_code
            )


def test_ratings_are_only_of_finished_applications_and_closed_tickets(history, db):
    ratings = Rating.objects.select_related("application", "ticket")
    assert ratings.filter(subject_kind="application").exists()
    assert ratings.filter(subject_kind="ticket").exists()
    for rating in ratings:
        if rating.subject_kind == "application":
            assert rating.application.status in FINISHED
            assert rating.rater_id == rating.application.applicant_id
            assert rating.created_at > rating.application.finished_at
            handled = set(
                rating.application.cases.filter(status__in=["approved", "rejected"]).values_list(
                    "department_id", flat=True
                )
            )
            rated = set(
                DepartmentRating.objects.filter(rating=rating).values_list(
                    "department_id", flat=True
                )
            )
            assert rated == handled
        else:
            assert rating.ticket.status == "closed"
            assert rating.rater_id == rating.ticket.citizen_id
            assert rating.created_at > rating.ticket.closed_at
        assert rating.created_at <= NOW
        assert rating.editable_until == rules.editable_until(rating.created_at)
    assert set(ratings.values_list("stars", flat=True)) == {1, 2, 3, 4, 5}


def test_ratings_name_standard_reasons_that_go_with_their_stars(history, db):
    given = [
        (stars, reasons) for stars, reasons in Rating.objects.values_list("stars", "reasons")
    ] + [
        (stars, reasons)
        for stars, reasons in DepartmentRating.objects.values_list("stars", "reasons")
    ]
    for stars, reasons in given:
        assert rules.reason_problems(stars, reasons) == {}, (stars, reasons)
        assert len(set(reasons)) == len(reasons)
        if rules.is_bad(stars):
            assert reasons, "a bad rating says why"
    kinds = {(rules.is_bad(stars), rules.REASONS[code].kind) for stars, rs in given for code in rs}
    assert kinds == {(True, "bad"), (False, "bad"), (False, "good")}
    # Departments are rated on their own: not every one as the whole.
    pairs = DepartmentRating.objects.values_list("stars", "rating__stars")
    assert any(own != overall for own, overall in pairs)
    assert any(own == overall for own, overall in pairs)


def test_every_bad_rating_opens_the_rectifications_the_rules_ask_for(history, db):
    calendar = work_calendar()
    checked = Counter()
    for rating in Rating.objects.prefetch_related("departments", "rectifications"):
        rectifications = list(rating.rectifications.all())
        if rating.subject_kind == "application":
            stars = {d.department_id: d.stars for d in rating.departments.all()}
            targets = rules.rectification_targets(rating.stars, stars, sorted(stars))
            assert sorted(r.department_id for r in rectifications) == targets
            assert all(r.unit == "" for r in rectifications)
        else:
            targets = rules.rectification_targets(rating.stars, {}, [rating.ticket.unit])
            assert [r.unit for r in rectifications] == targets
            assert all(r.department_id is None for r in rectifications)
        rated_on = rating.created_at.astimezone(TZ).date()
        for rectification in rectifications:
            assert rectification.created_at == rating.created_at
            assert rectification.region_code == rating.region_code
            assert rectification.due_date == rules.rectification_due(
                calendar, rated_on, rating.region_code
            )
            checked[rating.subject_kind] += 1
    assert checked["application"] and checked["ticket"], checked
    # A department rated badly is named even when the whole was rated well.
    assert Rectification.objects.filter(rating__stars__gt=rules.BAD_AT_MOST).exists()


ACTIONS = {
    "answered": rules.RectificationAction.ANSWER,
    "settled": rules.RectificationAction.SETTLE,
    "settled_by_silence": rules.RectificationAction.SETTLE,
    "unsettled": rules.RectificationAction.REFUSE,
    "escalated": rules.RectificationAction.ESCALATE,
}


def test_rectifications_have_lived_by_the_rules_up_to_now(history, db):
    statuses = Counter()
    for rectification in Rectification.objects.select_related("rating").prefetch_related("events"):
        events = list(rectification.events.all())
        opened, *later = events
        assert (opened.action, opened.to_status) == ("opened", "open")
        assert opened.at == rectification.created_at
        assert opened.actor_id == rectification.rating.rater_id
        status = "open"
        for event in later:
            assert event.from_status == status
            status = rules.next_status(status, ACTIONS[event.action])
            assert event.to_status == status
            assert rectification.created_at < event.at <= NOW
        assert [e.at for e in events] == sorted(e.at for e in events)
        assert rectification.status == status
        by_action = {e.action: e for e in events}
        assert rectification.answered_at == getattr(by_action.get("answered"), "at", None)
        assert bool(rectification.answer) == ("answered" in by_action)
        assert rectification.escalated_at == getattr(by_action.get("escalated"), "at", None)
        settled = (
            by_action.get("settled")
            or by_action.get("unsettled")
            or by_action.get("settled_by_silence")
        )
        assert rectification.settled_at == getattr(settled, "at", None)
        # The sweep settles an answer left without a reply, as the platform's own would.
        if rectification.status == "answered":
            assert rules.settled_by_silence_at(rectification.answered_at) + SWEEP > NOW
        assert bool(rectification.applicant_note) == ("unsettled" in by_action)
        # The sweep: an answer still missing on the day after the due date is escalated then;
        # a refused answer is escalated at once, unless it was escalated before.
        due = rectification.due_date
        late = rectification.answered_at is None or (
            rectification.answered_at.astimezone(TZ).date() > due
        )
        if late and due < TODAY:
            assert rectification.escalation_reason == "overdue"
            assert rectification.escalated_at.astimezone(TZ).date() == due + dt.timedelta(days=1)
        elif "unsettled" in by_action:
            assert rectification.escalation_reason == "unsettled"
            assert rectification.escalated_at - rectification.settled_at < dt.timedelta(hours=1)
        else:
            assert rectification.escalated_at is None
        if rectification.status == "open":
            assert due >= TODAY
        if rectification.status == "unsettled":
            assert rectification.escalation_reason == "overdue"
        statuses[rectification.status] += 1
    assert {"settled", "escalated"} <= set(statuses), statuses
    assert RectificationEvent.objects.filter(action="escalated").exists()
    assert RectificationEvent.objects.filter(action="settled_by_silence").exists()


def test_a_database_with_more_applications_than_a_demo_needs_yes(history, db):
    with pytest.raises(GenerateRefused) as refused:
        _generate(1, 0, seed=1)
    assert "--yes" in refused.value.message
    assert "yes" in refused.value.fields
    with translation.override("zh-hans"), pytest.raises(GenerateRefused) as refused:
        _generate(1, 0, seed=1)
    assert "--yes" in refused.value.message
    assert re.search(r"[\u4e00-\u9fff]", refused.value.message)
    before = Application.objects.count()
    _generate(3, 0, seed=1, yes=True)
    assert Application.objects.count() == before + 3


# Pure parts


CALENDAR = WorkCalendar(
    [
        Override(dt.date(2026, 3, 2), DayKind.HOLIDAY, "350200", "a Xiamen holiday"),
        Override(dt.date(2026, 3, 7), DayKind.WORKING, None, "a working Saturday"),
    ]
)
SPAN = (dt.date(2025, 1, 1), dt.date(2027, 12, 31))
INDEXES = {region: WorkdayIndex(CALENDAR, *SPAN, region) for region in (None, "350203")}
days_in_span = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 6, 30))


@settings(max_examples=300, deadline=None)
@given(
    start=days_in_span,
    days=st.integers(0, 40),
    region=st.sampled_from([None, "350203"]),
    pause=st.one_of(st.none(), st.tuples(st.integers(1, 20), st.integers(0, 15))),
)
def test_the_workday_index_answers_as_the_calendar_does(start, days, region, pause):
    index = INDEXES[region]
    assert index.add(start, days) == CALENDAR.add_working_days(start, days, region)
    end = start + dt.timedelta(days=days)
    assert index.between(start, end) == CALENDAR.working_days_between(start, end, region)
    assert index.status_on(end, start, 2) == CALENDAR.status_on(end, start, 2, region)
    if pause is not None:
        first = start + dt.timedelta(days=pause[0])
        window = (first, first + dt.timedelta(days=pause[1]))
        assert index.due(start, days, window) == CALENDAR.due_date(start, days, [window], region)


def test_random_answer_sets_are_distinct_and_valid(db):
    import random

    from onething.catalog.planning import plan
    from onething.catalog.selectors import thing_bundle

    for code in Thing.objects.values_list("code", flat=True):
        bundle = thing_bundle(code)
        sets = generate.answer_sets(bundle.thing.questions, random.Random(1), 6)
        assert sets
        assert len({tuple(sorted(a.items())) for a in sets}) == len(sets)
        for answers in sets:
            plan(bundle, answers)


def _member(position, *, after=(), handler="workbench", rule="", days=5, stage=1):
    return synthetic.Member(
        service_id=position + 1,
        service_code=f"s{position}",
        service_name=f"服务{position}",
        department_id=1,
        department_region="350203",
        handler=handler,
        rule=rule,
        stage=stage,
        position=position,
        promised_days=days,
        after=after,
    )


# s0 → s1 → s2, s3 decided by a rule, s4 on its own.
SHAPE = synthetic.Shape(
    thing_id=1,
    audience="person",
    answers_json="{}",
    promised_days=15,
    consent_text="",
    members=(
        _member(0),
        _member(1, after=(0,), stage=2),
        _member(2, after=(1,), stage=3),
        _member(3, handler="automatic", rule="instant", days=1),
        _member(4, days=10),
    ),
    shared_materials=(),
    applicant_materials=(),
    material_codes=("id_card",),
)
TEXTS = synthetic.Texts(
    reject_reasons=("rejected",),
    supplement_reasons=("unreadable",),
    ticket_replies=("fixed",),
    cancelled_after_rejection="after %(service)s: %(reason)s",
    cancelled_after_cancellation="after a cancellation",
    withdrawn="withdrawn",
    rectification_answers=("changed",),
    unsettled_notes=("not settled",),
)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), days_ago=st.integers(0, 60), hour=st.integers(0, 23))
def test_no_case_is_decided_before_the_cases_it_depends_on(seed, days_ago, hour):
    history = _history(seed)
    submitted = min(NOW - dt.timedelta(days=days_ago, hours=hour), NOW)
    story = history.application(SHAPE, submitted)
    cases = story.cases
    for case in cases:
        before = [cases[p] for p in case.member.after]
        if case.ready_at is not None:
            assert all(p.status == "approved" and p.decided_at <= case.ready_at for p in before)
            assert case.due_date == CALENDAR.due_date(
                case.ready_at.date(),
                case.member.promised_days,
                [tuple(dt.date.fromisoformat(d) for d in pause) for pause in case.pauses],
                "350203",
            )
        if any(p.status in ("rejected", "cancelled") for p in before):
            assert case.status == "cancelled"
            assert case.reason
            rejected = [p for p in before if p.status == "rejected"]
            if rejected and story.status != "withdrawn":
                assert case.reason.startswith(f"after {rejected[0].member.service_name}")
        if case.decided_at is not None:
            assert case.decided_at <= NOW
        # Nothing after now: no supplement asked, no pause, no event.
        assert case.asked_at is None or case.asked_at <= NOW
        assert all(dt.date.fromisoformat(end) <= TODAY for _start, end in case.pauses)
        assert all(event[0] <= NOW for event in case.events)
        if case.rule:
            assert case.member.handler == "automatic"
    statuses = [c.status for c in cases]
    if story.status == "withdrawn":
        assert not set(statuses) & lifecycle.CASE_OPEN
    elif story.status in FINISHED:
        outcome = lifecycle.application_outcome(statuses)
        assert story.status == lifecycle.application_next("in_progress", outcome)
    else:
        assert set(statuses) & lifecycle.CASE_OPEN
    assert [e[0] for e in story.events] == sorted(e[0] for e in story.events)


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    days_ago=st.integers(3, 60),
    late=st.sampled_from([(10, 0, 0), (23, 59, 45), (23, 59, 59)]),
)
def test_cases_start_and_end_so_that_days_alone_are_measured_as_the_roll_ups_count_them(
    seed, days_ago, late
):
    """The roll-ups count each case's days from its ready day and the application's from its
    submission day (reductions.days_taken): a first case is released on the submission's own
    day (even a second before midnight), each later one when the last case it waits for is
    decided, and the application ends with its last decision. So a completed application
    never takes fewer days alone than as one thing, and exactly as many when its cases ran
    one after the other."""
    hour, minute, second = late
    day = TODAY - dt.timedelta(days=days_ago)
    submitted = dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=TZ)
    story = _history(seed).application(SHAPE, submitted)
    for case in story.cases:
        if case.ready_at is None:
            continue
        if not case.member.after:
            assert case.ready_at.date() == submitted.date()
        else:
            assert case.ready_at == max(story.cases[p].decided_at for p in case.member.after)
    if story.status != "completed":
        return
    assert story.finished_at == max(c.decided_at for c in story.cases)

    def count(start, end):
        return CALENDAR.working_days_between(start, end, "350203")

    def measured(cases):
        return reductions.days_taken(
            "completed",
            submitted.date(),
            max(c.decided_at for c in cases).date(),
            [(c.ready_at.date(), c.decided_at.date()) for c in cases],
            count,
        )

    alone, together = measured(story.cases)
    assert alone >= together
    # s0 → s1 → s2 alone: one after the other, as long as together.
    chain_alone, chain_together = measured(story.cases[:3])
    assert chain_alone == chain_together


def _history(seed: int) -> synthetic.History:
    return synthetic.History(
        rng=random.Random(seed),
        now=NOW,
        calendar=CALENDAR,
        regions=["350203"],
        texts=TEXTS,
        warn_days=2,
        escalate_days=3,
    )


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 10_000), hours_ago=st.integers(0, 24 * 90))
def test_a_rectification_moves_only_by_the_rules_and_is_open_only_until_its_due_date(
    seed, hours_ago
):
    rated_at = NOW - dt.timedelta(hours=hours_ago)
    story = _history(seed).rectification(7, rated_at, "350203")
    assert story.due_date == rules.rectification_due(CALENDAR, rated_at.date(), "350203")
    status = None
    for at, action, before, after, _note, _by_rater in story.events:
        assert before == (status or "")
        status = "open" if action == "opened" else rules.next_status(before, ACTIONS[action])
        assert after == status
        assert rated_at <= at <= NOW
    assert story.status == status
    if story.status == "open":
        assert story.due_date >= TODAY
    if rated_at.date() == TODAY:  # nobody answers on the day of the rating
        assert story.status == "open"


def test_old_rectifications_are_settled_refused_or_escalated_never_left_answered():
    history = _history(1)
    stories = [
        history.rectification(7, NOW - dt.timedelta(days=days, hours=3), "350203")
        for days in range(40, 440)
    ]
    statuses = Counter(story.status for story in stories)
    assert set(statuses) == {"settled", "unsettled", "escalated"}, statuses
    assert statuses["settled"] > statuses["escalated"] > statuses["unsettled"]
    by_silence = [s for s in stories if s.events[-1][1] == "settled_by_silence"]
    assert by_silence
    for story in by_silence:
        at, _action, before, after, _note, by_rater = story.events[-1]
        assert (before, after, by_rater) == ("answered", "settled", False)
        assert story.settled_at == at
        assert rules.settled_by_silence_at(story.answered_at) < at
        assert at <= rules.settled_by_silence_at(story.answered_at) + SWEEP


def test_an_answer_left_without_a_reply_stays_answered_until_the_sweep_after_the_silence():
    recent = Counter()
    for seed in range(300):
        rated_at = NOW - dt.timedelta(days=12, hours=seed % 48)
        story = _history(seed).rectification(7, rated_at, "350203")
        if story.status == "answered":
            recent["answered"] += 1
            assert rules.settled_by_silence_at(story.answered_at) + SWEEP > NOW
        elif story.events[-1][1] == "settled_by_silence":
            recent["settled_by_silence"] += 1
            assert story.settled_at <= NOW
    assert recent["answered"] and recent["settled_by_silence"], recent


@pytest.mark.parametrize(
    ("stars", "trouble", "kind"),
    [
        (1, synthetic.Trouble(late=True), "bad"),
        (2, synthetic.Trouble(), "bad"),
        (4, synthetic.Trouble(online=True), "good"),
        (5, synthetic.Trouble(asked=True), "good"),
    ],
)
def test_reasons_are_of_the_kind_the_stars_allow(stars, trouble, kind):
    history = _history(3)
    picked = [history.reasons(stars, trouble) for _i in range(200)]
    assert all(rules.REASONS[code].kind == kind for codes in picked for code in codes)
    assert all(codes for codes in picked) if kind == "bad" else any(not c for c in picked)
    most_named = Counter(code for codes in picked for code in codes).most_common(1)[0][0]
    # The reason that fits what went wrong (or went well) is named most.
    expected = {1: "too_slow", 5: "efficient"}.get(stars)
    if expected:
        assert most_named == expected


def test_the_quick_uuid_is_the_version_4_uuid_of_the_same_bits():
    import uuid

    for seed in range(200):
        expected = uuid.UUID(int=random.Random(seed).getrandbits(128), version=4)
        assert generate._uuid(random.Random(seed)) == expected.hex
        assert uuid.UUID(generate._uuid(random.Random(seed))).version == 4


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), low=st.integers(-50, 50), span=st.integers(0, 100))
def test_quick_random_draws_whole_numbers_within_their_range(seed, low, span):
    rng = synthetic.QuickRandom(seed)
    draws = [rng.randint(low, low + span) for _i in range(50)]
    assert all(low <= d <= low + span and type(d) is int for d in draws)
    if span:
        assert all(low <= rng.randrange(low, low + span) < low + span for _i in range(50))
        assert all(0 <= rng.randrange(span) < span for _i in range(50))
    items = list(range(low, low + span + 1))
    assert all(rng.choice(items) in items for _i in range(50))


def test_quick_random_reaches_every_value_evenly():
    rng = synthetic.QuickRandom(7)
    counts = Counter(rng.randint(1, 6) for _i in range(60_000))
    assert set(counts) == {1, 2, 3, 4, 5, 6}
    assert all(9_400 < count < 10_600 for count in counts.values()), counts
    with pytest.raises(IndexError):
        rng.choice([])


def test_the_history_sweeps_rectifications_as_often_as_the_platform_does():
    from onething.ratings import services

    assert synthetic.SWEEP_MINUTES * 60 == services.SWEEP_EVERY_SECONDS


def test_a_case_not_taken_up_by_now_has_asked_for_no_supplement():
    for seed in range(500):
        submitted = NOW - dt.timedelta(hours=1 + seed % 120)
        for case in _history(seed).application(SHAPE, submitted).cases:
            if case.status == "ready":
                assert case.asked_at is None and case.pauses == [], seed
                assert case.due_date == CALENDAR.add_working_days(
                    case.ready_at.date(), case.member.promised_days, "350203"
                )
            assert case.asked_at is None or case.asked_at <= NOW, seed


def _ledgers() -> list[tuple]:
    return sorted(RollupLedger.objects.values_list("subject_kind", "subject_id", "contributions"))


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the rebuild computes in worker processes only on PostgreSQL; SQLite rebuilds in one",
)
@pytest.mark.django_db(transaction=True)
def test_a_rebuild_in_two_processes_writes_what_one_process_writes(loaded_catalog):
    # Committed rows (a transactional test): the workers read them through their own connections.
    _generate(300, 200, seed=5)
    rollups.rebuild(now=NOW, batch=40, workers=1)
    in_one = (rollups.stored(), _ledgers())
    assert RollupLedger.objects.filter(subject_kind=rollups.TICKET_SUBJECT).count() == 200
    assert rollups._rebuild_workers(None) == 2  # outside a transaction: the parallel path
    rows = rollups.rebuild(now=NOW, batch=40, workers=2)
    assert (rollups.stored(), _ledgers()) == in_one
    assert rows == len(in_one[0])
    expected = metrics.merge(rollups.recompute(), rollups.recompute_tickets(now=NOW))
    assert rollups.stored() == {key: value for key, value in expected.items() if value != (0, 0)}


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the rebuild computes in worker processes only on PostgreSQL; SQLite rebuilds in one",
)
@pytest.mark.django_db(transaction=True)
def test_a_failing_rebuild_worker_fails_the_rebuild_and_leaves_the_rollups_as_they_were(
    loaded_catalog, monkeypatch
):
    _generate(60, 40, seed=6)
    before = (rollups.stored(), _ledgers())

    def broken(ids, now):
        raise ValueError("a broken ticket")

    monkeypatch.setattr(rollups, "_ticket_contributions_of", broken)  # inherited by the fork
    with pytest.raises(RuntimeError, match="a broken ticket"):
        rollups.rebuild(now=NOW, batch=20, workers=2)
    assert (rollups.stored(), _ledgers()) == before
