"""12345 hotline API: the rates hotline centres are judged by, and reading tickets.

Every operation needs a signed-in user (token or session). Who may read what is decided by the
selectors: the rates by `hotline_rates_for`, tickets by `tickets_visible_to` (a ticket outside
the reader's scope is 404). Contact details are masked for everyone but the citizen; hotline
agents, supervisors and (for a ticket marked contact_needed) its unit reveal them with
`POST /tickets/{reference}/contact`, which is recorded in the audit trail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from onething.accounts.auth import API_AUTH
from onething.catalog.models import in_language
from onething.complaints import selectors, services
from onething.complaints.models import Ticket
from onething.complaints.runtime import categories
from onething.core.schemas import ErrorOut

router = Router(tags=["hotline"], auth=API_AUTH)


# --- rates ---------------------------------------------------------------------------------------


class RateCountsOut(Schema):
    signed_on_time: int
    sign_counted: int
    closed_on_time: int
    close_counted: int
    callbacks: int
    resolved: int
    satisfied: int
    reached_unit: int
    returned: int


class RateOut(Schema):
    key: str = Field(description="the unit's code or the district's GB/T 2260 code")
    name: str
    tickets: int
    on_time_sign_rate: float | None = Field(description="0..1; null when nothing to count")
    on_time_close_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    return_rate: float | None
    counts: RateCountsOut


class RatesOut(Schema):
    start: dt.date
    end: dt.date
    by: str
    rows: list[RateOut]


@router.get(
    "/rates",
    response={200: RatesOut, 403: ErrorOut, 422: ErrorOut},
    summary="On-time sign-for, on-time closure, resolution, satisfaction and return rates",
    description="Of the tickets taken in from `start` to `end`, per unit or per district. "
    "Supervisors read their regions; hotline agents and administrators read everywhere.",
)
def rates(
    request: HttpRequest,
    start: dt.date = Query(..., description="first day (tickets taken in from)"),  # noqa: B008
    end: dt.date = Query(..., description="last day of the period, included"),  # noqa: B008
    by: Literal["unit", "region"] = Query("unit", description="per unit or per district"),
):
    computed = selectors.hotline_rates_for(request.auth, start=start, end=end, by=by)
    names = selectors.unit_names() if by == "unit" else selectors.region_names()
    return {
        "start": start,
        "end": end,
        "by": by,
        "rows": [{**r.as_dict(), "name": names.get(r.key, r.key)} for r in computed],
    }


# --- tickets -------------------------------------------------------------------------------------


class ContactOut(Schema):
    name: str
    phone: str
    email: str


class ContactRevealIn(Schema):
    purpose: Literal["callback", "handling", "supervision"] | None = Field(
        None, description="why the details are needed; default by the reader's role"
    )


class RevealedContactOut(ContactOut):
    description: str = Field(description="the complaint's text with its numbers unmasked")


class TicketEventOut(Schema):
    at: dt.datetime
    action: str
    from_status: str
    to_status: str
    unit: str


class TicketOut(Schema):
    reference: str
    channel: str
    status: str
    status_label: str
    category: str
    category_name: str
    urgency: str
    region_code: str
    street_code: str
    unit: str
    unit_name: str
    created_at: dt.datetime
    sign_due_at: dt.datetime | None
    due_date: dt.date | None
    deadline_state: str
    escalated: bool


class TicketDetailOut(TicketOut):
    description: str
    address: str
    latitude: float | None
    longitude: float | None
    assisting: list[str]
    accepted_at: dt.datetime | None
    replied_at: dt.datetime | None
    reply: str
    callback_due: dt.date | None
    callback_at: dt.datetime | None
    resolved: bool | None
    satisfied: bool | None
    closed_at: dt.datetime | None
    contact: ContactOut
    events: list[TicketEventOut]


class TicketList(Schema):
    count: int
    items: list[TicketOut]


StatusFilter = Literal["received", "dispatched", "accepted", "returned", "replied", "closed"]


def _ticket_out(ticket: Ticket, units: dict[str, str]) -> dict[str, Any]:
    names = categories().get(ticket.category, {})
    return {
        "reference": ticket.reference,
        "channel": ticket.channel,
        "status": ticket.status,
        "status_label": str(Ticket.Status(ticket.status).label),
        "category": ticket.category,
        "category_name": in_language(names.get("zh", ticket.category), names.get("en", "")),
        "urgency": ticket.urgency,
        "region_code": ticket.region_code,
        "street_code": ticket.street_code,
        "unit": ticket.unit,
        "unit_name": units.get(ticket.unit, ticket.unit),
        "created_at": ticket.created_at,
        "sign_due_at": ticket.sign_due_at,
        "due_date": ticket.due_date,
        "deadline_state": ticket.deadline_state,
        "escalated": ticket.escalated_at is not None,
    }


@router.get(
    "/tickets",
    response={200: TicketList},
    summary="The tickets I may read, newest first",
    description="A citizen's own tickets, a unit's tickets (held or returned), every ticket for "
    "the hotline, a supervisor's regions' tickets.",
)
def list_tickets(
    request: HttpRequest,
    status: StatusFilter | None = None,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    tickets = selectors.tickets_visible_to(request.auth)
    if status:
        tickets = tickets.filter(status=status)
    units = selectors.unit_names()
    page = tickets[offset : offset + limit]
    return {"count": tickets.count(), "items": [_ticket_out(t, units) for t in page]}


@router.get(
    "/tickets/{reference}",
    response={200: TicketDetailOut, 404: ErrorOut},
    summary="One ticket with its timeline (contact details and numbers in the text masked)",
    description="Contact details and the numbers written into the text are masked for everyone "
    "but the citizen who filed it; those allowed reveal them with POST .../contact.",
)
def get_ticket(request: HttpRequest, reference: str):
    ticket = selectors.ticket_for(request.auth, reference)
    return {
        **_ticket_out(ticket, selectors.unit_names()),
        "description": selectors.description_for(request.auth, ticket),
        "address": ticket.address,
        "latitude": float(ticket.latitude) if ticket.latitude is not None else None,
        "longitude": float(ticket.longitude) if ticket.longitude is not None else None,
        "assisting": list(ticket.assisting),
        "accepted_at": ticket.accepted_at,
        "replied_at": ticket.replied_at,
        "reply": selectors.reply_for(request.auth, ticket),
        "callback_due": ticket.callback_due,
        "callback_at": ticket.callback_at,
        "resolved": ticket.resolved,
        "satisfied": ticket.satisfied,
        "closed_at": ticket.closed_at,
        "contact": selectors.contact_for(request.auth, ticket),
        "events": [
            {
                "at": e.at,
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "unit": e.unit,
            }
            for e in ticket.events.all()
        ],
    }


@router.post(
    "/tickets/{reference}/contact",
    response={200: RevealedContactOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Show the caller's contact details in full (recorded in the audit trail)",
    description="Hotline agents and supervisors; the ticket's unit only when the ticket is "
    "marked contact_needed (otherwise 403, and nothing is recorded).",
)
def reveal_contact(request: HttpRequest, reference: str, payload: ContactRevealIn):
    ticket = selectors.ticket_for(request.auth, reference)
    revealed = services.ticket_contact_reveal(
        actor=request.auth, ticket=ticket, purpose=payload.purpose or ""
    )
    return {
        "name": revealed.name,
        "phone": revealed.phone,
        "email": revealed.email,
        "description": revealed.description,
    }
