"""Deadlines of a ticket by urgency, counted on the platform's one working-day calendar.

Pure: no Django import. A unit signs for (签收) a ticket within hours of its dispatch (the clock
runs day and night: a burst pipe does not wait for Monday), resolves and replies within working
days, may return (退单) a ticket only within a window after it was dispatched, and the hotline
calls the citizen back (回访) within one working day of the reply.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from onething.core.workdays import DeadlineStatus, WorkCalendar


class Urgency(StrEnum):
    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急
    VERY_URGENT = "very_urgent"  # 特急: danger to life or property


@dataclass(frozen=True)
class Limits:
    sign_hours: float
    resolve_working_days: int


LIMITS: dict[Urgency, Limits] = {
    Urgency.VERY_URGENT: Limits(sign_hours=0.5, resolve_working_days=1),
    Urgency.URGENT: Limits(sign_hours=1, resolve_working_days=3),
    Urgency.NORMAL: Limits(sign_hours=2, resolve_working_days=7),
}
RETURN_WINDOW_HOURS = 24  # a unit that is not responsible says so within a day of dispatch
CALLBACK_WORKING_DAYS = 1  # Fuzhou: the callback within one working day of the reply
WARN_WORKING_DAYS = 1  # a unit hears that its ticket is due the working day before
MAX_EXTENSION_WORKING_DAYS = 30
# A unit's queue shows a sign-for deadline amber in its last half hour: time to pick it up.
SIGN_WARN = dt.timedelta(minutes=30)


def sign_due(dispatched_at: dt.datetime, urgency: str) -> dt.datetime:
    """When the unit must have signed for a ticket dispatched at `dispatched_at`."""
    return dispatched_at + dt.timedelta(hours=LIMITS[Urgency(urgency)].sign_hours)


def sign_status(sign_due_at: dt.datetime, now: dt.datetime) -> DeadlineStatus:
    """Whether a dispatched ticket is still within its sign-for hours, nearly out, or late."""
    if now > sign_due_at:
        return DeadlineStatus.OVERDUE
    if now >= sign_due_at - SIGN_WARN:
        return DeadlineStatus.DUE_SOON
    return DeadlineStatus.ON_TIME


def resolve_due(
    calendar: WorkCalendar,
    dispatched_on: dt.date,
    urgency: str,
    *,
    extension_days: int = 0,
    region: str | None = None,
) -> dt.date:
    """The day by which the unit replies: working days from dispatch, plus approved extensions."""
    if extension_days < 0:
        raise ValueError(f"an extension cannot be negative ({extension_days})")
    days = LIMITS[Urgency(urgency)].resolve_working_days + extension_days
    return calendar.add_working_days(dispatched_on, days, region)


def callback_due(calendar: WorkCalendar, replied_on: dt.date, region: str | None = None) -> dt.date:
    return calendar.add_working_days(replied_on, CALLBACK_WORKING_DAYS, region)


def return_window_open(dispatched_at: dt.datetime, now: dt.datetime) -> bool:
    return now <= dispatched_at + dt.timedelta(hours=RETURN_WINDOW_HOURS)


def resolution_status(
    calendar: WorkCalendar, due: dt.date, today: dt.date, region: str | None = None
) -> DeadlineStatus:
    return calendar.status_on(due, today, WARN_WORKING_DAYS, region)
