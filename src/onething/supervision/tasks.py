"""Outbox topics of supervision: the roll-ups' refresh every minute (thin)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from onething.core.actors import WORKER
from onething.outbox.registry import topic
from onething.outbox.services import outbox_enqueue
from onething.supervision import services

REFRESH_TOPIC = "supervision.refresh_rollups"
REFRESH_EVERY_SECONDS = 60


def rollups_schedule_refresh(*, now: dt.datetime | None = None) -> None:
    """Make sure the next refresh is due at the next full minute (one message per minute)."""
    now = now or timezone.now()
    slot = int(now.timestamp()) // REFRESH_EVERY_SECONDS + 1
    due = dt.datetime.fromtimestamp(slot * REFRESH_EVERY_SECONDS, tz=dt.UTC)
    with transaction.atomic():
        outbox_enqueue(
            topic=REFRESH_TOPIC, payload={}, key=f"{REFRESH_TOPIC}:{slot}", available_at=due
        )


@topic(REFRESH_TOPIC, max_attempts=3)
def refresh_rollups(message) -> None:
    """Book the next refresh, then fold what changed since the last one into the roll-ups."""
    rollups_schedule_refresh()
    services.rollups_refresh(actor=WORKER)
