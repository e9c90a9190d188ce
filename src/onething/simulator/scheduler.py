"""Runs jobs after a delay: one timer thread hands due jobs to a small pool of sender threads.

A slow callback receiver therefore delays only its own deliveries, never the timer.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

logger = logging.getLogger("onething.simulator")

Job = Callable[[], None]


class Scheduler:
    """Delayed jobs in memory; `stop` drops the ones not yet due."""

    def __init__(self, *, workers: int = 4, name: str = "department-simulator") -> None:
        self._name = name
        self._workers = workers
        self._condition = threading.Condition()
        self._queue: list[tuple[float, int, Job]] = []
        self._order = itertools.count()
        self._running = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("scheduler already started")
        self._pool = ThreadPoolExecutor(
            max_workers=self._workers, thread_name_prefix=f"{self._name}-sender"
        )
        self._thread = threading.Thread(
            target=self._loop, args=(self._pool,), name=f"{self._name}-scheduler", daemon=True
        )
        self._thread.start()

    def schedule(self, delay_seconds: float, job: Job) -> None:
        """Run `job` on a sender thread once `delay_seconds` have passed."""
        due = time.monotonic() + max(0.0, delay_seconds)
        with self._condition:
            if self._stopping:
                return
            heapq.heappush(self._queue, (due, next(self._order), job))
            # notify_all: wait_idle callers share the condition with the timer thread.
            self._condition.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no job is queued or running; False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._queue or self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
            return True

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._queue.clear()
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        with self._condition:
            self._running = 0
            self._condition.notify_all()

    def _loop(self, pool: ThreadPoolExecutor) -> None:
        while True:
            with self._condition:
                while not self._stopping:
                    if self._queue and self._queue[0][0] <= time.monotonic():
                        break
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._condition.wait(timeout)
                if self._stopping:
                    return
                _, _, job = heapq.heappop(self._queue)
                self._running += 1
            try:
                pool.submit(self._run, job)
            except RuntimeError:  # the pool is shutting down
                with self._condition:
                    self._running -= 1
                    self._condition.notify_all()
                return

    def _run(self, job: Job) -> None:
        try:
            job()
        except Exception:
            logger.exception("department simulator job failed")
        finally:
            with self._condition:
                self._running -= 1
                self._condition.notify_all()
