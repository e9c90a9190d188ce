"""The rates a hotline centre is judged by, on a constructed data set with answers counted by hand,
and once through the database over tickets moved by the services."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from onething.complaints import selectors, services
from onething.complaints.rates import TicketFacts, compute_rates
from onething.complaints.selectors import TicketOversight
from tests.complaints.test_services import call

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def on(day: int) -> dt.date:
    return dt.date(2026, 11, day)


def facts(
    unit="",
    region="350203",
    returned_by=(),
    sign_due=None,
    accepted=None,
    due=None,
    replied=None,
    reached=None,
    resolved=None,
    satisfied=None,
) -> TicketFacts:
    return TicketFacts(
        unit=unit,
        returned_by=tuple(returned_by),
        region_code=region,
        sign_due_at=sign_due,
        accepted_at=accepted,
        due_date=due,
        replied_on=replied,
        reached=reached,
        resolved=resolved,
        satisfied=satisfied,
    )


STATION, DISTRICT_POLICE, DESK, HOUSING = (
    "sm_zhonghua_police",
    "sm_police",
    "sm_12345",
    "hl_housing",
)

# Nine tickets, taken in before NOW (2026-11-20 12:00).
TICKETS = [
    # 1. Signed for and replied in time; the citizen is content.
    facts(
        STATION,
        sign_due=at(10, 10),
        accepted=at(10, 9),
        due=on(19),
        replied=on(18),
        reached=True,
        resolved=True,
        satisfied=True,
    ),
    # 2. Signed for an hour late; due yesterday and still no reply.
    facts(STATION, sign_due=at(11, 10), accepted=at(11, 11), due=on(19)),
    # 3. Dispatched this morning: nothing is due yet.
    facts(STATION, sign_due=at(20, 14), due=on(30)),
    # 4. The station sent it back; the district police replied on the due day, in vain.
    facts(
        DISTRICT_POLICE,
        returned_by=[STATION],
        sign_due=at(12, 10),
        accepted=at(12, 9, 30),
        due=on(20),
        replied=on(20),
        reached=True,
        resolved=False,
        satisfied=False,
    ),
    # 5. Returned three times and escalated: nobody holds it, its last sign-for passed.
    facts("", returned_by=[STATION, DISTRICT_POLICE, DESK], sign_due=at(13, 10), due=on(25)),
    # 6. In Huli: on time, but the hotline never reached the caller.
    facts(
        HOUSING,
        region="350206",
        sign_due=at(14, 10),
        accepted=at(14, 9),
        due=on(19),
        replied=on(19),
        reached=False,
    ),
    # 7. In Huli, still waiting for an agent: it never reached a unit.
    facts("", region="350206"),
    # 8. In Huli: signed for on the minute, replied a day late; solved, yet not satisfied.
    facts(
        HOUSING,
        region="350206",
        sign_due=at(15, 10),
        accepted=at(15, 10),
        due=on(18),
        replied=on(19),
        reached=True,
        resolved=True,
        satisfied=False,
    ),
    # 9. In Gulou, just taken in: nothing at all to count.
    facts("", region="350102"),
]

RATE_NAMES = (
    "tickets",
    "on_time_sign_rate",
    "on_time_close_rate",
    "resolution_rate",
    "satisfaction_rate",
    "return_rate",
)

# Counted by hand: (tickets, sign-for, closure, resolution, satisfaction, returns).
BY_UNIT = {
    # Holds 4 (on time, unresolved); reached by 4 and 5, returned 5.
    DISTRICT_POLICE: (1, 1.0, 1.0, 0.0, 0.0, 0.5),
    # Holds 6 and 8: both signed for on time, 8 replied late; 6's caller was not reached.
    HOUSING: (2, 1.0, 0.5, 1.0, 0.0, 0.0),
    # Only ever returned 5: the return counts against it, nothing else does.
    DESK: (0, None, None, None, None, 1.0),
    # Holds 1-3: sign-for 1 on time of 1 and 2 (3 not due); closure likewise; reached by 1-5
    # and returned 4 and 5.
    STATION: (3, 0.5, 0.5, 1.0, 1.0, 0.4),
}
BY_REGION = {
    "350102": (1, None, None, None, None, None),
    # Sign-for: 1, 4 on time of 1, 2, 4, 5; closure: 1, 4 on time of 1, 2, 4; returns: 4, 5.
    "350203": (5, 0.5, 0.6667, 0.5, 0.5, 0.4),
    "350206": (3, 1.0, 0.5, 1.0, 0.0, 0.0),
}


def table(rates) -> dict[str, tuple]:
    return {key: tuple(getattr(entry, name) for name in RATE_NAMES) for key, entry in rates.items()}


def test_rates_per_unit_count_returns_against_the_unit_that_returned():
    rates = compute_rates(TICKETS, by="unit", now=NOW)
    assert table(rates) == BY_UNIT
    assert list(rates) == sorted(BY_UNIT)
    station = rates[STATION].as_dict()["counts"]
    assert station == {
        "signed_on_time": 1,
        "sign_counted": 2,
        "closed_on_time": 1,
        "close_counted": 2,
        "callbacks": 1,
        "resolved": 1,
        "satisfied": 1,
        "reached_unit": 5,
        "returned": 2,
    }


def test_rates_per_district_count_every_ticket_taken_in_there():
    rates = compute_rates(TICKETS, by="region", now=NOW)
    assert table(rates) == BY_REGION


def test_a_rate_with_nothing_to_count_is_none_not_zero():
    rates = compute_rates([facts("", region="350102")], by="region", now=NOW)
    body = rates["350102"].as_dict()
    assert body["tickets"] == 1
    assert [body[name] for name in RATE_NAMES[1:]] == [None] * 5


def test_the_clock_decides_whether_an_unsigned_ticket_counts():
    waiting = [facts(STATION, sign_due=at(20, 14), due=on(30))]
    before = compute_rates(waiting, by="unit", now=at(20, 13))[STATION]
    after = compute_rates(waiting, by="unit", now=at(20, 15))[STATION]
    assert before.on_time_sign_rate is None
    assert after.on_time_sign_rate == 0.0


def test_rates_are_grouped_only_by_unit_or_region():
    with pytest.raises(ValueError, match="by"):
        compute_rates(TICKETS, by="street", now=NOW)


moments = st.integers(min_value=1, max_value=28).map(lambda d: at(d, 10))
days = st.integers(min_value=1, max_value=28).map(on)
any_facts = st.builds(
    facts,
    unit=st.sampled_from(["", STATION, HOUSING]),
    region=st.sampled_from(["350203", "350206"]),
    returned_by=st.lists(st.sampled_from([STATION, DISTRICT_POLICE, DESK]), max_size=3),
    sign_due=st.none() | moments,
    accepted=st.none() | moments,
    due=st.none() | days,
    replied=st.none() | days,
    reached=st.none() | st.booleans(),
    resolved=st.none() | st.booleans(),
    satisfied=st.none() | st.booleans(),
)


@given(st.lists(any_facts, max_size=20), st.sampled_from(["unit", "region"]))
def test_every_rate_is_a_share_or_none_and_regions_count_every_ticket(tickets, by):
    rates = compute_rates(tickets, by=by, now=NOW)
    for entry in rates.values():
        for name in RATE_NAMES[1:]:
            value = getattr(entry, name)
            assert value is None or 0 <= value <= 1
    if by == "region":
        assert sum(e.tickets for e in rates.values()) == len(tickets)


# --- through the database ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_selector_computes_the_rates_of_tickets_moved_through_the_services(hotline):
    agent, units = hotline["agent"], hotline["units"]
    # A noise complaint, handled and closed: the citizen is content.
    noise = call(hotline)
    services.ticket_accept(actor=units["sm_zhonghua_police"], ticket=noise)
    services.ticket_reply(actor=units["sm_zhonghua_police"], ticket=noise, reply="已约谈经营者")
    services.ticket_callback(actor=agent, ticket=noise, reached=True, resolved=True, satisfied=True)
    # Rubbish: the street office sends it back, urban management replies, the citizen is not
    # satisfied and the agent closes it anyway.
    garbage = call(hotline, text="中山路垃圾桶满了好几天没人清运，臭味很大", category="garbage")
    assert garbage.unit == "sm_zhonghua_office"
    garbage = services.ticket_return(
        actor=units["sm_zhonghua_office"], ticket=garbage, reason="市政垃圾由城管负责"
    )
    assert garbage.unit == "sm_urban_management"
    services.ticket_accept(actor=units["sm_urban_management"], ticket=garbage)
    services.ticket_reply(actor=units["sm_urban_management"], ticket=garbage, reply="已清运")
    services.ticket_callback(
        actor=agent, ticket=garbage, reached=True, resolved=False, satisfied=False
    )
    # In Huli, just dispatched to a police station nobody here works at.
    huli = call(hotline, address="厦门市湖里区殿前街道")
    assert huli.unit == "hl_dianqian_police"

    today = timezone.localdate()
    by_unit = {r.key: r for r in selectors.hotline_rates(start=today, end=today, by="unit")}
    assert table(by_unit) == {
        "hl_dianqian_police": (1, None, None, None, None, 0.0),
        "sm_urban_management": (1, 1.0, 1.0, 0.0, 0.0, 0.0),
        "sm_zhonghua_office": (0, None, None, None, None, 1.0),
        "sm_zhonghua_police": (1, 1.0, 1.0, 1.0, 1.0, 0.0),
    }
    # Once the Huli sign-for deadline has passed, it counts as late.
    later = huli.sign_due_at + dt.timedelta(minutes=1)
    huli_late = selectors.hotline_rates(start=today, end=today, by="unit", now=later)
    assert {r.key: r.on_time_sign_rate for r in huli_late}["hl_dianqian_police"] == 0.0
    # A supervisor's share: Siming only.
    siming = selectors.hotline_rates(
        start=today, end=today, by="region", oversight=[TicketOversight("350203", None)]
    )
    assert table({r.key: r for r in siming}) == {"350203": (2, 1.0, 1.0, 0.5, 0.5, 0.5)}
    last_week = today - dt.timedelta(days=7), today - dt.timedelta(days=1)
    assert selectors.hotline_rates(start=last_week[0], end=last_week[1]) == []
