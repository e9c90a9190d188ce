"""The outbox worker: claim due messages under a lease, run their handlers, record the outcome.

One pass (`outbox_run_once`) is three steps, so no transaction stays open while a handler talks
to a department:

1. claim, in one short transaction: due messages (pending and available, or running with an
   expired lease) are locked with `FOR UPDATE SKIP LOCKED` where the database has it
   (PostgreSQL: several workers on several machines never claim the same row; SQLite serialises
   writers, and our SQLite transactions begin IMMEDIATE, so a plain claim is safe there), then
   marked running, leased to this worker, and their attempt counted;
2. run each handler outside that transaction;
3. record the outcome (done, retry later with backoff, or dead) only if the row is still
   claimed by this worker at the same attempt. This fence keeps a worker whose lease ran out,
   and whose message another worker has claimed since, from overwriting the newer claim.

A worker killed at any point loses nothing: its leases expire and the messages are claimed again.
Delivery is at least once, so handlers are idempotent (see `outbox.registry`).
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import close_old_connections, connection, connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from onething.core.registry import Registry
from onething.outbox.models import OutboxMessage
from onething.outbox.registry import PermanentFailure, Topic, autodiscover, topics

logger = logging.getLogger("onething.outbox")

Status = OutboxMessage.Status
ERROR_LIMIT = 500
LEASE_LOST_ERROR = "LeaseExpired: the worker running the last attempt stopped before finishing"


def default_worker_id() -> str:
    """host-pid-random: unique per process, which the fencing relies on."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


def retry_delay(topic: Topic, attempts: int, jitter: float) -> timedelta:
    """Exponential backoff: base * 2**(attempts - 1), capped at the maximum, times the jitter.

    The jitter (a factor in [0.5, 1.5]) spreads out messages that failed together, so a
    department coming back is not hit by all of them at the same moment.
    """
    exponent = min(attempts - 1, 60)  # 2**60 seconds is far past any cap; avoids overflow
    delay = min(topic.max_delay_seconds, topic.base_delay_seconds * 2**exponent)
    return timedelta(seconds=delay * jitter)


def error_text(exc: BaseException) -> str:
    """What staff see of a failure: the exception class and message, never a traceback."""
    return f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]


def _clock(now: datetime | None) -> Callable[[], datetime]:
    """The current time; with a pinned `now` (tests), `now` plus the real time since then."""
    if now is None:
        return timezone.now
    start = time.monotonic()
    return lambda: now + timedelta(seconds=time.monotonic() - start)


@dataclass
class _Claim:
    message: OutboxMessage
    # Its lease ran out on the last allowed attempt (the worker died, perhaps because of this
    # very message): it goes dead instead of running again.
    exhausted: bool


def _claim(
    *, worker_id: str, registry: Registry[Topic], clock: Callable[[], datetime], batch: int
) -> list[_Claim]:
    known = list(registry)
    if not known or batch < 1:
        return []
    claims = []
    with transaction.atomic():
        now = clock()
        due = Q(status=Status.PENDING, available_at__lte=now) | Q(
            status=Status.RUNNING, lease_until__lt=now
        )
        # Only topics this worker can handle: a worker deployed without some app's tasks must
        # not burn the attempts of messages it cannot run.
        rows = OutboxMessage.objects.filter(due, topic__in=known).order_by("available_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        for message in rows[:batch]:
            topic = registry[message.topic]
            exhausted = message.status == Status.RUNNING and message.attempts >= topic.max_attempts
            if not exhausted:
                message.attempts += 1
            message.status = Status.RUNNING
            message.claimed_by = worker_id
            message.lease_until = now + timedelta(seconds=topic.lease_seconds)
            OutboxMessage.objects.filter(pk=message.pk).update(
                status=message.status,
                claimed_by=message.claimed_by,
                lease_until=message.lease_until,
                attempts=message.attempts,
                updated_at=now,
            )
            claims.append(_Claim(message, exhausted))
    return claims


def _fence(message: OutboxMessage) -> QuerySet[OutboxMessage]:
    """The message's row, as long as it is still this claim (same worker, same attempt)."""
    return OutboxMessage.objects.filter(
        pk=message.pk,
        status=Status.RUNNING,
        claimed_by=message.claimed_by,
        attempts=message.attempts,
    )


def _complete(message: OutboxMessage, clock: Callable[[], datetime]) -> None:
    now = clock()
    if _fence(message).update(
        status=Status.DONE, done_at=now, lease_until=None, last_error="", updated_at=now
    ):
        return
    logger.warning(
        "outbox message %s (%s): lease lost to another worker; this run's result is discarded",
        message.pk,
        message.topic,
    )


def _reschedule(
    message: OutboxMessage, topic: Topic, error: str, clock: Callable[[], datetime]
) -> None:
    now = clock()
    jitter = random.uniform(0.5, 1.5)  # noqa: S311 - spreading retries, not a secret
    available_at = now + retry_delay(topic, message.attempts, jitter)
    updated = _fence(message).update(
        status=Status.PENDING,
        available_at=available_at,
        lease_until=None,
        last_error=error,
        updated_at=now,
    )
    if updated:
        logger.warning(
            "outbox message %s (%s) failed attempt %s of %s, retrying at %s: %s",
            message.pk,
            message.topic,
            message.attempts,
            topic.max_attempts,
            available_at.isoformat(),
            error,
        )


def _bury(message: OutboxMessage, topic: Topic, error: str, clock: Callable[[], datetime]) -> None:
    """Mark the message dead and call the topic's on_dead in the same transaction.

    If on_dead fails, the message is marked dead anyway (with a note), so that a broken
    on_dead cannot send a message round and round; the failure is logged for staff.
    """
    now = clock()
    changes = {"status": Status.DEAD, "lease_until": None, "updated_at": now}
    try:
        with transaction.atomic():
            if not _fence(message).update(last_error=error, **changes):
                return
            message.status, message.last_error = Status.DEAD, error
            if topic.on_dead is not None:
                topic.on_dead(message)
    except Exception as exc:
        logger.error(
            "outbox message %s (%s): on_dead failed: %s", message.pk, message.topic, error_text(exc)
        )
        note = f"{error} (on_dead failed: {error_text(exc)})"[:ERROR_LIMIT]
        _fence(message).update(last_error=note, **changes)
        return
    logger.error(
        "outbox message %s (%s) is dead after %s attempt(s): %s",
        message.pk,
        message.topic,
        message.attempts,
        error,
    )


def _process(claim: _Claim, topic: Topic, clock: Callable[[], datetime]) -> bool:
    """Run one claimed message and record the outcome; False if the claim was already lost."""
    message = claim.message
    if claim.exhausted:
        _bury(message, topic, LEASE_LOST_ERROR, clock)
        return True
    # Renew the lease at the start: earlier messages of the batch may have taken a while.
    now = clock()
    lease_until = now + timedelta(seconds=topic.lease_seconds)
    if not _fence(message).update(lease_until=lease_until, updated_at=now):
        logger.warning(
            "outbox message %s (%s): lease lost before it started", message.pk, message.topic
        )
        return False
    message.lease_until = lease_until
    try:
        topic.handle(message)
    except PermanentFailure as exc:
        _bury(message, topic, error_text(exc), clock)
    except Exception as exc:
        logger.debug("outbox message %s failed", message.pk, exc_info=True)
        if message.attempts >= topic.max_attempts:
            _bury(message, topic, error_text(exc), clock)
        else:
            _reschedule(message, topic, error_text(exc), clock)
    else:
        _complete(message, clock)
    return True


def _release(claims: list[_Claim], clock: Callable[[], datetime]) -> None:
    """Hand back claimed messages that were not started, uncounting their attempt."""
    now = clock()
    for claim in claims:
        if claim.exhausted:
            continue  # its lease runs out and the next claim buries it
        _fence(claim.message).update(
            status=Status.PENDING,
            attempts=claim.message.attempts - 1,
            available_at=now,
            lease_until=None,
            updated_at=now,
        )


def outbox_run_once(
    *,
    worker_id: str,
    registry: Registry[Topic] = topics,
    now: datetime | None = None,
    batch: int = 10,
    stop_event: threading.Event | None = None,
) -> int:
    """Claim up to `batch` due messages, run their handlers, record the outcomes.

    Returns the number of messages handled (done, rescheduled or dead). When `stop_event` is
    set, the message being run finishes and the rest of the batch is handed back.
    """
    clock = _clock(now)
    claims = _claim(worker_id=worker_id, registry=registry, clock=clock, batch=batch)
    handled = 0
    for index, claim in enumerate(claims):
        if stop_event is not None and stop_event.is_set():
            _release(claims[index:], clock)
            break
        if _process(claim, registry[claim.message.topic], clock):
            handled += 1
    return handled


def _close_old_connections() -> None:
    """Drop broken or expired connections between passes, as a request cycle would.

    Not when a caller's transaction is open (a test, or `run_until_idle` called inside
    `atomic`): closing would lose it.
    """
    if not any(c.in_atomic_block for c in connections.all(initialized_only=True)):
        close_old_connections()


class Worker:
    """Runs `outbox_run_once` in a loop until stopped: `onething worker`, or a demo thread."""

    def __init__(
        self,
        worker_id: str | None = None,
        registry: Registry[Topic] = topics,
        poll_seconds: float = 1.0,
        batch: int = 10,
    ) -> None:
        self.worker_id = worker_id or default_worker_id()
        self.registry = registry
        self.poll_seconds = poll_seconds
        self.batch = batch

    def _pass(self, stop_event: threading.Event | None = None) -> int:
        _close_old_connections()
        try:
            return outbox_run_once(
                worker_id=self.worker_id,
                registry=self.registry,
                batch=self.batch,
                stop_event=stop_event,
            )
        finally:
            _close_old_connections()

    def run(self, stop_event: threading.Event) -> None:
        """Work until `stop_event` is set; the message being run finishes first."""
        logger.info("outbox worker %s started", self.worker_id)
        try:
            while not stop_event.is_set():
                try:
                    handled = self._pass(stop_event)
                except Exception:
                    # A database outage must not end the worker: log it, wait, try again.
                    logger.exception("outbox worker %s: pass failed", self.worker_id)
                    handled = 0
                if not handled:
                    stop_event.wait(self.poll_seconds)
        finally:
            # This thread's connections; left open they would outlive the thread.
            connections.close_all()
        logger.info("outbox worker %s stopped", self.worker_id)

    def run_until_idle(self) -> int:
        """Handle what is due now, then return the number handled (`onething worker --once`)."""
        total = 0
        while handled := self._pass():
            total += handled
        return total

    def start_in_thread(self) -> tuple[threading.Thread, threading.Event]:
        """Run in a daemon thread (`onething demo`); set the returned event to stop it.

        With the global registry, the apps' `tasks` modules are imported first.
        """
        if self.registry is topics:
            autodiscover()
        stop_event = threading.Event()
        thread = threading.Thread(
            target=self.run,
            args=(stop_event,),
            name=f"outbox-worker-{self.worker_id}",
            daemon=True,
        )
        thread.start()
        return thread, stop_event
