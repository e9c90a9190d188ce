"""The demo's synthetic population passes the same checks real applicants' data must pass."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from onething.accounts.models import Enterprise, EnterpriseAgent, Role, RoleAssignment, User
from onething.catalog.models import Department
from onething.demo import DEMO_ACCOUNTS, demo_prepare
from onething.sharing.selectors import register_record, register_sizes


@pytest.mark.parametrize("account", DEMO_ACCOUNTS, ids=[a.username for a in DEMO_ACCOUNTS])
def test_every_demo_login_is_a_living_resident_with_a_valid_id_number(account, demo_registers):
    assert ric.validate(account.id_number) == account.id_number
    residents = {row["id_number"]: row for row in demo_registers.records["population"]}
    assert residents[account.id_number]["status"] == "registered"


@pytest.mark.django_db
def test_demo_prepare_seeds_every_role_once(loaded_catalog):
    demo_prepare(simulator_url="http://127.0.0.1:9", simulator_secret="s")
    counts = User.objects.count(), register_sizes()
    demo_prepare(simulator_url="http://127.0.0.1:9", simulator_secret="s")
    assert (User.objects.count(), register_sizes()) == counts
    assert register_sizes()["population"] == 12
    reviewers = RoleAssignment.objects.filter(role=Role.REVIEWER)
    assert reviewers.filter(region__isnull=True).count() == Department.objects.count()
    # One reviewer is limited to a region: the health commission's, for Xiamen.
    assert list(
        reviewers.filter(region__isnull=False).values_list("department__code", "region__code")
    ) == [("fj_health", "350200")]
    people = User.objects.filter(kind=User.Kind.PERSON)
    assert people.count() == len(DEMO_ACCOUNTS)
    assert all(p.id_verified_at for p in people)
    lin = people.get(username="linxiaoyan")
    assert lin.real_name == register_record("population", lin.id_number)["name"] == "林晓燕"
    assert lin.region.code == register_record("population", lin.id_number)["region"] == "350203"
    # The companies of the enterprise register, each with its legal representative as agent.
    assert Enterprise.objects.count() == 2
    agents = EnterpriseAgent.objects.filter(is_legal_representative=True)
    assert sorted(agents.values_list("user__username", flat=True)) == ["lina", "zhangwei"]


@pytest.mark.django_db
def test_the_demo_wallets_hold_what_a_province_would_have_issued(loaded_catalog):
    from onething.certificates.models import Certificate
    from onething.certificates.selectors import wallet_numbers

    demo_prepare()
    count = Certificate.objects.count()
    demo_prepare()
    assert Certificate.objects.count() == count, "seeded once"
    lin = wallet_numbers("350203199406121242")
    assert {"resident_id_card", "marriage_certificate"} <= set(lin)
    assert "business_licence" in wallet_numbers("91350206MA8RW2Q3XY")
