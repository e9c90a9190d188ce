"""The worker claims due messages under a lease, retries with backoff, and fences lost leases."""

from __future__ import annotations

import sys
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onething.outbox.models import OutboxMessage
from onething.outbox.registry import PermanentFailure, Topic, autodiscover, topic
from onething.outbox.services import outbox_enqueue, outbox_retry
from onething.outbox.worker import Worker, outbox_run_once, retry_delay

pytestmark = pytest.mark.django_db

SLACK = timedelta(seconds=2)  # real time that passes during a pass with a pinned `now`


class Boom(Exception):
    pass


class WorkerKilled(BaseException):
    """Escapes the worker like a SIGKILL would stop it: nothing after the handler runs."""


def reload(message: OutboxMessage) -> OutboxMessage:
    message.refresh_from_db()
    return message


def test_a_due_message_is_handled_once_and_marked_done(registry):
    seen = []
    registry.register("t")(Topic(handle=lambda m: seen.append((m.payload, m.key, m.attempts))))
    message = outbox_enqueue(topic="t", payload={"case": 1}, key="t:1")
    assert outbox_run_once(worker_id="w1", registry=registry) == 1
    assert outbox_run_once(worker_id="w1", registry=registry) == 0
    assert seen == [({"case": 1}, "t:1", 1)]
    message = reload(message)
    assert (message.status, message.attempts, message.claimed_by) == ("done", 1, "w1")
    assert message.done_at is not None
    assert message.lease_until is None


def test_a_message_enqueued_for_later_waits_until_it_is_due(registry):
    registry.register("t")(Topic(handle=lambda m: None))
    later = timezone.now() + timedelta(minutes=5)
    message = outbox_enqueue(topic="t", payload={}, available_at=later)
    assert outbox_run_once(worker_id="w1", registry=registry) == 0
    assert outbox_run_once(worker_id="w1", registry=registry, now=later) == 1
    assert reload(message).status == "done"


def test_due_messages_are_handled_oldest_first_in_batches(registry):
    seen = []
    registry.register("t")(Topic(handle=lambda m: seen.append(m.payload["n"])))
    start = timezone.now() - timedelta(minutes=1)
    for n in (3, 1, 2):
        outbox_enqueue(topic="t", payload={"n": n}, available_at=start + timedelta(seconds=n))
    assert outbox_run_once(worker_id="w1", registry=registry, batch=2) == 2
    assert seen == [1, 2]
    assert Worker("w1", registry=registry, batch=2).run_until_idle() == 1
    assert seen == [1, 2, 3]


def test_a_worker_leaves_alone_messages_of_topics_it_does_not_know(registry):
    registry.register("t")(Topic(handle=lambda m: None))
    unknown = outbox_enqueue(topic="elsewhere", payload={})
    assert outbox_run_once(worker_id="w1", registry=registry) == 0
    unknown = reload(unknown)
    assert (unknown.status, unknown.attempts, unknown.claimed_by) == ("pending", 0, "")


def test_a_failing_handler_is_retried_with_growing_delays_then_goes_dead_once(registry):
    dead = []

    def handle(message):
        raise Boom(f"attempt {message.attempts}")

    registry.register("t")(
        Topic(
            handle=handle,
            max_attempts=4,
            base_delay_seconds=10,
            on_dead=lambda m: dead.append((m.pk, m.status, m.attempts)),
        )
    )
    message = outbox_enqueue(topic="t", payload={})
    now = timezone.now()
    for attempt, delay in [(1, 10), (2, 20), (3, 40)]:
        assert outbox_run_once(worker_id="w1", registry=registry, now=now) == 1
        message = reload(message)
        assert (message.status, message.attempts) == ("pending", attempt)
        assert message.last_error == f"Boom: attempt {attempt}"
        low, high = timedelta(seconds=0.5 * delay), timedelta(seconds=1.5 * delay)
        assert now + low <= message.available_at <= now + high + SLACK
        # Not due before its time, even to another worker.
        assert outbox_run_once(worker_id="w2", registry=registry, now=now + low * 0.9) == 0
        now = message.available_at
    assert outbox_run_once(worker_id="w1", registry=registry, now=now) == 1
    message = reload(message)
    assert (message.status, message.attempts, message.last_error) == ("dead", 4, "Boom: attempt 4")
    assert dead == [(message.pk, "dead", 4)]
    far = now + timedelta(days=30)
    assert outbox_run_once(worker_id="w1", registry=registry, now=far) == 0
    assert len(dead) == 1


@pytest.mark.parametrize(
    ("attempts", "jitter", "seconds"),
    [(1, 1.0, 2), (2, 1.0, 4), (3, 0.5, 4), (4, 1.5, 24), (9, 1.0, 512), (10, 1.0, 600)],
)
def test_the_retry_delay_doubles_per_attempt_up_to_the_cap_times_the_jitter(
    attempts, jitter, seconds
):
    policy = Topic(handle=lambda m: None, base_delay_seconds=2, max_delay_seconds=600)
    assert retry_delay(policy, attempts, jitter) == timedelta(seconds=seconds)


def test_the_retry_delay_does_not_overflow_after_very_many_attempts():
    policy = Topic(handle=lambda m: None, base_delay_seconds=2, max_delay_seconds=600)
    assert retry_delay(policy, 10_000, 1.5) == timedelta(seconds=900)


def test_a_permanent_failure_goes_dead_at_once_and_staff_retry_brings_it_back(registry):
    outcome = {"refuse": True}
    handled, dead = [], []

    def handle(message):
        handled.append(message.attempts)
        if outcome["refuse"]:
            raise PermanentFailure("invalid case")

    registry.register("t")(Topic(handle=handle, on_dead=lambda m: dead.append(m.pk)))
    message = outbox_enqueue(topic="t", payload={})
    assert outbox_run_once(worker_id="w1", registry=registry) == 1
    message = reload(message)
    assert (message.status, message.attempts) == ("dead", 1)
    assert message.last_error == "PermanentFailure: invalid case"
    assert dead == [message.pk]

    outcome["refuse"] = False
    outbox_retry(actor="clerk", message_id=message.pk)
    assert outbox_run_once(worker_id="w1", registry=registry) == 1
    message = reload(message)
    assert (message.status, message.attempts, message.last_error) == ("done", 1, "")
    assert handled == [1, 1]
    assert dead == [message.pk]


def test_the_stored_error_is_the_exception_class_and_message_cut_to_500_characters(registry):
    def handle(message):
        raise Boom("x" * 2000)

    registry.register("t")(Topic(handle=handle))
    message = outbox_enqueue(topic="t", payload={})
    outbox_run_once(worker_id="w1", registry=registry)
    error = reload(message).last_error
    assert error.startswith("Boom: xxx")
    assert len(error) == 500
    assert "Traceback" not in error


def test_a_message_goes_dead_even_when_on_dead_fails(registry):
    def on_dead(message):
        raise Boom("notification down")

    def handle(message):
        raise PermanentFailure("refused")

    registry.register("t")(Topic(handle=handle, on_dead=on_dead))
    message = outbox_enqueue(topic="t", payload={})
    assert outbox_run_once(worker_id="w1", registry=registry) == 1
    message = reload(message)
    assert message.status == "dead"
    assert (
        message.last_error == "PermanentFailure: refused (on_dead failed: Boom: notification down)"
    )


def test_an_expired_lease_is_reclaimed_by_another_worker(registry):
    runs = []

    def handle(message):
        runs.append((message.claimed_by, message.attempts))
        if message.claimed_by == "w1":
            raise WorkerKilled

    registry.register("t")(Topic(handle=handle, lease_seconds=30))
    message = outbox_enqueue(topic="t", payload={})
    now = timezone.now()
    with pytest.raises(WorkerKilled):
        outbox_run_once(worker_id="w1", registry=registry, now=now)
    message = reload(message)
    assert (message.status, message.claimed_by, message.attempts) == ("running", "w1", 1)
    assert now + timedelta(seconds=30) <= message.lease_until <= now + timedelta(seconds=30) + SLACK

    later = now + timedelta(seconds=29)
    assert outbox_run_once(worker_id="w2", registry=registry, now=later) == 0
    later = now + timedelta(seconds=30) + SLACK
    assert outbox_run_once(worker_id="w2", registry=registry, now=later) == 1
    message = reload(message)
    assert (message.status, message.claimed_by, message.attempts) == ("done", "w2", 2)
    assert runs == [("w1", 1), ("w2", 2)]


@pytest.mark.parametrize(
    ("first_worker_fails", "newer_outcome"),
    [(False, "pending"), (True, "done")],
    ids=["cannot-mark-done", "cannot-reschedule"],
)
def test_a_worker_whose_lease_was_taken_over_cannot_overwrite_the_newer_claim(
    registry, first_worker_fails, newer_outcome
):
    message = outbox_enqueue(topic="t", payload={})
    now = timezone.now()

    def handle(message):
        if message.claimed_by == "A":
            # While A is slow, its lease runs out and B claims and finishes the message.
            takeover = now + timedelta(seconds=60) + SLACK
            assert outbox_run_once(worker_id="B", registry=registry, now=takeover) == 1
            if first_worker_fails:
                raise Boom("A failed late")
        elif newer_outcome == "pending":
            raise Boom("B failed")

    registry.register("t")(Topic(handle=handle, lease_seconds=60))
    assert outbox_run_once(worker_id="A", registry=registry, now=now) == 1
    message = reload(message)
    assert (message.status, message.claimed_by, message.attempts) == (newer_outcome, "B", 2)
    assert message.last_error == ("Boom: B failed" if newer_outcome == "pending" else "")


def test_a_message_whose_lease_ran_out_on_its_last_attempt_goes_dead_without_running(registry):
    runs, dead = [], []

    def handle(message):
        runs.append(message.attempts)
        raise WorkerKilled  # a message that brings down every worker that runs it

    registry.register("t")(
        Topic(handle=handle, max_attempts=2, lease_seconds=10, on_dead=lambda m: dead.append(m))
    )
    message = outbox_enqueue(topic="t", payload={})
    now = timezone.now()
    for attempt in range(2):
        with pytest.raises(WorkerKilled):
            outbox_run_once(worker_id=f"w{attempt}", registry=registry, now=now)
        now += timedelta(seconds=10) + SLACK
    assert outbox_run_once(worker_id="w9", registry=registry, now=now) == 1
    message = reload(message)
    assert (message.status, message.attempts) == ("dead", 2)
    assert message.last_error.startswith("LeaseExpired:")
    assert runs == [1, 2]
    assert [m.pk for m in dead] == [message.pk]


def test_a_stopping_worker_finishes_the_message_in_hand_and_hands_back_the_rest(registry):
    stop = threading.Event()
    seen = []

    def handle(message):
        seen.append(message.payload["n"])
        stop.set()

    registry.register("t")(Topic(handle=handle))
    start = timezone.now() - timedelta(minutes=1)
    first, second, third = (
        outbox_enqueue(topic="t", payload={"n": n}, available_at=start + timedelta(seconds=n))
        for n in range(3)
    )
    assert outbox_run_once(worker_id="w1", registry=registry, stop_event=stop) == 1
    assert seen == [0]
    assert reload(first).status == "done"
    for message in (reload(second), reload(third)):
        assert (message.status, message.attempts, message.lease_until) == ("pending", 0, None)


@pytest.mark.django_db(transaction=True)
def test_a_worker_thread_handles_committed_messages_until_stopped(registry):
    done = threading.Event()
    registry.register("t")(Topic(handle=lambda m: done.set()))
    thread, stop = Worker("thread", registry=registry, poll_seconds=0.05).start_in_thread()
    try:
        message = outbox_enqueue(topic="t", payload={})
        assert done.wait(timeout=10)
        deadline = time.monotonic() + 10
        while reload(message).status != "done" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert message.status == "done"
        assert message.claimed_by == "thread"
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_the_topic_decorator_registers_the_function_with_its_policy(registry):
    @topic("t", max_attempts=6, lease_seconds=5, registry=registry)
    def handle(message):
        pass

    assert registry["t"] == Topic(handle=handle, max_attempts=6, lease_seconds=5)
    with pytest.raises(ValueError, match="already registered"):
        topic("t", registry=registry)(handle)


@pytest.mark.parametrize(
    "options", [{"max_attempts": 0}, {"base_delay_seconds": -1}, {"lease_seconds": 0}]
)
def test_a_topic_with_an_impossible_policy_is_refused(options):
    with pytest.raises(ValueError):
        Topic(handle=lambda m: None, **options)


def test_autodiscover_imports_the_extra_task_modules_named_in_the_environment(
    tmp_path, monkeypatch
):
    (tmp_path / "outbox_probe_tasks.py").write_text("LOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("ONETHING_EXTRA_TASK_MODULES", " outbox_probe_tasks , ")
    monkeypatch.delitem(sys.modules, "outbox_probe_tasks", raising=False)
    autodiscover()
    assert sys.modules["outbox_probe_tasks"].LOADED is True


@pytest.mark.django_db(transaction=True)
def test_several_workers_at_once_handle_every_message_exactly_once(registry):
    handled: list[int] = []
    lock = threading.Lock()

    def handle(message):
        time.sleep(0.005)
        with lock:
            handled.append(message.pk)

    registry.register("t")(Topic(handle=handle))
    ids = [outbox_enqueue(topic="t", payload={"n": n}).pk for n in range(30)]
    running = [
        Worker(f"w{n}", registry=registry, poll_seconds=0.02, batch=3).start_in_thread()
        for n in range(3)
    ]
    try:
        deadline = time.monotonic() + 20
        while len(handled) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        for _thread, stop in running:
            stop.set()
        for thread, _stop in running:
            thread.join(timeout=10)
    assert sorted(handled) == sorted(ids)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"done"}
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}


def test_the_claim_skips_rows_other_workers_hold_where_the_database_can(registry):
    registry.register("t")(Topic(handle=lambda m: None))
    outbox_enqueue(topic="t", payload={})
    with CaptureQueriesContext(connection) as queries:
        assert outbox_run_once(worker_id="w1", registry=registry) == 1
    claims = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"].upper()]
    if connection.features.has_select_for_update_skip_locked:
        assert len(claims) == 1
        assert "SKIP LOCKED" in claims[0].upper()
    else:
        assert claims == []  # SQLite: writers are serialised by the IMMEDIATE transaction
