"""In real Chromium, the newborn journey of "apply once" from end to end: the applicant applies,
two departments ask for supplements and the applicant answers them through one notice, every
department decides at its workbench, and the applicant finds every certificate together — one
of them verified by decoding its QR code and following the link it carries.

Only the accounts and the catalog are made through services; every step of the journey is a
click in the browser. The outbox worker, which runs in the background of a real deployment, is
run by the test between steps."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
import zxingcpp
from PIL import Image

from onething.applications import services
from onething.applications.form_steps import form_steps
from onething.applications.models import Application
from onething.core.masking import mask
from onething.outbox.registry import autodiscover
from onething.outbox.worker import outbox_run_once
from tests.applications.conftest import PNG, valid_value
from tests.browser.test_apply_journey import fill, sign_in, with_password
from tests.factories import PersonFactory, make_ric, reviewer

pytestmark = pytest.mark.browser

# No social security card and no maternity benefit: four cases over three stages, two
# departments in the first (the hospital and the CDC), two e-certificates at the end.
ANSWERS = {
    "mother_insured": "no",
    "vaccination_certificate_issued": "no",
    "apply_social_security_card": "no",
}
MEMBERS = [
    "birth_medical_certificate",
    "vaccination_certificate",
    "birth_hukou_registration",
    "newborn_medical_insurance",
]
BIRTH_CERTIFICATE = "Q350203456"
CHILD_ID_NUMBER = make_ric(birth=date(2025, 3, 1), serial=8)


@pytest.fixture
def cast(transactional_db, loaded_catalog, live_server, settings):
    # The QR code carries the platform's public address: make it this live server's.
    settings.ONETHING_PUBLIC_URL = live_server.url
    settings.ONETHING_PUBLIC_URL_CONFIGURED = True
    applicant = with_password(
        PersonFactory(username="mother", id_number=make_ric(birth=date(1992, 5, 17)))
    )
    for department, username in [
        ("fj_health", "hospital"),
        ("fj_cdc", "cdc"),
        ("fj_public_security", "police"),
        ("fj_medical_security", "insurance"),
    ]:
        with_password(reviewer(department, username=username))
    return applicant


@pytest.fixture
def staff_pages(browser, live_server):
    """One signed-in browser (its own cookies) per reviewer, opened when first needed."""
    contexts, pages = [], {}

    def page_of(username: str):
        if username not in pages:
            context = browser.new_context(locale="en-US")
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(15_000)
            sign_in(page, live_server.url, username)
            pages[username] = page
        return pages[username]

    yield page_of
    for context in contexts:
        context.close()


def background_worker_runs() -> None:
    """What `onething worker` does in a deployment: deliver every due outbox message."""
    autodiscover()
    while outbox_run_once(worker_id="test", batch=50):
        pass


def apply_in_browser(page, base: str, applicant) -> str:
    """Plan, form steps, materials, check and submit; returns the reference."""
    page.goto(f"{base}/things/newborn/")
    for key, value in ANSWERS.items():
        page.check(f"input[name='{key}'][value='{value}']")
    page.wait_for_function(
        """codes => JSON.stringify(
            [...document.querySelectorAll('#plan .member')].map(n => n.dataset.service)
        ) === JSON.stringify(codes)""",
        arg=MEMBERS,
    )
    page.click("[data-testid=apply-link]")
    assert page.locator("[data-testid=apply-plan] .member").count() == len(MEMBERS)
    page.click("[data-testid=start]")
    page.wait_for_url(re.compile(r"/applications/[^/]+/data/$"))
    page.click("[data-testid=fill-myself]")
    page.wait_for_url(re.compile(r"/applications/[^/]+/step/1/$"))
    reference = page.url.split("/")[-4]

    # Which element each field is, to type a value that passes its checks (a read, no write).
    draft = Application.objects.get(reference=reference)
    specs = {s.element.key: s for s in services.asked_fields(services.application_plan(draft))}
    for step in form_steps(list(specs)):
        for key in step.keys:
            fill(page, specs[key].element, valid_value(specs[key].element, applicant))
        page.click("[data-testid=save-continue]")
        page.wait_for_load_state()

    page.wait_for_url(re.compile(r"/materials/$"))
    for upload in page.locator("input[type=file]").all():
        name = upload.get_attribute("name").removeprefix("material-")
        upload.set_input_files({"name": f"{name}.png", "mimeType": "image/png", "buffer": PNG})
    page.click("[data-testid=save-continue]")

    page.wait_for_url(re.compile(r"/check/$"))
    page.check("[data-testid=consent]")
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=confirmation]")
    assert page.locator("[data-testid=reference]").inner_text() == reference
    return reference


def open_case(staff, base: str, reference: str):
    """Open the application's case from the reviewer's queue."""
    staff.goto(f"{base}/workbench/")
    staff.click(f"[data-testid=queue] a:has-text('{reference}')")
    staff.wait_for_selector("[data-testid=case-status]")
    return staff


def accept(staff) -> None:
    staff.click("[data-testid=accept]")
    staff.wait_for_selector("[data-testid=approve]")


def ask_for_supplement(staff, item: str, reason: str) -> None:
    staff.click("[data-testid=ask-supplement] summary")
    staff.check(f"[data-testid='supplement-{item}']")
    staff.fill(f"[data-testid='supplement-reason-{item}']", reason)
    staff.click("[data-testid=ask-supplement-submit]")
    staff.wait_for_selector("[data-testid=supplement-items]")


def approve(staff, outputs: dict[str, str] | None = None) -> None:
    for key, value in (outputs or {}).items():
        staff.fill(f"[name='{key}']", value)
    staff.click("[data-testid=approve]")
    staff.wait_for_selector("[data-testid=case-status].status-approved")


def qr_code_text(page) -> str:
    """Decode the QR code as Chromium drew it (a screenshot of the element, not its markup)."""
    shot = page.locator("[data-testid=qr] svg").screenshot()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert [f.format for f in found] == [zxingcpp.BarcodeFormat.QRCode], found
    return found[0].text


def test_one_notice_for_two_departments_then_every_certificate_together_verified_by_qr(
    page, browser, live_server, cast, staff_pages
):
    applicant = cast
    base = live_server.url
    sign_in(page, base, "mother")
    reference = apply_in_browser(page, base, applicant)

    # Stage 1: the hospital and the CDC each take the case up and ask for something.
    hospital = open_case(staff_pages("hospital"), base, reference)
    accept(hospital)
    ask_for_supplement(hospital, "field:child.birth_weight", "与分娩记录不一致")
    cdc = open_case(staff_pages("cdc"), base, reference)
    accept(cdc)
    ask_for_supplement(cdc, "material:delivery_record", "分娩记录缺第二页")

    # The applicant gets one notice listing both departments' items and answers it once.
    page.goto(f"{base}/applications/{reference}/")
    assert page.locator("section[data-testid^=notice-]").count() == 1
    notice = page.locator("[data-testid=notice-1]").inner_text()
    assert "与分娩记录不一致" in notice
    assert "分娩记录缺第二页" in notice
    page.fill("[data-testid=notice-1] [name='child.birth_weight']", "3250")
    page.set_input_files(
        "[data-testid='notice-file-delivery_record']",
        {"name": "record.png", "mimeType": "image/png", "buffer": PNG},
    )
    page.click("[data-testid=answer-notice]")
    page.wait_for_selector("[data-testid=answered]")
    assert page.locator("section[data-testid^=notice-]").count() == 0

    # Both departments have the answer on their case page (the baby's health data masked until
    # revealed), and approve.
    open_case(hospital, base, reference)
    weight = hospital.locator("[data-field='child.birth_weight']")
    assert "3250" not in weight.inner_text()
    hospital.click("[data-testid='reveal-child.birth_weight']")
    hospital.wait_for_function(
        "() => document.querySelector(\"[data-field='child.birth_weight']\").innerText"
        ".includes('3250')"
    )
    approve(hospital, {"child.birth_certificate_number": BIRTH_CERTIFICATE})
    approve(open_case(cdc, base, reference))

    # Stage 2: the birth is registered; its case has the certificate number from stage 1.
    police = open_case(staff_pages("police"), base, reference)
    carried = police.locator("[data-field='child.birth_certificate_number']").inner_text()
    assert "from an earlier result" in carried
    # An earlier result is personal data like the form's: masked until revealed.
    earlier = police.locator("[aria-labelledby=earlier-title]").inner_text()
    assert mask(BIRTH_CERTIFICATE) in earlier and BIRTH_CERTIFICATE not in earlier
    accept(police)
    approve(police, {"child.id_number": CHILD_ID_NUMBER})

    # Stage 3: the instant-approval rule cannot decide (the mother's data was typed, not read
    # from a register), so it refers the case to the insurance reviewer.
    background_worker_runs()
    insurance = open_case(staff_pages("insurance"), base, reference)
    referred = insurance.locator("[aria-labelledby=case-timeline-title] .note").inner_text()
    assert "child.birth_date, mother.id_number" in referred  # the inputs that were typed
    accept(insurance)
    approve(insurance)

    # The applicant: the application is completed, each result shown with its e-certificate,
    # told once with every result together.
    page.goto(f"{base}/applications/{reference}/")
    assert page.locator("[data-testid=application-status].status-completed").count() == 1
    for service in ("birth_medical_certificate", "vaccination_certificate"):
        assert page.locator(f"[data-testid=certificate-{service}]").count() == 1
    page.goto(f"{base}/inbox/")
    assert page.locator("[data-testid=inbox] [data-kind=application-finished]").count() == 1

    # Every certificate together in the wallet.
    page.goto(f"{base}/wallet/")
    wallet = page.locator("[data-testid=wallet] li[data-code]")
    assert wallet.count() == 2
    code = wallet.first.get_attribute("data-code")
    wallet.first.locator("a").first.click()
    page.wait_for_selector("[data-testid=qr] svg")
    verify_url = qr_code_text(page)
    assert verify_url == f"{base}/verify/{code}"

    # Anyone (a fresh browser, signed in as nobody) follows the link the QR code carries.
    context = browser.new_context(locale="en-US")
    try:
        stranger = context.new_page()
        stranger.goto(verify_url)
        verdict = stranger.locator("[data-testid=verdict]")
        assert verdict.get_attribute("data-status") == "valid"
        assert verdict.locator("h2").inner_text() == "Valid"
        assert "genuine, unaltered and in force" in verdict.inner_text()
        assert applicant.id_number not in stranger.content()
    finally:
        context.close()
