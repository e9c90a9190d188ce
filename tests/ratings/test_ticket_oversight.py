"""Rectifications of tickets follow the hotline's oversight: a department's supervisor watches
those its hotline units owe (complaints.selectors.TicketOversight), a region's those of the
region; a department without hotline units none."""

from __future__ import annotations

import pytest

from onething.accounts.models import Role
from onething.complaints.models import UnitMember
from onething.core.actors import WORKER
from onething.notifications.models import Notification
from onething.ratings import selectors, services
from tests.factories import StaffFactory, staff_with
from tests.ratings.conftest import closed_complaint
from tests.ratings.test_supervision import escalated_overdue, noon_after

pytestmark = pytest.mark.django_db

POWER_CUT = "小区突然停电三个小时了，冰箱里的东西都坏了"


@pytest.fixture
def power_rectification(people):
    """A bad rating of a power cut complaint the Xiamen power company answered."""
    company = StaffFactory()
    UnitMember.objects.create(user=company, unit="xm_power")
    ticket = closed_complaint(
        people, company, description=POWER_CUT, category="power_supply", reply="已抢修恢复供电"
    )
    rating = services.rating_submit(
        actor=people["applicant"], ticket=ticket, stars=2, reasons=["not_solved"]
    )
    rectification = rating.rectifications.get()
    assert (rectification.unit, rectification.department) == ("xm_power", None)
    return rectification


def test_the_supervisors_of_the_power_companies_watch_their_ticket_rectifications(
    people, power_rectification
):
    grid = staff_with(Role.SUPERVISOR, department="fj_state_grid")
    fuzhou_grid = staff_with(Role.SUPERVISOR, department="fj_state_grid", region="350100")
    health = staff_with(Role.SUPERVISOR, department="fj_health")
    xiamen, fuzhou = people["xiamen_supervisor"], people["fuzhou_supervisor"]

    assert (
        services.rectification_sweep(actor=WORKER, now=noon_after(power_rectification.due_date))[
            "overdue"
        ]
        == 1
    )
    power_rectification.refresh_from_db()

    assert selectors.supervises(grid, power_rectification)
    assert selectors.supervises(xiamen, power_rectification)
    for outsider in (fuzhou_grid, health, fuzhou):
        assert not selectors.supervises(outsider, power_rectification)
        assert not selectors.rectifications_escalated(outsider).exists()
    assert list(selectors.rectifications_escalated(grid)) == [power_rectification]
    assert selectors.may_supervise(grid, power_rectification)

    told = set(
        Notification.objects.filter(kind="rectification-escalated").values_list(
            "recipient", flat=True
        )
    )
    assert told == {grid.pk, xiamen.pk}


def test_a_department_supervisor_still_watches_its_own_application_rectifications(people, finished):
    rectification, _ = escalated_overdue(people, finished)
    health = staff_with(Role.SUPERVISOR, department="fj_health")
    grid = staff_with(Role.SUPERVISOR, department="fj_state_grid")
    assert selectors.supervises(health, rectification)
    assert not selectors.supervises(grid, rectification)
    assert list(selectors.rectifications_escalated(health)) == [rectification]
