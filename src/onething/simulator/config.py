"""The simulator's settings; `DepartmentSimulator.configure` swaps them at run time."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated departments behave.

    `secret` signs callbacks. `delay_seconds` is the time from acceptance to decision, overridden
    per department code by `department_delays`. `failure_rate` is the chance that a submission is
    answered 503 before anything is stored; `fail_first_n` answers 503 to the first N submissions
    of each idempotency key. `reject_rate` is the chance that a decision is a rejection. A callback
    is tried `callback_attempts` times, waiting `callback_backoff_seconds` doubled after each
    failure (capped at `callback_backoff_max_seconds`). `seed` makes the random choices
    repeatable.

    `registers` are register files or folders (the format of `onething.sharing.registers`) the
    departments answer `GET /registry/...` from. Each registry read waits
    `registry_delay_seconds`, then is answered 503 with probability `registry_failure_rate`.
    """

    secret: str
    delay_seconds: float = 2.0
    failure_rate: float = 0.0
    reject_rate: float = 0.0
    fail_first_n: int = 0
    callback_attempts: int = 8
    seed: int | None = None
    department_delays: Mapping[str, float] = field(default_factory=dict)
    callback_backoff_seconds: float = 0.2
    callback_backoff_max_seconds: float = 30.0
    callback_timeout_seconds: float = 5.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    registers: tuple[str, ...] = ()
    registry_delay_seconds: float = 0.0
    registry_failure_rate: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.secret, str) or not self.secret:
            raise ValueError("secret: must be a non-empty string")
        for name in ("failure_rate", "reject_rate", "registry_failure_rate"):
            value = getattr(self, name)
            if not _is_number(value) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: must be a number between 0 and 1")
        for name in (
            "delay_seconds",
            "callback_backoff_seconds",
            "callback_backoff_max_seconds",
            "registry_delay_seconds",
        ):
            value = getattr(self, name)
            if not _is_number(value) or value < 0:
                raise ValueError(f"{name}: must be a non-negative number")
        if not _is_number(self.callback_timeout_seconds) or self.callback_timeout_seconds <= 0:
            raise ValueError("callback_timeout_seconds: must be a positive number")
        if not _is_int(self.fail_first_n) or self.fail_first_n < 0:
            raise ValueError("fail_first_n: must be a non-negative integer")
        if not _is_int(self.callback_attempts) or self.callback_attempts < 1:
            raise ValueError("callback_attempts: must be an integer of at least 1")
        if not _is_int(self.max_body_bytes) or self.max_body_bytes < 1:
            raise ValueError("max_body_bytes: must be a positive integer")
        if self.seed is not None and not _is_int(self.seed):
            raise ValueError("seed: must be an integer or None")
        if not isinstance(self.registers, list | tuple) or not all(
            isinstance(path, str | os.PathLike) and os.fspath(path) for path in self.registers
        ):
            raise ValueError("registers: must be a list of file or folder paths")
        object.__setattr__(self, "registers", tuple(os.fspath(p) for p in self.registers))
        delays = dict(self.department_delays)
        for code, value in delays.items():
            if not isinstance(code, str) or not code:
                raise ValueError("department_delays: keys must be department codes")
            if not _is_number(value) or value < 0:
                raise ValueError(f"department_delays[{code}]: must be a non-negative number")
        # Frozen all the way down: a caller keeping the dict cannot change a running simulator.
        object.__setattr__(self, "department_delays", MappingProxyType(delays))

    def delay_for(self, department: str) -> float:
        """Seconds from acceptance to decision for `department`."""
        return float(self.department_delays.get(department, self.delay_seconds))

    def backoff_after(self, attempt: int) -> float:
        """Seconds to wait after failed callback attempt number `attempt` (1-based)."""
        return min(
            self.callback_backoff_seconds * 2 ** (attempt - 1), self.callback_backoff_max_seconds
        )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
