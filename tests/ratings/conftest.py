"""A finished newborn application of a 思明区 family and a closed web complaint, with the people
around them: the applicant, the departments' reviewers, supervisors, the hotline unit."""

from __future__ import annotations

import pytest

from onething.accounts.models import Role
from onething.applications import services as applications
from onething.catalog.models import Region
from onething.complaints import services as hotline
from onething.complaints.models import Channel, UnitMember
from onething.complaints.services import Intake
from tests.applications.conftest import fill_and_attach
from tests.factories import PersonFactory, StaffFactory, reviewer, staff_with
from tests.notifications.conftest import email_topics  # noqa: F401 - a fixture used here

NEWBORN_ANSWERS = {"mother_insured": "yes"}
NOISE = "楼下酒吧每天晚上音乐声太大，吵到凌晨两点，孩子无法入睡"
ZHONGHUA = "厦门市思明区中华街道中山路128号"


@pytest.fixture
def people(loaded_catalog):
    Region.objects.get_or_create(
        code="350100", defaults={"name_zh": "福州市", "name_en": "Fuzhou", "level": "city"}
    )
    return {
        "applicant": PersonFactory(
            email="lin@example.cn", region=Region.objects.get(code="350203")
        ),
        "other": PersonFactory(email="other@example.cn"),
        "health": reviewer("fj_health", email="health@example.test"),
        "cdc": reviewer("fj_cdc", email="cdc@example.test"),
        "police": reviewer("fj_public_security", email="police@example.test"),
        "fuzhou_health": staff_with(
            Role.REVIEWER,
            department="fj_health",
            region="350100",
            email="reviewer-fj_health-350100@example.test",
        ),
        "xiamen_supervisor": staff_with(
            Role.SUPERVISOR, region="350200", email="supervisor-all-350200@example.test"
        ),
        "fuzhou_supervisor": staff_with(
            Role.SUPERVISOR, region="350100", email="supervisor-all-350100@example.test"
        ),
        "cdc_supervisor": staff_with(
            Role.SUPERVISOR, department="fj_cdc", email="supervisor-fj_cdc-all@example.test"
        ),
        "agent": staff_with(Role.HOTLINE_AGENT, email="hotline_agent-all-all@example.test"),
    }


def finish_newborn(applicant, people):
    """Submitted, the health commission rejects its case (its dependents are cancelled), the CDC
    approves its own: partly completed, decided by those two departments."""
    application = applications.application_start(
        actor=applicant, thing_code="newborn", answers=NEWBORN_ANSWERS
    )
    fill_and_attach(application, applicant)
    application = applications.application_submit(
        actor=applicant, application=application, consent=True
    )
    birth = application.cases.get(service__code="birth_medical_certificate")
    birth = applications.case_accept(actor=people["health"], case=birth)
    applications.case_reject(actor=people["health"], case=birth, reason="出生医学证明信息不符")
    vaccination = application.cases.get(service__code="vaccination_certificate")
    applications.case_accept(actor=people["cdc"], case=vaccination)
    applications.case_approve(actor=people["cdc"], case=vaccination)
    application.refresh_from_db()
    return application


@pytest.fixture
def finished(people):
    return finish_newborn(people["applicant"], people)


@pytest.fixture
def unit_member(people):
    user = StaffFactory(email="police-unit@example.test")
    UnitMember.objects.create(user=user, unit="sm_zhonghua_police")
    return user


def closed_complaint(
    people, unit_member, *, description=NOISE, category="noise", reply="已约谈经营者"
):
    """A complaint the applicant filed on the web, answered by the unit and closed after the
    callback (the citizen not satisfied)."""
    ticket = hotline.ticket_receive(
        actor=people["applicant"],
        channel=Channel.WEB,
        intake=Intake(description=description, address=ZHONGHUA, category=category),
    )
    hotline.ticket_accept(actor=unit_member, ticket=ticket)
    hotline.ticket_reply(actor=unit_member, ticket=ticket, reply=reply)
    ticket.refresh_from_db()
    return hotline.ticket_callback(
        actor=people["agent"], ticket=ticket, reached=True, resolved=True, satisfied=False
    )


@pytest.fixture
def closed_ticket(people, unit_member):
    """A noise complaint the applicant filed on the web, answered by the police station and
    closed after the callback."""
    ticket = closed_complaint(people, unit_member)
    assert ticket.unit == "sm_zhonghua_police", ticket.unit
    return ticket
