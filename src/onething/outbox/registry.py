"""Outbox topics: the handler and retry policy for each kind of message.

An app registers its topics in its `tasks` module, which `autodiscover()` imports in every
worker process:

    @topic("case.dispatch", max_attempts=6, on_dead=case_dispatch_failed)
    def case_dispatch(message: OutboxMessage) -> None: ...

A handler must be idempotent (a message may be delivered more than once when a worker dies
mid-job; pass `message.key` on as the idempotency key). Raising any exception means "retry
later"; raising `PermanentFailure` means "dead now, do not retry".
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from onething.core.registry import Registry

if TYPE_CHECKING:
    from onething.outbox.models import OutboxMessage

Handler = Callable[["OutboxMessage"], None]

# Comma-separated extra modules for `autodiscover()` to import, for topics that live outside an
# installed app's `tasks` module: a testing and extension hook (the crash test uses it to give a
# subprocess worker its topic).
EXTRA_TASK_MODULES_ENV = "ONETHING_EXTRA_TASK_MODULES"


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help: the message goes dead at once."""


@dataclass(frozen=True)
class Topic:
    handle: Handler
    max_attempts: int = 8
    base_delay_seconds: float = 2.0
    max_delay_seconds: float = 600
    # Longer than the handler can take (connector timeouts included): a lease that runs out
    # mid-job lets a second worker start the same message.
    lease_seconds: float = 60
    # Called once, in the transaction that marks the message dead.
    on_dead: Handler | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay_seconds < 0 or self.max_delay_seconds < 0:
            raise ValueError("retry delays cannot be negative")
        if self.lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")


topics: Registry[Topic] = Registry("outbox topic")


def topic(
    name: str,
    *,
    max_attempts: int = 8,
    base_delay_seconds: float = 2.0,
    max_delay_seconds: float = 600,
    lease_seconds: float = 60,
    on_dead: Handler | None = None,
    registry: Registry[Topic] = topics,
) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of topic `name`."""

    def decorator(handle: Handler) -> Handler:
        registry.register(name)(
            Topic(
                handle=handle,
                max_attempts=max_attempts,
                base_delay_seconds=base_delay_seconds,
                max_delay_seconds=max_delay_seconds,
                lease_seconds=lease_seconds,
                on_dead=on_dead,
            )
        )
        return handle

    return decorator


def autodiscover() -> None:
    """Import every installed app's `tasks` module, then those named in ONETHING_EXTRA_TASK_MODULES.

    Call it once Django is set up, before a worker starts: a worker only claims messages whose
    topic it knows.
    """
    from django.apps import apps
    from django.utils.module_loading import autodiscover_modules

    apps.check_apps_ready()
    autodiscover_modules("tasks")
    for name in os.environ.get(EXTRA_TASK_MODULES_ENV, "").split(","):
        if name.strip():
            import_module(name.strip())
