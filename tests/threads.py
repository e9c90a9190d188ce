"""Run actions in threads at once, each with its own database connection (for tests of what
concurrent transactions do to each other: meaningful on PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from django.db import connection


def run_in_threads(
    actions: Mapping[str, Callable[[], object]],
    *,
    when_ended: Mapping[str, threading.Event] | None = None,
    timeout: float = 60,
) -> dict[str, object]:
    """Start every action, wait for all; each one's result under its name, or what it raised
    under `<name> error`. `when_ended[name]`, if given, is set when that action ends, however."""
    ended = dict(when_ended or {})
    outcome: dict[str, object] = {}

    def run(name: str, action: Callable[[], object]) -> None:
        try:
            outcome[name] = action()
        except Exception as exc:
            outcome[f"{name} error"] = exc
        finally:
            if name in ended:
                ended[name].set()
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in actions.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcome


def errors_of(outcome: Mapping[str, object]) -> dict[str, object]:
    return {name: value for name, value in outcome.items() if name.endswith(" error")}
