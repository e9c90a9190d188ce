"""A ticket's deadlines over holidays, table-driven, on the platform's one working-day calendar.

The 2026 schedule, as the State Council published it and chinese-calendar carries it:
National Day and Mid-autumn: 1–7 October off, Sunday 20 September and Saturday 10 October worked
(8 October is a working day again); Spring Festival: 15–23 February off, Saturday 14 February and
Saturday 28 February worked. A period does not count the day it starts.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from onething.complaints import deadlines, services
from onething.complaints.deadlines import Urgency
from onething.core.workdays import DayKind, Override, WorkCalendar
from tests.complaints.test_services import call

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar()
D = dt.date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 9, 20), True),  # Sunday worked for National Day
        (D(2026, 9, 30), True),
        (D(2026, 10, 1), False),
        (D(2026, 10, 7), False),
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),  # Saturday worked for National Day
        (D(2026, 10, 11), False),
        (D(2026, 2, 14), True),  # Saturday worked for Spring Festival
        (D(2026, 2, 15), False),
        (D(2026, 2, 23), False),
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),  # Saturday worked for Spring Festival
    ],
)
def test_the_2026_schedule_the_tables_rely_on(day, working):
    assert CALENDAR.is_working_day(day) is working


@pytest.mark.parametrize(
    ("dispatched_on", "urgency", "extension", "due"),
    [
        # Before National Day: the first working day counted is 8 October.
        (D(2026, 9, 30), Urgency.VERY_URGENT, 0, D(2026, 10, 8)),
        (D(2026, 9, 30), Urgency.URGENT, 0, D(2026, 10, 10)),  # 8, 9, Saturday 10
        (D(2026, 9, 30), Urgency.NORMAL, 0, D(2026, 10, 15)),  # 8, 9, 10, 12, 13, 14, 15
        (D(2026, 9, 29), Urgency.URGENT, 0, D(2026, 10, 9)),  # 30 September, 8, 9
        # Dispatched on a holiday: counting starts the same way.
        (D(2026, 10, 1), Urgency.NORMAL, 0, D(2026, 10, 15)),
        (D(2026, 10, 1), Urgency.VERY_URGENT, 0, D(2026, 10, 8)),
        # An approved extension of 5 working days: 16, 19, 20, 21, 22 October.
        (D(2026, 9, 30), Urgency.NORMAL, 5, D(2026, 10, 22)),
        # Before Spring Festival: Saturday 14 February is worked, then nothing until the 24th.
        (D(2026, 2, 13), Urgency.VERY_URGENT, 0, D(2026, 2, 14)),
        (D(2026, 2, 13), Urgency.URGENT, 0, D(2026, 2, 25)),  # 14, 24, 25
        (D(2026, 2, 13), Urgency.NORMAL, 0, D(2026, 3, 2)),  # 14, 24, 25, 26, 27, Sat 28, 2 March
        (D(2026, 2, 14), Urgency.URGENT, 0, D(2026, 2, 26)),  # dispatched on the worked Saturday
        # An ordinary week: a Friday's normal ticket is due the Tuesday week after.
        (D(2026, 11, 20), Urgency.NORMAL, 0, D(2026, 12, 1)),
    ],
)
def test_the_reply_is_due_in_working_days_by_urgency(dispatched_on, urgency, extension, due):
    assert deadlines.resolve_due(CALENDAR, dispatched_on, urgency, extension_days=extension) == due


def test_an_extension_cannot_be_negative():
    with pytest.raises(ValueError, match="negative"):
        deadlines.resolve_due(CALENDAR, D(2026, 9, 30), Urgency.NORMAL, extension_days=-1)


def test_a_regions_own_holiday_moves_only_its_tickets():
    # A Xiamen-only day off on 8 October (an override of the catalog's calendar).
    calendar = WorkCalendar([Override(D(2026, 10, 8), DayKind.HOLIDAY, "350200", "test")])
    siming = deadlines.resolve_due(calendar, D(2026, 9, 30), Urgency.URGENT, region="350203")
    gulou = deadlines.resolve_due(calendar, D(2026, 9, 30), Urgency.URGENT, region="350102")
    assert (siming, gulou) == (D(2026, 10, 12), D(2026, 10, 10))


@pytest.mark.parametrize(
    ("dispatched_at", "urgency", "sign_due"),
    [
        # Sign-for is counted in hours, day and night, holidays included.
        (
            dt.datetime(2026, 9, 30, 23, 0, tzinfo=SHANGHAI),
            Urgency.NORMAL,
            dt.datetime(2026, 10, 1, 1, 0, tzinfo=SHANGHAI),
        ),
        (
            dt.datetime(2026, 10, 3, 9, 40, tzinfo=SHANGHAI),
            Urgency.URGENT,
            dt.datetime(2026, 10, 3, 10, 40, tzinfo=SHANGHAI),
        ),
        (
            dt.datetime(2026, 2, 16, 23, 45, tzinfo=SHANGHAI),
            Urgency.VERY_URGENT,
            dt.datetime(2026, 2, 17, 0, 15, tzinfo=SHANGHAI),
        ),
    ],
)
def test_sign_for_is_due_within_hours(dispatched_at, urgency, sign_due):
    assert deadlines.sign_due(dispatched_at, urgency) == sign_due


@pytest.mark.parametrize(
    ("replied_on", "callback_due"),
    [
        (D(2026, 11, 27), D(2026, 11, 30)),  # Friday → Monday
        (D(2026, 11, 28), D(2026, 11, 30)),  # Saturday → Monday
        (D(2026, 11, 25), D(2026, 11, 26)),  # Wednesday → Thursday
        (D(2026, 9, 30), D(2026, 10, 8)),  # over National Day
        (D(2026, 10, 9), D(2026, 10, 10)),  # Friday → the worked Saturday
        (D(2026, 2, 14), D(2026, 2, 24)),  # over Spring Festival
    ],
)
def test_the_callback_is_due_within_one_working_day(replied_on, callback_due):
    assert deadlines.callback_due(CALENDAR, replied_on) == callback_due


@pytest.mark.parametrize(
    ("hours_after_dispatch", "open_"),
    [(0, True), (23.99, True), (24, True), (24.01, False), (72, False)],
)
def test_a_unit_may_return_a_ticket_within_a_day_of_dispatch(hours_after_dispatch, open_):
    dispatched = dt.datetime(2026, 9, 30, 17, 0, tzinfo=SHANGHAI)
    now = dispatched + dt.timedelta(hours=hours_after_dispatch)
    assert deadlines.return_window_open(dispatched, now) is open_


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (D(2026, 10, 12), "on_time"),
        (D(2026, 10, 13), "on_time"),
        (D(2026, 10, 14), "due_soon"),  # one working day left
        (D(2026, 10, 15), "due_soon"),
        (D(2026, 10, 16), "overdue"),
    ],
)
def test_the_reply_is_due_soon_a_working_day_before(today, status):
    assert deadlines.resolution_status(CALENDAR, D(2026, 10, 15), today) == status


@pytest.mark.django_db
def test_a_ticket_dispatched_before_national_day_is_due_after_it(hotline, monkeypatch):
    dispatched = dt.datetime(2026, 9, 30, 16, 30, tzinfo=SHANGHAI)
    monkeypatch.setattr(services, "_now", lambda: dispatched)
    ticket = call(hotline, urgency="urgent")
    assert ticket.due_date == D(2026, 10, 10)
    assert ticket.sign_due_at == dt.datetime(2026, 9, 30, 17, 30, tzinfo=SHANGHAI)
    holder = hotline["units"]["sm_zhonghua_police"]
    replied = dt.datetime(2026, 10, 9, 11, 0, tzinfo=SHANGHAI)
    monkeypatch.setattr(services, "_now", lambda: replied)
    services.ticket_accept(actor=holder, ticket=ticket)
    ticket = services.ticket_reply(actor=holder, ticket=ticket, reply="已约谈酒吧经营者")
    assert ticket.callback_due == D(2026, 10, 10)
