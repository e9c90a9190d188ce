"""Who sees and works which cases: a reviewer's department and region, a supervisor's region,
an administrator. Region codes nest (GB/T 2260): Xiamen 3502 holds 思明区 350203 and 湖里区
350206; Fuzhou 3501 holds 鼓楼区 350102."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from onething.accounts.models import Role
from onething.applications import selectors, services
from onething.applications.lifecycle import CaseStatus
from onething.applications.models import Application, CaseEvent
from onething.catalog.models import Region
from onething.core.errors import NotAllowed, NotFound
from onething.core.masking import mask
from tests.applications.conftest import fill_and_attach
from tests.applications.test_api import bearer
from tests.applications.test_views import EN, sign_in, text
from tests.factories import PersonFactory, enterprise_with_agent, make_ric, staff_with

pytestmark = pytest.mark.django_db

NEWBORN = {"mother_insured": "yes"}
SIMING, HULI, GULOU = "350203", "350206", "350102"
SMALL_RESTAURANT = {"floor_area": 80, "has_signboard": "no", "sells_tobacco": "no"}


def health_reviewer(region: str | None = None):
    return staff_with(Role.REVIEWER, department="fj_health", region=region)


def newborn_from(region: str | None) -> Application:
    """A submitted newborn application of a family whose household is in `region`."""
    applicant = PersonFactory(
        id_number=make_ric(region=region or SIMING),
        region=Region.objects.get(code=region) if region else None,
    )
    application = services.application_start(actor=applicant, thing_code="newborn", answers=NEWBORN)
    fill_and_attach(application, applicant)
    return services.application_submit(actor=applicant, application=application, consent=True)


@pytest.fixture
def births(loaded_catalog):
    """The health commission's birth case of a 思明区, a 湖里区 and a 鼓楼区 family, and of one
    whose household region nobody knows."""
    return {
        region: newborn_from(region)
        .cases.select_related("application__region")
        .get(service__code="birth_medical_certificate")
        for region in (SIMING, HULI, GULOU, None)
    }


def seen_by(user) -> set[str | None]:
    """The household regions of the birth cases the user finds on the workbench."""
    return {
        case.application.region_code
        for case in selectors.cases_for_staff(user).filter(
            service__code="birth_medical_certificate"
        )
    }


# --- where an application is handled -------------------------------------------------------------


def test_an_application_is_handled_where_the_applicants_household_is(births):
    assert births[SIMING].application.region.code == SIMING
    assert births[None].application.region is None


def test_an_enterprises_application_is_handled_where_the_enterprise_is_registered(
    loaded_catalog,
):
    agent = PersonFactory(region=Region.objects.get(code=SIMING))
    enterprise = enterprise_with_agent(agent)
    enterprise.region = Region.objects.get(code=HULI)
    enterprise.save(update_fields=["region"])
    application = services.application_start(
        actor=agent,
        thing_code="open_restaurant",
        answers=SMALL_RESTAURANT,
        enterprise_uscc=enterprise.uscc,
    )
    assert application.region.code == HULI


def test_existing_accounts_and_applications_get_their_region_when_migrating(
    loaded_catalog, demo_registers
):
    from onething.sharing.services import register_load

    register_load(actor="test", registers=demo_registers)
    resident = PersonFactory(id_number="35020319920203135X")  # 陈建国 of 思明区 in the register
    stranger = PersonFactory()  # not in the register: stays unknown
    agent = PersonFactory()
    enterprise = enterprise_with_agent(agent)
    enterprise.region = Region.objects.get(code=HULI)
    enterprise.save(update_fields=["region"])
    own = services.application_start(actor=resident, thing_code="newborn", answers=NEWBORN)
    unknown = services.application_start(actor=stranger, thing_code="newborn", answers=NEWBORN)
    company = services.application_start(
        actor=agent,
        thing_code="open_restaurant",
        answers=SMALL_RESTAURANT,
        enterprise_uscc=enterprise.uscc,
    )
    Application.objects.update(region=None)  # as they were before the migrations

    accounts = importlib.import_module("onething.accounts.migrations.0002_household_region")
    applications = importlib.import_module(
        "onething.applications.migrations.0005_application_region"
    )
    accounts.household_regions_from_the_register(apps, None)
    applications.regions_of_existing_applications(apps, None)

    regions = dict(Application.objects.values_list("pk", "region__code"))
    assert regions == {own.pk: SIMING, unknown.pk: None, company.pk: HULI}


# --- reviewers limited to a region ---------------------------------------------------------------


def test_a_reviewer_limited_to_a_region_sees_the_cases_of_that_region_only(births):
    # One set of applications for the whole table: each row is a new reviewer.
    table = [
        (None, {SIMING, HULI, GULOU, None}),  # the whole department: every case, known or not
        ("350000", {SIMING, HULI, GULOU}),
        ("350200", {SIMING, HULI}),
        (SIMING, {SIMING}),
        ("350100", {GULOU}),
        ("350103", set()),
    ]
    for region, sees in table:
        assert seen_by(health_reviewer(region)) == sees, region


def test_another_departments_reviewer_of_the_same_region_sees_none_of_them(births):
    police = staff_with(Role.REVIEWER, department="fj_public_security", region="350200")
    assert seen_by(police) == set()


def test_a_reviewer_works_a_case_of_their_region_through_pages_and_api(client, births):
    xiamen = health_reviewer("350200")
    siming = births[SIMING]
    sign_in(client, xiamen)
    assert client.get(f"/workbench/cases/{siming.pk}/", **EN).status_code == 200
    assert client.post(f"/workbench/cases/{siming.pk}/accept/", **EN).status_code == 302
    approved = client.post(
        f"/api/v1/workbench/cases/{siming.pk}/approve",
        {"outputs": {"child.birth_certificate_number": "Q350203001"}},
        content_type="application/json",
        **bearer(xiamen),
    )
    assert approved.status_code == 200, approved.content
    siming.refresh_from_db()
    assert siming.status == CaseStatus.APPROVED


def test_a_case_outside_the_reviewers_region_does_not_exist_for_them(client, births):
    xiamen = health_reviewer("350200")
    gulou = births[GULOU]
    sign_in(client, xiamen)
    assert gulou.application.reference not in text(client.get("/workbench/?status=all", **EN))
    for method, path, body in [
        ("get", f"/workbench/cases/{gulou.pk}/", None),
        ("post", f"/workbench/cases/{gulou.pk}/accept/", None),
        ("post", f"/workbench/cases/{gulou.pk}/reveal/", {"field": "mother.id_number"}),
    ]:
        response = getattr(client, method)(path, body or {}, **EN)
        assert response.status_code == 404, path
    api = bearer(xiamen)
    assert client.get(f"/api/v1/workbench/cases/{gulou.pk}", **api).status_code == 404
    accept = client.post(f"/api/v1/workbench/cases/{gulou.pk}/accept", **api)
    assert accept.status_code == 404
    gulou.refresh_from_db()
    assert gulou.status == CaseStatus.READY
    assert not CaseEvent.objects.filter(case=gulou, action="value_revealed").exists()


def test_the_services_refuse_a_reviewer_outside_the_cases_region(births):
    xiamen, fujian = health_reviewer("350200"), health_reviewer()
    gulou = births[GULOU]
    actions = [
        lambda: services.case_accept(actor=xiamen, case=gulou),
        lambda: services.case_approve(
            actor=xiamen, case=gulou, outputs={"child.birth_certificate_number": "Q1"}
        ),
        lambda: services.case_reject(actor=xiamen, case=gulou, reason=""),
        lambda: services.case_ask_supplement(
            actor=xiamen,
            case=gulou,
            items=[{"kind": "field", "target": "child.birth_weight", "reason": "?"}],
        ),
        lambda: services.case_reveal_value(actor=xiamen, case=gulou, key="mother.id_number"),
        lambda: services.case_retry_dispatch(actor=xiamen, case=gulou),
    ]
    for act in actions:
        with pytest.raises(NotFound):
            act()
    # The department-wide reviewer still works it.
    assert services.case_accept(actor=fujian, case=gulou).status == CaseStatus.ACCEPTED


def test_a_case_of_an_unknown_region_is_for_the_department_wide_reviewers_only(births):
    unknown = births[None]
    with pytest.raises(NotFound):
        selectors.case_for_staff(health_reviewer("350000"), unknown.pk)
    with pytest.raises(NotFound):
        services.case_accept(actor=health_reviewer("350000"), case=unknown)
    assert services.case_accept(actor=health_reviewer(), case=unknown).status == "accepted"


# --- supervisors and administrators read, and only read ------------------------------------------


def test_supervisors_read_the_cases_of_their_scope_and_administrators_all(births):
    table = [
        (Role.ADMINISTRATOR, None, None, {SIMING, HULI, GULOU, None}),
        (Role.SUPERVISOR, None, None, {SIMING, HULI, GULOU, None}),
        (Role.SUPERVISOR, None, "350100", {GULOU}),
        (Role.SUPERVISOR, None, HULI, {HULI}),
        (Role.SUPERVISOR, "fj_health", "350200", {SIMING, HULI}),
        (Role.SUPERVISOR, "fj_cdc", None, set()),  # over another department
        (Role.WINDOW_CLERK, None, None, set()),
    ]
    for role, department, region, sees in table:
        reader = staff_with(role, department=department, region=region)
        assert seen_by(reader) == sees, (role, department, region)


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMINISTRATOR])
def test_supervisors_and_administrators_may_not_work_or_reveal(births, role):
    reader = staff_with(role)
    siming = births[SIMING]
    services.case_accept(actor=health_reviewer(), case=siming)  # so every decision is possible
    actions = [
        lambda: services.case_accept(actor=reader, case=births[HULI]),
        lambda: services.case_approve(
            actor=reader, case=siming, outputs={"child.birth_certificate_number": "Q1"}
        ),
        lambda: services.case_reject(actor=reader, case=siming, reason="no"),
        lambda: services.case_ask_supplement(
            actor=reader,
            case=siming,
            items=[{"kind": "field", "target": "child.birth_weight", "reason": "?"}],
        ),
        lambda: services.case_reveal_value(actor=reader, case=siming, key="mother.id_number"),
        lambda: services.case_retry_dispatch(actor=reader, case=siming),
    ]
    for act in actions:
        with pytest.raises(NotAllowed):
            act()
    siming.refresh_from_db()
    assert siming.status == CaseStatus.ACCEPTED
    assert births[HULI].status == CaseStatus.READY
    assert not siming.supplement_items.exists()
    assert not CaseEvent.objects.filter(action="value_revealed").exists()


def test_a_supervisor_reads_a_case_page_masked_and_without_actions(client, births):
    supervisor = staff_with(Role.SUPERVISOR, region="350200")
    siming = births[SIMING]
    mother = siming.application.applicant.id_number
    sign_in(client, supervisor)
    queue = text(client.get("/workbench/", **EN))
    assert siming.application.reference in queue
    assert births[GULOU].application.reference not in queue

    page = text(client.get(f"/workbench/cases/{siming.pk}/", **EN))
    assert mask(mother) in page and mother not in page
    assert 'data-testid="read-only"' in page
    assert 'data-testid="accept"' not in page
    assert "/reveal/" not in page
    assert client.post(f"/workbench/cases/{siming.pk}/accept/", **EN).status_code == 403
    revealed = client.post(
        f"/workbench/cases/{siming.pk}/reveal/", {"field": "mother.id_number"}, **EN
    )
    assert revealed.status_code == 403 and mother not in text(revealed)
    siming.refresh_from_db()
    assert siming.status == CaseStatus.READY


def test_an_administrator_reads_a_case_through_the_api_masked(client, births):
    administrator = staff_with(Role.ADMINISTRATOR)
    gulou = births[GULOU]
    mother = gulou.application.applicant.id_number
    detail = client.get(f"/api/v1/workbench/cases/{gulou.pk}", **bearer(administrator))
    assert detail.status_code == 200
    assert detail.json()["data"]["mother.id_number"] == mask(mother)
    refused = client.post(
        f"/api/v1/workbench/cases/{gulou.pk}/reveal",
        {"field": "mother.id_number"},
        content_type="application/json",
        **bearer(administrator),
    )
    assert refused.status_code == 403 and mother not in refused.content.decode()
