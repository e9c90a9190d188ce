"""The hotline's figures read from the roll-ups: tickets moved through the hotline's services at a
pinned clock, with answers counted by hand, equal to what complaints.selectors.hotline_rates
gives for the same tickets; and who sees which of them on the dashboard.

November 2025 (Beijing time; a normal ticket is signed for within 2 hours and answered within
7 working days):

  T1  phone  Siming, noise, Mon 3 Nov 10:00 → the Zhonghua police station; signed for at 11:00
             (on time), replied Tue 4 Nov, called back Wed 5 Nov: resolved, satisfied.
  T2  phone  Siming, garbage, Mon 3 Nov 10:00 → the Zhonghua street office, which returns it at
             10:30 → urban management (sign for by 12:30), signed for at 13:00 (late), replied
             the day after its due day (late), called back: not resolved, not satisfied.
  T3  phone  Huli, noise, Tue 4 Nov 10:00 → the Dianqian police station, which never signs for
             it (late once its deadline passed) nor replies (late after its due day).
  T4  web    Siming, noise, Mon 10 Nov 10:00 by a signed-in citizen → the Zhonghua police
             station; signed for at 10:30, replied at 11:00, called back: resolved, not
             satisfied; the citizen rates it 4 stars on Wed 12 Nov.
  T5  phone  Siming, power supply, Tue 11 Nov 10:00 → the power company (a unit of the State
             Grid department), which returns it at 10:30 → the next unit, which never signs.

As of Mon 15 Dec 2025: Siming 4 tickets (T1 T2 T4 T5), signed for on time 2 of 4, closed on
time 2 of 4, resolved 2 of 3 reached, satisfied 1 of 3, returned 2 of 4 (T2, T5), ratings 4★;
Huli 1 ticket, signed for on time 0 of 1, closed on time 0 of 1, nothing called back, returned
0 of 1.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onething.accounts.models import Role
from onething.complaints import selectors
from onething.complaints import services as hotline_services
from onething.complaints.models import Channel, Ticket, UnitMember
from onething.complaints.services import Intake
from onething.core.errors import OneThingError
from onething.ratings import services as rating_services
from onething.supervision import dashboard, rollups
from onething.supervision.models import Rollup
from tests.complaints.conftest import hotline as hotline  # the fixture, re-exported
from tests.complaints.test_services import NOISE, ZHONGHUA, call
from tests.downloads import downloaded
from tests.factories import PersonFactory, StaffFactory
from tests.supervision.conftest import staff_with

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")
NOVEMBER = {"from": "2025-11", "to": "2025-11"}
SIMING, HULI = "350203", "350206"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def moment(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=BEIJING)


def travel(when: dt.datetime):
    return time_machine.travel(when, tick=False)


AS_OF = moment(15, 10, month=12)


def member_of(unit: str):
    """A member of staff of `unit` (created on first use)."""
    found = UnitMember.objects.filter(unit=unit).select_related("user").first()
    if found is not None:
        return found.user
    user = StaffFactory()
    UnitMember.objects.create(user=user, unit=unit)
    return user


def refreshed(ticket: Ticket) -> Ticket:
    ticket.refresh_from_db()
    return ticket


@pytest.fixture
def tickets(hotline, loaded_catalog):
    """T1–T5 of the module doc, moved through the services, and the roll-ups refreshed as of
    Mon 15 Dec 2025."""
    agent = hotline["agent"]
    with travel(moment(3, 10)):
        t1 = call(hotline)
        t2 = call(hotline, text="中山路垃圾桶满了好几天没人清运，臭味很大", category="garbage")
    assert (t1.unit, t2.unit) == ("sm_zhonghua_police", "sm_zhonghua_office")
    with travel(moment(3, 10, 30)):
        t2 = hotline_services.ticket_return(
            actor=member_of(t2.unit), ticket=t2, reason="市政垃圾由城管负责"
        )
    assert t2.unit == "sm_urban_management"
    with travel(moment(3, 11)):
        hotline_services.ticket_accept(actor=member_of(t1.unit), ticket=t1)
    with travel(moment(3, 13)):
        hotline_services.ticket_accept(actor=member_of(t2.unit), ticket=t2)
    with travel(moment(4, 10)):
        hotline_services.ticket_reply(actor=member_of(t1.unit), ticket=t1, reply="已约谈经营者")
        t3 = call(hotline, address="厦门市湖里区殿前街道")
    assert t3.unit == "hl_dianqian_police"
    with travel(moment(5, 10)):
        hotline_services.ticket_callback(
            actor=agent, ticket=refreshed(t1), reached=True, resolved=True, satisfied=True
        )
    late_reply = dt.datetime.combine(
        t2.due_date + dt.timedelta(days=1), dt.time(10), tzinfo=BEIJING
    )
    with travel(late_reply):
        hotline_services.ticket_reply(actor=member_of(t2.unit), ticket=t2, reply="已清运")
    with travel(late_reply + dt.timedelta(days=1)):
        hotline_services.ticket_callback(
            actor=agent, ticket=refreshed(t2), reached=True, resolved=False, satisfied=False
        )
    citizen = PersonFactory()
    with travel(moment(10, 10)):
        t4 = hotline_services.ticket_receive(
            actor=citizen,
            channel=Channel.WEB,
            intake=Intake(description=NOISE, address=ZHONGHUA, category="noise"),
        )
    assert t4.unit == "sm_zhonghua_police" and t4.lead_id is None
    with travel(moment(10, 10, 30)):
        hotline_services.ticket_accept(actor=member_of(t4.unit), ticket=t4)
    with travel(moment(10, 11)):
        hotline_services.ticket_reply(actor=member_of(t4.unit), ticket=t4, reply="已处理")
    with travel(moment(11, 9)):
        hotline_services.ticket_callback(
            actor=agent, ticket=refreshed(t4), reached=True, resolved=True, satisfied=False
        )
    with travel(moment(12, 12)):
        rating_services.rating_submit(actor=citizen, ticket=refreshed(t4), stars=4)
    with travel(moment(11, 10)):
        t5 = call(hotline, text="中山路一带停电了一整天", category="power_supply")
    assert t5.unit == "xm_power"
    with travel(moment(11, 10, 30)):
        t5 = hotline_services.ticket_return(
            actor=member_of("xm_power"), ticket=t5, reason="线路属小区物业"
        )
    assert t5.unit and t5.unit != "xm_power"
    with travel(AS_OF):
        rollups.refresh()
    return {"t1": t1, "t2": t2, "t3": t3, "t4": t4, "t5": t5}


def rows_of(user, query=NOVEMBER) -> dict[str, dict] | None:
    found = dashboard.hotline_rows(user, dashboard.filters_parse(query))
    return None if found is None else {row["key"]: row for row in found}


def counted(row: dict) -> tuple:
    c = row["counts"]
    return (
        row["tickets"],
        (c["signed_on_time"], c["sign_counted"]),
        (c["closed_on_time"], c["close_counted"]),
        (c["resolved"], c["satisfied"], c["callbacks"]),
        (c["returned"], c["reached_unit"]),
    )


def test_the_hotline_figures_by_district_are_those_counted_by_hand(tickets):
    got = rows_of(staff_with(Role.ADMINISTRATOR))
    assert set(got) == {SIMING, HULI}
    assert counted(got[SIMING]) == (4, (2, 4), (2, 4), (2, 1, 3), (2, 4))
    assert (got[SIMING]["stars"], got[SIMING]["ratings"]) == (4.0, 1)
    assert got[SIMING]["return_rate"] == 0.5
    assert counted(got[HULI]) == (1, (0, 1), (0, 1), (0, 0, 0), (0, 1))
    assert (got[HULI]["stars"], got[HULI]["ratings"]) == (None, 0)


def test_the_roll_ups_give_what_hotline_rates_gives_for_the_same_tickets(tickets):
    start, end = dt.date(2025, 11, 1), dt.date(2025, 11, 30)
    by_region = selectors.hotline_rates(start=start, end=end, by="region", now=AS_OF)
    from_rollups = rows_of(staff_with(Role.ADMINISTRATOR))
    expected = {r.key: r.as_dict() for r in by_region}
    assert {k: {n: v for n, v in row.items() if n not in ("stars", "ratings", "name")} for k, row in
            from_rollups.items()} == expected  # fmt: skip
    # By unit: the same roll-up rows grouped by their unit, returns counted against the unit
    # that returned.
    by_unit = {r.key: r for r in selectors.hotline_rates(start=start, end=end, now=AS_OF)}
    sums: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for unit, metric, count, total in Rollup.objects.filter(
        level="ticket", month=dt.date(2025, 11, 1)
    ).values_list("department", "metric", "count", "total"):
        sums[unit][metric][0] += count
        sums[unit][metric][1] += total
    assert set(by_unit) == {u for u in sums if u}
    for unit, rates in by_unit.items():
        mine = sums[unit]
        assert (rates.tickets, rates.sign_counted, rates.signed_on_time) == (
            mine["received"][0],
            mine["signed_on_time"][0],
            mine["signed_on_time"][1],
        )
        assert (rates.close_counted, rates.closed_on_time) == tuple(mine["closed_on_time"])
        assert (rates.callbacks, rates.resolved, rates.satisfied) == (
            mine["resolved"][0],
            mine["resolved"][1],
            mine["satisfied"][1],
        )
        assert (rates.reached_unit, rates.returned) == tuple(mine["unit_returned"])
    assert by_unit["sm_zhonghua_office"].return_rate == 1.0
    assert by_unit["xm_power"].return_rate == 1.0


def test_a_deadline_passing_with_nothing_done_is_found_by_the_next_refresh(hotline):
    with travel(moment(4, 10)):
        ticket = call(hotline, address="厦门市湖里区殿前街道")
    with travel(moment(4, 11)):
        rollups.refresh()
    signed = Rollup.objects.filter(level="ticket", metric="signed_on_time")
    assert not signed.exists()  # not late yet: the deadline is at noon
    with travel(moment(4, 13)):
        result = rollups.refresh()  # nothing happened to the ticket in between
        assert result.tickets == 1
        assert rollups.differences() == []
    assert list(signed.values_list("department", "count", "total")) == [(ticket.unit, 1, 0)]
    closed = Rollup.objects.filter(level="ticket", metric="closed_on_time")
    after_due = dt.datetime.combine(
        refreshed(ticket).due_date + dt.timedelta(days=1), dt.time(9), tzinfo=BEIJING
    )
    with travel(after_due):
        rollups.refresh()
        assert rollups.differences() == []
    assert list(closed.values_list("count", "total")) == [(1, 0)]


def test_a_region_supervisor_sees_their_regions_tickets_only(tickets, hotline):
    assert set(rows_of(hotline["supervisor"])) == {SIMING, HULI}  # Xiamen
    huli = staff_with(Role.SUPERVISOR, region=HULI)
    assert counted(rows_of(huli)[HULI]) == (1, (0, 1), (0, 1), (0, 0, 0), (0, 1))
    assert set(rows_of(huli)) == {HULI}
    assert rows_of(huli, dict(NOVEMBER, region=SIMING)) == {}
    assert rows_of(hotline["fuzhou_supervisor"]) == {}


def test_a_department_supervisor_sees_only_their_departments_units(tickets):
    # The State Grid's unit in Xiamen is the power company: it returned T5 and holds nothing.
    grid = staff_with(Role.SUPERVISOR, department="fj_state_grid")
    got = rows_of(grid)
    assert set(got) == {SIMING}
    assert counted(got[SIMING]) == (0, (0, 0), (0, 0), (0, 0, 0), (1, 1))
    assert got[SIMING]["return_rate"] == 1.0
    # The health department has no hotline unit: no hotline table at all.
    health = staff_with(Role.SUPERVISOR, department="fj_health")
    assert rows_of(health) is None
    board = dashboard.dashboard_for(health, dashboard.filters_parse(NOVEMBER))
    assert board.as_dict()["hotline"] is None
    client = Client()
    client.force_login(health)
    page = client.get("/supervision/?from=2025-11&to=2025-11", **EN).content.decode()
    assert 'data-testid="hotline-rates"' not in page


def test_the_dashboard_page_and_json_show_the_ticket_ratings_apart(tickets):
    administrator = staff_with(Role.ADMINISTRATOR)
    board = dashboard.dashboard_for(administrator, dashboard.filters_parse(NOVEMBER)).as_dict()
    siming = next(row for row in board["hotline"] if row["key"] == SIMING)
    assert (siming["stars"], siming["ratings"], siming["satisfaction_rate"]) == (4.0, 1, 0.3333)
    client = Client()
    client.force_login(administrator)
    page = client.get("/supervision/?from=2025-11&to=2025-11", **EN).content.decode()
    table = page.split('data-testid="hotline-rates"')[1].split("</section>")[0]
    assert "Ticket ratings (average stars)" in table
    assert "4.0 (1)" in table
    api = client.get("/api/v1/supervision/dashboard?from=2025-11&to=2025-11", **EN)
    assert api.status_code == 200, api.content
    assert {row["key"]: row["stars"] for row in api.json()["hotline"]}[SIMING] == 4.0


def test_the_hotline_table_names_districts_shows_returns_and_downloads_within_scope(tickets):
    administrator = staff_with(Role.ADMINISTRATOR)
    client = Client()
    client.force_login(administrator)
    page = client.get("/supervision/?from=2025-11&to=2025-11", **EN).content.decode()
    table = page.split('data-testid="hotline-rates"')[1].split("</section>")[0]
    assert "Siming District" in table and ">350203<" not in table
    assert 'data-testid="hotline-returned">0.5<' in table
    csv_link = re.search(r'href="(/supervision/charts/dashboard-hotline\.csv[^"]*)"', table)[1]
    rows = _csv_rows(client.get(csv_link.replace("&amp;", "&"), **EN))
    assert rows[0][:2] == ["District", "Tickets"] and "Returned" in rows[0]
    assert {row[0]: row[1] for row in rows[1:]} == {"Siming District": "4", "Huli District": "1"}
    siming = next(row for row in rows[1:] if row[0] == "Siming District")
    assert siming[rows[0].index("Returned")] == "0.5"
    # A Huli supervisor's download holds Huli only, whatever the query asks.
    huli = Client()
    huli.force_login(staff_with(Role.SUPERVISOR, region=HULI))
    rows = _csv_rows(huli.get("/supervision/charts/dashboard-hotline.csv?from=2025-11&to=2025-11"
                              "&region=350200", **EN))  # fmt: skip
    assert [row[0] for row in rows[1:]] == ["Huli District"]
    xlsx = client.get("/supervision/charts/dashboard-hotline.xlsx?from=2025-11&to=2025-11", **EN)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def _csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:300]
    text = downloaded(response)
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))


# --- any sequence of ticket events ---------------------------------------------------------

TICKET_ACTIONS = (
    "accept", "return", "reply", "callback", "unreached", "transfer", "rehandle", "settle",
    "rate",
)  # fmt: skip
ticket_steps = st.lists(
    st.tuples(
        st.integers(0, 2),  # which ticket
        st.sampled_from((*TICKET_ACTIONS, "refresh")),
        st.integers(0, 40),  # hours later
        st.booleans(),
        st.booleans(),
    ),
    min_size=4,
    max_size=14,
)


def _act_on(ticket: Ticket, action: str, hours: int, yes: bool, also: bool, agent) -> None:
    """One thing a unit, an agent or the citizen does to the ticket (refused ones raise)."""
    ticket.refresh_from_db()
    holder = member_of(ticket.unit) if ticket.unit else None
    if action in ("accept", "return", "reply", "settle") and holder is None:
        return
    if action == "settle":  # the unit signs for and replies; the callback closes it
        if ticket.status == "dispatched":
            ticket = hotline_services.ticket_accept(actor=holder, ticket=ticket)
        ticket = hotline_services.ticket_reply(actor=holder, ticket=ticket, reply="已处理")
        ticket.refresh_from_db()
        hotline_services.ticket_callback(
            actor=agent, ticket=ticket, reached=True, resolved=yes, satisfied=also
        )
    elif action == "callback":
        hotline_services.ticket_callback(
            actor=agent, ticket=ticket, reached=True, resolved=yes, satisfied=also, rehandle=True
        )
    elif action == "accept":
        hotline_services.ticket_accept(actor=holder, ticket=ticket)
    elif action == "return":
        hotline_services.ticket_return(actor=holder, ticket=ticket, reason="不归我们管")
    elif action == "reply":
        hotline_services.ticket_reply(actor=holder, ticket=ticket, reply="已处理")
    elif action == "unreached":
        hotline_services.ticket_callback(
            actor=agent, ticket=ticket, reached=False, resolved=None, satisfied=None
        )
    elif action == "transfer":
        unit = "xm_power" if yes else "sm_police"
        hotline_services.ticket_dispatch(actor=agent, ticket=ticket, unit=unit)
    elif action == "rehandle":
        hotline_services.ticket_rehandle(actor=agent, ticket=ticket, reason="未解决")
    elif action == "rate" and ticket.citizen is not None:
        if ticket.status != "closed":
            _act_on(ticket, "settle", hours, yes, also, agent)
            ticket.refresh_from_db()
        rating_services.rating_submit(actor=ticket.citizen, ticket=ticket, stars=1 + hours % 5)


def recount(now: dt.datetime) -> dict[tuple, tuple[int, int]]:
    """The hotline's figures straight from the tickets and their ratings, by (month, district,
    unit, channel, metric, stars), by the rules of complaints.rates (written out here, not
    through supervision.metrics)."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    today = timezone.localtime(now).date()

    def month(moment: dt.datetime) -> dt.date:
        return timezone.localtime(moment).date().replace(day=1)

    for t in Ticket.objects.prefetch_related("ratings"):
        taken_in = month(t.created_at)

        def add(metric, count, total, unit=None, when=None, stars=0, t=t, taken_in=taken_in):
            key = (when or taken_in, t.region_code, t.unit if unit is None else unit, t.channel)
            entry = sums[(*key, metric, stars)]
            entry[0] += count
            entry[1] += total

        add("received", 1, 0)
        if t.sign_due_at is not None and (t.accepted_at is not None or now > t.sign_due_at):
            on_time = t.accepted_at is not None and t.accepted_at <= t.sign_due_at
            add("signed_on_time", 1, int(on_time))
        if t.due_date is not None and (t.replied_at is not None or today > t.due_date):
            replied = timezone.localtime(t.replied_at).date() if t.replied_at else None
            add("closed_on_time", 1, int(replied is not None and replied <= t.due_date))
        if t.callback_reached:
            add("resolved", 1, int(bool(t.resolved)))
            add("satisfied", 1, int(bool(t.satisfied)))
        if t.unit or t.returned_by:
            add("returned", 1, int(bool(t.returned_by)))
        for unit in t.returned_by:
            add("unit_returned", 1, 1, unit=unit)
        if t.unit:
            add("unit_returned", 1, 0)
        for rating in t.ratings.all():
            add("satisfaction", 1, rating.stars, when=month(rating.created_at), stars=rating.stars)
    return {key: (c, s) for key, (c, s) in sums.items() if (c, s) != (0, 0)}


def stored_ticket_figures() -> dict[tuple, tuple[int, int]]:
    rows = Rollup.objects.filter(level="ticket")
    assert not rows.exclude(thing="", service="").exists()
    return {
        (month, region, unit, channel, metric, bucket): (count, total)
        for month, region, unit, channel, metric, bucket, count, total in rows.values_list(
            "month", "region", "department", "channel", "metric", "bucket", "count", "total"
        )
    }


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=ticket_steps)
def test_after_any_ticket_events_the_rollups_equal_a_rebuild_and_a_recount(hotline, plan):
    agent = hotline["agent"]
    administrator = staff_with(Role.ADMINISTRATOR)
    with transaction.atomic():
        clock = moment(3, 9)
        citizen = PersonFactory()
        with travel(clock):
            tickets = [
                call(hotline),
                hotline_services.ticket_receive(
                    actor=citizen,
                    channel=Channel.WEB,
                    intake=Intake(description=NOISE, address="厦门市湖里区殿前街道"),
                ),
                call(hotline, text="中山路垃圾桶满了好几天没人清运，臭味很大", category="garbage"),
            ]
            rollups.refresh()
        for index, action, hours, yes, also in plan:
            clock += dt.timedelta(hours=hours)
            with travel(clock):
                if action == "refresh":
                    rollups.refresh()
                    continue
                # The citizen's own web ticket is the one they can rate.
                ticket = tickets[1] if action == "rate" else tickets[index]
                # Not allowed in this state: nothing happens, as for a user who tried.
                with contextlib.suppress(OneThingError):
                    _act_on(ticket, action, hours, yes, also, agent)
        with travel(clock):
            rollups.refresh()
            figures = stored_ticket_figures()
            assert figures == recount(clock)
            assert rollups.differences() == []
            rollups.refresh()
            assert stored_ticket_figures() == figures  # refreshing again changes nothing
            rollups.rebuild()
            assert stored_ticket_figures() == figures
            # The dashboard's table gives what the hotline's own rates give.
            filters = dashboard.Filters(since=dt.date(2025, 11, 1), until=dt.date(2026, 1, 1))
            rows = dashboard.hotline_rows(administrator, filters)
            rates = selectors.hotline_rates(
                start=dt.date(2025, 11, 1), end=dt.date(2026, 1, 31), by="region", now=clock
            )
            extra = ("stars", "ratings", "name")
            assert [{k: v for k, v in row.items() if k not in extra} for row in rows] == [
                r.as_dict() for r in rates
            ]
        transaction.set_rollback(True)
