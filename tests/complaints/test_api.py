"""The hotline API: who may read which ticket and which rates (every operation, every role),
contact details masked for units, and the rates' errors naming the field."""

from __future__ import annotations

import pytest
from django.utils import timezone

from onething.accounts.auth import token_issue
from onething.accounts.models import Role, RoleAssignment
from onething.api import api
from onething.audit.models import AuditRecord
from onething.complaints import services
from onething.complaints.models import Channel
from onething.complaints.services import Intake
from tests.factories import PersonFactory, StaffFactory

pytestmark = pytest.mark.django_db

# The caller wrote her number into the text as well as into the contact field.
COMPLAINT = "中山路128号楼下酒吧每晚音乐声太大，吵到凌晨两点，请联系我13959211234"
ZHONGHUA = "厦门市思明区中华街道中山路128号"


def bearer(user) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, name='test')}"}


def web_ticket(citizen, agent):
    """A citizen's web complaint, dispatched to the Zhonghua police station."""
    ticket = services.ticket_receive(
        actor=citizen,
        channel=Channel.WEB,
        intake=Intake(
            description=COMPLAINT,
            address=ZHONGHUA,
            contact_name="王小红",
            contact_phone="13959211234",
            contact_email="wang@example.test",
        ),
    )
    if ticket.status == "received" or ticket.category != "noise":
        # The classifier was not sure enough: the agent confirms the category, which routes it.
        ticket = services.ticket_correct_category(actor=agent, ticket=ticket, category="noise")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.unit) == ("dispatched", "sm_zhonghua_police")
    return ticket


@pytest.fixture
def world(hotline):
    owner = PersonFactory()
    administrator = StaffFactory()
    RoleAssignment.objects.create(user=administrator, role=Role.ADMINISTRATOR)
    ticket = web_ticket(owner, hotline["agent"])
    users = {
        "anonymous": None,
        "owner": owner,
        "other_citizen": PersonFactory(),
        "holding_unit": hotline["units"]["sm_zhonghua_police"],
        "other_unit": hotline["units"]["sm_housing"],
        "agent": hotline["agent"],
        "supervisor_in_region": hotline["supervisor"],
        "supervisor_out_of_region": hotline["fuzhou_supervisor"],
        "administrator": administrator,
    }
    return {"ticket": ticket, "users": users}


ROLES = [
    "anonymous",
    "owner",
    "other_citizen",
    "holding_unit",
    "other_unit",
    "agent",
    "supervisor_in_region",
    "supervisor_out_of_region",
    "administrator",
]

# operation -> expected status per role, in the order of ROLES.
ACCESS = {
    "/api/v1/hotline/tickets": [401, 200, 200, 200, 200, 200, 200, 200, 200],
    "/api/v1/hotline/tickets/{ref}": [401, 200, 404, 200, 404, 200, 200, 404, 200],
    # Rates are for the hotline and its supervisors; a supervisor elsewhere reads their own
    # regions (an empty table here), never a 403.
    "/api/v1/hotline/rates?start={today}&end={today}": [
        401,
        403,
        403,
        403,
        403,
        200,
        200,
        200,
        200,
    ],
    "/api/v1/hotline/rates?start={today}&end={today}&by=region": [
        401,
        403,
        403,
        403,
        403,
        200,
        200,
        200,
        200,
    ],
}


def get(client, world, role, path):
    user = world["users"][role]
    path = path.format(ref=world["ticket"].reference, today=timezone.localdate().isoformat())
    return client.get(path, **(bearer(user) if user else {}))


@pytest.mark.parametrize(("path", "expected"), list(ACCESS.items()), ids=list(ACCESS))
def test_who_may_read_what(client, world, path, expected):
    observed = {role: get(client, world, role, path).status_code for role in ROLES}
    assert observed == dict(zip(ROLES, expected, strict=True))


def test_the_access_table_covers_every_hotline_operation():
    schema = api.get_openapi_schema()
    declared = {
        path.replace("{reference}", "{ref}")
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/hotline/")
        for method in operations
        if method == "get"
    }
    covered = {path.partition("?")[0] for path in ACCESS}
    assert declared == covered
    writes = {
        (path, method)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/hotline/")
        for method in operations
        if method != "get"
    }
    assert writes == set(WRITE_ACCESS), "a write needs its rows in the access table"


# The one write: revealing the contact details, for those allowed (the citizen reads them whole
# already; a unit only for a ticket marked contact_needed).
WRITE_ACCESS = {
    ("/api/v1/hotline/tickets/{reference}/contact", "post"): [
        401,
        403,
        404,
        403,
        404,
        200,
        200,
        404,
        200,
    ],
}


def test_who_may_reveal_the_contact(client, world):
    ((_path, _method), expected), *_ = WRITE_ACCESS.items()
    observed = {role: reveal(client, world, role).status_code for role in ROLES}
    assert observed == dict(zip(ROLES, expected, strict=True))
    revealed_by = AuditRecord.objects.filter(action="ticket.contact_revealed")
    assert revealed_by.count() == expected.count(200)


def test_each_reader_lists_only_the_tickets_in_their_scope(client, world):
    reference = world["ticket"].reference
    seen = {}
    for role in ROLES[1:]:
        body = get(client, world, role, "/api/v1/hotline/tickets").json()
        seen[role] = [item["reference"] for item in body["items"]]
        assert body["count"] == len(seen[role])
    assert seen == {
        "owner": [reference],
        "other_citizen": [],
        "holding_unit": [reference],
        "other_unit": [],
        "agent": [reference],
        "supervisor_in_region": [reference],
        "supervisor_out_of_region": [],
        "administrator": [reference],
    }


def test_a_returning_unit_still_reads_the_ticket_it_sent_back(client, world):
    holder = world["users"]["holding_unit"]
    services.ticket_return(actor=holder, ticket=world["ticket"], reason="不属于本所辖区")
    response = get(client, world, "holding_unit", "/api/v1/hotline/tickets/{ref}")
    assert response.status_code == 200
    assert response.json()["unit"] == "sm_police"
    listed = get(client, world, "holding_unit", "/api/v1/hotline/tickets").json()
    assert [item["reference"] for item in listed["items"]] == [world["ticket"].reference]
    # Another unit, which neither holds nor returned it, still does not see it.
    assert get(client, world, "other_unit", "/api/v1/hotline/tickets").json()["count"] == 0


MASKED_CONTACT = {"name": "王**", "phone": "139****1234", "email": "***@example.test"}


def test_everyone_but_the_citizen_reads_the_contact_masked_until_they_reveal_it(client, world):
    for role in ("holding_unit", "agent", "supervisor_in_region", "administrator"):
        masked = get(client, world, role, "/api/v1/hotline/tickets/{ref}").json()
        assert masked["contact"] == MASKED_CONTACT, role
        assert "13959211234" not in masked["description"], role
        assert "139****1234" in masked["description"], role
    masked = get(client, world, "holding_unit", "/api/v1/hotline/tickets/{ref}").json()
    assert masked["unit_name"] == "厦门市公安局思明分局中华派出所"
    assert [e["action"] for e in masked["events"]][-1] == "dispatched"
    own = get(client, world, "owner", "/api/v1/hotline/tickets/{ref}").json()
    assert own["contact"]["phone"] == "13959211234"
    assert "13959211234" in own["description"]
    assert AuditRecord.objects.filter(action="ticket.contact_revealed").count() == 0


def reveal(client, world, role, body=None):
    user = world["users"][role]
    path = f"/api/v1/hotline/tickets/{world['ticket'].reference}/contact"
    return client.post(
        path, body or {}, content_type="application/json", **(bearer(user) if user else {})
    )


def test_the_hotline_reveals_the_contact_and_the_reveal_is_recorded(client, world):
    response = reveal(client, world, "agent", {"purpose": "callback"})
    assert response.status_code == 200
    assert response.json() == {
        "name": "王小红",
        "phone": "13959211234",
        "email": "wang@example.test",
        "description": COMPLAINT,
    }
    (record,) = AuditRecord.objects.filter(action="ticket.contact_revealed")
    assert record.actor == f"user:{world['users']['agent'].pk}"
    assert record.subject == world["ticket"].reference
    assert record.stream.name == f"ticket:{world['ticket'].public_id}"
    assert record.purpose == "callback"
    # The supervisor's purpose defaults to their role's.
    assert reveal(client, world, "supervisor_in_region").status_code == 200
    purposes = AuditRecord.objects.filter(action="ticket.contact_revealed").values_list(
        "purpose", flat=True
    )
    assert sorted(purposes) == ["callback", "supervision"]


def test_a_unit_without_contact_needed_is_refused_the_reveal_and_nothing_is_recorded(client, world):
    response = reveal(client, world, "holding_unit")
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
    assert "13959211234" not in response.content.decode()
    assert not AuditRecord.objects.filter(action="ticket.contact_revealed").exists()


def test_an_unknown_purpose_is_named(client, world):
    response = reveal(client, world, "agent", {"purpose": "curiosity"})
    assert response.status_code == 422
    assert "purpose" in response.content.decode()
    assert not AuditRecord.objects.filter(action="ticket.contact_revealed").exists()


def test_a_unit_reveals_the_contact_when_it_must_call_the_citizen_itself(client, hotline):
    ticket = services.ticket_receive(
        actor=hotline["agent"],
        channel=Channel.PHONE,
        intake=Intake(
            description="楼下酒吧每天晚上音乐声太大",
            address=ZHONGHUA,
            category="noise",
            contact_name="王先生",
            contact_phone="13959211234",
            contact_needed=True,
        ),
    )
    unit = hotline["units"]["sm_zhonghua_police"]
    path = f"/api/v1/hotline/tickets/{ticket.reference}"
    body = client.get(path, **bearer(unit)).json()
    assert body["contact"]["phone"] == "139****1234"
    revealed = client.post(f"{path}/contact", {}, content_type="application/json", **bearer(unit))
    assert revealed.status_code == 200 and revealed.json()["phone"] == "13959211234"
    (record,) = AuditRecord.objects.filter(action="ticket.contact_revealed")
    assert (record.actor, record.subject, record.purpose) == (
        f"user:{unit.pk}",
        ticket.reference,
        "handling",
    )


def test_the_ticket_list_filters_by_status_and_pages(client, world):
    agent = world["users"]["agent"]
    dispatched = client.get("/api/v1/hotline/tickets?status=dispatched", **bearer(agent)).json()
    closed = client.get("/api/v1/hotline/tickets?status=closed", **bearer(agent)).json()
    assert (dispatched["count"], closed["count"]) == (1, 0)
    beyond = client.get("/api/v1/hotline/tickets?offset=1", **bearer(agent)).json()
    assert (beyond["count"], beyond["items"]) == (1, [])


def test_the_rates_name_units_from_the_dispatch_catalogue(client, world):
    today = timezone.localdate().isoformat()
    path = f"/api/v1/hotline/rates?start={today}&end={today}"
    body = client.get(path, **bearer(world["users"]["supervisor_in_region"])).json()
    assert body["by"] == "unit" and body["start"] == today
    (row,) = body["rows"]
    assert row["key"] == "sm_zhonghua_police"
    assert row["name"] == "厦门市公安局思明分局中华派出所"
    assert row["tickets"] == 1
    # Dispatched a moment ago: nothing is due yet, so no rate has anything to count.
    assert row["on_time_sign_rate"] is None and row["resolution_rate"] is None
    assert row["return_rate"] == 0.0
    assert row["counts"]["reached_unit"] == 1
    elsewhere = client.get(path, **bearer(world["users"]["supervisor_out_of_region"])).json()
    assert elsewhere["rows"] == []
    districts = client.get(path + "&by=region", **bearer(world["users"]["agent"])).json()
    assert [(r["key"], r["name"]) for r in districts["rows"]] == [("350203", "思明区")]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2026-13-01&end=2026-12-01", "start"),
        ("start=2026-01-01&end=yesterday", "end"),
        ("end=2026-12-01", "start"),
        ("start=2026-12-01&end=2026-11-30", "end"),
        ("start=2026-11-01&end=2026-11-30&by=street", "by"),
        ("start=0001-01-01&end=9999-12-31", "end"),
    ],
)
def test_a_wrong_rates_query_is_refused_naming_the_field(client, hotline, query, field):
    response = client.get(f"/api/v1/hotline/rates?{query}", **bearer(hotline["agent"]))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert field in body["fields"], body


def test_a_reply_naming_a_number_is_masked_in_the_api_for_staff_and_kept_for_its_citizen(
    client, world
):
    ticket = world["ticket"]
    holder = world["users"]["holding_unit"]
    services.ticket_accept(actor=holder, ticket=ticket)
    services.ticket_reply(actor=holder, ticket=ticket, reply="已回电13959211234，酒吧已整改。")
    path = f"/api/v1/hotline/tickets/{ticket.reference}"
    for reader in ("holding_unit", "agent"):
        reply = client.get(path, **bearer(world["users"][reader])).json()["reply"]
        assert reply == "已回电139****1234，酒吧已整改。"
    own = client.get(path, **bearer(world["users"]["owner"])).json()["reply"]
    assert own == "已回电13959211234，酒吧已整改。"
