"""The certificates API: public verification, the wallet, revocation, and bad input."""

from __future__ import annotations

import pytest

from onething.accounts.auth import token_issue
from onething.certificates import codes
from tests.factories import PersonFactory, enterprise_with_agent

pytestmark = pytest.mark.django_db

VERIFY = "/api/v1/certificates/verify"


def bearer(user) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, name='test')}"}


def post(client, path, body, user=None):
    headers = bearer(user) if user else {}
    return client.post(path, body, content_type="application/json", **headers)


def test_anyone_can_verify_a_code_and_sees_only_masked_details(client, issue, holder):
    certificate = issue(holder)
    response = post(client, VERIFY, {"code": certificate.verification_code.lower()})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "valid"
    assert (body["genuine"], body["unaltered"], body["revoked"]) == (True, True, False)
    shown = body["certificate"]
    assert shown["number"] == certificate.number
    assert shown["holder_name"] == "林*燕"
    assert shown["type"] == "birth_medical_certificate"
    assert shown["issuer"] == "fj_health"
    assert holder.id_number not in response.content.decode()
    assert "林小燕" not in response.content.decode()


def test_a_pasted_token_verifies_and_a_changed_one_does_not(client, issue, holder):
    certificate = issue(holder)
    assert post(client, VERIFY, {"jws": certificate.jws}).json()["status"] == "valid"
    token = certificate.jws
    for position in range(0, len(token), 7):
        replacement = "A" if token[position] != "A" else "B"
        changed = token[:position] + replacement + token[position + 1 :]
        response = post(client, VERIFY, {"jws": changed})
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "invalid", position
        assert body["certificate"] is None
        assert body["reasons"]


def test_an_unknown_code_is_unknown_not_an_error(client, db):
    response = post(client, VERIFY, {"code": codes.new_code()})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "unknown"
    assert body["certificate"] is None
    assert body["reasons"][0]["code"] == "no_such_certificate"


def test_a_revoked_certificate_is_reported_revoked(client, issue, holder, people):
    certificate = issue(holder)
    path = f"/api/v1/certificates/{certificate.verification_code}/revoke"
    response = post(client, path, {"reason": "issued in error"}, people["health_reviewer"])
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    body = post(client, VERIFY, {"code": certificate.verification_code}).json()
    assert body["status"] == "revoked"
    assert body["certificate"]["status"] == "revoked"
    assert body["certificate"]["revoked_at"]
    again = post(client, path, {"reason": "again"}, people["health_reviewer"])
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("health_reviewer", 200),
        ("administrator", 200),
        ("police_reviewer", 403),
        ("clerk", 403),
        ("applicant", 403),
        ("holder", 403),
        (None, 401),
    ],
)
def test_only_the_issuer_or_an_administrator_may_revoke_through_the_api(
    client, issue, holder, people, who, status
):
    certificate = issue(holder)
    user = {**people, "holder": holder}.get(who) if who else None
    path = f"/api/v1/certificates/{certificate.verification_code}/revoke"
    response = post(client, path, {"reason": "error"}, user)
    assert response.status_code == status
    certificate.refresh_from_db()
    assert certificate.status == ("revoked" if status == 200 else "valid")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "code"),
        ({"code": "", "jws": ""}, "code"),
        ({"code": "7K3Q-XZ0M-PA4N", "jws": "a.b.c"}, "jws"),
        ({"code": "ABC"}, "code"),
        ({"code": "7K3Q-XZ0M-PA4M"}, "code"),
        ({"code": 12}, "code"),
        ({"code": "A" * 65}, "code"),
        ({"jws": ["a"]}, "jws"),
    ],
)
def test_bad_input_to_verify_names_the_field(client, db, body, field):
    response = post(client, VERIFY, body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["code"] == "invalid_input"
    assert field in payload["fields"]


def test_a_body_that_is_not_json_is_a_clear_400(client, db):
    response = client.post(VERIFY, "{", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("code", "body", "status", "field"),
    [
        ("VALID", {}, 422, "reason"),
        ("VALID", {"reason": ""}, 422, "reason"),
        ("VALID", {"reason": "x" * 2001}, 422, "reason"),
        ("VALID", {"reason": 5}, 422, "reason"),
        ("ABC", {"reason": "error"}, 404, "code"),
        ("UNKNOWN", {"reason": "error"}, 404, None),
    ],
)
def test_bad_input_to_revoke_names_the_field(
    client, issue, holder, people, code, body, status, field
):
    certificate = issue(holder)
    code = {"VALID": certificate.verification_code, "UNKNOWN": codes.new_code()}.get(code, code)
    response = post(client, f"/api/v1/certificates/{code}/revoke", body, people["administrator"])
    assert response.status_code == status
    if field:
        assert field in response.json()["fields"]
    if status == 404:
        assert response.json()["code"] == "not_found"


def test_the_wallet_lists_only_the_callers_certificates(client, issue, holder):
    stranger = PersonFactory()
    own = issue(holder)
    issue(stranger)
    company = issue(stranger, holder_enterprise=enterprise_with_agent(holder))
    response = client.get("/api/v1/certificates", **bearer(holder))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    by_code = {item["verification_code"]: item for item in body["items"]}
    assert set(by_code) == {own.verification_code, company.verification_code}
    item = by_code[own.verification_code]
    assert item["holder_name"] == "林小燕"
    assert item["holder_id_number"] != holder.id_number
    assert item["holder_id_number"].startswith(holder.id_number[:4])
    assert item["jws"] == own.jws
    assert item["verify_url"].endswith(f"/verify/{own.verification_code}")
    assert by_code[company.verification_code]["holder_kind"] == "enterprise"
    assert client.get("/api/v1/certificates", **bearer(stranger)).json()["count"] == 1


def test_the_wallet_needs_a_signed_in_caller(client, db):
    assert client.get("/api/v1/certificates").status_code == 401


def test_the_wallet_link_uses_the_public_url_when_it_is_set(client, issue, holder, settings):
    settings.ONETHING_PUBLIC_URL_CONFIGURED = True
    settings.ONETHING_PUBLIC_URL = "https://onething.example.cn/"
    certificate = issue(holder)
    item = client.get("/api/v1/certificates", **bearer(holder)).json()["items"][0]
    assert item["verify_url"] == (
        f"https://onething.example.cn/verify/{certificate.verification_code}"
    )


def test_jwks_lists_active_and_retired_keys(client, issue, holder):
    from onething.certificates import services
    from onething.core.actors import SystemActor

    old = issue(holder)
    new_kid = services.signing_key_rotate(actor=SystemActor("test"))
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    keys = response.json()["keys"]
    assert [k["kid"] for k in keys] == [new_kid, old.kid]
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in keys)
