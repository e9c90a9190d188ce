"""Staff exports and the supervision roll-ups.

Staff exports: each one read within the caller's scope, masked, and recorded in the audit
trail (who exported what, with which filters, how many rows) in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onething.audit.services import audit_record
from onething.core.actors import actor_label
from onething.core.errors import InvalidInput
from onething.supervision import exports, rollups, selectors

# A bigger export is a sign the range is wrong (or of somebody collecting data): narrow it.
EXPORT_ROW_LIMIT = 50_000


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
    filename: str
    content: bytes
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


def _filter_problems(filters: ExportFilters) -> dict[str, str]:
    problems = {}
    if filters.since and filters.until and filters.until < filters.since:
        problems["until"] = _("The end date is before the start date.")
    if filters.status not in selectors.CASE_STATUS_FILTERS:
        problems["status"] = _("Unknown status.")
    return problems


def _check(filters: ExportFilters) -> None:
    problems = _filter_problems(filters)
    if problems:
        raise InvalidInput(_("The export filters are not valid."), fields=problems)


def _limited(rows: Any) -> list:
    taken = list(rows[: EXPORT_ROW_LIMIT + 1])
    if len(taken) > EXPORT_ROW_LIMIT:
        raise InvalidInput(
            _("More than %(limit)s rows: choose a shorter period.") % {"limit": EXPORT_ROW_LIMIT},
            fields={"since": _("Choose a shorter period.")},
        )
    return taken


def _record_export(*, actor: Any, kind: str, filters: ExportFilters, rows: int) -> None:
    label = actor_label(actor)
    audit_record(
        actor=label,
        action=f"export.{kind}",
        stream=label,
        subject=kind,
        purpose="staff export",
        data={
            "filters": filters.as_audit_data(with_status=kind == "cases"),
            "rows": rows,
            "format": "csv",
        },
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
    _record_export(actor=actor, kind="data_uses", filters=filters, rows=len(uses))
    return Export(_filename("data-uses", filters), table.csv(), len(uses))


@transaction.atomic
def export_cases(*, actor: Any, filters: ExportFilters) -> Export:
    """The cases the actor works (a reviewer's queue) or oversees (a supervisor), as CSV."""
    cases = selectors.cases_for_export(
        actor, status=filters.status, since=filters.since, until=filters.until
    )
    _check(filters)
    cases = _limited(cases)
    table = exports.case_table(cases)
    _record_export(actor=actor, kind="cases", filters=filters, rows=len(cases))
    return Export(_filename("cases", filters), table.csv(), len(cases))


def rollups_refresh(*, actor: Any, now: datetime | None = None) -> rollups.RefreshResult:
    """Bring the roll-ups up to date with every application changed since the last refresh.

    Derived figures only (no decision, no personal data): the refresh is not an audited action;
    each batch is one transaction, and repeating a refresh changes nothing.
    """
    return rollups.refresh(now=now)


def rollups_rebuild(*, actor: Any, now: datetime | None = None) -> int:
    """Recompute the roll-ups and their ledger from every application (an operator's repair),
    recorded in the audit trail with the number of rows."""
    rows = rollups.rebuild(now=now)
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
