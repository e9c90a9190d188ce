"""Circuit breakers: stop calling a data source that keeps failing, then probe it once.

A breaker is closed (calls go through) until `failure_threshold` calls in a row fail; then it is
open and refuses every call for `cooldown_seconds`, so a dead department costs the prefill
nothing. After the cool-down it is half-open: exactly one trial call goes through (the others are
still refused); its success closes the breaker, its failure opens it for another cool-down.

Every admitted call carries a `Permit` and must be reported once, with `record_success` or
`record_failure`. A permit belongs to the breaker's state at admission: a slow call admitted
before the breaker opened cannot close it or open it again when it finally reports, and only the
trial decides the half-open state. The clock is injected (`now`, monotonic seconds). Thread-safe:
the prefill asks several sources from several threads. No Django import here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_FAILURE_THRESHOLD = 5
DEFAULT_COOLDOWN_SECONDS = 30.0


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(Exception):
    """The breaker refused the call: the source failed too often and is left alone for now."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(f"circuit open; next trial in {retry_after:.1f}s")


@dataclass(frozen=True)
class Permit:
    """Leave to make one call; `trial` when it is the half-open state's single probe."""

    generation: int
    trial: bool


class CircuitBreaker:
    """One source's breaker: closed → open after consecutive failures → half-open → …"""

    def __init__(
        self,
        *,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(failure_threshold, bool) or not isinstance(failure_threshold, int):
            raise TypeError("failure_threshold: must be an integer")
        if failure_threshold < 1:
            raise ValueError("failure_threshold: must be at least 1")
        if not cooldown_seconds >= 0:
            raise ValueError("cooldown_seconds: must be a non-negative number")
        self.failure_threshold = failure_threshold
        self.cooldown_seconds = float(cooldown_seconds)
        self._now = now
        self._lock = threading.Lock()
        self._state = State.CLOSED
        # Bumped on every change of state, so reports of calls admitted earlier are ignored.
        self._generation = 0
        self._failures = 0
        self._opened_at = 0.0
        self._trial_out = False

    @property
    def state(self) -> State:
        """The state a call made now would meet (open turns half-open once the cool-down ends)."""
        with self._lock:
            self._refresh()
            return self._state

    @property
    def consecutive_failures(self) -> int:
        with self._lock:
            return self._failures

    def admit(self) -> Permit:
        """Leave for one call, or CircuitOpen while open or while the half-open trial is out."""
        with self._lock:
            self._refresh()
            if self._state is State.CLOSED:
                return Permit(self._generation, trial=False)
            if self._state is State.HALF_OPEN and not self._trial_out:
                self._trial_out = True
                return Permit(self._generation, trial=True)
            retry_after = max(self._opened_at + self.cooldown_seconds - self._now(), 0.0)
            raise CircuitOpen(retry_after)

    def record_success(self, permit: Permit) -> None:
        """The call answered: a closed breaker forgets earlier failures, the trial closes it."""
        with self._lock:
            if permit.generation != self._generation:
                return
            if self._state is State.CLOSED:
                self._failures = 0
            elif self._state is State.HALF_OPEN and permit.trial:
                self._change(State.CLOSED)

    def record_failure(self, permit: Permit) -> None:
        """The call failed: the threshold-th failure in a row, or a failed trial, opens it."""
        with self._lock:
            if permit.generation != self._generation:
                return
            if self._state is State.CLOSED:
                self._failures += 1
                if self._failures >= self.failure_threshold:
                    self._open()
            elif self._state is State.HALF_OPEN and permit.trial:
                self._open()

    def _refresh(self) -> None:
        if self._state is State.OPEN and self._now() >= self._opened_at + self.cooldown_seconds:
            self._change(State.HALF_OPEN)

    def _open(self) -> None:
        self._change(State.OPEN)
        self._opened_at = self._now()

    def _change(self, state: State) -> None:
        self._state = state
        self._generation += 1
        self._failures = 0
        self._trial_out = False


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(
    source_code: str,
    *,
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
    cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
    now: Callable[[], float] = time.monotonic,
) -> CircuitBreaker:
    """The process's breaker for a data source, made with these settings on first use.

    One breaker per source code for the whole process, shared by every thread; the settings of
    later calls are ignored once it exists.
    """
    with _breakers_lock:
        breaker = _breakers.get(source_code)
        if breaker is None:
            breaker = CircuitBreaker(
                failure_threshold=failure_threshold, cooldown_seconds=cooldown_seconds, now=now
            )
            _breakers[source_code] = breaker
        return breaker
