"""Writes to the audit trail: appending a record to a stream, and anchoring stream heads.

`audit_record` runs inside the caller's transaction, so the record commits or rolls back with
the change it describes. It locks only the head row of its own stream: writes to different
applications or subjects never wait on each other. `audit_anchor` runs periodically and links
the heads of all changed streams into one global chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from onething.audit.chain import (
    ANCHOR_STREAM,
    anchor_content,
    json_safe,
    record_content,
    record_hash,
)
from onething.audit.models import AuditAnchor, AuditRecord, AuditStream
from onething.core.masking import mask_personal_numbers

SENSITIVE_KEY_SUFFIXES = ("id_number", "phone", "account_number")
# Streams holding more changed streams than this wait for the next anchor, so that one anchor
# row stays a few hundred kilobytes however busy the platform was.
ANCHOR_MAX_STREAMS = 10_000


def _mask(value: str) -> str:
    if len(value) <= 6:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


def mask_sensitive(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `data` with personal numbers masked, at any depth: the value of every key
    ending in `id_number`, `phone` or `account_number`, and any resident ID or mobile number
    written inside other text (a reason, a note).

    The first 4 and last 2 characters stay (`110101199003071234` -> `1101************34`);
    values of 6 characters or fewer are masked whole. Masking twice changes nothing.
    """

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                key: (
                    _mask(str(item))
                    if str(key).lower().endswith(SENSITIVE_KEY_SUFFIXES)
                    and isinstance(item, str | int)
                    and not isinstance(item, bool)
                    else walk(item)
                )
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [walk(item) for item in value]
        if isinstance(value, str):
            return mask_personal_numbers(value)
        return value

    return walk(data)


def _locked_head(name: str) -> AuditStream:
    """The head row of stream `name`, created on first use, locked until the transaction ends."""
    try:
        return AuditStream.objects.select_for_update().get(name=name)
    except AuditStream.DoesNotExist:
        # Two first writers may race here: get_or_create settles it with a savepoint, and the
        # loser then waits on the winner's lock like any later writer.
        AuditStream.objects.get_or_create(name=name)
        return AuditStream.objects.select_for_update().get(name=name)


def audit_record(
    *,
    actor: str,
    action: str,
    stream: str,
    subject: str,
    purpose: str = "",
    data: dict | None = None,
) -> AuditRecord:
    """Append a record to `stream`, chained to the stream's previous record.

    Call it inside the transaction of the change it records. Values of keys ending in
    `id_number` in `data` are masked; `data` is stored as the plain JSON it reads back as.
    """
    if not stream or stream.startswith("@"):
        raise ValueError(f"audit stream name {stream!r}: must be non-empty and not start with @")
    if not actor or not action:
        raise ValueError("an audit record needs an actor and an action")
    return _append(
        actor=actor, action=action, stream=stream, subject=subject, purpose=purpose, data=data
    )


# Without a savepoint of its own: inside the caller's transaction (the usual case) a failure
# rolls the whole change back anyway, and a savepoint is two more round trips for each of the
# thirty-odd records of an application's life.
@transaction.atomic(savepoint=False)
def _append(
    *, actor: str, action: str, stream: str, subject: str, purpose: str, data: dict | None
) -> AuditRecord:
    head = _locked_head(stream)
    recorded_at = timezone.now()
    seq = head.last_seq + 1
    clean = json_safe(mask_sensitive(data or {}))
    content = record_content(
        stream=stream,
        seq=seq,
        actor=actor,
        action=action,
        subject=subject,
        purpose=purpose,
        data=clean,
        recorded_at=recorded_at,
    )
    record = AuditRecord.objects.create(
        stream=head,
        seq=seq,
        actor=actor,
        action=action,
        subject=subject,
        purpose=purpose,
        data=clean,
        recorded_at=recorded_at,
        prev_hash=head.last_hash,
        hash=record_hash(head.last_hash, content),
    )
    head.last_seq, head.last_hash, head.updated_at = seq, record.hash, recorded_at
    head.save(update_fields=["last_seq", "last_hash", "updated_at"])
    return record


@transaction.atomic
def audit_anchor(
    *, actor: str = "system:anchor", max_streams: int = ANCHOR_MAX_STREAMS
) -> AuditAnchor | None:
    """Link the current head of every stream changed since the last anchor into the anchor
    chain; None if no stream changed.

    Streams being written at this moment are skipped (PostgreSQL `SKIP LOCKED`) and taken by
    the next anchor, so anchoring never makes a writer wait for long. So are streams beyond
    `max_streams`: call again while the returned anchor is full.
    """
    chain_head = _locked_head(ANCHOR_STREAM)
    changed = list(
        AuditStream.objects.exclude(pk=chain_head.pk)
        .filter(last_seq__gt=F("anchored_seq"))
        .order_by("pk")
        .select_for_update(skip_locked=True)[:max_streams]
    )
    if not changed:
        return None
    recorded_at = timezone.now()
    seq = chain_head.last_seq + 1
    heads = {stream.name: [stream.last_seq, stream.last_hash] for stream in changed}
    content = anchor_content(seq=seq, actor=actor, heads=heads, recorded_at=recorded_at)
    anchor = AuditAnchor.objects.create(
        seq=seq,
        actor=actor,
        heads=heads,
        recorded_at=recorded_at,
        prev_hash=chain_head.last_hash,
        hash=record_hash(chain_head.last_hash, content),
    )
    for stream in changed:
        stream.anchored_seq = stream.last_seq
    AuditStream.objects.bulk_update(changed, ["anchored_seq"], batch_size=1000)
    chain_head.last_seq, chain_head.last_hash, chain_head.updated_at = seq, anchor.hash, recorded_at
    chain_head.save(update_fields=["last_seq", "last_hash", "updated_at"])
    return anchor
