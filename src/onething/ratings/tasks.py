"""Outbox topic of 好差评: the periodic sweep that escalates late and unsettled rectifications."""

from __future__ import annotations

import datetime as dt

from onething.core.actors import WORKER
from onething.outbox.registry import topic
from onething.outbox.services import outbox_enqueue_periodic
from onething.ratings import services

SWEEP_TOPIC = "ratings.sweep"


def ratings_schedule_sweep(*, now: dt.datetime | None = None) -> None:
    """Make sure the next sweep is due at the next quarter-hour mark (one message per mark)."""
    outbox_enqueue_periodic(topic=SWEEP_TOPIC, every_seconds=services.SWEEP_EVERY_SECONDS, now=now)


@topic(SWEEP_TOPIC, max_attempts=3)
def sweep_ratings(message) -> None:
    """Escalate late and unsettled rectifications; book the next sweep."""
    ratings_schedule_sweep()
    services.rectification_sweep(actor=WORKER)
