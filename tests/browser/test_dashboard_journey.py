"""In real Chromium: a province supervisor opens the supervision dashboard, drills from the
province into Xiamen by clicking the region chart's bar and into Siming District by the link in
its table view, and downloads the region chart as CSV and as Excel: the files hold the table
shown, and each download is in the audit trail.

The applications are made through the real services (tests/supervision/conftest.py), in
September and October 2025:

  Siming (Xiamen)  A1 submitted 30 Sep, completed 9 Oct; A2 submitted 9 Oct, still open.
  Huli (Xiamen)    A3 submitted 26 Sep, completed 29 Sep.
  Gulou (Fuzhou)   A4 submitted 29 Sep, completed 30 Sep.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
from openpyxl import load_workbook

from onething.accounts.models import Role
from onething.audit.models import AuditRecord
from onething.supervision import rollups
from tests.browser.test_apply_journey import sign_in, with_password
from tests.supervision.conftest import accept, approve, staff_with, submit

pytestmark = pytest.mark.browser

BIRTH, HUKOU, INSURANCE = (
    "birth_medical_certificate",
    "birth_hukou_registration",
    "newborn_medical_insurance",
)
REGION_CHART = "[data-testid=chart-dashboard-by-region]"
CANVAS = f"{REGION_CHART} [data-chart-canvas]"


def complete(application, day: date) -> None:
    for service in (BIRTH, HUKOU, INSURANCE):
        approve(application, service, day)


@pytest.fixture
def supervisor(transactional_db, loaded_catalog):
    complete(submit(date(2025, 9, 30), region="350203"), date(2025, 10, 9))
    accept(submit(date(2025, 10, 9), region="350203"), BIRTH, date(2025, 10, 9))
    complete(submit(date(2025, 9, 26), region="350206"), date(2025, 9, 29))
    complete(submit(date(2025, 9, 29), region="350102", channel="window"), date(2025, 9, 30))
    rollups.refresh()
    user = with_password(staff_with(Role.SUPERVISOR, region="350000"))
    return user


def tiles(page) -> dict[str, str]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-tile]')].map(
            tile => [tile.dataset.tile, tile.querySelector('.figure').textContent.trim()]))"""
    )


def breadcrumbs(page) -> list[str]:
    return page.locator("[data-testid=region-breadcrumbs] a").all_inner_texts()


def shown_table(page) -> list[list[str]]:
    """The region chart's table view as the page holds it (header first; '' for no data)."""
    return page.evaluate(
        """selector => [...document.querySelectorAll(selector + ' tr')].map(row =>
            [...row.children].map(cell => cell.querySelector('.visually-hidden')
                ? '' : cell.textContent.trim()))""",
        f"{REGION_CHART} [data-chart-table] table",
    )


def wait_until_drawn(page) -> None:
    page.wait_for_function(
        """selector => {
            const canvas = document.querySelector(selector);
            return Boolean(window.echarts && canvas && echarts.getInstanceByDom(canvas)
                && canvas.querySelector('canvas'));
        }""",
        arg=CANVAS,
    )


def click_bar(page, category: str) -> None:
    """Click the bar of `category` in the region chart, where ECharts drew it."""
    wait_until_drawn(page)
    page.locator(CANVAS).scroll_into_view_if_needed()
    x, y = page.evaluate(
        """([selector, category]) => {
            const chart = echarts.getInstanceByDom(document.querySelector(selector));
            const index = chart.getOption().xAxis[0].data.indexOf(category);
            // The bar as ECharts laid it out (the first series' bar sits left of the
            // category's centre); just above its base, where it grows from while animated.
            const bar = chart.getModel().getSeriesByIndex(0).getData().getItemLayout(index);
            const base = Math.max(bar.y, bar.y + bar.height);
            return [bar.x + bar.width / 2, base - Math.min(4, Math.abs(bar.height) / 2)];
        }""",
        [CANVAS, category],
    )
    box = page.locator(CANVAS).bounding_box()
    with page.expect_navigation():
        page.mouse.click(box["x"] + x, box["y"] + y)


def download(page, testid: str):
    with page.expect_download() as caught:
        page.locator(f"{REGION_CHART} [data-testid={testid}]").click()
    found = caught.value
    return found.suggested_filename, open(found.path(), "rb").read()


def as_value(cell) -> str | float:
    """A cell as a reader takes it: a number whatever its notation (Excel keeps 100.0 as 100)."""
    text = "" if cell is None else str(cell)
    try:
        return float(text)
    except ValueError:
        return text


def test_a_supervisor_opens_the_dashboard_drills_into_a_region_and_exports(
    page, live_server, supervisor
):
    base = live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, base, supervisor.username)

    # The dashboard, for September and October 2025.
    page.goto(f"{base}/supervision/")
    page.fill("#f-from", "2025-09")
    page.fill("#f-to", "2025-10")
    with page.expect_navigation():
        page.click("[data-testid=dashboard-filters] button[type=submit]")
    figures = tiles(page)
    assert (figures["received"], figures["completed"], figures["in_progress"]) == ("4", "3", "1")
    assert breadcrumbs(page) == ["All regions"]

    # The province's bar, then Xiamen's: the figures become Xiamen's.
    click_bar(page, "Fujian Province")
    assert parse_qs(urlparse(page.url).query)["region"] == ["350000"]
    assert breadcrumbs(page) == ["All regions", "Fujian Province"]
    assert tiles(page)["received"] == "4"
    click_bar(page, "Xiamen")
    query = parse_qs(urlparse(page.url).query)
    assert query == {"from": ["2025-09"], "to": ["2025-10"], "region": ["350200"]}
    assert breadcrumbs(page) == ["All regions", "Fujian Province", "Xiamen"]
    figures = tiles(page)
    assert (figures["received"], figures["completed"], figures["in_progress"]) == ("3", "2", "1")
    table = shown_table(page)
    assert [row[:3] for row in table] == [
        ["Region", "Received", "Completed"],
        ["Siming District", "2", "1"],
        ["Huli District", "1", "1"],
    ]

    # Both downloads hold the table shown, and each is recorded.
    name, content = download(page, "chart-csv")
    assert name.startswith("dashboard-by-region-") and name.endswith(".csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert rows == table
    name, content = download(page, "chart-xlsx")
    assert name.startswith("dashboard-by-region-") and name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    assert [[as_value(cell) for cell in row] for row in sheet.iter_rows(values_only=True)] == [
        [as_value(cell) for cell in row] for row in table
    ]
    records = AuditRecord.objects.filter(action="export.chart", subject="dashboard-by-region")
    assert sorted(r.data["format"] for r in records) == ["csv", "xlsx"]
    assert {r.actor for r in records} == {f"user:{supervisor.pk}"}
    assert all(r.data["filters"]["region"] == "350200" and r.data["rows"] == 2 for r in records)

    # The table view's link drills into Siming District.
    page.locator(f"{REGION_CHART} [data-chart-toggle]").click()
    with page.expect_navigation():
        page.locator(f"{REGION_CHART} [data-chart-table] a", has_text="Siming District").click()
    assert breadcrumbs(page) == ["All regions", "Fujian Province", "Xiamen", "Siming District"]
    figures = tiles(page)
    assert (figures["received"], figures["completed"], figures["in_progress"]) == ("2", "1", "1")
    assert errors == []
