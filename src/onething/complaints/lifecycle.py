"""The life of a 12345 ticket (工单): allowed transitions, checked in one place.

Pure: no Django import. Services lock the ticket, ask this module what may happen, and write it.

received → dispatched → accepted (签收) → replied (答复) → closed (after the callback 回访);
dispatched | accepted → returned (退单: not ours) → dispatched (to the next unit);
replied | closed → dispatched again when the citizen's problem was not solved (重办);
a ticket linked to a lead ticket is answered with the lead's reply (one fix answers all).
Escalation (提级督办) is a flag, not a state: the ticket keeps moving while a supervisor watches.
"""

from __future__ import annotations

from enum import StrEnum


class TransitionNotAllowed(ValueError):
    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"a ticket in status {status!r} cannot {action!r}")
        self.status, self.action = status, action


class TicketStatus(StrEnum):
    RECEIVED = "received"  # taken in, not yet sent to a unit
    DISPATCHED = "dispatched"  # sent to a unit, waiting for it to sign for it
    ACCEPTED = "accepted"  # the unit signed for it and is handling it
    RETURNED = "returned"  # the unit says it is not theirs; the dispatcher re-routes it
    REPLIED = "replied"  # the unit said what it did; the hotline calls the citizen back
    CLOSED = "closed"


class TicketAction(StrEnum):
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    RETURN = "return"
    REPLY = "reply"
    FOLLOW_LEAD = "follow_lead"
    CLOSE = "close"
    REHANDLE = "rehandle"


OPEN = frozenset(TicketStatus) - {TicketStatus.CLOSED}
# Statuses in which a unit holds the ticket (its clock for the reply runs).
WITH_UNIT = frozenset({TicketStatus.DISPATCHED, TicketStatus.ACCEPTED})

TRANSITIONS: dict[tuple[TicketStatus, TicketAction], TicketStatus] = {
    (TicketStatus.RECEIVED, TicketAction.DISPATCH): TicketStatus.DISPATCHED,
    (TicketStatus.RETURNED, TicketAction.DISPATCH): TicketStatus.DISPATCHED,
    # A dispatcher may move a ticket a unit holds to another unit (改派): a transfer.
    (TicketStatus.DISPATCHED, TicketAction.DISPATCH): TicketStatus.DISPATCHED,
    (TicketStatus.ACCEPTED, TicketAction.DISPATCH): TicketStatus.DISPATCHED,
    (TicketStatus.DISPATCHED, TicketAction.ACCEPT): TicketStatus.ACCEPTED,
    (TicketStatus.DISPATCHED, TicketAction.RETURN): TicketStatus.RETURNED,
    (TicketStatus.ACCEPTED, TicketAction.RETURN): TicketStatus.RETURNED,
    (TicketStatus.ACCEPTED, TicketAction.REPLY): TicketStatus.REPLIED,
    (TicketStatus.RECEIVED, TicketAction.FOLLOW_LEAD): TicketStatus.REPLIED,
    (TicketStatus.DISPATCHED, TicketAction.FOLLOW_LEAD): TicketStatus.REPLIED,
    (TicketStatus.ACCEPTED, TicketAction.FOLLOW_LEAD): TicketStatus.REPLIED,
    (TicketStatus.RETURNED, TicketAction.FOLLOW_LEAD): TicketStatus.REPLIED,
    (TicketStatus.REPLIED, TicketAction.CLOSE): TicketStatus.CLOSED,
    (TicketStatus.REPLIED, TicketAction.REHANDLE): TicketStatus.DISPATCHED,
    (TicketStatus.CLOSED, TicketAction.REHANDLE): TicketStatus.DISPATCHED,
}


def next_status(status: str, action: str) -> TicketStatus:
    """The status after `action`, or TransitionNotAllowed."""
    try:
        key = (TicketStatus(status), TicketAction(action))
    except ValueError:
        raise TransitionNotAllowed(status, action) from None
    try:
        return TRANSITIONS[key]
    except KeyError:
        raise TransitionNotAllowed(status, action) from None


def allowed_actions(status: str) -> frozenset[TicketAction]:
    return frozenset(action for (state, action) in TRANSITIONS if state == status)


# 回访: a callback that reaches nobody is tried again on the next working day; after this many
# calls that reached nobody the ticket closes, counted as "not reached" in the rates.
UNREACHED_CALLS_AT_MOST = 3


class CallbackNext(StrEnum):
    CLOSE = "close"
    AGENT_DECIDES = "agent_decides"  # re-handle or close
    CALL_AGAIN = "call_again"


def callback_next(
    *, reached: bool, resolved: bool, satisfied: bool, unreached_before: int = 0
) -> CallbackNext:
    """What a callback leads to: close when the citizen says it is solved and is satisfied; the
    agent's choice when reached but not both; another call while nobody answered, up to
    UNREACHED_CALLS_AT_MOST calls (a call that reached nobody proves nothing)."""
    if reached:
        return CallbackNext.CLOSE if resolved and satisfied else CallbackNext.AGENT_DECIDES
    if unreached_before + 1 < UNREACHED_CALLS_AT_MOST:
        return CallbackNext.CALL_AGAIN
    return CallbackNext.CLOSE
