"""The lifecycle is pure: transition tables, release, cancellation and outcome."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from onething.applications.lifecycle import (
    CASE_OPEN,
    CASE_TERMINAL,
    ApplicationAction,
    ApplicationStatus,
    CaseAction,
    CaseStatus,
    TransitionNotAllowed,
    application_next,
    application_outcome,
    case_next,
    dependents_to_cancel,
    progress_percent,
    releasable,
)

W, R, A, S, OK, NO, X = (
    CaseStatus.WAITING,
    CaseStatus.READY,
    CaseStatus.ACCEPTED,
    CaseStatus.SUPPLEMENT,
    CaseStatus.APPROVED,
    CaseStatus.REJECTED,
    CaseStatus.CANCELLED,
)


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [
        (W, CaseAction.RELEASE, R),
        (R, CaseAction.ACCEPT, A),
        (A, CaseAction.ASK_SUPPLEMENT, S),
        (S, CaseAction.RESUME, A),
        (A, CaseAction.APPROVE, OK),
        (A, CaseAction.REJECT, NO),
        (W, CaseAction.CANCEL, X),
        (R, CaseAction.CANCEL, X),
        (S, CaseAction.CANCEL, X),
    ],
)
def test_allowed_case_transitions(status, action, expected):
    assert case_next(status, action) == expected


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (W, CaseAction.APPROVE),
        (R, CaseAction.APPROVE),
        (S, CaseAction.APPROVE),
        (OK, CaseAction.CANCEL),
        (NO, CaseAction.ACCEPT),
        (X, CaseAction.RELEASE),
        (OK, CaseAction.REJECT),
        ("nonsense", CaseAction.ACCEPT),
        (A, "explode"),
    ],
)
def test_forbidden_case_transitions(status, action):
    with pytest.raises(TransitionNotAllowed):
        case_next(status, action)


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [
        (ApplicationStatus.DRAFT, ApplicationAction.SUBMIT, ApplicationStatus.SUBMITTED),
        (ApplicationStatus.SUBMITTED, ApplicationAction.START, ApplicationStatus.IN_PROGRESS),
        (
            ApplicationStatus.IN_PROGRESS,
            ApplicationAction.AWAIT_SUPPLEMENT,
            ApplicationStatus.AWAITING_SUPPLEMENT,
        ),
        (
            ApplicationStatus.AWAITING_SUPPLEMENT,
            ApplicationAction.RESUME,
            ApplicationStatus.IN_PROGRESS,
        ),
        (ApplicationStatus.IN_PROGRESS, ApplicationAction.COMPLETE, ApplicationStatus.COMPLETED),
        (ApplicationStatus.SUBMITTED, ApplicationAction.WITHDRAW, ApplicationStatus.WITHDRAWN),
        (
            ApplicationStatus.IN_PROGRESS,
            ApplicationAction.PARTLY_COMPLETE,
            ApplicationStatus.PARTLY_COMPLETED,
        ),
    ],
)
def test_allowed_application_transitions(status, action, expected):
    assert application_next(status, action) == expected


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (ApplicationStatus.COMPLETED, ApplicationAction.WITHDRAW),
        (ApplicationStatus.WITHDRAWN, ApplicationAction.SUBMIT),
        (ApplicationStatus.DRAFT, ApplicationAction.COMPLETE),
        (ApplicationStatus.REJECTED, ApplicationAction.RESUME),
    ],
)
def test_forbidden_application_transitions(status, action):
    with pytest.raises(TransitionNotAllowed):
        application_next(status, action)


def test_a_case_is_released_when_every_prerequisite_is_approved():
    prerequisites = {"hukou": ["birth"], "insurance": ["hukou"], "card": ["hukou", "photo"]}
    statuses = {"birth": OK, "photo": A, "hukou": W, "insurance": W, "card": W}
    assert releasable(statuses, prerequisites) == ["hukou"]
    statuses["hukou"] = OK
    assert releasable(statuses, prerequisites) == ["insurance"]


def test_a_rejection_cancels_exactly_the_open_dependents():
    prerequisites = {"b": ["a"], "c": ["b"], "d": [], "e": ["d", "b"]}
    statuses = {"a": NO, "b": W, "c": W, "d": A, "e": W}
    assert dependents_to_cancel("a", statuses, prerequisites) == ["b", "c", "e"]


@pytest.mark.parametrize(
    ("statuses", "outcome"),
    [
        ([OK, OK], ApplicationAction.COMPLETE),
        ([OK, NO, X], ApplicationAction.PARTLY_COMPLETE),
        ([NO, X], ApplicationAction.REJECT),
        ([OK, A], None),
        ([], None),
    ],
)
def test_the_outcome_once_every_case_is_terminal(statuses, outcome):
    assert application_outcome(statuses) == outcome


def test_progress_counts_terminal_cases():
    assert progress_percent([OK, NO, A, W]) == 50
    assert progress_percent([]) == 0


class ApplicationMachine(RuleBasedStateMachine):
    """Random sequences of reviewer and applicant actions over a random dependency graph,
    driven through the same functions the services use."""

    @initialize(data=st.data())
    def build(self, data):
        count = data.draw(st.integers(min_value=1, max_value=7))
        self.codes = [f"c{i}" for i in range(count)]
        self.prerequisites = {
            code: data.draw(st.lists(st.sampled_from(self.codes[:i]), unique=True)) if i else []
            for i, code in enumerate(self.codes)
        }
        self.statuses = {code: CaseStatus.WAITING for code in self.codes}
        self.application = ApplicationStatus.SUBMITTED
        self.withdrawn_snapshot = None
        self._release()

    def _release(self):
        for code in releasable(self.statuses, self.prerequisites):
            self.statuses[code] = case_next(self.statuses[code], CaseAction.RELEASE)

    def _settle(self):
        if self.application in (ApplicationStatus.SUBMITTED, ApplicationStatus.IN_PROGRESS):
            outcome = application_outcome(self.statuses.values())
            if outcome:
                self.application = application_next(self.application, outcome)

    def _act(self, code, action):
        # No guard for a withdrawn application: its cases are cancelled, and the transition
        # table itself must refuse every action on them (the invariant checks it does).
        try:
            self.statuses[code] = case_next(self.statuses[code], action)
        except TransitionNotAllowed:
            return
        if action == CaseAction.ACCEPT and self.application == ApplicationStatus.SUBMITTED:
            self.application = application_next(self.application, ApplicationAction.START)
        if action == CaseAction.REJECT:
            for dependent in dependents_to_cancel(code, self.statuses, self.prerequisites):
                self.statuses[dependent] = case_next(self.statuses[dependent], CaseAction.CANCEL)
        self._release()
        self._settle()

    @rule(
        data=st.data(),
        action=st.sampled_from([CaseAction.ACCEPT, CaseAction.APPROVE, CaseAction.REJECT]),
    )
    def department_acts(self, data, action):
        self._act(data.draw(st.sampled_from(self.codes)), action)

    @precondition(
        lambda self: (
            self.application
            not in (
                ApplicationStatus.COMPLETED,
                ApplicationStatus.PARTLY_COMPLETED,
                ApplicationStatus.REJECTED,
                ApplicationStatus.WITHDRAWN,
            )
        )
    )
    @rule()
    def applicant_withdraws(self):
        self.application = application_next(self.application, ApplicationAction.WITHDRAW)
        for code, status in self.statuses.items():
            if status in CASE_OPEN:
                self.statuses[code] = case_next(status, CaseAction.CANCEL)
        self.withdrawn_snapshot = dict(self.statuses)

    @invariant()
    def no_case_is_approved_before_its_prerequisites(self):
        for code, status in self.statuses.items():
            if status in (CaseStatus.READY, CaseStatus.ACCEPTED, CaseStatus.APPROVED):
                assert all(
                    self.statuses[p] == CaseStatus.APPROVED for p in self.prerequisites[code]
                )

    @invariant()
    def complete_exactly_when_every_case_is_terminal(self):
        if self.application == ApplicationStatus.WITHDRAWN:
            return
        all_terminal = all(s in CASE_TERMINAL for s in self.statuses.values())
        finished = self.application in (
            ApplicationStatus.COMPLETED,
            ApplicationStatus.PARTLY_COMPLETED,
            ApplicationStatus.REJECTED,
        )
        assert finished == all_terminal
        if self.application == ApplicationStatus.COMPLETED:
            assert all(s == CaseStatus.APPROVED for s in self.statuses.values())

    @invariant()
    def nothing_moves_after_withdrawal(self):
        if self.withdrawn_snapshot is not None:
            assert self.statuses == self.withdrawn_snapshot
            assert all(s in CASE_TERMINAL for s in self.statuses.values())


TestApplicationMachine = ApplicationMachine.TestCase
TestApplicationMachine.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
