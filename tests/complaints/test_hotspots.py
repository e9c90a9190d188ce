"""未诉先办: a week's category × district count well above the weeks before is flagged, once, to the
unit the dispatch catalogue makes responsible."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from onething.audit.models import AuditRecord
from onething.complaints import services
from onething.complaints.hotspots import Spot, above_baseline
from onething.complaints.models import HotSpot, Ticket
from onething.core.actors import WORKER
from onething.core.errors import Conflict, NotAllowed
from onething.notifications.models import Notification

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = dt.date(2026, 11, 16)  # a Monday
EARLIER = [WEEK - dt.timedelta(weeks=n) for n in (1, 2, 3, 4)]


def counts_with(history: list[int], count: int, category="noise", region="350203") -> dict:
    counts = {(category, region, WEEK): count}
    for monday, earlier in zip(EARLIER, history, strict=True):
        counts[(category, region, monday)] = earlier
    return counts


@pytest.mark.parametrize(
    ("history", "count", "flagged", "baseline"),
    [
        ([0, 0, 0, 0], 5, True, 0.0),  # from nothing to five
        ([0, 0, 0, 0], 4, False, None),  # four calls are not yet a hot spot
        ([3, 3, 3, 3], 6, False, None),  # twice the usual is not above it
        ([3, 3, 3, 3], 7, True, 3.0),
        ([0, 10, 0, 10], 19, False, None),  # a jumpy history needs three deviations (20)
        ([0, 10, 0, 10], 21, True, 5.0),
        ([1, 2, 0, 1], 5, True, 1.0),
    ],
)
def test_a_week_is_flagged_when_it_stands_out_against_its_baseline(
    history, count, flagged, baseline
):
    spots = above_baseline(counts_with(history, count), WEEK)
    if flagged:
        assert spots == [Spot("noise", "350203", WEEK, count, baseline)]
    else:
        assert spots == []


def test_only_the_asked_week_counts_and_the_biggest_comes_first():
    counts = {
        **counts_with([0, 0, 0, 0], 6, category="garbage"),
        **counts_with([0, 0, 0, 0], 9, category="road_damage", region="350206"),
        ("noise", "350203", EARLIER[0]): 30,  # a loud week before: not this one
    }
    spots = above_baseline(counts, WEEK)
    assert [(s.category, s.region_code, s.count) for s in spots] == [
        ("road_damage", "350206", 9),
        ("garbage", "350203", 6),
    ]


def test_the_week_is_a_monday_and_the_baseline_has_weeks():
    with pytest.raises(ValueError, match="Monday"):
        above_baseline({}, WEEK + dt.timedelta(days=1))
    with pytest.raises(ValueError, match="weeks_of_baseline"):
        above_baseline({}, WEEK, weeks_of_baseline=0)


# --- the service ---------------------------------------------------------------------------------

_serial = itertools.count(1)


def tickets_on(day: dt.date, n: int, category="road_damage", region="350203") -> None:
    """`n` tickets taken in on `day`, as they would have been then."""
    for _ in range(n):
        ticket = Ticket.objects.create(
            reference=f"12345-{day:%Y%m%d}-T{next(_serial):05d}",
            channel="phone",
            description="路面塌陷，有个大坑",
            category=category,
            region_code=region,
        )
        taken_in = dt.datetime.combine(day, dt.time(10), tzinfo=SHANGHAI)
        Ticket.objects.filter(pk=ticket.pk).update(created_at=taken_in)


@pytest.mark.django_db
def test_a_hot_spot_is_flagged_to_the_responsible_unit_once_a_week(hotline):
    tickets_on(WEEK + dt.timedelta(days=1), 6)  # six this week in Siming
    tickets_on(EARLIER[1], 1)
    tickets_on(EARLIER[3], 1)
    tickets_on(WEEK + dt.timedelta(days=2), 4, category="noise")  # four: not a hot spot
    tickets_on(WEEK + dt.timedelta(days=2), 6, region="350206")  # Huli's own hot spot

    flagged = services.hot_spots_flag(actor=WORKER, week=WEEK + dt.timedelta(days=3))

    by_region = {spot.region_code: spot for spot in flagged}
    assert set(by_region) == {"350203", "350206"}
    siming = by_region["350203"]
    assert (siming.category, siming.week, siming.count) == ("road_damage", WEEK, 6)
    assert siming.baseline == 0.5
    assert siming.unit == "sm_housing"  # the Siming rule for road damage
    assert by_region["350206"].unit == "hl_housing"
    told = Notification.objects.filter(kind="ticket-hot-spot")
    assert [n.recipient for n in told] == [hotline["units"]["sm_housing"]]
    assert told.get().link == "/hotline/hot-spots/"
    assert AuditRecord.objects.filter(action="hot_spot.flagged").count() == 2

    # The sweep runs every few minutes: the same week is flagged and told once.
    assert services.hot_spots_flag(actor=WORKER, week=WEEK) == []
    assert HotSpot.objects.count() == 2
    assert Notification.objects.filter(kind="ticket-hot-spot").count() == 1


@pytest.mark.django_db
def test_only_the_responsible_unit_acknowledges_a_hot_spot_and_only_once(hotline):
    spot = HotSpot.objects.create(
        category="road_damage",
        region_code="350203",
        week=WEEK,
        count=6,
        baseline=0.5,
        unit="sm_housing",
    )
    for outsider in (hotline["units"]["sm_zhonghua_office"], hotline["supervisor"]):
        with pytest.raises(NotAllowed):
            services.hot_spot_acknowledge(actor=outsider, hot_spot=spot)
    spot = services.hot_spot_acknowledge(actor=hotline["units"]["sm_housing"], hot_spot=spot)
    assert spot.acknowledged_at is not None
    assert AuditRecord.objects.filter(action="hot_spot.acknowledged").count() == 1
    with pytest.raises(Conflict):
        services.hot_spot_acknowledge(actor=hotline["units"]["sm_housing"], hot_spot=spot)
