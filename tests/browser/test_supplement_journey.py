"""In real Chromium: two departments ask for supplements, the applicant answers them through one
notice, every case ends, the certificates are in the wallet and one is verified through the
link its QR code carries."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.utils import timezone

from onething.applications import services
from onething.applications.models import Application, SupplementRequest
from onething.outbox.registry import autodiscover
from onething.outbox.worker import outbox_run_once
from tests.applications.conftest import PNG, fill_and_attach
from tests.browser.test_apply_journey import sign_in, with_password
from tests.factories import PersonFactory, make_ric, reviewer

pytestmark = pytest.mark.browser


@pytest.fixture
def cast(transactional_db, loaded_catalog):
    applicant = with_password(
        PersonFactory(username="mother", id_number=make_ric(birth=date(1992, 5, 17)))
    )
    draft = services.application_start(
        actor=applicant, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    fill_and_attach(draft, applicant)
    application = services.application_submit(actor=applicant, application=draft, consent=True)
    staff = {
        "hospital": with_password(reviewer("fj_health", username="hospital")),
        "cdc": with_password(reviewer("fj_cdc", username="cdc")),
    }
    return applicant, application, staff


def ask_in_workbench(browser, base, username, reference, item, reason):
    context = browser.new_context(locale="en-US")
    staff = context.new_page()
    staff.set_default_timeout(15_000)
    try:
        sign_in(staff, base, username)
        staff.goto(f"{base}/workbench/")
        staff.click(f"[data-testid=queue] a:has-text('{reference}')")
        staff.click("[data-testid=accept]")
        staff.click("[data-testid=ask-supplement] summary")
        staff.check(f"[data-testid='supplement-{item}']")
        staff.fill(f"[data-testid='supplement-reason-{item}']", reason)
        staff.click("[data-testid=ask-supplement-submit]")
        staff.wait_for_selector("[data-testid=supplement-items]")
    finally:
        context.close()


def finish_every_case(application: Application) -> None:
    """The remaining departments decide (through the services, as their reviewers would)."""
    autodiscover()
    outputs = {
        "birth_medical_certificate": {"child.birth_certificate_number": "Q350203456"},
        "birth_hukou_registration": {"child.id_number": make_ric(birth=timezone.localdate())},
    }
    for _ in range(6):
        outbox_run_once(worker_id="test", batch=50)
        for case in application.cases.select_related("service", "department"):
            staff = reviewer(case.department.code)
            if case.status == "ready":
                case = services.case_accept(actor=staff, case=case)
            if case.status == "accepted":
                services.case_approve(
                    actor=staff, case=case, outputs=outputs.get(case.service.code, {})
                )
    application.refresh_from_db()
    assert application.status == "completed", application.status


def test_one_notice_for_two_departments_then_every_certificate_in_the_wallet(
    page, browser, live_server, cast
):
    applicant, application, _staff = cast
    base, reference = live_server.url, application.reference
    ask_in_workbench(
        browser, base, "hospital", reference, "field:child.birth_weight", "与分娩记录不一致"
    )
    ask_in_workbench(
        browser, base, "cdc", reference, "material:delivery_record", "分娩记录缺第二页"
    )

    # One notice, listing both departments' items; answered once.
    sign_in(page, base, "mother")
    page.goto(f"{base}/applications/{reference}/")
    assert page.locator("section[data-testid^=notice-]").count() == 1
    notice = page.locator("[data-testid=notice-1]")
    assert "与分娩记录不一致" in notice.inner_text()
    assert "分娩记录缺第二页" in notice.inner_text()
    page.fill("[name='child.birth_weight']", "3250")
    page.set_input_files(
        "[data-testid='notice-file-delivery_record']",
        {"name": "record.png", "mimeType": "image/png", "buffer": PNG},
    )
    page.click("[data-testid=answer-notice]")
    page.wait_for_selector("[data-testid=answered]")
    assert page.locator("section[data-testid^=notice-]").count() == 0
    assert SupplementRequest.objects.get(application=application).status == "answered"

    finish_every_case(application)

    # Every result together: the certificates are in the wallet.
    page.goto(f"{base}/wallet/")
    certificates = page.locator("[data-testid=wallet] li[data-code]")
    assert certificates.count() >= 2
    certificates.first.locator("a").first.click()
    page.wait_for_selector("[data-testid=qr] svg")
    verify_url = page.locator(".certificate-verify .url").inner_text().strip()
    assert re.search(r"/verify/[0-9A-Z-]+$", verify_url)

    # Anyone (a fresh browser, signed in as nobody) follows the QR code's link.
    context = browser.new_context(locale="en-US")
    try:
        stranger = context.new_page()
        stranger.goto(verify_url.replace(re.match(r"https?://[^/]+", verify_url)[0], base))
        verdict = stranger.locator("[data-testid=verdict]")
        assert verdict.get_attribute("data-status") == "valid"
        assert applicant.id_number not in stranger.content()
    finally:
        context.close()
