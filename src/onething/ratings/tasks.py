"""Outbox topic of 好差评: the periodic sweep that escalates late and unsettled rectifications."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from onething.core.actors import WORKER
from onething.outbox.registry import topic
from onething.outbox.services import outbox_enqueue
from onething.ratings import services

SWEEP_TOPIC = "ratings.sweep"


def ratings_schedule_sweep(*, now: dt.datetime | None = None) -> None:
    """Make sure the next sweep is due at the next quarter-hour mark (one message per mark)."""
    now = now or timezone.now()
    every = services.SWEEP_EVERY_SECONDS
    slot = int(now.timestamp()) // every + 1
    due = dt.datetime.fromtimestamp(slot * every, tz=dt.UTC)
    with transaction.atomic():
        outbox_enqueue(topic=SWEEP_TOPIC, payload={}, key=f"{SWEEP_TOPIC}:{slot}", available_at=due)


@topic(SWEEP_TOPIC, max_attempts=3)
def sweep_ratings(message) -> None:
    """Escalate late and unsettled rectifications; book the next sweep."""
    ratings_schedule_sweep()
    services.rectification_sweep(actor=WORKER)
