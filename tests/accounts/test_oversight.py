"""What a supervisor oversees, the one rule ratings and the hotline read it by."""

from __future__ import annotations

import pytest

from onething.accounts.models import Role
from onething.accounts.selectors import Oversight, supervisor_oversight, supervisors_over
from onething.catalog.models import Department
from tests.factories import PersonFactory, role_grant, staff_with

pytestmark = pytest.mark.django_db


def test_administrators_and_unscoped_supervisors_oversee_everything_others_nothing(
    loaded_catalog,
):
    assert supervisor_oversight(staff_with(Role.ADMINISTRATOR)) is None
    assert supervisor_oversight(staff_with(Role.SUPERVISOR)) is None
    assert supervisor_oversight(staff_with(Role.REVIEWER, department="fj_health")) == ()
    assert supervisor_oversight(PersonFactory()) == ()
    assert supervisor_oversight(None) == ()
    health = Department.objects.get(code="fj_health")
    both = staff_with(Role.SUPERVISOR, region="350200")
    role_grant(both, Role.SUPERVISOR, department="fj_health")
    assert set(supervisor_oversight(both)) == {
        Oversight(department_id=None, region_code="350200"),
        Oversight(department_id=health.pk, region_code=None),
    }


def test_a_region_covers_the_regions_inside_it_and_a_department_only_its_own(loaded_catalog):
    health = Department.objects.get(code="fj_health").pk
    cdc = Department.objects.get(code="fj_cdc").pk
    xiamen = Oversight(department_id=None, region_code="350200")
    assert xiamen.covers(health, "350203") and xiamen.covers(None, "350203")
    assert not xiamen.covers(health, "350102") and not xiamen.covers(health, "")
    own = Oversight(department_id=health, region_code=None)
    assert own.covers(health, "350102") and not own.covers(cdc, "350203")
    in_xiamen = staff_with(Role.SUPERVISOR, region="350200")
    of_health = staff_with(Role.SUPERVISOR, department="fj_health")
    staff_with(Role.ADMINISTRATOR)  # told of nothing in particular
    assert supervisors_over(health, "350203") == sorted([in_xiamen.pk, of_health.pk])
    assert supervisors_over(cdc, "350203") == [in_xiamen.pk]
    assert supervisors_over(cdc, "350102") == []
