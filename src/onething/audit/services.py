"""Writes to the audit trail: appending a record to a stream, and anchoring stream heads.

`audit_record` runs inside the caller's transaction, so the record commits or rolls back with
the change it describes. It locks only the head row of its own stream: writes to different
applications or subjects never wait on each other. `audit_anchor` runs periodically and links
the heads of all changed streams into one global chain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from django.db import connection, transaction
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
        # loser then waits on the winner's lock like any later writer. The winner's new row is
        # its own until it commits: no need to lock it again.
        head, created = AuditStream.objects.get_or_create(name=name)
        if created:
            return head
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


# The heads this process last wrote, by stream name: (row id, last seq, last hash). A record
# appended to a stream seen here moves the head with one compare-and-set UPDATE (the row is then
# locked as by `SELECT ... FOR UPDATE`) instead of locking and reading it first: a round trip
# less for each of the thirty-odd records of an application's life. A head moved meanwhile by
# another process, or a write rolled back since, fails the comparison (the hash differs) and
# falls back to locking and reading the row, so the chain never forks.
_known_heads: dict[tuple[str, str], tuple[int, int, str]] = {}
# An application's records come in bursts (a submit, a day's reviews), so the last thousand
# streams keep nearly every hit; at about 0.45 kB an entry, ten thousand made a long-running
# worker's memory grow by some 4.5 MB over its first ten thousand applications.
KNOWN_HEADS_MAX = 1_000


def _remember_head(stream: str, head_id: int, seq: int, last_hash: str) -> None:
    if len(_known_heads) >= KNOWN_HEADS_MAX:
        _known_heads.clear()
    _known_heads[(connection.alias, stream)] = (head_id, seq, last_hash)


def _moved_known_head(
    stream: str, link: Callable[[int, str], tuple[int, str]], recorded_at: datetime
) -> tuple[int, int, str, str] | None:
    """Move the head this process knows for `stream` onto the record `link` chains to it:
    (head id, the record's seq, its prev hash, its hash); None if the head is unknown here or
    has moved since (then nothing was written)."""
    known = _known_heads.get((connection.alias, stream))
    if known is None:
        return None
    head_id, last_seq, last_hash = known
    seq, new_hash = link(last_seq, last_hash)
    moved = AuditStream.objects.filter(pk=head_id, last_seq=last_seq, last_hash=last_hash).update(
        last_seq=seq, last_hash=new_hash, updated_at=recorded_at
    )
    if not moved:
        _known_heads.pop((connection.alias, stream), None)
        return None
    return head_id, seq, last_hash, new_hash


# Without a savepoint of its own: inside the caller's transaction (the usual case) a failure
# rolls the whole change back anyway, and a savepoint is two more round trips for each of the
# thirty-odd records of an application's life.
@transaction.atomic(savepoint=False)
def _append(
    *, actor: str, action: str, stream: str, subject: str, purpose: str, data: dict | None
) -> AuditRecord:
    described = {
        "actor": actor,
        "action": action,
        "subject": subject,
        "purpose": purpose,
        "data": json_safe(mask_sensitive(data or {})),
        "recorded_at": timezone.now(),
    }
    recorded_at = described["recorded_at"]

    def link(last_seq: int, last_hash: str) -> tuple[int, str]:
        content = record_content(stream=stream, seq=last_seq + 1, **described)
        return last_seq + 1, record_hash(last_hash, content)

    moved = _moved_known_head(stream, link, recorded_at)
    if moved is not None:
        head_id, seq, prev_hash, new_hash = moved
    else:
        head = _locked_head(stream)
        head_id, prev_hash = head.pk, head.last_hash
        seq, new_hash = link(head.last_seq, prev_hash)
    record = AuditRecord.objects.create(
        stream_id=head_id, seq=seq, prev_hash=prev_hash, hash=new_hash, **described
    )
    if moved is None:
        AuditStream.objects.filter(pk=head_id).update(
            last_seq=seq, last_hash=new_hash, updated_at=recorded_at
        )
    _remember_head(stream, head_id, seq, new_hash)
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
    # Plain rows, not model instances: an anchor may take ten thousand streams.
    changed = list(
        AuditStream.objects.exclude(pk=chain_head.pk)
        .filter(last_seq__gt=F("anchored_seq"))
        .order_by("pk")
        .select_for_update(skip_locked=True)
        .values_list("pk", "name", "last_seq", "last_hash")[:max_streams]
    )
    if not changed:
        return None
    recorded_at = timezone.now()
    seq = chain_head.last_seq + 1
    heads = {name: [last_seq, last_hash] for _, name, last_seq, last_hash in changed}
    content = anchor_content(seq=seq, actor=actor, heads=heads, recorded_at=recorded_at)
    anchor = AuditAnchor.objects.create(
        seq=seq,
        actor=actor,
        heads=heads,
        recorded_at=recorded_at,
        prev_hash=chain_head.last_hash,
        hash=record_hash(chain_head.last_hash, content),
    )
    # The rows are locked until commit, so each last_seq is still the one recorded in `heads`.
    pks = [pk for pk, *_ in changed]
    for start in range(0, len(pks), 1000):
        AuditStream.objects.filter(pk__in=pks[start : start + 1000]).update(
            anchored_seq=F("last_seq")
        )
    chain_head.last_seq, chain_head.last_hash, chain_head.updated_at = seq, anchor.hash, recorded_at
    chain_head.save(update_fields=["last_seq", "last_hash", "updated_at"])
    return anchor
