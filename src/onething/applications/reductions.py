"""The four reductions (四减) one application really had: materials, form fields, working days
and trips, handled as one thing against each member service handled alone.

Pure: no Django. One definition for the applicant's own pages
(applications.services.application_reductions) and for the supervision roll-ups
(supervision.metrics / supervision.rollups), so both count every reduction alike.

"Each service alone" is, for materials, form fields and trips, what the catalog asks of each
member service handled on its own (the plan at submission; nobody applied that way, so there
is nothing else to count). For working days it is measured, like "as one thing": days_taken.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

NAMES = ("materials", "fields", "days", "trips")
# The reductions whose "each service alone" side is the catalog's count (the plan's claim).
FROM_THE_CATALOG = ("materials", "fields", "trips")
# Only applications in which every member service was approved are measured for days, on both
# sides. A rejected, partly completed or withdrawn application did not get what it asked for:
# its days as one thing are not the days of the whole service, and its cases that were never
# decided (cancelled, withdrawn) have no handling time to add up alone, so "saved" would
# compare unlike things. One still pending has no end yet.
MEASURED_OUTCOME = "completed"
# How a material reached the department when the applicant brought or sent it themselves; the
# other provisions (sharing, e-certificate, an earlier case's result) needed nothing of them.
PROVIDED_BY_APPLICANT = frozenset({"upload", "window", "promised"})
# Visits in person: a window application is one visit; online and API none (answers to
# supplement notices are given online too).
TRIPS_BY_CHANNEL = {"window": 1}
# A form field an earlier member of the thing produces is not asked of the applicant
# (catalog.planning FormField.asked); the plan's snapshot names it by this source.
PRODUCED_BY_EARLIER_CASE = "result"


def materials_provided(provisions: Mapping[str, int]) -> int:
    """How many materials the applicant provided, from provision -> number of materials."""
    return sum(n for provision, n in provisions.items() if provision in PROVIDED_BY_APPLICANT)


def fields_typed(asked: Iterable[str], prefilled: Iterable[str]) -> int:
    """How many of the asked fields (element keys) the applicant typed: those not filled in
    from the departments' records."""
    return len(set(asked) - set(prefilled))


def asked_in_snapshot(form: Iterable[Mapping[str, Any]]) -> list[str]:
    """The keys of the fields a plan's snapshot (catalog.plan_output) asked the applicant."""
    return [f["key"] for f in form if f.get("source") != PRODUCED_BY_EARLIER_CASE]


def trips_made(channel: str) -> int:
    """Visits in person the application cost its applicant."""
    return TRIPS_BY_CHANNEL.get(channel, 0)


# (start, end) -> working days after start up to and including end, in the application's
# region (core.workdays: the day a period starts is not counted).
CountWorkingDays = Callable[[dt.date, dt.date], int]
# One member case: (the local day it became ready, the local day it was decided).
CaseDays = tuple[dt.date | None, dt.date | None]


def case_days(
    ready_on: dt.date | None,
    decided_on: dt.date,
    submitted_on: dt.date,
    working_days: CountWorkingDays,
) -> int:
    """The working days one case took, from the day it became ready to its decision; a case
    with no recorded ready day counts from the application's submission (its first moment)."""
    return working_days(ready_on or submitted_on, decided_on)


def days_taken(
    status: str,
    submitted_on: dt.date | None,
    finished_on: dt.date | None,
    cases: Iterable[CaseDays],
    working_days: CountWorkingDays,
) -> tuple[int, int] | None:
    """(Each service alone, as one thing) in working days, as one application really took
    them; None when it is not measured (only completed applications are: MEASURED_OUTCOME).

    Alone: the sum of each member case's own handling time (case_days), as if every service
    were applied for on its own, one after another, each taking what it took. As one thing:
    from the submission to the last decision, cases of one stage running side by side. Both
    are counted by the same rule, so for cases handled strictly one after another (each ready
    the day the one before it was decided) the two are equal: what one thing saves in days is
    the time its cases ran side by side.
    """
    if status != MEASURED_OUTCOME or submitted_on is None or finished_on is None:
        return None
    cases = list(cases)
    if not cases or any(decided_on is None for _ready_on, decided_on in cases):
        return None  # a completed application's cases are all decided: a gap in the record
    alone = sum(
        case_days(ready_on, decided_on, submitted_on, working_days)
        for ready_on, decided_on in cases
    )
    return alone, working_days(submitted_on, finished_on)


def figures(separately: Mapping[str, int], together: Mapping[str, int]) -> dict[str, dict]:
    """Per reduction: separately, together, saved (never negative) and saved as a percent of
    separately (0 when there was nothing to save)."""
    out = {}
    for name in NAMES:
        before, after = int(separately.get(name, 0)), int(together.get(name, 0))
        saved = max(0, before - after)
        out[name] = {
            "separately": before,
            "together": after,
            "saved": saved,
            "percent": round(100 * saved / before) if before else 0,
        }
    return out
