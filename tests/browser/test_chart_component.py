"""The chart component in real Chromium: ECharts draws it from the embedded option, the "Table"
button shows the same rows, clicking a bar drills down, and a chart htmx swaps in is drawn too.

No page renders `supervision/_chart.html` on this branch, so this module is its own URLconf: a
test page around the include, plus every real route (the layout links to them)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from onething.supervision.charts import Chart, Series
from onething.urls import urlpatterns as site_urlpatterns

pytestmark = [pytest.mark.browser, pytest.mark.urls(__name__)]

REGIONS = (("思明区", "350203", 4), ("湖里区", "350206", 9), ("集美区", None, 2))

PAGE = engines["django"].from_string(
    """{% extends "base.html" %}
{% block head %}{% include "supervision/_chart_assets.html" %}{% endblock %}
{% block content %}
<h1>Test dashboard</h1>
<div id="swapped">{% include "supervision/_chart.html" with chart=chart %}</div>
<button type="button" hx-get="/test-chart/fragment/?region=350206" hx-target="#swapped"
        data-testid="reload">Reload</button>
{% endblock %}"""
)
FRAGMENT = engines["django"].from_string('{% include "supervision/_chart.html" with chart=chart %}')


def overdue(region: str) -> Chart:
    rows = [row for row in REGIONS if not region or row[1] == region]
    return Chart(
        key="test-overdue",
        title="Overdue by region",
        category_label="Region",
        categories=tuple(r[0] for r in rows),
        series=(Series("Overdue cases", tuple(r[2] for r in rows)),),
        drill=tuple(r[1] for r in rows),
        drill_param="region",
    )


def dashboard(request):
    chart = overdue(request.GET.get("region", ""))
    return HttpResponse(PAGE.render({"chart": chart}, request))


def fragment(request):
    chart = overdue(request.GET.get("region", ""))
    return HttpResponse(FRAGMENT.render({"chart": chart}, request))


urlpatterns = [
    path("test-chart/", dashboard),
    path("test-chart/fragment/", fragment),
    *site_urlpatterns,
]

FIGURE = "[data-testid=chart-test-overdue]"
CANVAS = f"{FIGURE} [data-chart-canvas]"


def wait_until_drawn(page) -> None:
    page.wait_for_function(
        """selector => {
            const canvas = document.querySelector(selector);
            return Boolean(window.echarts && canvas && echarts.getInstanceByDom(canvas)
                && canvas.querySelector('canvas'));
        }""",
        arg=CANVAS,
    )


def drawn_categories(page) -> list[str]:
    return page.evaluate(
        """selector => echarts.getInstanceByDom(document.querySelector(selector))
            .getOption().xAxis[0].data""",
        CANVAS,
    )


@pytest.fixture
def base(transactional_db, live_server):
    return live_server.url


def test_echarts_draws_the_chart_and_the_table_toggle_shows_the_same_rows(page, base):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base}/test-chart/")
    wait_until_drawn(page)
    assert errors == []
    assert drawn_categories(page) == ["思明区", "湖里区", "集美区"]
    box = page.locator(CANVAS).bounding_box()
    assert box["width"] > 300 and box["height"] > 200

    table = page.locator(f"{FIGURE} [data-chart-table]")
    toggle = page.locator(f"{FIGURE} [data-chart-toggle]")
    assert table.is_hidden()
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert table.is_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    rows = table.locator("tbody tr").all_inner_texts()
    assert [row.split("\t") for row in rows] == [["思明区", "4"], ["湖里区", "9"], ["集美区", "2"]]
    toggle.click()
    assert table.is_hidden()


def test_the_table_is_what_prints(page, base):
    page.goto(f"{base}/test-chart/")
    wait_until_drawn(page)
    page.emulate_media(media="print")
    assert page.locator(f"{FIGURE} [data-chart-table]").is_visible()
    assert page.locator(CANVAS).is_hidden()


def bar_centre(page, index: int) -> tuple[float, float]:
    """Where bar `index` is on the screen, by ECharts' own layout."""
    x, y = page.evaluate(
        """([selector, index]) => {
            const chart = echarts.getInstanceByDom(document.querySelector(selector));
            const value = chart.getOption().series[0].data[index];
            const top = chart.convertToPixel({seriesIndex: 0}, [index, value]);
            const bottom = chart.convertToPixel({seriesIndex: 0}, [index, 0]);
            return [top[0], (top[1] + bottom[1]) / 2];
        }""",
        [CANVAS, index],
    )
    box = page.locator(CANVAS).bounding_box()
    return box["x"] + x, box["y"] + y


def test_clicking_a_bar_opens_the_same_page_filtered_to_its_category(page, base):
    page.goto(f"{base}/test-chart/?since=2026-03-01&page=3")
    wait_until_drawn(page)
    with page.expect_navigation():
        page.mouse.click(*bar_centre(page, 1))
    url = urlparse(page.url)
    assert url.path == "/test-chart/"
    assert parse_qs(url.query) == {"since": ["2026-03-01"], "region": ["350206"]}
    wait_until_drawn(page)
    assert drawn_categories(page) == ["湖里区"]


def test_clicking_a_bar_without_a_drill_value_stays_on_the_page(page, base):
    page.goto(f"{base}/test-chart/")
    wait_until_drawn(page)
    page.mouse.click(*bar_centre(page, 2))
    page.wait_for_timeout(300)
    assert urlparse(page.url).query == ""


def test_the_export_links_carry_the_pages_filters(page, base):
    page.goto(f"{base}/test-chart/?region=350203")
    for fmt, testid in (("csv", "chart-csv"), ("xlsx", "chart-xlsx")):
        href = page.locator(f"{FIGURE} [data-testid={testid}]").get_attribute("href")
        assert href == f"/supervision/charts/test-overdue.{fmt}?region=350203"


def test_a_chart_htmx_swaps_in_is_drawn_and_the_old_one_disposed(page, base):
    page.goto(f"{base}/test-chart/")
    wait_until_drawn(page)
    page.evaluate("selector => { window.oldCanvas = document.querySelector(selector); }", CANVAS)
    page.click("[data-testid=reload]")
    page.wait_for_function(
        "selector => document.querySelector(selector) !== window.oldCanvas", arg=CANVAS
    )
    wait_until_drawn(page)
    assert drawn_categories(page) == ["湖里区"]
    assert page.evaluate("echarts.getInstanceByDom(window.oldCanvas) === undefined")
    assert page.locator(f"{FIGURE} [data-chart-table]").is_hidden()
