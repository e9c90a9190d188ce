"""The rates a hotline centre is judged by, per unit or per region (pure: no Django).

For the tickets of a period (by the day they were taken in):
- on-time sign-for (按时签收率): signed for by the deadline / signed for or past the deadline;
- on-time closure (按时办结率): replied by the due day / replied or past the due day;
- resolution (解决率) and satisfaction (满意率): yes / callbacks that reached the citizen;
- return (退单率): tickets a unit sent back / tickets that reached the unit.
A rate with nothing to count is None (shown as "—"), never 0 %.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class TicketFacts:
    region_code: str
    unit: str = ""  # the unit holding or last holding it ("" when none)
    returned_by: tuple[str, ...] = ()
    sign_due_at: dt.datetime | None = None
    accepted_at: dt.datetime | None = None
    due_date: dt.date | None = None
    replied_on: dt.date | None = None
    reached: bool | None = None
    resolved: bool | None = None
    satisfied: bool | None = None


@dataclass(frozen=True)
class Judgement:
    """One ticket's part in each rate: 1 counts for it, 0 against it, None not at all."""

    signed_on_time: int | None
    closed_on_time: int | None
    resolved: int | None
    satisfied: int | None
    # by district: None until the ticket reached a unit, then 1 when some unit returned it
    returned: int | None
    # by unit: (unit, 1) for each return (a unit returning it twice counts twice), then
    # (holder, 0) for the unit holding it
    unit_returns: tuple[tuple[str, int], ...]


def judge(fact: TicketFacts, now: dt.datetime) -> Judgement:
    """How one ticket counts in each rate as of `now` (aware; its date is today): a deadline
    that passed with nothing done counts against it, one still ahead not at all."""
    signed = closed = None
    if fact.sign_due_at is not None:
        if fact.accepted_at is not None:
            signed = int(fact.accepted_at <= fact.sign_due_at)
        elif now > fact.sign_due_at:
            signed = 0
    if fact.due_date is not None:
        if fact.replied_on is not None:
            closed = int(fact.replied_on <= fact.due_date)
        elif now.date() > fact.due_date:
            closed = 0
    reached = bool(fact.reached)
    return Judgement(
        signed_on_time=signed,
        closed_on_time=closed,
        resolved=int(bool(fact.resolved)) if reached else None,
        satisfied=int(bool(fact.satisfied)) if reached else None,
        returned=int(bool(fact.returned_by)) if fact.unit or fact.returned_by else None,
        unit_returns=(
            *((unit, 1) for unit in fact.returned_by),
            *(((fact.unit, 0),) if fact.unit else ()),
        ),
    )


@dataclass
class Rates:
    key: str
    tickets: int = 0
    signed_on_time: int = 0
    sign_counted: int = 0
    closed_on_time: int = 0
    close_counted: int = 0
    callbacks: int = 0
    resolved: int = 0
    satisfied: int = 0
    reached_unit: int = 0
    returned: int = 0
    _seen: set = field(default_factory=set, repr=False)

    @staticmethod
    def _ratio(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    @property
    def on_time_sign_rate(self) -> float | None:
        return self._ratio(self.signed_on_time, self.sign_counted)

    @property
    def on_time_close_rate(self) -> float | None:
        return self._ratio(self.closed_on_time, self.close_counted)

    @property
    def resolution_rate(self) -> float | None:
        return self._ratio(self.resolved, self.callbacks)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._ratio(self.satisfied, self.callbacks)

    @property
    def return_rate(self) -> float | None:
        return self._ratio(self.returned, self.reached_unit)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "tickets": self.tickets,
            "on_time_sign_rate": self.on_time_sign_rate,
            "on_time_close_rate": self.on_time_close_rate,
            "resolution_rate": self.resolution_rate,
            "satisfaction_rate": self.satisfaction_rate,
            "return_rate": self.return_rate,
            "counts": {
                "signed_on_time": self.signed_on_time,
                "sign_counted": self.sign_counted,
                "closed_on_time": self.closed_on_time,
                "close_counted": self.close_counted,
                "callbacks": self.callbacks,
                "resolved": self.resolved,
                "satisfied": self.satisfied,
                "reached_unit": self.reached_unit,
                "returned": self.returned,
            },
        }


def compute_rates(facts: Iterable[TicketFacts], *, by: str, now: dt.datetime) -> dict[str, Rates]:
    """Rates per unit (`by="unit"`) or per district (`by="region"`), keyed and sorted by key."""
    if by not in {"unit", "region"}:
        raise ValueError(f"by: must be 'unit' or 'region', not {by!r}")
    rates: dict[str, Rates] = defaultdict(lambda: Rates(""))
    for fact in facts:
        judgement = judge(fact, now)
        if by == "unit":
            # A return counts against the unit that returned; the rest for the holder.
            for unit, returned in judgement.unit_returns:
                entry = _entry(rates, unit)
                entry.reached_unit += 1
                entry.returned += returned
            if not fact.unit:
                continue
            entry = _entry(rates, fact.unit)
        else:
            entry = _entry(rates, fact.region_code)
            if judgement.returned is not None:
                entry.reached_unit += 1
                entry.returned += judgement.returned
        entry.tickets += 1
        if judgement.signed_on_time is not None:
            entry.sign_counted += 1
            entry.signed_on_time += judgement.signed_on_time
        if judgement.closed_on_time is not None:
            entry.close_counted += 1
            entry.closed_on_time += judgement.closed_on_time
        if judgement.resolved is not None and judgement.satisfied is not None:
            entry.callbacks += 1
            entry.resolved += judgement.resolved
            entry.satisfied += judgement.satisfied
    return dict(sorted(rates.items()))


def _entry(rates: dict[str, Rates], key: str) -> Rates:
    entry = rates[key]
    entry.key = key
    return entry
