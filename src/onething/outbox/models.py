"""The outbox as stored: what must happen next, written in the same transaction as the change
that calls for it, and worked off by `onething worker` (see `outbox.worker`)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """发件箱消息: one durable next step (a dispatch, a callback, a notification).

    A worker claims a due message under a lease (`lease_until`, `claimed_by`) and counts the
    attempt; if the worker dies the lease expires and another worker claims it again. Delivery
    is therefore at least once: handlers must be idempotent, keyed by `key`. A message that used
    up its attempts is `dead` and waits for staff to retry it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        DEAD = "dead", _("dead")

    topic = models.CharField(_("topic"), max_length=100)
    # Unique when set: enqueueing the same key again returns the existing message, and handlers
    # pass it on as the idempotency key, so the receiving system applies a step once.
    key = models.CharField(_("idempotency key"), max_length=255, unique=True, null=True, blank=True)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    available_at = models.DateTimeField(_("available at"), default=timezone.now)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=200, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [models.Index(fields=["status", "available_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk} ({self.status})"
