"""Signing in and out through the pages, with django-axes locking out repeated failures."""

from __future__ import annotations

import html

import pytest

from onething.core.masking import mask
from tests.factories import PersonFactory, make_ric, reviewer

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}
PASSWORD = "pw-person-1234"  # what tests.factories sets


def text(response) -> str:
    return html.unescape(response.content.decode())


def with_password(user):
    # The factories set the password after saving and never save again: store it.
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def person(db):
    return with_password(PersonFactory(username="lin", id_number=make_ric()))


def sign_in(client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password}, **EN)


def test_the_sign_in_page_shows_a_form_in_both_languages(client):
    english = text(client.get("/accounts/login/", **EN))
    assert 'name="username"' in english and 'name="password"' in english
    assert "Sign in" in english and 'lang="en"' in english
    chinese = client.get("/accounts/login/", **ZH)
    assert chinese.status_code == 200 and 'lang="zh-Hans"' in text(chinese)


def test_an_applicant_signs_in_and_lands_on_their_applications(client, person):
    response = sign_in(client, "lin", PASSWORD)
    assert response.status_code == 302 and response.url == "/applications/"
    page = text(client.get("/applications/", **EN))
    assert person.real_name in page and "My applications" in page and "Sign out" in page


def test_a_reviewer_signs_in_and_lands_on_the_workbench(client, loaded_catalog):
    staff = with_password(reviewer("fj_health", username="reviewer-health"))
    response = sign_in(client, "reviewer-health", PASSWORD)
    assert response.status_code == 302 and response.url == "/workbench/"
    assert "Workbench" in text(client.get("/workbench/", **EN))
    assert staff.pk == int(client.session["_auth_user_id"])


def test_signing_in_goes_back_to_the_page_asked_for(client, person):
    response = client.post(
        "/accounts/login/",
        {"username": "lin", "password": PASSWORD, "next": "/apply/newborn/?mother_insured=yes"},
        **EN,
    )
    assert response.url == "/apply/newborn/?mother_insured=yes"


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(client, person):
    response = sign_in(client, "lin", "not-the-password")
    page = text(response)
    assert response.status_code == 200
    assert "The username or password is wrong" in page
    assert 'value="lin"' in page  # the username is kept
    assert "_auth_user_id" not in client.session


def test_five_failures_pause_signing_in_with_a_clear_message(client, person):
    for _attempt in range(4):
        assert sign_in(client, "lin", "wrong").status_code == 200
    locked = sign_in(client, "lin", "wrong")
    assert locked.status_code == 429
    assert "Signing in is paused" in text(locked)
    assert "Try again in 15 minutes" in text(locked)
    # Even the right password is refused while the pause lasts, with the same page.
    again = sign_in(client, "lin", PASSWORD)
    assert again.status_code == 429
    assert "Signing in is paused" in text(again) and 'name="password"' in text(again)
    assert "_auth_user_id" not in client.session


def test_signing_out_needs_a_post_and_ends_the_session(client, person):
    sign_in(client, "lin", PASSWORD)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/", **EN)
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/applications/").status_code == 302


def test_the_account_page_masks_the_id_number(client, person):
    sign_in(client, "lin", PASSWORD)
    page = text(client.get("/accounts/", **EN))
    assert person.id_number not in page
    assert mask(person.id_number) in page


def test_the_header_offers_sign_in_to_visitors(client, loaded_catalog):
    page = text(client.get("/", **EN))
    assert 'href="/accounts/login/?next=/"' in page and "Sign out" not in page
