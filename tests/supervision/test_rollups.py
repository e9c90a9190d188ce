"""The roll-ups stay equal to a direct recomputation, whatever happens in whatever order, and
the commands that rebuild and check them say so (or name the difference).

The recomputation here is written from the definitions in supervision.metrics' docstring,
straight over the rows (never through metrics.contributions), so that a mistake in either
shows as a difference.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from onething.applications.lifecycle import CaseStatus
from onething.applications.models import Application, SupplementItem
from onething.catalog.selectors import work_calendar
from onething.cli import main
from onething.core.errors import OneThingError
from onething.outbox.models import OutboxMessage
from onething.ratings import selectors as rating_selectors
from onething.ratings.models import DepartmentRating, Rating
from onething.ratings.services import DepartmentStars, rating_submit
from onething.supervision import rollups
from onething.supervision.models import Rollup, RollupLedger, RollupState
from onething.supervision.tasks import REFRESH_TOPIC, refresh_rollups, rollups_schedule_refresh
from tests.supervision.conftest import (
    answer_supplement,
    approve,
    ask_supplement,
    at,
    reject,
    submit,
    withdraw,
)
from tests.supervision.test_reductions_measured import with_sharing

pytestmark = pytest.mark.django_db

# --- the direct recomputation ------------------------------------------------------------------

FINISHED = {"completed", "partly_completed", "rejected", "withdrawn"}
DECIDED = {"completed", "partly_completed", "rejected"}
CASE_OUTCOME = {"approved": "completed", "rejected": "rejected", "cancelled": "cancelled"}


def _day(moment):
    return timezone.localtime(moment).date() if moment else None


def _month(day: date) -> date:
    return day.replace(day=1)


def _working_days_after(start: date, end: date, region: str) -> int:
    """Working days after `start` up to and including `end`, one day at a time."""
    calendar = work_calendar()
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += calendar.is_working_day(day, region or None)
    return count


def recomputed_by_hand() -> dict[tuple, tuple[int, int]]:
    """Every roll-up row, (level, month, region, thing, department, service, channel, metric,
    bucket) -> (count, total), computed over the applications, cases, materials and ratings."""
    table: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])

    def add(key, count=1, total=0):
        table[key][0] += count
        table[key][1] += total

    noticed = set(
        SupplementItem.objects.filter(request__kind="notice").values_list("case_id", flat=True)
    )
    applications = Application.objects.filter(submitted_at__isnull=False).select_related(
        "region", "thing"
    )
    for app in applications:
        region, thing, channel = (
            (app.region.code if app.region else ""),
            app.thing.code,
            app.channel,
        )
        submitted, finished = _day(app.submitted_at), _day(app.finished_at)
        cases = list(app.cases.select_related("service", "department"))

        def a(month, metric, bucket=0, *, region=region, thing=thing, channel=channel):
            return ("application", month, region, thing, "", "", channel, metric, bucket)

        def c(case, month, metric, bucket=0, *, region=region, thing=thing, channel=channel):
            return (
                "case", month, region, thing, case.department.code, case.service.code, channel,
                metric, bucket,
            )  # fmt: skip

        add(a(_month(submitted), "received"))
        if app.status in FINISHED and finished:
            month = _month(finished)
            add(a(month, app.status))
            if app.status in DECIDED:
                days = _working_days_after(submitted, finished, region)
                if app.due_date:
                    add(a(month, "on_time"), 1, int(finished <= app.due_date))
                add(a(month, "handling_days", days), 1, days)
                add(a(month, "supplemented"), 1, int(any(k.pk in noticed for k in cases)))
                decided = [k for k in cases if k.status in ("approved", "rejected")]
                if decided:
                    add(
                        a(month, "instant"),
                        len(decided),
                        sum(bool(k.decided_by_rule) for k in decided),
                    )
            if app.status == "completed":
                snapshot = app.plan_snapshot
                asked = {f["key"] for f in snapshot["form"] if f["source"] != "result"}
                provisions = list(app.materials.values_list("provision", flat=True))
                together = {
                    "materials": sum(p in ("upload", "window", "promised") for p in provisions),
                    "fields": len(asked - set(app.prefilled)),
                    "days": _working_days_after(submitted, finished, region),
                    "trips": int(channel == "window"),
                }
                # Alone: the catalog's count for materials, fields and trips; for days, each
                # case's own working days from its ready day to its decision, added up.
                alone = {
                    name: snapshot["reductions"][name]["separately"]
                    for name in ("materials", "fields", "trips")
                }
                alone["days"] = sum(
                    _working_days_after(_day(k.ready_at) or submitted, _day(k.decided_at), region)
                    for k in cases
                )
                for name, figure in together.items():
                    add(a(month, f"{name}_separately"), 1, alone[name])
                    add(a(month, f"{name}_together"), 1, figure)
        for case in cases:
            add(c(case, _month(submitted), "received"))
            decided_on = _day(case.decided_at)
            if case.status not in CASE_OUTCOME or decided_on is None:
                continue
            month = _month(decided_on)
            add(c(case, month, CASE_OUTCOME[case.status]))
            if case.status == "cancelled":
                continue
            if case.due_date:
                add(c(case, month, "on_time"), 1, int(decided_on <= case.due_date))
            days = _working_days_after(_day(case.ready_at) or submitted, decided_on, region)
            add(c(case, month, "handling_days", days), 1, days)
            add(c(case, month, "supplemented"), 1, int(case.pk in noticed))
            add(c(case, month, "instant"), 1, int(bool(case.decided_by_rule)))
        departments = {k.department.code for k in cases}
        for rating in Rating.objects.filter(application=app):
            month = _month(_day(rating.created_at))
            add(a(month, "satisfaction", rating.stars), 1, rating.stars)
            for stars_given in DepartmentRating.objects.filter(rating=rating).select_related(
                "department"
            ):
                if stars_given.department.code in departments:
                    key = (
                        "case", month, region, thing, stars_given.department.code, "", channel,
                        "satisfaction", stars_given.stars,
                    )  # fmt: skip
                    add(key, 1, stars_given.stars)
    return {key: (n, t) for key, (n, t) in table.items() if (n, t) != (0, 0)}


# --- random sequences of events -----------------------------------------------------------------

# Approvals weigh more: an application needs three to complete, and a rating needs it finished.
ACTIONS = (
    *["approve"] * 4,
    "approve_by_rule",
    "reject",
    "supplement",
    "answer",
    "withdraw",
    *["rate", "rate_departments"] * 2,
)
step = st.tuples(
    # A refresh in between as well: the roll-ups must not depend on when they were refreshed.
    st.sampled_from((*ACTIONS, "refresh")),
    st.integers(0, 2),  # which application
    # Days since the step before: the same day, a few, or past a rating's edit window.
    st.sampled_from([0, 0, 1, 2, 3, 5, 9]),
    st.integers(1, 5),  # stars, for a rating
)
steps = st.lists(step, min_size=3, max_size=16)
START = date(2026, 11, 30)


def _reasons(stars: int) -> list[str]:
    return ["too_slow"] if stars <= 2 else ["efficient"] if stars >= 4 else []


def _rate(application, day: date, stars: int, *, departments: bool) -> None:
    """The applicant rates (or, within the edit window, re-rates) through the ratings service:
    overall, and with `departments` each department that decided a case, a star apart."""
    given = []
    if departments:
        for n, department in enumerate(rating_selectors.handling_departments(application)):
            department_stars = max(1, min(5, stars + (1 if n % 2 else -1)))
            given.append(
                DepartmentStars(department.code, department_stars, _reasons(department_stars))
            )
    with at(day):
        rating_submit(
            actor=application.applicant,
            application=application,
            stars=stars,
            reasons=_reasons(stars),
            departments=given,
        )


def _first_open(application, *statuses):
    return application.cases.filter(status__in=statuses).order_by("position").first()


def _act(application, action: str, day: date, stars: int) -> None:
    application.refresh_from_db()
    working = _first_open(application, CaseStatus.READY, CaseStatus.ACCEPTED)
    if action in ("approve", "approve_by_rule", "reject", "supplement") and working is None:
        return
    code = working.service.code if working else ""
    if action == "approve":
        approve(application, code, day)
    elif action == "approve_by_rule":
        approve(application, code, day, rule="test_rule")
    elif action == "reject":
        reject(application, code, day)
    elif action == "supplement":
        ask_supplement(application, code, day)
    elif action == "answer":
        if application.supplement_requests.filter(status="sent").exists():
            answer_supplement(application, day)
    elif action == "withdraw":
        withdraw(application, day)
    elif action == "rate":
        _rate(application, day, stars, departments=False)
    elif action == "rate_departments":
        _rate(application, day, stars, departments=True)


@pytest.fixture
def three_applications(resident_mother):
    """Submitted on Monday 30 November 2026, the roll-ups refreshed: one helped by sharing (her
    fields prefilled, three materials exempt) and completed the same day, so that it can be
    rated from the first step; one at the window in Huli and one in Fuzhou, open."""
    shared = with_sharing(resident_mother, START, sensitive=True, uploads=["father_id_card"])
    for case in shared.cases.order_by("position"):
        approve(shared, case.service.code, START)
    applications = [
        shared,
        submit(START, channel="window", region="350206"),
        submit(START, region="350102"),
    ]
    shared.refresh_from_db()
    assert shared.status == "completed" and len(shared.prefilled) == 9
    with at(START):
        rollups.refresh()
    return applications


# About half a second per example on the shared machine: 75 fit in about a minute.
@settings(
    max_examples=75,
    deadline=None,
    # Explaining a failure replays it a hundred times over: minutes here, for little.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps)
def test_after_any_sequence_of_events_the_rollups_equal_a_recomputation(three_applications, plan):
    with transaction.atomic():
        day = START
        for action, index, forward, stars in plan:
            day += timedelta(days=forward)
            if action == "refresh":
                with at(day):
                    rollups.refresh()
                continue
            # Not allowed in this state (rating an open application, changing a rating after
            # its window): nothing happens, as for a user who tried.
            with contextlib.suppress(OneThingError):
                _act(three_applications[index], action, day, stars)
        with at(day):
            rollups.refresh()
            stored = rollups.stored()
            assert stored == recomputed_by_hand()
            # What the sequences reached (shown with --hypothesis-show-statistics).
            for key in stored:
                if key.level == "application" and key.metric in (
                    "completed", "rejected", "withdrawn", "supplemented", "satisfaction",
                ):  # fmt: skip
                    event(f"rolled up: {key.metric}")
            if Rating.objects.filter(updated_at__gt=F("created_at")).exists():
                event("a rating changed within its window")
            if DepartmentRating.objects.exists():
                event("departments rated")
            # Refreshing again changes nothing; a full rebuild gives the same table.
            rollups.refresh()
            assert rollups.stored() == stored
            rollups.rebuild()
            assert rollups.stored() == stored
        transaction.set_rollback(True)


def test_a_refresh_finds_what_changed_since_the_last_and_only_that(loaded_catalog):
    application = submit(date(2025, 9, 30))
    with at(date(2025, 9, 30), 11):
        first = rollups.refresh()
    assert first.changed == 1
    approve(application, "birth_medical_certificate", date(2025, 10, 9))
    with at(date(2025, 10, 9), 11):
        second = rollups.refresh()
    assert (second.applications, second.changed) == (1, 1)
    completed = Rollup.objects.get(
        level="case", metric="completed", service="birth_medical_certificate"
    )
    assert (completed.month, completed.count) == (date(2025, 10, 1), 1)
    with at(date(2025, 10, 10), 11):
        third = rollups.refresh()
    assert (third.applications, third.changed) == (0, 0)
    assert rollups.differences() == []


def test_check_names_a_difference_and_rebuild_repairs_it(loaded_catalog, capsys):
    application = submit(date(2025, 9, 30))
    approve(application, "birth_medical_certificate", date(2025, 10, 9))
    assert main(["rollups", "refresh"]) == 0
    assert main(["rollups", "check"]) == 0
    Rollup.objects.filter(metric="received", level="application").update(count=7)
    assert main(["rollups", "check"]) == 1
    assert (
        "application|2025-09-01|350203|newborn|||web|received|0: stored (7, 0), recomputed (1, 0)"
        in (capsys.readouterr().err)
    )
    assert main(["rollups", "rebuild"]) == 0
    assert main(["rollups", "check"]) == 0
    assert RollupLedger.objects.count() == 1
    assert RollupState.objects.get().rebuilt_at is not None


def test_the_worker_refreshes_every_minute_and_books_the_next(loaded_catalog):
    submit(date(2025, 9, 30))
    rollups_schedule_refresh()
    rollups_schedule_refresh()
    assert OutboxMessage.objects.filter(topic=REFRESH_TOPIC).count() == 1
    refresh_rollups(OutboxMessage.objects.get(topic=REFRESH_TOPIC))
    assert Rollup.objects.filter(metric="received").exists()
    assert rollups.differences() == []
