"""The life of an application and its cases: allowed transitions, release and outcome.

Pure: no Django import. Services lock the rows, ask this module what may happen, and write it.

Case:        waiting → ready → accepted → approved | rejected; accepted ↔ supplement;
             any open state → cancelled (application withdrawn, or a prerequisite rejected).
Application: draft → submitted → in_progress ↔ awaiting_supplement →
             completed | partly_completed | rejected | withdrawn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class TransitionNotAllowed(ValueError):
    def __init__(self, kind: str, status: str, action: str) -> None:
        super().__init__(f"{kind} in status {status!r} cannot {action!r}")
        self.kind, self.status, self.action = kind, status, action


class CaseStatus(StrEnum):
    WAITING = "waiting"  # a prerequisite is not approved yet
    READY = "ready"  # dispatched to its handler, not yet taken up
    ACCEPTED = "accepted"  # the department is working on it
    SUPPLEMENT = "supplement"  # waiting for the applicant to supply something
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class CaseAction(StrEnum):
    RELEASE = "release"
    ACCEPT = "accept"
    ASK_SUPPLEMENT = "ask_supplement"
    RESUME = "resume"
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"


CASE_TERMINAL = frozenset({CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.CANCELLED})
CASE_OPEN = frozenset(CaseStatus) - CASE_TERMINAL

# How late a case is, as the deadline sweep marks it: the workbench sorts the worst first.
DEADLINE_SEVERITY = {"": 0, "on_time": 0, "due_soon": 1, "overdue": 2, "escalated": 3}
# The cases whose deadline mark the department must act on (the applicant holds the others).
DEADLINE_MARKED = (CaseStatus.READY, CaseStatus.ACCEPTED)

CASE_TRANSITIONS: dict[tuple[CaseStatus, CaseAction], CaseStatus] = {
    (CaseStatus.WAITING, CaseAction.RELEASE): CaseStatus.READY,
    (CaseStatus.READY, CaseAction.ACCEPT): CaseStatus.ACCEPTED,
    (CaseStatus.ACCEPTED, CaseAction.ASK_SUPPLEMENT): CaseStatus.SUPPLEMENT,
    (CaseStatus.SUPPLEMENT, CaseAction.RESUME): CaseStatus.ACCEPTED,
    (CaseStatus.ACCEPTED, CaseAction.APPROVE): CaseStatus.APPROVED,
    (CaseStatus.ACCEPTED, CaseAction.REJECT): CaseStatus.REJECTED,
    **{(status, CaseAction.CANCEL): CaseStatus.CANCELLED for status in CASE_OPEN},
}


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_PROGRESS = "in_progress"
    AWAITING_SUPPLEMENT = "awaiting_supplement"
    COMPLETED = "completed"
    PARTLY_COMPLETED = "partly_completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ApplicationAction(StrEnum):
    SUBMIT = "submit"
    START = "start"
    AWAIT_SUPPLEMENT = "await_supplement"
    RESUME = "resume"
    COMPLETE = "complete"
    PARTLY_COMPLETE = "partly_complete"
    REJECT = "reject"
    WITHDRAW = "withdraw"


APPLICATION_TERMINAL = frozenset(
    {
        ApplicationStatus.COMPLETED,
        ApplicationStatus.PARTLY_COMPLETED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.WITHDRAWN,
    }
)
_RUNNING = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.IN_PROGRESS,
    ApplicationStatus.AWAITING_SUPPLEMENT,
)

APPLICATION_TRANSITIONS: dict[tuple[ApplicationStatus, ApplicationAction], ApplicationStatus] = {
    (ApplicationStatus.DRAFT, ApplicationAction.SUBMIT): ApplicationStatus.SUBMITTED,
    (ApplicationStatus.SUBMITTED, ApplicationAction.START): ApplicationStatus.IN_PROGRESS,
    (ApplicationStatus.IN_PROGRESS, ApplicationAction.AWAIT_SUPPLEMENT): (
        ApplicationStatus.AWAITING_SUPPLEMENT
    ),
    (ApplicationStatus.AWAITING_SUPPLEMENT, ApplicationAction.RESUME): (
        ApplicationStatus.IN_PROGRESS
    ),
    **{(s, ApplicationAction.COMPLETE): ApplicationStatus.COMPLETED for s in _RUNNING},
    **{
        (s, ApplicationAction.PARTLY_COMPLETE): ApplicationStatus.PARTLY_COMPLETED for s in _RUNNING
    },
    **{(s, ApplicationAction.REJECT): ApplicationStatus.REJECTED for s in _RUNNING},
    **{
        (s, ApplicationAction.WITHDRAW): ApplicationStatus.WITHDRAWN
        for s in (ApplicationStatus.DRAFT, *_RUNNING)
    },
}


def case_next(status: str, action: str) -> CaseStatus:
    """The status a case moves to, or TransitionNotAllowed."""
    try:
        return CASE_TRANSITIONS[CaseStatus(status), CaseAction(action)]
    except (KeyError, ValueError):
        raise TransitionNotAllowed("case", status, action) from None


def application_next(status: str, action: str) -> ApplicationStatus:
    """The status an application moves to, or TransitionNotAllowed."""
    try:
        return APPLICATION_TRANSITIONS[ApplicationStatus(status), ApplicationAction(action)]
    except (KeyError, ValueError):
        raise TransitionNotAllowed("application", status, action) from None


def releasable(
    statuses: Mapping[str, str], prerequisites: Mapping[str, Iterable[str]]
) -> list[str]:
    """Waiting cases whose every prerequisite is approved, in the given order."""
    return [
        code
        for code, status in statuses.items()
        if status == CaseStatus.WAITING
        and all(statuses.get(p) == CaseStatus.APPROVED for p in prerequisites.get(code, ()))
    ]


def dependents_to_cancel(
    rejected: str, statuses: Mapping[str, str], prerequisites: Mapping[str, Iterable[str]]
) -> list[str]:
    """Open cases that (transitively) wait on a rejected or cancelled case.

    Independent cases go on: only what can no longer receive its inputs is cancelled.
    """
    doomed = {rejected}
    changed = True
    while changed:
        changed = False
        for code, before in prerequisites.items():
            if code not in doomed and doomed & set(before):
                doomed.add(code)
                changed = True
    return [
        code
        for code in statuses
        if code in doomed and code != rejected and statuses[code] in CASE_OPEN
    ]


def application_outcome(statuses: Iterable[str]) -> ApplicationAction | None:
    """How the application ends once every case is terminal; None while any is open.

    Completed when every case is approved, partly completed when some are, rejected when none.
    """
    statuses = [CaseStatus(s) for s in statuses]
    if not statuses or any(s in CASE_OPEN for s in statuses):
        return None
    approved = sum(1 for s in statuses if s == CaseStatus.APPROVED)
    if approved == len(statuses):
        return ApplicationAction.COMPLETE
    if approved:
        return ApplicationAction.PARTLY_COMPLETE
    return ApplicationAction.REJECT


def progress_percent(statuses: Iterable[str]) -> int:
    """Share of cases that reached a terminal state, for the applicant's progress bar."""
    statuses = list(statuses)
    if not statuses:
        return 0
    done = sum(1 for s in statuses if CaseStatus(s) in CASE_TERMINAL)
    return round(100 * done / len(statuses))
