"""The supervision dashboard: figures read from the roll-ups, within what the reader oversees.

Period figures (received, completed, on-time rate, handling time, supplement rate, instant
share, satisfaction, the four reductions) come from the roll-up table, a few grouped queries
whatever the number of applications. What is true now (in progress, the red and yellow lists)
is read from the open cases through their indexes, a page at a time. The hotline's rates by
district come from the same roll-ups (level "ticket"), one grouped query.

Who sees what: an administrator and a supervisor without department or region everything; a
region supervisor the applications of their region and the regions inside it (the workbench's
rule: the application's region); a department supervisor the cases of their department (so
their figures are case figures: per member service, not per application; the reductions, which
are properties of whole applications, are not theirs to see). A filter on a department or a
service also turns to case figures.

The hotline table follows the same scope: a region supervisor reads the tickets of their region
and below, a department supervisor those of the hotline units that belong to their departments
in the dispatch catalogue (no table when none does), counting returns against the unit that
returned (the rates by unit) rather than per ticket (the rates by district).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from onething.accounts.selectors import supervisor_oversight
from onething.applications.lifecycle import ApplicationStatus, CaseStatus
from onething.applications.models import Application, Case, Channel
from onething.catalog.models import Department, Region, Service, Thing, in_language
from onething.catalog.selectors import names_by_code
from onething.complaints.rates import Rates
from onething.complaints.selectors import (
    TicketOversight,
    hotline_units,
    oversight_condition,
    region_names,
)
from onething.core.errors import InvalidInput, NotAllowed
from onething.core.numbers import whole_number
from onething.core.regions import region_contains, region_prefix
from onething.supervision import metrics
from onething.supervision.charts import (
    CHART_BUILDERS,
    EXPORT_ROW_LIMIT,
    Chart,
    Series,
    Table,
    register_chart,
    register_table,
)
from onething.supervision.models import Rollup
from onething.supervision.selectors import CASE_NAMES

MONTHS_AT_MOST = 60
# What a catalog code can look like; anything else is not looked up (and not echoed whole).
CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
PAGE_SIZE = 20
RUNNING_APPLICATIONS = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.IN_PROGRESS,
    ApplicationStatus.AWAITING_SUPPLEMENT,
)
# Open cases whose clock runs (waiting ones have not started).
RUNNING_CASES = (CaseStatus.READY, CaseStatus.ACCEPTED, CaseStatus.SUPPLEMENT)
RED = ("overdue", "escalated")
YELLOW = ("due_soon",)
OVERDUE_TABLE = "dashboard-overdue"
DUE_SOON_TABLE = "dashboard-due-soon"
HOTLINE_TABLE = "dashboard-hotline"


# --- filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    since: dt.date  # first day of the first month
    until: dt.date  # first day of the last month
    region: str = ""
    thing: str = ""
    department: str = ""
    service: str = ""
    channel: str = ""
    page: int = 1

    def as_query(self, **changes: Any) -> dict[str, str]:
        values = {
            "from": f"{self.since:%Y-%m}",
            "to": f"{self.until:%Y-%m}",
            "region": self.region,
            "thing": self.thing,
            "department": self.department,
            "service": self.service,
            "channel": self.channel,
        } | {k: str(v) for k, v in changes.items()}
        return {k: v for k, v in values.items() if v}

    def months(self) -> list[dt.date]:
        out, month = [], self.since
        while month <= self.until:
            out.append(month)
            month = metrics.next_month(month)
        return out


def month_or_none(text: str) -> dt.date | None:
    """The first day of the month `text` names as YYYY-MM; None for anything else."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            return None
        return dt.date(int(year), int(month), 1)
    except ValueError:
        return None


def _months_between(since: dt.date, until: dt.date) -> int:
    return (until.year - since.year) * 12 + until.month - since.month + 1


def filters_parse(params: Mapping[str, str], *, today: dt.date | None = None) -> Filters:
    """The dashboard's filters from a query string; InvalidInput naming every wrong field.

    `from` and `to` are months (YYYY-MM; default: the last twelve months); `region`, `thing`,
    `department`, `service` codes of the catalog; `channel` one of web, window, api, federated.
    """
    today = today or timezone.localdate()
    problems: dict[str, str] = {}
    months: dict[str, dt.date] = {}
    defaults = {
        "to": metrics.month_of(today),
        "from": (today.replace(day=1) - dt.timedelta(days=335)).replace(day=1),
    }
    for name in ("from", "to"):
        text = (params.get(name) or "").strip()
        month = month_or_none(text) if text else defaults[name]
        if month is None or not dt.date(2000, 1, 1) <= month <= dt.date(2099, 12, 1):
            problems[name] = _("Enter a month from 2000-01 to 2099-12 as YYYY-MM.")
            month = defaults[name]
        months[name] = month
    if not problems:
        if months["to"] < months["from"]:
            problems["to"] = _("The period cannot end before it starts.")
        elif _months_between(months["from"], months["to"]) > MONTHS_AT_MOST:
            problems["to"] = _("Choose a period of at most %(months)s months.") % {
                "months": MONTHS_AT_MOST
            }
    codes = {
        name: (params.get(name) or "").strip()
        for name in ("region", "thing", "department", "service", "channel")
    }
    catalog = {
        "region": (Region, _("No region has the code “%(code)s”.")),
        "thing": (Thing, _("No one thing has the code “%(code)s”.")),
        "department": (Department, _("No department has the code “%(code)s”.")),
        "service": (Service, _("No service has the code “%(code)s”.")),
    }
    for name, (model, message) in catalog.items():
        code = codes[name]
        if not code:
            continue
        if not CODE.fullmatch(code):
            problems[name] = _("A code is 1 to 64 letters, digits, dots, dashes or underscores.")
        elif not model.objects.filter(code=code).exists():
            problems[name] = message % {"code": code}
    if codes["channel"] and codes["channel"] not in Channel.values:
        problems["channel"] = _("Choose one of: %(allowed)s.") % {
            "allowed": ", ".join(Channel.values)
        }
    if (
        codes["service"]
        and codes["department"]
        and "service" not in problems
        and "department" not in problems
        and not Service.objects.filter(
            code=codes["service"], department__code=codes["department"]
        ).exists()
    ):
        problems["service"] = _("This service is not one of the chosen department's.")
    page = whole_number((params.get("page") or "1").strip(), max_digits=6) or 0
    if page < 1:
        problems["page"] = _("Enter a page number from 1.")
        page = 1
    if problems:
        raise InvalidInput(_("Some filters are not valid."), fields=problems)
    return Filters(since=months["from"], until=months["to"], page=page, **codes)


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """The filter form's options: codes and names of the one things, departments and services
    of the catalog, and the channels."""

    return {
        "things": list(names_by_code(Thing).items()),
        "departments": list(names_by_code(Department).items()),
        "services": list(names_by_code(Service).items()),
        "channels": [(value, str(label)) for value, label in Channel.choices],
    }


# --- who sees what -------------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    region: str | None  # a region code: its applications and those inside it; None: anywhere
    departments: frozenset[str] | None  # department codes; None: every department


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    clauses: tuple[Clause, ...] = ()

    @property
    def sees_applications(self) -> bool:
        """Whether whole applications are within scope (not only some departments' cases)."""
        return self.everything or all(c.departments is None for c in self.clauses)

    def covers_region(self, code: str) -> bool:
        """Whether the whole region is within scope: everything, or a clause on it or above."""
        if self.everything:
            return True
        return any(c.region is None or region_contains(c.region, code) for c in self.clauses)

    def reaches_region(self, code: str) -> bool:
        """Whether any of the region is within scope (it, a region above or one inside it)."""
        return self.covers_region(code) or any(
            c.region is not None and region_contains(code, c.region) for c in self.clauses
        )

    def regions(self) -> list[str] | None:
        """The region codes the scope is limited to; None for none (everywhere)."""
        if self.everything or any(c.region is None for c in self.clauses):
            return None
        return sorted({c.region for c in self.clauses if c.region})


# Within one dashboard_for call (or any reading_once block), the reader's scope and each
# (scope, filters, level, grouping) of roll-ups are read once.
_read_once: ContextVar[dict | None] = ContextVar("supervision_figures_read_once", default=None)


def dashboard_scope(user: Any) -> Scope:
    """What the user's supervisor and administrator roles let them see (one reading of the roles
    within a `reading_once` block); NotAllowed without."""
    memo = _read_once.get()
    key = ("scope", getattr(user, "pk", None))
    if memo is not None and key in memo:
        return memo[key]
    scope = _scope_of(supervisor_oversight(user))
    if memo is not None:
        memo[key] = scope
    return scope


def _scope_of(oversight) -> Scope:
    if oversight is None:
        return Scope(everything=True)
    if not oversight:
        raise NotAllowed(_("Only supervisors and administrators may open the dashboard."))
    wanted = {o.department_id for o in oversight if o.department_id is not None}
    codes = dict(Department.objects.filter(pk__in=wanted).values_list("pk", "code"))
    return Scope(
        clauses=tuple(
            Clause(
                o.region_code,
                frozenset({codes[o.department_id]}) if o.department_id is not None else None,
            )
            for o in oversight
        )
    )


def scope_q(scope: Scope, region_field: str, department_field: str | None) -> Q:
    """The rows within `scope`, by their region code and department code fields."""
    if scope.everything:
        return Q()
    allowed = Q(pk__in=[])
    for clause in scope.clauses:
        part = Q()
        if clause.region is not None:
            part &= Q(**{f"{region_field}__startswith": region_prefix(clause.region)})
        if clause.departments is not None:
            if department_field is None:
                continue
            part &= Q(**{f"{department_field}__in": sorted(clause.departments)})
        allowed |= part
    return allowed


def level_for(scope: Scope, filters: Filters) -> str:
    if scope.sees_applications and not filters.department and not filters.service:
        return metrics.APPLICATION
    return metrics.CASE


# --- reading the roll-ups ------------------------------------------------------------------


@dataclass
class Figures:
    """Sums of one group of roll-up rows: (count, total) per metric, and histograms."""

    sums: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    days: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    stars: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, metric: str, bucket: int, count: int, total: int) -> None:
        entry = self.sums[metric]
        entry[0] += count
        entry[1] += total
        if metric == "handling_days":
            self.days[bucket] += count
        elif metric == "satisfaction":
            self.stars[bucket] += count

    def count(self, metric: str) -> int:
        return self.sums[metric][0] if metric in self.sums else 0

    def rate(self, metric: str) -> float | None:
        """total / count of the metric, as a percentage with one decimal."""
        count, total = self.sums.get(metric, (0, 0))
        share = metrics.ratio(total, count)
        return None if share is None else round(100 * share, 1)

    def mean(self, metric: str) -> float | None:
        count, total = self.sums.get(metric, (0, 0))
        share = metrics.ratio(total, count)
        return None if share is None else round(share, 2)

    def merge(self, other: Figures) -> None:
        for metric, (count, total) in other.sums.items():
            self.sums[metric][0] += count
            self.sums[metric][1] += total
        for days, n in other.days.items():
            self.days[days] += n
        for stars, n in other.stars.items():
            self.stars[stars] += n

    @property
    def completed(self) -> int:
        return self.count("completed") + self.count("partly_completed")

    @property
    def median_days(self) -> int | None:
        return metrics.percentile(self.days, 0.5)

    @property
    def p90_days(self) -> int | None:
        return metrics.percentile(self.days, 0.9)


def _rollup_q(scope: Scope, filters: Filters, level: str) -> Q:
    q = Q(level=level, month__gte=filters.since, month__lte=filters.until)
    if filters.region:
        q &= Q(region__startswith=region_prefix(filters.region))
    for name in ("thing", "department", "service", "channel"):
        value = getattr(filters, name)
        if value:
            q &= Q(**{name: value})
    return q & scope_q(scope, "region", "department")


def figures_by(scope: Scope, filters: Filters, level: str, by: str | None) -> dict[Any, Figures]:
    """The roll-ups within scope and filters, summed per value of `by` (None: one group, the
    sum of the months, so that it costs no query of its own)."""
    if by is None:
        whole = Figures()
        for found in figures_by(scope, filters, level, "month").values():
            whole.merge(found)
        return {None: whole}
    if level == metrics.CASE and by in ("department", "service"):
        # One read serves both: a service belongs to one department, and department ratings
        # (service "") still carry their department.
        pairs = _grouped(scope, filters, level, ("department", "service"))
        out: dict[Any, Figures] = defaultdict(Figures)
        for (department, service), found in pairs.items():
            out[department if by == "department" else service].merge(found)
        out.pop("", None)
        return out
    return {k[0]: v for k, v in _grouped(scope, filters, level, (by,)).items()}


def _grouped(
    scope: Scope, filters: Filters, level: str, by: tuple[str, ...]
) -> dict[tuple, Figures]:
    memo = _read_once.get()
    key = (scope, replace(filters, page=1), level, by)
    if memo is not None and key in memo:
        return memo[key]
    rows = (
        Rollup.objects.filter(_rollup_q(scope, filters, level))
        .values_list(*by, "metric", "bucket")
        .annotate(n=Sum("count"), t=Sum("total"))
        .order_by()
    )
    out: dict[tuple, Figures] = defaultdict(Figures)
    width = len(by)
    with transaction.atomic(), roomy_sorts():
        for row in rows:
            out[row[:width]].add(*row[width:])
    if memo is not None:
        memo[key] = out
    return out


@contextlib.contextmanager
def roomy_sorts():
    """Inside a transaction on PostgreSQL: grouping a quarter of a million roll-up rows fits in
    memory (a hash aggregate) instead of spilling a sort to disk with the default 4 MB."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")
    yield


# --- what is true now ----------------------------------------------------------------------


def _open_cases(scope: Scope, filters: Filters):
    cases = Case.objects.filter(status__in=RUNNING_CASES)
    if filters.region:
        cases = cases.filter(application__region__code__startswith=region_prefix(filters.region))
    if filters.thing:
        cases = cases.filter(application__thing__code=filters.thing)
    if filters.channel:
        cases = cases.filter(application__channel=filters.channel)
    if filters.department:
        cases = cases.filter(department__code=filters.department)
    if filters.service:
        cases = cases.filter(service__code=filters.service)
    return cases.filter(scope_q(scope, "application__region__code", "department__code"))


def in_progress(scope: Scope, filters: Filters, level: str) -> int:
    """Applications (or cases) open now, within scope and filters (not limited to the period)."""
    if level == metrics.CASE:
        return _open_cases(scope, filters).count()
    applications = Application.objects.filter(status__in=RUNNING_APPLICATIONS)
    if filters.region:
        applications = applications.filter(region__code__startswith=region_prefix(filters.region))
    if filters.thing:
        applications = applications.filter(thing__code=filters.thing)
    if filters.channel:
        applications = applications.filter(channel=filters.channel)
    return applications.filter(scope_q(scope, "region__code", None)).count()


def late_cases(
    scope: Scope, filters: Filters, marks: Iterable[str], *, every: bool = False
) -> tuple[Table, int]:
    """One page of open cases marked `marks` (red: overdue or escalated; yellow: due soon), the
    earliest due first, and how many there are in all; with `every`, all of them (an export),
    up to one more than an export may hold, so that it can refuse."""
    cases = _open_cases(scope, filters).filter(deadline_state__in=list(marks))
    total = cases.count()
    # The page's ids first, from the deadline index alone; then only their rows joined: joining
    # first would join every late case before the sort could keep twenty.
    ordered = cases.order_by("due_date", "pk").values_list("pk", flat=True)
    if every:
        ids = list(ordered[: EXPORT_ROW_LIMIT + 1])
    else:
        start = (filters.page - 1) * PAGE_SIZE
        ids = list(ordered[start : start + PAGE_SIZE])
    found = {
        row[0]: row[1:]
        for row in Case.objects.filter(pk__in=ids).values_list(
            "pk",
            *CASE_NAMES,
            "application__region__name_zh",
            "application__region__name_en",
            "due_date",
            "deadline_state",
        )
    }
    rows = []
    # Read once for the whole list, not per row: the language, and the marks' words.
    language = get_language()
    marked = {state: mark_label(state) for state in (*RED, *YELLOW)}
    for pk in ids:
        reference, thing_zh, thing_en, service_zh, service_en, department_zh, department_en = found[
            pk
        ][:7]
        region_zh, region_en, due, state = found[pk][7:]
        rows.append(
            (
                reference,
                in_language(thing_zh, thing_en, language),
                in_language(service_zh, service_en, language),
                in_language(department_zh, department_en, language),
                in_language(region_zh, region_en, language) if region_zh else "",
                due.isoformat() if due else "",
                marked.get(state) or mark_label(state),
            )
        )
    rows = tuple(rows)
    return late_table(red=set(marks) == set(RED), rows=rows), total


def mark_label(state: str) -> str:
    """How a late case's mark reads on the page: red or yellow, in words."""
    labels = {
        "overdue": _("red: overdue"),
        "escalated": _("red: overdue, escalated"),
        "due_soon": _("yellow: due soon"),
    }
    return labels.get(state, state)


def late_table(*, red: bool, rows: tuple[tuple[str, ...], ...]) -> Table:
    """The red (overdue) or the yellow (due soon) list, as the dashboard and the report show
    it: (application, one thing, service, department, region, due date, mark) per case."""
    return Table(
        key=OVERDUE_TABLE if red else DUE_SOON_TABLE,
        title=_("Overdue cases") if red else _("Cases due soon"),
        header=(
            _("Application"),
            _("One thing"),
            _("Service"),
            _("Department"),
            _("Region"),
            _("Due date"),
            _("Mark"),
        ),
        rows=rows,
    )


# --- charts --------------------------------------------------------------------------------


def received_label() -> str:
    """ "Received" as a count of applications (收件量), not the time a ticket came in."""
    return pgettext("applications counted", "Received")


def satisfaction_label() -> str:
    """Satisfaction as the average of the stars given (满意度), not the hotline's rate."""
    return pgettext("average stars", "Satisfaction")


def _rate_series(figures: list[Figures]) -> tuple[Series, ...]:
    return (
        Series(
            received_label(),
            tuple(f.count("received") for f in figures),
        ),
        Series(_("Completed"), tuple(f.completed for f in figures)),
        Series(_("On time"), tuple(f.rate("on_time") for f in figures), "line", "%"),
        Series(
            _("Median handling time"),
            tuple(f.median_days for f in figures),
            "line",
            _("working days"),
        ),
        Series(
            _("90th percentile handling time"),
            tuple(f.p90_days for f in figures),
            "line",
            _("working days"),
        ),
        Series(
            satisfaction_label(),
            tuple(f.mean("satisfaction") for f in figures),
            "line",
            "★",
        ),
        Series(_("Supplement rate"), tuple(f.rate("supplemented") for f in figures), "line", "%"),
        Series(_("Instant approvals"), tuple(f.rate("instant") for f in figures), "line", "%"),
    )


def _reading_the_page(builder):
    """`builder(user, filters)` that also takes the page's query string, reading it as the page
    does (the caller's scope first: NotAllowed before a filter is even parsed)."""

    @functools.wraps(builder)
    def build(user: Any, filters: Any):
        if not isinstance(filters, Filters):
            dashboard_scope(user)
            filters = filters_parse(filters)
        return builder(user, filters)

    return build


def dashboard_chart(key: str):
    """Register a dashboard chart builder under `key`; an export link hands it the page's query
    string."""

    def decorate(builder):
        build = _reading_the_page(builder)
        register_chart(key)(build)
        return build

    return decorate


def dashboard_table(key: str):
    """Register a list shown on the dashboard under `key`, exported like the charts."""

    def decorate(builder):
        build = _reading_the_page(builder)
        register_table(key)(build)
        return build

    return decorate


@dashboard_table(OVERDUE_TABLE)
def table_overdue(user: Any, filters: Filters) -> Table:
    """The red list, every row of it (not the page shown)."""
    return late_cases(dashboard_scope(user), filters, RED, every=True)[0]


@dashboard_table(DUE_SOON_TABLE)
def table_due_soon(user: Any, filters: Filters) -> Table:
    """The yellow list, every row of it (not the page shown)."""
    return late_cases(dashboard_scope(user), filters, YELLOW, every=True)[0]


@dashboard_chart("dashboard-by-month")
def chart_by_month(user: Any, filters: Filters) -> Chart:
    scope = dashboard_scope(user)
    by_month = figures_by(scope, filters, level_for(scope, filters), "month")
    months = filters.months()
    figures = [by_month.get(m, Figures()) for m in months]
    return Chart(
        key="dashboard-by-month",
        title=_("By month"),
        category_label=_("Month"),
        categories=tuple(f"{m:%Y-%m}" for m in months),
        series=_rate_series(figures),
    )


def region_children(code: str) -> list[tuple[str, str]]:
    """(code, name) of the regions one level below `code` ("" for the provinces)."""
    regions = (
        Region.objects.filter(parent__code=code)
        if code
        else Region.objects.filter(parent__isnull=True)
    )
    return [
        (r.code, in_language(r.name_zh, r.name_en))
        for r in regions.order_by("code").only("code", "name_zh", "name_en")
    ]


@dashboard_chart("dashboard-by-region")
def chart_by_region(user: Any, filters: Filters) -> Chart:
    """One bar per region one level below the filter's (provinces, cities, counties)."""
    scope = dashboard_scope(user)
    by_county = figures_by(scope, filters, level_for(scope, filters), "region")
    children = [c for c in region_children(filters.region) if scope.reaches_region(c[0])]
    if not children and filters.region:
        region = Region.objects.get(code=filters.region)
        children = [(region.code, in_language(region.name_zh, region.name_en))]
    figures = []
    for code, _name in children:
        merged = Figures()
        for county, found in by_county.items():
            if county and region_contains(code, county):
                merged.merge(found)
        figures.append(merged)
    return Chart(
        key="dashboard-by-region",
        title=_("By region"),
        category_label=_("Region"),
        categories=tuple(name for _code, name in children),
        series=_rate_series(figures),
        drill=tuple(code for code, _name in children),
        drill_param="region",
    )


def _chart_by(user: Any, filters: Filters, *, by: str, key: str, title: str, label: str, model):
    scope = dashboard_scope(user)
    level = metrics.CASE if by in ("department", "service") else level_for(scope, filters)
    grouped = figures_by(scope, filters, level, by)
    codes = sorted(code for code in grouped if code)
    names = names_by_code(model, codes) if model else {c: str(Channel(c).label) for c in codes}
    return Chart(
        key=key,
        title=title,
        category_label=label,
        categories=tuple(names.get(code, code) for code in codes),
        series=_rate_series([grouped[code] for code in codes]),
        drill=tuple(codes),
        drill_param=by,
    )


@dashboard_chart("dashboard-by-thing")
def chart_by_thing(user: Any, filters: Filters) -> Chart:
    return _chart_by(
        user, filters, by="thing", key="dashboard-by-thing", title=_("By one thing"),
        label=_("One thing"), model=Thing,
    )  # fmt: skip


@dashboard_chart("dashboard-by-department")
def chart_by_department(user: Any, filters: Filters) -> Chart:
    return _chart_by(
        user, filters, by="department", key="dashboard-by-department",
        title=_("By department (cases)"), label=_("Department"), model=Department,
    )  # fmt: skip


@dashboard_chart("dashboard-by-service")
def chart_by_service(user: Any, filters: Filters) -> Chart:
    return _chart_by(
        user, filters, by="service", key="dashboard-by-service",
        title=_("By service (cases)"), label=_("Service"), model=Service,
    )  # fmt: skip


@dashboard_chart("dashboard-by-channel")
def chart_by_channel(user: Any, filters: Filters) -> Chart:
    return _chart_by(
        user, filters, by="channel", key="dashboard-by-channel", title=_("By channel"),
        label=_("Channel"), model=None,
    )  # fmt: skip


REDUCTION_LABELS = {
    "materials": lambda: _("Materials"),
    "fields": lambda: _("Form fields"),
    "days": lambda: _("Working days"),
    "trips": lambda: _("Trips"),
}


@dataclass(frozen=True)
class Reduction:
    name: str
    applications: int
    separately: int
    together: int

    @property
    def saved(self) -> int:
        return self.separately - self.together

    @property
    def percent(self) -> float | None:
        share = metrics.ratio(self.saved, self.separately)
        return None if share is None else round(100 * share, 1)


def reductions(figures: Figures) -> list[Reduction]:
    """The four reductions over the completed applications: totals handled separately (the
    catalog's count for materials, fields and trips; the cases' measured days) and together
    (what really happened)."""
    out = []
    for name in metrics.REDUCTIONS:
        count, separately = figures.sums.get(f"{name}_separately", (0, 0))
        _count, together = figures.sums.get(f"{name}_together", (0, 0))
        out.append(Reduction(name, count, separately, together))
    return out


@dashboard_chart("dashboard-reductions")
def chart_reductions(user: Any, filters: Filters) -> Chart:
    scope = dashboard_scope(user)
    if not scope.sees_applications:
        found = Figures()
    else:
        found = figures_by(scope, filters, metrics.APPLICATION, None).get(None, Figures())
    rows = reductions(found)
    per = lambda value, r: round(value / r.applications, 2) if r.applications else None  # noqa: E731
    return Chart(
        key="dashboard-reductions",
        title=_("The four reductions, per completed application"),
        category_label=_("Reduction"),
        categories=tuple(REDUCTION_LABELS[r.name]() for r in rows),
        series=(
            Series(_("Each service alone"), tuple(per(r.separately, r) for r in rows)),
            Series(_("As one thing, really"), tuple(per(r.together, r) for r in rows)),
            Series(_("Saved"), tuple(r.percent for r in rows), "line", "%"),
        ),
        note=_("Measured from %(n)s completed applications.")
        % {"n": rows[0].applications if rows else 0}
        + " "
        + reductions_basis(),
    )


def reductions_basis() -> str:
    """What each side of the reductions counts (the pages say it, so nobody reads a promise as
    a measurement)."""
    return _(
        "Each service alone: what the catalog asks of each member service handled on its own "
        "(materials, form fields, visits to a counter), and the working days each member "
        "service really took, from the day it could start to its decision, added up. "
        "As one thing: what the applicants really provided and typed, their trips, and the "
        "working days from submission to the last decision. "
        "Only applications in which every service was approved are counted."
    )


@dashboard_chart("dashboard-satisfaction")
def chart_satisfaction(user: Any, filters: Filters) -> Chart:
    scope = dashboard_scope(user)
    found = figures_by(scope, filters, level_for(scope, filters), None).get(None, Figures())
    return Chart(
        key="dashboard-satisfaction",
        title=_("Satisfaction (ratings by stars)"),
        category_label=_("Stars"),
        categories=tuple(f"{n}★" for n in range(1, 6)),
        series=(Series(_("Ratings"), tuple(found.stars.get(n, 0) for n in range(1, 6))),),
    )


DASHBOARD_CHARTS = (
    "dashboard-by-month",
    "dashboard-by-region",
    "dashboard-by-thing",
    "dashboard-by-department",
    "dashboard-by-service",
    "dashboard-by-channel",
    "dashboard-reductions",
    "dashboard-satisfaction",
)


# --- the dashboard -------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: float | int | None
    unit: str = ""


@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    level: str
    tiles: tuple[Tile, ...]
    charts: tuple[Chart, ...]
    overdue: Table
    overdue_total: int
    due_soon: Table
    due_soon_total: int
    reductions: tuple[Reduction, ...]
    breadcrumbs: tuple[tuple[str, str], ...]  # (code, name) from the top down to the filter
    drill: tuple[tuple[str, str], ...]  # the regions one level below
    hotline: tuple[dict, ...] | None  # the hotline's rates by district; None: not readable
    hotline_table: Table | None = None  # the same, as the table its downloads hold

    def as_dict(self) -> dict[str, Any]:
        return {
            "filters": self.filters.as_query() | {"page": self.filters.page},
            "level": self.level,
            "tiles": {t.key: t.value for t in self.tiles},
            "charts": [
                {
                    "key": c.key,
                    "title": c.title,
                    "header": c.header(),
                    "rows": c.rows(),
                    "drill": list(c.drill),
                    "note": c.note,
                }
                for c in self.charts
            ],
            "reductions": [
                {
                    "name": r.name,
                    "applications": r.applications,
                    "separately": r.separately,
                    "together": r.together,
                    "saved": r.saved,
                    "percent": r.percent,
                }
                for r in self.reductions
            ],
            "overdue": {
                "total": self.overdue_total,
                "header": list(self.overdue.header),
                "rows": [list(r) for r in self.overdue.rows],
            },
            "due_soon": {
                "total": self.due_soon_total,
                "header": list(self.due_soon.header),
                "rows": [list(r) for r in self.due_soon.rows],
            },
            "regions": [{"code": c, "name": n} for c, n in self.drill],
            "hotline": list(self.hotline) if self.hotline is not None else None,
        }


# Province, city, county, street: the deepest region has one region above it per level less.
REGION_LEVELS = len(Region.Level)


def _breadcrumbs(code: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of the region and every region above it, the top first: one query, the
    regions above joined in."""
    trail = []
    above = "__".join(["parent"] * (REGION_LEVELS - 1))
    region = Region.objects.select_related(above).filter(code=code).first() if code else None
    while region is not None:
        trail.append((region.code, in_language(region.name_zh, region.name_en)))
        region = region.parent
    return tuple(reversed(trail))


def _hotline_q(scope: Scope, filters: Filters) -> Q | None:
    """The ticket roll-ups within scope and filters; None when no ticket is within scope (a
    department supervisor whose departments have no hotline unit)."""
    allowed = Q()
    if not scope.everything:
        # The hotline's own rule (complaints.selectors.TicketOversight): a clause's region, and
        # the hotline units of its departments.
        shares = [
            TicketOversight(
                region_code=clause.region,
                units=None
                if clause.departments is None
                else frozenset(hotline_units(clause.departments)),
            )
            for clause in scope.clauses
        ]
        if not any(share.covers_some() for share in shares):
            return None
        allowed = oversight_condition(shares, region_field="region", unit_field="department")
    q = Q(level=metrics.TICKET, month__gte=filters.since, month__lte=filters.until)
    if filters.region:
        q &= Q(region__startswith=region_prefix(filters.region)) & ~Q(region="")
    if filters.department:
        q &= Q(department__in=hotline_units([filters.department]))
    return q & allowed


def hotline_rows(user: Any, filters: Filters) -> tuple[dict, ...] | None:
    """The hotline's rates by district for the filters' period and region, with the average
    stars of the tickets' ratings, read from the roll-ups; None when no ticket is within what
    the user oversees. Each row is complaints.rates.Rates.as_dict() plus `stars` and
    `ratings`. A department filter keeps the units of that department; the thing, service and
    channel filters are the applications' and do not apply to tickets."""
    scope = dashboard_scope(user)
    q = _hotline_q(scope, filters)
    if q is None:
        return None
    by_unit = not scope.sees_applications or bool(filters.department)
    returns = "unit_returned" if by_unit else "returned"
    names = region_names()
    sums: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for row in (
        Rollup.objects.filter(q)
        .values("region", "metric")
        .annotate(n=Sum("count"), t=Sum("total"))
        .order_by()
    ):
        sums[row["region"]][row["metric"]] = (row["n"], row["t"])
    out = []
    for region in sorted(sums):
        found = sums[region]

        def read(metric: str, found=found) -> tuple[int, int]:
            return found.get(metric, (0, 0))

        rates = Rates(
            key=region,
            tickets=read("received")[0],
            signed_on_time=read("signed_on_time")[1],
            sign_counted=read("signed_on_time")[0],
            closed_on_time=read("closed_on_time")[1],
            close_counted=read("closed_on_time")[0],
            callbacks=read("resolved")[0],
            resolved=read("resolved")[1],
            satisfied=read("satisfied")[1],
            reached_unit=read(returns)[0],
            returned=read(returns)[1],
        )
        ratings, stars = read("satisfaction")
        average = metrics.ratio(stars, ratings)
        out.append(
            rates.as_dict()
            | {
                "name": names.get(region, region),
                "stars": None if average is None else round(average, 2),
                "ratings": ratings,
            }
        )
    return tuple(out)


def hotline_header() -> tuple[str, ...]:
    return (
        _("District"),
        _("Tickets"),
        _("Signed for on time"),
        _("Closed on time"),
        _("Resolved"),
        _("Satisfied"),
        _("Returned"),
        _("Ticket ratings (average stars)"),
        _("Ticket ratings"),
    )


@dashboard_table(HOTLINE_TABLE)
def table_hotline(user: Any, filters: Filters) -> Table:
    """The hotline's rates by district (percentages), as the dashboard shows them; no rows for a
    reader who oversees no ticket."""
    return hotline_table(hotline_rows(user, filters) or ())


def hotline_table(rows: Iterable[dict]) -> Table:
    return Table(
        key=HOTLINE_TABLE,
        title=_("12345 hotline rates by district"),
        header=hotline_header(),
        rows=tuple(
            (
                r["name"] or "–",
                r["tickets"],
                *(
                    "" if r[rate] is None else r[rate]
                    for rate in (
                        "on_time_sign_rate",
                        "on_time_close_rate",
                        "resolution_rate",
                        "satisfaction_rate",
                        "return_rate",
                    )
                ),
                "" if r["stars"] is None else r["stars"],
                r["ratings"],
            )
            for r in rows
        ),
    )


@contextlib.contextmanager
def reading_once():
    """Within the block, each group of roll-ups is read once however many figures use it."""
    token = _read_once.set({})
    try:
        yield
    finally:
        _read_once.reset(token)


def dashboard_for(user: Any, filters: Filters) -> Dashboard:
    """Everything the dashboard shows for `filters`, within what `user` oversees."""
    with reading_once():
        return _dashboard(user, filters)


def _dashboard(user: Any, filters: Filters) -> Dashboard:
    scope = dashboard_scope(user)
    level = level_for(scope, filters)
    overall = figures_by(scope, filters, level, None).get(None, Figures())
    overdue, overdue_total = late_cases(scope, filters, RED)
    due_soon, due_soon_total = late_cases(scope, filters, YELLOW)
    tiles = (
        Tile("received", received_label(), overall.count("received")),
        Tile("in_progress", _("In progress now"), in_progress(scope, filters, level)),
        Tile("completed", _("Completed"), overall.completed),
        Tile("rejected", _("Rejected"), overall.count("rejected")),
        Tile("on_time_rate", _("On time"), overall.rate("on_time"), "%"),
        Tile("median_days", _("Median handling time"), overall.median_days, _("working days")),
        Tile(
            "p90_days",
            _("90th percentile handling time"),
            overall.p90_days,
            _("working days"),
        ),
        Tile("supplement_rate", _("Supplement rate"), overall.rate("supplemented"), "%"),
        Tile("instant_share", _("Instant approvals"), overall.rate("instant"), "%"),
        Tile(
            "satisfaction",
            satisfaction_label(),
            overall.mean("satisfaction"),
            "★",
        ),
        Tile("ratings", _("Ratings"), overall.count("satisfaction")),
        Tile("overdue", _("Overdue now"), overdue_total),
        Tile("due_soon", _("Due soon"), due_soon_total),
    )
    charts = tuple(CHART_BUILDERS[key](user, filters) for key in DASHBOARD_CHARTS)
    hotline = hotline_rows(user, filters)
    return Dashboard(
        filters=filters,
        level=level,
        tiles=tiles,
        charts=charts,
        overdue=overdue,
        overdue_total=overdue_total,
        due_soon=due_soon,
        due_soon_total=due_soon_total,
        reductions=tuple(reductions(overall)) if level == metrics.APPLICATION else (),
        breadcrumbs=_breadcrumbs(filters.region),
        # Regions outside the reader's scope would only show zeros.
        drill=tuple(c for c in region_children(filters.region) if scope.reaches_region(c[0])),
        hotline=hotline,
        hotline_table=hotline_table(hotline) if hotline is not None else None,
    )
