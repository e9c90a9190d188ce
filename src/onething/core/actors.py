"""Who did something: a signed-in user, or a named part of the system."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SystemActor:
    """The platform acting on its own: the worker, a rule, a department's system."""

    name: str

    @property
    def pk(self) -> None:
        return None

    @property
    def is_authenticated(self) -> bool:
        return False


WORKER = SystemActor("worker")


def actor_label(actor: Any) -> str:
    """`user:42` or `system:worker`, as written in events and the audit trail."""
    if isinstance(actor, SystemActor):
        return f"system:{actor.name}"
    if actor is None or not getattr(actor, "pk", None):
        return "anonymous"
    return f"user:{actor.pk}"


def actor_user(actor: Any):
    """The user row for foreign keys, or None for the system."""
    return None if isinstance(actor, SystemActor) or not getattr(actor, "pk", None) else actor
