"""In real Chromium: an applicant applies for the newborn thing, a reviewer approves the birth
case, and the applicant sees the progress."""

from __future__ import annotations

import re
from datetime import date

import pytest

from onething.applications import services
from onething.applications.form_steps import form_steps
from onething.applications.models import Application
from onething.catalog.schema import ElementType
from tests.applications.conftest import PNG, valid_value
from tests.factories import PersonFactory, make_ric, reviewer

pytestmark = pytest.mark.browser

PASSWORD = "pw-person-1234"  # what tests.factories sets
BIRTH_CERTIFICATE = "Q350203456"


def with_password(user):
    # The factories set the password after saving and never save again: store it.
    user.save(update_fields=["password"])
    return user


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_selector("[data-testid=signed-in-as]")


def fill(page, element, value) -> None:
    selector = f"[name='{element.key}']"
    if element.type == ElementType.BOOLEAN:
        page.check(f"input{selector}[value='{'yes' if value else 'no'}']")
    elif element.type == ElementType.CHOICE:
        page.select_option(selector, str(value))
    else:
        page.fill(selector, str(value))


@pytest.fixture
def people(transactional_db, loaded_catalog):
    applicant = with_password(
        PersonFactory(username="mother", id_number=make_ric(birth=date(1992, 5, 17)))
    )
    health = with_password(reviewer("fj_health", username="hospital"))
    return applicant, health


def test_an_applicant_applies_a_reviewer_approves_and_the_applicant_sees_it(
    page, browser, live_server, people
):
    applicant, _health = people
    base = live_server.url

    # The applicant signs in and starts from the plan for their answers.
    sign_in(page, base, "mother")
    page.goto(f"{base}/apply/newborn/?mother_insured=yes")
    assert page.locator("[data-testid=apply-plan] .member").count() == 6
    page.click("[data-testid=start]")
    page.wait_for_url(re.compile(r"/applications/[^/]+/data/$"))
    page.click("[data-testid=fill-myself]")
    page.wait_for_url(re.compile(r"/applications/[^/]+/step/1/$"))
    reference = page.url.split("/")[-4]
    application = Application.objects.get(reference=reference)

    specs = {
        s.element.key: s for s in services.asked_fields(services.application_plan(application))
    }
    steps = form_steps(list(specs))
    total = len(steps) + 2
    for step in steps:
        assert page.locator("[data-testid=step-count]").inner_text() == (
            f"Step {step.number} of {total}"
        )
        for key in step.keys:
            fill(page, specs[key].element, valid_value(specs[key].element, applicant))
        page.click("[data-testid=save-continue]")
        page.wait_for_load_state()

    # Materials: a PNG for each one the applicant brings.
    page.wait_for_url(re.compile(r"/materials/$"))
    for row in page.locator("input[type=file]").all():
        name = row.get_attribute("name").removeprefix("material-")
        row.set_input_files({"name": f"{name}.png", "mimeType": "image/png", "buffer": PNG})
    page.click("[data-testid=save-continue]")

    # Check your answers, consent and submit.
    page.wait_for_url(re.compile(r"/check/$"))
    assert applicant.id_number not in page.content()  # masked for printing
    page.check("[data-testid=consent]")
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=confirmation]")
    assert page.locator("[data-testid=reference]").inner_text() == reference

    # A reviewer of the health commission, in another browser, accepts and approves.
    reviewer_context = browser.new_context(locale="en-US")
    staff = reviewer_context.new_page()
    staff.set_default_timeout(15_000)
    try:
        sign_in(staff, base, "hospital")
        staff.goto(f"{base}/workbench/")
        staff.click(f"[data-testid=queue] a:has-text('{reference}')")
        staff.click("[data-testid=accept]")
        staff.wait_for_selector("[data-testid=approve]")
        staff.fill("[name='child.birth_certificate_number']", BIRTH_CERTIFICATE)
        staff.click("[data-testid=approve]")
        staff.wait_for_selector("[data-testid=decided-outputs]")
        assert staff.locator("[data-testid=case-status]").inner_text() == "approved"
    finally:
        reviewer_context.close()

    # The applicant sees the progress on the timeline.
    page.goto(f"{base}/applications/{reference}/")
    birth = page.locator("[data-case=birth_medical_certificate]")
    assert birth.get_attribute("data-status") == "approved"
    assert BIRTH_CERTIFICATE in birth.inner_text()
    assert int(page.locator("[data-testid=progress]").get_attribute("data-value")) > 0
    hukou = page.locator("[data-case=birth_hukou_registration]")
    assert hukou.get_attribute("data-status") == "ready"
