"""The ticket's life cycle: every status × action allowed or refused as the design says, and no
sequence of actions leaves the defined states or closes a ticket nobody answered."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.complaints.lifecycle import (
    CallbackNext,
    TicketAction,
    TicketStatus,
    TransitionNotAllowed,
    allowed_actions,
    callback_next,
    next_status,
)

# status -> {action: next status}; every pair not listed is refused.
ALLOWED = {
    "received": {"dispatch": "dispatched", "follow_lead": "replied"},
    "dispatched": {
        "dispatch": "dispatched",  # a transfer (改派)
        "accept": "accepted",
        "return": "returned",
        "follow_lead": "replied",
    },
    "accepted": {
        "dispatch": "dispatched",
        "return": "returned",
        "reply": "replied",
        "follow_lead": "replied",
    },
    "returned": {"dispatch": "dispatched", "follow_lead": "replied"},
    "replied": {"close": "closed", "rehandle": "dispatched"},
    "closed": {"rehandle": "dispatched"},
}

PAIRS = list(itertools.product([s.value for s in TicketStatus], [a.value for a in TicketAction]))


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_each_status_allows_exactly_the_designed_actions(status, action):
    expected = ALLOWED[status].get(action)
    if expected is None:
        with pytest.raises(TransitionNotAllowed):
            next_status(status, action)
    else:
        assert next_status(status, action) == expected


def test_the_table_names_every_status_and_allowed_actions_agree():
    assert set(ALLOWED) == {s.value for s in TicketStatus}
    for status, moves in ALLOWED.items():
        assert allowed_actions(status) == set(moves)


@pytest.mark.parametrize(("status", "action"), [("lost", "dispatch"), ("received", "shred")])
def test_unknown_statuses_and_actions_are_refused(status, action):
    with pytest.raises(TransitionNotAllowed):
        next_status(status, action)


@pytest.mark.parametrize(
    ("reached", "resolved", "satisfied", "unreached_before", "outcome"),
    [
        (True, True, True, 0, CallbackNext.CLOSE),
        (True, True, False, 0, CallbackNext.AGENT_DECIDES),  # re-handle or close
        (True, False, True, 0, CallbackNext.AGENT_DECIDES),
        (True, False, False, 2, CallbackNext.AGENT_DECIDES),
        # A call that reached nobody proves nothing: call again, twice, then close.
        (False, False, False, 0, CallbackNext.CALL_AGAIN),
        (False, True, True, 0, CallbackNext.CALL_AGAIN),
        (False, False, False, 1, CallbackNext.CALL_AGAIN),
        (False, False, False, 2, CallbackNext.CLOSE),
    ],
)
def test_a_callback_closes_a_solved_ticket_and_calls_again_when_it_reached_nobody(
    reached, resolved, satisfied, unreached_before, outcome
):
    assert (
        callback_next(
            reached=reached,
            resolved=resolved,
            satisfied=satisfied,
            unreached_before=unreached_before,
        )
        == outcome
    )


@given(st.lists(st.sampled_from(list(TicketAction)), max_size=60))
def test_no_sequence_of_actions_leaves_the_states_or_closes_an_unanswered_ticket(actions):
    status = TicketStatus.RECEIVED
    replied_since_dispatch = False
    for action in actions:
        try:
            after = next_status(status, action)
        except TransitionNotAllowed:
            assert action not in allowed_actions(status)
            continue
        assert after in TicketStatus
        if after == TicketStatus.CLOSED:
            assert status == TicketStatus.REPLIED
            assert replied_since_dispatch
        if after == TicketStatus.ACCEPTED:
            assert status == TicketStatus.DISPATCHED
        if after == TicketStatus.REPLIED:
            replied_since_dispatch = True
        elif after == TicketStatus.DISPATCHED:
            replied_since_dispatch = False  # a new unit, or re-handling: a new answer is owed
        status = after
