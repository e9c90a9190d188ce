"""What `supervision/_chart.html` needs of a chart: the ECharts option, the drill-down targets,
the table view's rows with their drill links, and the export links carrying the page's
filters."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from onething.supervision.charts import Chart, Table, echarts_option

register = template.Library()

# Drilling down starts the list again from its first page.
RESET_ON_DRILL = ("page",)


def _query(request: Any) -> Any:
    return request.GET.copy() if request is not None else None


def _export_url(name: str, chart: Chart | Table, request: Any) -> str:
    url = reverse(name, kwargs={"key": chart.key})
    query = _query(request)
    return f"{url}?{query.urlencode()}" if query else url


def _drill_href(request: Any, param: str, value: str) -> str:
    query = _query(request)
    if query is None:
        return ""
    for name in RESET_ON_DRILL:
        query.pop(name, None)
    query[param] = value
    return f"?{query.urlencode()}"


@register.simple_tag(takes_context=True)
def chart_view(context: template.Context, chart: Chart) -> dict[str, Any]:
    """Everything the include shows of `chart`, computed once."""
    request = context.get("request")
    targets = chart.drill_targets()
    rows = []
    for index, row in enumerate(chart.rows()):
        drill = chart.drill[index] if index < len(chart.drill) else None
        href = _drill_href(request, chart.drill_param, drill) if chart.drill_param and drill else ""
        rows.append({"category": row[0], "href": href, "values": row[1:]})
    dom_id = f"chart-{chart.key}"
    return {
        "id": dom_id,
        "option": echarts_option(chart) if chart.series else {},
        "option_id": f"{dom_id}-option",
        "drill": {"param": chart.drill_param, "targets": targets},
        "drill_id": f"{dom_id}-drill",
        "header": chart.header(),
        "rows": rows,
        "csv_url": _export_url("supervision:chart-csv", chart, request),
        "xlsx_url": _export_url("supervision:chart-xlsx", chart, request),
    }


@register.simple_tag(takes_context=True)
def table_exports(context: template.Context, table: Table) -> dict[str, str]:
    """The CSV and xlsx links of a list beside the charts, carrying the page's filters (the
    export holds every row, whatever the page)."""
    request = context.get("request")
    return {
        "csv_url": _export_url("supervision:chart-csv", table, request),
        "xlsx_url": _export_url("supervision:chart-xlsx", table, request),
    }
