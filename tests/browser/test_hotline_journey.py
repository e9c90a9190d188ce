"""In real Chromium: a citizen files a complaint on the web, the unit it was dispatched to signs
for it and replies on its workbench, and the citizen reads the reply on their page."""

from __future__ import annotations

import re

import pytest

from onething.complaints.models import Ticket, UnitMember
from tests.browser.test_apply_journey import sign_in, with_password
from tests.factories import PersonFactory, StaffFactory

pytestmark = pytest.mark.browser

NOISE = "楼下酒吧每天晚上音乐声太大，吵到凌晨两点，孩子无法入睡"
REPLY = "已约谈酒吧经营者，晚十点后停止外放音乐，将持续巡查。"


@pytest.fixture
def people(transactional_db, loaded_catalog):
    citizen = with_password(PersonFactory(username="resident", phone="13959211234"))
    officer = with_password(StaffFactory(username="zhonghua-police"))
    UnitMember.objects.create(user=officer, unit="sm_zhonghua_police")
    return citizen, officer


def test_a_citizen_complains_the_unit_replies_and_the_citizen_reads_it(
    page, browser, live_server, people
):
    base = live_server.url

    # The citizen finds the hotline in the navigation and files a complaint, missing the place.
    sign_in(page, base, "resident")
    page.click("[data-testid=nav-hotline]")
    page.click("[data-testid=file-complaint]")
    page.fill("[name=description]", NOISE)
    page.click("[data-testid=submit-complaint]")
    page.wait_for_selector("[data-testid=error-summary]")
    assert "Give the address" in page.locator("#f-address-error").inner_text()
    assert page.locator("[name=description]").input_value() == NOISE  # nothing lost
    page.fill("[name=address]", "厦门市思明区中华街道中山路128号")
    page.click("[data-testid=submit-complaint]")
    page.wait_for_selector("[data-testid=confirmation]")
    reference = page.locator("[data-testid=reference]").inner_text().strip()
    assert re.fullmatch(r"12345-\d{8}-[A-Z2-9]{6}", reference)
    assert Ticket.objects.get(reference=reference).unit == "sm_zhonghua_police"

    # The unit signs for it and replies, from its workbench.
    context = browser.new_context(locale="en-US")
    staff = context.new_page()
    staff.set_default_timeout(15_000)
    try:
        sign_in(staff, base, "zhonghua-police")
        staff.goto(f"{base}/hotline/unit/")
        row = staff.locator(f"[data-testid=unit-queue] tr[data-reference='{reference}']")
        assert row.get_attribute("data-status") == "dispatched"
        row.locator("a").first.click()
        assert "139****1234" in staff.locator("[data-testid=contact-phone]").inner_text()
        staff.click("[data-testid=accept]")
        staff.wait_for_selector("[data-testid=send-reply]")
        staff.fill("[data-testid=reply-text]", REPLY)
        staff.click("[data-testid=send-reply]")
        staff.wait_for_selector("[data-testid=reply]")
        assert staff.locator("[data-testid=ticket-status]").get_attribute("data-status") == (
            "replied"
        )
    finally:
        context.close()

    # The citizen reads the reply on their complaint's page.
    page.goto(f"{base}/hotline/my/")
    page.click(f"[data-reference='{reference}'] h2 a")
    assert REPLY in page.locator("[data-testid=reply]").inner_text()
    assert page.locator("[data-testid=timeline] [data-action=replied]").count() == 1
    assert page.locator("[data-testid=timeline] [data-action=accepted]").count() == 1


def test_an_agent_reveals_the_callers_number_in_place_and_the_reveal_is_recorded(
    page, live_server, people
):
    from onething.accounts.models import Role, RoleAssignment
    from onething.audit.models import AuditRecord
    from onething.complaints import services
    from onething.complaints.models import Channel

    agent = with_password(StaffFactory(username="hotline-agent"))
    RoleAssignment.objects.create(user=agent, role=Role.HOTLINE_AGENT)
    ticket = services.ticket_receive(
        actor=agent,
        channel=Channel.PHONE,
        intake=services.Intake(
            description=f"{NOISE}，请回电13959211234",
            address="厦门市思明区中华街道中山路128号",
            category="noise",
            contact_name="王先生",
            contact_phone="13959211234",
        ),
    )
    sign_in(page, live_server.url, "hotline-agent")
    page.goto(f"{live_server.url}/hotline/tickets/{ticket.reference}/")
    assert page.locator("[data-testid=contact-phone]").inner_text() == "139****1234"
    assert "13959211234" not in page.locator("[data-testid=description]").inner_text()
    page.click("[data-testid=reveal-contact]")
    page.wait_for_selector("[data-testid=contact-revealed]")
    assert page.locator("[data-testid=contact-phone]").inner_text() == "13959211234"
    assert "13959211234" in page.locator("[data-testid=description]").inner_text()
    assert page.locator("[data-testid=reveal-contact]").count() == 0
    record = AuditRecord.objects.get(action="ticket.contact_revealed")
    assert (record.actor, record.subject) == (f"user:{agent.pk}", ticket.reference)
