"""The audit trail as stored: one hash chain per stream, and a global chain of anchors.

Rows are written only by `audit.services`; nothing updates or deletes them. `audit.verification`
reads them back and finds any row that was altered, removed or inserted.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onething.audit.chain import (
    ANCHOR_STREAM,
    GENESIS_HASH,
    ChainRecord,
    anchor_content,
    record_content,
)


class AuditStream(models.Model):
    """The head of one chain: its last seq and hash, locked by whoever appends to it.

    `anchored_seq` is the seq the latest anchor recorded, so an anchor takes only the streams
    that changed since. The anchor chain's own head is the stream named `chain.ANCHOR_STREAM`.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    last_seq = models.PositiveBigIntegerField(_("last seq"), default=0)
    last_hash = models.CharField(_("last hash"), max_length=64, default=GENESIS_HASH)
    anchored_seq = models.PositiveBigIntegerField(_("anchored seq"), default=0)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("audit stream")
        verbose_name_plural = _("audit streams")

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seq}"


class AuditRecord(models.Model):
    """审计日志: who did what to which subject, why and when; one link of its stream's chain."""

    # The unique (stream, seq) index serves lookups by stream, so no second index.
    stream = models.ForeignKey(
        AuditStream,
        on_delete=models.PROTECT,
        related_name="records",
        db_index=False,
        verbose_name=_("stream"),
    )
    seq = models.PositiveBigIntegerField(_("seq"))
    actor = models.CharField(_("actor"), max_length=100)
    action = models.CharField(_("action"), max_length=100)
    subject = models.CharField(_("subject"), max_length=200)
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        constraints = [
            models.UniqueConstraint(fields=["stream", "seq"], name="audit_record_stream_seq")
        ]
        indexes = [
            models.Index(fields=["subject", "recorded_at"], name="audit_record_subject"),
            models.Index(fields=["recorded_at"], name="audit_record_recorded_at"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.subject} by {self.actor}"

    def chain_record(self, stream_name: str) -> ChainRecord:
        return ChainRecord(
            stream=stream_name,
            seq=self.seq,
            prev_hash=self.prev_hash,
            hash=self.hash,
            id=self.pk,
            content=record_content(
                stream=stream_name,
                seq=self.seq,
                actor=self.actor,
                action=self.action,
                subject=self.subject,
                purpose=self.purpose,
                data=self.data,
                recorded_at=self.recorded_at,
            ),
        )


class AuditAnchor(models.Model):
    """A link of the global anchor chain: the heads (seq, hash) of the streams changed since
    the previous anchor, so that rewriting a stream, or cutting its end, shows."""

    seq = models.PositiveBigIntegerField(_("seq"), unique=True)
    actor = models.CharField(_("actor"), max_length=100)
    heads = models.JSONField(_("stream heads"), default=dict)
    recorded_at = models.DateTimeField(_("recorded at"))
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("audit anchor")
        verbose_name_plural = _("audit anchors")

    def __str__(self) -> str:
        return f"anchor {self.seq} ({len(self.heads)} streams)"

    def chain_record(self) -> ChainRecord:
        return ChainRecord(
            stream=ANCHOR_STREAM,
            seq=self.seq,
            prev_hash=self.prev_hash,
            hash=self.hash,
            id=self.pk,
            content=anchor_content(
                seq=self.seq, actor=self.actor, heads=self.heads, recorded_at=self.recorded_at
            ),
        )
