"""The four reductions (四减) one application really had: materials, form fields, working days
and trips, handled as one thing against each member service handled alone.

Pure: no Django. One definition for the applicant's own pages
(applications.services.application_reductions) and for the supervision roll-ups
(supervision.metrics / supervision.rollups): materials, fields and trips are counted alike.
Days differ on purpose: the applicant's page shows the promised days as one thing, the roll-ups
the working days really taken.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

NAMES = ("materials", "fields", "days", "trips")
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
