"""Working days: the State Council schedule, overrides by region, due dates, pauses and status."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.core.regions import region_contains, region_prefix
from onething.core.workdays import (
    DayKind,
    DeadlineStatus,
    Override,
    RegionalWorkdays,
    WorkCalendar,
    WorkdayIndex,
    covered,
    deadline_mark,
)

CAL = WorkCalendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # Spring Festival 2025: 28 Jan – 4 Feb off; Sunday 26 Jan and Saturday 8 Feb worked.
        (date(2025, 1, 24), True),
        (date(2025, 1, 25), False),
        (date(2025, 1, 26), True),
        (date(2025, 1, 27), True),
        (date(2025, 1, 28), False),
        (date(2025, 2, 4), False),
        (date(2025, 2, 5), True),
        (date(2025, 2, 8), True),
        (date(2025, 2, 9), False),
        # National Day 2025: 1–8 Oct off; Sunday 28 Sep and Saturday 11 Oct worked.
        (date(2025, 9, 28), True),
        (date(2025, 9, 30), True),
        (date(2025, 10, 1), False),
        (date(2025, 10, 6), False),
        (date(2025, 10, 8), False),
        (date(2025, 10, 9), True),
        (date(2025, 10, 11), True),
        (date(2025, 10, 12), False),
        # Spring Festival 2026: 15–23 Feb off; Saturdays 14 and 28 Feb worked.
        (date(2026, 2, 13), True),
        (date(2026, 2, 14), True),
        (date(2026, 2, 15), False),
        (date(2026, 2, 16), False),
        (date(2026, 2, 23), False),
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),
        # National Day 2026: 1–7 Oct off; Sunday 20 Sep and Saturday 10 Oct worked.
        (date(2026, 9, 20), True),
        (date(2026, 10, 1), False),
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),
        (date(2026, 10, 11), False),
        # An ordinary week.
        (date(2026, 11, 27), True),
        (date(2026, 11, 28), False),
        (date(2026, 11, 29), False),
    ],
)
def test_the_state_council_schedule_decides_which_days_are_worked(day, working):
    assert CAL.is_working_day(day) is working


def test_the_package_covers_2004_to_2026_and_nothing_else():
    assert covered(2004)
    assert covered(2025)
    assert covered(2026)
    assert not covered(2003)
    assert not covered(2027)
    assert CAL.covered(2027) is False


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2027, 1, 1), True),  # statutory New Year's Day, but no schedule known without it
        (date(2027, 1, 2), False),
        (date(2027, 1, 4), True),
        (date(2003, 10, 1), True),
    ],
)
def test_an_uncovered_year_falls_back_to_monday_to_friday(day, working):
    assert CAL.is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2025, 9, 26), 1, date(2025, 9, 28)),  # Friday, then the working Sunday
        (date(2025, 9, 29), 2, date(2025, 10, 9)),  # 30 Sep, then after the holiday
        (date(2025, 9, 30), 1, date(2025, 10, 9)),
        (date(2025, 9, 30), 3, date(2025, 10, 11)),  # 9, 10 Oct and the working Saturday
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # the working Saturday counts
        (date(2026, 2, 13), 2, date(2026, 2, 24)),
        (date(2026, 2, 15), 1, date(2026, 2, 24)),  # accepted on a holiday: next working day
        (date(2026, 11, 27), 5, date(2026, 12, 4)),  # Friday + 5 = next Friday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # accepted on a Saturday
        (date(2026, 11, 27), 0, date(2026, 11, 27)),  # 即办: due the same day
        (date(2026, 12, 30), 2, date(2027, 1, 1)),  # into an uncovered year: Monday–Friday
    ],
)
def test_the_due_date_is_the_nth_working_day_after_acceptance(start, days, due):
    assert CAL.add_working_days(start, days) == due


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (date(2025, 9, 30), date(2025, 10, 8), 0),
        (date(2025, 9, 30), date(2025, 10, 9), 1),
        (date(2026, 2, 13), date(2026, 2, 28), 6),  # 14, 24, 25, 26, 27, 28
        (date(2026, 11, 27), date(2026, 11, 27), 0),
        (date(2026, 11, 27), date(2026, 11, 20), 0),
    ],
)
def test_working_days_between_counts_after_start_up_to_end(start, end, count):
    assert CAL.working_days_between(start, end) == count


def test_a_negative_number_of_days_is_refused():
    with pytest.raises(ValueError, match="days"):
        CAL.add_working_days(date(2026, 1, 5), -1)


# Pauses: accepted Monday 2 Nov 2026, 10 working days → Monday 16 Nov without pauses.
START = date(2026, 11, 2)


@pytest.mark.parametrize(
    ("pauses", "due"),
    [
        ([], date(2026, 11, 16)),
        # Waiting Wednesday to Friday: three working days stopped, counting resumes Monday.
        ([(date(2026, 11, 4), date(2026, 11, 6))], date(2026, 11, 19)),
        # Answered the same day: that one day is left out.
        ([(date(2026, 11, 4), date(2026, 11, 4))], date(2026, 11, 17)),
        # A pause over a weekend only stops nothing.
        ([(date(2026, 11, 7), date(2026, 11, 8))], date(2026, 11, 16)),
        # Two pauses, given in any order, and overlapping.
        (
            [(date(2026, 11, 10), date(2026, 11, 11)), (date(2026, 11, 4), date(2026, 11, 5))],
            date(2026, 11, 20),
        ),
        (
            [(date(2026, 11, 4), date(2026, 11, 5)), (date(2026, 11, 5), date(2026, 11, 6))],
            date(2026, 11, 19),
        ),
        # A pause over the 2026 National Day week counts only its working days.
        ([(date(2026, 9, 30), date(2026, 10, 9))], date(2026, 11, 16)),
    ],
)
def test_working_days_inside_a_pause_do_not_count(pauses, due):
    assert CAL.due_date(START, 10, pauses) == due


def test_a_pause_across_a_holiday_week_stops_only_its_working_days():
    # Accepted 28 Sep 2026 (Monday), 5 days: 29, 30 Sep, 8, 9, 10 Oct (a working Saturday).
    assert CAL.due_date(date(2026, 9, 28), 5, []) == date(2026, 10, 10)
    # Waiting 30 Sep – 8 Oct stops 30 Sep and 8 Oct: 29 Sep, 9, 10, 12, 13 Oct.
    paused = CAL.due_date(date(2026, 9, 28), 5, [(date(2026, 9, 30), date(2026, 10, 8))])
    assert paused == date(2026, 10, 13)


def test_an_open_pause_leaves_the_due_date_unknown():
    pauses = [(date(2026, 11, 4), date(2026, 11, 5)), (date(2026, 11, 9), None)]
    assert CAL.due_date(START, 10, pauses) is None


def test_a_pause_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="pause"):
        CAL.due_date(START, 10, [(date(2026, 11, 6), date(2026, 11, 4))])


DUE = date(2026, 12, 4)  # a Friday


@pytest.mark.parametrize(
    ("today", "warn_days", "status"),
    [
        (date(2026, 11, 27), 3, DeadlineStatus.ON_TIME),
        (date(2026, 11, 30), 3, DeadlineStatus.ON_TIME),  # 4 working days left
        (date(2026, 12, 1), 3, DeadlineStatus.DUE_SOON),  # Wed, Thu, Fri left
        (date(2026, 12, 4), 3, DeadlineStatus.DUE_SOON),
        (date(2026, 12, 4), 0, DeadlineStatus.DUE_SOON),  # the due day itself
        (date(2026, 12, 3), 0, DeadlineStatus.ON_TIME),
        (date(2026, 12, 5), 3, DeadlineStatus.OVERDUE),
        (date(2027, 1, 4), 0, DeadlineStatus.OVERDUE),
    ],
)
def test_status_on_a_day_before_at_and_after_the_due_date(today, warn_days, status):
    assert CAL.status_on(DUE, today, warn_days) == status


def test_due_soon_counts_working_days_not_calendar_days():
    # Due Friday 9 Oct 2026: on 30 Sep, nine calendar days before, two working days remain.
    assert CAL.status_on(date(2026, 10, 9), date(2026, 9, 30), 2) == "due_soon"
    assert CAL.status_on(date(2026, 10, 9), date(2026, 9, 29), 1) == "on_time"


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        ("350000", "35"),
        ("350200", "3502"),
        ("350203", "350203"),
        ("350203001", "350203001"),
        ("350203001000", "350203001"),
        ("350203001002", "350203001002"),
    ],
)
def test_a_region_code_is_read_down_to_its_significant_digits(code, prefix):
    assert region_prefix(code) == prefix


@pytest.mark.parametrize(
    ("outer", "inner", "inside"),
    [
        ("350000", "350000", True),
        ("350000", "350200", True),
        ("350000", "350203", True),
        ("350200", "350203", True),
        ("350200", "350203001", True),
        ("350203", "350203001", True),
        ("350200", "350100", False),
        ("350200", "350000", False),
        ("350203", "350206", False),
        ("350000", "360000", False),
        ("350000", "450000", False),
    ],
)
def test_a_region_contains_itself_and_its_sub_regions_only(outer, inner, inside):
    assert region_contains(outer, inner) is inside


WEDNESDAY = date(2026, 11, 25)
SATURDAY = date(2026, 11, 28)
NATIONAL_DAY = date(2026, 10, 1)

REGIONAL = WorkCalendar(
    [
        Override(WEDNESDAY, DayKind.HOLIDAY, "350000", "province off"),
        Override(WEDNESDAY, DayKind.WORKING, "350200", "city works"),
        Override(WEDNESDAY, DayKind.HOLIDAY, "350203", "county off"),
        Override(SATURDAY, DayKind.WORKING, None, "national make-up day"),
        Override(SATURDAY, DayKind.HOLIDAY, "350100", "city keeps its weekend"),
        Override(NATIONAL_DAY, DayKind.WORKING, "350206", "county works"),
    ]
)


@pytest.mark.parametrize(
    ("day", "region", "working"),
    [
        (WEDNESDAY, None, True),  # regional overrides do not apply nationally
        (WEDNESDAY, "360000", True),  # nor to another province
        (WEDNESDAY, "350000", False),
        (WEDNESDAY, "350100", False),  # a city inherits its province's override
        (WEDNESDAY, "350102", False),
        (WEDNESDAY, "350200", True),  # the city's own override beats the province's
        (WEDNESDAY, "350206", True),  # a county inherits its city's
        (WEDNESDAY, "350203", False),  # the county's own beats the city's
        (WEDNESDAY, "350203001", False),  # a street inherits its county's
        (SATURDAY, None, True),  # a national override beats the weekend
        (SATURDAY, "350200", True),
        (SATURDAY, "350100", False),  # a regional one beats the national one
        (SATURDAY, "350103", False),
        (NATIONAL_DAY, None, False),  # an override beats the State Council schedule
        (NATIONAL_DAY, "350206", True),
        (NATIONAL_DAY, "350203", False),
    ],
)
def test_the_most_specific_override_wins(day, region, working):
    assert REGIONAL.is_working_day(day, region) is working


def test_an_override_names_itself_when_it_decides_a_day():
    override = REGIONAL.override_for(WEDNESDAY, "350206")
    assert override is not None
    assert override.name == "city works"
    assert REGIONAL.override_for(WEDNESDAY, None) is None


def test_overrides_move_due_dates_in_their_region_only():
    # Accepted Tuesday 24 Nov, 1 day: Wednesday, except where Wednesday is off.
    assert REGIONAL.add_working_days(date(2026, 11, 24), 1) == WEDNESDAY
    assert REGIONAL.add_working_days(date(2026, 11, 24), 1, "350102") == date(2026, 11, 26)
    assert REGIONAL.working_days_between(date(2026, 11, 24), date(2026, 11, 30), "350203") == 4
    assert REGIONAL.working_days_between(date(2026, 11, 24), date(2026, 11, 30), "350206") == 5


def test_an_uncovered_year_becomes_exact_with_overrides():
    calendar = WorkCalendar([Override(date(2027, 1, 1), DayKind.HOLIDAY, None, "元旦")])
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_two_overrides_for_the_same_day_and_region_are_refused():
    with pytest.raises(ValueError, match="two overrides"):
        WorkCalendar(
            [
                Override(WEDNESDAY, DayKind.HOLIDAY, "350200"),
                Override(WEDNESDAY, DayKind.WORKING, "350200"),
            ]
        )


# Properties, over the covered years and the fallback on either side.
days_strategy = st.dates(min_value=date(2002, 1, 1), max_value=date(2028, 12, 31))
regions = st.sampled_from([None, "350000", "350100", "350102", "350200", "350203", "350206"])


@given(start=days_strategy, n=st.integers(min_value=1, max_value=60), region=regions)
def test_a_due_date_is_a_working_day_n_working_days_after_the_start(start, n, region):
    due = REGIONAL.add_working_days(start, n, region)
    assert REGIONAL.is_working_day(due, region)
    assert REGIONAL.working_days_between(start, due, region) == n
    assert REGIONAL.working_days_between(start, due - timedelta(days=1), region) == n - 1


@given(start=days_strategy, n=st.integers(min_value=0, max_value=60), region=regions)
def test_more_days_never_fall_due_earlier(start, n, region):
    assert REGIONAL.add_working_days(start, n, region) < REGIONAL.add_working_days(
        start, n + 1, region
    )


@given(
    start=days_strategy,
    n=st.integers(min_value=0, max_value=30),
    offset=st.integers(min_value=-5, max_value=40),
    length=st.integers(min_value=0, max_value=20),
)
def test_a_pause_never_brings_the_due_date_forward(start, n, offset, length):
    first = start + timedelta(days=offset)
    paused = CAL.due_date(start, n, [(first, first + timedelta(days=length))])
    assert paused is not None
    assert paused >= CAL.add_working_days(start, n)


@given(
    due=days_strategy,
    offset=st.integers(min_value=-30, max_value=60),
    warn=st.integers(min_value=0, max_value=10),
    region=regions,
)
def test_status_follows_the_working_days_left(due, offset, warn, region):
    today = due - timedelta(days=offset)
    status = REGIONAL.status_on(due, today, warn, region)
    if today > due:
        assert status == DeadlineStatus.OVERDUE
    elif REGIONAL.working_days_between(today, due, region) <= warn:
        assert status == DeadlineStatus.DUE_SOON
    else:
        assert status == DeadlineStatus.ON_TIME


@given(due=days_strategy, today=days_strategy, warn=st.integers(min_value=0, max_value=10))
def test_a_far_due_date_is_answered_quickly_and_overdue_exactly_after_it(due, today, warn):
    status = CAL.status_on(due, today, warn)
    assert (status == DeadlineStatus.OVERDUE) is (today > due)
    if status == DeadlineStatus.DUE_SOON:
        assert CAL.status_on(due, today, warn + 1) == DeadlineStatus.DUE_SOON


# Spring Festival 2025 as a span: 24 Jan (Fri, first) to 9 Feb (Sun, last).
FESTIVAL_INDEX = WorkdayIndex(CAL, date(2025, 1, 24), date(2025, 2, 9))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 1, 24), True),  # the span's first day
        (date(2025, 1, 25), False),
        (date(2025, 1, 26), True),  # a worked Sunday
        (date(2025, 1, 28), False),
        (date(2025, 2, 5), True),
        (date(2025, 2, 8), True),  # a worked Saturday
        (date(2025, 2, 9), False),  # the span's last day
        (date(2025, 1, 23), None),  # the day before the span (once read the span's last day)
        (date(2025, 1, 1), None),
        (date(2025, 2, 10), None),  # the day after the span
    ],
)
def test_the_workday_index_answers_inside_its_span_and_refuses_outside(day, working):
    if working is None:
        with pytest.raises(ValueError, match="outside the span"):
            FESTIVAL_INDEX.is_working(day)
    else:
        assert FESTIVAL_INDEX.is_working(day) is working
        assert CAL.is_working_day(day) is working


# Around the regional overrides, so that some questions fall inside the span and some across or
# outside it (answered by the calendar).
REGIONAL_DAYS = RegionalWorkdays(
    REGIONAL, WEDNESDAY - timedelta(days=40), SATURDAY + timedelta(days=40)
)
near_overrides = st.dates(
    min_value=WEDNESDAY - timedelta(days=90), max_value=SATURDAY + timedelta(days=90)
)


@given(
    start=near_overrides,
    offset=st.integers(min_value=-20, max_value=60),
    n=st.integers(min_value=0, max_value=30),
    warn=st.integers(min_value=0, max_value=5),
    region=regions,
)
def test_regional_workdays_answer_as_the_calendar_inside_and_outside_their_span(
    start, offset, n, warn, region
):
    end = start + timedelta(days=offset)
    assert REGIONAL_DAYS.between(start, end, region) == REGIONAL.working_days_between(
        start, end, region
    )
    assert REGIONAL_DAYS.add(start, n, region) == REGIONAL.add_working_days(start, n, region)
    assert REGIONAL_DAYS.status_on(end, start, warn, region) == REGIONAL.status_on(
        end, start, warn, region
    )


@pytest.mark.parametrize(
    ("status", "overdue_by", "escalate_days", "mark"),
    [
        (DeadlineStatus.ON_TIME, 0, 3, "on_time"),
        (DeadlineStatus.DUE_SOON, 0, 3, "due_soon"),
        (DeadlineStatus.OVERDUE, 0, 3, "overdue"),  # overdue since a non-working day
        (DeadlineStatus.OVERDUE, 2, 3, "overdue"),
        (DeadlineStatus.OVERDUE, 3, 3, "escalated"),  # the limit itself escalates
        (DeadlineStatus.OVERDUE, 40, 3, "escalated"),
        (DeadlineStatus.OVERDUE, 0, 0, "escalated"),
    ],
)
def test_a_case_is_escalated_once_overdue_by_the_limit_or_more(
    status, overdue_by, escalate_days, mark
):
    assert deadline_mark(status, overdue_by, escalate_days) == mark


@given(due=near_overrides, offset=st.integers(min_value=-20, max_value=60), region=regions)
def test_the_regional_mark_counts_overdue_working_days_as_the_calendar_does(due, offset, region):
    today = due + timedelta(days=offset)
    status = REGIONAL.status_on(due, today, 2, region)
    overdue_by = REGIONAL.working_days_between(due, today, region)
    expected = deadline_mark(status, overdue_by, 3)
    assert REGIONAL_DAYS.deadline_mark(due, today, region, warn_days=2, escalate_days=3) == (
        expected
    )
