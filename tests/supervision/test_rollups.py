"""The roll-ups stay equal to a direct recomputation, whatever happens in whatever order, and
the commands that rebuild and check them say so (or name the difference)."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onething.applications.lifecycle import CaseStatus
from onething.cli import main
from onething.core.errors import OneThingError
from onething.outbox.models import OutboxMessage
from onething.supervision import rollups
from onething.supervision.models import Rollup, RollupLedger, RollupState
from onething.supervision.tasks import REFRESH_TOPIC, refresh_rollups, rollups_schedule_refresh
from tests.supervision.conftest import (
    answer_supplement,
    approve,
    ask_supplement,
    at,
    rate,
    reject,
    submit,
    withdraw,
)

pytestmark = pytest.mark.django_db

ACTIONS = ("approve", "approve_by_rule", "reject", "supplement", "answer", "withdraw", "rate")
steps = st.lists(
    st.one_of(
        st.tuples(st.integers(0, 2), st.sampled_from(ACTIONS), st.integers(0, 4)),
        st.just((0, "refresh", 0)),
    ),
    min_size=1,
    max_size=14,
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
        rate(application, day, stars, departments={"fj_health": 6 - stars})


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps)
def test_after_any_sequence_of_events_the_rollups_equal_a_recomputation(loaded_catalog, plan):
    with transaction.atomic():
        day = date(2025, 9, 26)
        applications = [
            submit(day),
            submit(day, channel="window", region="350206"),
            submit(day, region="350102"),
        ]
        with at(day):
            rollups.refresh()
        for index, action, days in plan:
            day += timedelta(days=days)
            if action == "refresh":
                with at(day):
                    rollups.refresh()
                continue
            # Not allowed in this state: nothing happens, as for a user who tried.
            with contextlib.suppress(OneThingError):
                _act(applications[index], action, day, stars=days + 1)
        with at(day):
            rollups.refresh()
            assert rollups.differences() == []
            assert Rollup.objects.filter(metric="received", level="application").exists()
            # Refreshing again changes nothing.
            before = rollups.stored()
            rollups.refresh()
            assert rollups.stored() == before
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
