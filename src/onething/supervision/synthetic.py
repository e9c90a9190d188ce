"""The synthetic history's stories (issue 7): applications and tickets played forward on the
working-day calendar, from a seeded random generator, a thing's plans and `now`.

Pure: no Django import. `supervision.generate` feeds it the catalog and the translated texts and
writes what it tells in bulk. Cases become ready when their prerequisites are approved, are
accepted, sometimes ask for a supplement (the clock stops), and are approved, rejected (their
dependents cancelled) or approved at once by their rule (秒批); some applicants withdraw. What lies
after `now` has not happened yet, which gives the open applications, their waiting supplements
and their yellow and red deadlines.

Some applicants rate a finished application (and some callers a closed ticket): stars that follow
what went wrong, per department too, with standard reasons of the kind the stars allow. What
follows a bad rating is decided by `ratings.rules` alone: who must rectify, the due date on the
working calendar, every move of the rectification (answered, settled or refused), the sweep's
escalation of an unanswered one the day after its due date and of a refused one at once, and
its settling of an answer the rater left without a reply for `rules.SETTLE_SILENCE`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from onething.applications import lifecycle
from onething.applications.lifecycle import ApplicationStatus, CaseStatus
from onething.complaints import deadlines as ticket_deadlines
from onething.core.workdays import ESCALATED, RegionalWorkdays, WorkCalendar, WorkdayIndex
from onething.ratings import rules
from onething.ratings.rules import (
    ReasonKind,
    RectificationAction,
    RectificationStatus,
)

ONE_DAY = dt.timedelta(days=1)
HISTORY_DAYS = 730
# Monday to Sunday: Monday is the busiest day at the window and on the hotline.
WEEKDAY_WEIGHT = (1.35, 1.15, 1.05, 1.0, 0.95, 0.0, 0.0)
NON_WORKING_WEIGHT = 0.12  # online applications and calls keep coming on holidays
# Hour of day: the windows open 9–12 and 14–17:30; online a little into the evening.
OFFICE_HOURS = {9: 10, 10: 14, 11: 10, 12: 2, 13: 3, 14: 10, 15: 12, 16: 9, 17: 3}
ONLINE_HOURS = {
    **OFFICE_HOURS,
    7: 1,
    8: 4,
    12: 5,
    13: 5,
    18: 4,
    19: 5,
    20: 6,
    21: 5,
    22: 3,
    23: 1,
}
HOTLINE_HOURS = {h: 2 for h in range(24)} | {
    h: 8 + (h in (9, 10, 14, 15)) * 4 for h in range(8, 21)
}

RECENT_SHARE = 0.04  # of applications and tickets, on top of the two years' spread
RECENT_DAYS = 30
REJECT_SHARE = 0.02  # of the cases a department decides
SUPPLEMENT_SHARE = 0.09  # of the cases a department takes up
LATE_SHARE = 0.07  # of the cases decided after their promised days
WITHDRAW_SHARE = 0.03  # of the applications
INSTANT_SHARE = 0.9  # of the cases of rule services that the rule decides (the rest: a reviewer)
SUPPLEMENT_UNANSWERED_DAYS = 30  # a supplement older than this was answered in the end

# 好差评: who rates, how many stars, which reasons, what the rectifications come to.
APPLICATION_RATING_SHARE = 0.35  # of the finished applications (withdrawn ones are not rated)
TICKET_RATING_SHARE = 0.3  # of the closed tickets filed online (the caller has an account)
STARS = tuple(range(rules.MIN_STARS, rules.MAX_STARS + 1))
# Stars after a smooth application or a satisfied caller, and after a late, rejected or
# unresolved one.
STARS_WEIGHTS = {"good": (2, 2, 5, 18, 73), "bad": (18, 20, 27, 20, 15)}
# How many reasons a rater ticks: a bad rating names at least one (the form asks why).
REASON_COUNT_WEIGHTS = {ReasonKind.GOOD: (3, 5, 2), ReasonKind.BAD: (0, 7, 3)}
# The department that was the trouble is rated as the whole or a little worse; when the whole is
# rated badly because of one department, the others are rated as after a smooth application;
# otherwise a department is rated as the whole or a little better. Now and then one is rated
# badly for its own sake (its staff's attitude).
DEPARTMENT_STARS_SHIFT = {True: (-1, 0, 0), False: (0, 0, 0, 1, 1)}
DEPARTMENT_OWN_BAD_SHARE = 0.01
RECTIFY_LATE_SHARE = 0.12  # answered after the due date (escalated the day after it)
RECTIFY_SILENT_SHARE = 0.05  # never answered (escalated, waiting still)
RATER_SILENT_SHARE = 0.1  # the rater never says whether the answer settles it
SETTLED_SHARE = 0.82  # of the raters who do say
RATER_REPLY_HOURS = (2.0, 24.0 * 6)
# The rectification sweep runs every quarter of an hour (ratings.services.SWEEP_EVERY_SECONDS,
# not imported: that module needs Django, this one does not).
SWEEP_MINUTES = 15


@dataclass(frozen=True)
class Texts:
    """What departments and the hotline write, already in the platform's language."""

    reject_reasons: Sequence[str]
    supplement_reasons: Sequence[str]
    ticket_replies: Sequence[str]
    cancelled_after_rejection: str  # with %(service)s and %(reason)s
    cancelled_after_cancellation: str
    withdrawn: str
    rectification_answers: Sequence[str]  # what a department says it changed
    unsettled_notes: Sequence[str]  # what a rater says when the answer does not settle it


class QuickRandom(random.Random):
    """random.Random whose whole-number draws cost one `random()` call each.

    The standard randint, randrange and choice draw bits until the number fits (exact for
    any range, about three times slower); a synthetic history makes millions of such draws
    over ranges of a few dozen, where scaling one 53-bit float is uniform to within 1e-14.
    """

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        if step != 1 or stop <= start:
            return super().randrange(start, stop, step)
        return start + int(self.random() * (stop - start))

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq: Sequence[Any]) -> Any:
        if not seq:
            raise IndexError("Cannot choose from an empty sequence")
        return seq[int(self.random() * len(seq))]


# --- the catalog as the generator needs it -------------------------------------------------------


@dataclass(frozen=True)
class Member:
    service_id: int
    service_code: str
    service_name: str
    department_id: int
    department_region: str
    handler: str
    rule: str
    stage: int
    position: int
    promised_days: int
    after: tuple[int, ...]  # positions of the prerequisites


@dataclass(frozen=True)
class Shape:
    """One plan of a thing: what an application with these answers gets."""

    thing_id: int
    audience: str
    answers_json: str
    promised_days: int
    consent_text: str
    members: tuple[Member, ...]
    shared_materials: tuple[tuple[int, str], ...]  # (material id, provision) not from applicant
    applicant_materials: tuple[int, ...]
    material_codes: tuple[str, ...]


# --- the story of one application ----------------------------------------------------------------


@dataclass
class CaseStory:
    member: Member
    status: str = CaseStatus.WAITING
    ready_at: dt.datetime | None = None
    accepted_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    first_reviewed_at: dt.datetime | None = None
    asked_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    due_date: dt.date | None = None
    pauses: list[list[str]] = field(default_factory=list)
    paused_since: dt.date | None = None
    reason: str = ""
    supplement_reason: str = ""
    rule: str = ""
    deadline_state: str = ""
    escalated_at: dt.datetime | None = None
    events: list[tuple] = field(default_factory=list)  # (at, action, from, to, note, label)


@dataclass
class ApplicationStory:
    shape: Shape
    submitted_at: dt.datetime
    status: str
    cases: list[CaseStory]
    finished_at: dt.datetime | None
    events: list[tuple]  # (at, action, from, to, note, actor is applicant)


# --- the story of a rating and of the rectifications it opens ------------------------------------


@dataclass(frozen=True)
class Trouble:
    """What went wrong for a rater (with the whole, or with one department), which their stars
    and reasons follow."""

    late: bool = False  # decided (or replied) after the promised day
    refused: bool = False  # rejected, only partly granted, or not resolved
    asked: bool = False  # a supplement was asked for
    online: bool = False  # applied without going to a window

    @property
    def bad(self) -> bool:
        return self.late or self.refused


# The reasons a rater most often ticks after each kind of trouble (or of its absence).
LIKELY_REASONS = {
    (ReasonKind.BAD, "late"): ("too_slow",),
    (ReasonKind.BAD, "refused"): ("not_solved", "unclear_guidance"),
    (ReasonKind.BAD, "asked"): ("too_many_materials", "repeated_trips"),
    (ReasonKind.GOOD, "on_time"): ("efficient",),
    (ReasonKind.GOOD, "not_asked"): ("one_trip", "few_materials"),
    (ReasonKind.GOOD, "online"): ("easy_online",),
}


@dataclass
class RectificationStory:
    """A rectification from the bad rating that opened it to `now`: its row and its timeline,
    moved only by the transitions of `ratings.rules`."""

    target: Any  # a department's id, or a hotline unit
    due_date: dt.date
    status: str = RectificationStatus.OPEN
    answer: str = ""
    answered_at: dt.datetime | None = None
    settled_at: dt.datetime | None = None
    applicant_note: str = ""
    escalated_at: dt.datetime | None = None
    escalation_reason: str = ""
    events: list[tuple] = field(default_factory=list)  # (at, action, from, to, note, by rater)

    def move(
        self,
        action: RectificationAction,
        at: dt.datetime,
        event: str,
        note: str = "",
        *,
        by_rater: bool = False,
    ) -> None:
        before = self.status
        self.status = rules.next_status(before, action)
        self.events.append((at, event, before, self.status, note, by_rater))


@dataclass
class RatingStory:
    rated_at: dt.datetime
    stars: int
    reasons: tuple[str, ...]
    departments: list[tuple[int, int, tuple[str, ...]]]  # (department id, stars, reasons)
    rectifications: list[RectificationStory]


class History:
    """Plays applications and tickets forward on the working-day calendar; pure given its
    inputs (a seeded random generator, the catalog's shapes, the calendar and `now`)."""

    def __init__(
        self,
        *,
        rng: random.Random,
        now: dt.datetime,
        calendar: WorkCalendar,
        regions: Sequence[str],
        texts: Texts,
        warn_days: int,
        escalate_days: int,
    ) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware (the platform's local time)")
        self.rng, self.now, self.tz, self.texts = rng, now, now.tzinfo, texts
        self.today = self.now.date()
        self.calendar = calendar
        self.first_day = self.today - dt.timedelta(days=HISTORY_DAYS)
        self.workdays = RegionalWorkdays(
            calendar, self.first_day - dt.timedelta(days=30), self.today + dt.timedelta(days=800)
        )
        self.national = self.index(None)
        for region in regions:
            self.index(region)
        self.warn_days, self.escalate_days = warn_days, escalate_days
        self._reason_cache: dict[tuple, tuple[list[str], list[int]]] = {}
        days = [self.first_day + dt.timedelta(days=i) for i in range(1, HISTORY_DAYS + 1)]
        self._days = days
        self._day_weights = {
            name: list(accumulate(self._day_weight(day, i, name) for i, day in enumerate(days)))
            for name in ("office", "online", "hotline")
        }
        self._hours = {
            name: (list(hours), list(accumulate(hours.values())))
            for name, hours in (
                ("office", OFFICE_HOURS),
                ("online", ONLINE_HOURS),
                ("hotline", HOTLINE_HOURS),
            )
        }

    def index(self, region: str | None) -> WorkdayIndex:
        return self.workdays.index(region)

    def _day_weight(self, day: dt.date, i: int, name: str) -> float:
        growth = 0.75 + 0.5 * i / HISTORY_DAYS  # more use every month
        if self.national.is_working(day):
            weight = WEEKDAY_WEIGHT[day.weekday()] or 1.0  # an adjusted working Saturday
        else:
            weight = NON_WORKING_WEIGHT if name != "hotline" else 0.7
        return weight * growth

    def moments(self, count: int, kind: str) -> list[dt.datetime]:
        """`count` moments of the last two years, busier on Mondays and in office hours, with
        a few more in the last weeks (the work in hand a platform always has)."""
        recent = sum(1 for _i in range(count) if self.rng.random() < RECENT_SHARE)
        weights = self._day_weights[kind]
        cut = len(self._days) - RECENT_DAYS
        days = self.rng.choices(self._days, cum_weights=weights, k=count - recent)
        days += self.rng.choices(
            self._days[cut:], cum_weights=[w - weights[cut - 1] for w in weights[cut:]], k=recent
        )
        self.rng.shuffle(days)
        hours, weights = self._hours[kind]
        picked = self.rng.choices(hours, cum_weights=weights, k=count)
        out = []
        for day, hour in zip(days, picked, strict=True):
            moment = dt.datetime(
                day.year,
                day.month,
                day.day,
                hour,
                self.rng.randrange(60),
                self.rng.randrange(60),
                tzinfo=self.tz,
            )
            if moment > self.now:
                moment = self.now - dt.timedelta(minutes=self.rng.randint(1, 600))
            out.append(moment)
        return out

    def office_time(self, day: dt.date, after: dt.datetime | None = None) -> dt.datetime:
        """A moment in office hours on `day`, later than `after` when that is the same day."""
        moment = dt.datetime(
            day.year,
            day.month,
            day.day,
            self.rng.randint(9, 16),
            self.rng.randrange(60),
            tzinfo=self.tz,
        )
        if after is not None and moment <= after:
            moment = after + dt.timedelta(minutes=self.rng.randint(5, 120))
        return moment

    # --- applications ------------------------------------------------------------------------

    def application(self, shape: Shape, submitted_at: dt.datetime) -> ApplicationStory:
        """The life of an application submitted at `submitted_at`, as far as `now`."""
        rng = self.rng
        cases = [CaseStory(member) for member in shape.members]
        withdraw_at = None
        if rng.random() < WITHDRAW_SHARE:
            withdraw_at = submitted_at + dt.timedelta(hours=rng.uniform(2, 24 * 15))
        # Departments decide in stage order: a case starts when its prerequisites are approved.
        outcome: dict[int, tuple[str, dt.datetime]] = {}
        asking: set[int] = set()
        for story in cases:
            member = story.member
            if not member.after:
                # Released by the submission itself (the service does it in the same
                # transaction), so on the day of submission even a second before midnight:
                # each case's days are counted from its ready day, the application's from that.
                start = min(
                    submitted_at + dt.timedelta(seconds=rng.randint(1, 30)),
                    submitted_at.replace(hour=23, minute=59, second=59),
                )
            else:
                before = [outcome[p] for p in member.after]
                failed = [(s, at) for s, at in before if s != CaseStatus.APPROVED]
                if failed:
                    at = max(at for _s, at in failed)
                    outcome[member.position] = (CaseStatus.CANCELLED, at)
                    story.status, story.decided_at = CaseStatus.CANCELLED, at
                    continue
                start = max(at for _s, at in before)
            # One supplement notice per stage (the service merges a stage's items into one):
            # here at most one case of a stage asks.
            self._play_case(story, start, may_ask=member.stage not in asking)
            if story.asked_at is not None:
                asking.add(member.stage)
            outcome[member.position] = (story.status, story.decided_at)
        # Cancellations of dependents happen when the rejection does (the service does the same).
        rejected = {c.member.position: c for c in cases if c.status == CaseStatus.REJECTED}
        for story in cases:
            if story.status == CaseStatus.CANCELLED and story.ready_at is None:
                cause = next(
                    (rejected[p] for p in self._ancestors(story.member, cases) if p in rejected),
                    None,
                )
                if cause is not None:
                    story.reason = self.texts.cancelled_after_rejection % {
                        "service": cause.member.service_name,
                        "reason": cause.reason,
                    }
                else:  # its prerequisite was itself cancelled
                    story.reason = self.texts.cancelled_after_cancellation
                story.events.append(
                    (
                        story.decided_at,
                        "cancelled",
                        CaseStatus.WAITING,
                        CaseStatus.CANCELLED,
                        story.reason,
                        "system:generate",
                    )
                )
        return self._settle(shape, submitted_at, cases, withdraw_at)

    @staticmethod
    def _ancestors(member: Member, cases: Sequence[CaseStory]) -> list[int]:
        seen: list[int] = []
        todo = list(member.after)
        while todo:
            position = todo.pop()
            if position not in seen:
                seen.append(position)
                todo.extend(cases[position].member.after)
        return seen

    def _play_case(self, story: CaseStory, ready_at: dt.datetime, *, may_ask: bool) -> None:
        """The whole life of a case from the moment it is released; `now` is applied later."""
        rng, member = self.rng, story.member
        index = self.index(member.department_region)
        story.status = CaseStatus.READY
        story.ready_at = ready_at
        ready_day = ready_at.date()
        story.due_date = index.add(ready_day, member.promised_days)
        if member.handler == "automatic" and member.rule and rng.random() < INSTANT_SHARE:
            label = f"system:rule:{member.rule}"
            story.accepted_at = ready_at + dt.timedelta(seconds=1)
            story.decided_at = story.first_reviewed_at = ready_at + dt.timedelta(seconds=2)
            story.rule = member.rule
            story.status = CaseStatus.APPROVED
            story.events += [
                (story.accepted_at, "accepted", CaseStatus.READY, CaseStatus.ACCEPTED, "", label),
                (story.decided_at, "approved", CaseStatus.ACCEPTED, CaseStatus.APPROVED, "", label),
            ]
            return
        label = "system:generate"
        accept_day = index.add(ready_day, rng.choice((0, 0, 0, 1, 1, 2)))
        story.accepted_at = self.office_time(accept_day, ready_at)
        story.events.append(
            (story.accepted_at, "accepted", CaseStatus.READY, CaseStatus.ACCEPTED, "", label)
        )
        days = member.promised_days
        if rng.random() < LATE_SHARE:
            handling = days + rng.randint(1, max(3, days // 2 + 1))
        else:
            handling = rng.randint(min(1, days), max(days, 0))
        pause = None
        if may_ask and rng.random() < SUPPLEMENT_SHARE:
            ask_day = index.add(accept_day, rng.randint(0, max(0, min(2, days - 1))))
            story.asked_at = self.office_time(ask_day, story.accepted_at)
            story.first_reviewed_at = story.asked_at
            story.answered_at = story.asked_at + dt.timedelta(
                days=rng.randint(1, 15), hours=rng.randint(0, 8)
            )
            story.paused_since = story.asked_at.date()
            story.supplement_reason = rng.choice(self.texts.supplement_reasons)
            story.events.append(
                (
                    story.asked_at,
                    "supplement_asked",
                    CaseStatus.ACCEPTED,
                    CaseStatus.SUPPLEMENT,
                    story.supplement_reason,
                    label,
                )
            )
            first_waiting = story.paused_since + ONE_DAY
            answered_day = story.answered_at.date()
            if answered_day >= first_waiting:
                pause = (first_waiting, answered_day)
            story.events.append(
                (
                    story.answered_at,
                    "resumed",
                    CaseStatus.SUPPLEMENT,
                    CaseStatus.ACCEPTED,
                    "",
                    "system:generate",
                )
            )
        start = accept_day if pause is None else pause[1]
        decide_day = index.add(start, max(handling - index.between(accept_day, start), 0))
        story.decided_at = self.office_time(decide_day, story.answered_at or story.accepted_at)
        story.first_reviewed_at = story.first_reviewed_at or story.decided_at
        if pause is not None:
            story.pauses = [[pause[0].isoformat(), pause[1].isoformat()]]
            story.due_date = index.due(ready_day, member.promised_days, pause)
        if rng.random() < REJECT_SHARE:
            story.status = CaseStatus.REJECTED
            story.reason = rng.choice(self.texts.reject_reasons)
            story.events.append(
                (
                    story.decided_at,
                    "rejected",
                    CaseStatus.ACCEPTED,
                    CaseStatus.REJECTED,
                    story.reason,
                    label,
                )
            )
        else:
            story.status = CaseStatus.APPROVED
            story.events.append(
                (story.decided_at, "approved", CaseStatus.ACCEPTED, CaseStatus.APPROVED, "", label)
            )

    def _case_at(self, story: CaseStory, moment: dt.datetime) -> None:
        """Cut the case's life at `moment` (now, or the withdrawal): what came later is undone."""
        if story.ready_at is None:
            if story.decided_at is not None and story.decided_at > moment:
                story.status, story.decided_at, story.reason = CaseStatus.WAITING, None, ""
                story.events = []
            return
        if story.ready_at > moment:
            story.status = CaseStatus.WAITING
            story.ready_at = story.accepted_at = story.decided_at = story.due_date = None
            story.first_reviewed_at = story.asked_at = story.answered_at = None
            story.paused_since, story.pauses, story.reason, story.rule = None, [], "", ""
            story.supplement_reason = ""
            story.events = []
            return
        story.events = [e for e in story.events if e[0] <= moment]
        if story.decided_at is not None and story.decided_at <= moment:
            story.paused_since = None
            return
        story.decided_at, story.rule, story.reason = None, "", ""
        if story.first_reviewed_at and story.first_reviewed_at > moment:
            story.first_reviewed_at = None
        if story.accepted_at is None or story.accepted_at > moment:
            # Not taken up yet: the supplement it was going to ask for has not been asked either.
            story.status, story.accepted_at = CaseStatus.READY, None
            story.asked_at = story.answered_at = None
            story.pauses, story.supplement_reason = [], ""
            story.due_date = self.index(story.member.department_region).add(
                story.ready_at.date(), story.member.promised_days
            )
        elif story.asked_at is not None and story.asked_at <= moment < story.answered_at:
            story.status = CaseStatus.SUPPLEMENT
            story.pauses = []
            story.due_date = self.index(story.member.department_region).add(
                story.ready_at.date(), story.member.promised_days
            )
        else:
            story.status = CaseStatus.ACCEPTED
            if story.asked_at is None or story.asked_at > moment:
                story.asked_at = story.answered_at = story.paused_since = None
                story.pauses, story.supplement_reason = [], ""
                story.due_date = self.index(story.member.department_region).add(
                    story.ready_at.date(), story.member.promised_days
                )
            else:
                story.paused_since = None
        if story.status != CaseStatus.SUPPLEMENT:
            story.paused_since = None

    def _settle(
        self,
        shape: Shape,
        submitted_at: dt.datetime,
        cases: list[CaseStory],
        withdraw_at: dt.datetime | None,
    ) -> ApplicationStory:
        ends = [c.decided_at for c in cases]
        all_done_at = None if any(e is None for e in ends) else max(ends)
        if withdraw_at is not None and (
            withdraw_at > self.now or (all_done_at is not None and all_done_at <= withdraw_at)
        ):
            withdraw_at = None
        cut = withdraw_at or self.now
        for story in cases:
            self._case_at(story, cut)
        events: list[tuple] = [
            (
                submitted_at,
                "submitted",
                ApplicationStatus.DRAFT,
                ApplicationStatus.SUBMITTED,
                "",
                True,
            )
        ]
        finished_at = None
        if any(c.status == CaseStatus.SUPPLEMENT for c in cases):
            running = ApplicationStatus.AWAITING_SUPPLEMENT
        elif any(c.accepted_at is not None for c in cases):
            running = ApplicationStatus.IN_PROGRESS
        else:
            running = ApplicationStatus.SUBMITTED
        if withdraw_at is not None:
            note = self.texts.withdrawn
            for story in cases:
                if story.status in lifecycle.CASE_OPEN:
                    before = story.status
                    story.status, story.reason = CaseStatus.CANCELLED, note
                    story.paused_since = None
                    story.events.append(
                        (withdraw_at, "cancelled", before, CaseStatus.CANCELLED, note, None)
                    )
            status, finished_at = ApplicationStatus.WITHDRAWN, withdraw_at
            events.append((withdraw_at, "withdrawn", running, status, note, True))
        else:
            action = lifecycle.application_outcome([c.status for c in cases])
            if action is not None:
                status = lifecycle.application_next(ApplicationStatus.IN_PROGRESS, action)
                finished_at = max(c.decided_at for c in cases)
                events.append(
                    (finished_at, "finished", ApplicationStatus.IN_PROGRESS, status, "", False)
                )
            else:
                status = running
        for story in cases:
            self._mark_deadline(story)
        return ApplicationStory(shape, submitted_at, status, cases, finished_at, events)

    def _mark_deadline(self, story: CaseStory) -> None:
        """The yellow or red mark the deadline sweep would have set on an open case by now."""
        if story.status not in lifecycle.DEADLINE_MARKED or story.due_date is None:
            return
        region = story.member.department_region
        state = self.workdays.deadline_mark(
            story.due_date,
            self.today,
            region,
            warn_days=self.warn_days,
            escalate_days=self.escalate_days,
        )
        if state == ESCALATED:
            index = self.index(region)
            story.escalated_at = self.office_time(index.add(story.due_date, self.escalate_days))
            story.escalated_at = min(story.escalated_at, self.now)
        story.deadline_state = "" if state == "on_time" else state

    # --- tickets -----------------------------------------------------------------------------

    def ticket(self, received_at: dt.datetime, urgency: str, region: str) -> dict[str, Any]:
        """The timeline of one ticket from intake to closing, cut at `now`."""
        rng = self.rng
        index = self.index(region)
        limits = ticket_deadlines.LIMITS[ticket_deadlines.Urgency(urgency)]
        story: dict[str, Any] = {"status": "received", "received_at": received_at}
        dispatched_at = received_at + dt.timedelta(minutes=rng.randint(2, 90))
        if dispatched_at > self.now:
            return story
        story.update(
            status="dispatched",
            dispatched_at=dispatched_at,
            sign_due_at=ticket_deadlines.sign_due(dispatched_at, urgency),
            due_date=index.add(dispatched_at.date(), limits.resolve_working_days),
        )
        late_sign = rng.random() < 0.05
        sign_hours = limits.sign_hours * (rng.uniform(1.1, 3) if late_sign else rng.uniform(0.1, 1))
        accepted_at = dispatched_at + dt.timedelta(hours=sign_hours)
        if accepted_at > self.now:
            story["sign_overdue"] = self.now > story["sign_due_at"]
            return self._ticket_deadline(story, index)
        story.update(status="accepted", accepted_at=accepted_at, sign_overdue=late_sign)
        days = limits.resolve_working_days
        handling = days + rng.randint(1, 4) if rng.random() < LATE_SHARE else rng.randint(0, days)
        replied_at = self.office_time(index.add(accepted_at.date(), handling), accepted_at)
        if replied_at > self.now:
            return self._ticket_deadline(story, index)
        story.update(
            status="replied",
            replied_at=replied_at,
            reply=rng.choice(self.texts.ticket_replies),
            callback_due=index.add(replied_at.date(), ticket_deadlines.CALLBACK_WORKING_DAYS),
        )
        callback_at = self.office_time(
            index.add(replied_at.date(), rng.choice((0, 1, 1))), replied_at
        )
        if callback_at > self.now:
            return story
        reached = rng.random() < 0.92
        resolved = reached and rng.random() < 0.85
        satisfied = reached and rng.random() < (0.9 if resolved else 0.3)
        story.update(
            status="closed",
            callback_at=callback_at,
            callback_reached=reached,
            resolved=resolved if reached else None,
            satisfied=satisfied if reached else None,
            closed_at=callback_at + dt.timedelta(seconds=rng.randint(5, 120)),
        )
        return story

    def _ticket_deadline(self, story: dict[str, Any], index: WorkdayIndex) -> dict[str, Any]:
        state = index.status_on(story["due_date"], self.today, ticket_deadlines.WARN_WORKING_DAYS)
        story["deadline_state"] = str(state)
        return story

    # --- ratings and rectifications ---------------------------------------------------------

    def add_working_days(self, start: dt.date, days: int, region: str | None = None) -> dt.date:
        """WorkCalendar.add_working_days from the region's index, so that the rules' functions
        that take a calendar can be given the history."""
        return self.index(region).add(start, days)

    def application_rating(
        self, story: ApplicationStory, region: str, *, online: bool
    ) -> RatingStory | None:
        """The applicant's rating of a finished application, if they gave one by `now`: overall
        stars, stars for every department that decided a case, reasons that go with them, and
        the rectifications the rules open."""
        if (
            story.status not in lifecycle.APPLICATION_TERMINAL
            or story.status == ApplicationStatus.WITHDRAWN
            or story.finished_at is None
            or self.rng.random() >= APPLICATION_RATING_SHARE
        ):
            return None
        rated_at = self._rated_at(story.finished_at)
        if rated_at is None:
            return None
        troubles: dict[int, Trouble] = {}
        for case in story.cases:
            if case.status not in (CaseStatus.APPROVED, CaseStatus.REJECTED):
                continue
            department = case.member.department_id
            seen = troubles.get(department, Trouble(online=online))
            late = case.due_date is not None and case.decided_at.date() > case.due_date
            troubles[department] = Trouble(
                late=seen.late or late,
                refused=seen.refused or case.status == CaseStatus.REJECTED,
                asked=seen.asked or case.asked_at is not None,
                online=online,
            )
        overall = Trouble(
            late=any(t.late for t in troubles.values()),
            refused=story.status != ApplicationStatus.COMPLETED,
            asked=any(t.asked for t in troubles.values()),
            online=online,
        )
        return self._rating(rated_at, overall.bad, overall, troubles, region)

    def ticket_rating(self, story: dict[str, Any], region: str, unit: str) -> RatingStory | None:
        """The caller's rating of a closed ticket, if they gave one by `now`; a bad one asks the
        responsible unit to rectify."""
        if story["status"] != "closed" or self.rng.random() >= TICKET_RATING_SHARE:
            return None
        rated_at = self._rated_at(story["closed_at"])
        if rated_at is None:
            return None
        trouble = Trouble(
            late=story["replied_at"].date() > story["due_date"],
            refused=not story.get("resolved"),
            online=True,
        )
        rating = self._rating(rated_at, not story.get("satisfied"), trouble, {}, region)
        rating.rectifications = [
            self.rectification(target, rated_at, region)
            for target in rules.rectification_targets(rating.stars, {}, [unit])
        ]
        return rating

    def _rated_at(self, finished_at: dt.datetime) -> dt.datetime | None:
        rated_at = finished_at + dt.timedelta(hours=self.rng.uniform(0.2, 24 * 5))
        return rated_at if rated_at <= self.now else None

    def _rating(
        self,
        rated_at: dt.datetime,
        bad: bool,
        trouble: Trouble,
        troubles: dict[int, Trouble],
        region: str,
    ) -> RatingStory:
        rng = self.rng
        stars = rng.choices(STARS, weights=STARS_WEIGHTS["bad" if bad else "good"])[0]
        departments = []
        someone_to_blame = rules.is_bad(stars) and any(t.bad for t in troubles.values())
        for department in sorted(troubles):
            own = troubles[department]
            if rng.random() < DEPARTMENT_OWN_BAD_SHARE:
                given = rng.choice((rules.MIN_STARS, rules.BAD_AT_MOST))
            elif someone_to_blame and not own.bad:
                given = rng.choices(STARS, weights=STARS_WEIGHTS["good"])[0]
            else:
                shift = rng.choice(DEPARTMENT_STARS_SHIFT[own.bad])
                given = max(rules.MIN_STARS, min(rules.MAX_STARS, stars + shift))
            departments.append((department, given, self.reasons(given, own)))
        handling = [department for department, _s, _r in departments]
        targets = rules.rectification_targets(
            stars, {department: given for department, given, _r in departments}, handling
        )
        return RatingStory(
            rated_at=rated_at,
            stars=stars,
            reasons=self.reasons(stars, trouble),
            departments=departments,
            rectifications=[self.rectification(t, rated_at, region) for t in targets],
        )

    def reasons(self, stars: int, trouble: Trouble) -> tuple[str, ...]:
        """The standard reasons a rater of `stars` ticks (none, one or two), of the kind the
        stars allow (`rules.reasons_for`), most likely the ones that fit what went wrong."""
        rng = self.rng
        if stars >= rules.GOOD_AT_LEAST:
            kind = ReasonKind.GOOD
        elif stars <= rules.BAD_AT_MOST:
            kind = ReasonKind.BAD
        else:  # three stars: either kind, as what happened suggests
            kind = ReasonKind.BAD if trouble.bad or rng.random() < 0.4 else ReasonKind.GOOD
        count = rng.choices((0, 1, 2), weights=REASON_COUNT_WEIGHTS[kind])[0]
        if not count:
            return ()
        codes, weights = self._reason_weights(stars, kind, trouble)
        picked = set(rng.choices(codes, cum_weights=weights, k=count))
        return tuple(code for code in codes if code in picked)

    def _reason_weights(
        self, stars: int, kind: ReasonKind, trouble: Trouble
    ) -> tuple[list[str], list[int]]:
        key = (stars, kind, trouble)
        cached = self._reason_cache.get(key)
        if cached is None:
            facts = {
                "late": trouble.late,
                "refused": trouble.refused,
                "asked": trouble.asked,
                "on_time": not trouble.late,
                "not_asked": not trouble.asked,
                "online": trouble.online,
            }
            likely = {
                code
                for (of_kind, fact), codes in LIKELY_REASONS.items()
                if of_kind == kind and facts[fact]
                for code in codes
            }
            pool = [r.code for r in rules.reasons_for(stars) if r.kind == kind]
            cached = (pool, list(accumulate(6 if code in likely else 1 for code in pool)))
            self._reason_cache[key] = cached
        return cached

    def rectification(
        self, target: Any, rated_at: dt.datetime, region: str | None
    ) -> RectificationStory:
        """A rectification opened by a bad rating at `rated_at`, due by the rules, as far as
        `now`: the department answers (mostly in time, some late, a few never), the sweep
        escalates it the day after its due date while unanswered, the rater settles or refuses
        the answer (or the sweep settles it by their silence), and the sweep escalates a refused
        one that was not escalated before."""
        rng, texts = self.rng, self.texts
        rated_on = rated_at.date()
        story = RectificationStory(target, rules.rectification_due(self, rated_on, region))
        story.events.append((rated_at, "opened", "", RectificationStatus.OPEN, "", True))
        answered_at = None
        draw = rng.random()
        if draw >= RECTIFY_SILENT_SHARE:
            days = rng.randint(1, rules.RECTIFY_WORKING_DAYS)
            if draw < RECTIFY_SILENT_SHARE + RECTIFY_LATE_SHARE:
                days = rules.RECTIFY_WORKING_DAYS + rng.randint(1, 6)
            answered_at = self.office_time(self.index(region).add(rated_on, days), rated_at)
            if answered_at > self.now:
                answered_at = None
        # The first sweep on the day after the due date finds it still open.
        overdue_sweep = dt.datetime.combine(
            story.due_date + ONE_DAY, dt.time(0, rng.randrange(SWEEP_MINUTES)), tzinfo=self.tz
        )
        if overdue_sweep <= self.now and (answered_at is None or answered_at > overdue_sweep):
            self._escalate(story, overdue_sweep)
        if answered_at is None:
            return story
        story.answer, story.answered_at = rng.choice(texts.rectification_answers), answered_at
        story.move(RectificationAction.ANSWER, answered_at, "answered", story.answer)
        replied_at = answered_at + dt.timedelta(hours=rng.uniform(*RATER_REPLY_HOURS))
        if replied_at > self.now or rng.random() < RATER_SILENT_SHARE:
            self._settle_by_silence(story)
            return story
        story.settled_at = replied_at
        if rng.random() < SETTLED_SHARE:
            story.move(RectificationAction.SETTLE, replied_at, "settled", by_rater=True)
            return story
        story.applicant_note = rng.choice(texts.unsettled_notes)
        story.move(
            RectificationAction.REFUSE, replied_at, "unsettled", story.applicant_note, by_rater=True
        )
        next_sweep = replied_at + dt.timedelta(minutes=rng.randint(1, SWEEP_MINUTES))
        if next_sweep <= self.now:
            self._escalate(story, next_sweep)
        return story

    def _settle_by_silence(self, story: RectificationStory) -> None:
        """What the sweep does to an answer the rater left without a reply: the first sweep
        after `rules.settled_by_silence_at` settles it, if that sweep has run by `now` (left
        answered, the platform's first real sweep would settle and notify them all at once)."""
        silence_ends = rules.settled_by_silence_at(story.answered_at)
        if silence_ends > self.now:
            return
        sweep = silence_ends + dt.timedelta(minutes=self.rng.randint(1, SWEEP_MINUTES))
        if sweep > self.now:
            return
        story.settled_at = sweep
        story.move(RectificationAction.SETTLE, sweep, "settled_by_silence")

    @staticmethod
    def _escalate(story: RectificationStory, at: dt.datetime) -> None:
        """What the sweep does at `at` (`rules.escalation_due`): escalate once, or nothing."""
        # The history never sends one back: escalated once is escalated since.
        reason = rules.escalation_due(
            story.status,
            story.due_date,
            at.date(),
            escalated_since_sent_back=story.escalated_at is not None,
        )
        if reason is None:
            return
        story.escalated_at, story.escalation_reason = at, str(reason)
        story.move(RectificationAction.ESCALATE, at, "escalated")
