"""The one-time supplement notice (一次性补正告知) and promised materials (容缺受理), as rules.

Pure: no Django import. Services gather the facts, ask here, and write what follows.

A reviewer who needs something from the applicant raises items on the case; the items of every
case of one stage are held in one notice. The notice goes to the applicant when every case of
the stage has had its first review — so nobody is asked twice — or when the hold runs out, so a
slow department cannot keep the others' questions from the applicant. After it is sent, the
stage's departments cannot add to it and no second notice for the stage is opened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class StageCase:
    code: str
    reviewed: bool  # had its first review (a decision, a supplement request) or was cancelled


def notice_due(stage_cases: Iterable[StageCase], *, hold_until: datetime, now: datetime) -> bool:
    """A collecting notice is sent once every case of its stage was reviewed, or at hold end."""
    return now >= hold_until or all(case.reviewed for case in stage_cases)


@dataclass(frozen=True)
class RaisedItem:
    case: str  # the service code of the case that raised it
    kind: str  # "field" or "material"
    target: str  # the data element key or the material code
    reason: str


@dataclass(frozen=True)
class MergedItem:
    """What the applicant answers once, with every case that asked for it and why."""

    kind: str
    target: str
    asked_by: tuple[tuple[str, str], ...]  # (case, reason), in the order raised


def merge_items(items: Iterable[RaisedItem]) -> list[MergedItem]:
    """One entry per field or material, however many departments asked for it."""
    merged: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for item in items:
        merged.setdefault((item.kind, item.target), []).append((item.case, item.reason))
    return [
        MergedItem(kind=kind, target=target, asked_by=tuple(asked))
        for (kind, target), asked in merged.items()
    ]


def promise_overdue(due_date: date | None, *, resolved: bool, today: date) -> bool:
    """A promised material blocks approval once its date has passed and it is still missing."""
    return not resolved and due_date is not None and today > due_date


def promise_date_problem(promised_by: date | None, *, today: date, latest: date) -> str | None:
    """Why a promised date is not acceptable, or None (the date must be after today and no later
    than the latest the service allows)."""
    if promised_by is None:
        return "required"
    if promised_by <= today:
        return "not_future"
    if promised_by > latest:
        return "too_late"
    return None
