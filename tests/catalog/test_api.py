"""The catalog API through Django's test client, in both languages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}


def first_answers(thing: dict) -> dict:
    """A valid answer to every question: yes, the first option, or the minimum."""
    answers = {}
    for question in thing["questions"]:
        if question["type"] == "yes_no":
            answers[question["key"]] = True
        elif question["type"] == "choice":
            answers[question["key"]] = question["options"][0]["value"]
        else:
            answers[question["key"]] = question["min"] if question["min"] is not None else 1
    return answers


def test_things_are_listed_and_filtered_by_audience(client, loaded_catalog):
    everything = client.get("/api/v1/things", **EN).json()
    assert everything["count"] == len(loaded_catalog.things) == len(everything["items"])
    persons = client.get("/api/v1/things?audience=person", **EN).json()
    assert persons["count"] >= 3
    assert {item["audience"] for item in persons["items"]} == {"person"}
    assert {"code", "name", "audience"} <= set(persons["items"][0])


def test_things_are_searched_by_name_in_either_language(client, loaded_catalog):
    chinese = client.get("/api/v1/things", {"audience": "person", "q": "出生"}, **ZH).json()
    assert [item["code"] for item in chinese["items"]] == ["newborn"]
    assert "出生" in chinese["items"][0]["name"]
    english = client.get("/api/v1/things", {"q": "restaurant"}, **EN).json()
    assert [item["code"] for item in english["items"]] == ["open_restaurant"]
    assert "restaurant" in english["items"][0]["name"].lower()


def test_a_thing_comes_with_its_questions_in_the_requested_language(client, loaded_catalog):
    english = client.get("/api/v1/things/newborn", **EN).json()
    chinese = client.get("/api/v1/things/newborn", **ZH).json()
    assert english["code"] == "newborn"
    assert english["questions"], "the newborn thing asks situation questions"
    question = english["questions"][0]
    assert {"key", "type", "label", "options"} <= set(question)
    assert english["name"] == loaded_catalog.things["newborn"].name.en
    assert chinese["name"] == loaded_catalog.things["newborn"].name.zh
    assert english["questions"][0]["label"] != chinese["questions"][0]["label"]


def test_an_unknown_thing_is_a_json_404(client, loaded_catalog):
    response = client.get("/api/v1/things/no_such_thing", **EN)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    response = client.post(
        "/api/v1/things/no_such_thing/plan", {"answers": {}}, content_type="application/json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "code",
    [
        "newborn",
        "open_restaurant",
        "retirement",
        "after_death",
        "home_transfer",
        "enterprise_change",
    ],
)
def test_every_demo_thing_plans_through_the_api(client, loaded_catalog, code):
    thing = client.get(f"/api/v1/things/{code}", **EN).json()
    response = client.post(
        f"/api/v1/things/{code}/plan",
        {"answers": first_answers(thing)},
        content_type="application/json",
        **EN,
    )
    assert response.status_code == 200, response.content
    plan = response.json()
    assert set(plan) >= {
        "thing",
        "members",
        "stages",
        "form",
        "materials",
        "fees",
        "promised_days",
        "trips",
        "reductions",
    }
    assert plan["members"] and plan["stages"]
    assert plan["trips"] == {"online": 0, "window": 1}
    keys = [f["key"] for f in plan["form"]]
    assert len(keys) == len(set(keys))
    assert set(plan["reductions"]) == {"materials", "fields", "days", "trips"}
    assert plan["reductions"]["days"]["together"] == plan["promised_days"]


def test_plan_names_come_in_the_requested_language(client, loaded_catalog):
    thing = client.get("/api/v1/things/newborn", **EN).json()
    body = {"answers": first_answers(thing)}
    english = client.post(
        "/api/v1/things/newborn/plan", body, content_type="application/json", **EN
    ).json()
    chinese = client.post(
        "/api/v1/things/newborn/plan", body, content_type="application/json", **ZH
    ).json()
    first = english["members"][0]["service"]
    service = loaded_catalog.services[first]
    assert english["members"][0]["name"] == service.name.en
    assert chinese["members"][0]["name"] == service.name.zh


def test_wrong_answers_are_named_one_by_one_in_the_users_language(client, loaded_catalog):
    thing = client.get("/api/v1/things/open_restaurant", **EN).json()
    number = next(q for q in thing["questions"] if q["type"] == "number")
    choice_or_yes_no = next(q for q in thing["questions"] if q["type"] != "number")
    answers = first_answers(thing)
    answers[number["key"]] = "lots"
    del answers[choice_or_yes_no["key"]]
    answers["favourite_colour"] = "red"
    english = client.post(
        "/api/v1/things/open_restaurant/plan",
        {"answers": answers},
        content_type="application/json",
        **EN,
    )
    assert english.status_code == 422
    body = english.json()
    assert body["code"] == "invalid_input"
    assert set(body["fields"]) == {
        f"answers.{number['key']}",
        f"answers.{choice_or_yes_no['key']}",
        "answers.favourite_colour",
    }
    assert "must be a number" in body["fields"][f"answers.{number['key']}"]
    assert "must be answered" in body["fields"][f"answers.{choice_or_yes_no['key']}"]
    chinese = client.post(
        "/api/v1/things/open_restaurant/plan",
        {"answers": answers},
        content_type="application/json",
        **ZH,
    ).json()
    assert "数字" in chinese["fields"][f"answers.{number['key']}"]


def test_a_malformed_body_is_a_422_naming_the_field(client, loaded_catalog):
    response = client.post(
        "/api/v1/things/newborn/plan",
        {"answers": ["not", "a", "mapping"]},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "answers" in response.json()["fields"]
    response = client.post(
        "/api/v1/things/newborn/plan", "{not json", content_type="application/json"
    )
    assert response.status_code in (400, 422)


def test_services_and_a_guide(client, loaded_catalog):
    services = client.get("/api/v1/services", **EN).json()
    assert services["count"] == len(loaded_catalog.services)
    code = next(iter(loaded_catalog.things["newborn"].members)).service
    guide = client.get(f"/api/v1/services/{code}", **EN).json()
    definition = loaded_catalog.services[code]
    assert guide["name"] == definition.name.en
    assert guide["legal_basis"] == definition.legal_basis.en
    assert guide["promised_days"] == definition.promised_days
    assert [f["key"] for f in guide["fields"]] == [f.element for f in definition.fields]
    assert "newborn" in guide["things"]
    assert client.get("/api/v1/services/nope").status_code == 404


def test_departments(client, loaded_catalog):
    body = client.get("/api/v1/departments", **ZH).json()
    assert body["count"] == len(loaded_catalog.departments) >= 10
    assert all(item["name"] == item["name_zh"] for item in body["items"])


def test_openapi_and_docs_are_served(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/things/{code}/plan" in schema["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"cdn." not in docs.content, "the docs page must not load anything from a CDN"


def test_nul_characters_are_refused_not_crashed_on(client, loaded_catalog):
    for url in ("/api/v1/things?q=%00", "/api/v1/things/a%00b", "/?q=%00", "/services/?q=a%00"):
        response = client.get(url)
        assert response.status_code == 400, url


def test_a_wrong_method_is_a_json_405(client):
    response = client.delete("/api/v1/things")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_one_wrong_field_gives_one_message(client, loaded_catalog):
    response = client.post(
        "/api/v1/things/newborn/plan",
        {"answers": {"mother_insured": {"a": 1}}},
        content_type="application/json",
        **EN,
    )
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["answers.mother_insured"]


def test_a_body_that_is_not_json_gets_a_stable_code(client, loaded_catalog):
    response = client.post(
        "/api/v1/things/newborn/plan", "not json", content_type="application/json", **ZH
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_chinese_yes_and_no_are_understood_and_exact_numbers_echoed(client, loaded_catalog):
    plan = client.post(
        "/api/v1/things/open_restaurant/plan",
        {"answers": {"floor_area": "50.000001", "has_signboard": "否"}},
        content_type="application/json",
    ).json()
    assert plan["answers"] == {
        "floor_area": "50.000001",
        "has_signboard": False,
        "sells_tobacco": False,
    }
    assert "fire_safety_inspection" in [m["service"] for m in plan["members"]]


def test_an_empty_audience_filter_means_everything(client, loaded_catalog):
    body = client.get("/api/v1/things?audience=").json()
    assert body["count"] == len(loaded_catalog.things)


def test_stages_say_when_they_are_done_in_step_with_the_total(client, loaded_catalog):
    plan = client.post(
        "/api/v1/things/newborn/plan",
        {"answers": {"mother_insured": True}},
        content_type="application/json",
    ).json()
    assert [s["finish_day"] for s in plan["stages"]] == [1, 5, 5]
    assert max(s["finish_day"] for s in plan["stages"]) == plan["promised_days"]


def test_a_nul_character_in_a_json_body_is_refused(client, loaded_catalog):
    response = client.post(
        "/api/v1/things/newborn/plan",
        '{"answers": {"mother_insured": "yes\\u0000"}}',
        content_type="application/json",
    )
    assert response.status_code == 400


def test_the_api_follows_accept_language_even_with_a_portal_cookie(client, loaded_catalog):
    client.cookies["onething_language"] = "zh-hans"
    english = client.get("/api/v1/things/newborn", **EN).json()
    assert english["name"] == loaded_catalog.things["newborn"].name.en


def test_a_missing_answer_says_what_is_allowed(client, loaded_catalog):
    body = client.post(
        "/api/v1/things/after_death/plan", {"answers": {}}, content_type="application/json", **EN
    ).json()
    assert "natural" in body["fields"]["answers.death_cause"]
