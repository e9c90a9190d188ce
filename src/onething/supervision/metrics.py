"""What one application adds to the supervision roll-ups: its contributions, from plain facts.

Pure: no Django. The roll-up table holds, for every key, a `count` and a `total`; a subject (an
application with its cases and ratings) contributes a mapping key → (count, total), and the
table is the sum of every subject's contributions. Rates are total / count of one key family.

A key is (level, month, region, thing, department, service, channel, metric, bucket):

- level: "application" (the whole application; department and service are "") or "case" (one
  member case: its department and service; for department ratings service is "").
- month: the first day of the calendar month, local date (Asia/Shanghai), of the moment named
  by the metric below.
- region: the application's county code ("" when unknown); thing: the thing's code; channel:
  web, window, api or federated.
- bucket: 0, except for handling_days (the number of working days) and satisfaction (stars).

Metrics, at the application level (A) and the case level (C):

- received (A, C): submitted in the month; count 1, total 0.
- completed / partly_completed / rejected / withdrawn (A): finished in the month with that
  outcome; completed / rejected / cancelled (C): approved, rejected or cancelled in the month
  (the moment of the decision or cancellation); count 1, total 0.
- on_time (A, C): decided (A: completed, partly completed or rejected; C: approved or rejected)
  in the month and having a due date; count 1, total 1 when decided on or before the due date.
- handling_days (A, C): decided in the month; bucket = working days after the day of
  submission (C: the day the case became ready) up to and including the day of the decision,
  counted by the platform's working-day calendar in the application's region (the same rule
  as deadlines: the first day is not counted); count 1, total = bucket. Median and 90th
  percentile are read from this histogram exactly.
- supplemented (A, C): decided in the month; count 1, total 1 when a supplement notice asked
  the applicant for anything (A: for any case; C: for this case). Promised materials (容缺) are
  not supplements.
- instant (A, C): decided cases in the month (A: the month the application was decided, every
  decided case of it); count = decided cases, total = those decided by an automatic rule (秒批).
- reductions (A): applications completed (every case approved) in the month; count 1 each, and
  total = the figure, for materials / fields / days / trips, separately and together:
  `<name>_separately` for materials, fields and trips is the plan's claim at submission
  (what the catalog asks of each member service handled alone: catalog.planning
  Reductions.separately); `days_separately` is measured: the sum of each member case's own
  handling days (the case-level handling_days above, ready to decided). `<name>_together` is
  what really happened: materials the applicant really provided (uploaded, seen at the window,
  promised — not those obtained by sharing, e-certificates or earlier results), fields really
  typed (the fields the form asked, less those prefilled by sharing), the application's
  handling days (as handling_days above), and trips (1 for the window channel, 0 online or
  through the API; answers to supplements are online and add none) — counted by
  applications.reductions, as the applicant's pages count them. Days count only where they
  are measured (reductions.days_taken), so their `count` may be below the others'.
- satisfaction (A: the overall stars of an application's ratings; C: the stars a rating gives
  the case's department, service ""): rated in the month; bucket = stars; count 1, total = stars.

Hotline tickets (12345) are subjects too, at the level "ticket": region = the ticket's district
code (`region_code`, as complaints.selectors.hotline_rates groups it); thing and service "";
department = the unit holding or last holding the ticket ("" while none does; the dashboard
scopes a department supervisor by the units of their departments in the dispatch catalogue);
channel = the ticket's (phone, web, open311). Month = the month the ticket was taken in, except
for satisfaction (the month it was rated). Each metric is one of the hotline's rates
(complaints.rates.compute_rates) as total / count, so that sums over keys give the same figures:

- received: count 1, total 0 (the tickets).
- signed_on_time (按时签收率): with a sign-for deadline, count 1 once signed for or past the
  deadline (`now` later than it); total 1 when signed for by it.
- closed_on_time (按时办结率): with a due day, count 1 once replied or past it (today later than
  it); total 1 when replied (local date) by it.
- resolved / satisfied (解决率 / 满意率): count 1 when the callback reached the citizen; total 1
  when they said resolved / satisfied.
- returned (退单率 by district): count 1 when the ticket reached a unit (one holds it or one
  returned it); total 1 when some unit returned it. Keyed at the holding unit.
- unit_returned (退单率 by unit): count 1 at each unit that returned it (total 1 each, a unit
  returning it twice counts twice) and at the holding unit (total 0).
- satisfaction: a rating of the ticket (好差评), rated in the month; bucket = stars; count 1,
  total = stars. Apart from the callback's satisfied rate.

Two of these depend on the clock (a deadline passes without a sign-for or a reply): the
contributions are reckoned at a given `now`, and the refresh looks again at tickets whose
deadline passed since it last ran.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import NamedTuple

from onething.applications import reductions
from onething.complaints import rates

APPLICATION = "application"
CASE = "case"
TICKET = "ticket"

APPLICATION_OUTCOMES = ("completed", "partly_completed", "rejected", "withdrawn")
APPLICATION_DECIDED = ("completed", "partly_completed", "rejected")
CASE_OUTCOMES = {"approved": "completed", "rejected": "rejected", "cancelled": "cancelled"}
CASE_DECIDED = ("approved", "rejected")
# What each reduction counts is defined once, in applications.reductions.
REDUCTIONS = reductions.NAMES

METRICS = (
    "received",
    *APPLICATION_OUTCOMES,
    "cancelled",
    "on_time",
    "handling_days",
    "supplemented",
    "instant",
    *(f"{name}_{how}" for name in REDUCTIONS for how in ("separately", "together")),
    "satisfaction",
)
TICKET_METRICS = (
    "received",
    "signed_on_time",
    "closed_on_time",
    "resolved",
    "satisfied",
    "returned",
    "unit_returned",
    "satisfaction",
)


class Key(NamedTuple):
    level: str
    month: dt.date
    region: str
    thing: str
    department: str
    service: str
    channel: str
    metric: str
    bucket: int


Contributions = dict[Key, tuple[int, int]]
# (start, end, region) -> working days after start up to and including end.
WorkingDays = Callable[[dt.date, dt.date, str | None], int]


@dataclass(frozen=True)
class RatingFacts:
    stars: int
    rated_on: dt.date
    # department code -> stars given to that department
    departments: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseFacts:
    service: str
    department: str
    status: str
    ready_on: dt.date | None = None
    decided_on: dt.date | None = None
    due_date: dt.date | None = None
    decided_by_rule: bool = False
    supplemented: bool = False


@dataclass(frozen=True)
class ApplicationFacts:
    """What the roll-ups need of one application, as plain values (dates are local dates)."""

    region: str
    thing: str
    channel: str
    status: str
    submitted_on: dt.date | None
    finished_on: dt.date | None = None
    due_date: dt.date | None = None
    cases: tuple[CaseFacts, ...] = ()
    # the plan's claim at submission for materials, fields and trips (reductions.FROM_THE_CATALOG):
    # name -> figure for each member handled alone (days alone are measured from the cases)
    separately: Mapping[str, int] = field(default_factory=dict)
    materials_provided: int = 0
    fields_typed: int = 0
    ratings: tuple[RatingFacts, ...] = ()


def month_of(day: dt.date) -> dt.date:
    """The month `day` falls in, as its first day (how every month is named here)."""
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    """The first day of the month after the one `month` falls in."""
    return (month_of(month) + dt.timedelta(days=32)).replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    """The first day of the month before the one `month` falls in."""
    return (month_of(month) - dt.timedelta(days=1)).replace(day=1)


def last_ended_month(today: dt.date) -> dt.date:
    """The latest month that has ended on `today`: the one before today's."""
    return previous_month(today)


def _add(into: Contributions, key: Key, count: int, total: int) -> None:
    before = into.get(key, (0, 0))
    into[key] = (before[0] + count, before[1] + total)


def contributions(facts: ApplicationFacts, working_days: WorkingDays) -> Contributions:
    """Every (count, total) the application adds to the roll-ups, by key (see the module doc)."""
    out: Contributions = {}
    if facts.submitted_on is None:
        return out  # a draft is nobody's figure yet
    region = facts.region

    def count_days(start: dt.date, end: dt.date) -> int:
        return working_days(start, end, region or None)

    def app_key(month: dt.date, metric: str, bucket: int = 0) -> Key:
        return Key(APPLICATION, month, region, facts.thing, "", "", facts.channel, metric, bucket)

    def case_key(case: CaseFacts, month: dt.date, metric: str, bucket: int = 0) -> Key:
        return Key(
            CASE, month, region, facts.thing, case.department, case.service, facts.channel,
            metric, bucket,
        )  # fmt: skip

    received = month_of(facts.submitted_on)
    _add(out, app_key(received, "received"), 1, 0)

    if facts.status in APPLICATION_OUTCOMES and facts.finished_on is not None:
        finished = month_of(facts.finished_on)
        _add(out, app_key(finished, facts.status), 1, 0)
        if facts.status in APPLICATION_DECIDED:
            if facts.due_date is not None:
                _add(out, app_key(finished, "on_time"), 1, int(facts.finished_on <= facts.due_date))
            days = count_days(facts.submitted_on, facts.finished_on)
            _add(out, app_key(finished, "handling_days", days), 1, days)
            supplemented = any(c.supplemented for c in facts.cases)
            _add(out, app_key(finished, "supplemented"), 1, int(supplemented))
            decided = [c for c in facts.cases if c.status in CASE_DECIDED]
            if decided:
                instant = sum(1 for c in decided if c.decided_by_rule)
                _add(out, app_key(finished, "instant"), len(decided), instant)
        if facts.status == reductions.MEASURED_OUTCOME:
            claimed = reductions.FROM_THE_CATALOG
            separately = {name: facts.separately.get(name, 0) for name in claimed}
            together = {
                "materials": facts.materials_provided,
                "fields": facts.fields_typed,
                "trips": reductions.trips_made(facts.channel),
            }
            measured = reductions.days_taken(
                facts.status,
                facts.submitted_on,
                facts.finished_on,
                ((c.ready_on, c.decided_on) for c in facts.cases),
                count_days,
            )
            if measured is not None:
                separately["days"], together["days"] = measured
            for name in REDUCTIONS:
                if name in together:
                    _add(out, app_key(finished, f"{name}_separately"), 1, separately[name])
                    _add(out, app_key(finished, f"{name}_together"), 1, together[name])

    for case in facts.cases:
        _add(out, case_key(case, received, "received"), 1, 0)
        if case.status not in CASE_OUTCOMES or case.decided_on is None:
            continue
        decided = month_of(case.decided_on)
        _add(out, case_key(case, decided, CASE_OUTCOMES[case.status]), 1, 0)
        if case.status not in CASE_DECIDED:
            continue
        if case.due_date is not None:
            _add(out, case_key(case, decided, "on_time"), 1, int(case.decided_on <= case.due_date))
        days = reductions.case_days(case.ready_on, case.decided_on, facts.submitted_on, count_days)
        _add(out, case_key(case, decided, "handling_days", days), 1, days)
        _add(out, case_key(case, decided, "supplemented"), 1, int(case.supplemented))
        _add(out, case_key(case, decided, "instant"), 1, int(case.decided_by_rule))

    departments_served = {c.department for c in facts.cases}
    for rating in facts.ratings:
        rated = month_of(rating.rated_on)
        _add(out, app_key(rated, "satisfaction", rating.stars), 1, rating.stars)
        for department, stars in rating.departments.items():
            if department not in departments_served:
                continue
            key = Key(
                CASE, rated, region, facts.thing, department, "", facts.channel,
                "satisfaction", stars,
            )  # fmt: skip
            _add(out, key, 1, stars)
    return out


@dataclass(frozen=True)
class TicketFacts:
    """What the roll-ups need of one hotline ticket: what the hotline's rates judge it by, and
    when (local date) and how it came in, with its ratings."""

    ticket: rates.TicketFacts
    channel: str
    received_on: dt.date
    ratings: tuple[RatingFacts, ...] = ()


# The rates a ticket's judgement counts in, each its own metric.
JUDGED = ("signed_on_time", "closed_on_time", "resolved", "satisfied", "returned")


def ticket_contributions(facts: TicketFacts, now: dt.datetime) -> Contributions:
    """Every (count, total) the ticket adds to the roll-ups as of `now` (local, aware), by key
    (see the module doc: the hotline's own judgement, complaints.rates.judge)."""
    out: Contributions = {}
    ticket = facts.ticket
    received = month_of(facts.received_on)

    def key(metric: str, unit: str = ticket.unit, month: dt.date = received, bucket: int = 0):
        return Key(TICKET, month, ticket.region_code, "", unit, "", facts.channel, metric, bucket)

    _add(out, key("received"), 1, 0)
    judgement = rates.judge(ticket, now)
    for metric in JUDGED:
        part = getattr(judgement, metric)
        if part is not None:
            _add(out, key(metric), 1, part)
    for unit, returned in judgement.unit_returns:
        _add(out, key("unit_returned", unit), 1, returned)
    for rating in facts.ratings:
        rated = key("satisfaction", month=month_of(rating.rated_on), bucket=rating.stars)
        _add(out, rated, 1, rating.stars)
    return out


def difference(new: Mapping[Key, tuple[int, int]], old: Mapping[Key, tuple[int, int]]):
    """new − old, key by key, leaving out keys that do not change."""
    delta: Contributions = {}
    for key in new.keys() | old.keys():
        n, o = new.get(key, (0, 0)), old.get(key, (0, 0))
        change = (n[0] - o[0], n[1] - o[1])
        if change != (0, 0):
            delta[key] = change
    return delta


def merge(into: Contributions, more: Mapping[Key, tuple[int, int]]) -> Contributions:
    for key, (count, total) in more.items():
        _add(into, key, count, total)
    return into


def encode(contributions: Mapping[Key, tuple[int, int]]) -> list[list]:
    """The ledger's JSON form: one list per key (month as ISO text), sorted."""
    return sorted(
        [*key[:1], key.month.isoformat(), *key[2:], count, total]
        for key, (count, total) in contributions.items()
    )


def decode(rows: Iterable[list]) -> Contributions:
    out: Contributions = {}
    for row in rows:
        level, month, region, thing, department, service, channel, metric, bucket, c, t = row
        key = Key(
            level, dt.date.fromisoformat(month), region, thing, department, service, channel,
            metric, int(bucket),
        )  # fmt: skip
        out[key] = (int(c), int(t))
    return out


def key_text(key: Key) -> str:
    """The unique text of a key (the roll-up table's lookup column)."""
    return "|".join(
        [key.level, key.month.isoformat(), *key[2:8], str(key.bucket)]  # type: ignore[list-item]
    )


def percentile(histogram: Mapping[int, int], fraction: float) -> int | None:
    """The smallest value v such that at least `fraction` of the observations are <= v
    (the nearest-rank percentile); None without observations."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], not {fraction}")
    n = sum(histogram.values())
    if n <= 0:
        return None
    rank = max(1, math.ceil(Fraction(str(fraction)) * n))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return max(histogram)


def ratio(part: int, whole: int) -> float | None:
    """part / whole as a fraction, None when there is nothing to divide."""
    return None if whole <= 0 else part / whole
