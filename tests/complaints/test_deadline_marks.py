"""How near a unit is to its sign-for deadline (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from onething.complaints.deadlines import sign_status

DUE = dt.datetime(2026, 11, 27, 20, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DUE - dt.timedelta(hours=1), "on_time"),
        (DUE - dt.timedelta(minutes=31), "on_time"),
        (DUE - dt.timedelta(minutes=30), "due_soon"),
        (DUE, "due_soon"),
        (DUE + dt.timedelta(seconds=1), "overdue"),
    ],
)
def test_a_sign_for_turns_amber_in_its_last_half_hour_and_red_after(now, expected):
    assert sign_status(DUE, now) == expected
