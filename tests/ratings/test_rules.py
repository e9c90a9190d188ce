"""The rules of 好差评 as tables: reasons, window, who rectifies, by when, escalation."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.core.workdays import DayKind, Override, WorkCalendar
from onething.ratings import rules
from onething.ratings.rules import (
    EscalationReason,
    ReasonProblem,
    RectificationAction,
    RectificationStatus,
)

UTC = dt.UTC


def test_good_and_bad_reasons_are_separate_lists_with_both_languages():
    good = {r.code for r in rules.GOOD_REASONS}
    bad = {r.code for r in rules.BAD_REASONS}
    assert good and bad and not good & bad
    assert {"办事效率高", "服务态度好"} <= {r.zh for r in rules.GOOD_REASONS}
    assert {"材料要求多", "多次跑动", "办理时间长", "态度差", "程序复杂"} <= {
        r.zh for r in rules.BAD_REASONS
    }
    assert all(r.zh and r.en and r.zh != r.en for r in rules.REASONS.values())
    assert rules.REASONS["too_slow"].label("en") == "took too long"
    assert rules.REASONS["too_slow"].label("zh-hans") == "办理时间长"


@pytest.mark.parametrize(
    ("stars", "codes", "problems"),
    [
        (5, ["efficient", "friendly"], {}),
        (1, ["repeated_trips", "too_slow"], {}),
        (3, ["efficient", "too_slow"], {}),
        (5, ["too_slow"], {"too_slow": ReasonProblem.BAD_WITH_GOOD_STARS}),
        (4, ["complicated"], {"complicated": ReasonProblem.BAD_WITH_GOOD_STARS}),
        (2, ["friendly"], {"friendly": ReasonProblem.GOOD_WITH_BAD_STARS}),
        (1, ["fast_food"], {"fast_food": ReasonProblem.UNKNOWN}),
        (3, [], {}),
    ],
)
def test_reasons_must_exist_and_go_with_the_stars(stars, codes, problems):
    assert rules.reason_problems(stars, codes) == problems


@pytest.mark.parametrize(
    ("stars", "good", "bad"),
    [(1, False, True), (2, False, True), (3, True, True), (4, True, False)],
)
def test_the_reasons_offered_follow_the_stars(stars, good, bad):
    kinds = {r.kind for r in rules.reasons_for(stars)}
    assert (rules.ReasonKind.GOOD in kinds) == good
    assert (rules.ReasonKind.BAD in kinds) == bad


@given(st.integers(1, 5), st.lists(st.sampled_from(sorted(rules.REASONS)), max_size=6))
def test_every_reason_offered_for_the_stars_is_accepted_with_them(stars, codes):
    offered = {r.code for r in rules.reasons_for(stars)}
    assert set(rules.reason_problems(stars, codes)) == set(codes) - offered


@pytest.mark.parametrize(
    ("value", "valid"),
    [(1, True), (5, True), (0, False), (6, False), (True, False), ("3", False), (2.0, False)],
)
def test_stars_are_a_whole_number_from_one_to_five(value, valid):
    assert rules.stars_valid(value) is valid


@pytest.mark.parametrize(("stars", "bad"), [(1, True), (2, True), (3, False), (5, False)])
def test_one_or_two_stars_is_a_bad_rating(stars, bad):
    assert rules.is_bad(stars) is bad


@pytest.mark.parametrize(
    ("now", "editable"),
    [
        (dt.datetime(2026, 3, 2, 9, tzinfo=UTC), True),
        (dt.datetime(2026, 3, 9, 8, 59, tzinfo=UTC), True),
        (dt.datetime(2026, 3, 9, 9, tzinfo=UTC), False),
        (dt.datetime(2026, 4, 1, tzinfo=UTC), False),
    ],
)
def test_a_rating_can_be_changed_for_seven_days(now, editable):
    until = rules.editable_until(dt.datetime(2026, 3, 2, 9, tzinfo=UTC))
    assert until == dt.datetime(2026, 3, 9, 9, tzinfo=UTC)
    assert rules.is_editable(until, now) is editable


HANDLING = ["fj_health", "fj_cdc", "fj_public_security"]


@pytest.mark.parametrize(
    ("overall", "departments", "handling", "targets"),
    [
        (1, {"fj_cdc": 2}, HANDLING, ["fj_cdc"]),
        (1, {"fj_cdc": 1, "fj_health": 2}, HANDLING, ["fj_health", "fj_cdc"]),
        (1, {}, HANDLING, HANDLING),
        (2, {"fj_cdc": 4, "fj_health": 3}, HANDLING, HANDLING),
        (5, {"fj_cdc": 1}, HANDLING, ["fj_cdc"]),
        (3, {"fj_cdc": 3}, HANDLING, []),
        (5, {}, HANDLING, []),
        # A hotline ticket: the responsible unit is the only one handling it.
        (1, {}, ["sm_zhonghua_police"], ["sm_zhonghua_police"]),
        (4, {}, ["sm_zhonghua_police"], []),
    ],
)
def test_who_must_rectify_a_bad_rating(overall, departments, handling, targets):
    assert rules.rectification_targets(overall, departments, handling) == targets


@given(
    st.integers(1, 5),
    st.dictionaries(st.sampled_from(HANDLING), st.integers(1, 5)),
)
def test_a_department_rectifies_only_when_its_own_or_the_overall_stars_are_bad(overall, stars):
    targets = rules.rectification_targets(overall, stars, HANDLING)
    assert set(targets) <= set(HANDLING)
    for code in targets:
        assert rules.is_bad(stars.get(code, 5)) or rules.is_bad(overall)
    if any(rules.is_bad(s) for s in stars.values()):
        assert set(targets) == {c for c, s in stars.items() if rules.is_bad(s)}


@pytest.mark.parametrize(
    ("rated_on", "overrides", "due"),
    [
        # Monday 2 March 2026: five working days later is the next Monday.
        (dt.date(2026, 3, 2), [], dt.date(2026, 3, 9)),
        # Rated on a Saturday: counting starts on Monday.
        (dt.date(2026, 3, 7), [], dt.date(2026, 3, 13)),
        # Labour Day 2026 (1–5 May) is a holiday; Saturday 9 May is an adjusted working day.
        (dt.date(2026, 4, 30), [], dt.date(2026, 5, 11)),
        # A regional holiday declared by the catalogue pushes it a day.
        (
            dt.date(2026, 3, 2),
            [Override(dt.date(2026, 3, 4), DayKind.HOLIDAY, "350200")],
            dt.date(2026, 3, 10),
        ),
    ],
)
def test_the_answer_is_due_five_working_days_after_the_rating(rated_on, overrides, due):
    calendar = WorkCalendar(overrides)
    assert rules.rectification_due(calendar, rated_on, "350203") == due


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [
        ("open", RectificationAction.ANSWER, "answered"),
        ("escalated", RectificationAction.ANSWER, "answered"),
        ("answered", RectificationAction.SETTLE, "settled"),
        ("answered", RectificationAction.REFUSE, "unsettled"),
        ("open", RectificationAction.ESCALATE, "escalated"),
        ("unsettled", RectificationAction.ESCALATE, "escalated"),
        ("open", RectificationAction.SETTLE, None),
        ("answered", RectificationAction.ANSWER, None),
        ("settled", RectificationAction.REFUSE, None),
        ("settled", RectificationAction.ESCALATE, None),
        ("escalated", RectificationAction.ESCALATE, None),
        ("escalated", RectificationAction.SEND_BACK, "open"),
        ("unsettled", RectificationAction.SEND_BACK, "open"),
        ("escalated", RectificationAction.CLOSE, "closed"),
        ("unsettled", RectificationAction.CLOSE, "closed"),
        ("open", RectificationAction.SEND_BACK, None),
        ("answered", RectificationAction.CLOSE, None),
        ("closed", RectificationAction.ANSWER, None),
        ("closed", RectificationAction.SEND_BACK, None),
        ("closed", RectificationAction.ESCALATE, None),
    ],
)
def test_a_rectification_moves_only_as_the_table_allows(status, action, after):
    if after is None:
        with pytest.raises(rules.TransitionNotAllowed):
            rules.next_status(status, action)
    else:
        assert rules.next_status(status, action) == RectificationStatus(after)


DUE = dt.date(2026, 3, 9)


@pytest.mark.parametrize(
    ("status", "today", "escalated", "reason"),
    [
        ("open", dt.date(2026, 3, 9), False, None),
        ("open", dt.date(2026, 3, 10), False, EscalationReason.OVERDUE),
        ("open", dt.date(2026, 3, 10), True, None),
        ("unsettled", dt.date(2026, 3, 1), False, EscalationReason.UNSETTLED),
        ("unsettled", dt.date(2026, 3, 1), True, None),
        ("answered", dt.date(2026, 4, 1), False, None),
        ("settled", dt.date(2026, 4, 1), False, None),
    ],
)
def test_late_or_unsettled_rectifications_escalate_once(status, today, escalated, reason):
    assert rules.escalation_due(status, DUE, today, escalated) == reason


@pytest.mark.parametrize(
    ("status", "today", "watched", "reason"),
    [
        # Sent back after an escalation: late again, it escalates again ...
        ("open", dt.date(2026, 3, 10), True, EscalationReason.OVERDUE),
        ("open", dt.date(2026, 3, 9), True, None),
        # ... but a "not settled" reaches its supervisors as it happens, not through the sweep.
        ("unsettled", dt.date(2026, 3, 1), True, None),
    ],
)
def test_a_sent_back_rectification_escalates_again_only_when_late(status, today, watched, reason):
    assert rules.escalation_due(status, DUE, today, False, watched) == reason


ANSWERED_AT = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("status", "now", "settled"),
    [
        ("answered", ANSWERED_AT + dt.timedelta(days=7) - dt.timedelta(seconds=1), False),
        ("answered", ANSWERED_AT + dt.timedelta(days=7), True),
        ("answered", ANSWERED_AT + dt.timedelta(days=30), True),
        ("unsettled", ANSWERED_AT + dt.timedelta(days=30), False),
        ("escalated", ANSWERED_AT + dt.timedelta(days=30), False),
        ("settled", ANSWERED_AT + dt.timedelta(days=30), False),
    ],
)
def test_an_answer_left_without_reply_for_seven_days_counts_as_settled(status, now, settled):
    assert rules.settled_by_silence(status, ANSWERED_AT, now) is settled


@given(st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=60)))
def test_silence_settles_exactly_from_the_end_of_the_window(waited):
    now = ANSWERED_AT + waited
    assert rules.settled_by_silence("answered", ANSWERED_AT, now) is (
        waited >= rules.SETTLE_SILENCE
    )
    assert rules.settled_by_silence("answered", None, now) is False


def test_a_supervisor_acts_on_an_escalated_or_unsettled_one_and_on_no_other():
    assert {"escalated", "unsettled"} == rules.SUPERVISOR_ACTS_ON
    for status in rules.SUPERVISOR_ACTS_ON:
        assert rules.next_status(status, rules.RectificationAction.CLOSE) == "closed"
