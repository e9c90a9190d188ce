"""Open311 GeoReport v2 conformance: the spec walked against the live test server over HTTP,
in XML (the spec's required format, element by element) and in JSON (the same shape)."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from onething.complaints import services
from onething.complaints.models import Channel, Ticket
from onething.complaints.runtime import categories, dispatch_catalogue
from onething.core.actors import SystemActor

FORMATS = ["xml", "json"]
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# The spec's fields of a service request (GET requests and GET requests/{id}), in its order.
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
W3C_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
NOISE = "楼下酒吧每天晚上音乐声太大，吵到凌晨两点，孩子无法入睡"
ZHONGHUA = "厦门市思明区中华街道中山路128号"
PHONE, RESIDENT_ID = "13959211234", "350203199001011234"


@dataclass
class Answer:
    status: int
    content_type: str
    headers: Any
    text: str
    fmt: str

    def xml(self) -> ET.Element:
        assert self.content_type == "text/xml; charset=utf-8"
        assert self.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
        # Our own server's answer, in a test: no untrusted XML.
        return ET.fromstring(self.text.encode("utf-8"))  # noqa: S314

    def data(self) -> Any:
        """The answer as plain data: JSON as it is, XML through the spec's shape (lists of
        records, each a dict of element name → text), so both formats compare alike."""
        if self.fmt == "json":
            assert self.content_type == "application/json; charset=utf-8"
            return json.loads(self.text)
        return _plain(self.xml())

    def errors(self) -> list[dict]:
        """The spec's error list, checked element by element in XML."""
        if self.fmt == "xml":
            root = self.xml()
            assert root.tag == "errors"
            assert {child.tag for child in root} == {"error"}
            for error in root:
                assert [field.tag for field in error] == ["code", "description"]
        errors = self.data()
        assert all(int(error["code"]) == self.status for error in errors)
        return errors

    def error_text(self) -> str:
        return " | ".join(error["description"] for error in self.errors())


LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


def _plain(element: ET.Element) -> Any:
    if element.tag in LIST_ITEMS:
        assert all(child.tag == LIST_ITEMS[element.tag] for child in element), element.tag
        return [_plain(child) for child in element]
    if len(element):
        return {child.tag: _plain(child) for child in element}
    return element.text


class Open311:
    """A client of the live server's /open311/v2/ endpoint, speaking plain HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(
        self,
        method: str,
        resource: str,
        fmt: str,
        *,
        query: dict | None = None,
        form: dict | list | None = None,
        headers: dict | None = None,
    ) -> Answer:
        url = f"{self.base}/{resource}.{fmt}" if fmt else f"{self.base}/{resource}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        body = urllib.parse.urlencode(form).encode("utf-8") if form is not None else None
        # Always the live test server's http:// address.
        request = urllib.request.Request(  # noqa: S310
            url, data=body, method=method, headers=headers or {}
        )
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status, received, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as refused:
            status, received, raw = refused.code, refused.headers, refused.read()
        return Answer(status, received.get("Content-Type", ""), received, raw.decode("utf-8"), fmt)

    def get(self, resource: str, fmt: str, **query: str) -> Answer:
        return self.call("GET", resource, fmt, query=query or None)

    def post(self, fmt: str, form: dict | list) -> Answer:
        return self.call("POST", "requests", fmt, form=form)


@pytest.fixture
def places(transactional_db, demo_catalog):
    """The catalog's regions, departments and calendar, which the dispatch catalogue and the
    deadlines stand on (a live-server test starts from an empty database)."""
    from onething.catalog.models import Region
    from onething.catalog.services import catalog_load
    from onething.catalog.validation import Catalog

    if not Region.objects.exists():
        catalog_load(
            actor="test",
            catalog=Catalog(
                regions=demo_catalog.regions,
                departments=demo_catalog.departments,
                calendar=demo_catalog.calendar,
            ),
        )


@pytest.fixture
def api(live_server, places) -> Open311:
    return Open311(f"{live_server.url}/open311/v2")


@pytest.fixture
def api_key(places) -> str:
    _client, key = services.open311_client_create(actor=SystemActor("test"), name="随手拍 app")
    return key


def complaint(api_key: str, **changes: str) -> dict:
    form = {
        "api_key": api_key,
        "jurisdiction_id": "12345.example.gov.cn",
        "service_code": "noise",
        "address_string": ZHONGHUA,
        "description": NOISE,
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def phone_call(hotline, *, category: str, text: str, address: str = ZHONGHUA) -> Ticket:
    return services.ticket_receive(
        actor=hotline["agent"],
        channel=Channel.PHONE,
        intake=services.Intake(
            description=text,
            address=address,
            category=category,
            contact_name="王先生",
            contact_phone=PHONE,
            contact_email="wang@example.test",
        ),
    )


# --- discovery and services ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_this_endpoint_the_spec_and_both_formats(api, live_server, fmt):
    answer = api.get("discovery", fmt)
    assert answer.status == 200
    if fmt == "xml":
        root = answer.xml()
        assert root.tag == "discovery"
        assert [child.tag for child in root] == ["changeset", "contact", "key_service", "endpoints"]
        endpoint = root.find("endpoints/endpoint")
        assert [child.tag for child in endpoint] == [
            "specification",
            "url",
            "changeset",
            "type",
            "formats",
        ]
    discovery = answer.data()
    assert W3C_WITH_OFFSET.match(discovery["changeset"])
    (endpoint,) = discovery["endpoints"]
    assert endpoint["specification"] == SPECIFICATION
    assert endpoint["url"] == f"{live_server.url}/open311/v2"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    # The url it names serves the resources.
    assert Open311(endpoint["url"]).get("services", fmt).status == 200


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_service_list_offers_one_realtime_service_per_hotline_category(api, fmt):
    answer = api.get("services", fmt)
    assert answer.status == 200
    if fmt == "xml":
        root = answer.xml()
        assert root.tag == "services"
        assert all({field.tag for field in service} == SERVICE_FIELDS for service in root)
    offered = answer.data()
    assert [service["service_code"] for service in offered] == list(categories())
    noise = next(service for service in offered if service["service_code"] == "noise")
    assert noise["service_name"] == "噪音扰民"  # Chinese first
    assert noise["type"] == "realtime"
    assert noise["metadata"] in (True, "true")
    assert "噪音扰民" in noise["keywords"] and "Noise" in noise["keywords"]
    assert "7" in noise["description"]  # replies within 7 working days
    wages = next(service for service in offered if service["service_code"] == "unpaid_wages")
    assert "欠薪" in wages["keywords"]  # the keyword rules are search words too
    assert all(service["group"] for service in offered)
    assert len({service["group"] for service in offered}) >= 5


def test_services_are_named_in_the_language_the_client_asks_for(api):
    answer = api.call("GET", "services", "json", headers={"Accept-Language": "en"})
    names = {service["service_code"]: service["service_name"] for service in answer.data()}
    assert names["noise"] == "Noise"
    assert names["unpaid_wages"] == "Unpaid wages"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_lists_its_attribute_with_its_values(api, fmt):
    answer = api.get("services/noise", fmt)
    assert answer.status == 200
    if fmt == "xml":
        root = answer.xml()
        assert root.tag == "service_definition"
        assert [child.tag for child in root] == ["service_code", "attributes"]
        attribute = root.find("attributes/attribute")
        assert [child.tag for child in attribute] == [
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
            "values",
        ]
        assert [child.tag for child in attribute.find("values/value")] == ["key", "name"]
    definition = answer.data()
    assert definition["service_code"] == "noise"
    (attribute,) = definition["attributes"]
    assert attribute["code"] == "contact_needed"
    assert attribute["datatype"] == "singlevaluelist"
    assert attribute["variable"] in (True, "true") and attribute["required"] in (False, "false")
    assert int(attribute["order"]) == 1
    assert [value["key"] for value in attribute["values"]] == ["true", "false"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_service_code_is_a_404_in_the_spec_error_format(api, fmt):
    answer = api.get("services/no_such_service", fmt)
    assert answer.status == 404
    assert "service_code" in answer.error_text()


# --- posting a request ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_post_names_every_missing_parameter_at_once(api, api_key, fmt):
    answer = api.post(fmt, {"api_key": api_key, "phone": "12345"})
    assert answer.status == 400
    problems = answer.error_text()
    assert "service_code:" in problems
    assert "lat, long, address_string, address_id:" in problems
    assert "description:" in problems
    assert "phone:" in problems
    assert len(answer.errors()) == 4
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_wrong_values_are_refused_naming_their_parameters(api, api_key, fmt):
    answer = api.post(
        fmt,
        complaint(
            api_key,
            address_string=None,
            lat="95",
            long="118.08",
            email="not-an-address",
            media_url="javascript:alert(1)",
            **{"attribute[contact_needed]": "maybe", "attribute[colour]": "red"},
        ),
    )
    assert answer.status == 400
    named = {error["description"].split(":")[0] for error in answer.errors()}
    assert named == {
        "lat",
        "email",
        "media_url",
        "attribute[contact_needed]",
        "attribute[colour]",
    }
    unknown_area = api.post(fmt, complaint(api_key, address_string=None, address_id="110101"))
    assert unknown_area.status == 400
    assert unknown_area.error_text().startswith("address_id:")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_post_for_an_unknown_service_code_is_a_404(api, api_key, fmt):
    answer = api.post(fmt, complaint(api_key, service_code="no_such_service"))
    assert answer.status == 404
    assert answer.error_text().startswith("service_code:")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_wrong_or_revoked_api_key_is_refused_with_403(api, api_key, fmt):
    missing = api.post(fmt, complaint(None))
    wrong = api.post(fmt, complaint("o311_" + "x" * 32))
    client = services.open311_client_for_key(api_key)
    services.open311_client_revoke(actor=SystemActor("test"), client=client)
    revoked = api.post(fmt, complaint(api_key))
    for answer in (missing, wrong, revoked):
        assert answer.status == 403
        assert answer.error_text().startswith("api_key:")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_posted_request_is_dispatched_and_read_back_by_its_id(api, api_key, fmt):
    posted = api.post(
        fmt,
        complaint(
            api_key,
            lat="24.457",
            long="118.082",
            description=f"{NOISE}。我的电话{PHONE}，身份证{RESIDENT_ID}",
            email="wang@example.test",
            phone=PHONE,
            first_name="建国",
            last_name="王",
            device_id="device-7",
            account_id="acct-42",
            media_url="https://photos.example.test/bar.jpg",
            **{"attribute[contact_needed]": "true"},
        ),
    )
    assert posted.status == 201
    if fmt == "xml":
        root = posted.xml()
        assert root.tag == "service_requests"
        assert [child.tag for child in root.find("request")] == [
            "service_request_id",
            "service_notice",
            "account_id",
        ]
    (created,) = posted.data()
    ticket = Ticket.objects.get(reference=created["service_request_id"])
    assert created["account_id"] == "acct-42"
    assert posted.headers["Location"].endswith(f"/requests/{ticket.reference}.{fmt}")
    # Stored as an Open311 ticket of this client, with the contact details for the hotline.
    assert ticket.channel == "open311" and ticket.client.name == "随手拍 app"
    assert (ticket.contact_name, ticket.contact_phone) == ("王建国", PHONE)
    assert ticket.contact_needed is True
    assert ticket.status == "dispatched" and ticket.unit
    unit = dispatch_catalogue().units[ticket.unit].name.zh
    assert unit in created["service_notice"]
    assert ticket.due_date.isoformat() in created["service_notice"]

    answer = api.get(f"requests/{ticket.reference}", fmt)
    assert answer.status == 200
    if fmt == "xml":
        root = answer.xml()
        assert root.tag == "service_requests"
        assert [child.tag for child in root.find("request")] == REQUEST_FIELDS
    (shown,) = answer.data()
    assert list(shown) == REQUEST_FIELDS
    assert shown["service_request_id"] == ticket.reference
    assert shown["status"] == "open"
    assert (shown["service_code"], shown["service_name"]) == ("noise", "噪音扰民")
    assert shown["agency_responsible"] == unit
    for moment in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C_WITH_OFFSET.match(shown[moment]), moment
    assert shown["expected_datetime"] == f"{ticket.due_date.isoformat()}T18:00:00+08:00"
    assert dt.datetime.fromisoformat(shown["requested_datetime"]) <= timezone.now()
    assert float(shown["lat"]) == 24.457 and float(shown["long"]) == 118.082
    assert shown["address_id"] == ticket.street_code == "350203001"
    # The photo link goes back only to the client that posted it, by its key.
    assert shown["media_url"] in (None, "")
    (own,) = api.get(f"requests/{ticket.reference}", fmt, api_key=api_key).data()
    assert own["media_url"] == "https://photos.example.test/bar.jpg"
    # Nothing of the citizen: numbers in the text masked, contact details and account absent.
    assert "139****1234" in shown["description"] and "3502************34" in shown["description"]
    for private in (PHONE, RESIDENT_ID, "wang@example.test", "建国", "acct-42", "device-7"):
        assert private not in answer.text


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_public_reads_a_request_coarsened(api, places, hotline, fmt):
    ticket = services.ticket_receive(
        actor=hotline["agent"],
        channel=Channel.PHONE,
        intake=services.Intake(
            description=f"{NOISE}，回电{PHONE}，身份证{RESIDENT_ID}",
            address=ZHONGHUA,
            latitude="24.457391",
            longitude="118.082518",
            category="noise",
            contact_name="王先生",
            contact_phone=PHONE,
            contact_email="wang@example.test",
        ),
    )
    Ticket.objects.filter(pk=ticket.pk).update(media_url="https://photos.example.test/x.jpg")
    one = api.get(f"requests/{ticket.reference}", fmt)
    listed = api.get("requests", fmt)
    for answer in (one, listed):
        assert answer.status == 200
        (shown,) = answer.data()
        assert list(shown) == REQUEST_FIELDS  # the spec's names, all of them
        assert shown["address"] == "厦门市思明区中华街道"  # no road, no house number
        # The house number, not any "128" (a reference made on 28 November holds 1128).
        assert "128号" not in answer.text and "中山路" not in answer.text
        assert float(shown["lat"]) == 24.457 and float(shown["long"]) == 118.083
        assert "24.457391" not in answer.text and "118.082518" not in answer.text
        assert "139****1234" in shown["description"]
        assert "3502************34" in shown["description"]
        assert shown["media_url"] in (None, "")
        for private in (PHONE, RESIDENT_ID, "王先生", "wang@example.test", "x.jpg"):
            assert private not in answer.text


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_category_the_classifier_disputes_waits_for_an_agent(api, api_key, fmt):
    posted = api.post(fmt, complaint(api_key, service_code="parking"))
    assert posted.status == 201
    (created,) = posted.data()
    ticket = Ticket.objects.get(reference=created["service_request_id"])
    assert ticket.suggested_category == "noise" and ticket.category == "parking"
    assert ticket.status == "received" and not ticket.unit
    (shown,) = api.get(f"requests/{ticket.reference}", fmt).data()
    assert shown["status"] == "open"
    assert shown["agency_responsible"] in (None, "")
    assert shown["expected_datetime"] in (None, "")


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_request_id_is_a_404(api, fmt):
    for reference in ("12345-20260101-AAAAAA", "not-a-reference"):
        answer = api.get(f"requests/{reference}", fmt)
        assert answer.status == 404
        assert answer.error_text().startswith("service_request_id:")


# --- querying requests ---------------------------------------------------------------------------


@pytest.fixture
def three_tickets(places, hotline):
    """A noise complaint still open, a garbage complaint answered and closed, and a street-light
    complaint from 100 days ago."""
    noise = phone_call(hotline, category="noise", text=NOISE)
    garbage = phone_call(hotline, category="garbage", text="小区门口垃圾堆了三天没人清运，臭气熏天")
    unit = hotline["units"][garbage.unit]
    services.ticket_accept(actor=unit, ticket=garbage)
    services.ticket_reply(actor=unit, ticket=garbage, reply="已安排环卫当天清运，联系13959211234")
    services.ticket_callback(
        actor=hotline["agent"], ticket=garbage, reached=True, resolved=True, satisfied=True
    )
    old = phone_call(
        hotline,
        category="street_lights",
        text="湖里街道路灯坏了一个月，晚上一片漆黑",
        address="厦门市湖里区湖里街道华泰路",
    )
    long_ago = timezone.now() - dt.timedelta(days=100)
    Ticket.objects.filter(pk=old.pk).update(created_at=long_ago)  # filed 100 days ago
    return {"noise": noise.reference, "garbage": garbage.reference, "old": old.reference}


def ids(answer: Answer) -> list[str]:
    assert answer.status == 200, answer.text
    return [request["service_request_id"] for request in answer.data()]


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_covers_the_last_90_days_newest_first(api, three_tickets, fmt):
    answer = api.get("requests", fmt)
    assert ids(answer) == [three_tickets["garbage"], three_tickets["noise"]]
    if fmt == "xml":
        assert all([field.tag for field in request] == REQUEST_FIELDS for request in answer.xml())
    garbage = next(r for r in answer.data() if r["service_code"] == "garbage")
    assert garbage["status"] == "closed"
    assert "139****1234" in garbage["status_notes"]  # the unit's reply, masked
    closed_at = Ticket.objects.get(reference=three_tickets["garbage"]).closed_at
    assert garbage["updated_datetime"] == timezone.localtime(closed_at).isoformat("T", "seconds")
    for private in (PHONE, "王先生", "wang@example.test"):
        assert private not in answer.text


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_filters_by_service_code_status_dates_and_ids(api, three_tickets, fmt):
    noise, garbage, old = three_tickets["noise"], three_tickets["garbage"], three_tickets["old"]
    assert ids(api.get("requests", fmt, service_code="noise")) == [noise]
    assert ids(api.get("requests", fmt, service_code="noise,garbage")) == [garbage, noise]
    assert ids(api.get("requests", fmt, status="open")) == [noise]
    assert ids(api.get("requests", fmt, status="closed")) == [garbage]
    assert ids(api.get("requests", fmt, status="open,closed")) == [garbage, noise]
    filed = timezone.localtime(Ticket.objects.get(reference=old).created_at)
    window = {
        "start_date": (filed - dt.timedelta(days=1)).isoformat(timespec="seconds"),
        "end_date": (filed + dt.timedelta(days=1)).isoformat(timespec="seconds"),
    }
    assert ids(api.get("requests", fmt, **window)) == [old]
    # UTC with Z, and a date alone, mean the same window.
    utc = {k: dt.datetime.fromisoformat(v).astimezone(dt.UTC) for k, v in window.items()}
    zulu = {k: v.strftime("%Y-%m-%dT%H:%M:%SZ") for k, v in utc.items()}
    assert ids(api.get("requests", fmt, **zulu)) == [old]
    days = {"start_date": filed.date().isoformat(), "end_date": filed.date().isoformat()}
    assert ids(api.get("requests", fmt, **days)) == [old]
    assert ids(api.get("requests", fmt, start_date=window["start_date"])) == [old]
    assert ids(api.get("requests", fmt, end_date=window["end_date"])) == [old]
    # service_request_id overrides every other filter.
    assert ids(api.get("requests", fmt, service_request_id=f"{old}, {noise}", status="closed")) == [
        noise,
        old,
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_filters_are_refused_naming_the_parameter(api, places, fmt):
    now = timezone.localtime()
    cases = {
        "service_code": {"service_code": "noise,no_such_service"},
        "status": {"status": "pending"},
        "start_date": {"start_date": "last tuesday"},
        "end_date": {
            "start_date": now.isoformat(timespec="seconds"),
            "end_date": (now - dt.timedelta(days=1)).isoformat(timespec="seconds"),
        },
        "start_date, end_date": {
            "start_date": (now - dt.timedelta(days=120)).isoformat(timespec="seconds"),
            "end_date": now.isoformat(timespec="seconds"),
        },
    }
    for parameter, query in cases.items():
        answer = api.get("requests", fmt, **query)
        assert answer.status == 400, parameter
        assert answer.error_text().startswith(f"{parameter}:"), answer.text
    for parameter, edge in (("end_date", "0001-01-01"), ("start_date", "9999-12-31T00:00:00Z")):
        answer = api.get("requests", fmt, **{parameter: edge})
        assert answer.status == 400, edge
        assert answer.error_text().startswith(f"{parameter}:")


# --- anything else -------------------------------------------------------------------------------


def test_other_addresses_and_methods_answer_in_the_spec_error_format(api, live_server):
    nothing = api.get("nothing", "json")
    assert nothing.status == 404 and nothing.errors()
    unknown_format = api.call("GET", "services.csv", "")
    unknown_format.fmt = "xml"
    assert unknown_format.status == 404 and unknown_format.errors()
    for method, resource in (("DELETE", "requests"), ("POST", "services")):
        answer = api.call(method, resource, "xml", form={} if method == "POST" else None)
        assert answer.status == 405, (method, resource)
        assert answer.errors()
        assert "GET" in answer.headers["Allow"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_nul_character_is_refused_in_the_spec_error_format(api, api_key, fmt):
    answer = api.post(fmt, complaint(api_key, description="噪音\x00"))
    assert answer.status == 400
    assert "NUL" in answer.error_text()
    assert not Ticket.objects.exists()
