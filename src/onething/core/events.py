"""Domain events: what happened, told to the other contexts that react to it.

`publish` runs every subscriber at once, inside the publisher's transaction, so a reaction
commits or rolls back with the change that caused it and a crash cannot lose it. Subscribers
therefore only write rows or enqueue outbox messages; anything that leaves the platform (an
e-mail, a call to a department) is done by the outbox worker after commit, with retries, and a
failure there never undoes the change.

    @subscribe("supplement.notice_sent")
    def tell_the_applicant(event: Event) -> None: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Subscriber = Callable[["Event"], None]


@dataclass(frozen=True)
class Event:
    name: str  # past tense: "application.submitted", "case.approved"
    data: dict[str, Any] = field(default_factory=dict)


_subscribers: dict[str, list[Subscriber]] = {}


def subscribe(name: str) -> Callable[[Subscriber], Subscriber]:
    def decorator(handler: Subscriber) -> Subscriber:
        handlers = _subscribers.setdefault(name, [])
        if handler not in handlers:
            handlers.append(handler)
        return handler

    return decorator


def publish(name: str, **data: Any) -> Event:
    """Tell every subscriber of `name`; call it inside the transaction of the change."""
    event = Event(name, data)
    for handler in tuple(_subscribers.get(name, ())):
        handler(event)
    return event


def subscribers(name: str) -> tuple[Subscriber, ...]:
    return tuple(_subscribers.get(name, ()))
