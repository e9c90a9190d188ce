"""Open311 GeoReport v2 at /open311/v2/: any Open311 client files and follows 12345 tickets.

Follows http://wiki.open311.org/GeoReport_v2 and its Service Discovery: one service per hotline
category; `POST requests` takes the spec's form-encoded parameters and the client application's
`api_key`; XML (the format the spec requires) and JSON of the same shape; times in ISO 8601 with
their offset; errors as the spec's list of `code` and `description`, with the HTTP status 400, 403
or 404, each naming the parameter at fault.

What a GET shows is public (the spec asks no key to read), so it is coarsened: never the
citizen's name, phone, e-mail or account; free text with resident ID and mobile numbers masked;
the address only down to the district and street office (`address_string` as our addressing
system names the area, no road or house number); coordinates rounded to 3 decimals (about
100 m); `media_url` only to the client application that posted the request (its `api_key`).
The spec's fields all stay, empty where withheld.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onething.catalog.models import in_language
from onething.complaints import deadlines
from onething.complaints.dispatch import CATEGORIES_FILE, Dispatch
from onething.complaints.lifecycle import TicketStatus
from onething.complaints.locate import areas, public_coordinate
from onething.complaints.models import Channel, Open311Client, Ticket
from onething.complaints.runtime import categories, dispatch_catalogue, keyword_rules
from onething.complaints.services import (
    TICKET_REFERENCE,
    Intake,
    check_intake,
    open311_client_for_key,
    ticket_receive,
)
from onething.core.actors import SystemActor
from onething.core.errors import InvalidInput
from onething.core.masking import mask_personal_numbers

logger = logging.getLogger("onething.complaints")

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CONTENT_TYPES = {
    "xml": "text/xml; charset=utf-8",
    "json": "application/json; charset=utf-8",
}
# GET requests: the spec's default and largest window, and its cap on one answer.
MAX_WINDOW = dt.timedelta(days=90)
MAX_RESULTS = 1000
# A resolution deadline is a date; the unit has until the end of that working day.
WORKING_DAY_ENDS = dt.time(18, 0)

# The spec's `group`: the hotline's categories clustered the way citizens look for them.
GROUPS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "city": (
        gettext_lazy("City management"),
        ("road_damage", "street_lights", "garbage", "illegal_construction"),
    ),
    "utilities": (gettext_lazy("Utilities"), ("water_supply", "heating", "power_supply")),
    "environment": (gettext_lazy("Environment"), ("noise", "environment_pollution")),
    "transport": (gettext_lazy("Transport"), ("traffic", "parking", "public_transport")),
    "community": (
        gettext_lazy("Community life"),
        ("property_management", "pets", "neighbour_disputes"),
    ),
    "markets": (gettext_lazy("Food and markets"), ("food_safety",)),
    "labour": (gettext_lazy("Work and wages"), ("unpaid_wages",)),
}
OTHER_GROUP = gettext_lazy("Other")

# The one attribute every service defines: whether the unit may contact the citizen itself
# (Intake.contact_needed); otherwise the unit sees the contact details masked.
CONTACT_ATTRIBUTE = "contact_needed"
ATTRIBUTE_PARAMETER = re.compile(r"^attribute\[(?P<code>[^\]]*)\](?:\[\])?$")
YES_NO = {"true": True, "false": False}

# check_intake's field names → the spec's parameter names.
PARAMETER_OF_FIELD = {
    "description": "description",
    "category": "service_code",
    "lat": "lat",
    "long": "long",
    "address": "address_string",
    "phone": "phone",
    "email": "email",
    "first_name": "first_name",
    "media_url": "media_url",
    "media": "media_url",
}

# XML elements whose children are a list, and the name of each child (the spec's ⇊ and ↴).
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}
# Characters XML 1.0 cannot carry at all (a pasted control character must not break the feed).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A '+' in an unencoded query string arrives as a space: `…T08:00:00 08:00`.
SPACED_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


class Open311Error(Exception):
    """A refusal in the spec's error format: the HTTP status and one description per problem."""

    def __init__(self, status: int, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.status, self.problems = status, problems


def _problem(parameter: str, message: str) -> str:
    return f"{parameter}: {message}"


# --- rendering -----------------------------------------------------------------------------------


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def _xml_element(name: str, value: Any) -> ET.Element:
    element = ET.Element(name)
    if isinstance(value, Mapping):
        for key, child in value.items():
            element.append(_xml_element(key, child))
    elif isinstance(value, list):
        for child in value:
            element.append(_xml_element(LIST_ITEMS[name], child))
    else:
        element.text = _xml_text(value)
    return element


def render(fmt: str, root: str, payload: Any, *, status: int = 200) -> HttpResponse:
    """`payload` as the spec's XML under `root`, or as JSON of the same shape."""
    if fmt == "json":
        body = json.dumps(payload, ensure_ascii=False, default=str)
    else:
        tree = _xml_element(root, payload)
        body = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(tree, encoding="unicode")
    return HttpResponse(body.encode("utf-8"), status=status, content_type=CONTENT_TYPES[fmt])


def error_response(fmt: str, status: int, problems: list[str]) -> HttpResponse:
    errors = [{"code": status, "description": problem} for problem in problems]
    return render(fmt, "errors", errors, status=status)


def format_of(path: str) -> str:
    """The format a path asks for: JSON when it ends in .json, else the spec's XML."""
    return "json" if path.rstrip("/").endswith(".json") else "xml"


def nul_refused(path: str) -> HttpResponse:
    """The answer to a request carrying a NUL character (RejectNulMiddleware)."""
    return error_response(
        format_of(path), 400, [_("The request contains a character that is not allowed (NUL).")]
    )


def endpoint(*methods: str) -> Callable:
    """An Open311 view: the allowed methods, and every refusal in the spec's error format.

    No CSRF check: the API reads no cookie and no session; POST is authorised by its api_key.
    """
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def run(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                response = error_response(
                    fmt,
                    405,
                    [_("The method %(method)s is not allowed here.") % {"method": request.method}],
                )
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                return view(request, fmt, **kwargs)
            except Open311Error as refusal:
                return error_response(fmt, refusal.status, refusal.problems)
            except SuspiciousOperation:  # a body too large, too many fields
                return error_response(fmt, 400, [_("The request is too large or malformed.")])

        run.csrf_exempt = True  # type: ignore[attr-defined]
        return run

    return decorate


# --- services ------------------------------------------------------------------------------------


def _group_of(code: str) -> str:
    for name, members in GROUPS.values():
        if code in members:
            return str(name)
    return str(OTHER_GROUP)


def _service_name(code: str) -> str:
    names = categories()[code]
    return in_language(names["zh"], names["en"])


def _service(code: str) -> dict[str, Any]:
    names = categories()[code]
    ruled = [k for category, keywords in keyword_rules() if category == code for k in keywords]
    limits = deadlines.LIMITS[deadlines.Urgency.NORMAL]
    return {
        "service_code": code,
        "service_name": _service_name(code),
        "description": _(
            "%(name)s: tell the 12345 hotline. The responsible unit signs for it within "
            "%(hours)s hours and replies within %(days)d working days (urgent cases sooner)."
        )
        % {
            "name": _service_name(code),
            "hours": f"{limits.sign_hours:g}",
            "days": limits.resolve_working_days,
        },
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys([names["zh"], names["en"], _group_of(code), *ruled])),
        "group": _group_of(code),
    }


def _service_definition(code: str) -> dict[str, Any]:
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": CONTACT_ATTRIBUTE,
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": _("Choose true or false."),
                "order": 1,
                "description": _(
                    "May the unit handling the request contact you directly? Otherwise it "
                    "reaches you through the hotline and does not see your phone number or "
                    "e-mail."
                ),
                "values": [
                    {"key": "true", "name": _("Yes")},
                    {"key": "false", "name": _("No")},
                ],
            }
        ],
    }


def _known_service(code: str) -> str:
    if code not in categories():
        raise Open311Error(
            404, [_problem("service_code", _("No service %(code)s.") % {"code": code[:60]})]
        )
    return code


# --- service requests as the spec shows them -----------------------------------------------------


def w3c(moment: dt.datetime | None) -> str | None:
    """`2026-11-27T17:51:46+08:00`: local time with its offset, to the second."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def expected_at(ticket: Ticket) -> dt.datetime | None:
    """When the ticket should be answered: the end of its reply deadline's working day, or,
    before a unit holds it to a reply date, the time by which it must sign for it."""
    if ticket.due_date:
        return dt.datetime.combine(
            ticket.due_date, WORKING_DAY_ENDS, tzinfo=timezone.get_current_timezone()
        )
    return ticket.sign_due_at


def _unit_name(catalogue: Dispatch, code: str) -> str | None:
    if not code:
        return None
    unit = catalogue.units.get(code)
    return in_language(unit.name.zh, unit.name.en) if unit else code


def _status_notes(ticket: Ticket) -> str:
    if ticket.status in (TicketStatus.REPLIED, TicketStatus.CLOSED) and ticket.reply:
        return mask_personal_numbers(ticket.reply)
    notes = {
        TicketStatus.RECEIVED: _("Received; the hotline is confirming its category."),
        TicketStatus.DISPATCHED: _("Sent to the responsible unit."),
        TicketStatus.ACCEPTED: _("The responsible unit is handling it."),
        TicketStatus.RETURNED: _("The unit it was sent to is not responsible; it is sent on."),
        TicketStatus.REPLIED: _("The responsible unit has replied."),
        TicketStatus.CLOSED: _("Closed."),
    }
    return notes[TicketStatus(ticket.status)]


def _service_notice(ticket: Ticket, catalogue: Dispatch) -> str | None:
    status = TicketStatus(ticket.status)
    if ticket.lead_id and status not in (TicketStatus.REPLIED, TicketStatus.CLOSED):
        return _("Handled together with %(lead)s, reported nearby: one fix answers both.") % {
            "lead": ticket.lead.reference
        }
    if status in (TicketStatus.RECEIVED, TicketStatus.RETURNED):
        return _("The 12345 hotline sends it to the responsible unit once its category is clear.")
    if status in (TicketStatus.DISPATCHED, TicketStatus.ACCEPTED) and ticket.due_date:
        return _("%(unit)s handles it and replies by %(due)s.") % {
            "unit": _unit_name(catalogue, ticket.unit),
            "due": ticket.due_date.isoformat(),
        }
    if status == TicketStatus.REPLIED:
        return _("The 12345 hotline calls back to ask whether the problem is solved.")
    return None


def request_fields(
    ticket: Ticket, catalogue: Dispatch, *, client: Open311Client | None = None
) -> dict[str, Any]:
    """One service request with the spec's fields, in its order, as the public may read it:
    nothing about the citizen, the place to the street office, coordinates to about 100 m, and
    the photo link only for the client application that posted it."""
    known = areas()
    return {
        "service_request_id": ticket.reference,
        "status": "closed" if ticket.status == TicketStatus.CLOSED else "open",
        "status_notes": _status_notes(ticket),
        "service_name": _service_name(ticket.category)
        if ticket.category in categories()
        else ticket.category,
        "service_code": ticket.category,
        "description": mask_personal_numbers(ticket.description),
        "agency_responsible": _unit_name(catalogue, ticket.unit),
        "service_notice": _service_notice(ticket, catalogue),
        "requested_datetime": w3c(ticket.created_at),
        "updated_datetime": w3c(ticket.closed_at or ticket.updated_at),
        "expected_datetime": w3c(expected_at(ticket)),
        "address": known.place_name(ticket.region_code, ticket.street_code) or None,
        # Our addressing system: the street's 9-digit code, else the district's GB/T 2260 code.
        "address_id": ticket.street_code or ticket.region_code or None,
        "zipcode": None,
        "lat": public_coordinate(ticket.latitude),
        "long": public_coordinate(ticket.longitude),
        "media_url": (ticket.media_url or None)
        if client is not None and client.pk == ticket.client_id
        else None,
    }


# --- reading the parameters ----------------------------------------------------------------------


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_w3c(value: str, parameter: str, *, end: bool = False) -> dt.datetime:
    """A W3C date-time (`2026-11-01T00:00:00+08:00`, `…Z`) or date; local time when it has no
    offset. A date alone as `end` means the end of that day."""
    text = SPACED_OFFSET.sub(r"\1+\2", value.strip())
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(
            400,
            [_problem(parameter, _("Give a date and time like 2026-11-01T00:00:00+08:00 (W3C)."))],
        ) from None
    if end and re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", text):
        moment = dt.datetime.combine(moment.date(), dt.time.max)
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        year = moment.astimezone(dt.UTC).year
    except OverflowError:
        year = 0
    # The 90-day window around it, in UTC as the database compares, must exist on the calendar.
    if not 2 <= year <= 9998:
        raise Open311Error(
            400, [_problem(parameter, _("Give a date between the years 0002 and 9998."))]
        )
    return moment


def requests_matching(params: QueryDict, *, now: dt.datetime | None = None) -> QuerySet[Ticket]:
    """The tickets GET requests answers with: by id (which overrides every other filter), or
    by service codes, statuses and a window of at most 90 days (the last 90 by default)."""
    tickets = Ticket.objects.select_related("lead").order_by("-created_at", "-pk")
    ids = _comma_list(params.get("service_request_id", ""))
    if ids:
        if len(ids) > MAX_RESULTS:
            raise Open311Error(
                400,
                [_problem("service_request_id", _("At most %(n)d ids.") % {"n": MAX_RESULTS})],
            )
        return tickets.filter(reference__in=[i for i in ids if TICKET_REFERENCE.match(i)])
    problems = []
    codes = _comma_list(params.get("service_code", ""))
    unknown = [code for code in codes if code not in categories()]
    if unknown:
        problems.append(
            _problem(
                "service_code",
                _("No service %(codes)s.") % {"codes": ", ".join(c[:60] for c in unknown[:5])},
            )
        )
    statuses = {status.lower() for status in _comma_list(params.get("status", ""))}
    if statuses - {"open", "closed"}:
        problems.append(_problem("status", _("Choose open, closed or both (open,closed).")))
    start = end = None
    for parameter in ("start_date", "end_date"):
        if params.get(parameter, "").strip():
            try:
                moment = parse_w3c(params[parameter], parameter, end=parameter == "end_date")
            except Open311Error as refusal:
                problems += refusal.problems
                continue
            if parameter == "start_date":
                start = moment
            else:
                end = moment
    if problems:
        raise Open311Error(400, problems)
    if start is None and end is None:
        end = now or timezone.now()
    if start is None:
        start = end - MAX_WINDOW
    elif end is None:
        end = start + MAX_WINDOW
    if end < start:
        raise Open311Error(400, [_problem("end_date", _("Must not be before start_date."))])
    if end - start > MAX_WINDOW:
        raise Open311Error(
            400,
            [_problem("start_date, end_date", _("The window may span at most 90 days."))],
        )
    tickets = tickets.filter(created_at__gte=start, created_at__lte=end)
    if codes:
        tickets = tickets.filter(category__in=codes)
    if statuses == {"open"}:
        tickets = tickets.exclude(status=TicketStatus.CLOSED)
    elif statuses == {"closed"}:
        tickets = tickets.filter(status=TicketStatus.CLOSED)
    return tickets


def _client_for(form: QueryDict, query: QueryDict) -> Open311Client:
    # The spec sends api_key in the body; some clients put it in the query string.
    key = (form.get("api_key") or query.get("api_key") or "").strip()
    if not key:
        raise Open311Error(403, [_problem("api_key", _("Missing: ask for a key to post."))])
    client = open311_client_for_key(key)
    if client is None:
        raise Open311Error(403, [_problem("api_key", _("Invalid or revoked key."))])
    return client


def _reading_client(query: QueryDict) -> Open311Client | None:
    """The client application a GET names with its api_key (optional for reading), if valid."""
    key = (query.get("api_key") or "").strip()
    return open311_client_for_key(key) if key else None


def _place_of(address_id: str) -> str | None:
    """The name of an area of our addressing system (a district or street code), or None."""
    known = areas()
    if any(street.code == address_id for street in known.streets):
        return known.place_name(address_id[:6], address_id)
    return known.place_name(address_id) or None


def _contact_name(first: str, last: str) -> str:
    first, last = first.strip(), last.strip()
    # Chinese names put the family name first, without a space.
    if re.search(r"[\u3400-\u9fff]", first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


def intake_from(form: QueryDict) -> Intake:
    """The Intake a POST describes, with every problem of it at once (400), each naming its
    parameter; an unknown service_code is a 404, as the spec says.

    `device_id` and `account_id` are not kept: we track no devices and know no client's
    accounts; the contact details are kept for the hotline, never shown by a GET.
    """
    problems = []
    code = form.get("service_code", "").strip()
    if not code:
        problems.append(_problem("service_code", _("Missing: choose one of the services.")))
    else:
        _known_service(code)
    address = form.get("address_string", "").strip()
    address_id = form.get("address_id", "").strip()
    latitude, longitude = form.get("lat", "").strip(), form.get("long", "").strip()
    parameters = dict(PARAMETER_OF_FIELD)
    located = bool(address or address_id or latitude or longitude)
    if not located:
        problems.append(
            _problem(
                "lat, long, address_string, address_id",
                _("Missing: give the location as lat and long, address_string or address_id."),
            )
        )
    if address_id:
        place = _place_of(address_id)
        if place is None:
            located = False  # said once, here, not again as an unplaceable address
            problems.append(
                _problem("address_id", _("Give a district or street code the hotline serves."))
            )
        else:
            # The area named first, so that locating the ticket finds it.
            address = f"{place} {address}".strip()
            if not form.get("address_string", "").strip():
                parameters["address"] = "address_id"
    contact_needed = False
    for name, values in form.lists():
        match = ATTRIBUTE_PARAMETER.match(name)
        if not match:
            continue
        if match["code"] != CONTACT_ATTRIBUTE:
            problems.append(_problem(name, _("This service has no such attribute.")))
        elif len(values) != 1 or values[0].strip().lower() not in YES_NO:
            problems.append(_problem(name, _("Choose true or false.")))
        else:
            contact_needed = YES_NO[values[0].strip().lower()]
    intake = Intake(
        description=form.get("description", ""),
        address=address,
        latitude=latitude or None,
        longitude=longitude or None,
        category=code,
        contact_name=_contact_name(form.get("first_name", ""), form.get("last_name", "")),
        contact_phone=form.get("phone", ""),
        contact_email=form.get("email", ""),
        contact_needed=contact_needed,
        media_url=form.get("media_url", ""),
    )
    _clean, fields = check_intake(intake, channel=Channel.OPEN311)
    if not located:
        fields.pop("address", None)
    problems += _problems_of(fields, parameters)
    if problems:
        raise Open311Error(400, problems)
    return intake


def _problems_of(fields: Mapping[str, Any], parameters: Mapping[str, str]) -> list[str]:
    # The messages may quote what was typed: no phone or ID number goes back out whole.
    return [
        _problem(parameters.get(field, field), mask_personal_numbers(str(message)))
        for field, message in fields.items()
    ]


# --- views ---------------------------------------------------------------------------------------


def _changeset() -> str:
    """When the services last changed: the category file's time."""
    changed = dt.datetime.fromtimestamp(Path(CATEGORIES_FILE).stat().st_mtime, tz=dt.UTC)
    return w3c(changed) or ""


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(reverse("open311:discovery", args=[fmt]))
    changeset = _changeset()
    return render(
        fmt,
        "discovery",
        {
            "changeset": changeset,
            "contact": _("The 12345 government service hotline: call 12345."),
            "key_service": _(
                "Client applications ask the platform's administrators for an api_key to post. "
                "Reading needs no key and shows requests coarsened: the place down to the "
                "street office, coordinates to about 100 m, numbers in the text masked, no "
                "contact details; a client sees its own requests' media_url with its key."
            ),
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": base.rsplit("/", 1)[0],
                    "changeset": changeset,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


@endpoint("GET")
def services_list(request: HttpRequest, fmt: str) -> HttpResponse:
    return render(fmt, "services", [_service(code) for code in categories()])


@endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    return render(fmt, "service_definition", _service_definition(_known_service(service_code)))


@endpoint("GET", "POST")
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt)
    catalogue = dispatch_catalogue()
    client = _reading_client(request.GET)
    tickets = requests_matching(request.GET)[:MAX_RESULTS]
    return render(
        fmt,
        "service_requests",
        [request_fields(ticket, catalogue, client=client) for ticket in tickets],
    )


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    form = request.POST
    client = _client_for(form, request.GET)
    intake = intake_from(form)
    try:
        ticket = ticket_receive(
            actor=SystemActor(f"open311:{client.pk}"),
            channel=Channel.OPEN311,
            intake=intake,
            client=client,
        )
    except InvalidInput as invalid:
        raise Open311Error(400, _problems_of(invalid.fields, PARAMETER_OF_FIELD)) from None
    response = render(
        fmt,
        "service_requests",
        [
            {
                "service_request_id": ticket.reference,
                "service_notice": _service_notice(ticket, dispatch_catalogue()),
                # The client's own account id, echoed as the spec shows.
                "account_id": form.get("account_id", "").strip()[:100] or None,
            }
        ],
        status=201,
    )
    response["Location"] = request.build_absolute_uri(
        reverse("open311:request", args=[ticket.reference, fmt])
    )
    return response


@endpoint("GET")
def service_request(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    ticket = None
    if TICKET_REFERENCE.match(service_request_id):
        ticket = Ticket.objects.select_related("lead").filter(reference=service_request_id).first()
    if ticket is None:
        raise Open311Error(
            404,
            [_problem("service_request_id", _("No such service request."))],
        )
    fields = request_fields(ticket, dispatch_catalogue(), client=_reading_client(request.GET))
    return render(fmt, "service_requests", [fields])


def unknown(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any other address under /open311/v2/: the spec's 404, in the format the path asks for."""
    return error_response(
        format_of(request.path),
        404,
        [_("Nothing here: see discovery.xml for this API's resources.")],
    )


unknown.csrf_exempt = True  # type: ignore[attr-defined]
