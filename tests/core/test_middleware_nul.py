"""NUL characters are refused wherever they can arrive; the text "%00" in JSON is just text."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_json_body_with_the_text_percent_zero_zero_is_not_a_nul(client, loaded_catalog):
    response = client.post(
        "/api/v1/things/newborn/plan",
        {"answers": {"mother_insured": "%00"}},
        content_type="application/json",
    )
    assert response.status_code != 400 or "NUL" not in response.content.decode()


def test_an_escaped_nul_in_json_and_a_percent_nul_in_a_form_are_refused(client, loaded_catalog):
    escaped = client.post(
        "/api/v1/things/newborn/plan",
        '{"answers": {"mother_insured": "a\\u0000b"}}',
        content_type="application/json",
    )
    assert escaped.status_code == 400
    form = client.post(
        "/accounts/login/",
        "username=a%00b&password=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 400
