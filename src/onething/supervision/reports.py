"""The printable monthly report of one region, and the public service-quality figures.

Both read the dashboard's selectors over the roll-ups (figures_by, reductions, the region and
thing charts, the hotline's rates); nothing is computed again here. A past month's overdue
and due-soon cases come from its month-end snapshot (supervision.month_end), never from today.

The public figures are aggregates only, and a thing with fewer than `SMALL_COUNT` applications in
the period shows none: a handful of applications in a county can point at the people behind
them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from onething.catalog.models import Region, Thing, in_language
from onething.catalog.planning import promised_days_at_most
from onething.catalog.selectors import thing_bundle
from onething.core.errors import InvalidInput, NotAllowed, NotFound
from onething.core.regions import region_contains
from onething.supervision import dashboard, metrics
from onething.supervision.charts import Chart
from onething.supervision.dashboard import Figures, Filters, Reduction, Scope
from onething.supervision.month_end import LateAtMonthEnd, late_for_report

# Fewer applications than this in the period, and a thing's public figures are not shown.
SMALL_COUNT = 5
PUBLIC_MONTHS = 12


def month_parse(text: str) -> dt.date:
    """The first day of the month `text` names (YYYY-MM, 2000-01 to 2099-12); InvalidInput
    naming the field `month` otherwise."""
    month = dashboard.month_or_none(text.strip()) if len(text) <= 16 else None
    if month is None or not dt.date(2000, 1, 1) <= month <= dt.date(2099, 12, 1):
        raise InvalidInput(
            _("month: enter a month from 2000-01 to 2099-12 as YYYY-MM."),
            fields={"month": _("Enter a month from 2000-01 to 2099-12 as YYYY-MM.")},
        )
    return month


def report_links(user: Any, filters: Filters, drill) -> list[tuple[str, str, str]]:
    """(name, region code, month) of the monthly reports the dashboard offers for the filter's
    last month: the filter's region's (without one, each region below), or where the reader
    may not open that, the reports of their own regions inside it."""
    scope = dashboard.dashboard_scope(user)
    month = f"{filters.until:%Y-%m}"
    shown = [(filters.region, "")] if filters.region else list(drill)
    offered: list[tuple[str, str]] = []
    for code, name in shown:
        if scope.covers_region(code):
            offered.append((code, name))
        else:
            offered += [(own, "") for own in scope.regions() or () if region_contains(code, own)]
    unnamed = [code for code, name in offered if not name]
    names = {
        r.code: in_language(r.name_zh, r.name_en) for r in Region.objects.filter(code__in=unnamed)
    }
    return [(name or names.get(code, code), code, month) for code, name in offered]


@dataclass(frozen=True)
class Headline:
    key: str
    label: str
    value: float | int | None
    previous: float | int | None
    unit: str = ""

    @property
    def change(self) -> float | int | None:
        """This month less the previous month; None when either is missing."""
        if self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 2)


def headlines(this: Figures, before: Figures) -> tuple[Headline, ...]:
    """The month's headline figures next to the previous month's."""
    rows = (
        (
            "received",
            dashboard.received_label(),
            lambda f: f.count("received"),
            "",
        ),
        ("completed", _("Completed"), lambda f: f.completed, ""),
        ("on_time_rate", _("On time"), lambda f: f.rate("on_time"), "%"),
        ("median_days", _("Median handling time"), lambda f: f.median_days, _("working days")),
        (
            "p90_days",
            _("90th percentile handling time"),
            lambda f: f.p90_days,
            _("working days"),
        ),
        ("supplement_rate", _("Supplement rate"), lambda f: f.rate("supplemented"), "%"),
        ("instant_share", _("Instant approvals"), lambda f: f.rate("instant"), "%"),
        (
            "satisfaction",
            dashboard.satisfaction_label(),
            lambda f: f.mean("satisfaction"),
            "★",
        ),
        ("ratings", _("Ratings"), lambda f: f.count("satisfaction"), ""),
    )
    return tuple(
        Headline(key, label, read(this), read(before), unit) for key, label, read, unit in rows
    )


@dataclass(frozen=True)
class MonthlyReport:
    region_code: str
    region_name: str
    month: dt.date
    previous: dt.date
    level: str
    headlines: tuple[Headline, ...]
    by_region: Chart
    by_thing: Chart
    reductions: tuple[Reduction, ...]  # empty when the reader sees case figures only
    late: LateAtMonthEnd  # overdue and due soon: at the month's end, or now for this month
    hotline: tuple[dict, ...] | None
    generated_at: dt.datetime
    printed_by: str


def monthly_report(user: Any, region_code: str, month_text: str) -> MonthlyReport:
    """A region's figures for one month, within what `user` oversees.

    NotAllowed (403) without a supervisor's role or outside their regions, NotFound (404) for
    an unknown region, InvalidInput (422) for a month that is not YYYY-MM.
    """
    with dashboard.reading_once():
        return _monthly_report(user, region_code, month_text)


def _monthly_report(user: Any, region_code: str, month_text: str) -> MonthlyReport:
    scope = dashboard.dashboard_scope(user)
    known = dashboard.CODE.fullmatch(region_code)
    region = Region.objects.filter(code=region_code).first() if known else None
    if region is None:
        raise NotFound(_("There is no region with this code."))
    if not scope.covers_region(region.code):
        raise NotAllowed(_("This region is outside the regions you oversee."))
    month = month_parse(month_text)
    filters = Filters(since=month, until=month, region=region.code)
    previous = metrics.previous_month(month)
    before = Filters(since=previous, until=previous, region=region.code)
    level = dashboard.level_for(scope, filters)
    this = dashboard.figures_by(scope, filters, level, None)[None]
    last = dashboard.figures_by(scope, before, level, None)[None]
    by_region = dashboard.chart_by_region(user, filters)
    by_thing = dashboard.chart_by_thing(user, filters)
    late = late_for_report(scope, region.code, month)
    hotline = dashboard.hotline_rows(user, filters)
    return MonthlyReport(
        region_code=region.code,
        region_name=in_language(region.name_zh, region.name_en),
        month=month,
        previous=previous,
        level=level,
        headlines=headlines(this, last),
        by_region=by_region,
        by_thing=by_thing,
        reductions=tuple(dashboard.reductions(this)) if level == metrics.APPLICATION else (),
        late=late,
        hotline=hotline,
        generated_at=timezone.localtime(),
        printed_by=user.get_full_name() or user.get_username(),
    )


# --- the public service-quality page ----------------------------------------------------------


@dataclass(frozen=True)
class ThingQuality:
    code: str
    name: str
    promised_days: int  # the longest promise: every member service applying
    applications: int  # received in the period
    median_days: int | None  # None: too few to show, or none decided
    satisfaction: float | None
    ratings: int | None
    reductions: tuple[Reduction, ...]

    @property
    def too_few(self) -> bool:
        return self.applications < SMALL_COUNT

    def as_dict(self) -> dict[str, Any]:
        shown = not self.too_few
        return {
            "code": self.code,
            "name": self.name,
            "promised_days": self.promised_days,
            "too_few_to_show": self.too_few,
            "applications": self.applications if shown else None,
            "median_days": self.median_days,
            "satisfaction": self.satisfaction,
            "ratings": self.ratings,
            "reductions": [
                {
                    "name": r.name,
                    "applications": r.applications,
                    "separately": r.separately,
                    "together": r.together,
                    "percent": r.percent,
                }
                for r in self.reductions
            ],
        }


@dataclass(frozen=True)
class ServiceQuality:
    since: dt.date
    until: dt.date
    things: tuple[ThingQuality, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": f"{self.since:%Y-%m}",
            "to": f"{self.until:%Y-%m}",
            "small_count": SMALL_COUNT,
            "things": [t.as_dict() for t in self.things],
        }


def service_quality(*, today: dt.date | None = None) -> ServiceQuality:
    """Per one thing, over the last twelve months (this one included): the longest promise,
    the actual median handling time, satisfaction and the four reductions — aggregates only,
    and none for a thing with fewer than SMALL_COUNT applications."""
    today = today or timezone.localdate()
    until = metrics.month_of(today)
    since = until
    for _step in range(PUBLIC_MONTHS - 1):
        since = metrics.previous_month(since)
    filters = Filters(since=since, until=until)
    by_thing = dashboard.figures_by(Scope(everything=True), filters, metrics.APPLICATION, "thing")
    out = []
    for thing in Thing.objects.order_by("position", "code"):
        found = by_thing.get(thing.code, Figures())
        received = found.count("received")
        shown = received >= SMALL_COUNT
        out.append(
            ThingQuality(
                code=thing.code,
                name=in_language(thing.name_zh, thing.name_en),
                promised_days=promised_days_at_most(thing_bundle(thing.code)),
                applications=received,
                median_days=found.median_days if shown else None,
                satisfaction=found.mean("satisfaction") if shown else None,
                ratings=found.count("satisfaction") if shown else None,
                reductions=tuple(dashboard.reductions(found)) if shown else (),
            )
        )
    return ServiceQuality(since=since, until=until, things=tuple(out))


CACHE_SECONDS = 300


def service_quality_cached() -> ServiceQuality:
    """`service_quality`, kept for a few minutes per language: the page is public and the same
    for everybody, and the roll-ups move slowly."""
    key = f"supervision:service-quality:{get_language() or ''}:{timezone.localdate():%Y-%m}"
    return cache.get_or_set(key, service_quality, CACHE_SECONDS)
