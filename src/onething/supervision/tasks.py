"""Outbox topics of supervision: the roll-ups' refresh every minute, and the month-end
snapshot looked for every ten minutes (thin)."""

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
SNAPSHOT_TOPIC = "supervision.month_end_snapshot"
# The first run after midnight on the 1st keeps the month that ended; the others find it kept.
SNAPSHOT_EVERY_SECONDS = 600


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


def snapshot_schedule_check(*, now: dt.datetime | None = None) -> None:
    """Make sure the next month-end check is due at the next ten-minute mark (one message)."""
    now = now or timezone.now()
    slot = int(now.timestamp()) // SNAPSHOT_EVERY_SECONDS + 1
    due = dt.datetime.fromtimestamp(slot * SNAPSHOT_EVERY_SECONDS, tz=dt.UTC)
    with transaction.atomic():
        outbox_enqueue(
            topic=SNAPSHOT_TOPIC, payload={}, key=f"{SNAPSHOT_TOPIC}:{slot}", available_at=due
        )


@topic(SNAPSHOT_TOPIC, max_attempts=3)
def take_month_end_snapshot(message) -> None:
    """Book the next check, then keep the month that last ended if nobody has yet."""
    snapshot_schedule_check()
    services.month_end_snapshot_take(actor=WORKER)
