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

import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

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
BATCH = 500
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
            case__application_id__in=ids, request__kind=SupplementRequest.Kind.NOTICE
        ).values_list("case_id", flat=True)
    )
    for row in Case.objects.filter(application_id__in=ids).values(
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
        ApplicationMaterial.objects.filter(application_id__in=ids)
        .values("application_id", "provision")
        .annotate(n=Count("pk"))
        .values_list("application_id", "provision", "n")
    ):
        provisions[application_id][provision] = n
    given: dict[int, dict[str, int]] = defaultdict(dict)
    for rating_id, department, stars in DepartmentRating.objects.filter(
        rating__application_id__in=ids
    ).values_list("rating_id", "department__code", "stars"):
        given[rating_id][department] = stars
    ratings: dict[int, list[metrics.RatingFacts]] = defaultdict(list)
    for pk, application_id, stars, created in Rating.objects.filter(
        application_id__in=ids
    ).values_list("pk", "application_id", "stars", "created_at"):
        ratings[application_id].append(
            metrics.RatingFacts(stars=stars, rated_on=_local(created), departments=given[pk])
        )
    rows = list(
        Application.objects.filter(pk__in=ids).values(
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


def recompute(batch: int = 2000) -> metrics.Contributions:
    """The sum of every application's contributions, computed afresh (streamed in batches)."""
    working_days = _working_days()
    summed: metrics.Contributions = {}
    ids = Application.objects.filter(submitted_at__isnull=False).order_by("pk")
    for chunk in _chunks(ids.values_list("pk", flat=True).iterator(chunk_size=batch), batch):
        for mine in _contributions_of(chunk, working_days).values():
            metrics.merge(summed, mine)
    return summed


def rebuild(*, now: dt.datetime | None = None, batch: int = 2000) -> int:
    """Empty the roll-ups and the ledger and fill them again from every application and
    ticket, in one transaction (refreshes wait); the number of roll-up rows."""
    now = now or timezone.now()
    working_days = _working_days()
    summed: metrics.Contributions = {}
    with transaction.atomic():
        state = _locked_state()
        RollupLedger.objects.all().delete()
        Rollup.objects.all().delete()
        writer = BulkWriter()
        ids = Application.objects.filter(submitted_at__isnull=False).order_by("pk")
        for chunk in _chunks(ids.values_list("pk", flat=True).iterator(chunk_size=batch), batch):
            _write_ledgers(writer, SUBJECT, _contributions_of(chunk, working_days), summed, now)
        _rebuild_tickets(writer, summed, now=now, batch=batch)
        writer.write(
            "rollups",
            Rollup,
            ROLLUP_COLUMNS,
            [
                (metrics.key_text(key), *key[:1], key.month, *key[2:], count, total)
                for key, (count, total) in summed.items()
                if (count, total) != (0, 0)
            ],
        )
        state.watermark = now
        state.rebuilt_at = now
        state.save(update_fields=["watermark", "rebuilt_at"])
    return len(summed)


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
    for ticket_id, stars, created in Rating.objects.filter(ticket_id__in=ids).values_list(
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
        for read in read_ticket_facts(Ticket.objects.filter(pk__in=ids))
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
    ledgers = {
        ledger.subject_id: ledger
        for ledger in RollupLedger.objects.filter(subject_kind=kind, subject_id__in=ids)
    }
    delta: metrics.Contributions = {}
    stale: list[int] = []
    fresh: list[RollupLedger] = []
    updated: list[RollupLedger] = []
    changed = 0
    for pk in ids:
        old = metrics.decode(ledgers[pk].contributions) if pk in ledgers else {}
        mine = new.get(pk, {})
        difference = metrics.difference(mine, old)
        if not difference:
            continue
        changed += 1
        metrics.merge(delta, difference)
        if not mine:
            stale.append(pk)
        elif pk in ledgers:
            ledgers[pk].contributions = metrics.encode(mine)
            ledgers[pk].refreshed_at = now
            updated.append(ledgers[pk])
        else:
            fresh.append(
                RollupLedger(
                    subject_kind=kind,
                    subject_id=pk,
                    contributions=metrics.encode(mine),
                    refreshed_at=now,
                )
            )
    RollupLedger.objects.bulk_update(updated, ["contributions", "refreshed_at"], batch_size=BATCH)
    RollupLedger.objects.bulk_create(fresh, batch_size=BATCH)
    RollupLedger.objects.filter(subject_kind=kind, subject_id__in=stale).delete()
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


def _every_ticket(batch: int) -> Iterator[list[int]]:
    ids = Ticket.objects.order_by("pk").values_list("pk", flat=True)
    return _chunks(ids.iterator(chunk_size=batch), batch)


def recompute_tickets(
    *, now: dt.datetime | None = None, batch: int = 2000
) -> metrics.Contributions:
    """The sum of every ticket's contributions as of `now`, computed afresh (in batches)."""
    now = now or timezone.now()
    summed: metrics.Contributions = {}
    for chunk in _every_ticket(batch):
        for mine in _ticket_contributions_of(chunk, now).values():
            metrics.merge(summed, mine)
    return summed


def _rebuild_tickets(
    writer: BulkWriter, summed: metrics.Contributions, *, now: dt.datetime, batch: int
) -> None:
    """Write every ticket's ledger as of `now` and add its contributions to `summed` (inside
    the rebuild's transaction, after the ledger was emptied)."""
    for chunk in _every_ticket(batch):
        _write_ledgers(writer, TICKET_SUBJECT, _ticket_contributions_of(chunk, now), summed, now)


def _write_ledgers(
    writer: BulkWriter,
    kind: str,
    contributions: dict[int, metrics.Contributions],
    summed: metrics.Contributions,
    now: dt.datetime,
) -> None:
    """One batch of a rebuild: each subject's ledger row written at once (COPY on PostgreSQL:
    the ORM's bulk insert adapts each JSON value element by element, half a rebuild's time),
    its contributions added to `summed`."""
    rows = []
    for pk, mine in contributions.items():
        if not mine:
            continue
        metrics.merge(summed, mine)
        rows.append((kind, pk, json.dumps(metrics.encode(mine), separators=(",", ":")), now))
    writer.write("ledgers", RollupLedger, LEDGER_COLUMNS, rows)
