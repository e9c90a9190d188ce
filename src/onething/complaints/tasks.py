"""Outbox topics of the hotline: the periodic sweep of deadlines and hot spots (thin)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from onething.complaints import services
from onething.core.actors import WORKER
from onething.outbox.registry import topic
from onething.outbox.services import outbox_enqueue_periodic

SWEEP_TOPIC = "hotline.sweep"
SWEEP_EVERY_SECONDS = 300  # sign-for deadlines are counted in hours: look every five minutes


def hotline_schedule_sweep(*, now: dt.datetime | None = None) -> None:
    """Make sure the next sweep is due at the next five-minute mark (one message per mark)."""
    outbox_enqueue_periodic(topic=SWEEP_TOPIC, every_seconds=SWEEP_EVERY_SECONDS, now=now)


@topic(SWEEP_TOPIC, max_attempts=3)
def sweep_hotline(message) -> None:
    """Mark late sign-fors and replies, escalate, flag this week's hot spots; book the next."""
    hotline_schedule_sweep()
    services.ticket_sweep(actor=WORKER)
    services.hot_spots_flag(actor=WORKER, week=timezone.localdate())
