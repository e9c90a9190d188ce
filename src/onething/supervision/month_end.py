"""Month-end snapshots (月末快照): the cases overdue and due soon when a month ended.

The dashboard's red and yellow lists are what is true now. A monthly report printed later for
a past month must show what was true at that month's end, so the first worker run after a
month ends keeps the month's late cases: the application's reference, catalog codes, the due
date and the mark (no personal data; names are looked up when the report is printed).

The marks are judged as the deadline sweep judges them on the month's last day, for every case
whose clock was running then: ready before the month ended and, now, still running, or
decided or withdrawn after it ended. So a run a few days late still sees a case closed in
between. What it cannot see is a pause for the applicant that ended after the month did (the
due date has moved on): the due date the case has now is the one judged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone

from onething.applications.lifecycle import CaseStatus
from onething.applications.models import Case
from onething.applications.selectors import deadline_state_on
from onething.catalog.models import Department, Region, Service, Thing
from onething.catalog.selectors import names_by_code, work_calendar
from onething.core.regions import region_prefix
from onething.core.workdays import RegionalWorkdays
from onething.supervision import dashboard
from onething.supervision.charts import Table

# last_ended_month is read from here by the month-end task (supervision.services).
from onething.supervision.metrics import last_ended_month as last_ended_month
from onething.supervision.metrics import month_of, next_month
from onething.supervision.models import MonthEndLateCase, MonthEndSnapshot

MARKED = (*dashboard.RED, *dashboard.YELLOW)


def month_end_moment(month: dt.date) -> dt.datetime:
    """The first instant after `month`, in the platform's time zone (Beijing)."""
    start = next_month(month)
    return dt.datetime(start.year, start.month, start.day, tzinfo=timezone.get_default_timezone())


def _running_at(end: dt.datetime, horizon: dt.date):
    """Cases whose clock ran when the month ended, or stood still with the mark it had (see
    the module's docstring), due by `horizon`: a case due later cannot have been marked."""
    # A withdrawal cancels the cases without a decision time: its last save stands for it.
    withdrawn_since = Q(status=CaseStatus.CANCELLED, decided_at__isnull=True, updated_at__gte=end)
    return Case.objects.filter(
        Q(status__in=dashboard.RUNNING_CASES) | Q(decided_at__gte=end) | withdrawn_since,
        ready_at__lt=end,
        due_date__isnull=False,
        due_date__lte=horizon,
    )


def late_at_month_end(month: dt.date) -> list[MonthEndLateCase]:
    """The cases marked late on the last day of `month` (unsaved rows, earliest due first).

    A case waiting for the applicant since before that day keeps the mark it had when its
    clock stopped, as the dashboard showed it then; every other one is judged on that day."""
    end = month_end_moment(month)
    last_day = next_month(month) - dt.timedelta(days=1)
    # The sweep's horizon: a case due later than this is not even due soon.
    horizon = last_day + dt.timedelta(days=settings.DEADLINE_WARN_DAYS * 2 + 14)
    running = _running_at(end, horizon)
    # Every count runs between a due date and the month's last day: indexed once per region.
    earliest = running.aggregate(earliest=Min("due_date"))["earliest"] or last_day
    workdays = RegionalWorkdays(work_calendar(), min(earliest, last_day), horizon)
    cases = (
        running.select_related("application__thing", "application__region", "service")
        .select_related("department__region")
        .order_by("due_date", "pk")
    )
    rows = []
    for case in cases.iterator(chunk_size=2000):
        stood_still = (
            case.status in dashboard.RUNNING_CASES
            and case.paused_since is not None
            and case.paused_since < last_day
        )
        if stood_still:
            mark = case.deadline_state
        else:
            mark = deadline_state_on(case, last_day, workdays=workdays)
        if mark not in MARKED:
            continue
        application = case.application
        rows.append(
            MonthEndLateCase(
                application_reference=application.reference,
                thing=application.thing.code,
                service=case.service.code,
                department=case.department.code,
                region=application.region.code if application.region_id else "",
                due_date=case.due_date,
                mark=mark,
            )
        )
    return rows


# --- reading a snapshot for the monthly report -----------------------------------------------


@dataclass(frozen=True)
class LateAtMonthEnd:
    """The overdue and due-soon cases a monthly report prints.

    `source`: "live" (the month is not over: what is true when printed), "snapshot" (as of
    `as_of`, the month's last day) or "missing" (a past month whose end nobody recorded: no
    figures, rather than today's passed off as the month's).
    """

    source: str
    month: dt.date
    as_of: dt.date | None = None
    overdue_total: int = 0
    due_soon_total: int = 0
    overdue: Table | None = None  # the first page of the red list, earliest due first

    @property
    def known(self) -> bool:
        return self.source != "missing"


def _snapshot_table(rows: list[MonthEndLateCase]) -> Table:
    things = names_by_code(Thing, (r.thing for r in rows))
    services = names_by_code(Service, (r.service for r in rows))
    departments = names_by_code(Department, (r.department for r in rows))
    regions = names_by_code(Region, (r.region for r in rows if r.region))
    return dashboard.late_table(
        red=True,
        rows=tuple(
            (
                r.application_reference,
                things.get(r.thing, r.thing),
                services.get(r.service, r.service),
                departments.get(r.department, r.department),
                regions.get(r.region, r.region),
                r.due_date.isoformat(),
                dashboard.mark_label(r.mark),
            )
            for r in rows
        ),
    )


def late_for_report(
    scope: dashboard.Scope, region: str, month: dt.date, *, today: dt.date | None = None
) -> LateAtMonthEnd:
    """The region's overdue and due-soon cases for the report of `month`, within `scope`: live
    for the current month (or a later one), from the month-end snapshot for a past one."""
    today = today or timezone.localdate()
    if month >= month_of(today):
        filters = dashboard.Filters(since=month, until=month, region=region)
        overdue, overdue_total = dashboard.late_cases(scope, filters, dashboard.RED)
        _table, due_soon_total = dashboard.late_cases(scope, filters, dashboard.YELLOW)
        return LateAtMonthEnd(
            source="live",
            month=month,
            overdue_total=overdue_total,
            due_soon_total=due_soon_total,
            overdue=overdue,
        )
    snapshot = MonthEndSnapshot.objects.filter(month=month).first()
    if snapshot is None:
        return LateAtMonthEnd(source="missing", month=month)
    rows = snapshot.late_cases.filter(
        Q(region__startswith=region_prefix(region))
        & dashboard.scope_q(scope, "region", "department")
    )
    red = rows.filter(mark__in=dashboard.RED)
    return LateAtMonthEnd(
        source="snapshot",
        month=month,
        as_of=snapshot.as_of,
        overdue_total=red.count(),
        due_soon_total=rows.filter(mark__in=dashboard.YELLOW).count(),
        overdue=_snapshot_table(list(red.order_by("due_date", "pk")[: dashboard.PAGE_SIZE])),
    )
