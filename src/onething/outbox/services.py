"""Writes to the outbox: enqueueing next steps and staff retries of dead ones.

Claiming and finishing messages is the worker's job (`outbox.worker`).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onething.core.errors import NotAllowed, NotFound
from onething.outbox.models import OutboxMessage

logger = logging.getLogger("onething.outbox")


def outbox_enqueue(
    *,
    topic: str,
    payload: dict[str, Any],
    key: str | None = None,
    available_at: datetime | None = None,
) -> OutboxMessage:
    """Record a next step; call it inside the transaction of the change that calls for it.

    The message then commits or rolls back with that change. With a `key`, enqueueing again
    returns the message already recorded under it instead of a second one.
    """
    if not topic:
        raise ValueError("an outbox message needs a topic")
    if not isinstance(payload, dict):
        raise TypeError("an outbox payload must be a JSON object (a dict)")
    try:
        json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"an outbox payload must be plain JSON: {exc}") from None
    return _enqueue(topic=topic, payload=payload, key=key, when=available_at or timezone.now())


# Without a savepoint of its own (two round trips for each of the dozen messages of an
# application's life): checked above, what is left can only fail as the caller's transaction
# would anyway.
@transaction.atomic(savepoint=False)
def _enqueue(
    *, topic: str, payload: dict[str, Any], key: str | None, when: datetime
) -> OutboxMessage:
    if key is None:
        return OutboxMessage.objects.create(topic=topic, payload=payload, available_at=when)
    # INSERT … ON CONFLICT DO NOTHING, then the row under the key: two statements whether the
    # key is new or taken (get_or_create was a read and an insert in two savepoints). A
    # concurrent enqueue of the same key makes the insert wait for that transaction's end, so
    # concurrent enqueues agree on one message.
    OutboxMessage.objects.bulk_create(
        [OutboxMessage(key=key, topic=topic, payload=payload, available_at=when)],
        ignore_conflicts=True,
    )
    return OutboxMessage.objects.get(key=key)


def outbox_enqueue_periodic(
    *, topic: str, every_seconds: int, now: datetime | None = None
) -> OutboxMessage:
    """Make sure the next run of a periodic `topic` is due at the next multiple of
    `every_seconds` after `now` (Unix time).

    One message per slot: the slot is the message's key, so every worker booking the same run
    finds the one message instead of adding another.
    """
    moment = now or timezone.now()
    slot = int(moment.timestamp()) // every_seconds + 1
    return outbox_enqueue(
        topic=topic,
        payload={},
        key=f"{topic}:{slot}",
        available_at=datetime.fromtimestamp(slot * every_seconds, tz=UTC),
    )


@transaction.atomic
def outbox_retry(*, actor: str, message_id: int) -> OutboxMessage:
    """Staff put a dead message back in the queue: pending, attempts reset, due now."""
    message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        raise NotFound(_("There is no outbox message %(id)s.") % {"id": message_id})
    if message.status != OutboxMessage.Status.DEAD:
        raise NotAllowed(
            _("Only a dead message can be retried; message %(id)s is %(status)s.")
            % {"id": message_id, "status": message.get_status_display()}
        )
    message.status = OutboxMessage.Status.PENDING
    message.attempts = 0
    message.available_at = timezone.now()
    message.lease_until = None
    message.save(update_fields=["status", "attempts", "available_at", "lease_until", "updated_at"])
    # The last error stays visible until the next attempt replaces it.
    logger.info("outbox message %s (%s) retried by %s", message.pk, message.topic, actor)
    return message
