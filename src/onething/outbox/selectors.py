"""Reads of the outbox for staff: what is stuck, and how much is where."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from onething.outbox.models import OutboxMessage


def outbox_dead_messages() -> QuerySet[OutboxMessage]:
    """Messages that used up their attempts (or failed permanently), most recent first."""
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD).order_by(
        "-updated_at", "-id"
    )


def outbox_counts() -> dict[str, int]:
    """The number of messages in each status, every status present (zero when none)."""
    counts = dict.fromkeys(OutboxMessage.Status.values, 0)
    rows = OutboxMessage.objects.order_by().values_list("status").annotate(n=Count("id"))
    for status, n in rows:
        counts[status] = n
    return counts
