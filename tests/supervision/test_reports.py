"""The printable monthly report of a region and the public service-quality page, on the data set
of tests/supervision/test_dashboard.py (conftest.data_set): five applications in Siming
(Xiamen), one in Gulou (Fuzhou), all of the newborn thing.

October 2025 in Xiamen: received 3 (A4, A5, A6), completed 2 (A1, A2), decided 3 (A1 on time,
A2 late, A4 on time), handling days {1, 6, 1}, A2 supplemented, 1 of 7 decided cases by rule,
ratings 5 and 2. September 2025: received 2 (A1, A2), nothing decided, no ratings.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import date

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from onething.accounts.models import Role
from onething.catalog.models import Thing
from onething.core.errors import InvalidInput, NotAllowed, NotFound
from onething.supervision import reports, rollups
from tests.complaints.conftest import hotline as hotline  # the fixture, re-exported
from tests.factories import PersonFactory
from tests.supervision.conftest import BEIJING, staff_with

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
REPORT = "/supervision/reports/350200/2025-10/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def lines(report) -> dict:
    return {h.key: (h.value, h.previous, h.change) for h in report.headlines}


# --- the monthly report ---------------------------------------------------------------------


def test_the_report_of_xiamen_in_october_has_the_months_figures_and_the_change(data_set):
    report = reports.monthly_report(staff_with(Role.ADMINISTRATOR), "350200", "2025-10")
    got = lines(report)
    assert got["received"] == (3, 2, 1)
    assert got["completed"] == (2, 0, 2)
    assert got["on_time_rate"] == (pytest.approx(66.7), None, None)
    assert got["median_days"] == (1, None, None)
    assert got["p90_days"] == (6, None, None)
    assert got["supplement_rate"] == (pytest.approx(33.3), None, None)
    assert got["instant_share"] == (pytest.approx(14.3), None, None)
    assert got["satisfaction"] == (3.5, None, None)
    assert got["ratings"] == (2, 0, 2)
    assert (report.region_name, report.month, report.previous) == (
        "厦门市",
        date(2025, 10, 1),
        date(2025, 9, 1),
    )


def test_the_report_has_a_row_per_county_and_per_thing_and_the_reductions(data_set):
    report = reports.monthly_report(staff_with(Role.ADMINISTRATOR), "350200", "2025-10")
    by_county = {row[0]: row[1:3] for row in report.by_region.rows()}
    assert by_county == {"思明区": [3, 2], "湖里区": [0, 0]}  # received, completed
    by_thing = {row[0]: row[1:3] for row in report.by_thing.rows()}
    assert list(by_thing.values()) == [[3, 2]]
    reductions = {r.name: (r.separately, r.together) for r in report.reductions}
    assert reductions == {
        "materials": (22, 12),
        "fields": (62, 28),
        # Alone: A1's cases 0 + 1 + 0, A2's 2 + 4 + 0 (test_dashboard counts them): 7.
        "days": (7, 7),
        "trips": (4, 1),
    }


def test_the_report_page_is_a_printable_page_with_title_figures_and_who_printed_it(data_set):
    administrator = staff_with(Role.ADMINISTRATOR)
    administrator.first_name, administrator.last_name = "Ming", "Li"
    administrator.save()
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 30, tzinfo=BEIJING), tick=False):
        response = signed_in(administrator).get(REPORT, **EN)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Xiamen · 2025-10" in page
    assert "@media print" in page and "break-before: page" in page
    assert 'class="site-nav"' not in page  # no navigation on paper
    assert 'data-headline="received"' in page
    assert "Generated 2026-03-02 09:30 (Beijing time) by" in page
    assert "Li" in page.split('data-testid="report-footer"')[1]
    # No worker kept October's end in this data set: said so, no live count in its place.
    assert "No month-end record was kept for 2025-10" in page
    assert "12345 hotline rates" in page


def test_the_report_page_speaks_chinese(data_set):
    response = signed_in(staff_with(Role.ADMINISTRATOR)).get(REPORT, **ZH)
    page = response.content.decode()
    assert response.status_code == 200
    assert "月度监管报告" in page and "厦门市 · 2025-10" in page
    assert "节省（%）" in page and "%%" not in page


def test_a_region_supervisor_reports_on_their_region_and_below_only(data_set):
    fuzhou = staff_with(Role.SUPERVISOR, region="350100")
    assert reports.monthly_report(fuzhou, "350102", "2026-02").headlines[0].value == 1
    with pytest.raises(NotAllowed):
        reports.monthly_report(fuzhou, "350200", "2025-10")
    with pytest.raises(NotAllowed):
        reports.monthly_report(fuzhou, "350000", "2025-10")  # the province is above them
    client = signed_in(fuzhou)
    assert client.get("/supervision/reports/350102/2026-02/", **EN).status_code == 200
    assert client.get(REPORT, **EN).status_code == 403


def test_nobody_but_supervisors_opens_a_report(loaded_catalog):
    assert Client().get(REPORT).status_code == 302  # to the sign-in page
    assert signed_in(PersonFactory()).get(REPORT, **EN).status_code == 403
    reviewer = staff_with(Role.REVIEWER, department="fj_health")
    assert signed_in(reviewer).get(REPORT, **EN).status_code == 403


def test_an_unknown_region_is_a_404(loaded_catalog):
    administrator = staff_with(Role.ADMINISTRATOR)
    with pytest.raises(NotFound):
        reports.monthly_report(administrator, "999999", "2025-10")
    client = signed_in(administrator)
    assert client.get("/supervision/reports/999999/2025-10/", **EN).status_code == 404
    assert client.get("/supervision/reports/a%20b/2025-10/", **EN).status_code == 404


@pytest.mark.parametrize("month", ["2025-13", "2025-1", "october", "1999-12", "2025-10-01"])
def test_a_bad_month_is_named_with_its_rule(loaded_catalog, month):
    administrator = staff_with(Role.ADMINISTRATOR)
    with pytest.raises(InvalidInput) as raised:
        reports.monthly_report(administrator, "350200", month)
    assert "YYYY-MM" in raised.value.fields["month"]
    response = signed_in(administrator).get(f"/supervision/reports/350200/{month}/", **EN)
    assert response.status_code == 422
    assert "month: enter a month from 2000-01 to 2099-12 as YYYY-MM." in response.content.decode()
    response = signed_in(administrator).get(f"/supervision/reports/350200/{month}/", **ZH)
    assert "月份" in response.content.decode()


def test_the_dashboard_links_to_the_report_of_its_region_and_month(data_set):
    client = signed_in(staff_with(Role.ADMINISTRATOR))
    page = client.get("/supervision/?from=2025-08&to=2025-10&region=350200", **EN)
    assert f'href="{REPORT}"' in page.content.decode()
    # Without a region: one report per region below (here the province).
    page = client.get("/supervision/?from=2025-08&to=2025-09", **EN).content.decode()
    assert 'href="/supervision/reports/350000/2025-09/"' in page


def test_a_region_supervisor_is_offered_only_reports_and_regions_they_may_open(data_set):
    client = signed_in(staff_with(Role.SUPERVISOR, region="350200"))
    for query in ("from=2025-08&to=2025-09", "from=2025-08&to=2025-09&region=350000"):
        page = client.get(f"/supervision/?{query}", **EN).content.decode()
        offered = set(re.findall(r'href="(/supervision/reports/[^"]+)"', page))
        # The province's report would be refused (403): Xiamen's is offered instead.
        assert offered == {"/supervision/reports/350200/2025-09/"}
        assert all(client.get(url, **EN).status_code == 200 for url in offered)
    # Drilling into the province offers Xiamen, not Fuzhou (which would only show zeros).
    assert "region=350200" in page and "region=350100" not in page
    # Inside Xiamen the district's report is offered and opens.
    page = client.get("/supervision/?from=2025-08&to=2025-09&region=350203", **EN).content.decode()
    assert 'href="/supervision/reports/350203/2025-09/"' in page
    assert client.get("/supervision/reports/350203/2025-09/", **EN).status_code == 200


# --- the public service-quality page ------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_service_quality_per_thing_over_the_last_twelve_months(data_set):
    quality = reports.service_quality(today=date(2026, 3, 10))
    assert (quality.since, quality.until) == (date(2025, 4, 1), date(2026, 3, 1))
    newborn = next(t for t in quality.things if t.code == "newborn")
    # Six applications; decided in {1, 6, 2, 1} working days; ratings 5 and 2.
    assert (newborn.applications, newborn.too_few) == (6, False)
    assert newborn.promised_days == 5  # birth 1 → hukou 1 → card 3, every member applying
    assert newborn.median_days == 1
    assert (newborn.satisfaction, newborn.ratings) == (3.5, 2)
    reductions = {r.name: (r.separately, r.together, r.percent) for r in newborn.reductions}
    assert reductions["trips"] == (6, 1, 83.3)
    assert reductions["materials"] == (33, 18, 45.5)


def test_a_thing_with_fewer_than_five_applications_shows_no_figures(data_set):
    # The twelve months to September 2025 hold A1 and A2 only.
    quality = reports.service_quality(today=date(2025, 9, 30))
    newborn = next(t for t in quality.things if t.code == "newborn")
    assert newborn.too_few
    assert (newborn.median_days, newborn.satisfaction, newborn.ratings) == (None, None, None)
    assert newborn.reductions == ()
    assert newborn.as_dict()["applications"] is None
    # Every other thing has none at all.
    assert all(t.too_few for t in quality.things if t.code != "newborn")
    # Five are enough: to October 2025, A1, A2, A4, A5 and A6.
    quality = reports.service_quality(today=date(2025, 10, 31))
    newborn = next(t for t in quality.things if t.code == "newborn")
    assert (newborn.applications, newborn.too_few) == (5, False)


def test_the_public_page_and_its_json_twin_need_no_login(data_set):
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=BEIJING), tick=False):
        page = Client().get("/service-quality/", **EN)
        api = Client().get("/api/v1/public/service-quality", **EN)
    assert page.status_code == 200
    text = page.content.decode()
    row = text.split('data-thing="newborn"')[1].split("</tr>")[0]
    assert '<td class="num" data-median>1</td>' in row
    assert "3.5 ★" in row
    assert "Trips: 83.3 % fewer (1 instead of 6)" in row
    assert "Too few applications to show" in text  # the other things
    assert "Service quality" in text and "2025-04" in text
    assert api.status_code == 200
    assert "public" in api["Cache-Control"]
    body = api.json()
    newborn = next(t for t in body["things"] if t["code"] == "newborn")
    assert (newborn["median_days"], newborn["satisfaction"], newborn["ratings"]) == (1, 3.5, 2)
    assert newborn["promised_days"] == 5
    others = [t for t in body["things"] if t["code"] != "newborn"]
    assert others and all(t["too_few_to_show"] and t["median_days"] is None for t in others)


def test_the_public_page_speaks_chinese_and_shows_no_personal_data(data_set):
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=BEIJING), tick=False):
        text = Client().get("/service-quality/", **ZH).content.decode()
    assert "服务质量" in text
    for application in data_set.values():
        assert application.reference not in text
        assert application.applicant.id_number not in text


def test_the_public_figures_are_kept_for_a_few_minutes(data_set):
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=BEIJING), tick=False):
        first = Client().get("/api/v1/public/service-quality", **EN).json()
        Thing.objects.filter(code="newborn").update(name_en="Renamed")
        assert Client().get("/api/v1/public/service-quality", **EN).json() == first
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, 6, tzinfo=BEIJING), tick=False):
        later = Client().get("/api/v1/public/service-quality", **EN).json()
    assert "Renamed" in [t["name"] for t in later["things"]]


def test_the_footer_and_the_home_page_link_to_the_public_page(loaded_catalog):
    text = Client().get("/", **EN).content.decode()
    assert 'data-testid="footer-service-quality"' in text
    assert 'data-testid="home-service-quality"' in text
    assert text.count('href="/service-quality/"') == 2


def test_a_department_supervisor_reports_their_departments_cases_without_reductions(data_set):
    health = staff_with(Role.SUPERVISOR, department="fj_health")
    report = reports.monthly_report(health, "350200", "2025-10")
    assert report.level == "case"
    assert report.reductions == ()
    # The health department's cases: the birth cases of A4, A5 and A6 came in in October;
    # of those decided in October, only A4's (rejected in a working day, on time).
    got = lines(report)
    assert got["received"][0] == 3
    assert (got["completed"][0], got["on_time_rate"][0], got["median_days"][0]) == (0, 100.0, 1)
    page = signed_in(health).get(REPORT, **EN).content.decode()
    assert "properties of whole applications" in page


def test_the_report_shows_the_hotline_rates_of_the_region_by_district(client, hotline):
    from tests.complaints.test_services import call

    call(hotline)  # a ticket in Siming, today
    rollups.refresh()  # as the worker does every minute: the report reads the roll-ups
    month = f"{timezone.localdate():%Y-%m}"
    client.force_login(hotline["supervisor"])
    report = reports.monthly_report(hotline["supervisor"], "350200", month)
    assert [(r["name"], r["tickets"]) for r in report.hotline] == [("思明区", 1)]
    page = client.get(f"/supervision/reports/350200/{month}/", **EN).content.decode()
    hotline_table = page.split('data-testid="report-hotline"')[1]
    assert "Siming District" in hotline_table
    # The tickets' ratings have a column of their own, apart from the callback's satisfied rate.
    assert "Ticket ratings (average stars)" in hotline_table
    # Fuzhou's report has no Xiamen tickets.
    fuzhou = reports.monthly_report(hotline["fuzhou_supervisor"], "350100", month)
    assert fuzhou.hotline == ()


def test_the_report_and_the_public_page_say_what_each_side_of_the_reductions_counts(data_set):
    # Days alone are measured from the cases now, not the promised time limits.
    basis = "the working days each member service really took"
    report = signed_in(staff_with(Role.ADMINISTRATOR)).get(REPORT, **EN).content.decode()
    said = report.split('data-testid="reductions-basis"')[1].split("</p>")[0]
    assert basis in said
    assert "promised" not in said
    public = Client().get("/service-quality/", **EN).content.decode()
    assert basis in public.split('data-testid="reductions-basis"')[1].split("</span>")[0]
