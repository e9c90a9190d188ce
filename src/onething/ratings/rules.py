"""The rules of 好差评: standard reasons, the editing window, who must rectify, and by when.

Pure: no Django import. Services ask this module and write what it decides.

- Stars 1–5; 1 and 2 are a bad rating (差评), 4 and 5 a good one; 3 is neither.
- Reasons come from two fixed lists, as the national 好差评 forms have them: the good ones go with
  3–5 stars, the bad ones with 1–3 (a middling rating may name either).
- A rating can be changed for `EDIT_WINDOW` after it was first given; changing it does not move
  the end of the window.
- A bad rating opens a rectification (整改) for every department rated 1–2; when only the overall
  stars are bad, for every department that handled the application; for a hotline ticket, for
  the responsible unit. Each answers within `RECTIFY_WORKING_DAYS` working days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from onething.core.workdays import WorkCalendar

MIN_STARS, MAX_STARS = 1, 5
BAD_AT_MOST = 2
GOOD_AT_LEAST = 4
EDIT_WINDOW = dt.timedelta(days=7)
RECTIFY_WORKING_DAYS = 5
SETTLE_SILENCE = dt.timedelta(days=7)
MAX_COMMENT = 1000
MAX_ANSWER = 2000


class ReasonKind(StrEnum):
    GOOD = "good"
    BAD = "bad"


@dataclass(frozen=True)
class Reason:
    code: str
    kind: ReasonKind
    zh: str
    en: str

    def label(self, language: str) -> str:
        return self.en if language.startswith("en") else self.zh


GOOD_REASONS: tuple[Reason, ...] = (
    Reason("efficient", ReasonKind.GOOD, "办事效率高", "handled quickly"),
    Reason("friendly", ReasonKind.GOOD, "服务态度好", "friendly service"),
    Reason("one_trip", ReasonKind.GOOD, "一次办成", "done in one go"),
    Reason("clear_guidance", ReasonKind.GOOD, "告知清楚", "clear guidance"),
    Reason("few_materials", ReasonKind.GOOD, "材料精简", "few documents asked"),
    Reason("easy_online", ReasonKind.GOOD, "网上办理方便", "easy to do online"),
)
BAD_REASONS: tuple[Reason, ...] = (
    Reason("too_many_materials", ReasonKind.BAD, "材料要求多", "too many documents asked"),
    Reason("repeated_trips", ReasonKind.BAD, "多次跑动", "had to come back several times"),
    Reason("too_slow", ReasonKind.BAD, "办理时间长", "took too long"),
    Reason("poor_attitude", ReasonKind.BAD, "态度差", "unfriendly staff"),
    Reason("complicated", ReasonKind.BAD, "程序复杂", "complicated procedure"),
    Reason("unclear_guidance", ReasonKind.BAD, "告知不清", "unclear guidance"),
    Reason("not_solved", ReasonKind.BAD, "问题未解决", "problem not solved"),
)
REASONS: dict[str, Reason] = {r.code: r for r in GOOD_REASONS + BAD_REASONS}


class ReasonProblem(StrEnum):
    UNKNOWN = "unknown"
    BAD_WITH_GOOD_STARS = "bad_with_good_stars"
    GOOD_WITH_BAD_STARS = "good_with_bad_stars"


def is_bad(stars: int) -> bool:
    """A 差评: one or two stars."""
    return stars <= BAD_AT_MOST


def stars_valid(value: object) -> bool:
    """Whether `value` is a whole number of stars from 1 to 5 (True is not a number of stars)."""
    return type(value) is int and MIN_STARS <= value <= MAX_STARS


def reasons_for(stars: int) -> tuple[Reason, ...]:
    """The reasons a rating of `stars` may name: good ones from 3 stars, bad ones up to 3."""
    good = GOOD_REASONS if stars > BAD_AT_MOST else ()
    bad = BAD_REASONS if stars < GOOD_AT_LEAST else ()
    return good + bad


def reason_problems(stars: int, codes: Iterable[str]) -> dict[str, ReasonProblem]:
    """Each chosen reason that is unknown or does not go with the stars, by its code."""
    problems: dict[str, ReasonProblem] = {}
    for code in codes:
        reason = REASONS.get(code)
        if reason is None:
            problems[code] = ReasonProblem.UNKNOWN
        elif reason.kind == ReasonKind.BAD and stars >= GOOD_AT_LEAST:
            problems[code] = ReasonProblem.BAD_WITH_GOOD_STARS
        elif reason.kind == ReasonKind.GOOD and stars <= BAD_AT_MOST:
            problems[code] = ReasonProblem.GOOD_WITH_BAD_STARS
    return problems


def editable_until(first_rated_at: dt.datetime) -> dt.datetime:
    """When a rating first given at `first_rated_at` can no longer be changed."""
    return first_rated_at + EDIT_WINDOW


def is_editable(until: dt.datetime, now: dt.datetime) -> bool:
    return now < until


def rectification_targets(
    overall: int, department_stars: Mapping[str, int], handling: Sequence[str]
) -> list[str]:
    """Who must rectify, in the order of `handling` (the departments, or the one unit).

    Every department rated 1–2; if none is but the overall stars are 1–2, every handling one.
    """
    named = [key for key in handling if is_bad(department_stars.get(key, MAX_STARS))]
    if named:
        return named
    return list(handling) if is_bad(overall) else []


def rectification_due(
    calendar: WorkCalendar, rated_on: dt.date, region: str | None = None
) -> dt.date:
    """The day a rectification must be answered by: RECTIFY_WORKING_DAYS after the rating."""
    return calendar.add_working_days(rated_on, RECTIFY_WORKING_DAYS, region)


# --- a rectification's life ---------------------------------------------------------------------


class RectificationStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    SETTLED = "settled"
    UNSETTLED = "unsettled"
    ESCALATED = "escalated"
    CLOSED = "closed"  # by a supervisor, with a conclusion


class RectificationAction(StrEnum):
    ANSWER = "answer"
    SETTLE = "settle"
    REFUSE = "refuse"  # the rater says the answer does not settle it
    ESCALATE = "escalate"
    SEND_BACK = "send_back"  # a supervisor returns it to the department with an instruction
    CLOSE = "close"  # a supervisor closes it with a conclusion


class TransitionNotAllowed(ValueError):
    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"a rectification in status {status!r} cannot {action!r}")
        self.status, self.action = status, action


S, A = RectificationStatus, RectificationAction
TRANSITIONS: dict[tuple[RectificationStatus, RectificationAction], RectificationStatus] = {
    (S.OPEN, A.ANSWER): S.ANSWERED,
    # An overdue one, escalated, still wants the department's answer; a supervisor watches it.
    (S.ESCALATED, A.ANSWER): S.ANSWERED,
    (S.ANSWERED, A.SETTLE): S.SETTLED,
    (S.ANSWERED, A.REFUSE): S.UNSETTLED,
    (S.OPEN, A.ESCALATE): S.ESCALATED,
    (S.UNSETTLED, A.ESCALATE): S.ESCALATED,
    (S.ESCALATED, A.SEND_BACK): S.OPEN,
    (S.UNSETTLED, A.SEND_BACK): S.OPEN,
    (S.ESCALATED, A.CLOSE): S.CLOSED,
    (S.UNSETTLED, A.CLOSE): S.CLOSED,
}

# Where a supervisor may act on one escalated to them: where they may send it back or close it.
SUPERVISOR_ACTS_ON = frozenset(
    status for status, action in TRANSITIONS if action in (A.SEND_BACK, A.CLOSE)
)


def next_status(status: str, action: RectificationAction) -> RectificationStatus:
    """The status `action` leads to from `status`, or TransitionNotAllowed."""
    try:
        return TRANSITIONS[(RectificationStatus(status), action)]
    except (KeyError, ValueError):
        raise TransitionNotAllowed(status, action) from None


class EscalationReason(StrEnum):
    OVERDUE = "overdue"
    UNSETTLED = "unsettled"


def escalation_due(
    status: str,
    due: dt.date,
    today: dt.date,
    escalated_since_sent_back: bool,
    watched: bool = False,
) -> EscalationReason | None:
    """Why a rectification goes to a supervisor now, if it does: once, when its answer is late
    or when the rater said the answer does not settle it.

    `escalated_since_sent_back`: escalated, and not sent back since. `watched`: escalated
    before, so the supervisors hear of every change as it happens; a sent-back one escalates
    again only when its new answer is late.
    """
    if escalated_since_sent_back:
        return None
    if status == RectificationStatus.OPEN and today > due:
        return EscalationReason.OVERDUE
    if status == RectificationStatus.UNSETTLED and not watched:
        return EscalationReason.UNSETTLED
    return None


def settled_by_silence_at(answered_at: dt.datetime) -> dt.datetime:
    """When an answer the rater has not replied to counts as accepted."""
    return answered_at + SETTLE_SILENCE


def settled_by_silence(status: str, answered_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether an answered rectification counts as settled now: the rater said nothing for
    `SETTLE_SILENCE` after the answer."""
    return (
        status == RectificationStatus.ANSWERED
        and answered_at is not None
        and now >= settled_by_silence_at(answered_at)
    )
