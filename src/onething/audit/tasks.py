"""Anchoring the audit streams periodically, through the outbox (so any worker may do it)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from onething.audit.services import audit_anchor
from onething.outbox.registry import topic
from onething.outbox.services import outbox_enqueue

ANCHOR_TOPIC = "audit.anchor"
ANCHOR_EVERY = timedelta(minutes=5)


def audit_schedule_anchor(*, now: datetime | None = None) -> None:
    """Make sure the next anchor is due at the next five-minute mark (one message per mark)."""
    now = now or timezone.now()
    step = int(ANCHOR_EVERY.total_seconds())
    slot = int(now.timestamp()) // step + 1
    due = datetime.fromtimestamp(slot * step, tz=now.tzinfo or timezone.get_current_timezone())
    with transaction.atomic():
        outbox_enqueue(
            topic=ANCHOR_TOPIC, payload={}, key=f"{ANCHOR_TOPIC}:{slot}", available_at=due
        )


@topic(ANCHOR_TOPIC, max_attempts=3)
def anchor_streams(message) -> None:
    # Book the next anchor first: an anchor that keeps failing must not stop the ones after it.
    audit_schedule_anchor()
    audit_anchor()
