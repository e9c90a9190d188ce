"""The rules of the one-time notice and of promised materials (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.applications.supplements import (
    RaisedItem,
    StageCase,
    merge_items,
    notice_due,
    promise_date_problem,
    promise_overdue,
)

NOON = datetime(2026, 11, 27, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("reviewed", "hold_left", "due"),
    [
        ([True, True, True], timedelta(hours=5), True),
        ([True, False, True], timedelta(hours=5), False),
        ([True, False, True], timedelta(0), True),  # the hold ran out
        ([False], -timedelta(minutes=1), True),
        ([], timedelta(hours=1), True),
    ],
)
def test_a_notice_waits_for_every_case_of_its_stage_or_its_hold(reviewed, hold_left, due):
    stage = [StageCase(str(i), r) for i, r in enumerate(reviewed)]
    assert notice_due(stage, hold_until=NOON + hold_left, now=NOON) is due


items = st.lists(
    st.builds(
        RaisedItem,
        case=st.sampled_from(["a", "b", "c"]),
        kind=st.sampled_from(["field", "material"]),
        target=st.sampled_from(["x", "y", "z"]),
        reason=st.text(min_size=1, max_size=5),
    ),
    max_size=20,
)


@given(items)
def test_the_applicant_answers_each_field_or_material_once_and_no_request_is_lost(raised):
    merged = merge_items(raised)
    assert len({(m.kind, m.target) for m in merged}) == len(merged)
    assert sum(len(m.asked_by) for m in merged) == len(raised)


@pytest.mark.parametrize(
    ("due", "resolved", "today", "overdue"),
    [
        (date(2026, 12, 1), False, date(2026, 12, 1), False),  # the last day still counts
        (date(2026, 12, 1), False, date(2026, 12, 2), True),
        (date(2026, 12, 1), True, date(2026, 12, 9), False),
        (None, False, date(2026, 12, 9), False),
    ],
)
def test_a_promise_blocks_approval_only_once_its_date_has_passed(due, resolved, today, overdue):
    assert promise_overdue(due, resolved=resolved, today=today) is overdue


@pytest.mark.parametrize(
    ("promised", "problem"),
    [
        (None, "required"),
        (date(2026, 11, 27), "not_future"),
        (date(2026, 11, 28), None),
        (date(2026, 12, 27), None),
        (date(2026, 12, 28), "too_late"),
    ],
)
def test_a_promised_date_is_after_today_and_within_the_limit(promised, problem):
    today = date(2026, 11, 27)
    assert promise_date_problem(promised, today=today, latest=date(2026, 12, 27)) == problem
