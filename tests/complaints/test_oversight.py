"""Which tickets a supervisor oversees: a region's supervisor those of the region and below, a
department's supervisor those the department's hotline units hold — not every region's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from onething.accounts.models import Role
from onething.complaints import selectors
from onething.complaints.selectors import TicketOversight, ticket_oversight
from onething.core.errors import NotFound
from tests.complaints.test_services import call
from tests.factories import PersonFactory, role_grant, staff_with

pytestmark = pytest.mark.django_db

POWER_CUT = "小区突然停电三个小时了，冰箱里的东西都坏了"


@pytest.fixture
def tickets(loaded_catalog, hotline):
    noise = call(hotline)
    power = call(hotline, text=POWER_CUT, category="power_supply")
    assert (noise.unit, power.unit) == ("sm_zhonghua_police", "xm_power")
    return {"noise": noise, "power": power}


def test_the_oversight_follows_the_roles_regions_and_departments_units(loaded_catalog):
    assert ticket_oversight(staff_with(Role.ADMINISTRATOR)) is None
    assert ticket_oversight(staff_with(Role.SUPERVISOR)) is None
    assert ticket_oversight(staff_with(Role.SUPERVISOR, region="350200")) == (
        TicketOversight(region_code="350200", units=None),
    )
    # The State Grid's supervisor: the tickets its power companies hold, in any region.
    assert ticket_oversight(staff_with(Role.SUPERVISOR, department="fj_state_grid")) == (
        TicketOversight(region_code=None, units=frozenset({"fz_power", "xm_power"})),
    )
    # A department with no hotline unit oversees no ticket (it used to see every region's).
    assert ticket_oversight(staff_with(Role.SUPERVISOR, department="fj_health")) == (
        TicketOversight(region_code=None, units=frozenset()),
    )
    assert ticket_oversight(staff_with(Role.REVIEWER, department="fj_health")) == ()
    assert ticket_oversight(PersonFactory()) == ()


def test_a_department_supervisor_reads_only_the_tickets_its_units_hold(client, tickets):
    grid = staff_with(Role.SUPERVISOR, department="fj_state_grid")
    health = staff_with(Role.SUPERVISOR, department="fj_health")
    noise, power = tickets["noise"], tickets["power"]

    assert list(selectors.tickets_visible_to(grid)) == [power]
    assert not selectors.tickets_visible_to(health).exists()
    assert selectors.supervises(grid, power) and not selectors.supervises(grid, noise)
    with pytest.raises(NotFound):
        selectors.ticket_for(grid, noise.reference)

    client.force_login(grid)
    assert client.get(f"/hotline/tickets/{power.reference}/").status_code == 200
    assert client.get(f"/hotline/tickets/{noise.reference}/").status_code == 404
    client.force_login(health)
    assert client.get(f"/hotline/tickets/{power.reference}/").status_code == 404


def test_a_region_and_department_role_narrows_by_both(tickets):
    # The State Grid in Fuzhou: Xiamen's power ticket is not theirs.
    fuzhou_grid = staff_with(Role.SUPERVISOR, department="fj_state_grid", region="350100")
    assert not selectors.tickets_visible_to(fuzhou_grid).exists()
    # A second role adds its share: Xiamen as a region.
    role_grant(fuzhou_grid, Role.SUPERVISOR, region="350200")
    assert set(selectors.tickets_visible_to(fuzhou_grid)) == set(tickets.values())


def test_the_rates_count_only_the_overseen_tickets(client, tickets):
    grid = staff_with(Role.SUPERVISOR, department="fj_state_grid")
    today = timezone.localdate()
    rates = selectors.hotline_rates_for(grid, start=today, end=today, by="unit")
    assert [r.key for r in rates] == ["xm_power"]

    client.force_login(grid)
    page = client.get("/hotline/rates/", {"start": today.isoformat(), "end": today.isoformat()})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-key="xm_power"' in html and 'data-key="sm_zhonghua_police"' not in html
    # The page says whose tickets they are: the grid's power companies.
    assert "国网厦门供电公司" in html


def test_escalations_and_extensions_wait_only_for_the_supervisors_over_the_ticket(tickets):
    grid = staff_with(Role.SUPERVISOR, department="fj_state_grid")
    xiamen = staff_with(Role.SUPERVISOR, region="350200")
    noise = tickets["noise"]
    noise.escalated_at = timezone.now() - dt.timedelta(hours=1)
    noise.save(update_fields=["escalated_at"])
    assert list(selectors.escalated_for(xiamen)) == [noise]
    assert not selectors.escalated_for(grid).exists()
