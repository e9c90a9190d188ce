"""Which tickets a supervisor oversees: a region's supervisor those of the region and below, a
department's supervisor those the department's hotline units hold — not every region's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onething.accounts.models import Role
from onething.complaints import selectors, services
from onething.complaints.models import UnitMember
from onething.complaints.selectors import TicketOversight, ticket_oversight
from onething.core.errors import NotAllowed, NotFound
from onething.notifications.models import Notification
from tests.complaints.test_services import call
from tests.factories import PersonFactory, StaffFactory, role_grant, staff_with

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


def test_escalations_and_extension_requests_are_told_only_to_the_supervisors_over_the_ticket(
    tickets, hotline
):
    grid = staff_with(Role.SUPERVISOR, department="fj_state_grid")
    health = staff_with(Role.SUPERVISOR, department="fj_health")
    staff_with(Role.ADMINISTRATOR)
    xiamen, fuzhou = hotline["supervisor"], hotline["fuzhou_supervisor"]
    power_company = StaffFactory()
    UnitMember.objects.create(user=power_company, unit="xm_power")
    noise, power = tickets["noise"], tickets["power"]

    services.extension_request(actor=power_company, ticket=power, days=3, reason="需更换变压器")
    for unit in ("sm_police", "sm_housing", "sm_urban_management"):
        noise = services.ticket_dispatch(actor=hotline["agent"], ticket=noise, unit=unit)
    assert noise.escalated_at is not None

    def told(kind):
        return set(Notification.objects.filter(kind=kind).values_list("recipient", flat=True))

    # The power company's ticket is the State Grid's and Xiamen's; the noise only Xiamen's.
    assert told("ticket-extension") == {grid.pk, xiamen.pk}
    assert told("ticket-escalated") == {xiamen.pk}
    assert not {health.pk, fuzhou.pk} & (told("ticket-extension") | told("ticket-escalated"))


def test_a_supervisor_reveals_contact_details_only_of_the_tickets_it_oversees(client, tickets):
    grid = staff_with(Role.SUPERVISOR, department="fj_state_grid")
    noise, power = tickets["noise"], tickets["power"]
    assert selectors.may_reveal_contact(grid, power)
    assert not selectors.may_reveal_contact(grid, noise)
    with pytest.raises(NotAllowed):
        services.ticket_contact_reveal(actor=grid, ticket=noise)


def test_a_department_without_hotline_units_is_no_ticket_supervisor(client, tickets):
    health = staff_with(Role.SUPERVISOR, department="fj_health")
    assert not selectors.is_ticket_supervisor(health)
    assert services.default_reveal_purpose(health) == "handling"
    assert not selectors.may_reveal_contact(health, tickets["power"])
    client.force_login(health)
    assert client.get("/hotline/supervise/").status_code == 403

    grid = staff_with(Role.SUPERVISOR, department="fj_state_grid")
    assert selectors.is_ticket_supervisor(grid)
    assert services.default_reveal_purpose(grid) == "supervision"
    client.force_login(grid)
    assert client.get("/hotline/supervise/").status_code == 200


def test_the_oversight_is_read_once_per_user_object(loaded_catalog, django_assert_num_queries):
    grid = staff_with(Role.SUPERVISOR, department="fj_state_grid")
    first = ticket_oversight(grid)  # the first also loads the dispatch catalogue
    with django_assert_num_queries(0):
        assert ticket_oversight(grid) == first
        assert selectors.is_ticket_supervisor(grid)
    # A fresh object of the same user (the next request's) reads it again.
    next_request_user = type(grid).objects.get(pk=grid.pk)
    with CaptureQueriesContext(connection) as read_again:
        assert ticket_oversight(next_request_user) == first
    assert len(read_again) > 0
