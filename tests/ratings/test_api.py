"""The ratings API: who may call what (every operation), and errors in the user's language."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from onething.accounts.auth import token_issue
from onething.api import api
from onething.core.actors import WORKER
from onething.ratings import services
from onething.ratings.services import DepartmentStars

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "owner",
    "other",
    "health",
    "cdc",
    "police",
    "fuzhou_health",
    "xiamen_supervisor",
    "fuzhou_supervisor",
    "unit_member",
]


def bearer(user) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, name='test')}"}


@pytest.fixture
def world(people, finished, closed_ticket, unit_member):
    """The applicant rated the application badly (the health commission's rectification is
    overdue and escalated) and the closed complaint well."""
    applicant = people["applicant"]
    rating = services.rating_submit(
        actor=applicant,
        application=finished,
        stars=2,
        departments=[DepartmentStars("fj_health", 1, ["repeated_trips"])],
        comment="窗口电话13959211234一直没人接",
    )
    rectification = rating.rectifications.get()
    later = timezone.make_aware(
        dt.datetime.combine(rectification.due_date + dt.timedelta(days=1), dt.time(12))
    )
    services.rectification_sweep(actor=WORKER, now=later)
    services.rating_submit(actor=applicant, ticket=closed_ticket, stars=4, reasons=["efficient"])
    users = {
        "anonymous": None,
        "owner": applicant,
        "other": people["other"],
        "health": people["health"],
        "cdc": people["cdc"],
        "police": people["police"],
        "fuzhou_health": people["fuzhou_health"],
        "xiamen_supervisor": people["xiamen_supervisor"],
        "fuzhou_supervisor": people["fuzhou_supervisor"],
        "unit_member": unit_member,
    }
    return {
        "application": finished,
        "ticket": closed_ticket,
        "rectification": rectification,
        "users": users,
    }


NOBODY_ELSE = [404] * 8
ACCESS = {
    ("get", "/api/v1/ratings/reasons"): [200] * 10,
    ("get", "/api/v1/ratings/applications/{ref}"): [401, 200, *NOBODY_ELSE],
    ("post", "/api/v1/ratings/applications/{ref}"): [401, 200, *NOBODY_ELSE],
    ("put", "/api/v1/ratings/applications/{ref}"): [401, 200, *NOBODY_ELSE],
    ("get", "/api/v1/ratings/tickets/{ticket}"): [401, 200, *NOBODY_ELSE],
    ("post", "/api/v1/ratings/tickets/{ticket}"): [401, 200, *NOBODY_ELSE],
    ("put", "/api/v1/ratings/tickets/{ticket}"): [401, 200, *NOBODY_ELSE],
    ("get", "/api/v1/ratings/rectifications"): [401] + [200] * 9,
    # The rater, the health commission's reviewers over the family's region, and (escalated)
    # the supervisors over it read it; the Fuzhou ones and the other departments do not.
    ("get", "/api/v1/ratings/rectifications/{rect}"): [
        401, 200, 404, 200, 404, 404, 404, 200, 404, 404,
    ],
    # Only the department answers; the rater and the supervisor who read it are refused.
    ("post", "/api/v1/ratings/rectifications/{rect}/answer"): [
        401, 403, 404, 200, 404, 404, 404, 403, 404, 404,
    ],
    # Nothing is answered yet: the rater is told so (409).
    ("post", "/api/v1/ratings/rectifications/{rect}/settle"): [
        401, 409, 404, 404, 404, 404, 404, 404, 404, 404,
    ],
    # Only the supervisors it is escalated to send it back or close it; its rater and its
    # department, who read it, are refused; to anybody else it does not exist.
    ("post", "/api/v1/ratings/rectifications/{rect}/send-back"): [
        401, 403, 404, 403, 404, 404, 404, 200, 404, 404,
    ],
    ("post", "/api/v1/ratings/rectifications/{rect}/close"): [
        401, 403, 404, 403, 404, 404, 404, 200, 404, 404,
    ],
}  # fmt: skip
BODIES = {
    "/api/v1/ratings/applications/{ref}": {
        "stars": 2,
        "departments": [{"department": "fj_health", "stars": 1}],
    },
    "/api/v1/ratings/tickets/{ticket}": {"stars": 5, "reasons": ["friendly"]},
    "/api/v1/ratings/rectifications/{rect}/answer": {"answer": "已调整窗口电话值守"},
    "/api/v1/ratings/rectifications/{rect}/settle": {"settled": True},
    "/api/v1/ratings/rectifications/{rect}/send-back": {"instruction": "请三日内恢复电话值守"},
    "/api/v1/ratings/rectifications/{rect}/close": {"conclusion": "经核查已整改到位"},
}


def call(client, world, role, method, path, body=None, **extra):
    user = world["users"][role]
    headers = bearer(user) if user else {}
    path = path.format(
        ref=world["application"].reference,
        ticket=world["ticket"].reference,
        rect=world["rectification"].public_id,
    )
    if method == "get":
        return client.get(path, **headers, **extra)
    return getattr(client, method)(
        path, body or {}, content_type="application/json", **headers, **extra
    )


@pytest.mark.parametrize(
    ("operation", "expected"), list(ACCESS.items()), ids=[f"{m} {p}" for m, p in ACCESS]
)
def test_who_may_call_what(client, world, operation, expected):
    method, path = operation
    observed = {}
    for role in ROLES:
        with transaction.atomic():
            response = call(client, world, role, method, path, BODIES.get(path))
            transaction.set_rollback(True)
        observed[role] = response.status_code
    assert observed == dict(zip(ROLES, expected, strict=True))


def test_the_access_table_covers_every_ratings_operation():
    schema = api.get_openapi_schema()
    declared = {
        (
            method,
            path.replace("{reference}", "{ref}").replace("{rectification_id}", "{rect}"),
        )
        for path, operations in schema["paths"].items()
        for method in operations
        if path.startswith("/api/v1/ratings/")
    }
    covered = {(m, p.replace("{ticket}", "{ref}")) for m, p in ACCESS}
    assert declared == covered
    assert all(len(expected) == len(ROLES) for expected in ACCESS.values())


def test_staff_never_see_the_raters_numbers_and_the_rater_sees_their_own(client, world):
    rectification = world["rectification"]
    type(rectification).objects.filter(pk=rectification.pk).update(
        applicant_note="没解决，请回电13959211234"
    )
    path = f"/api/v1/ratings/rectifications/{rectification.public_id}"
    staff = client.get(path, **bearer(world["users"]["health"])).json()
    assert "13959211234" not in staff["comment"] and "一直没人接" in staff["comment"]
    assert staff["rating_stars"] == 2 and staff["who"] and staff["status"] == "escalated"
    assert staff["applicant_note"] == "没解决，请回电139****1234"
    client.force_login(world["users"]["health"])
    page = client.get(f"/workbench/rectifications/{rectification.public_id}/").content.decode()
    assert "没解决，请回电139****1234" in page and "13959211234" not in page
    own = client.get(path, **bearer(world["users"]["owner"])).json()
    assert "13959211234" in own["comment"]
    assert own["applicant_note"] == "没解决，请回电13959211234"


@pytest.mark.parametrize(
    ("language", "stars_message", "type_message"),
    [
        ("en", "Choose from 1 to 5 stars.", "Must be a whole number."),
        ("zh-hans", "请选择 1 到 5 颗星。", "必须是整数。"),
    ],
)
def test_wrong_input_is_422_naming_the_field_and_the_rule_in_the_users_language(
    client, world, language, stars_message, type_message
):
    owner = bearer(world["users"]["owner"])
    path = f"/api/v1/ratings/applications/{world['application'].reference}"
    body = {"stars": 7, "departments": [{"department": "fj_hrss", "stars": 1}]}
    response = client.post(
        path, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE=language, **owner
    )
    assert response.status_code == 422
    fields = response.json()["fields"]
    assert fields["stars"] == stars_message
    assert set(fields) == {"stars", "departments.fj_hrss"}
    response = client.post(
        path,
        {"stars": "3"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
        **owner,
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"stars": type_message}


def test_the_reasons_come_in_the_users_language(client):
    english = client.get("/api/v1/ratings/reasons", HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = client.get("/api/v1/ratings/reasons", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert "took too long" in {r["label"] for r in english["bad"]}
    assert "办理时间长" in {r["label"] for r in chinese["bad"]}
    assert {r["code"] for r in english["good"]} == {r["code"] for r in chinese["good"]}


def test_the_supervisor_sends_it_back_and_then_closes_it_through_the_api(client, world):
    rectification = world["rectification"]
    supervisor = bearer(world["users"]["xiamen_supervisor"])
    base = f"/api/v1/ratings/rectifications/{rectification.public_id}"
    empty = client.post(
        f"{base}/send-back",
        {"instruction": " "},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
        **supervisor,
    )
    assert empty.status_code == 422
    assert empty.json()["fields"] == {"instruction": "Say what the department must still do."}
    sent = client.post(
        f"{base}/send-back",
        {"instruction": "请三日内恢复电话值守"},
        content_type="application/json",
        **supervisor,
    ).json()
    assert sent["status"] == "open" and sent["instruction"] == "请三日内恢复电话值守"
    assert dt.date.fromisoformat(sent["due_date"]) > timezone.localdate()
    # With the department again, it cannot be closed until it escalates again.
    again = client.post(
        f"{base}/close", {"conclusion": "结"}, content_type="application/json", **supervisor
    )
    assert again.status_code == 409
    seen_by_rater = client.get(base, **bearer(world["users"]["owner"])).json()
    assert seen_by_rater["instruction"] == "请三日内恢复电话值守"


def test_the_list_is_paged_with_the_count_of_them_all(client, world):
    supervisor = bearer(world["users"]["xiamen_supervisor"])
    owner = bearer(world["users"]["owner"])
    everything = client.get("/api/v1/ratings/rectifications", **owner).json()
    assert everything["count"] == 1 and len(everything["items"]) == 1
    past_the_end = client.get("/api/v1/ratings/rectifications?offset=1", **owner).json()
    assert past_the_end == {"items": [], "count": 1}
    assert client.get("/api/v1/ratings/rectifications?limit=0", **supervisor).status_code == 422
