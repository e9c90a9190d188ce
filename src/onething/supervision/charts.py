"""What a dashboard chart is, independent of how it is drawn.

A `Chart` is data: categories along one axis and one or more series of values. The same object is
drawn by Apache ECharts on the page, shown as a table (the table view every chart has, also what
screen readers and printouts use), and exported as CSV or xlsx. Builders that make charts from the
roll-ups register under a key, so that an export link can rebuild exactly the chart on the page
from its key and the page's filters. Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

SeriesKind = Literal["bar", "line", "pie"]


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | int | None, ...]
    kind: SeriesKind = "bar"
    unit: str = ""  # "%", "working days", "" for counts


@dataclass(frozen=True)
class Chart:
    key: str  # registry key, also the export file's name
    title: str
    category_label: str  # the table's first column, e.g. "Region"
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    # For drill-down: the filter value each category stands for (e.g. a region code), or None.
    drill: tuple[str | None, ...] = ()
    note: str = ""

    def rows(self) -> list[list[Any]]:
        """The table view: one row per category, one column per series."""
        return [
            [category, *(series.values[i] for series in self.series)]
            for i, category in enumerate(self.categories)
        ]

    def header(self) -> list[str]:
        return [
            self.category_label,
            *(f"{s.name} ({s.unit})" if s.unit else s.name for s in self.series),
        ]


# key -> builder(user, filters) -> Chart; filled by the modules that build charts.
ChartBuilder = Callable[[Any, Any], Chart]
CHART_BUILDERS: dict[str, ChartBuilder] = {}


def register_chart(key: str) -> Callable[[ChartBuilder], ChartBuilder]:
    def decorate(builder: ChartBuilder) -> ChartBuilder:
        if key in CHART_BUILDERS:
            raise ValueError(f"chart {key!r} registered twice")
        CHART_BUILDERS[key] = builder
        return builder

    return decorate


@dataclass(frozen=True)
class Table:
    """A list shown beside the charts (overdue cases, due soon), exported like a chart."""

    key: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...] = field(default=())
