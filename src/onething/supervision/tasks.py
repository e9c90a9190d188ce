"""Outbox topics of supervision: the roll-ups' refresh every minute, and the month-end
snapshot looked for every ten minutes (thin)."""

from __future__ import annotations

import datetime as dt

from onething.core.actors import WORKER
from onething.outbox.registry import topic
from onething.outbox.services import outbox_enqueue_periodic
from onething.supervision import services

REFRESH_TOPIC = "supervision.refresh_rollups"
REFRESH_EVERY_SECONDS = 60
SNAPSHOT_TOPIC = "supervision.month_end_snapshot"
# The first run after midnight on the 1st keeps the month that ended; the others find it kept.
SNAPSHOT_EVERY_SECONDS = 600


def rollups_schedule_refresh(*, now: dt.datetime | None = None) -> None:
    """Make sure the next refresh is due at the next full minute (one message per minute)."""
    outbox_enqueue_periodic(topic=REFRESH_TOPIC, every_seconds=REFRESH_EVERY_SECONDS, now=now)


@topic(REFRESH_TOPIC, max_attempts=3)
def refresh_rollups(message) -> None:
    """Book the next refresh, then fold what changed since the last one into the roll-ups."""
    rollups_schedule_refresh()
    services.rollups_refresh(actor=WORKER)


def snapshot_schedule_check(*, now: dt.datetime | None = None) -> None:
    """Make sure the next month-end check is due at the next ten-minute mark (one message)."""
    outbox_enqueue_periodic(topic=SNAPSHOT_TOPIC, every_seconds=SNAPSHOT_EVERY_SECONDS, now=now)


@topic(SNAPSHOT_TOPIC, max_attempts=3)
def take_month_end_snapshot(message) -> None:
    """Book the next check, then keep the month that last ended if nobody has yet."""
    snapshot_schedule_check()
    services.month_end_snapshot_take(actor=WORKER)
