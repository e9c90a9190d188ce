"""Staff exports and the supervision roll-ups.

Staff exports: each one read within the caller's scope, masked, and recorded in the audit
trail (who exported what, with which filters, how many rows) in one transaction."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from onething.audit.services import audit_record
from onething.core.actors import actor_label
from onething.core.errors import InvalidInput, NotFound
from onething.core.masking import mask_personal_numbers
from onething.core.spreadsheets import csv_chunks, xlsx_document
from onething.supervision import charts, exports, month_end, rollups, selectors
from onething.supervision.models import MonthEndLateCase, MonthEndSnapshot


@dataclass(frozen=True)
class ExportFilters:
    since: date | None = None
    until: date | None = None
    status: str = "all"  # cases only: "open", "all" or one case status

    def as_audit_data(self, *, with_status: bool) -> dict[str, str]:
        data = {
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return data | {"status": self.status} if with_status else data


@dataclass(frozen=True)
class Export:
    """A file to download: whole (`bytes`), or its pieces as they are written (a CSV streamed
    while its rows are read); `rows` is how many rows it holds."""

    filename: str
    content: bytes | Iterator[bytes]
    rows: int


def export_filters_parse(params: Mapping[str, str]) -> ExportFilters:
    """The filters of a page's query string (`since`, `until` as YYYY-MM-DD, `status`); every
    wrong one named at once."""
    problems: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name in ("since", "until"):
        text = (params.get(name) or "").strip()
        try:
            days[name] = date.fromisoformat(text) if text else None
        except ValueError:
            days[name] = None
            problems[name] = _("Enter a date as YYYY-MM-DD.")
    status = (params.get("status") or "all").strip()
    filters = ExportFilters(since=days["since"], until=days["until"], status=status)
    problems |= _filter_problems(filters)
    if problems:
        raise InvalidInput(_("The export filters are not valid."), fields=problems)
    return filters


# The days an export's period may name. Beyond them a day's bounds in Beijing time leave what
# Python and the database can hold (9999-12-31's end, 0001-01-01's start in UTC): a 500, not
# an empty export. No application predates the platform or outlives these.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


def _filter_problems(filters: ExportFilters) -> dict[str, str]:
    problems = {}
    for name, day in (("since", filters.since), ("until", filters.until)):
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            problems[name] = _("Enter a date from %(earliest)s to %(latest)s.") % {
                "earliest": EARLIEST_DAY.isoformat(),
                "latest": LATEST_DAY.isoformat(),
            }
    if filters.since and filters.until and filters.until < filters.since:
        problems["until"] = _("The end date is before the start date.")
    if filters.status not in selectors.CASE_STATUS_FILTERS:
        problems["status"] = _("Unknown status.")
    return problems


def _check(filters: ExportFilters) -> None:
    problems = _filter_problems(filters)
    if problems:
        raise InvalidInput(_("The export filters are not valid."), fields=problems)


def _limited(rows: Any, *, by_period: bool = True) -> list:
    """At most EXPORT_ROW_LIMIT rows, or InvalidInput saying what narrows them: the period of
    a record export, the region (or department, service) of a dashboard list, whose open cases
    are those open now whatever the period."""
    limit = charts.EXPORT_ROW_LIMIT
    if isinstance(rows, QuerySet):
        _counted(rows, by_period=by_period)
        return list(rows[:limit])
    taken = list(rows[: limit + 1])
    if len(taken) > limit:
        _refuse(by_period=by_period)
    return taken


def _case_ids_in_order(cases: QuerySet) -> list[int]:
    """The ids of `cases` in the export's order, or InvalidInput as `_limited` when over the
    limit. Read unsorted, up to one over the limit, and sorted here: the database stops at
    the limit instead of sorting millions of joined rows only to refuse them."""
    limit = charts.EXPORT_ROW_LIMIT
    found = list(cases.order_by().values_list(*selectors.CASE_EXPORT_ORDER)[: limit + 1])
    if len(found) > limit:
        _refuse(by_period=True)
    found.sort(key=selectors.case_export_order_key)
    return [pk for pk, *_order in found]


def _counted(rows: QuerySet, *, by_period: bool = True) -> int:
    """How many rows an export of `rows` holds, or InvalidInput as `_limited` when over the
    limit. Counted unsorted and unjoined, up to one over the limit: sorting millions of joined
    rows only to refuse them took seconds."""
    limit = charts.EXPORT_ROW_LIMIT
    count = rows.order_by().values("pk")[: limit + 1].count()
    if count > limit:
        _refuse(by_period=by_period)
    return count


def _refuse(*, by_period: bool) -> None:
    limit = charts.EXPORT_ROW_LIMIT
    if by_period:
        raise InvalidInput(
            _("More than %(limit)s rows: choose a shorter period.") % {"limit": limit},
            fields={"since": _("Choose a shorter period.")},
        )
    raise InvalidInput(
        _("More than %(limit)s rows: choose a smaller region, a department or a service.")
        % {"limit": limit},
        fields={"region": _("Choose a smaller region, a department or a service.")},
    )


def _record_export(
    *,
    actor: Any,
    kind: str,
    filters: Mapping[str, str],
    rows: int,
    fmt: str = "csv",
    subject: str = "",
) -> None:
    label = actor_label(actor)
    audit_record(
        actor=label,
        action=f"export.{kind}",
        stream=label,
        subject=subject or kind,
        purpose="staff export",
        data={"filters": dict(filters), "rows": rows, "format": fmt},
    )


def _filename(kind: str, filters: ExportFilters) -> str:
    parts = [kind]
    if filters.since or filters.until:
        parts.append(f"{filters.since or ''}_{filters.until or ''}")
    parts.append(timezone.localtime().strftime("%Y%m%d-%H%M%S"))
    return "-".join(parts) + ".csv"


@transaction.atomic
def export_data_uses(*, actor: Any, filters: ExportFilters) -> Export:
    """The record of data uses the actor oversees (supervisors and administrators), as CSV."""
    # Who may export comes first: somebody refused learns nothing about the filters.
    uses = selectors.data_uses_for_export(actor, since=filters.since, until=filters.until)
    _check(filters)
    uses = _limited(uses)
    table = exports.data_use_table(uses)
    _record_export(
        actor=actor,
        kind="data_uses",
        filters=filters.as_audit_data(with_status=False),
        rows=len(uses),
    )
    return Export(_filename("data-uses", filters), table.csv(), len(uses))


@transaction.atomic
def export_cases(*, actor: Any, filters: ExportFilters) -> Export:
    """The cases the actor works (a reviewer's queue) or oversees (a supervisor), as CSV.

    The CSV streams: its rows are read and written while it downloads, after this returns.
    The audit record is written first, with the filters and the number of cases they matched
    then; a case changing in the seconds the download takes may make the file differ by it.
    """
    cases = selectors.cases_for_export(
        actor, status=filters.status, since=filters.since, until=filters.until
    )
    _check(filters)
    # The cases' ids in order, read once (narrow, one query): their number is the count the
    # limit and the audit record need, and the rows are then read a chunk of ids at a time.
    # Counting them apart read the same index twice: half the time of a large export.
    case_ids = _case_ids_in_order(cases)
    _record_export(
        actor=actor,
        kind="cases",
        filters=filters.as_audit_data(with_status=True),
        rows=len(case_ids),
    )
    content = csv_chunks(exports.case_header(), exports.case_rows(case_ids))
    return Export(_filename("cases", filters), content, len(case_ids))


CHART_EXPORT_FORMATS = ("csv", "xlsx")
# What the audit record keeps of a query string: enough to rebuild the export, bounded.
AUDIT_FILTER_COUNT = 20
AUDIT_FILTER_LENGTH = 200


def _audited_filters(params: Any) -> dict[str, str]:
    """The query string's filters as the audit record keeps them: masked and bounded."""
    filters = {}
    for name in list(params)[:AUDIT_FILTER_COUNT]:
        values = params.getlist(name) if hasattr(params, "getlist") else [params[name]]
        text = ",".join(str(value) for value in values)
        filters[mask_personal_numbers(str(name))[:AUDIT_FILTER_LENGTH]] = mask_personal_numbers(
            text
        )[:AUDIT_FILTER_LENGTH]
    return filters


def _masked_rows(rows: list[list[Any]]) -> Iterator[list[Any]]:
    """The rows with every text cell's personal numbers masked; a list repeats its names on
    every row, so each distinct text is masked once."""
    masked: dict[str, str] = {}
    for row in rows:
        out = []
        for cell in row:
            if isinstance(cell, str):
                found = masked.get(cell)
                if found is None:
                    found = masked[cell] = mask_personal_numbers(cell)
                cell = found
            out.append(cell)
        yield out


def _built(builder: Any, actor: Any, params: Any) -> charts.Chart | charts.Table:
    try:
        return builder(actor, params)
    except ValidationError as exc:
        fields = (
            {name: " ".join(messages) for name, messages in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"filters": " ".join(exc.messages)}
        )
        raise InvalidInput(_("The filters are not valid."), fields=fields) from exc


@transaction.atomic
def export_chart(*, actor: Any, key: str, params: Any, fmt: str) -> Export:
    """A dashboard chart's table view, or a table shown beside the charts, as CSV or xlsx.

    Rebuilt from its key and the page's query string, so the file holds exactly what the page
    showed. The builder decides who may see it (NotAllowed) and checks the filters
    (InvalidInput, or Django's ValidationError, named per field); the export is recorded with
    the chart, the filters and the row count.
    """
    builder = charts.CHART_BUILDERS.get(key) or charts.TABLE_BUILDERS.get(key)
    if builder is None or fmt not in CHART_EXPORT_FORMATS:
        raise NotFound(_("There is no such chart to export."))
    item = _built(builder, actor, params)
    header, rows = charts.tabulated(item)
    rows = _limited(rows, by_period=False)
    header = [mask_personal_numbers(str(cell)) for cell in header]
    masked = _masked_rows(rows)
    if fmt == "csv":
        # Streamed: the rows are masked and written while the file downloads.
        content: bytes | Iterator[bytes] = csv_chunks(header, masked)
    else:
        content = xlsx_document(header, masked, title=mask_personal_numbers(item.title))
    _record_export(
        actor=actor,
        kind="chart",
        subject=key,
        filters=_audited_filters(params),
        rows=len(rows),
        fmt=fmt,
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Export(f"{key}-{stamp}.{fmt}", content, len(rows))


def rollups_refresh(*, actor: Any, now: datetime | None = None) -> rollups.RefreshResult:
    """Bring the roll-ups up to date with every application and hotline ticket changed since
    the last refresh (and every ticket whose deadline passed since).

    Derived figures only (no decision, no personal data): the refresh is not an audited action;
    each batch is one transaction, and repeating a refresh changes nothing.
    """
    return rollups.refresh(now=now)


def rollups_rebuild(*, actor: Any, now: datetime | None = None) -> int:
    """Recompute the roll-ups and their ledger from every application and ticket (an
    operator's repair), recorded in the audit trail with the number of rows."""
    rows = rollups.rebuild(now=now)
    rollups.tidy_after_rebuild()
    with transaction.atomic():
        audit_record(
            actor=actor_label(actor),
            action="rollups.rebuild",
            stream="supervision",
            subject="rollups",
            purpose="rebuild the supervision roll-ups",
            data={"rows": rows},
        )
    return rows


def month_end_snapshot_take(*, actor: Any, now: datetime | None = None) -> MonthEndSnapshot:
    """Keep the cases overdue and due soon at the end of the latest month that has ended, once.

    The first call after a month ends stores them (supervision.month_end), with an audit
    record; any later call returns that snapshot unchanged. Earlier months are not filled in:
    their ends are too far back to judge.
    """
    now = now or timezone.now()
    month = month_end.last_ended_month(timezone.localtime(now).date())
    found = MonthEndSnapshot.objects.filter(month=month).first()
    if found is not None:
        return found
    rows = month_end.late_at_month_end(month)
    try:
        with transaction.atomic():
            snapshot = MonthEndSnapshot.objects.create(
                month=month, as_of=month_end.next_month(month) - timedelta(days=1), taken_at=now
            )
            for row in rows:
                row.snapshot = snapshot
            MonthEndLateCase.objects.bulk_create(rows, batch_size=1000)
            audit_record(
                actor=actor_label(actor),
                action="supervision.month_end_snapshot",
                stream="supervision",
                subject=f"month-end:{month:%Y-%m}",
                purpose="keep the month's overdue and due-soon cases for its report",
                data={
                    "month": f"{month:%Y-%m}",
                    "as_of": snapshot.as_of.isoformat(),
                    "cases": len(rows),
                },
            )
    except IntegrityError:
        # Another worker kept the month first: theirs stands.
        return MonthEndSnapshot.objects.get(month=month)
    return snapshot
