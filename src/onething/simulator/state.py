"""The simulated departments' memory: idempotency keys, cases, decisions and counters.

One lock guards everything; every method is short and does no I/O, so the HTTP threads and the
callback threads never wait on the network while holding it. Randomness and the clock are
injected so a seeded run repeats.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from onething.simulator import protocol
from onething.simulator.config import SimulatorConfig


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"


class CallbackState(StrEnum):
    WAITING = "waiting"  # not decided yet
    PENDING = "pending"  # decided, not delivered yet
    DELIVERED = "delivered"
    ABANDONED = "abandoned"  # every attempt failed


@dataclass(frozen=True)
class SubmitResult:
    outcome: Outcome
    external_id: str | None = None
    delay_seconds: float = 0.0


@dataclass(frozen=True)
class PendingCallback:
    """What a delivery attempt sends: the same bytes and event id on every attempt."""

    external_id: str
    url: str
    body: bytes
    event_id: str
    attempt: int


@dataclass
class SimulatedCase:
    external_id: str
    department: str
    case: str
    service: str
    requested_outputs: tuple[str, ...]
    callback_url: str
    received_at: datetime
    status: str = "received"
    outputs: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    decided_at: datetime | None = None
    event_id: str | None = None
    callback_body: bytes | None = None
    callback_state: CallbackState = CallbackState.WAITING
    callback_attempts: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "external_id": self.external_id,
            "department": self.department,
            "case": self.case,
            "service": self.service,
            "status": self.status,
            "outputs": dict(self.outputs),
            "reason": self.reason,
            "received_at": self.received_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "callback": {
                "state": str(self.callback_state),
                "event_id": self.event_id,
                "attempts": self.callback_attempts,
            },
        }


STAT_NAMES = (
    "received",
    "applied",
    "duplicates",
    "conflicts",
    "failures_injected",
    "decided",
    "approved",
    "rejected",
    "callbacks_sent",
    "callbacks_failed",
    "callbacks_abandoned",
    "registry_reads",
    "registry_failures_injected",
)


class SimulatorState:
    """Thread-safe store of everything the simulated departments know."""

    def __init__(
        self,
        config: SimulatorConfig,
        *,
        now: Callable[[], datetime],
        rng: random.Random | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._config = config
        self._now = now
        # Simulation randomness, not security: a seeded PRNG is the point.
        self._rng = rng or random.Random(config.seed)  # noqa: S311
        self._keys: dict[str, tuple[str, str]] = {}  # key -> (fingerprint, external_id)
        self._attempts_per_key: Counter[str] = Counter()
        self._next_number: Counter[str] = Counter()
        self._cases: dict[str, SimulatedCase] = {}
        self._stats: Counter[str] = Counter()

    @property
    def config(self) -> SimulatorConfig:
        with self._lock:
            return self._config

    def configure(self, **changes: Any) -> SimulatorConfig:
        """Replace some settings; unknown names raise TypeError, bad values ValueError."""
        with self._lock:
            self._config = dataclasses.replace(self._config, **changes)
            if "seed" in changes:
                self._rng.seed(self._config.seed)
            return self._config

    def note_request(self) -> None:
        with self._lock:
            self._stats["received"] += 1

    def registry_read(self) -> tuple[float, bool]:
        """Count a registry read; its delay, and whether to answer it with an injected 503."""
        with self._lock:
            self._stats["registry_reads"] += 1
            rate = self._config.registry_failure_rate
            # No draw when no failure is wanted: reads do not shift a seeded run's decisions.
            fail = rate > 0 and self._rng.random() < rate
            if fail:
                self._stats["registry_failures_injected"] += 1
            return self._config.registry_delay_seconds, fail

    def submit(self, key: str, submission: protocol.Submission) -> SubmitResult:
        """Apply a submission once per idempotency key; a failure is injected before any write."""
        with self._lock:
            config = self._config
            self._attempts_per_key[key] += 1
            if (
                self._attempts_per_key[key] <= config.fail_first_n
                or self._rng.random() < config.failure_rate
            ):
                self._stats["failures_injected"] += 1
                return SubmitResult(Outcome.UNAVAILABLE)
            known = self._keys.get(key)
            if known is not None:
                fingerprint, external_id = known
                if fingerprint != submission.fingerprint:
                    self._stats["conflicts"] += 1
                    return SubmitResult(Outcome.CONFLICT)
                self._stats["duplicates"] += 1
                return SubmitResult(Outcome.DUPLICATE, external_id)
            self._next_number[submission.department] += 1
            external_id = f"{submission.department}-{self._next_number[submission.department]}"
            self._keys[key] = (submission.fingerprint, external_id)
            self._cases[external_id] = SimulatedCase(
                external_id=external_id,
                department=submission.department,
                case=submission.case,
                service=submission.service,
                requested_outputs=submission.outputs,
                callback_url=submission.callback_url,
                received_at=self._now(),
            )
            self._stats["applied"] += 1
            return SubmitResult(
                Outcome.ACCEPTED, external_id, config.delay_for(submission.department)
            )

    def decide(self, external_id: str) -> PendingCallback:
        """Decide the case (once; later calls return the same decision) and prepare its callback."""
        with self._lock:
            found = self._cases[external_id]
            if found.callback_body is None:
                if self._rng.random() < self._config.reject_rate:
                    found.status = "rejected"
                    found.reason = self._rng.choice(protocol.REJECTION_REASONS)
                    self._stats["rejected"] += 1
                else:
                    found.status = "approved"
                    found.outputs = {
                        key: protocol.output_value(key, self._rng.randrange(1_000_000))
                        for key in found.requested_outputs
                    }
                    self._stats["approved"] += 1
                self._stats["decided"] += 1
                found.decided_at = self._now()
                found.event_id = str(uuid.uuid4())
                found.callback_state = CallbackState.PENDING
                found.callback_body = protocol.callback_body(
                    event_id=found.event_id,
                    case=found.case,
                    external_id=found.external_id,
                    department=found.department,
                    service=found.service,
                    status=found.status,
                    outputs=found.outputs,
                    reason=found.reason,
                    decided_at=found.decided_at,
                )
            return self._pending(found)

    def record_attempt(self, external_id: str, *, delivered: bool) -> PendingCallback | None:
        """Count a delivery attempt; the next attempt to make, or None when done or given up."""
        with self._lock:
            found = self._cases[external_id]
            found.callback_attempts += 1
            if delivered:
                self._stats["callbacks_sent"] += 1
                found.callback_state = CallbackState.DELIVERED
                return None
            self._stats["callbacks_failed"] += 1
            if found.callback_attempts >= self._config.callback_attempts:
                self._stats["callbacks_abandoned"] += 1
                found.callback_state = CallbackState.ABANDONED
                return None
            return self._pending(found)

    def case(self, department: str, external_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._cases.get(external_id)
            if found is None or found.department != department:
                return None
            return found.as_json()

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {name: self._stats[name] for name in STAT_NAMES}

    @staticmethod
    def _pending(found: SimulatedCase) -> PendingCallback:
        if found.callback_body is None or found.event_id is None:
            raise RuntimeError(f"{found.external_id} is not decided yet")
        return PendingCallback(
            external_id=found.external_id,
            url=found.callback_url,
            body=found.callback_body,
            event_id=found.event_id,
            attempt=found.callback_attempts + 1,
        )
