"""The hotline's report pages: rates over a period, and hot spots the units acknowledge."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from onething.complaints import services
from onething.complaints.models import HotSpot
from tests.complaints.test_services import call
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

RATES = "/hotline/rates/"
HOT_SPOTS = "/hotline/hot-spots/"


def page_as(client, user, path, **params):
    client.force_login(user)
    return client.get(path, params)


def cells(html: str, key: str) -> dict[str, str]:
    """The rate cells of the table row of `key`, as a reader sees them (tags stripped)."""
    row = re.search(rf'<tr data-key="{key}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {key}"
    found = re.findall(r'<td data-rate="([a-z_]+)">(.*?)</td>', row.group(1), re.S)
    return {name: " ".join(re.sub(r"<[^>]+>", "", text).split()) for name, text in found}


def test_the_rates_page_needs_a_signed_in_hotline_or_supervisor(client, hotline):
    assert client.get(RATES).status_code == 302
    assert page_as(client, PersonFactory(), RATES).status_code == 403
    assert page_as(client, hotline["units"]["sm_housing"], RATES).status_code == 403


def test_the_rates_page_shows_each_unit_with_its_name_and_a_dash_when_nothing_counts(
    client, hotline
):
    ticket = call(hotline)
    holder = hotline["units"]["sm_zhonghua_police"]
    services.ticket_accept(actor=holder, ticket=ticket)
    services.ticket_reply(actor=holder, ticket=ticket, reply="已约谈经营者")
    response = page_as(client, hotline["supervisor"], RATES)
    assert response.status_code == 200
    html = response.content.decode()
    assert "厦门市公安局思明分局中华派出所" in html
    assert cells(html, "sm_zhonghua_police") == {
        "tickets": "1",
        "on_time_sign": "100.0% (1/1)",
        "on_time_close": "100.0% (1/1)",
        "resolution": "—",  # nobody has called the citizen back yet
        "satisfaction": "—",
        "return": "0.0% (0/1)",
    }
    today = timezone.localdate().isoformat()
    by_region = page_as(client, hotline["agent"], RATES, start=today, end=today, by="region")
    assert "思明区" in by_region.content.decode()
    assert cells(by_region.content.decode(), "350203")["tickets"] == "1"


def test_a_supervisor_elsewhere_sees_an_empty_period(client, hotline):
    call(hotline)
    response = page_as(client, hotline["fuzhou_supervisor"], RATES)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="rates-empty"' in html
    assert "sm_zhonghua_police" not in html


def test_a_wrong_period_is_shown_next_to_its_field(client, hotline):
    response = page_as(client, hotline["agent"], RATES, start="2026-11-30", end="2026-11-01")
    assert response.status_code == 422
    html = response.content.decode()
    error = re.search(r'data-testid="error-end">([^<]+)<', html)
    assert error and error.group(1).strip()
    assert 'data-testid="rates"' not in html
    typo = page_as(client, hotline["agent"], RATES, start="30/11/2026")
    assert typo.status_code == 422
    assert re.search(r'data-testid="error-start">[^<]+<', typo.content.decode())


@pytest.fixture
def hot_spot(hotline):
    return HotSpot.objects.create(
        category="road_damage",
        region_code="350203",
        week=timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday()),
        count=6,
        baseline=0.5,
        unit="sm_housing",
    )


def test_the_responsible_unit_acknowledges_its_hot_spot_from_the_page(client, hotline, hot_spot):
    housing = hotline["units"]["sm_housing"]
    html = page_as(client, housing, HOT_SPOTS).content.decode()
    assert "道路破损" in html and "思明区" in html and "思明区建设局" in html
    assert 'data-testid="acknowledge"' in html
    response = client.post(f"/hotline/hot-spots/{hot_spot.pk}/acknowledge/")
    assert response.status_code == 302 and response["Location"] == HOT_SPOTS
    html = client.get(HOT_SPOTS).content.decode()
    assert 'data-testid="acknowledged"' in html
    assert 'data-testid="acknowledge"' not in html
    hot_spot.refresh_from_db()
    assert hot_spot.acknowledged_at is not None


def test_others_see_the_hot_spot_in_their_scope_but_cannot_acknowledge_it(
    client, hotline, hot_spot
):
    supervisor = page_as(client, hotline["supervisor"], HOT_SPOTS).content.decode()
    assert f'data-hot-spot="{hot_spot.pk}"' in supervisor
    assert 'data-testid="acknowledge"' not in supervisor
    elsewhere = page_as(client, hotline["fuzhou_supervisor"], HOT_SPOTS).content.decode()
    assert 'data-testid="hot-spots-empty"' in elsewhere
    client.force_login(hotline["units"]["sm_zhonghua_office"])
    assert client.post(f"/hotline/hot-spots/{hot_spot.pk}/acknowledge/").status_code == 404
    client.force_login(hotline["supervisor"])
    assert client.post(f"/hotline/hot-spots/{hot_spot.pk}/acknowledge/").status_code == 403
    hot_spot.refresh_from_db()
    assert hot_spot.acknowledged_at is None
    assert page_as(client, PersonFactory(), HOT_SPOTS).status_code == 403
