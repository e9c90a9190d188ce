"""The dashboard's red (overdue) and yellow (due soon) lists downloaded as CSV or Excel: every
row of the list within what the reader oversees (not only the page shown), the page's filters
applied, personal numbers masked, each download recorded, and refused to anybody who may not
open the dashboard.

Applications of the newborn thing made through the real services; the deadline sweep marks
their birth-certificate cases (due one working day after submission) as the worker would.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.test import Client
from openpyxl import load_workbook

from onething.accounts.models import Role
from onething.applications.models import Case
from onething.applications.services import deadline_sweep
from onething.audit.models import AuditRecord
from onething.catalog.models import Department
from onething.core.actors import SystemActor
from onething.core.masking import mask
from onething.supervision import dashboard, rollups
from tests.downloads import downloaded
from tests.factories import PersonFactory, make_ric
from tests.supervision.conftest import accept, at, staff_with, submit

pytestmark = pytest.mark.django_db

BIRTH = "birth_medical_certificate"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
QUERY = {"from": "2025-10", "to": "2025-10"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["Application", "One thing", "Service", "Department", "Region", "Due date", "Mark"]


@pytest.fixture
def late(loaded_catalog, monkeypatch):
    """Three overdue cases in Xiamen's Siming district and one in Fuzhou, one due soon in
    Siming; the page shows two rows at a time."""
    monkeypatch.setattr(dashboard, "PAGE_SIZE", 2)
    overdue = []
    for day, region in [
        (date(2025, 10, 13), "350203"),
        (date(2025, 10, 14), "350203"),
        (date(2025, 10, 14), "350102"),
        (date(2025, 10, 15), "350203"),
    ]:
        application = submit(day, region=region)
        accept(application, BIRTH, day)
        overdue.append(application)
    with at(date(2025, 10, 17)):
        deadline_sweep(actor=SystemActor("deadlines"), today=date(2025, 10, 17))
    soon = submit(date(2025, 10, 20))
    accept(soon, BIRTH, date(2025, 10, 20))
    with at(date(2025, 10, 20)):
        deadline_sweep(actor=SystemActor("deadlines"), today=date(2025, 10, 20))
    rollups.refresh()
    return {"overdue": overdue, "soon": soon}


def signed_in(user) -> Client:
    client = Client()
    user.save(update_fields=["password"])
    client.force_login(user)
    return client


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, downloaded(response)[:500]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(downloaded(response).decode("utf-8-sig"), newline="")))


def read_xlsx(response) -> list[list[str]]:
    assert response.status_code == 200, downloaded(response)[:500]
    assert response["Content-Type"] == XLSX
    sheet = load_workbook(io.BytesIO(downloaded(response))).active
    return [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]


def test_the_sweep_marked_the_cases_as_the_lists_expect(late):
    cases = [
        Case.objects.get(application=a, service__code=BIRTH)
        for a in [*late["overdue"], late["soon"]]
    ]
    # Due one working day after submission; on 17 Oct two working days late is escalated.
    assert [(c.due_date, c.deadline_state) for c in cases] == [
        (date(2025, 10, 14), "escalated"),
        (date(2025, 10, 15), "escalated"),
        (date(2025, 10, 15), "escalated"),
        (date(2025, 10, 16), "overdue"),
        (date(2025, 10, 21), "due_soon"),
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_red_list_exports_every_row_not_only_the_page(late, fmt):
    supervisor = staff_with(Role.SUPERVISOR)
    client = signed_in(supervisor)
    page = client.get("/supervision/", QUERY, **EN)
    assert page.status_code == 200
    assert page.content.decode().count('data-mark="red"') == 2  # one page of two
    response = client.get(
        f"/supervision/charts/dashboard-overdue.{fmt}", QUERY | {"page": "2"}, **EN
    )
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
    assert rows[0] == HEADER
    references = [row[0] for row in rows[1:]]
    # Earliest due first, all four of them.
    assert references == [a.reference for a in late["overdue"]]
    assert {row[4] for row in rows[1:]} == {"Siming District", "Gulou District"}
    assert {row[6] for row in rows[1:]} == {"red: overdue", "red: overdue, escalated"}
    assert late["soon"].reference not in references


def test_the_yellow_list_exports_the_cases_due_soon(late):
    supervisor = staff_with(Role.SUPERVISOR)
    rows = read_csv(
        signed_in(supervisor).get("/supervision/charts/dashboard-due-soon.csv", QUERY, **EN)
    )
    assert rows[0] == HEADER
    assert [row[0] for row in rows[1:]] == [late["soon"].reference]
    assert rows[1][6] == "yellow: due soon"


def test_the_export_reads_the_pages_filters_and_the_readers_scope(late):
    siming = [a.reference for a in late["overdue"] if a.region.code == "350203"]
    province = signed_in(staff_with(Role.SUPERVISOR))
    rows = read_csv(
        province.get(
            "/supervision/charts/dashboard-overdue.csv", QUERY | {"region": "350203"}, **EN
        )
    )
    assert [row[0] for row in rows[1:]] == siming
    xiamen = signed_in(staff_with(Role.SUPERVISOR, region="350200"))
    rows = read_csv(xiamen.get("/supervision/charts/dashboard-overdue.csv", QUERY, **EN))
    assert [row[0] for row in rows[1:]] == siming
    police = signed_in(staff_with(Role.SUPERVISOR, department="fj_public_security"))
    rows = read_csv(police.get("/supervision/charts/dashboard-overdue.csv", QUERY, **EN))
    assert rows == [HEADER]


def test_the_lists_headings_are_in_the_readers_language(late):
    supervisor = staff_with(Role.SUPERVISOR)
    rows = read_csv(
        signed_in(supervisor).get(
            "/supervision/charts/dashboard-due-soon.csv", QUERY, HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
    )
    assert rows[0][0] == "办件"
    assert rows[1][6] == "黄牌：即将到期"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_personal_number_in_a_cell_is_masked_in_the_file(late, fmt):
    # A number typed into a department's name by mistake must not leave in an export.
    somebody = make_ric(region="350203", birth=date(1994, 6, 12), serial=124)
    Department.objects.filter(code="fj_health").update(
        name_en=f"Health {somebody}", name_zh=f"卫健 {somebody}"
    )
    supervisor = staff_with(Role.SUPERVISOR)
    response = signed_in(supervisor).get(
        f"/supervision/charts/dashboard-overdue.{fmt}", QUERY, **EN
    )
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
    assert {row[3] for row in rows[1:]} == {f"Health {mask(somebody)}"}
    assert somebody.encode() not in downloaded(response)


def test_every_download_of_a_list_is_recorded_with_who_which_list_filters_and_rows(late):
    supervisor = staff_with(Role.SUPERVISOR)
    signed_in(supervisor).get(
        "/supervision/charts/dashboard-overdue.xlsx", QUERY | {"region": "350203"}, **EN
    )
    record = AuditRecord.objects.get(action="export.chart")
    assert record.actor == f"user:{supervisor.pk}"
    assert record.subject == "dashboard-overdue"
    assert record.data == {
        "filters": {"from": "2025-10", "to": "2025-10", "region": "350203"},
        "rows": 3,
        "format": "xlsx",
    }


@pytest.mark.parametrize("key", ["dashboard-overdue", "dashboard-due-soon"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_nobody_but_supervisors_and_administrators_may_download_a_list(late, key, fmt):
    url = f"/supervision/charts/{key}.{fmt}"
    for user in (
        staff_with(Role.REVIEWER, department="fj_health"),
        staff_with(Role.WINDOW_CLERK),
        PersonFactory(),
    ):
        response = signed_in(user).get(url, QUERY, **EN)
        assert response.status_code == 403, (user, response.status_code)
        assert late["overdue"][0].reference.encode() not in downloaded(response)
    assert Client().get(url, QUERY).status_code == 302
    assert not AuditRecord.objects.filter(action="export.chart").exists()
    administrator = signed_in(staff_with(Role.ADMINISTRATOR))
    assert administrator.get(url, QUERY, **EN).status_code == 200


def test_a_bad_filter_on_a_list_export_is_named_and_nothing_is_exported(late):
    supervisor = staff_with(Role.SUPERVISOR)
    response = signed_in(supervisor).get(
        "/supervision/charts/dashboard-overdue.csv", {"from": "2025-13"}, **EN
    )
    assert response.status_code == 422
    assert "YYYY-MM" in downloaded(response).decode()
    assert not AuditRecord.objects.filter(action="export.chart").exists()


def test_the_lists_on_the_page_offer_both_downloads_with_the_pages_filters(late):
    supervisor = staff_with(Role.SUPERVISOR)
    page = signed_in(supervisor).get("/supervision/", QUERY | {"region": "350200"}, **EN)
    html = page.content.decode()
    for key in ("dashboard-overdue", "dashboard-due-soon"):
        for fmt in ("csv", "xlsx"):
            assert (
                f"/supervision/charts/{key}.{fmt}?from=2025-10&amp;to=2025-10&amp;region=350200"
                in html
            )


def test_a_list_longer_than_an_export_may_hold_asks_for_a_smaller_region(late, monkeypatch):
    from onething.supervision import charts

    monkeypatch.setattr(charts, "EXPORT_ROW_LIMIT", 3)
    supervisor = staff_with(Role.SUPERVISOR)
    response = signed_in(supervisor).get("/supervision/charts/dashboard-overdue.csv", QUERY, **EN)
    assert response.status_code == 422
    # The open cases are those open now whatever the period: the region narrows them.
    assert "Choose a smaller region, a department or a service." in downloaded(response).decode()
    rows = read_csv(
        signed_in(supervisor).get(
            "/supervision/charts/dashboard-overdue.csv", QUERY | {"region": "350203"}, **EN
        )
    )
    assert len(rows) == 1 + 3  # the header and Siming's three: within the limit
