"""The dashboard's figures on a constructed data set with known answers, made through the real
services around National Day 2025 and the Spring Festival 2026, and who sees which of them.

The newborn thing with these answers has three cases: the birth certificate (health), then the
hukou (public security), then the newborn's medical insurance (medical security, automatic).
Promised: 2 working days for the application, 1 for each case (the insurance 0).

  A1  web     submitted Tue 30 Sep 2025; every case approved by 9 Oct, the insurance by rule;
              due 10 Oct → on time, 1 working day (1–8 Oct are holidays).
  A2  window  submitted Fri 26 Sep 2025; the birth case asks a supplement, answered Sun 28 Sep
              (a worked day); completed Sat 11 Oct (a worked day); due 29 Sep → late, 6 days.
  A3  web     Fuzhou; submitted Fri 13 Feb 2026, completed Tue 24 Feb 2026; due 24 Feb
              → on time, 2 working days (Sat 14 Feb worked, 15–23 Feb the Spring Festival).
  A4  web     submitted Thu 9 Oct 2025; the birth case rejected Fri 10 Oct (the others
              cancelled) → rejected, due 11 Oct → on time, 1 working day.
  A5  web     submitted 9 Oct 2025, withdrawn 10 Oct.
  A6  web     submitted 20 Oct 2025, still open.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.utils.translation import gettext

from onething.accounts.models import Role
from onething.core.errors import InvalidInput, NotAllowed
from onething.supervision import dashboard
from tests.supervision.conftest import BIRTH, staff_with

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def october(**extra) -> dashboard.Filters:
    return dashboard.filters_parse({"from": "2025-10", "to": "2025-10", **extra})


def tiles(board) -> dict:
    return {t.key: t.value for t in board.tiles}


def test_the_data_set_is_what_the_services_made_of_it(data_set):
    states = {name: a.status for name, a in data_set.items()}
    assert states == {
        "a1": "completed",
        "a2": "completed",
        "a3": "completed",
        "a4": "rejected",
        "a5": "withdrawn",
        "a6": "in_progress",
    }
    assert data_set["a1"].due_date == date(2025, 10, 10)
    assert data_set["a2"].due_date == date(2025, 9, 29)
    assert data_set["a3"].due_date == date(2026, 2, 24)


def test_october_figures_for_everything(data_set):
    administrator = staff_with(Role.ADMINISTRATOR)
    board = dashboard.dashboard_for(administrator, october())
    got = tiles(board)
    assert got["received"] == 3  # A4, A5, A6 (A1 and A2 came in September)
    assert got["completed"] == 2  # A1, A2
    assert got["rejected"] == 1  # A4
    assert got["in_progress"] == 1  # A6, now
    # Decided in October: A1 on time, A2 late, A4 on time.
    assert got["on_time_rate"] == pytest.approx(66.7)
    # Handling days {1, 6, 1}: median 1, 90th percentile 6.
    assert got["median_days"] == 1
    assert got["p90_days"] == 6
    assert got["supplement_rate"] == pytest.approx(33.3)  # A2 of three decided
    # Decided cases: A1 three (one by rule), A2 three, A4 one (its others cancelled).
    assert got["instant_share"] == pytest.approx(14.3)
    # Every dimension's chart carries them too: all of October's applications are of one thing.
    by_thing = next(c for c in board.charts if c.key == "dashboard-by-thing")
    series = {s.name: s.values for s in by_thing.series}
    assert series[gettext("Supplement rate")] == (pytest.approx(33.3),)
    assert series[gettext("Instant approvals")] == (pytest.approx(14.3),)
    assert got["satisfaction"] == 3.5
    assert got["ratings"] == 2
    by_name = {r.name: r for r in board.reductions}
    assert by_name["materials"].applications == 2
    # Each alone: 11 materials, 31 fields, 2 trips per application (the catalog's count), and
    # the days each case really took, added up. A1: birth 30 → 30 Sep 0, hukou 30 Sep → 9 Oct
    # 1, insurance 9 → 9 Oct 0: 1. A2: birth Fri 26 → Mon 29 Sep 2 (Sun 28 worked; the
    # supplement's wait counts, as in the application's days), hukou 29 Sep → Sat 11 Oct 4
    # (30 Sep, 9, 10, 11 Oct), insurance 0: 6. Together 7 (the plan claimed 2 + 2 = 4).
    assert (by_name["materials"].separately, by_name["fields"].separately) == (22, 62)
    assert (by_name["days"].separately, by_name["trips"].separately) == (7, 4)
    # Really: six materials uploaded and fourteen fields typed each; 1 + 6 working days; one
    # trip for the window application, none online.
    assert (by_name["materials"].together, by_name["fields"].together) == (12, 28)
    assert (by_name["days"].together, by_name["trips"].together) == (7, 1)
    # One case after the other: handled as one thing, the same days as alone.
    assert by_name["days"].saved == 0
    assert by_name["trips"].percent == 75.0


def test_the_spring_festival_month_in_fuzhou(data_set):
    administrator = staff_with(Role.ADMINISTRATOR)
    filters = dashboard.filters_parse({"from": "2026-02", "to": "2026-02", "region": "350100"})
    got = tiles(dashboard.dashboard_for(administrator, filters))
    assert (got["received"], got["completed"], got["on_time_rate"]) == (1, 1, 100.0)
    assert (got["median_days"], got["p90_days"]) == (2, 2)


def test_a_region_supervisor_sees_their_region_and_below_only(data_set):
    fuzhou = staff_with(Role.SUPERVISOR, region="350100")
    whole_period = {"from": "2025-09", "to": "2026-02"}
    got = tiles(dashboard.dashboard_for(fuzhou, dashboard.filters_parse(whole_period)))
    assert (got["received"], got["completed"]) == (1, 1)  # A3 only
    xiamen = staff_with(Role.SUPERVISOR, region="350200")
    board = dashboard.dashboard_for(xiamen, dashboard.filters_parse(whole_period))
    assert (tiles(board)["received"], tiles(board)["completed"]) == (5, 2)
    by_region = next(c for c in board.charts if c.key == "dashboard-by-region")
    # From the top: the province, all five of Xiamen's applications in it.
    assert by_region.rows()[0][:3] == ["福建省", 5, 2]
    # Asking for Fuzhou shows nothing of it to Xiamen's supervisor.
    fuzhou_filter = dict(whole_period, region="350100")
    assert (
        tiles(dashboard.dashboard_for(xiamen, dashboard.filters_parse(fuzhou_filter)))["received"]
        == 0
    )


def test_a_department_supervisor_sees_their_departments_cases_only(data_set):
    police = staff_with(Role.SUPERVISOR, department="fj_public_security")
    board = dashboard.dashboard_for(police, october())
    assert board.level == "case"
    got = tiles(board)
    # Hukou cases decided in October: A1's on time (due 9 Oct), A2's late (due 30 Sep).
    assert got["on_time_rate"] == 50.0
    assert got["completed"] == 2
    by_department = next(c for c in board.charts if c.key == "dashboard-by-department")
    assert by_department.drill == ("fj_public_security",)
    assert board.reductions == ()
    health = staff_with(Role.SUPERVISOR, department="fj_health")
    got = tiles(dashboard.dashboard_for(health, october()))
    # A4's birth case, rejected on its due day; A1's department stars.
    assert (got["on_time_rate"], got["rejected"], got["satisfaction"]) == (100.0, 1, 4.0)


def test_nobody_else_opens_the_dashboard(data_set):
    for user in (staff_with(Role.REVIEWER, department="fj_health"), data_set["a1"].applicant):
        with pytest.raises(NotAllowed):
            dashboard.dashboard_for(user, october())


def test_the_overdue_list_is_marked_red_and_the_due_soon_yellow(data_set):
    from onething.applications.models import Case

    a6 = data_set["a6"]
    Case.objects.filter(application=a6, service__code=BIRTH).update(deadline_state="overdue")
    administrator = staff_with(Role.ADMINISTRATOR)
    board = dashboard.dashboard_for(administrator, october())
    assert board.overdue_total == 1
    assert board.overdue.rows[0][0] == a6.reference
    assert board.due_soon_total == 0
    response = signed_in(administrator).get("/supervision/", {"from": "2025-10"}, **EN)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-mark="red"' in page and a6.reference in page
    police = staff_with(Role.SUPERVISOR, department="fj_public_security")
    assert dashboard.dashboard_for(police, october()).overdue_total == 0


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"from": "2025-13"}, "from", "YYYY-MM"),
        ({"from": "2025-10", "to": "2025-09"}, "to", "cannot end before"),
        ({"from": "2020-01", "to": "2025-12"}, "to", "at most 60 months"),
        ({"region": "999999"}, "region", "999999"),
        # Not a code at all (a NUL, a personal number typed by mistake): refused, not echoed.
        ({"region": "35\x0002"}, "region", "letters, digits"),
        ({"thing": "350203199406121242 x"}, "thing", "1 to 64"),
        ({"thing": "nothing"}, "thing", "nothing"),
        ({"department": "fj_nowhere"}, "department", "fj_nowhere"),
        ({"service": "no_service"}, "service", "no_service"),
        (
            {"department": "fj_health", "service": BIRTH + "x"},
            "service",
            BIRTH + "x",
        ),
        ({"department": "fj_public_security", "service": BIRTH}, "service", "department"),
        ({"channel": "fax"}, "channel", "web, window, api, federated"),
        ({"page": "0"}, "page", "page"),
        ({"page": "²"}, "page", "page"),  # isdigit() but not a number int() reads
    ],
)
def test_a_wrong_filter_is_named_with_its_rule(loaded_catalog, query, field, words):
    from django.utils import translation

    with translation.override("en"), pytest.raises(InvalidInput) as caught:
        dashboard.filters_parse(query)
    assert set(caught.value.fields) == {field}
    assert words in caught.value.fields[field]


def test_a_wrong_filter_on_the_page_and_the_api_is_a_422_naming_it_in_chinese_too(loaded_catalog):
    supervisor = staff_with(Role.SUPERVISOR)
    client = signed_in(supervisor)
    page = client.get("/supervision/", {"channel": "fax"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 422
    assert "请从以下选项中选择：web, window, api, federated。" in page.content.decode()
    api = client.get("/api/v1/supervision/dashboard", {"from": "2025-13"}, **EN)
    assert api.status_code == 422
    assert api.json()["fields"] == {"from": "Enter a month from 2000-01 to 2099-12 as YYYY-MM."}
    for path in ("/supervision/", "/supervision/charts/dashboard-by-region.csv"):
        assert client.get(path, {"page": "²"}, **EN).status_code == 422


def test_the_page_and_the_api_show_the_same_figures(data_set):
    supervisor = staff_with(Role.SUPERVISOR, region="350200")
    client = signed_in(supervisor)
    api = client.get("/api/v1/supervision/dashboard", {"from": "2025-10", "to": "2025-10"}, **EN)
    assert api.status_code == 200, api.content[:300]
    body = api.json()
    assert body["tiles"]["received"] == 3
    assert body["tiles"]["on_time_rate"] == pytest.approx(66.7)
    assert [r["code"] for r in body["regions"]] == ["350000"]
    page = client.get("/supervision/", {"from": "2025-10", "to": "2025-10"}, **EN)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-tile="on_time_rate"' in text and "66.7" in text
    # Drill-down links: province → city → county.
    assert "region=350000" in text
    city = client.get("/supervision/", {"from": "2025-10", "region": "350000"}, **EN)
    assert "region=350200" in city.content.decode()
    county = client.get("/supervision/", {"from": "2025-10", "region": "350200"}, **EN)
    assert "region=350203" in county.content.decode()


def test_who_may_open_the_page_and_the_api(loaded_catalog):
    expected = {
        "anonymous": (302, 401),
        "reviewer": (403, 403),
        "clerk": (403, 403),
        "supervisor": (200, 200),
        "administrator": (200, 200),
    }
    people = {
        "anonymous": None,
        "reviewer": staff_with(Role.REVIEWER, department="fj_health"),
        "clerk": staff_with(Role.WINDOW_CLERK),
        "supervisor": staff_with(Role.SUPERVISOR, department="fj_health"),
        "administrator": staff_with(Role.ADMINISTRATOR),
    }
    observed = {
        who: (
            signed_in(user).get("/supervision/", **EN).status_code,
            signed_in(user).get("/api/v1/supervision/dashboard", **EN).status_code,
        )
        for who, user in people.items()
    }
    assert observed == expected


def signed_in(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_the_region_breadcrumbs_are_read_in_one_query(loaded_catalog, django_assert_num_queries):
    from onething.catalog.models import Region

    Region.objects.create(
        code="350203001",
        name_zh="鼓浪屿街道",
        name_en="Gulangyu",
        level=Region.Level.STREET,
        parent=Region.objects.get(code="350203"),
    )
    with django_assert_num_queries(1):
        trail = dashboard._breadcrumbs("350203001")
    assert [code for code, _name in trail] == ["350000", "350200", "350203", "350203001"]
    with django_assert_num_queries(0):
        assert dashboard._breadcrumbs("") == ()


def test_the_dashboard_page_loads_the_chart_script_and_style_once(data_set):
    client = Client()
    client.force_login(staff_with(Role.ADMINISTRATOR))
    page = client.get("/supervision/", {"from": "2025-10", "to": "2025-10"}, **EN)
    html = page.content.decode()
    assert html.count('data-chart data-testid="chart-') == len(dashboard.DASHBOARD_CHARTS)
    assert html.count("onething/charts.js") == 1
    assert html.count("onething/charts.css") == 1
    assert html.index("onething/charts.js") < html.index("</head>")


def test_the_filter_form_offers_the_catalogs_things_departments_services_and_channels(
    loaded_catalog,
):
    from django.utils import translation

    from onething.catalog.models import Department, Service, Thing

    with translation.override("en"):
        choices = dashboard.filter_choices()
    assert [code for code, _name in choices["things"]] == sorted(
        Thing.objects.values_list("code", flat=True)
    )
    assert len(choices["departments"]) == Department.objects.count()
    assert len(choices["services"]) == Service.objects.count()
    assert (
        dict(choices["departments"])["fj_health"]
        == Department.objects.get(code="fj_health").name_en
    )
    assert [code for code, _label in choices["channels"]] == ["web", "window", "api", "federated"]
