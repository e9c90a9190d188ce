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
    # The query-string filter a drill value sets (e.g. "region"); "" when the chart has none.
    drill_param: str = ""

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

    def drill_targets(self) -> dict[str, str]:
        """Category -> the filter value clicking it sets; only categories that have one."""
        if not self.drill_param:
            return {}
        return {
            category: value
            for category, value in zip(self.categories, self.drill, strict=False)
            if value is not None
        }


# key -> builder(user, filters) -> Chart; filled by the modules that build charts.
ChartBuilder = Callable[[Any, Any], Chart]
CHART_BUILDERS: dict[str, ChartBuilder] = {}


def register_chart(key: str) -> Callable[[ChartBuilder], ChartBuilder]:
    def decorate(builder: ChartBuilder) -> ChartBuilder:
        if key in CHART_BUILDERS or key in TABLE_BUILDERS:
            raise ValueError(f"chart {key!r} registered twice")
        CHART_BUILDERS[key] = builder
        return builder

    return decorate


# An export (a chart's table, a list, the staff exports) refuses more rows than this: a bigger
# one is a sign the range is wrong (or of somebody collecting data). A list read for an export
# reads one more, so that the refusal is seen without reading every row.
EXPORT_ROW_LIMIT = 50_000


@dataclass(frozen=True)
class Table:
    """A list shown beside the charts (overdue cases, due soon), exported like a chart."""

    key: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...] = field(default=())


# key -> builder(user, filters) -> Table; exported through the same endpoint as the charts, so
# a table's key must not be a chart's.
TableBuilder = Callable[[Any, Any], Table]
TABLE_BUILDERS: dict[str, TableBuilder] = {}


def register_table(key: str) -> Callable[[TableBuilder], TableBuilder]:
    def decorate(builder: TableBuilder) -> TableBuilder:
        if key in CHART_BUILDERS or key in TABLE_BUILDERS:
            raise ValueError(f"table {key!r} registered twice")
        TABLE_BUILDERS[key] = builder
        return builder

    return decorate


def tabulated(item: Chart | Table) -> tuple[list[str], list[list[Any]]]:
    """The header and rows an export writes: a chart's table view, or a table as it is."""
    if isinstance(item, Chart):
        return item.header(), item.rows()
    return [str(cell) for cell in item.header], [list(row) for row in item.rows]


# ECharts' own mark for "no value here": a gap in a line, no bar, nothing in the tooltip's sum.
GAP = "-"


def echarts_option(chart: Chart) -> dict[str, Any]:
    """The Apache ECharts option that draws `chart`.

    Bar and line series share the category axis and get one value axis per unit (named by
    the unit); a pie chart has exactly one series and no axes. Series are named as in the
    table view's header (`Overdue rate (%)`), so the legend and the tooltip carry the unit. A
    missing value (None) is a gap, never a zero. JSON-safe: the page embeds it with json_script.
    """
    if not chart.series:
        raise ValueError(f"chart {chart.key!r} has no series")
    for series in chart.series:
        if len(series.values) != len(chart.categories):
            raise ValueError(
                f"chart {chart.key!r}: series {series.name!r} has {len(series.values)} values"
                f" for {len(chart.categories)} categories"
            )
    names = chart.header()[1:]
    option: dict[str, Any] = {
        "aria": {"enabled": True},
        "title": {"text": chart.title, "subtext": chart.note, "left": 0},
        "legend": {"type": "scroll", "bottom": 0, "data": names},
    }
    kinds = {series.kind for series in chart.series}
    if "pie" in kinds:
        if len(chart.series) != 1:
            raise ValueError(f"chart {chart.key!r}: a pie chart has exactly one series")
        series = chart.series[0]
        option["legend"]["data"] = list(chart.categories)
        option["tooltip"] = {"trigger": "item"}
        option["series"] = [
            {
                "type": "pie",
                "name": names[0],
                "radius": ["30%", "62%"],
                "center": ["50%", "55%"],
                "data": [
                    {"name": category, "value": value}
                    for category, value in zip(chart.categories, series.values, strict=True)
                    if value is not None
                ],
            }
        ]
        return option
    units = list(dict.fromkeys(series.unit for series in chart.series))
    option["tooltip"] = {
        "trigger": "axis",
        "axisPointer": {"type": "shadow" if kinds == {"bar"} else "line"},
    }
    option["grid"] = {"containLabel": True, "left": 8, "right": 8, "top": 72, "bottom": 40}
    option["xAxis"] = {
        "type": "category",
        "name": chart.category_label,
        "nameLocation": "middle",
        "nameGap": 28,
        "data": list(chart.categories),
        "axisLabel": {"hideOverlap": True},
    }
    option["yAxis"] = [
        {
            "type": "value",
            "name": unit,
            "position": "left" if index % 2 == 0 else "right",
            "offset": 56 * (index // 2),
        }
        for index, unit in enumerate(units)
    ]
    option["series"] = [
        {
            "type": series.kind,
            "name": name,
            "yAxisIndex": units.index(series.unit),
            "data": [GAP if value is None else value for value in series.values],
            **({"connectNulls": False} if series.kind == "line" else {}),
        }
        for series, name in zip(chart.series, names, strict=True)
    ]
    return option
