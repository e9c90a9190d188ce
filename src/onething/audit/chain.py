"""Hash chains of audit records, without Django.

Each record's hash is SHA-256 over the previous record's hash followed by the canonical JSON of
the record's content, so altering, removing or inserting a record breaks the chain at that point.
The first record of a chain links to `GENESIS_HASH`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
# The name of the global chain that anchors the heads of every stream. Streams never start
# with "@", so it cannot clash with one.
ANCHOR_STREAM = "@anchors"
# Python writes floats from 1e16 up with an exponent; PostgreSQL's jsonb gives them back as
# integers, so they are stored as integers to hash the same after a round trip.
_FLOAT_AS_INT_FROM = 1e16


def canonical_json(content: Mapping[str, Any]) -> str:
    """The one JSON text of `content`: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def record_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    """SHA-256 (hex) over the previous hash followed by the canonical JSON of `content`."""
    return hashlib.sha256((prev_hash + canonical_json(content)).encode("utf-8")).hexdigest()


def timestamp_text(moment: datetime) -> str:
    """A moment as hashed: ISO 8601 in UTC with microseconds. Naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def json_safe(value: Any) -> Any:
    """`value` as the plain JSON it will read back as from any database, so its hash holds.

    Keys become strings, tuples lists, unknown types (dates, decimals, UUIDs) their `str()`,
    non-finite floats strings, integral floats too large for plain notation integers, and -0.0
    is 0.0.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) >= _FLOAT_AS_INT_FROM:
            return int(value)
        return value + 0.0  # -0.0 becomes 0.0, as numeric columns store it
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return str(value)


def record_content(
    *,
    stream: str,
    seq: int,
    actor: str,
    action: str,
    subject: str,
    purpose: str,
    data: Mapping[str, Any],
    recorded_at: datetime,
) -> dict[str, Any]:
    """The fields of an audit record that its hash covers."""
    return {
        "stream": stream,
        "seq": seq,
        "actor": actor,
        "action": action,
        "subject": subject,
        "purpose": purpose,
        "data": data,
        "recorded_at": timestamp_text(recorded_at),
    }


def anchor_content(
    *, seq: int, actor: str, heads: Mapping[str, Any], recorded_at: datetime
) -> dict[str, Any]:
    """The fields of an anchor that its hash covers; `heads` maps stream to [seq, hash]."""
    return {"seq": seq, "actor": actor, "heads": heads, "recorded_at": timestamp_text(recorded_at)}


@dataclass(frozen=True)
class ChainRecord:
    """One link of a chain as stored: its content and the hashes it claims."""

    stream: str
    seq: int
    prev_hash: str
    hash: str
    content: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None

    def label(self) -> str:
        if self.stream == ANCHOR_STREAM:
            return f"anchor seq {self.seq} (anchor id {self.id})"
        return f"stream {self.stream!r} seq {self.seq} (record id {self.id})"


def verify_chain(
    records: Iterable[ChainRecord],
    *,
    start_seq: int = 0,
    start_hash: str = GENESIS_HASH,
    head: tuple[int, str] | None = None,
) -> str | None:
    """The first problem in one chain walked in seq order, or None if it is intact.

    Seqs must run on from `start_seq` + 1 without gaps or repeats, each record must link to the
    hash of the one before it and hash to its own content. With `head` (seq, hash), the chain
    must also end exactly there, which catches a removed or appended last record.
    """
    expected_seq, prev_hash, last = start_seq + 1, start_hash, None
    for record in records:
        if record.seq < expected_seq:
            return (
                f"{record.label()}: seq {record.seq} repeats or goes back (expected "
                f"{expected_seq}): a record was inserted"
            )
        if record.seq > expected_seq:
            missing = record.seq - expected_seq
            return (
                f"{record.label()}: expected seq {expected_seq}: {missing} record(s) before "
                "it were removed"
            )
        if record.prev_hash != prev_hash:
            before = f" ({last.label()})" if last else ""
            return (
                f"{record.label()}: prev_hash does not match the hash of the record before "
                f"it{before}: a record was inserted, replaced or altered"
            )
        if record_hash(record.prev_hash, record.content) != record.hash:
            return f"{record.label()}: altered: its hash does not match its content"
        expected_seq, prev_hash, last = record.seq + 1, record.hash, record
    if head is None:
        return None
    stream = last.stream if last else "chain"
    return head_problem(stream, last, head[0], head[1], start_seq=start_seq, start_hash=start_hash)


def head_problem(
    stream: str,
    last: ChainRecord | None,
    head_seq: int,
    head_hash: str,
    *,
    start_seq: int = 0,
    start_hash: str = GENESIS_HASH,
) -> str | None:
    """What is wrong if a chain whose last record is `last` does not end at its head."""
    last_seq, last_hash = (last.seq, last.hash) if last else (start_seq, start_hash)
    if (last_seq, last_hash) == (head_seq, head_hash):
        return None
    if last_seq < head_seq:
        if last is None:
            return (
                f"stream {stream!r}: its head is at seq {head_seq} but its records up to it "
                "are missing: they were removed"
            )
        return (
            f"{last.label()}: the stream's head is at seq {head_seq} but this is its last "
            "record: the records after it were removed"
        )
    if last is not None and last_seq > head_seq:
        return f"{last.label()}: beyond the stream's head at seq {head_seq}: a record was inserted"
    where = last.label() if last else f"stream {stream!r}"
    return f"{where}: its hash differs from the stream's head: the record or the head was altered"
