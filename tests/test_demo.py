"""The demo's synthetic population passes the same checks real applicants' data must pass."""

from __future__ import annotations

import pytest
from stdnum.cn import ric, uscc

from onething.accounts.models import Enterprise, Role, RoleAssignment, User
from onething.catalog.models import Department
from onething.demo import ENTERPRISES, POPULATION, credit_code, demo_prepare, resident_id


@pytest.mark.parametrize("person", POPULATION, ids=[p.username for p in POPULATION])
def test_every_demo_resident_id_number_is_valid(person):
    number = resident_id(person.region, person.birth, person.serial)
    assert ric.validate(number) == number
    assert ric.get_birth_date(number) == person.birth


@pytest.mark.parametrize("enterprise", ENTERPRISES, ids=[e[2] for e in ENTERPRISES])
def test_every_demo_credit_code_is_valid(enterprise):
    code = credit_code(enterprise[0][:17])
    assert uscc.validate(code) == code


@pytest.mark.django_db
def test_demo_prepare_seeds_every_role_once(loaded_catalog):
    demo_prepare(simulator_url="http://127.0.0.1:9", simulator_secret="s")
    counts = User.objects.count()
    demo_prepare(simulator_url="http://127.0.0.1:9", simulator_secret="s")
    assert User.objects.count() == counts
    assert Enterprise.objects.count() == len(ENTERPRISES)
    reviewers = RoleAssignment.objects.filter(role=Role.REVIEWER)
    assert reviewers.count() == Department.objects.count()
    people = User.objects.filter(kind=User.Kind.PERSON)
    assert people.count() == len(POPULATION)
    assert all(p.id_verified_at for p in people)
