"""An applicant answers the newborn questions in real Chromium and sees the plan change."""

from __future__ import annotations

import pytest

from onething.catalog.planning import plan

pytestmark = pytest.mark.browser


@pytest.fixture
def live_catalog(transactional_db, demo_catalog, live_server):
    from onething.catalog.services import catalog_load

    catalog_load(actor="test", catalog=demo_catalog)
    return live_server.url


def answer(page, question, value: str) -> None:
    if question.type.value == "number":
        page.fill(f"#q-{question.key}", value)
        page.press(f"#q-{question.key}", "Tab")
    else:
        page.check(f"input[name='{question.key}'][value='{value}']")


def wait_for_members(page, codes: list[str]) -> bool:
    """Wait until the plan on the page lists exactly these members, in this order."""
    page.wait_for_function(
        """codes => JSON.stringify(
            [...document.querySelectorAll('#plan .member')].map(n => n.dataset.service)
        ) === JSON.stringify(codes)""",
        arg=codes,
    )
    return True


def test_the_newborn_plan_follows_the_answers(page, live_catalog, demo_catalog):
    thing = demo_catalog.things["newborn"]
    page.goto(f"{live_catalog}/things/newborn/")
    assert page.locator("h1").inner_text() == thing.name.en
    assert page.locator("[data-testid=plan]").count() == 0

    answers: dict[str, str] = {}
    for question in thing.questions:
        if question.type.value == "yes_no":
            value = "yes"
        elif question.type.value == "choice":
            value = question.options[0].value
        else:
            value = str(question.min if question.min is not None else 1)
        answers[question.key] = value
        answer(page, question, value)

    expected = plan(demo_catalog.bundle("newborn"), answers)
    assert wait_for_members(page, [m.code for m in expected.members])
    assert (
        page.locator("[data-testid=promised-days]")
        .inner_text()
        .startswith(str(expected.promised_days))
    )
    # The address bar follows the answers, so the plan can be reloaded and shared.
    assert all(f"{k}=" in page.url for k in answers)

    # Change a yes/no answer: the plan is recomputed in place.
    yes_no = [q for q in thing.questions if q.type.value == "yes_no"]
    if yes_no:
        flipped = {**answers, yes_no[0].key: "no"}
        expected_after = plan(demo_catalog.bundle("newborn"), flipped)
        answer(page, yes_no[0], "no")
        assert wait_for_members(page, [m.code for m in expected_after.members])
        assert len(expected_after.members) != len(expected.members)

    page.click("[data-testid=notice-link]")
    page.wait_for_selector("[data-testid=notice]")
    assert "One-time notification" in page.locator("h1").inner_text()
