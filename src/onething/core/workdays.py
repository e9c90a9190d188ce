"""Working days (工作日) in China: which days count toward a service's time limit, and due dates.

Sources, strongest first:

1. Overrides (the catalog's `calendar:` records): a date declared working or a holiday, for the
   whole country (region None) or for one region and every region inside it. When several
   overrides name the same date, the most specific region wins (county over city over province
   over national).
2. The State Council's schedule of statutory holidays and adjusted working days (调休), as the
   `chinese-calendar` package carries it (one release per year; see `covered`).
3. Outside the years the package covers: Monday to Friday are working days. Callers should warn
   (`covered(year)` is False) — the schedule for such a year is not known yet.

Counting rule: time limits are in working days, statutory holidays excluded (行政许可法 第八十二条),
and the day a period starts is not counted (民法典 第二百零一条: 开始的当日不计入). So counting
starts with the first working day after the day of acceptance, and a promise of N working days
falls due on the N-th working day after it, whatever kind of day the acceptance fell on.
No Django import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import chinese_calendar

from onething.core.regions import region_contains, region_prefix

ONE_DAY = dt.timedelta(days=1)


class DayKind(StrEnum):
    WORKING = "working"
    HOLIDAY = "holiday"


class DeadlineStatus(StrEnum):
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Override:
    """One date declared working or a holiday, nationally (region None) or for a region."""

    day: dt.date
    kind: DayKind
    region: str | None = None
    name: str = ""


Pause = tuple[dt.date, dt.date | None]


@lru_cache(maxsize=256)
def covered(year: int) -> bool:
    """Whether the `chinese-calendar` package has the State Council's schedule for `year`."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def _statutory_working(day: dt.date) -> bool:
    if covered(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


class WorkCalendar:
    """Working days for the country and its regions: overrides over the State Council schedule,
    Monday–Friday where no schedule is known. Immutable once built."""

    def __init__(self, overrides: Iterable[Override] = ()) -> None:
        by_day: dict[dt.date, list[Override]] = {}
        seen: set[tuple[dt.date, str | None]] = set()
        for override in overrides:
            key = (override.day, override.region)
            if key in seen:
                where = override.region or "the whole country"
                raise ValueError(f"two overrides for {override.day} in {where}")
            seen.add(key)
            by_day.setdefault(override.day, []).append(override)
        # Most specific first, so the first that applies to a region is the one that wins.
        self._overrides = {
            day: sorted(items, key=lambda o: -len(region_prefix(o.region)) if o.region else 0)
            for day, items in by_day.items()
        }

    @staticmethod
    def covered(year: int) -> bool:
        """Whether the official schedule for `year` is known (else Monday–Friday is assumed)."""
        return covered(year)

    def override_for(self, day: dt.date, region: str | None = None) -> Override | None:
        """The override that decides `day` in `region` (None: national ones only), if any."""
        for override in self._overrides.get(day, ()):
            if override.region is None or (
                region is not None and region_contains(override.region, region)
            ):
                return override
        return None

    def is_working_day(self, day: dt.date, region: str | None = None) -> bool:
        """Whether `day` counts toward a time limit in `region` (None: national rules only)."""
        override = self.override_for(day, region)
        if override is not None:
            return override.kind == DayKind.WORKING
        return _statutory_working(day)

    def add_working_days(self, start: dt.date, days: int, region: str | None = None) -> dt.date:
        """The due date of a promise of `days` working days accepted on `start`.

        The day of acceptance is not counted: the due date is the `days`-th working day after
        `start`. Zero days (即办) is due on `start` itself.
        """
        return self._count_forward(start, days, [], region)

    def working_days_between(self, start: dt.date, end: dt.date, region: str | None = None) -> int:
        """The count of working days after `start` up to and including `end`; 0 if end <= start."""
        return self._count_between(start, end, region)

    def _count_between(
        self, start: dt.date, end: dt.date, region: str | None, stop_above: int | None = None
    ) -> int:
        count = 0
        day = start + ONE_DAY
        while day <= end and (stop_above is None or count <= stop_above):
            count += self.is_working_day(day, region)
            day += ONE_DAY
        return count

    def due_date(
        self,
        start: dt.date,
        days: int,
        pauses: Iterable[Pause] = (),
        region: str | None = None,
    ) -> dt.date | None:
        """The due date of `days` working days from `start` when the clock stops during pauses.

        A pause (first, answered) is the time spent waiting for the applicant (补正): every day
        from `first` to `answered`, both included, is left out, and counting resumes with the
        next working day after `answered` — the day the applicant answers is treated like a new
        day of acceptance. A pause with no end (still waiting) makes the due date unknown: None.
        """
        stops: list[tuple[dt.date, dt.date]] = []
        for first, answered in pauses:
            if answered is None:
                return None
            if answered < first:
                raise ValueError(f"a pause cannot end ({answered}) before it starts ({first})")
            stops.append((first, answered))
        return self._count_forward(start, days, stops, region)

    def _count_forward(
        self,
        start: dt.date,
        days: int,
        stops: list[tuple[dt.date, dt.date]],
        region: str | None,
    ) -> dt.date:
        if days < 0:
            raise ValueError(f"days must be 0 or more, not {days}")
        day, count = start, 0
        while count < days:
            day += ONE_DAY
            if any(first <= day <= answered for first, answered in stops):
                continue
            count += self.is_working_day(day, region)
        return day

    def status_on(
        self, due: dt.date, today: dt.date, warn_days: int, region: str | None = None
    ) -> DeadlineStatus:
        """Whether a case due on `due` is on time, due soon or overdue on `today`.

        Overdue once `today` is past `due`; due soon when at most `warn_days` working days lie
        after `today` up to and including `due` (so with 0, on the due day only).
        """
        if warn_days < 0:
            raise ValueError(f"warn_days must be 0 or more, not {warn_days}")
        if today > due:
            return DeadlineStatus.OVERDUE
        # Counting stops once past warn_days: the answer is known, and due may be years away.
        if self._count_between(today, due, region, stop_above=warn_days) <= warn_days:
            return DeadlineStatus.DUE_SOON
        return DeadlineStatus.ON_TIME


class WorkdayIndex:
    """The working days of one region over a fixed span, looked up instead of counted: the same
    answers as the WorkCalendar it is built from (tests compare them), at list-index speed."""

    def __init__(
        self, calendar: WorkCalendar, first: dt.date, last: dt.date, region: str | None = None
    ) -> None:
        self.calendar, self.region, self.first, self.last = calendar, region, first, last
        self.working: list[dt.date] = []
        self.upto: list[int] = []  # per day of the span: working days up to and including it
        day = first
        while day <= last:
            if calendar.is_working_day(day, region):
                self.working.append(day)
            self.upto.append(len(self.working))
            day += ONE_DAY

    def _at(self, day: dt.date) -> int:
        offset = (day - self.first).days
        if offset < 0 or day > self.last:
            raise ValueError(f"{day} is outside the span {self.first}–{self.last}")
        return self.upto[offset]

    def is_working(self, day: dt.date) -> bool:
        """Whether `day` is a working day (is_working_day); ValueError outside the span."""
        before = self._at(day - ONE_DAY) if day > self.first else 0
        return self._at(day) - before == 1

    def add(self, start: dt.date, days: int) -> dt.date:
        """The `days`-th working day after `start` (start itself for 0): add_working_days."""
        if days == 0:
            return start
        index = self._at(start) + days - 1
        if index >= len(self.working):
            return self.calendar.add_working_days(start, days, self.region)
        return self.working[index]

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (working_days_between)."""
        if end <= start:
            return 0
        return self._at(end) - self._at(start)

    def due(self, start: dt.date, days: int, pause: tuple[dt.date, dt.date] | None) -> dt.date:
        """WorkCalendar.due_date with at most one pause (first, answered), both days left out."""
        if pause is None:
            return self.add(start, days)
        first, answered = pause
        before = self.between(start, first - ONE_DAY)
        if before >= days:
            return self.add(start, days)
        return self.add(answered, days - before)

    def status_on(self, due: dt.date, today: dt.date, warn_days: int) -> DeadlineStatus:
        """WorkCalendar.status_on: overdue after `due`, due soon when at most `warn_days`
        working days lie after `today` up to and including `due`."""
        if today > due:
            return DeadlineStatus.OVERDUE
        if self.between(today, due) <= warn_days:
            return DeadlineStatus.DUE_SOON
        return DeadlineStatus.ON_TIME


ESCALATED = "escalated"


def deadline_mark(status: DeadlineStatus, working_days_overdue: int, escalate_days: int) -> str:
    """The deadline mark of an open case: on_time, due_soon, overdue, or escalated once it is
    overdue by `escalate_days` working days or more."""
    if status == DeadlineStatus.OVERDUE and working_days_overdue >= escalate_days:
        return ESCALATED
    return str(status)


class RegionalWorkdays:
    """The calendar's working days of every region over a fixed span, looked up: one
    WorkdayIndex per region, built when the region is first asked about. Outside the span
    the calendar counts day by day (same answers, slower)."""

    def __init__(self, calendar: WorkCalendar, first: dt.date, last: dt.date) -> None:
        self.calendar, self.first, self.last = calendar, first, last
        self._indexes: dict[str | None, WorkdayIndex] = {}

    def index(self, region: str | None) -> WorkdayIndex:
        """The region's WorkdayIndex over the span (None: national rules only)."""
        index = self._indexes.get(region)
        if index is None:
            index = self._indexes[region] = WorkdayIndex(
                self.calendar, self.first, self.last, region
            )
        return index

    def _spans(self, start: dt.date, end: dt.date) -> bool:
        return self.first <= start and end <= self.last

    def between(self, start: dt.date, end: dt.date, region: str | None) -> int:
        """Working days after `start` up to and including `end` (working_days_between)."""
        if end <= start:
            return 0
        if not self._spans(start, end):
            return self.calendar.working_days_between(start, end, region)
        return self.index(region).between(start, end)

    def add(self, start: dt.date, days: int, region: str | None) -> dt.date:
        """The `days`-th working day after `start` (add_working_days)."""
        if not self._spans(start, start):
            return self.calendar.add_working_days(start, days, region)
        return self.index(region).add(start, days)

    def status_on(
        self, due: dt.date, today: dt.date, warn_days: int, region: str | None
    ) -> DeadlineStatus:
        """WorkCalendar.status_on from the region's index."""
        if not self._spans(min(today, due), max(today, due)):
            return self.calendar.status_on(due, today, warn_days, region)
        return self.index(region).status_on(due, today, warn_days)

    def deadline_mark(
        self,
        due: dt.date,
        today: dt.date,
        region: str | None,
        *,
        warn_days: int,
        escalate_days: int,
    ) -> str:
        """The mark (deadline_mark) of a case due on `due`, on `today`, in `region`."""
        status = self.status_on(due, today, warn_days, region)
        return deadline_mark(status, self.between(due, today, region), escalate_days)
