"""In real Chromium: the mother sees what the departments hold, consents, finds the form filled
in with the records' values read-only, and sees every read under "who used my data"."""

from __future__ import annotations

import re

import pytest

from onething.sharing.services import register_load
from tests.browser.test_apply_journey import sign_in, with_password
from tests.factories import PersonFactory

pytestmark = pytest.mark.browser
LIN = "350203199406121242"


@pytest.fixture
def mother(transactional_db, loaded_catalog, demo_registers):
    register_load(actor="test", registers=demo_registers)
    return with_password(PersonFactory(username="mother", id_number=LIN, real_name="林晓燕"))


def test_consent_then_a_prefilled_form_and_the_record_of_every_read(page, live_server, mother):
    base = live_server.url
    sign_in(page, base, "mother")
    page.goto(f"{base}/apply/newborn/?mother_insured=yes")
    page.click("[data-testid=start]")
    page.wait_for_url(re.compile(r"/data/$"))
    assert page.locator("[data-source=population_register]").count() >= 1
    page.check("[data-testid=data-consent]")
    page.check("[data-testid=data-consent-sensitive]")
    page.click("[data-testid=prefill]")
    page.wait_for_url(re.compile(r"/step/1/$"))
    mother_name = page.locator("input[name='mother.name']")
    assert mother_name.input_value() == "林晓燕"
    assert mother_name.get_attribute("readonly") is not None
    assert page.locator("[data-testid='source-mother.name']").count() == 1

    page.goto(f"{base}/my-data/")
    rows = page.locator("[data-testid=data-uses] tr[data-source]")
    assert rows.count() >= 3
    assert page.locator("tr[data-source=hospital_births][data-outcome=provided]").count() == 1
