"""Asking several data sources at once under one time budget — for the prefill and the exchange.

Remote sources (`http-json`) are asked on worker threads; meanwhile the platform's own registers
and e-certificates (connectors marked `local`) are read on the caller's thread, which holds the
database connection and the caller's transaction. So the slowest source sets the time, not the
sum. A source that fails, or has not answered when the budget is spent, is reported unavailable
with the reason — never raised: the caller leaves its fields for the applicant to fill in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from onething.core.masking import mask_personal_numbers
from onething.sharing.connectors import Lookup, SourceUnavailable

logger = logging.getLogger("onething.sharing")


@dataclass(frozen=True)
class Answer:
    """What one lookup gave: the record (None when the source holds none), or why not."""

    record: Mapping[str, Any] | None = None
    unavailable: str = ""  # empty when the source answered


def is_local(registry, connector: str) -> bool:
    """Whether the connector reads the platform's own data (on the caller's thread)."""
    return bool(getattr(registry[connector], "local", False))


def fetch_lookups(
    lookups: Sequence[Lookup],
    *,
    registry,
    budget: float,
    started: float | None = None,
    thread_name: str = "sharing",
) -> list[Answer]:
    """Every lookup's answer, in order, within `budget` seconds from `started` (a
    `time.monotonic()` reading; now by default)."""
    started = time.monotonic() if started is None else started
    answers = [Answer(unavailable="not asked")] * len(lookups)
    remote = {i for i, lookup in enumerate(lookups) if not is_local(registry, lookup.connector)}
    pool = ThreadPoolExecutor(max_workers=max(1, len(remote)), thread_name_prefix=thread_name)
    try:
        futures = {
            pool.submit(registry[lookups[i].connector].fetch, lookups[i], timeout=budget): i
            for i in remote
        }
        for i, lookup in enumerate(lookups):
            if i not in remote:
                answers[i] = _answer(
                    lookup, lambda lk=lookup: registry[lk.connector].fetch(lk, timeout=budget)
                )
        remaining = max(0.0, budget - (time.monotonic() - started))
        done, not_done = wait(futures, timeout=remaining)
        for future in done:
            answers[futures[future]] = _answer(lookups[futures[future]], future.result)
        for future in not_done:
            answers[futures[future]] = Answer(unavailable=f"no answer within {budget:g} s")
    finally:
        # A source still working is abandoned, not waited for: the form must not wait.
        pool.shutdown(wait=False, cancel_futures=True)
    return answers


def _answer(lookup: Lookup, call: Callable[[], Mapping[str, Any] | None]) -> Answer:
    try:
        return Answer(record=call())
    except SourceUnavailable as exc:
        return Answer(unavailable=mask_personal_numbers(str(exc)) or "unavailable")
    except Exception as exc:  # a connector bug must not take the form (or the query) down
        logger.exception("data source %s failed", lookup.source)
        return Answer(unavailable=f"error: {type(exc).__name__}")
