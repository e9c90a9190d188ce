"""The four reductions of one application, counted once for the applicant's pages and the
supervision roll-ups."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.applications import reductions
from onething.core.workdays import WorkCalendar


@pytest.mark.parametrize(
    ("provisions", "provided"),
    [
        ({}, 0),
        ({"upload": 2, "window": 1, "promised": 1}, 4),
        ({"upload": 1, "sharing": 3, "certificate": 1, "result": 2}, 1),
    ],
)
def test_only_materials_the_applicant_brought_or_sent_count_as_provided(provisions, provided):
    assert reductions.materials_provided(provisions) == provided


def test_a_field_filled_from_the_records_is_not_typed_and_one_never_asked_does_not_count():
    asked = ["applicant.name", "child.name", "child.birth_date"]
    assert reductions.fields_typed(asked, {}) == 3
    assert reductions.fields_typed(asked, {"child.birth_date": {}}) == 2
    assert reductions.fields_typed(asked, {"child.birth_date": {}, "mother.name": {}}) == 2


def test_a_field_an_earlier_case_produces_is_not_asked_in_the_snapshot():
    form = [{"key": "a", "source": "applicant"}, {"key": "b", "source": "result"}, {"key": "c"}]
    assert reductions.asked_in_snapshot(form) == ["a", "c"]


def test_only_the_window_costs_a_trip():
    assert [reductions.trips_made(c) for c in ("window", "web", "api", "federated")] == [1, 0, 0, 0]


def test_saved_is_never_negative_and_its_percent_is_of_the_separate_figure():
    out = reductions.figures(
        {"materials": 8, "fields": 0, "days": 10, "trips": 3},
        {"materials": 5, "fields": 2, "days": 12, "trips": 1},
    )
    assert out["materials"] == {"separately": 8, "together": 5, "saved": 3, "percent": 38}
    assert out["fields"] == {"separately": 0, "together": 2, "saved": 0, "percent": 0}
    assert out["days"]["saved"] == 0
    assert out["trips"] == {"separately": 3, "together": 1, "saved": 2, "percent": 67}


# --- working days: each service alone against the application as one thing ---------------------
# The State Council's schedule (chinese-calendar): National Day 2025 is 1–8 October off, Sunday
# 28 September and Saturday 11 October worked; the Spring Festival 2026 is 15–23 February off,
# Saturday 14 and Saturday 28 February worked. The day a period starts is not counted.

CALENDAR = WorkCalendar()
D = dt.date


def count(start: dt.date, end: dt.date) -> int:
    return CALENDAR.working_days_between(start, end, "350203")


@pytest.mark.parametrize(
    ("submitted", "finished", "cases", "alone", "together"),
    [
        # One after the other across National Day: the birth case the same day (0), the hukou
        # from 30 Sep to Thu 9 Oct (1: only 9 Oct). The application: 30 Sep → 9 Oct, 1.
        (D(2025, 9, 30), D(2025, 10, 9), [(D(2025, 9, 30), D(2025, 9, 30)),
                                          (D(2025, 9, 30), D(2025, 10, 9))], 1, 1),
        # Side by side: A from Fri 26 Sep to Mon 29 Sep (Sun 28 worked, Mon 29: 2); B from 26 Sep
        # to Tue 30 Sep (28, 29, 30: 3); C after A, 29 Sep to Sat 11 Oct (30 Sep, 9, 10, 11 Oct:
        # 4). Alone 2 + 3 + 4 = 9; as one thing 26 Sep → 11 Oct: 28, 29, 30 Sep, 9, 10, 11 Oct, 6.
        (D(2025, 9, 26), D(2025, 10, 11), [(D(2025, 9, 26), D(2025, 9, 29)),
                                           (D(2025, 9, 26), D(2025, 9, 30)),
                                           (D(2025, 9, 29), D(2025, 10, 11))], 9, 6),
        # Across the Spring Festival, side by side: A Fri 13 → Sat 14 Feb (worked): 1; B 13 →
        # Tue 24 Feb: 14 and 24 Feb, 2. Alone 1 + 2 = 3; as one thing 13 → 24 Feb: 2.
        (D(2026, 2, 13), D(2026, 2, 24), [(D(2026, 2, 13), D(2026, 2, 14)),
                                          (D(2026, 2, 13), D(2026, 2, 24))], 3, 2),
        # A case whose ready day was not recorded counts from the submission: Mon 2 → Mon 9
        # March, 5 (3–6 and 9 March).
        (D(2026, 3, 2), D(2026, 3, 9), [(None, D(2026, 3, 9))], 5, 5),
    ],
)  # fmt: skip
def test_days_alone_add_up_each_cases_own_days_by_the_rule_of_the_application(
    submitted, finished, cases, alone, together
):
    assert reductions.days_taken("completed", submitted, finished, cases, count) == (
        alone,
        together,
    )


@pytest.mark.parametrize(
    ("status", "finished", "cases"),
    [
        # Not every service approved: neither side is measured, so nothing is "saved" by it.
        ("rejected", D(2025, 10, 9), [(D(2025, 9, 30), D(2025, 10, 9))]),
        ("partly_completed", D(2025, 10, 9), [(D(2025, 9, 30), D(2025, 10, 9)), (None, None)]),
        ("withdrawn", D(2025, 10, 9), [(D(2025, 9, 30), None)]),
        # Still pending: no end yet.
        ("in_progress", None, [(D(2025, 9, 30), None)]),
        ("submitted", None, []),
        # A completed application with a case whose decision is not on record, or none at all:
        # a gap in the record is not measured as 0.
        ("completed", D(2025, 10, 9), [(D(2025, 9, 30), D(2025, 10, 9)), (D(2025, 9, 30), None)]),
        ("completed", D(2025, 10, 9), []),
    ],
)
def test_days_are_measured_only_for_applications_whose_every_service_was_approved(
    status, finished, cases
):
    assert reductions.days_taken(status, D(2025, 9, 30), finished, cases, count) is None


# A stage: the calendar days each of its cases takes; all start when the stage before has ended.
stages = st.lists(st.lists(st.integers(0, 20), min_size=1, max_size=3), min_size=1, max_size=4)


def _played(submitted: dt.date, plan: list[list[int]]) -> tuple[list, dt.date]:
    cases, start = [], submitted
    for stage in plan:
        cases += [(start, start + dt.timedelta(days=length)) for length in stage]
        start = max(decided for _ready, decided in cases[-len(stage) :])
    return cases, start


@given(
    submitted=st.dates(min_value=D(2025, 1, 1), max_value=D(2026, 12, 1)),
    plan=stages,
)
def test_alone_never_takes_fewer_days_and_one_after_the_other_takes_the_same(submitted, plan):
    cases, finished = _played(submitted, plan)
    alone, together = reductions.days_taken("completed", submitted, finished, cases, count)
    assert alone >= together
    if all(len(stage) == 1 for stage in plan):
        assert alone == together
