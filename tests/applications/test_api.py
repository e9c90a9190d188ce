"""The applications API: the journey through HTTP, and who may call what (every operation)."""

from __future__ import annotations

import pytest
from django.db import transaction

from onething.accounts.auth import token_issue
from onething.accounts.models import Role
from onething.api import api
from onething.applications import services
from onething.catalog.models import Region
from onething.certificates.services import certificate_issue
from onething.notifications.models import Notification
from tests.applications.conftest import PNG, fill_and_attach, valid_value
from tests.downloads import downloaded
from tests.factories import PersonFactory, reviewer, staff_with

pytestmark = pytest.mark.django_db

NEWBORN_ANSWERS = {
    "mother_insured": False,
    "vaccination_certificate_issued": True,
    "apply_social_security_card": False,
}


def bearer(user) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, name='test')}"}


@pytest.fixture
def world(loaded_catalog, applicant):
    """A submitted newborn application of a 思明区 (Xiamen) family, a draft, the body of a
    one-call application, and one user per role."""
    applicant.region = Region.objects.get(code="350203")
    applicant.save(update_fields=["region"])
    submitted = services.application_start(
        actor=applicant, thing_code="newborn", answers=NEWBORN_ANSWERS
    )
    values = fill_and_attach(submitted, applicant)
    services.application_submit(actor=applicant, application=submitted, consent=True)
    draft = services.application_start(
        actor=applicant, thing_code="newborn", answers=NEWBORN_ANSWERS
    )
    users = {
        "anonymous": None,
        "owner": applicant,
        "other_applicant": PersonFactory(),
        "health_reviewer": reviewer("fj_health"),
        "police_reviewer": reviewer("fj_public_security"),
        "clerk": staff_with(Role.WINDOW_CLERK),
        "supervisor": staff_with(Role.SUPERVISOR),
        "administrator": staff_with(Role.ADMINISTRATOR),
        # The health commission's reviewers limited to a region: Xiamen holds 思明区, Fuzhou not.
        "xiamen_health_reviewer": staff_with(
            Role.REVIEWER, department="fj_health", region="350200"
        ),
        "fuzhou_health_reviewer": staff_with(
            Role.REVIEWER, department="fj_health", region="350100"
        ),
        "fuzhou_supervisor": staff_with(Role.SUPERVISOR, region="350100"),
    }
    birth = submitted.cases.get(service__code="birth_medical_certificate")
    certificate = certificate_issue(
        actor="test",
        certificate_type=birth.service.result_certificate_type,
        holder=applicant,
        issuer=birth.department,
        data={"child.name": "林小满"},
        application_reference=submitted.reference,
    )
    return {
        "submitted": submitted,
        "draft": draft,
        "birth": birth,
        "certificate": certificate,
        "notification": Notification.objects.filter(recipient=applicant).first(),
        "one_call": {
            "thing": "newborn",
            "answers": NEWBORN_ANSWERS,
            "form": values,
            "consent": True,
        },
        "users": users,
    }


def call(client, world, role, method, path, body=None, **extra):
    user = world["users"][role]
    headers = bearer(user) if user else {}
    path = path.format(
        ref=world["submitted"].reference,
        draft=world["draft"].reference,
        case=world["birth"].pk,
        certificate=world["certificate"].verification_code,
        notification=world["notification"].pk,
    )
    if method == "get":
        return client.get(path, **headers, **extra)
    if method == "upload":
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post(path, {"file": SimpleUploadedFile("card.png", PNG)}, **headers, **extra)
    return getattr(client, method)(
        path, body or {}, content_type="application/json", **headers, **extra
    )


ROLES = [
    "anonymous",
    "owner",
    "other_applicant",
    "health_reviewer",
    "police_reviewer",
    "clerk",
    "supervisor",
    "administrator",
    "xiamen_health_reviewer",
    "fuzhou_health_reviewer",
    "fuzhou_supervisor",
]
NOBODY_ELSE = [404] * 8  # police reviewer … Fuzhou supervisor, when only an applicant may

# operation -> expected status per role, in the order of ROLES; each call is made against the
# world as the fixture built it (what one role changes is rolled back before the next calls).
ACCESS = {
    ("get", "/api/v1/applications"): [401] + [200] * 10,
    # Staff exports (CSV, masked): a reviewer exports their own queue (the police's is empty),
    # only a supervisor (or an administrator) the record of data use.
    ("get", "/api/v1/exports/cases"): [401, 403, 403, 200, 200, 403, 200, 200, 200, 200, 200],
    ("get", "/api/v1/exports/data-uses"): [401, 403, 403, 403, 403, 403, 200, 200, 403, 403, 200],
    # The supervision dashboard: supervisors (within their scope) and administrators only.
    ("get", "/api/v1/supervision/dashboard"): [401, *[403] * 5, 200, 200, 403, 403, 200],
    # Only applicants apply in one call; they get past the check to the form's (the newborn
    # needs uploads this JSON body cannot carry: 422). The call that succeeds, with the data
    # departments hold read instead, is test_one_call_submit_needs_an_idempotency_key….
    ("post", "/api/v1/applications"): [401, 422, 422] + [403] * 8,
    ("post", "/api/v1/applications/drafts"): [401, 201, 201] + [403] * 8,
    ("get", "/api/v1/applications/{ref}"): [401, 200, 404, *NOBODY_ELSE],
    ("patch", "/api/v1/applications/{draft}/form"): [401, 200, 404, *NOBODY_ELSE],
    ("upload", "/api/v1/applications/{draft}/materials/bank_card"): [401, 422, 404, *NOBODY_ELSE],
    ("post", "/api/v1/applications/{draft}/submit"): [401, 422, 404, *NOBODY_ELSE],
    ("post", "/api/v1/applications/{ref}/withdraw"): [401, 200, 404, *NOBODY_ELSE],
    ("get", "/api/v1/applications/{ref}/supplements"): [401, 200, 404, *NOBODY_ELSE],
    # No notice is open in this world: even the owner finds nothing to answer.
    ("post", "/api/v1/applications/{ref}/supplements/1/answer"): [401, 404, 404, *NOBODY_ELSE],
    # Declared per role: applicants and clerks have no queue.
    ("get", "/api/v1/workbench/cases"): [401, 403, 403, 200, 200, 403, 200, 200, 200, 200, 200],
    # The health commission's case of a Xiamen applicant: its reviewers (all of Fujian, or
    # Xiamen) work it; supervisors over it and administrators read it and may not act (403);
    # for everybody else — the Fuzhou ones included — it does not exist.
    ("get", "/api/v1/workbench/cases/{case}"): [
        401,
        404,
        404,
        200,
        404,
        404,
        200,
        200,
        200,
        404,
        404,
    ],
    ("post", "/api/v1/workbench/cases/{case}/accept"): [
        401,
        404,
        404,
        200,
        404,
        404,
        403,
        403,
        200,
        404,
        404,
    ],
    # The case is not accepted yet: its reviewers are told so (409).
    ("post", "/api/v1/workbench/cases/{case}/approve"): [
        401,
        404,
        404,
        409,
        404,
        404,
        403,
        403,
        409,
        404,
        404,
    ],
    ("post", "/api/v1/workbench/cases/{case}/reject"): [
        401,
        404,
        404,
        409,
        404,
        404,
        403,
        403,
        409,
        404,
        404,
    ],
    ("post", "/api/v1/workbench/cases/{case}/supplement"): [
        401,
        404,
        404,
        409,
        404,
        404,
        403,
        403,
        409,
        404,
        404,
    ],
    ("post", "/api/v1/workbench/cases/{case}/reveal"): [
        401,
        404,
        404,
        200,
        404,
        404,
        403,
        403,
        200,
        404,
        404,
    ],
    ("get", "/api/v1/certificates"): [401] + [200] * 10,
    # Only the issuing department (its reviewers within their region) or an administrator
    # revokes: the Fuzhou health reviewer may not revoke a Xiamen family's certificate.
    ("post", "/api/v1/certificates/{certificate}/revoke"): [
        401,
        403,
        403,
        200,
        403,
        403,
        403,
        200,
        200,
        403,
        403,
    ],
    ("get", "/api/v1/notifications"): [401] + [200] * 10,
    ("get", "/api/v1/me/data-uses"): [401] + [200] * 10,
    ("post", "/api/v1/notifications/{notification}/read"): [401, 200, 404, *NOBODY_ELSE],
}
BODIES = {
    "/api/v1/applications/drafts": {"thing": "newborn", "answers": NEWBORN_ANSWERS},
    "/api/v1/applications/{draft}/form": {"values": {"child.name": "林小满"}},
    "/api/v1/applications/{draft}/submit": {"consent": True},
    "/api/v1/applications/{ref}/withdraw": {"reason": "test"},
    "/api/v1/workbench/cases/{case}/reject": {"reason": "test"},
    "/api/v1/workbench/cases/{case}/reveal": {"field": "mother.id_number"},
    "/api/v1/certificates/{certificate}/revoke": {"reason": "issued in error"},
    "/api/v1/workbench/cases/{case}/supplement": {
        "items": [{"kind": "field", "target": "child.birth_weight", "reason": "不一致"}]
    },
}
HEADERS = {"/api/v1/applications": {"HTTP_IDEMPOTENCY_KEY": "access-table-0001"}}


@pytest.mark.parametrize(
    ("operation", "expected"), list(ACCESS.items()), ids=[f"{m} {p}" for m, p in ACCESS]
)
def test_who_may_call_what(client, world, operation, expected):
    method, path = operation
    body = world["one_call"] if path == "/api/v1/applications" else BODIES.get(path)
    observed = {}
    for role in ROLES:
        with transaction.atomic():
            response = call(client, world, role, method, path, body, **HEADERS.get(path, {}))
            transaction.set_rollback(True)
        observed[role] = response.status_code
    assert observed == dict(zip(ROLES, expected, strict=True))


def test_the_access_table_covers_every_api_operation():
    schema = api.get_openapi_schema()
    public = {
        "/api/v1/things",
        "/api/v1/things/{code}",
        "/api/v1/things/{code}/plan",
        "/api/v1/services",
        "/api/v1/services/{code}",
        "/api/v1/departments",
        "/api/v1/connector/callbacks/{department}",
        "/api/v1/certificates/verify",  # anyone may check a certificate
        "/api/v1/public/service-quality",  # aggregate figures for the public
        # department systems authenticate with their own tokens: tests/sharing/test_exchange.py
        "/api/v1/exchange/query",
    }
    declared = {
        (
            method if method != "post" or "materials" not in path else "upload",
            path.replace("{reference}", "{ref}")
            .replace("{case_id}", "{case}")
            .replace("{number}", "1")
            .replace("{code}", "{certificate}")
            .replace("{notification_id}", "{notification}"),
        )
        for path, operations in schema["paths"].items()
        for method in operations
        # The hotline's and the ratings' operations have their own tables:
        # tests/complaints/test_api.py, tests/ratings/test_api.py.
        if path not in public and not path.startswith(("/api/v1/hotline/", "/api/v1/ratings/"))
    }
    covered = {(m, p.replace("{draft}", "{ref}")) for m, p in ACCESS}
    declared = {
        (m, p.replace("/materials/{material}", "/materials/bank_card")) for m, p in declared
    }
    assert declared <= covered, declared - covered
    assert all(len(expected) == len(ROLES) for expected in ACCESS.values())


def test_an_applicant_never_sees_another_applicants_application_in_a_list(client, world):
    other = world["users"]["other_applicant"]
    body = client.get("/api/v1/applications", **bearer(other)).json()
    assert body["count"] == 0
    owner = client.get("/api/v1/applications", **bearer(world["users"]["owner"])).json()
    assert {a["reference"] for a in owner["items"]} == {
        world["submitted"].reference,
        world["draft"].reference,
    }


def test_a_reviewer_sees_only_their_departments_cases(client, world):
    health = client.get("/api/v1/workbench/cases", **bearer(world["users"]["health_reviewer"]))
    police = client.get("/api/v1/workbench/cases", **bearer(world["users"]["police_reviewer"]))
    assert [i["service"] for i in health.json()["items"]] == ["birth_medical_certificate"]
    assert police.json()["items"] == []  # the hukou case still waits for the birth certificate


def test_the_case_shows_masked_data_and_a_reveal_is_recorded(client, world):
    headers = bearer(world["users"]["health_reviewer"])
    case = client.get(f"/api/v1/workbench/cases/{world['birth'].pk}", **headers).json()
    mother_id = world["users"]["owner"].id_number
    assert case["data"]["mother.id_number"] != mother_id
    assert "*" in case["data"]["mother.id_number"]
    revealed = client.post(
        f"/api/v1/workbench/cases/{world['birth'].pk}/reveal",
        {"field": "mother.id_number"},
        content_type="application/json",
        **headers,
    ).json()
    assert revealed["value"] == mother_id
    assert world["birth"].events.filter(action="value_revealed").count() == 1


def test_the_journey_through_the_api(client, loaded_catalog, applicant):
    headers = bearer(applicant)
    draft = client.post(
        "/api/v1/applications/drafts",
        {"thing": "newborn", "answers": NEWBORN_ANSWERS},
        content_type="application/json",
        **headers,
    ).json()
    reference = draft["reference"]
    plan = services.application_plan(services.Application.objects.get(reference=reference))
    values = {f.element.key: valid_value(f.element, applicant) for f in plan.form if f.asked}
    values["mother.id_number"] = "123"
    saved = client.patch(
        f"/api/v1/applications/{reference}/form",
        {"values": values},
        content_type="application/json",
        **headers,
    ).json()
    assert list(saved["problems"]) == ["form.mother.id_number"]
    values["mother.id_number"] = applicant.id_number
    client.patch(
        f"/api/v1/applications/{reference}/form",
        {"values": values},
        content_type="application/json",
        **headers,
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    for item in services.applicant_materials(plan):
        uploaded = client.post(
            f"/api/v1/applications/{reference}/materials/{item.material.code}",
            {"file": SimpleUploadedFile("x.png", PNG)},
            **headers,
        )
        assert uploaded.status_code == 201, uploaded.content
    submitted = client.post(
        f"/api/v1/applications/{reference}/submit",
        {"consent": True},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="api-journey-1",
        **headers,
    )
    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    assert body["status"] == "submitted"
    assert [c["service"] for c in body["cases"]] == [
        "birth_medical_certificate",
        "birth_hukou_registration",
        "newborn_medical_insurance",
    ]
    again = client.post(
        f"/api/v1/applications/{reference}/submit",
        {"consent": True},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="api-journey-1",
        **headers,
    )
    assert again.status_code == 200

    health = bearer(reviewer("fj_health"))
    case_id = body["cases"][0]["id"]
    client.post(f"/api/v1/workbench/cases/{case_id}/accept", **health)
    refused = client.post(
        f"/api/v1/workbench/cases/{case_id}/approve",
        {"outputs": {}},
        content_type="application/json",
        **health,
    )
    assert refused.status_code == 422
    assert "outputs.child.birth_certificate_number" in refused.json()["fields"]
    approved = client.post(
        f"/api/v1/workbench/cases/{case_id}/approve",
        {"outputs": {"child.birth_certificate_number": "Q350203001"}},
        content_type="application/json",
        **health,
    )
    assert approved.json()["status"] == "approved"
    timeline = client.get(f"/api/v1/applications/{reference}", **headers).json()
    assert timeline["progress"] == 33
    assert timeline["status"] == "in_progress"
    assert any(e["action"] == "approved" for e in timeline["timeline"])


def test_one_call_submit_needs_an_idempotency_key_and_answers_the_same(client, resident_mother):
    applicant = resident_mother
    headers = bearer(applicant)
    draft = services.application_start(
        actor=applicant, thing_code="newborn", answers=NEWBORN_ANSWERS
    )
    plan = services.application_plan(draft)
    form = {f.element.key: valid_value(f.element, applicant) for f in plan.form if f.asked}
    body = {
        "thing": "newborn",
        "answers": NEWBORN_ANSWERS,
        "form": form,
        "consent": True,
        "share_data": True,
        "share_sensitive": True,
    }
    missing_key = client.post(
        "/api/v1/applications", body, content_type="application/json", **headers
    )
    assert missing_key.status_code == 422
    first = client.post(
        "/api/v1/applications",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="one-call-0001",
        **headers,
    )
    # Without maternity benefit or a card, and with the data the departments hold read, nothing
    # needs uploading: one call is enough.
    assert first.status_code == 201, first.content
    second = client.post(
        "/api/v1/applications",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="one-call-0001",
        **headers,
    )
    assert second.status_code == 200
    assert second.json()["reference"] == first.json()["reference"]
    changed = client.post(
        "/api/v1/applications",
        {**body, "consent": False},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="one-call-0001",
        **headers,
    )
    assert changed.status_code == 422
    assert "Idempotency-Key" in changed.json()["fields"]


def test_a_revoked_or_wrong_token_is_refused(client, loaded_catalog, applicant):
    assert (
        client.get("/api/v1/applications", HTTP_AUTHORIZATION="Bearer ot_nope.nope").status_code
        == 401
    )
    token = token_issue(user=applicant, name="t")
    from django.utils import timezone

    from onething.accounts.models import ApiToken

    ApiToken.objects.update(revoked_at=timezone.now())
    assert (
        client.get("/api/v1/applications", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    )


def test_a_supervisor_reads_the_babys_id_number_masked_through_the_api(client, world):
    from onething.core.masking import mask
    from tests.factories import make_ric

    health, police = world["users"]["health_reviewer"], reviewer("fj_public_security")
    services.case_accept(actor=health, case=world["birth"])
    services.case_approve(
        actor=health, case=world["birth"], outputs={"child.birth_certificate_number": "Q1"}
    )
    hukou = world["submitted"].cases.get(service__code="birth_hukou_registration")
    services.case_accept(actor=police, case=hukou)
    child_id = make_ric()
    services.case_approve(actor=police, case=hukou, outputs={"child.id_number": child_id})
    insurance = world["submitted"].cases.get(service__code="newborn_medical_insurance")
    supervisor = bearer(world["users"]["supervisor"])
    for case in (hukou, insurance):
        response = client.get(f"/api/v1/workbench/cases/{case.pk}", **supervisor)
        assert response.status_code == 200
        assert child_id not in downloaded(response).decode()
        assert mask(child_id) in downloaded(response).decode()
    # The department's reviewer reveals the result; the reveal is recorded like a form value's.
    revealed = client.post(
        f"/api/v1/workbench/cases/{hukou.pk}/reveal",
        {"field": "child.id_number", "output_of": hukou.pk},
        content_type="application/json",
        **bearer(police),
    )
    assert revealed.status_code == 200 and revealed.json()["value"] == child_id
    assert hukou.events.filter(action="value_revealed").count() == 1


RESTAURANT_ANSWERS = {"floor_area": "30", "has_signboard": "no", "sells_tobacco": "yes"}


def test_an_agent_of_one_enterprise_cannot_apply_in_anothers_name(client, loaded_catalog):
    from tests.factories import enterprise_with_agent

    agent = PersonFactory()
    mine = enterprise_with_agent(agent)
    other = enterprise_with_agent(PersonFactory(), name="厦门别家餐饮有限公司")
    application = services.application_start(
        actor=agent,
        thing_code="open_restaurant",
        answers=RESTAURANT_ANSWERS,
        enterprise_uscc=mine.uscc,
    )
    assert application.form_data["enterprise.uscc"] == mine.uscc
    fill_and_attach(application, agent)
    headers = bearer(agent)
    saved = client.patch(
        f"/api/v1/applications/{application.reference}/form",
        {"values": {"enterprise.uscc": other.uscc}},
        content_type="application/json",
        **headers,
    ).json()
    assert "form.enterprise.uscc" in saved["problems"]

    refused = client.post(
        f"/api/v1/applications/{application.reference}/submit",
        {"consent": True},
        content_type="application/json",
        **headers,
    )
    assert refused.status_code == 422
    assert "form.enterprise.uscc" in refused.json()["fields"]
    application.refresh_from_db()
    assert application.status == "draft" and not application.cases.exists()

    # With its own code again, the same agent submits.
    client.patch(
        f"/api/v1/applications/{application.reference}/form",
        {"values": {"enterprise.uscc": mine.uscc}},
        content_type="application/json",
        **headers,
    )
    submitted = client.post(
        f"/api/v1/applications/{application.reference}/submit",
        {"consent": True},
        content_type="application/json",
        **headers,
    )
    assert submitted.status_code == 200, submitted.json()


def _submit(client, application, headers, *, key: str, consent: bool = True):
    return client.post(
        f"/api/v1/applications/{application.reference}/submit",
        {"consent": consent},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
        **headers,
    )


def _filled_draft(applicant):
    draft = services.application_start(
        actor=applicant, thing_code="newborn", answers=NEWBORN_ANSWERS
    )
    fill_and_attach(draft, applicant)
    return draft


def test_submitting_again_with_the_same_key_but_another_body_is_refused(
    client, loaded_catalog, applicant
):
    headers = bearer(applicant)
    draft = _filled_draft(applicant)
    first = _submit(client, draft, headers, key="submit-key-1")
    assert first.status_code == 200
    again = _submit(client, draft, headers, key="submit-key-1")
    assert again.status_code == 200 and again.json()["reference"] == draft.reference

    changed = _submit(client, draft, headers, key="submit-key-1", consent=False)
    assert changed.status_code == 422
    assert "Idempotency-Key" in changed.json()["fields"]
    draft.refresh_from_db()
    assert draft.status == "submitted" and draft.consent_given_at is not None


def test_a_key_used_for_one_application_is_refused_for_another_draft(
    client, loaded_catalog, applicant
):
    headers = bearer(applicant)
    first, second = _filled_draft(applicant), _filled_draft(applicant)
    assert _submit(client, first, headers, key="submit-key-2").status_code == 200
    reused = _submit(client, second, headers, key="submit-key-2")
    assert reused.status_code == 422
    assert "idempotency_key" in reused.json()["fields"]
    second.refresh_from_db()
    assert second.status == "draft" and not second.cases.exists()
