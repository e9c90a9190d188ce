"""A dashboard chart's table view downloaded as CSV or Excel: rebuilt from the chart's key and the
page's filters, neutralised for spreadsheets, masked, refused to whoever the chart's builder
refuses, and every download recorded in the audit trail. And the include that draws a chart."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import translation
from openpyxl import load_workbook

from onething.accounts.models import Role, RoleAssignment
from onething.audit.models import AuditRecord
from onething.core.errors import InvalidInput, NotAllowed
from onething.core.masking import mask
from onething.supervision.charts import (
    CHART_BUILDERS,
    TABLE_BUILDERS,
    Chart,
    Series,
    Table,
    register_chart,
    register_table,
)
from tests.downloads import downloaded
from tests.factories import PersonFactory, StaffFactory, make_ric, reviewer

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
KEY = "test-overdue-by-region"
TABLE_KEY = "test-overdue-cases"
FORMULA = '=HYPERLINK("http://evil.example","点此核对")'
SOMEBODY = make_ric(region="350203", birth=date(1994, 6, 12), serial=124)
REGIONS = {"350203": "思明区", "350206": "湖里区", "350211": "集美区"}
MASKED = mask(SOMEBODY)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def overdue_by_region(user, filters) -> Chart:
    """Supervisors only; `region` narrows to one region, `since` must be a date."""
    if not user.roles.filter(role=Role.SUPERVISOR).exists():
        raise NotAllowed("Only supervisors may see this chart.")
    since = filters.get("since", "")
    if since:
        try:
            date.fromisoformat(since)
        except ValueError:
            raise InvalidInput(
                "The filters are not valid.", fields={"since": "Enter a date as YYYY-MM-DD."}
            ) from None
    region = filters.get("region", "")
    if region and region not in REGIONS:
        raise ValidationError({"region": ["Unknown region code."]})
    rows = [
        ("思明区", "350203", 4, 12.5),
        ("湖里区", "350206", None, 0.0),
        (FORMULA, None, -3, None),
        (f"{SOMEBODY} 的投诉", None, 1, 50),
    ]
    if region:
        rows = [row for row in rows if row[1] == region]
    return Chart(
        key=KEY,
        title="Overdue by region",
        category_label="Region",
        categories=tuple(r[0] for r in rows),
        series=(
            Series("Overdue cases", tuple(r[2] for r in rows)),
            Series("Overdue rate", tuple(r[3] for r in rows), kind="line", unit="%"),
        ),
        drill=tuple(r[1] for r in rows),
        drill_param="region",
    )


def overdue_cases(user, filters) -> Table:
    if not user.roles.filter(role=Role.SUPERVISOR).exists():
        raise NotAllowed("Only supervisors may see this list.")
    return Table(
        key=TABLE_KEY,
        title="Overdue cases",
        header=("Reference", "Days overdue"),
        rows=(("NB-0001", 3), ("@SUM(A1)", -1)),
    )


@pytest.fixture(autouse=True)
def builders():
    register_chart(KEY)(overdue_by_region)
    register_table(TABLE_KEY)(overdue_cases)
    yield
    CHART_BUILDERS.pop(KEY)
    TABLE_BUILDERS.pop(TABLE_KEY)


def signed_in(user) -> Client:
    client = Client()
    user.save(update_fields=["password"])
    client.force_login(user)
    return client


@pytest.fixture
def supervisor():
    user = StaffFactory()
    RoleAssignment.objects.create(user=user, role=Role.SUPERVISOR)
    return user


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, downloaded(response)[:500]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert downloaded(response).startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(downloaded(response).decode("utf-8-sig"), newline="")))


def read_xlsx(response):
    assert response.status_code == 200, downloaded(response)[:500]
    assert response["Content-Type"] == XLSX
    return list(load_workbook(io.BytesIO(downloaded(response))).active.iter_rows())


def test_the_csv_is_the_charts_table_view_with_formulas_neutralised_and_numbers_kept(supervisor):
    rows = read_csv(signed_in(supervisor).get(f"/supervision/charts/{KEY}.csv", **EN))
    assert rows == [
        ["Region", "Overdue cases", "Overdue rate (%)"],
        ["思明区", "4", "12.5"],
        ["湖里区", "", "0.0"],
        ["'" + FORMULA, "-3", ""],
        [f"{MASKED} 的投诉", "1", "50"],
    ]


def test_the_workbook_holds_the_same_rows_with_text_as_text_and_numbers_as_numbers(supervisor):
    rows = read_xlsx(signed_in(supervisor).get(f"/supervision/charts/{KEY}.xlsx", **EN))
    assert [[cell.value for cell in row] for row in rows] == [
        ["Region", "Overdue cases", "Overdue rate (%)"],
        ["思明区", 4, 12.5],
        ["湖里区", None, 0],
        ["'" + FORMULA, -3, None],
        [f"{MASKED} 的投诉", 1, 50],
    ]
    formula_row = rows[3]
    assert formula_row[0].data_type == "s"
    assert formula_row[1].data_type == "n"
    assert not any(cell.data_type == "f" for row in rows for cell in row)


@pytest.mark.parametrize(("fmt", "content_type"), [("csv", "text/csv"), ("xlsx", XLSX)])
def test_the_file_is_named_for_the_chart_and_the_day(supervisor, fmt, content_type):
    response = signed_in(supervisor).get(f"/supervision/charts/{KEY}.{fmt}", **EN)
    assert response["Content-Type"].startswith(content_type)
    assert re.fullmatch(
        rf'attachment; filename="{KEY}-\d{{8}}-\d{{6}}\.{fmt}"', response["Content-Disposition"]
    )
    assert response["Cache-Control"] == "no-store"


def test_the_filters_of_the_page_reach_the_builder(supervisor):
    client = signed_in(supervisor)
    rows = read_csv(client.get(f"/supervision/charts/{KEY}.csv?region=350206", **EN))
    assert rows[1:] == [["湖里区", "", "0.0"]]
    sheet = read_xlsx(client.get(f"/supervision/charts/{KEY}.xlsx?region=350203", **EN))
    assert [[cell.value for cell in row] for row in sheet[1:]] == [["思明区", 4, 12.5]]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_export_is_recorded_with_who_which_chart_which_filters_and_how_many_rows(
    supervisor, fmt
):
    signed_in(supervisor).get(
        f"/supervision/charts/{KEY}.{fmt}?region=350203&since=2026-03-01&q={SOMEBODY}", **EN
    )
    record = AuditRecord.objects.get(action="export.chart")
    assert record.actor == f"user:{supervisor.pk}"
    assert record.subject == KEY
    assert record.data == {
        "filters": {"region": "350203", "since": "2026-03-01", "q": MASKED},
        "rows": 1,
        "format": fmt,
    }


def test_a_table_beside_the_charts_is_exported_through_the_same_link(supervisor):
    rows = read_csv(signed_in(supervisor).get(f"/supervision/charts/{TABLE_KEY}.csv", **EN))
    assert rows == [["Reference", "Days overdue"], ["NB-0001", "3"], ["'@SUM(A1)", "-1"]]
    assert AuditRecord.objects.get(action="export.chart").subject == TABLE_KEY


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_somebody_the_builder_refuses_gets_403_and_no_data(fmt):
    for user in (reviewer("fj_health"), PersonFactory()):
        response = signed_in(user).get(f"/supervision/charts/{KEY}.{fmt}", **EN)
        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/html")
        assert "思明区" not in downloaded(response).decode()
    assert not AuditRecord.objects.filter(action="export.chart").exists()


def test_somebody_not_signed_in_is_sent_to_sign_in():
    response = Client().get(f"/supervision/charts/{KEY}.csv", **EN)
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


@pytest.mark.parametrize("path", ["no-such-chart.csv", "no-such-chart.xlsx", f"{KEY}.pdf"])
def test_an_unknown_chart_or_format_is_not_found(supervisor, path):
    response = signed_in(supervisor).get(f"/supervision/charts/{path}", **EN)
    assert response.status_code == 404
    assert not AuditRecord.objects.filter(action="export.chart").exists()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("since=1%20March", "since", "Enter a date as YYYY-MM-DD."),
        # A builder may validate with Django's ValidationError: named all the same.
        ("region=999999", "region", "Unknown region code."),
    ],
)
def test_a_bad_filter_is_named_on_the_error_page_and_nothing_is_exported(
    supervisor, query, field, message
):
    response = signed_in(supervisor).get(f"/supervision/charts/{KEY}.csv?{query}", **EN)
    assert response.status_code == 422
    assert response["Content-Type"].startswith("text/html")
    text = downloaded(response).decode()
    assert f'data-field="{field}"' in text
    assert message in text
    assert not AuditRecord.objects.filter(action="export.chart").exists()


def test_the_error_page_speaks_chinese_to_a_chinese_browser(supervisor):
    response = signed_in(supervisor).get(
        f"/supervision/charts/{KEY}.csv?since=x", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 422
    assert "无法导出" in downloaded(response).decode()


def test_a_personal_number_typed_into_the_filters_is_masked_on_the_error_page(supervisor):
    response = signed_in(supervisor).get(f"/supervision/charts/{KEY}.csv?since={SOMEBODY}", **EN)
    assert response.status_code == 422
    assert SOMEBODY not in downloaded(response).decode()


def render_chart(chart: Chart, query: str = "") -> str:
    """The include as an English-speaking supervisor's page shows it."""
    request = RequestFactory().get(f"/supervision/?{query}")
    with translation.override("en"):
        return render_to_string("supervision/_chart.html", {"chart": chart}, request=request)


def embedded(html: str, element_id: str):
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert found, element_id
    return json.loads(found.group(1))


def test_the_include_embeds_the_option_and_offers_exports_with_the_pages_filters(supervisor):
    chart = overdue_by_region(supervisor, {})
    html = render_chart(chart, "since=2026-03-01&page=2")
    option = embedded(html, f"chart-{KEY}-option")
    assert option["xAxis"]["data"] == list(chart.categories)
    assert embedded(html, f"chart-{KEY}-drill") == {
        "param": "region",
        "targets": {"思明区": "350203", "湖里区": "350206"},
    }
    assert f'href="/supervision/charts/{KEY}.csv?since=2026-03-01&amp;page=2"' in html
    assert f'href="/supervision/charts/{KEY}.xlsx?since=2026-03-01&amp;page=2"' in html


def test_the_table_view_has_every_row_and_drill_links_that_keep_the_other_filters(supervisor):
    html = render_chart(overdue_by_region(supervisor, {}), "since=2026-03-01&page=2")
    assert html.count('<th scope="row">') == 4
    assert '<a href="?since=2026-03-01&amp;region=350203">思明区</a>' in html
    assert '<a href="?since=2026-03-01&amp;region=350206">湖里区</a>' in html
    assert "no data" in html


def test_a_category_that_looks_like_markup_cannot_break_out_of_the_page():
    chart = Chart(
        key="escape",
        title="t",
        category_label="c",
        categories=("</script><script>alert(1)</script>",),
        series=(Series("s", (1,)),),
    )
    html = render_chart(chart)
    assert "<script>alert(1)" not in html
    assert embedded(html, "chart-escape-option")["xAxis"]["data"] == [chart.categories[0]]


def test_a_chart_without_rows_says_so_instead_of_drawing_empty_axes():
    chart = Chart(key="empty", title="t", category_label="c", categories=(), series=())
    html = render_chart(chart)
    assert "No data for these filters." in html
    assert "chart-empty-option" not in html
