"""The demo's synthetic population passes the same checks real applicants' data must pass."""

from __future__ import annotations

import datetime as dt

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


@pytest.mark.django_db
def test_every_printed_demo_login_signs_in_with_its_role(loaded_catalog, client):
    from onething.complaints.models import UnitMember

    _report, logins = demo_prepare()
    for login in logins:
        credentials = {"username": login.username, "password": login.password}
        response = client.post("/accounts/login/", credentials)
        assert response.status_code == 302, login.username  # signed in and sent on
        client.post("/accounts/logout/")
    agent = User.objects.get(username="agent12345")
    assert RoleAssignment.objects.filter(user=agent, role=Role.HOTLINE_AGENT).exists()
    xiamen = RoleAssignment.objects.get(user__username="supervisor_xiamen")
    assert (xiamen.role, xiamen.region.code) == (Role.SUPERVISOR, "350200")
    printed_units = {
        login.username.removeprefix("unit_")
        for login in logins
        if login.username.startswith("unit_")
    }
    assert printed_units == {"sm_zhonghua_police", "sm_housing", "sm_zhonghua_office", "sm_12345"}
    for unit in printed_units:
        assert UnitMember.objects.filter(user__username=f"unit_{unit}", unit=unit).exists()


@pytest.mark.django_db
def test_the_demo_hotline_has_tickets_in_every_state_rates_and_a_hot_spot(loaded_catalog):
    from django.utils import timezone

    from onething.complaints.models import ExtensionRequest, HotSpot, Ticket
    from onething.complaints.selectors import hotline_rates
    from onething.demo import demo_tickets

    demo_prepare()
    assert Ticket.objects.count() == len(demo_tickets())
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert {"dispatched", "accepted", "replied", "closed"} <= statuses
    assert Ticket.objects.filter(rehandled=1).exists()
    assert Ticket.objects.exclude(returned_by=[]).count() == 2
    assert ExtensionRequest.objects.filter(status="pending").count() == 1
    assert Ticket.objects.filter(citizen__username="linxiaoyan").exists()
    today = timezone.localdate()
    spot = HotSpot.objects.get()
    assert (spot.category, spot.region_code, spot.unit) == ("road_damage", "350203", "sm_housing")
    assert spot.week == today - dt.timedelta(days=today.weekday())
    rates = {r.key: r for r in hotline_rates(start=today, end=today, by="unit")}
    housing = rates["sm_housing"]
    assert housing.tickets == 7 and housing.satisfaction_rate is not None
    assert rates["sm_zhonghua_police"].return_rate is not None
    demo_prepare()
    assert Ticket.objects.count() == len(demo_tickets()), "seeded once"


@pytest.mark.django_db
def test_the_demo_open311_key_stays_the_same_and_is_made_again_when_lost(tmp_path):
    from onething.complaints.services import open311_client_for_key
    from onething.demo import demo_open311_key

    key_file = tmp_path / "open311-demo-key"
    key = demo_open311_key(key_file)
    assert open311_client_for_key(key) is not None
    assert demo_open311_key(key_file) == key
    key_file.unlink()
    fresh = demo_open311_key(key_file)
    assert fresh != key
    assert open311_client_for_key(key) is None, "the lost key's client is revoked"
    assert open311_client_for_key(fresh) is not None


@pytest.mark.django_db
def test_the_demo_supervisor_sees_figures_at_once_and_last_months_record(loaded_catalog):
    from django.utils import timezone

    from onething.supervision import dashboard
    from onething.supervision.models import MonthEndSnapshot, Rollup

    assert not Rollup.objects.exists()
    demo_prepare()
    supervisor = User.objects.get(username="supervisor")
    board = dashboard.dashboard_for(supervisor, dashboard.filters_parse({}))
    tiles = {tile.key: tile.value for tile in board.tiles}
    # The refused retirement application, rated two stars: no worker has run yet.
    assert tiles["received"] >= 1
    assert tiles["ratings"] >= 1 and tiles["satisfaction"] is not None
    first_of_month = timezone.localdate().replace(day=1)
    last_month = (first_of_month - dt.timedelta(days=1)).replace(day=1)
    assert list(MonthEndSnapshot.objects.values_list("month", flat=True)) == [last_month]
    demo_prepare()
    assert MonthEndSnapshot.objects.count() == 1, "kept once"
