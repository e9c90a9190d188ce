"""Reading the audit trail back and finding the first record that was altered, removed or
inserted. Rows are streamed in chunks, so a trail of millions of records fits in memory.

Three walks, each stopping at the first problem:

1. every stream in seq order: each record hashes to its content and links to the one before
   it, seqs run 1, 2, 3… without gaps or repeats, and the last record is the stream's head;
2. the anchor chain, the same way, ending at its own head;
3. every stream head an anchor ever recorded is still there with the same hash, which catches a
   stream cut short or rewritten together with its head row.

The trail may grow while it is read: a stream whose head and records disagree is read again
once before it is reported.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter

from django.db import connection, transaction
from django.db.models import Q

from onething.audit.chain import (
    ANCHOR_STREAM,
    GENESIS_HASH,
    ChainRecord,
    head_problem,
    verify_chain,
)
from onething.audit.models import AuditAnchor, AuditRecord, AuditStream

CHUNK_SIZE = 2000
# Anchored heads looked up per query: one OR term each, well below SQLite's expression depth.
COVERAGE_BATCH = 100


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of `audit_verify`: intact, or the first problem and the record it names.

    `record_id` is the AuditRecord named, `anchor_id` the AuditAnchor named (either may be None).
    """

    ok: bool
    checked: int
    problem: str | None = None
    record_id: int | None = None
    streams: int = 0
    anchors: int = 0
    anchor_id: int | None = None


class _Broken(Exception):
    def __init__(self, problem: str, record_id: int | None = None, anchor_id: int | None = None):
        super().__init__(problem)
        self.problem, self.record_id, self.anchor_id = problem, record_id, anchor_id


class _Walk:
    """Counts what was checked and remembers the link being checked and the last good one."""

    def __init__(self) -> None:
        self.current: ChainRecord | None = None
        self.last: ChainRecord | None = None
        self.count = 0

    def feed(self, records: Iterable[ChainRecord]) -> Iterator[ChainRecord]:
        for record in records:
            if self.current is not None:
                self.last = self.current
            self.current = record
            self.count += 1
            yield record
        if self.current is not None:
            self.last = self.current

    def check(self, records: Iterable[ChainRecord], start: ChainRecord | None) -> None:
        """Walk `records` on from `start`; raise _Broken at the first problem."""
        self.current = self.last = start
        problem = verify_chain(
            self.feed(records),
            start_seq=start.seq if start else 0,
            start_hash=start.hash if start else GENESIS_HASH,
        )
        if problem is not None:
            raise _broken(problem, self.current)


def _broken(problem: str, record: ChainRecord | None) -> _Broken:
    if record is None:
        return _Broken(problem)
    if record.stream == ANCHOR_STREAM:
        return _Broken(problem, anchor_id=record.id)
    return _Broken(problem, record_id=record.id)


@contextlib.contextmanager
def _reading() -> Iterator[None]:
    # On PostgreSQL, server-side cursors opened outside a transaction are WITH HOLD, which
    # materialises every row on the server; inside one they stream. On SQLite a transaction
    # would take the write lock (IMMEDIATE mode) for the whole walk, so none is opened there.
    if connection.vendor == "postgresql":
        with transaction.atomic():
            yield
    else:
        yield


def audit_verify(*, chunk_size: int = CHUNK_SIZE) -> VerifyResult:
    """Check the whole audit trail; the result names the first broken record, if any."""
    walk, anchors = _Walk(), _Walk()
    streams = 0
    with _reading():
        try:
            streams = _verify_streams(walk, chunk_size)
            _verify_anchor_chain(anchors, chunk_size)
            _verify_anchored_heads(chunk_size)
        except _Broken as broken:
            return VerifyResult(
                ok=False,
                checked=walk.count,
                problem=broken.problem,
                record_id=broken.record_id,
                anchor_id=broken.anchor_id,
                streams=streams,
                anchors=anchors.count,
            )
    return VerifyResult(ok=True, checked=walk.count, streams=streams, anchors=anchors.count)


def _verify_streams(walk: _Walk, chunk_size: int) -> int:
    """Walk every stream against its records (a merge join on stream id); the stream count."""
    heads = AuditStream.objects.exclude(name=ANCHOR_STREAM).order_by("pk")
    records = AuditRecord.objects.order_by("stream_id", "seq", "pk")
    # Closed on the way out, while the transaction holding their server-side cursors is open.
    with (
        contextlib.closing(heads.iterator(chunk_size)) as head_rows,
        contextlib.closing(records.iterator(chunk_size)) as record_rows,
    ):
        groups = groupby(record_rows, key=attrgetter("stream_id"))
        pending = next(groups, None)
        count = 0
        for head in head_rows:
            count += 1
            if pending is not None and pending[0] < head.pk:
                raise _orphan(next(pending[1]))
            has_records = pending is not None and pending[0] == head.pk
            rows: Iterable[AuditRecord] = pending[1] if has_records else ()
            walk.check((row.chain_record(head.name) for row in rows), start=None)
            if has_records:
                pending = next(groups, None)
            _check_head(walk, head)
        if pending is not None:
            raise _orphan(next(pending[1]))
    return count


def _orphan(row: AuditRecord) -> _Broken:
    return _Broken(
        f"record id {row.pk} (seq {row.seq}) belongs to no audit stream: a record was inserted",
        record_id=row.pk,
    )


def _check_head(walk: _Walk, head: AuditStream) -> None:
    """The stream must end at its head; read it again once in case it grew meanwhile."""
    last = walk.last
    if head_problem(head.name, last, head.last_seq, head.last_hash) is None:
        return
    fresh = AuditStream.objects.filter(pk=head.pk).first()
    if fresh is None:
        raise _Broken(f"stream {head.name!r}: its head row was removed")
    more = fresh.records.filter(seq__gt=last.seq if last else 0, seq__lte=fresh.last_seq).order_by(
        "seq", "pk"
    )
    walk.check((row.chain_record(fresh.name) for row in more), start=last)
    problem = head_problem(fresh.name, walk.last, fresh.last_seq, fresh.last_hash)
    if problem is not None:
        raise _broken(problem, walk.last)


def _verify_anchor_chain(walk: _Walk, chunk_size: int) -> None:
    anchors = AuditAnchor.objects.order_by("seq", "pk")
    with contextlib.closing(anchors.iterator(chunk_size)) as rows:
        walk.check((anchor.chain_record() for anchor in rows), start=None)
    head = AuditStream.objects.filter(name=ANCHOR_STREAM).first()
    head_seq, head_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
    if head_problem(ANCHOR_STREAM, walk.last, head_seq, head_hash) is None:
        return
    last = walk.last
    fresh = AuditStream.objects.filter(name=ANCHOR_STREAM).first()
    if fresh is None:
        raise _Broken(f"the anchor chain's head row ({ANCHOR_STREAM}) was removed")
    more = AuditAnchor.objects.filter(
        seq__gt=last.seq if last else 0, seq__lte=fresh.last_seq
    ).order_by("seq", "pk")
    walk.check((anchor.chain_record() for anchor in more), start=last)
    problem = head_problem(ANCHOR_STREAM, walk.last, fresh.last_seq, fresh.last_hash)
    if problem is not None:
        raise _broken(problem, walk.last)


@dataclass(frozen=True)
class _AnchoredHead:
    anchor_seq: int
    anchor_id: int
    stream: str
    seq: int
    hash: str


def _verify_anchored_heads(chunk_size: int) -> None:
    batch: list[_AnchoredHead] = []
    anchors = AuditAnchor.objects.order_by("seq", "pk").values_list("seq", "pk", "heads")
    with contextlib.closing(anchors.iterator(chunk_size)) as rows:
        for anchor_seq, anchor_id, heads in rows:
            for stream, (seq, digest) in sorted(heads.items()):
                batch.append(_AnchoredHead(anchor_seq, anchor_id, stream, seq, digest))
                if len(batch) >= COVERAGE_BATCH:
                    _check_anchored(batch)
                    batch = []
    _check_anchored(batch)


def _check_anchored(batch: list[_AnchoredHead]) -> None:
    if not batch:
        return
    wanted = Q()
    for item in batch:
        wanted |= Q(stream__name=item.stream, seq=item.seq)
    found = {
        (stream, seq): (digest, pk)
        for stream, seq, digest, pk in AuditRecord.objects.filter(wanted).values_list(
            "stream__name", "seq", "hash", "pk"
        )
    }
    for item in batch:
        anchor = f"anchor seq {item.anchor_seq} (anchor id {item.anchor_id})"
        hit = found.get((item.stream, item.seq))
        if hit is None:
            last = AuditRecord.objects.filter(stream__name=item.stream).order_by("-seq").first()
            ends = f"it ends at seq {last.seq} (record id {last.pk})" if last else "it is empty"
            raise _Broken(
                f"stream {item.stream!r}: {anchor} holds its head at seq {item.seq}, but {ends}: "
                "its records were removed",
                record_id=last.pk if last else None,
                anchor_id=item.anchor_id,
            )
        digest, pk = hit
        if digest != item.hash:
            raise _Broken(
                f"stream {item.stream!r} seq {item.seq} (record id {pk}): its hash differs from "
                f"the one {anchor} holds: the stream was rewritten",
                record_id=pk,
                anchor_id=item.anchor_id,
            )
