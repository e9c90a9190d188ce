"""Keeping the roll-up table equal to the sum of every application's and ticket's contributions.

Each application's contributions (supervision.metrics) are computed from its facts, read in
batches with a fixed number of queries per batch. The ledger keeps what each application last
added; a refresh adds the difference (an UPSERT incrementing count and total; rows back at zero
are deleted), so applying it twice changes nothing. Writers take the state row's lock, one
batch per transaction, so two workers never interleave their differences.

Hotline tickets (with their ratings) are the second kind of subject ("ticket"), in the same
ledger and table. Two of their figures change when a deadline passes with nothing done
(metrics.ticket_contributions is reckoned at a moment): a refresh also looks again at the
tickets whose sign-for deadline or due day passed since the last one, and a check recomputes
them as of the last refresh.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import json
import multiprocessing
import multiprocessing.connection
import traceback
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from onething.applications import reductions
from onething.applications.models import (
    Application,
    ApplicationMaterial,
    Case,
    CaseEvent,
    SupplementItem,
    SupplementRequest,
)
from onething.catalog.selectors import work_calendar
from onething.complaints.models import Ticket, TicketEvent
from onething.complaints.selectors import read_ticket_facts
from onething.core.bulk import BulkWriter
from onething.core.workdays import RegionalWorkdays
from onething.ratings.models import DepartmentRating, Rating
from onething.supervision import metrics
from onething.supervision.models import Rollup, RollupLedger, RollupState

SUBJECT = "application"
TICKET_SUBJECT = metrics.TICKET
STATE = "rollups"
# A change committed a little after the refresh read the clock is found by the next refresh.
OVERLAP = dt.timedelta(minutes=5)
# A batch's facts and contributions are held at once, about 20 KB an application: 200 keep a
# refresh's peak near 4 MB in the worker, at 15 queries a batch.
BATCH = 200
LEDGER_COLUMNS = ("subject_kind", "subject_id", "contributions", "refreshed_at")
ROLLUP_COLUMNS = (
    "key", "level", "month", "region", "thing", "department", "service", "channel", "metric",
    "bucket", "count", "total",
)  # fmt: skip


def _local(moment: dt.datetime | None) -> dt.date | None:
    # The platform's one time zone, read once (timezone.localtime looks it up on every call).
    return moment.astimezone(_zone()).date() if moment is not None else None


@functools.cache
def _zone() -> dt.tzinfo:
    return timezone.get_default_timezone()


def _chunks(items: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _spans(ids: Iterable[int], size: int) -> Iterator[range]:
    """Ascending ids in batches of `size`, each as the span from its first id to its last: the
    batch's queries ask for a span (two comparisons the index answers) instead of a list of
    ids quoted one by one and matched element by element. A span may hold ids the caller left
    out (a draft): those contribute nothing."""
    for chunk in _chunks(ids, size):
        yield range(chunk[0], chunk[-1] + 1)


def _among(field: str, ids: Sequence[int]) -> dict[str, Any]:
    """The lookup selecting `ids` in `field`: bounds for a span (see _spans), a list otherwise."""
    if isinstance(ids, range) and ids.step == 1:
        return {f"{field}__gte": ids.start, f"{field}__lt": ids.stop}
    return {f"{field}__in": ids}


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a rebuild holds millions of small objects: each of
    its passes walks them all (half a rebuild's time), and the rebuild makes no cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# The span of working days the subjects need (a few years back, one ahead): a count inside it is
# two list look-ups per region, where the calendar counts day by day.
WORKDAY_SPAN = (dt.timedelta(days=4 * 366), dt.timedelta(days=366))


def _working_days() -> RegionalWorkdays:
    """The platform's calendar (catalog.selectors.work_calendar) indexed by region around today."""
    today = timezone.localdate()
    before, after = WORKDAY_SPAN
    return RegionalWorkdays(work_calendar(), today - before, today + after)


def application_facts(ids: Sequence[int]) -> dict[int, metrics.ApplicationFacts]:
    """The facts of the given applications (drafts included), in eight queries."""
    cases: dict[int, list[metrics.CaseFacts]] = defaultdict(list)
    supplemented = set(
        SupplementItem.objects.filter(
            **_among("case__application_id", ids), request__kind=SupplementRequest.Kind.NOTICE
        ).values_list("case_id", flat=True)
    )
    for row in Case.objects.filter(**_among("application_id", ids)).values(
        "pk",
        "application_id",
        "service__code",
        "department__code",
        "status",
        "ready_at",
        "decided_at",
        "due_date",
        "decided_by_rule",
    ):
        cases[row["application_id"]].append(
            metrics.CaseFacts(
                service=row["service__code"],
                department=row["department__code"],
                status=row["status"],
                ready_on=_local(row["ready_at"]),
                decided_on=_local(row["decided_at"]),
                due_date=row["due_date"],
                decided_by_rule=bool(row["decided_by_rule"]),
                supplemented=row["pk"] in supplemented,
            )
        )
    provisions: dict[int, dict[str, int]] = defaultdict(dict)
    for application_id, provision, n in (
        ApplicationMaterial.objects.filter(**_among("application_id", ids))
        .values("application_id", "provision")
        .annotate(n=Count("pk"))
        .values_list("application_id", "provision", "n")
    ):
        provisions[application_id][provision] = n
    given: dict[int, dict[str, int]] = defaultdict(dict)
    for rating_id, department, stars in DepartmentRating.objects.filter(
        **_among("rating__application_id", ids)
    ).values_list("rating_id", "department__code", "stars"):
        given[rating_id][department] = stars
    ratings: dict[int, list[metrics.RatingFacts]] = defaultdict(list)
    for pk, application_id, stars, created in Rating.objects.filter(
        **_among("application_id", ids)
    ).values_list("pk", "application_id", "stars", "created_at"):
        ratings[application_id].append(
            metrics.RatingFacts(stars=stars, rated_on=_local(created), departments=given[pk])
        )
    rows = list(
        Application.objects.filter(**_among("pk", ids)).values(
            "pk",
            "region__code",
            "thing__code",
            "channel",
            "status",
            "submitted_at",
            "finished_at",
            "due_date",
            "prefilled",
            # Only the plan's reductions: the whole snapshot (form, materials, texts) is large.
            claimed=KeyTransform("reductions", "plan_snapshot"),
        )
    )
    # Only where sharing prefilled something is the form itself read: elsewhere every asked
    # field was typed, which the plan's own count says.
    asked = {
        pk: reductions.asked_in_snapshot(form or ())
        for pk, form in Application.objects.filter(
            pk__in=[row["pk"] for row in rows if row["prefilled"]]
        ).values_list("pk", KeyTransform("form", "plan_snapshot"))
    }
    facts = {}
    for row in rows:
        claimed = row["claimed"] or {}
        if row["pk"] in asked:
            fields_typed = reductions.fields_typed(asked[row["pk"]], row["prefilled"])
        else:
            fields_typed = int((claimed.get("fields") or {}).get("together", 0))
        facts[row["pk"]] = metrics.ApplicationFacts(
            region=row["region__code"] or "",
            thing=row["thing__code"],
            channel=row["channel"],
            status=row["status"],
            submitted_on=_local(row["submitted_at"]),
            finished_on=_local(row["finished_at"]),
            due_date=row["due_date"],
            cases=tuple(sorted(cases[row["pk"]], key=lambda c: c.service)),
            separately={
                name: int(claimed.get(name, {}).get("separately", 0))
                for name in reductions.FROM_THE_CATALOG
            },
            materials_provided=reductions.materials_provided(provisions[row["pk"]]),
            fields_typed=fields_typed,
            ratings=tuple(sorted(ratings[row["pk"]], key=lambda r: (r.rated_on, r.stars))),
        )
    return facts


def _contributions_of(
    ids: Sequence[int], working_days: RegionalWorkdays
) -> dict[int, metrics.Contributions]:
    return {
        pk: metrics.contributions(facts, working_days.between)
        for pk, facts in application_facts(ids).items()
    }


def _upsert(delta: metrics.Contributions) -> None:
    """Add `delta` to the table (INSERT … ON CONFLICT DO UPDATE, incrementing), then delete the
    rows it brought back to zero."""
    if not delta:
        return
    q = connection.ops.quote_name
    table = q(Rollup._meta.db_table)
    columns = ", ".join(q(c) for c in ROLLUP_COLUMNS)
    places = ", ".join(["%s"] * len(ROLLUP_COLUMNS))
    n, t = q("count"), q("total")
    # Only our own table's quoted names are formatted in; the values are bound parameters.
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({places}) "  # noqa: S608
        f"ON CONFLICT ({q('key')}) DO UPDATE SET {n} = {table}.{n} + excluded.{n}, "
        f"{t} = {table}.{t} + excluded.{t}"
    )
    rows = [
        (metrics.key_text(key), *key[:1], key.month.isoformat(), *key[2:], count, total)
        for key, (count, total) in delta.items()
    ]
    with connection.cursor() as cursor:
        for chunk in _chunks(range(len(rows)), 1000):
            cursor.executemany(sql, [rows[i] for i in chunk])
    texts = [row[0] for row in rows]
    for chunk in _chunks(range(len(texts)), 500):
        Rollup.objects.filter(key__in=[texts[i] for i in chunk], count=0, total=0).delete()


def _locked_state() -> RollupState:
    RollupState.objects.get_or_create(name=STATE)
    return RollupState.objects.select_for_update().get(name=STATE)


def refresh_applications(ids: Sequence[int], *, now: dt.datetime | None = None) -> int:
    """Bring the roll-ups up to date for these applications (one transaction); the number of
    applications whose contributions changed."""
    now = now or timezone.now()
    working_days = _working_days()
    with transaction.atomic():
        _locked_state()
        return _fold(SUBJECT, ids, _contributions_of(ids, working_days), now)


def touched_since(since: dt.datetime | None) -> list[int]:
    """Applications changed at or after `since` (every one when None): the application row, an
    event of it or of its cases, or a rating of it."""
    if since is None:
        return list(Application.objects.order_by("pk").values_list("pk", flat=True))
    return sorted(_changed_since(Application, CaseEvent, "application", since))


def _changed_since(subject: type, events: type, field: str, since: dt.datetime) -> set[int]:
    """Subjects whose row, one of whose events (`events.<field>`), or one of whose ratings
    (`Rating.<field>`) changed at or after `since`."""
    touched = set(subject.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
    touched |= set(events.objects.filter(at__gte=since).values_list(f"{field}_id", flat=True))
    touched |= set(
        Rating.objects.filter(updated_at__gte=since, **{f"{field}__isnull": False}).values_list(
            f"{field}_id", flat=True
        )
    )
    return touched


@dataclass(frozen=True)
class RefreshResult:
    applications: int
    changed: int
    watermark: dt.datetime
    tickets: int = 0


def refresh(*, now: dt.datetime | None = None, batch: int = BATCH) -> RefreshResult:
    """Recompute every application touched since the watermark (less an overlap, so a late
    commit is not missed), one transaction per batch, then move the watermark."""
    now = now or timezone.now()
    state = RollupState.objects.filter(name=STATE).first()
    since = state.watermark - OVERLAP if state and state.watermark else None
    ids = touched_since(since)
    changed = sum(refresh_applications(chunk, now=now) for chunk in _chunks(ids, batch))
    tickets = tickets_touched_since(since, now=now)
    changed += sum(refresh_tickets(chunk, now=now) for chunk in _chunks(tickets, batch))
    with transaction.atomic():
        state = _locked_state()
        if state.watermark is None or state.watermark < now:
            state.watermark = now
            state.save(update_fields=["watermark"])
    return RefreshResult(
        applications=len(ids), changed=changed, watermark=now, tickets=len(tickets)
    )


def _application_spans(batch: int) -> Iterator[range]:
    ids = Application.objects.filter(submitted_at__isnull=False).order_by("pk")
    return _spans(ids.values_list("pk", flat=True).iterator(chunk_size=batch), batch)


def recompute(batch: int = 2000) -> metrics.Contributions:
    """The sum of every application's contributions, computed afresh (streamed in batches)."""
    working_days = _working_days()
    summed: metrics.Contributions = {}
    for span in _application_spans(batch):
        for mine in _contributions_of(span, working_days).values():
            metrics.merge(summed, mine)
    return summed


# Processes computing a rebuild's contributions on PostgreSQL: the work is Python's, subject by
# subject (a million applications take a quarter of an hour in one process), and the database
# serves each its own connection. SQLite, or a caller inside a transaction (its rows are not
# visible to other connections), rebuilds in this process.
REBUILD_WORKERS = 2


def rebuild(
    *, now: dt.datetime | None = None, batch: int = 2000, workers: int | None = None
) -> int:
    """Empty the roll-ups and the ledger and fill them again from every application and
    ticket, in one transaction (refreshes wait); the number of roll-up rows.

    On PostgreSQL outside a transaction, `workers` processes (REBUILD_WORKERS unless given)
    compute the contributions of disjoint batches; this one, holding the transaction and the
    lock, writes their ledger rows and adds up their sums. The result is the same either way."""
    now = now or timezone.now()
    working_days = _working_days()
    summed: metrics.Contributions = {}
    with (
        _cyclic_gc_paused(),
        _Computers(_rebuild_workers(workers), working_days, now) as computers,
        transaction.atomic(),
    ):
        state = _locked_state()
        RollupLedger.objects.all().delete()
        Rollup.objects.all().delete()
        writer = BulkWriter()
        tasks = [(SUBJECT, span) for span in _application_spans(batch)]
        tasks += [(TICKET_SUBJECT, span) for span in _ticket_spans(batch)]
        for kind, ledgers in computers.ledgers(tasks, summed):
            rows = [(kind, pk, text, now) for pk, text in ledgers]
            writer.write("ledgers", RollupLedger, LEDGER_COLUMNS, rows)
        # In the order of the unique key: its index then grows at its right edge, page by page,
        # instead of splitting pages all over (a third faster).
        rows = sorted(
            (metrics.key_text(key), *key[:1], key.month, *key[2:], count, total)
            for key, (count, total) in summed.items()
            if (count, total) != (0, 0)
        )
        writer.write("rollups", Rollup, ROLLUP_COLUMNS, rows)
        state.watermark = now
        state.rebuilt_at = now
        state.save(update_fields=["watermark", "rebuilt_at"])
    return len(summed)


def _rebuild_workers(asked: int | None) -> int:
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(1, REBUILD_WORKERS if asked is None else asked)


Ledgers = list[tuple[int, str]]  # (subject id, its ledger's JSON text)


def _ledgers_of(
    kind: str,
    span: range,
    working_days: RegionalWorkdays,
    now: dt.datetime,
    summed: metrics.Contributions,
) -> Ledgers:
    """One batch of a rebuild: each subject's ledger text, its contributions added to `summed`."""
    if kind == SUBJECT:
        contributions = _contributions_of(span, working_days)
    else:
        contributions = _ticket_contributions_of(span, now)
    ledgers = []
    for pk, mine in contributions.items():
        if not mine:
            continue
        metrics.merge(summed, mine)
        ledgers.append((pk, json.dumps(metrics.encode(mine), separators=(",", ":"))))
    return ledgers


class _Computers:
    """Where a rebuild's batches are computed: here (one worker), or in forked processes.

    The processes are forked before the rebuild's transaction opens, with this process's
    connection closed (a connection shared across a fork is broken by the first to close it):
    each opens its own, receives its share of the batches, sends back each batch's ledgers,
    then its sum. Left early (an error), they are ended."""

    def __init__(self, workers: int, working_days: RegionalWorkdays, now: dt.datetime) -> None:
        self.workers, self.working_days, self.now = workers, working_days, now
        self.processes: list[tuple[Any, Any]] = []

    def __enter__(self) -> _Computers:
        if self.workers > 1:
            connection.close()
            context = multiprocessing.get_context("fork")
            for _ in range(self.workers):
                mine, theirs = context.Pipe()
                process = context.Process(
                    target=_compute, args=(theirs, self.working_days, self.now), daemon=True
                )
                process.start()
                theirs.close()
                self.processes.append((process, mine))
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process, channel in self.processes:
            channel.close()
            if exc_info[0] is not None:
                process.terminate()
            process.join()

    def ledgers(
        self, tasks: list[tuple[str, range]], summed: metrics.Contributions
    ) -> Iterator[tuple[str, Ledgers]]:
        """Each batch's (kind, ledgers) as it is computed, in no set order; their contributions
        added to `summed` by the end."""
        if not self.processes:
            for kind, span in tasks:
                yield kind, _ledgers_of(kind, span, self.working_days, self.now, summed)
            return
        for i, (_process, channel) in enumerate(self.processes):
            channel.send(tasks[i :: len(self.processes)])
        waiting = [channel for _process, channel in self.processes]
        while waiting:
            for channel in multiprocessing.connection.wait(waiting):
                try:
                    what, kind, body = channel.recv()
                except EOFError:
                    raise RuntimeError("a roll-up rebuild worker ended early") from None
                if what == "ledgers":
                    yield kind, body
                elif what == "summed":
                    metrics.merge(summed, body)
                    waiting.remove(channel)
                else:
                    raise RuntimeError(f"a roll-up rebuild worker failed:\n{body}")


def _compute(channel: Any, working_days: RegionalWorkdays, now: dt.datetime) -> None:
    """A forked worker of a rebuild (see _Computers): its batches' ledgers, then its sum."""
    summed: metrics.Contributions = {}
    try:
        for kind, span in channel.recv():
            channel.send(("ledgers", kind, _ledgers_of(kind, span, working_days, now, summed)))
        channel.send(("summed", "", summed))
    except Exception:
        channel.send(("failed", "", traceback.format_exc()))
    finally:
        connection.close()
        channel.close()


def tidy_after_rebuild() -> None:
    """On PostgreSQL, outside a transaction: VACUUM ANALYZE the freshly written roll-ups, so
    that the dashboards' covering indexes answer from the index alone (until the table's
    visibility map is set, every row is read from the table too: five times slower) and the
    planner knows the new row counts. Autovacuum would get there, minutes later."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(Rollup._meta.db_table)}")


def stored() -> metrics.Contributions:
    """The roll-up table as a mapping key → (count, total)."""
    out: metrics.Contributions = {}
    for row in Rollup.objects.values_list(
        "level",
        "month",
        "region",
        "thing",
        "department",
        "service",
        "channel",
        "metric",
        "bucket",
        "count",
        "total",
    ).iterator(chunk_size=5000):
        out[metrics.Key(*row[:9])] = (row[9], row[10])
    return out


def differences() -> list[tuple[metrics.Key, tuple[int, int], tuple[int, int]]]:
    """Where the table differs from a direct recomputation: (key, stored, recomputed); the
    tickets as of the last refresh (their deadlines are reckoned at that moment)."""
    expected = recompute()
    state = RollupState.objects.filter(name=STATE).first()
    metrics.merge(expected, recompute_tickets(now=state.watermark if state else None))
    actual = stored()
    return sorted(
        (key, actual.get(key, (0, 0)), expected.get(key, (0, 0)))
        for key in actual.keys() | expected.keys()
        if actual.get(key, (0, 0)) != expected.get(key, (0, 0))
    )


# --- hotline tickets -----------------------------------------------------------------------


def ticket_facts(ids: Sequence[int]) -> dict[int, metrics.TicketFacts]:
    """The facts of the given tickets with their ratings, in two queries."""
    ratings: dict[int, list[metrics.RatingFacts]] = defaultdict(list)
    for ticket_id, stars, created in Rating.objects.filter(**_among("ticket_id", ids)).values_list(
        "ticket_id", "stars", "created_at"
    ):
        ratings[ticket_id].append(metrics.RatingFacts(stars=stars, rated_on=_local(created)))
    return {
        read.pk: metrics.TicketFacts(
            ticket=read.facts,
            channel=read.channel,
            received_on=read.received_on,
            ratings=tuple(sorted(ratings[read.pk], key=lambda r: (r.rated_on, r.stars))),
        )
        for read in read_ticket_facts(Ticket.objects.filter(**_among("pk", ids)))
    }


def _ticket_contributions_of(
    ids: Sequence[int], now: dt.datetime
) -> dict[int, metrics.Contributions]:
    local_now = timezone.localtime(now)
    return {
        pk: metrics.ticket_contributions(facts, local_now)
        for pk, facts in ticket_facts(ids).items()
    }


def _fold(
    kind: str, ids: Sequence[int], new: dict[int, metrics.Contributions], now: dt.datetime
) -> int:
    """Replace what each subject last added (its ledger) by `new` in the table; the number of
    subjects whose contributions changed. Runs inside the caller's transaction."""
    ledgers = dict(
        RollupLedger.objects.filter(subject_kind=kind, subject_id__in=ids).values_list(
            "subject_id", "contributions"
        )
    )
    delta: metrics.Contributions = {}
    replaced: list[int] = []
    rows: list[tuple[str, int, str, dt.datetime]] = []
    changed = 0
    for pk in ids:
        mine = new.get(pk, {})
        difference = metrics.difference(mine, metrics.decode(ledgers.get(pk, [])))
        if not difference:
            continue
        changed += 1
        metrics.merge(delta, difference)
        if pk in ledgers:
            replaced.append(pk)
        if mine:
            rows.append((kind, pk, json.dumps(metrics.encode(mine), separators=(",", ":")), now))
    # A changed subject's ledger row is deleted and written again (COPY on PostgreSQL): cheaper
    # in time and memory than the ORM's bulk update, one CASE branch per row and column.
    RollupLedger.objects.filter(subject_kind=kind, subject_id__in=replaced).delete()
    BulkWriter().write("ledgers", RollupLedger, LEDGER_COLUMNS, rows)
    _upsert({k: v for k, v in delta.items() if v != (0, 0)})
    return changed


def refresh_tickets(ids: Sequence[int], *, now: dt.datetime | None = None) -> int:
    """Bring the roll-ups up to date for these tickets as of `now` (one transaction); the
    number of tickets whose contributions changed."""
    now = now or timezone.now()
    with transaction.atomic():
        _locked_state()
        return _fold(TICKET_SUBJECT, ids, _ticket_contributions_of(ids, now), now)


def tickets_touched_since(since: dt.datetime | None, *, now: dt.datetime) -> list[int]:
    """Tickets whose contributions may have changed from `since` to `now` (every one when
    None): the ticket row, an event of it, a rating of it, or a sign-for deadline or due day
    that passed in between with nothing done (metrics: counted late from then on)."""
    if since is None:
        return list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    touched = _changed_since(Ticket, TicketEvent, "ticket", since)
    touched |= set(
        Ticket.objects.filter(
            accepted_at__isnull=True, sign_due_at__gte=since, sign_due_at__lte=now
        ).values_list("pk", flat=True)
    )
    touched |= set(
        Ticket.objects.filter(
            replied_at__isnull=True,
            due_date__gte=timezone.localdate(since),
            due_date__lt=timezone.localdate(now),
        ).values_list("pk", flat=True)
    )
    return sorted(touched)


def _ticket_spans(batch: int) -> Iterator[range]:
    ids = Ticket.objects.order_by("pk").values_list("pk", flat=True)
    return _spans(ids.iterator(chunk_size=batch), batch)


def recompute_tickets(
    *, now: dt.datetime | None = None, batch: int = 2000
) -> metrics.Contributions:
    """The sum of every ticket's contributions as of `now`, computed afresh (in batches)."""
    now = now or timezone.now()
    summed: metrics.Contributions = {}
    for span in _ticket_spans(batch):
        for mine in _ticket_contributions_of(span, now).values():
            metrics.merge(summed, mine)
    return summed
