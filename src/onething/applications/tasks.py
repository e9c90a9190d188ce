"""Outbox topics of applications: thin — load by id, call the handler or the service."""

from __future__ import annotations

from django.conf import settings

from onething.applications import handlers, services
from onething.applications.models import Case
from onething.core.actors import WORKER
from onething.outbox.registry import topic


def _dispatch_gave_up(message) -> None:
    case = Case.objects.filter(pk=message.payload["case"]).first()
    if case is not None:
        services.case_flag_attention(
            actor=WORKER,
            case=case,
            reason=f"dispatch failed after {message.attempts} attempts: {message.last_error}",
        )


@topic(
    services.DISPATCH_TOPIC,
    max_attempts=6,
    base_delay_seconds=2,
    lease_seconds=settings.ONETHING_DISPATCH_LEASE_SECONDS,
    on_dead=_dispatch_gave_up,
)
def dispatch_case(message) -> None:
    handlers.dispatch(message.payload["case"])


@topic(services.SUPPLEMENT_RELEASE_TOPIC, max_attempts=5)
def release_held_notice(message) -> None:
    """The hold of a supplement notice ran out: send it with the items it has."""
    services.supplement_request_release(actor=WORKER, request=message.payload["request"])


@topic(services.DEADLINE_SWEEP_TOPIC, max_attempts=3)
def sweep_deadlines(message) -> None:
    """Mark due-soon and overdue cases, then book the next sweep."""
    # Book the next sweep first: a sweep that keeps failing must not stop the ones after it.
    services.deadline_schedule_sweep()
    services.deadline_sweep(actor=WORKER)
