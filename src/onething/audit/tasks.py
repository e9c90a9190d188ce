"""Anchoring the audit streams periodically, through the outbox (so any worker may do it)."""

from __future__ import annotations

from datetime import datetime, timedelta

from onething.audit.services import audit_anchor
from onething.outbox.registry import topic
from onething.outbox.services import outbox_enqueue_periodic

ANCHOR_TOPIC = "audit.anchor"
ANCHOR_EVERY = timedelta(minutes=5)


def audit_schedule_anchor(*, now: datetime | None = None) -> None:
    """Make sure the next anchor is due at the next five-minute mark (one message per mark)."""
    outbox_enqueue_periodic(
        topic=ANCHOR_TOPIC, every_seconds=int(ANCHOR_EVERY.total_seconds()), now=now
    )


@topic(ANCHOR_TOPIC, max_attempts=3)
def anchor_streams(message) -> None:
    # Book the next anchor first: an anchor that keeps failing must not stop the ones after it.
    audit_schedule_anchor()
    audit_anchor()
