"""`onething worker` as separate processes on the test database: killed mid-dispatch it loses no
case and the department applies none twice; asked to stop it finishes what it holds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.utils import timezone

from onething.outbox.models import OutboxMessage
from onething.outbox.services import outbox_enqueue

ROOT = Path(__file__).resolve().parents[2]
TOPIC = "test.apply"  # registered by tests/outbox/crash_topics.py, in the worker processes only


def database_url() -> str:
    """The test database, as a DATABASE_URL a worker process can open."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    if db["ENGINE"] == "django.db.backends.postgresql":
        auth = quote(db.get("USER") or "", safe="")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"], safe="")
        host = db.get("HOST") or "localhost"
        return f"postgres://{auth}@{host}:{db.get('PORT') or 5432}/{quote(db['NAME'], safe='')}"
    pytest.skip(f"no worker process test for {db['ENGINE']}")


def worker_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ONETHING_TEST_DATABASE_URL"}
    env.update(
        DATABASE_URL=database_url(),
        ONETHING_DATA_DIR=str(tmp_path / "data"),
        ONETHING_EXTRA_TASK_MODULES="tests.outbox.crash_topics",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p),
    )
    return env


class Workers:
    """Worker processes of one test, each logging to a file; all killed at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.env = worker_env(tmp_path)
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, *extra: str) -> subprocess.Popen:
        log = (self.tmp_path / f"{name}.log").open("wb")
        command = [sys.executable, "-m", "onething.cli", "worker", "--id", name, "--poll", "0.1"]
        process = subprocess.Popen(
            [*command, *extra], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')}"
            for path in sorted(self.tmp_path.glob("*.log"))
        )

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}\n{self.logs()}")
            time.sleep(0.02)

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


@pytest.fixture
def workers(tmp_path):
    running = Workers(tmp_path)
    try:
        yield running
    finally:
        running.kill_all()


def enqueue(receiver, key: str, sleep: float, **options) -> OutboxMessage:
    payload = {"port": receiver.port, "sleep": sleep, "case": key}
    return outbox_enqueue(topic=TOPIC, payload=payload, key=key, **options)


def statuses() -> dict[str, str]:
    # The worker books the platform's periodic jobs when it starts; they are not under test.
    periodic = (
        "audit.anchor",
        "deadline.sweep",
        "hotline.sweep",
        "ratings.sweep",
        "supervision.refresh_rollups",
        "supervision.month_end_snapshot",
    )
    return dict(OutboxMessage.objects.exclude(topic__in=periodic).values_list("key", "status"))


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_dispatch_loses_no_case_and_applies_none_twice(receiver, workers):
    keys = [f"case.dispatch:{n}" for n in range(5)]
    start = timezone.now() - timedelta(seconds=10)
    for n, key in enumerate(keys):
        # The first case to be claimed takes long enough for the kill to land mid-job.
        sleep = 1.5 if n == 0 else 0.2
        enqueue(receiver, key, sleep=sleep, available_at=start + timedelta(seconds=n))

    first = workers.start("w1")
    workers.wait_until(lambda: receiver.seen() >= 1, "the first worker to deliver a case")
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL
    # Delivered to the department but never marked done: the case the kill interrupted.
    interrupted = [k for k in receiver.deliveries if statuses()[k] != "done"]
    assert interrupted == [keys[0]]

    workers.start("w2")
    workers.wait_until(
        lambda: set(statuses().values()) == {"done"}, "the second worker to finish every case"
    )

    assert statuses() == dict.fromkeys(keys, "done")
    # The department saw every case under its own key and applied each exactly once ...
    assert set(receiver.deliveries) == set(keys)
    assert sorted(receiver.applied) == sorted(keys)
    # ... although the interrupted case was delivered twice: the kill came mid-job, and the
    # second delivery was recognised by its idempotency key.
    assert receiver.deliveries[interrupted[0]] == 2
    assert receiver.duplicates == 1
    redone = OutboxMessage.objects.get(key=interrupted[0])
    assert (redone.claimed_by, redone.attempts) == ("w2", 2)


@pytest.mark.django_db(transaction=True)
def test_a_worker_asked_to_stop_finishes_the_case_in_hand_and_hands_back_the_rest(
    receiver, workers
):
    now = timezone.now()
    enqueue(receiver, "first", sleep=1.5, available_at=now - timedelta(seconds=2))
    enqueue(receiver, "second", sleep=0, available_at=now - timedelta(seconds=1))

    worker = workers.start("w1")
    workers.wait_until(lambda: receiver.seen() >= 1, "the worker to deliver the first case")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0, workers.logs()

    assert statuses() == {"first": "done", "second": "pending"}
    second = OutboxMessage.objects.get(key="second")
    assert (second.attempts, second.lease_until) == (0, None)
    assert dict(receiver.deliveries) == {"first": 1}
    assert "stopped" in workers.logs()


@pytest.mark.django_db(transaction=True)
def test_worker_once_handles_what_is_due_and_exits(receiver, workers):
    for key in ("a", "b"):
        enqueue(receiver, key, sleep=0)
    enqueue(receiver, "later", sleep=0, available_at=timezone.now() + timedelta(hours=1))

    assert workers.start("once", "--once").wait(timeout=30) == 0, workers.logs()

    assert statuses() == {"a": "done", "b": "done", "later": "pending"}
    assert sorted(receiver.applied) == ["a", "b"]
    assert "2 message(s) handled" in workers.logs()
