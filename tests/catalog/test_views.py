"""Portal pages through Django's test client, in both languages."""

from __future__ import annotations

import html
from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}


def answers_for(catalog, code: str) -> dict[str, str]:
    answers = {}
    for question in catalog.things[code].questions:
        if question.type.value == "yes_no":
            answers[question.key] = "yes"
        elif question.type.value == "choice":
            answers[question.key] = question.options[0].value
        else:
            answers[question.key] = str(question.min if question.min is not None else 1)
    return answers


def text(response) -> str:
    """The page with HTML entities resolved, as a reader sees it."""
    return html.unescape(response.content.decode())


def test_home_groups_things_for_persons_and_enterprises(client, loaded_catalog):
    english = text(client.get("/", **EN))
    assert "For individuals" in english and "For enterprises" in english
    for thing in loaded_catalog.things.values():
        assert thing.name.en in english
    chinese = text(client.get("/", **ZH))
    assert "For individuals" not in chinese and "For enterprises" not in chinese
    for thing in loaded_catalog.things.values():
        assert thing.name.zh in chinese
    assert 'lang="zh-Hans"' in chinese and 'lang="en"' in english


def test_home_search_finds_by_name(client, loaded_catalog):
    page = text(client.get("/", {"q": "出生"}, **ZH))
    assert loaded_catalog.things["newborn"].name.zh in page
    assert loaded_catalog.things["open_restaurant"].name.zh not in page


def test_the_thing_page_shows_questions_and_no_plan_before_answers(client, loaded_catalog):
    thing = loaded_catalog.things["newborn"]
    page = text(client.get("/things/newborn/", **EN))
    for question in thing.questions:
        assert question.label.en in page
    assert "Your plan appears here" in page
    assert 'data-testid="plan"' not in page


def test_the_thing_page_shows_the_plan_for_complete_answers(client, loaded_catalog):
    answers = answers_for(loaded_catalog, "newborn")
    page = text(client.get("/things/newborn/", answers, **EN))
    assert 'data-testid="plan"' in page
    for member in loaded_catalog.things["newborn"].members[:1]:
        assert loaded_catalog.services[member.service].name.en in page
    assert "Print the one-time notification" in page


def test_htmx_gets_the_plan_fragment_and_the_page_address(client, loaded_catalog):
    answers = answers_for(loaded_catalog, "newborn")
    response = client.get("/things/newborn/plan/", answers, HTTP_HX_REQUEST="true", **EN)
    assert response.status_code == 200
    assert "<html" not in text(response)
    assert 'data-testid="plan"' in text(response)
    assert response["HX-Replace-Url"] == "/things/newborn/?" + urlencode(answers)


def test_a_wrong_answer_is_shown_next_to_its_question(client, loaded_catalog):
    thing = loaded_catalog.things["open_restaurant"]
    number = next(q for q in thing.questions if q.type.value == "number")
    answers = answers_for(loaded_catalog, "open_restaurant")
    answers[number.key] = "lots"
    page = text(client.get("/things/open_restaurant/", answers, **EN))
    assert "must be a number" in page
    assert "Please check your answers" in page
    fragment = text(
        client.get("/things/open_restaurant/plan/", answers, HTTP_HX_REQUEST="true", **EN)
    )
    assert f'id="error-{number.key}" role="alert" hx-swap-oob="true">' in fragment


def test_the_notice_is_printable_and_complete(client, loaded_catalog):
    answers = answers_for(loaded_catalog, "newborn")
    response = client.get("/things/newborn/notice/", answers, **ZH)
    assert response.status_code == 200
    page = text(response)
    assert "print.css" in page and 'data-testid="notice"' in page
    assert "一次性告知" in page
    thing = loaded_catalog.things["newborn"]
    assert thing.name.zh in page


def test_the_notice_without_answers_goes_back_to_the_questions(client, loaded_catalog):
    response = client.get("/things/newborn/notice/")
    assert response.status_code == 302
    assert response["Location"] == "/things/newborn/"


def test_a_service_guide(client, loaded_catalog):
    code = loaded_catalog.things["newborn"].members[0].service
    service = loaded_catalog.services[code]
    page = text(client.get(f"/services/{code}/", **EN))
    assert service.name.en in page and service.legal_basis.en in page
    listing = text(client.get("/services/", **ZH))
    assert service.name.zh in listing


def test_unknown_thing_and_service_pages_are_404(client, loaded_catalog):
    assert client.get("/things/nope/").status_code == 404
    assert client.get("/services/nope/").status_code == 404


def test_the_language_switch_remembers_the_choice(client, loaded_catalog):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = text(client.get("/"))
    assert loaded_catalog.things["newborn"].name.en in page


def test_a_service_promised_within_the_day_says_so(client, loaded_catalog):
    answers = answers_for(loaded_catalog, "newborn")
    assert loaded_catalog.services["newborn_medical_insurance"].promised_days == 0
    assert "same day" in text(client.get("/things/newborn/", answers, **EN))
    assert "即办" in text(client.get("/things/newborn/", answers, **ZH))
    assert "5 working days" in text(client.get("/things/newborn/", answers, **EN))
