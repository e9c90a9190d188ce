"""Every write to a 12345 ticket: intake, dispatch, sign-for, returns, replies, callbacks.

Each service locks the ticket, asks the pure lifecycle whether the step is allowed, writes the
change with its timeline event and its audit record in one transaction, and tells the people
concerned (inbox and e-mail, sent after commit through the outbox).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.base import ContentFile
from django.core.validators import EmailValidator, URLValidator, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onething.accounts.models import Role, RoleAssignment, User
from onething.applications.uploads import sniff_content_type
from onething.audit.services import audit_record
from onething.catalog.fields import PHONE
from onething.catalog.selectors import work_calendar
from onething.complaints import deadlines, lifecycle
from onething.complaints.lifecycle import TicketAction, TicketStatus
from onething.complaints.locate import LocationUnknown, areas
from onething.complaints.models import (
    CategoryCorrection,
    Channel,
    ExtensionRequest,
    HotSpot,
    Open311Client,
    Ticket,
    TicketAttachment,
    TicketEvent,
    UnitMember,
)
from onething.complaints.runtime import categories, dispatch_catalogue, suggestion_model
from onething.complaints.selectors import (
    is_hotline_agent,
    is_own_ticket,
    is_ticket_supervisor,
    may_reveal_contact,
    supervises,
    units_of,
)
from onething.core.actors import actor_label, actor_user
from onething.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from onething.core.events import publish
from onething.core.masking import mask_personal_numbers
from onething.core.references import save_with_new_reference
from onething.core.spreadsheets import csv_document

MAX_DESCRIPTION = 4000
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 5
MAX_MEDIA_URL = 1000
ATTACHMENT_TYPES = {"image/png", "image/jpeg", "application/pdf"}
# Web and Open311 tickets go straight to a unit when the classifier is this sure (or a keyword
# rule decided); otherwise they wait in the dispatch queue for an agent to confirm the category.
AUTO_DISPATCH_CONFIDENCE = 0.6
# Similar tickets: same category, within this distance or the same street, within this time.
SIMILAR_WITHIN_METRES = 300
SIMILAR_WITHIN_HOURS = 72
TICKET_REFERENCE = re.compile(r"^12345-\d{8}-[A-Z2-9]{6}$")


# --- who may do what -----------------------------------------------------------------------------


def _require_agent(actor: Any) -> None:
    if not is_hotline_agent(actor):
        raise NotAllowed(_("Only hotline agents may do this."))


def _require_unit(actor: Any, ticket: Ticket) -> None:
    if not ticket.unit or ticket.unit not in units_of(actor):
        raise NotFound(_("No such ticket."))


def _require_supervisor(actor: Any, ticket: Ticket) -> None:
    if not supervises(actor, ticket):
        raise NotAllowed(_("Only a supervisor over this ticket's region may do this."))


def _require_dispatcher(actor: Any, ticket: Ticket) -> None:
    """Hotline agents dispatch; supervisors over the region too (escalated tickets)."""
    if is_hotline_agent(actor):
        return
    _require_supervisor(actor, ticket)


# --- helpers -------------------------------------------------------------------------------------


def _lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _record(
    ticket: Ticket,
    *,
    actor: Any,
    action: str,
    from_status: str = "",
    note: str = "",
    data: Mapping[str, Any] | None = None,
) -> TicketEvent:
    """The timeline event and the audit record of one change, in the caller's transaction."""
    event = TicketEvent.objects.create(
        ticket=ticket,
        action=action,
        actor=actor_user(actor),
        actor_label=actor_label(actor),
        from_status=from_status,
        to_status=ticket.status,
        unit=ticket.unit,
        note=mask_personal_numbers(note),
        data=dict(data or {}),
        at=timezone.now(),
    )
    audit_record(
        actor=actor_label(actor),
        action=f"ticket.{action}",
        stream=f"ticket:{ticket.public_id}",
        subject=ticket.reference,
        data={
            "from": from_status,
            "to": ticket.status,
            "unit": ticket.unit,
            "note": mask_personal_numbers(note),
            **dict(data or {}),
        },
    )
    return event


def _move(ticket: Ticket, action: TicketAction) -> str:
    """Apply `action`'s transition to the locked ticket; the status it left."""
    before = ticket.status
    try:
        ticket.status = lifecycle.next_status(ticket.status, action)
    except lifecycle.TransitionNotAllowed:
        raise Conflict(
            _("A ticket that is %(status)s cannot be changed this way.")
            % {"status": Ticket.Status(before).label}
        ) from None
    return before


def _now() -> dt.datetime:
    return timezone.now()


def _today() -> dt.date:
    return timezone.localdate()


def _metres(a: Ticket, b: Ticket) -> float | None:
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return None
    # Equirectangular: exact enough for a few hundred metres.
    lat = math.radians(float(a.latitude + b.latitude) / 2)
    dx = math.radians(float(a.longitude - b.longitude)) * math.cos(lat)
    dy = math.radians(float(a.latitude - b.latitude))
    return 6_371_000 * math.hypot(dx, dy)


# --- intake --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes


@dataclass(frozen=True)
class Intake:
    """What a citizen, an agent or an Open311 client tells us; checked by `ticket_receive`."""

    description: str
    address: str = ""
    latitude: str | float | Decimal | None = None
    longitude: str | float | Decimal | None = None
    category: str = ""  # an agent's choice (phone) or an Open311 service_code
    urgency: str = deadlines.Urgency.NORMAL.value
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    contact_needed: bool = False
    attachments: tuple[Upload, ...] = ()
    media_url: str = ""  # Open311: a link to a photo the client hosts


def _coordinate(raw: Any, low: float, high: float, field: str, fields: dict) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        fields[field] = _("Give a number of degrees, like 24.4798.")
        return None
    if not value.is_finite() or not (low <= value <= high):
        fields[field] = _("Must lie between %(low)s and %(high)s degrees.") % {
            "low": low,
            "high": high,
        }
        return None
    return value.quantize(Decimal("0.000001"))


def check_intake(intake: Intake, *, channel: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The clean values of an intake and one message per wrong field (all at once)."""
    fields: dict[str, str] = {}
    clean: dict[str, Any] = {}
    description = (intake.description or "").strip()
    if not description:
        fields["description"] = _("Describe the problem.")
    elif len(description) > MAX_DESCRIPTION:
        fields["description"] = _("At most %(n)d characters.") % {"n": MAX_DESCRIPTION}
    elif "\x00" in description:
        fields["description"] = _("The text holds a character that is not allowed.")
    clean["description"] = description
    category = (intake.category or "").strip()
    if category and category not in categories():
        fields["category"] = _("Choose one of the hotline's categories.")
    if channel == Channel.PHONE and not category:
        fields["category"] = _("Confirm or correct the suggested category.")
    clean["category"] = category
    if intake.urgency not in {u.value for u in deadlines.Urgency}:
        fields["urgency"] = _("Choose normal, urgent or very urgent.")
    clean["urgency"] = intake.urgency
    latitude = _coordinate(intake.latitude, -90, 90, "lat", fields)
    longitude = _coordinate(intake.longitude, -180, 180, "long", fields)
    if (latitude is None) != (longitude is None) and "lat" not in fields and "long" not in fields:
        fields["lat" if latitude is None else "long"] = _("Give both coordinates or neither.")
    address = (intake.address or "").strip()[:300]
    clean.update(address=address, latitude=latitude, longitude=longitude)
    if not fields.keys() & {"lat", "long"}:
        if not address and latitude is None:
            fields["address"] = _("Give the address or the coordinates of the problem.")
        else:
            try:
                place = areas().locate(address, latitude, longitude)
                clean.update(region_code=place.region_code, street_code=place.street_code)
            except LocationUnknown:
                fields["address"] = _(
                    "This place is not in a district the hotline serves: name the district or "
                    "street (for example 厦门市思明区中华街道), or give coordinates inside it."
                )
    phone = (intake.contact_phone or "").strip().replace(" ", "")
    if phone and not PHONE.match(phone):
        fields["phone"] = _("Give a mobile number of 11 digits or a landline with area code.")
    if channel == Channel.PHONE and not phone:
        fields["phone"] = _("Take down the caller's number.")
    email = (intake.contact_email or "").strip()
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            fields["email"] = _("Give a valid e-mail address.")
    name = (intake.contact_name or "").strip()
    if len(name) > 100:
        fields["first_name"] = _("At most %(n)d characters.") % {"n": 100}
    clean.update(contact_name=name[:100], contact_phone=phone, contact_email=email)
    clean["contact_needed"] = bool(intake.contact_needed)
    media_url = (intake.media_url or "").strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            fields["media_url"] = _("Give a web address starting with http:// or https://.")
        if len(media_url) > MAX_MEDIA_URL:
            fields["media_url"] = _("At most %(n)d characters.") % {"n": MAX_MEDIA_URL}
    clean["media_url"] = media_url
    if len(intake.attachments) > MAX_ATTACHMENTS:
        fields["media"] = _("At most %(n)d files.") % {"n": MAX_ATTACHMENTS}
    for upload in intake.attachments:
        if not upload.content:
            fields["media"] = _("The file is empty.")
        elif len(upload.content) > MAX_ATTACHMENT_BYTES:
            fields["media"] = _("Files may be at most 10 MB.")
        elif sniff_content_type(upload.content) not in ATTACHMENT_TYPES:
            fields["media"] = _("Attach a photo (PNG or JPEG) or a PDF.")
    return clean, fields


def ticket_receive(
    *,
    actor: Any,
    channel: str,
    intake: Intake,
    client: Open311Client | None = None,
) -> Ticket:
    """Take a complaint in: check it, suggest its category, place it, link it to a similar
    open ticket, and dispatch it when the category is settled."""
    if channel == Channel.PHONE:
        _require_agent(actor)
    clean, fields = check_intake(intake, channel=channel)
    if fields:
        raise InvalidInput(_("Some information is missing or wrong."), fields=fields)
    suggestion = suggestion_model().suggest(clean["description"])
    suggested, confidence = suggestion.category, suggestion.confidence
    with transaction.atomic():
        citizen = actor if getattr(actor, "is_authenticated", False) and channel == "web" else None
        ticket = Ticket(
            channel=channel,
            description=clean["description"],
            category=clean["category"] or suggested,
            suggested_category=suggested,
            suggestion_confidence=confidence,
            suggestion_rule=suggestion.rule,
            category_confirmed=channel == Channel.PHONE,
            urgency=clean["urgency"],
            address=clean["address"],
            latitude=clean["latitude"],
            longitude=clean["longitude"],
            region_code=clean["region_code"],
            street_code=clean["street_code"],
            contact_name=clean["contact_name"],
            contact_phone=clean["contact_phone"],
            contact_email=clean["contact_email"],
            contact_needed=clean["contact_needed"],
            media_url=clean["media_url"],
            citizen=citizen,
            taken_by=actor if channel == Channel.PHONE else None,
            client=client,
        )
        # `12345-20261127-7K3QXZ`: the hotline's prefix, the day it came in, a random part.
        save_with_new_reference(ticket, "12345", separator="-")
        for upload in intake.attachments:
            attachment = TicketAttachment(
                ticket=ticket,
                name=upload.name[:200],
                content_type=sniff_content_type(upload.content),
                size=len(upload.content),
                sha256=hashlib.sha256(upload.content).hexdigest(),
            )
            attachment.file.save("upload", ContentFile(upload.content), save=False)
            attachment.save()
        _record(
            ticket,
            actor=actor,
            action="received",
            data={
                "channel": channel,
                "suggested": suggested,
                "confidence": round(confidence, 3),
                "rule": ticket.suggestion_rule,
                "region": ticket.region_code,
                "street": ticket.street_code,
            },
        )
        if channel == Channel.PHONE and ticket.category != suggested:
            CategoryCorrection.objects.create(
                ticket=ticket,
                text=ticket.description,
                suggested=suggested,
                chosen=ticket.category,
                corrected_by=actor,
            )
        lead = _similar_open_lead(ticket)
        if lead is not None:
            ticket.lead = lead
            ticket.unit, ticket.assisting = lead.unit, list(lead.assisting)
            ticket.save(update_fields=["lead", "unit", "assisting"])
            _record(ticket, actor=actor, action="linked", data={"lead": lead.reference})
            if lead.status in lifecycle.WITH_UNIT | {TicketStatus.RETURNED}:
                _dispatch(
                    ticket,
                    actor=actor,
                    unit=lead.unit,
                    assisting=lead.assisting,
                    routed_by=f"lead {lead.reference}",
                    transfer=False,
                )
        elif ticket.category_confirmed or (
            # A category the client chose (an Open311 service_code) that the classifier does
            # not agree with waits for an agent, rather than going to the wrong unit.
            ticket.category == suggested
            and (bool(suggestion.rule) or confidence >= AUTO_DISPATCH_CONFIDENCE)
        ):
            _route_and_dispatch(ticket, actor=actor)
        publish("ticket.received", ticket=ticket.pk)
    return ticket


def _similar_open_lead(ticket: Ticket) -> Ticket | None:
    """An open ticket of the same category nearby from the last hours, not itself linked."""
    since = _now() - dt.timedelta(hours=SIMILAR_WITHIN_HOURS)
    candidates = (
        Ticket.objects.filter(
            category=ticket.category,
            region_code=ticket.region_code,
            created_at__gte=since,
            lead__isnull=True,
            status__in=[s.value for s in lifecycle.OPEN if s != TicketStatus.REPLIED],
        )
        .exclude(pk=ticket.pk)
        .order_by("created_at", "pk")
    )
    for candidate in candidates:
        distance = _metres(ticket, candidate)
        if distance is not None and distance <= SIMILAR_WITHIN_METRES:
            return candidate
        # Without coordinates: the same street and the same address, in the same days.
        if (
            distance is None
            and ticket.street_code
            and candidate.street_code == ticket.street_code
            and ticket.address
            and ticket.address == candidate.address
        ):
            return candidate
    return None


# --- dispatch ------------------------------------------------------------------------------------


def _route_and_dispatch(ticket: Ticket, *, actor: Any) -> None:
    try:
        route = dispatch_catalogue().route(
            ticket.category, ticket.region_code, street=ticket.street_code or None
        )
    except ValueError as exc:
        # The place lies outside the dispatch catalogue (the areas file and the loaded catalog
        # disagree): the ticket waits in the agents' queue to be dispatched by hand.
        _record(ticket, actor=actor, action="not_routed", data={"reason": str(exc)[:200]})
        return
    _dispatch(
        ticket,
        actor=actor,
        unit=route.responsible,
        assisting=route.assisting,
        routed_by=str(route.rule),
        transfer=False,
    )


def _dispatch(
    ticket: Ticket,
    *,
    actor: Any,
    unit: str,
    assisting: Iterable[str],
    routed_by: str,
    transfer: bool,
    action: TicketAction = TicketAction.DISPATCH,
) -> None:
    before = _move(ticket, action)
    now = _now()
    ticket.unit, ticket.assisting, ticket.routed_by = unit, list(assisting), routed_by[:120]
    ticket.dispatched_at = now
    ticket.sign_due_at = deadlines.sign_due(now, ticket.urgency)
    ticket.accepted_at = None
    ticket.sign_overdue = False
    ticket.due_date = deadlines.resolve_due(
        work_calendar(),
        timezone.localdate(now),
        ticket.urgency,
        extension_days=ticket.extension_days,
        region=ticket.region_code,
    )
    ticket.deadline_state = "on_time"
    if transfer:
        ticket.handoffs += 1
    ticket.save()
    _record(
        ticket,
        actor=actor,
        action="rehandle" if action == TicketAction.REHANDLE else "dispatched",
        from_status=before,
        data={
            "unit": unit,
            "assisting": list(assisting),
            "rule": routed_by,
            "sign_due": ticket.sign_due_at.isoformat(),
            "due": ticket.due_date.isoformat(),
            "transfer": transfer,
        },
    )
    if ticket.handoffs >= 3 and ticket.escalated_at is None:
        _escalate(ticket, actor=actor, reason="handoffs")
    publish("ticket.dispatched", ticket=ticket.pk)


def ticket_dispatch(*, actor: Any, ticket: Ticket, unit: str = "") -> Ticket:
    """Send a ticket to a unit: by the catalogue (no `unit`), or to the unit a dispatcher
    chooses (a transfer when a unit held it already)."""
    with transaction.atomic():
        ticket = _lock(ticket)
        _require_dispatcher(actor, ticket)
        if unit:
            if unit not in dispatch_catalogue().units:
                raise InvalidInput(
                    _("Some information is missing or wrong."),
                    fields={"unit": _("Choose a unit of the dispatch catalogue.")},
                )
            held = ticket.status in lifecycle.WITH_UNIT
            _dispatch(
                ticket,
                actor=actor,
                unit=unit,
                assisting=[],
                routed_by=f"by hand: {actor_label(actor)}",
                transfer=held and unit != ticket.unit,
            )
        else:
            _route_and_dispatch(ticket, actor=actor)
    return ticket


def ticket_correct_category(*, actor: Any, ticket: Ticket, category: str) -> Ticket:
    """An agent confirms or corrects the category; routing re-runs when it changes."""
    if category not in categories():
        raise InvalidInput(
            _("Some information is missing or wrong."),
            fields={"category": _("Choose one of the hotline's categories.")},
        )
    with transaction.atomic():
        ticket = _lock(ticket)
        _require_agent(actor)
        if ticket.status == TicketStatus.CLOSED:
            raise Conflict(_("A closed ticket keeps its category."))
        previous = ticket.category
        ticket.category, ticket.category_confirmed = category, True
        ticket.save(update_fields=["category", "category_confirmed", "updated_at"])
        if category != ticket.suggested_category or category != previous:
            CategoryCorrection.objects.create(
                ticket=ticket,
                text=ticket.description,
                suggested=ticket.suggested_category,
                chosen=category,
                corrected_by=actor,
            )
        _record(
            ticket,
            actor=actor,
            action="category_confirmed" if category == previous else "category_corrected",
            from_status=ticket.status,
            data={"from": previous, "to": category},
        )
        if ticket.status == TicketStatus.RECEIVED or (
            category != previous and ticket.status in lifecycle.WITH_UNIT | {"returned"}
        ):
            _route_and_dispatch(ticket, actor=actor)
    return ticket


def ticket_accept(*, actor: Any, ticket: Ticket) -> Ticket:
    """签收: the unit signs for the ticket (on time if before `sign_due_at`)."""
    with transaction.atomic():
        ticket = _lock(ticket)
        _require_unit(actor, ticket)
        before = _move(ticket, TicketAction.ACCEPT)
        ticket.accepted_at = _now()
        ticket.save()
        on_time = ticket.accepted_at <= ticket.sign_due_at if ticket.sign_due_at else True
        _record(
            ticket, actor=actor, action="accepted", from_status=before, data={"on_time": on_time}
        )
    return ticket


def ticket_return(*, actor: Any, ticket: Ticket, reason: str) -> Ticket:
    """退单: not this unit's business. Within the window after dispatch, with a reason; the
    ticket goes at once to the next unit of the catalogue, or to a supervisor after 3."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("Some information is missing or wrong."),
            fields={"reason": _("Say why this ticket is not your unit's.")},
        )
    with transaction.atomic():
        ticket = _lock(ticket)
        _require_unit(actor, ticket)
        if ticket.dispatched_at and not deadlines.return_window_open(ticket.dispatched_at, _now()):
            raise Conflict(
                _(
                    "The window to return this ticket closed %(hours)d hours after dispatch; ask "
                    "the hotline to transfer it instead."
                )
                % {"hours": deadlines.RETURN_WINDOW_HOURS}
            )
        returning = ticket.unit
        before = _move(ticket, TicketAction.RETURN)
        ticket.returned_by = [*ticket.returned_by, returning]
        ticket.handoffs += 1
        ticket.save()
        _record(
            ticket,
            actor=actor,
            action="returned",
            from_status=before,
            note=reason,
            data={"returned_by": returning, "handoffs": ticket.handoffs},
        )
        reroute = dispatch_catalogue().reroute_after_return(
            ticket.category,
            ticket.region_code,
            street=ticket.street_code or None,
            returned_by=[u for u in ticket.returned_by if u in dispatch_catalogue().units],
            transfers=ticket.handoffs - len(ticket.returned_by),
        )
        if reroute.escalate or reroute.route is None:
            # 提级督办: a supervisor decides who handles it.
            ticket.unit = ""
            ticket.save(update_fields=["unit", "updated_at"])
            _escalate(ticket, actor=actor, reason="handoffs")
        else:
            _dispatch(
                ticket,
                actor=actor,
                unit=reroute.route.responsible,
                assisting=reroute.route.assisting,
                routed_by=str(reroute.route.rule),
                transfer=False,
            )
    return ticket


def _escalate(ticket: Ticket, *, actor: Any, reason: str) -> None:
    ticket.escalated_at = _now()
    ticket.escalation_reason = reason
    ticket.save(update_fields=["escalated_at", "escalation_reason", "updated_at"])
    _record(
        ticket,
        actor=actor,
        action="escalated",
        from_status=ticket.status,
        data={"reason": reason, "handoffs": ticket.handoffs, "rehandled": ticket.rehandled},
    )
    publish("ticket.escalated", ticket=ticket.pk)


# --- reply, callback, re-handling ----------------------------------------------------------------


def ticket_reply(*, actor: Any, ticket: Ticket, reply: str) -> Ticket:
    """答复: what the unit did. Tickets linked to this one get the same reply."""
    reply = (reply or "").strip()
    if not reply:
        raise InvalidInput(
            _("Some information is missing or wrong."),
            fields={"reply": _("Say what your unit did about the problem.")},
        )
    with transaction.atomic():
        ticket = _lock(ticket)
        _require_unit(actor, ticket)
        _answer(ticket, actor=actor, reply=reply, action=TicketAction.REPLY)
        for linked in Ticket.objects.select_for_update().filter(
            lead=ticket, status__in=[s.value for s in lifecycle.OPEN if s != "replied"]
        ):
            # Answered by the lead's unit: a ticket linked before the lead was dispatched (or
            # transferred) holds no unit, or another; its figures and ratings go to this one.
            linked.unit, linked.assisting = ticket.unit, list(ticket.assisting)
            _answer(linked, actor=actor, reply=reply, action=TicketAction.FOLLOW_LEAD)
    return ticket


def _answer(ticket: Ticket, *, actor: Any, reply: str, action: TicketAction) -> None:
    before = _move(ticket, action)
    ticket.reply = reply[:MAX_DESCRIPTION]
    ticket.replied_at = _now()
    ticket.callback_due = deadlines.callback_due(
        work_calendar(), timezone.localdate(ticket.replied_at), ticket.region_code
    )
    ticket.callback_overdue = False
    ticket.save()
    on_time = ticket.due_date is None or timezone.localdate(ticket.replied_at) <= ticket.due_date
    _record(
        ticket,
        actor=actor,
        action="replied",
        from_status=before,
        note=reply,
        data={"on_time": on_time, "via_lead": action == TicketAction.FOLLOW_LEAD},
    )
    publish("ticket.replied", ticket=ticket.pk)


def ticket_callback(
    *,
    actor: Any,
    ticket: Ticket,
    reached: bool,
    resolved: bool | None,
    satisfied: bool | None,
    note: str = "",
    rehandle: bool = False,
) -> Ticket:
    """回访: the hotline calls the citizen back and records resolved and satisfied.

    Solved and satisfied closes the ticket. Otherwise the agent sends it back for re-handling
    (重办) — to the same unit, with a new deadline — or closes it (a demand that cannot be met).
    A call that reaches nobody keeps the ticket waiting for another call on the next working day;
    the third such call closes it (lifecycle.callback_next).
    """
    fields = {}
    if reached and resolved is None:
        fields["resolved"] = _("Say whether the problem was resolved.")
    if reached and satisfied is None:
        fields["satisfied"] = _("Say whether the citizen is satisfied.")
    if fields:
        raise InvalidInput(_("Some information is missing or wrong."), fields=fields)
    with transaction.atomic():
        ticket = _lock(ticket)
        _require_agent(actor)
        if ticket.status != TicketStatus.REPLIED:
            raise Conflict(_("Only a replied ticket can be called back."))
        unreached_before = ticket.events.filter(
            action="callback", at__gte=ticket.replied_at, data__reached=False
        ).count()
        outcome = lifecycle.callback_next(
            reached=reached,
            resolved=bool(resolved),
            satisfied=bool(satisfied),
            unreached_before=unreached_before,
        )
        ticket.callback_at = _now()
        ticket.callback_reached = reached
        ticket.resolved = resolved if reached else None
        ticket.satisfied = satisfied if reached else None
        if outcome == lifecycle.CallbackNext.CALL_AGAIN:
            ticket.callback_due = deadlines.callback_due(
                work_calendar(), timezone.localdate(ticket.callback_at), ticket.region_code
            )
            ticket.callback_overdue = False
        ticket.save()
        _record(
            ticket,
            actor=actor,
            action="callback",
            from_status=ticket.status,
            note=note,
            data={
                "reached": reached,
                "resolved": resolved,
                "satisfied": satisfied,
                "unreached_calls": unreached_before + (0 if reached else 1),
            },
        )
        if outcome == lifecycle.CallbackNext.CALL_AGAIN:
            pass  # still to be called back, on the next working day
        elif outcome == lifecycle.CallbackNext.AGENT_DECIDES and rehandle:
            _rehandle(ticket, actor=actor, reason=note)
        else:
            before = _move(ticket, TicketAction.CLOSE)
            ticket.closed_at = _now()
            ticket.save()
            _record(ticket, actor=actor, action="closed", from_status=before)
            publish("ticket.closed", ticket=ticket.pk)
    return ticket


def ticket_rehandle(*, actor: Any, ticket: Ticket, reason: str) -> Ticket:
    """重办: an unresolved or unsatisfied ticket goes back to the unit that replied."""
    with transaction.atomic():
        ticket = _lock(ticket)
        _require_dispatcher(actor, ticket)
        if ticket.resolved and ticket.satisfied:
            raise Conflict(_("The citizen said it was resolved and is satisfied."))
        _rehandle(ticket, actor=actor, reason=reason)
    return ticket


# The second re-handling escalates: the unit has twice failed to solve the citizen's problem.
REHANDLINGS_BEFORE_ESCALATION = 2


def _rehandle(ticket: Ticket, *, actor: Any, reason: str) -> None:
    """Back to the same unit with a new deadline.

    A re-handling is not a return or transfer (the ticket was routed right; the unit did not
    solve it), so it does not count toward the escalation after three of those; the second
    re-handling of a ticket escalates instead.
    """
    if not ticket.unit:
        raise Conflict(_("No unit handled this ticket; dispatch it instead."))
    ticket.rehandled += 1
    ticket.reply, ticket.replied_at, ticket.callback_due, ticket.closed_at = "", None, None, None
    ticket.callback_overdue = False
    _dispatch(
        ticket,
        actor=actor,
        unit=ticket.unit,
        assisting=ticket.assisting,
        routed_by=f"re-handling {ticket.rehandled}: {reason}"[:120],
        transfer=False,
        action=TicketAction.REHANDLE,
    )
    if ticket.rehandled == REHANDLINGS_BEFORE_ESCALATION:
        _escalate(ticket, actor=actor, reason="rehandled")


# --- extensions ----------------------------------------------------------------------------------


def extension_request(*, actor: Any, ticket: Ticket, days: int, reason: str) -> ExtensionRequest:
    fields = {}
    if not isinstance(days, int) or not 1 <= days <= deadlines.MAX_EXTENSION_WORKING_DAYS:
        fields["days"] = _("Between 1 and %(n)d working days.") % {
            "n": deadlines.MAX_EXTENSION_WORKING_DAYS
        }
    if not (reason or "").strip():
        fields["reason"] = _("Say why more time is needed.")
    if fields:
        raise InvalidInput(_("Some information is missing or wrong."), fields=fields)
    with transaction.atomic():
        ticket = _lock(ticket)
        _require_unit(actor, ticket)
        if ticket.status not in lifecycle.WITH_UNIT:
            raise Conflict(_("Only a ticket your unit is handling can be extended."))
        if ticket.extensions.filter(status=ExtensionRequest.Status.PENDING).exists():
            raise Conflict(_("An extension for this ticket is already waiting for a decision."))
        extension = ExtensionRequest.objects.create(
            ticket=ticket, unit=ticket.unit, days=days, reason=reason.strip(), requested_by=actor
        )
        _record(
            ticket,
            actor=actor,
            action="extension_requested",
            from_status=ticket.status,
            note=reason,
            data={"days": days},
        )
        publish("ticket.extension_requested", ticket=ticket.pk, extension=extension.pk)
    return extension


def extension_decide(
    *, actor: Any, extension: ExtensionRequest, approve: bool, note: str = ""
) -> ExtensionRequest:
    with transaction.atomic():
        ticket = _lock(extension.ticket)
        extension = ExtensionRequest.objects.select_for_update().get(pk=extension.pk)
        _require_supervisor(actor, ticket)
        if extension.status != ExtensionRequest.Status.PENDING:
            raise Conflict(_("This extension was already decided."))
        extension.status = (
            ExtensionRequest.Status.APPROVED if approve else ExtensionRequest.Status.REFUSED
        )
        extension.decided_by, extension.decided_at = actor, _now()
        extension.decision_note = note
        extension.save()
        if approve and ticket.due_date:
            ticket.extension_days += extension.days
            ticket.due_date = work_calendar().add_working_days(
                ticket.due_date, extension.days, ticket.region_code
            )
            ticket.deadline_state = "on_time"
            ticket.save()
        _record(
            ticket,
            actor=actor,
            action="extension_approved" if approve else "extension_refused",
            from_status=ticket.status,
            note=note,
            data={
                "days": extension.days,
                "due": ticket.due_date.isoformat() if ticket.due_date else None,
            },
        )
        publish("ticket.extension_decided", ticket=ticket.pk, extension=extension.pk)
    return extension


# --- personal data, read on purpose --------------------------------------------------------------

# Why a member of staff opens the caller's contact details; the audit record keeps it.
REVEAL_PURPOSES = ("callback", "handling", "supervision")


def default_reveal_purpose(user: Any) -> str:
    """The purpose a reader's role reveals for: agents call back, supervisors supervise, units
    handle the ticket."""
    if is_hotline_agent(user):
        return "callback"
    if is_ticket_supervisor(user):
        return "supervision"
    return "handling"


@dataclass(frozen=True)
class RevealedContact:
    """The caller's contact details and the complaint's text, whole."""

    name: str
    phone: str
    email: str
    description: str


@transaction.atomic
def ticket_contact_reveal(*, actor: Any, ticket: Ticket, purpose: str = "") -> RevealedContact:
    """Show a member of staff the caller's name, phone and e-mail (and the numbers written into
    the text) in full; every reveal is recorded in the ticket's audit stream.

    NotAllowed (and nothing recorded) for a unit whose ticket is not marked `contact_needed`.
    """
    if not may_reveal_contact(actor, ticket):
        raise NotAllowed(
            _(
                "Only the hotline and supervisors see the caller's contact details, and a unit "
                "only when the ticket says it must contact the caller itself."
            )
        )
    purpose = purpose or default_reveal_purpose(actor)
    if purpose not in REVEAL_PURPOSES:
        raise InvalidInput(
            _("Some information is missing or wrong."),
            fields={"purpose": _("Choose callback, handling or supervision.")},
        )
    audit_record(
        actor=actor_label(actor),
        action="ticket.contact_revealed",
        stream=f"ticket:{ticket.public_id}",
        subject=ticket.reference,
        purpose=purpose,
        data={"fields": ["name", "phone", "email", "description"], "unit": ticket.unit},
    )
    return RevealedContact(
        name=ticket.contact_name,
        phone=ticket.contact_phone,
        email=ticket.contact_email,
        description=ticket.description,
    )


@transaction.atomic
def ticket_attachment_open(
    *, actor: Any, ticket: Ticket, attachment: TicketAttachment
) -> TicketAttachment:
    """Record that someone opened a photo or file of the ticket: a caller's photo can show
    people, plates or a home, so every download is in the audit trail under the reader's name."""
    if attachment.ticket_id != ticket.pk:
        raise NotFound(_("No such file."))
    audit_record(
        actor=actor_label(actor),
        action="ticket.attachment_opened",
        stream=f"ticket:{ticket.public_id}",
        subject=ticket.reference,
        purpose="own" if is_own_ticket(actor, ticket) else default_reveal_purpose(actor),
        data={"attachment": attachment.pk, "sha256": attachment.sha256},
    )
    return attachment


# --- the sweep -----------------------------------------------------------------------------------


def ticket_sweep(*, actor: Any, now: dt.datetime | None = None) -> dict[str, int]:
    """Warn before a reply is due, mark late sign-fors and replies, escalate overdue replies,
    mark callbacks past their day; each mark is made (and told) once."""
    now = now or _now()
    today = timezone.localdate(now)
    calendar = work_calendar()
    counts = {"sign_overdue": 0, "due_soon": 0, "overdue": 0, "callback_overdue": 0}
    late_signing = Ticket.objects.filter(
        status=TicketStatus.DISPATCHED, sign_overdue=False, sign_due_at__lt=now
    )
    for pk in late_signing.values_list("pk", flat=True):
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=pk)
            if ticket.status != TicketStatus.DISPATCHED or ticket.sign_overdue:
                continue
            ticket.sign_overdue = True
            ticket.save(update_fields=["sign_overdue", "updated_at"])
            _record(ticket, actor=actor, action="sign_overdue", from_status=ticket.status)
            publish("ticket.deadline", ticket=ticket.pk, state="sign_overdue")
            counts["sign_overdue"] += 1
    open_with_unit = Ticket.objects.filter(
        status__in=[s.value for s in lifecycle.WITH_UNIT], due_date__isnull=False
    ).exclude(deadline_state="overdue")
    for pk in open_with_unit.values_list("pk", flat=True):
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=pk)
            state = deadlines.resolution_status(
                calendar, ticket.due_date, today, ticket.region_code
            )
            if state == ticket.deadline_state or state == "on_time":
                continue
            ticket.deadline_state = state
            ticket.save(update_fields=["deadline_state", "updated_at"])
            _record(
                ticket,
                actor=actor,
                action=str(state),
                from_status=ticket.status,
                data={"due": ticket.due_date.isoformat()},
            )
            publish("ticket.deadline", ticket=ticket.pk, state=str(state))
            counts[str(state)] += 1
            if state == "overdue" and ticket.escalated_at is None:
                _escalate(ticket, actor=actor, reason="overdue")
    late_callbacks = Ticket.objects.filter(
        status=TicketStatus.REPLIED, callback_due__lt=today, callback_overdue=False
    )
    for pk in late_callbacks.values_list("pk", flat=True):
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=pk)
            if ticket.status != TicketStatus.REPLIED or ticket.callback_overdue:
                continue
            ticket.callback_overdue = True
            ticket.save(update_fields=["callback_overdue", "updated_at"])
            _record(
                ticket,
                actor=actor,
                action="callback_overdue",
                from_status=ticket.status,
                data={"callback_due": ticket.callback_due.isoformat()},
            )
            publish("ticket.callback_overdue", ticket=ticket.pk)
            counts["callback_overdue"] += 1
    return counts


# --- hot spots -----------------------------------------------------------------------------------


def hot_spots_flag(*, actor: Any, week: dt.date, weeks_of_baseline: int = 4) -> list[HotSpot]:
    """未诉先办: flag category × district counts of `week` well above their recent baseline to
    the unit the catalogue makes responsible, before more people have to call."""
    from onething.complaints.hotspots import above_baseline
    from onething.complaints.selectors import weekly_counts

    monday = week - dt.timedelta(days=week.weekday())
    counts = weekly_counts(monday - dt.timedelta(weeks=weeks_of_baseline), monday)
    flagged = []
    for spot in above_baseline(counts, monday, weeks_of_baseline=weeks_of_baseline):
        with transaction.atomic():
            route = dispatch_catalogue().route(spot.category, spot.region_code)
            hot, created = HotSpot.objects.get_or_create(
                category=spot.category,
                region_code=spot.region_code,
                week=monday,
                defaults={
                    "count": spot.count,
                    "baseline": spot.baseline,
                    "unit": route.responsible,
                },
            )
            if created:
                audit_record(
                    actor=actor_label(actor),
                    action="hot_spot.flagged",
                    stream="hotline:hot_spots",
                    subject=f"{spot.category}/{spot.region_code}/{monday.isoformat()}",
                    data={
                        "count": spot.count,
                        "baseline": spot.baseline,
                        "unit": route.responsible,
                    },
                )
                publish("ticket.hot_spot", hot_spot=hot.pk)
                flagged.append(hot)
    return flagged


def hot_spot_acknowledge(*, actor: Any, hot_spot: HotSpot) -> HotSpot:
    """The responsible unit says it has seen a hot spot and is acting on it (once)."""
    with transaction.atomic():
        hot_spot = HotSpot.objects.select_for_update().get(pk=hot_spot.pk)
        if not hot_spot.unit or hot_spot.unit not in units_of(actor):
            raise NotAllowed(_("Only the unit the hot spot was flagged to may acknowledge it."))
        if hot_spot.acknowledged_at is not None:
            raise Conflict(_("This hot spot was already acknowledged."))
        hot_spot.acknowledged_at = _now()
        hot_spot.save(update_fields=["acknowledged_at"])
        audit_record(
            actor=actor_label(actor),
            action="hot_spot.acknowledged",
            stream="hotline:hot_spots",
            subject=f"{hot_spot.category}/{hot_spot.region_code}/{hot_spot.week.isoformat()}",
            data={"unit": hot_spot.unit, "count": hot_spot.count},
        )
    return hot_spot


# --- category corrections ------------------------------------------------------------------------

CORRECTIONS_STREAM = "hotline:corrections"


def category_corrections_export(*, actor: Any) -> tuple[bytes, int]:
    """The agents' category corrections as a spreadsheet-safe CSV and its number of rows.

    Numbers in the complaint's text are masked; the export is recorded in the audit trail. The
    caller (the server's operator through `onething hotline corrections`) is trusted.
    """
    from onething.complaints.selectors import category_corrections

    rows = category_corrections()
    document = csv_document(
        ["reference", "corrected_at", "suggested", "chosen", "text"],
        [
            (c.reference, c.at.isoformat(timespec="seconds"), c.suggested, c.chosen, c.text)
            for c in rows
        ],
    )
    with transaction.atomic():
        audit_record(
            actor=actor_label(actor),
            action="hotline.corrections_exported",
            stream=CORRECTIONS_STREAM,
            subject="category corrections",
            data={"rows": len(rows)},
        )
    return document, len(rows)


def category_corrections_for_training(*, actor: Any) -> list[tuple[str, str]]:
    """(text with numbers masked, category) of every corrected ticket's last correction, oldest
    first, for retraining the classifier; the read is recorded in the audit trail."""
    from onething.complaints.selectors import category_corrections, corrected_tickets

    rows = category_corrections()
    corrected = corrected_tickets(rows)
    with transaction.atomic():
        audit_record(
            actor=actor_label(actor),
            action="hotline.corrections_read_for_training",
            stream=CORRECTIONS_STREAM,
            subject="category corrections",
            data={"rows": len(rows), "tickets": len(corrected)},
        )
    return corrected


# --- Open311 clients -----------------------------------------------------------------------------


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open311_client_create(*, actor: Any, name: str, contact: str = "") -> tuple[Open311Client, str]:
    """A client application and its api_key (shown once; only its hash is kept)."""
    if not (name or "").strip():
        raise InvalidInput(
            _("Some information is missing or wrong."),
            fields={"name": _("Name the client application.")},
        )
    key = "o311_" + secrets.token_urlsafe(24)
    with transaction.atomic():
        client = Open311Client.objects.create(
            name=name.strip()[:100],
            contact=contact[:200],
            key_prefix=key[:8],
            key_hash=_key_hash(key),
        )
        audit_record(
            actor=actor_label(actor),
            action="open311.client_created",
            stream="hotline:open311",
            subject=client.name,
            data={"id": client.pk},
        )
    return client, key


def open311_client_for_key(key: str) -> Open311Client | None:
    """The active client an api_key belongs to (compared by hash, in constant time)."""
    if not key or len(key) > 200:
        return None
    digest = _key_hash(key)
    for client in Open311Client.objects.filter(key_prefix=key[:8], active=True):
        if hmac.compare_digest(client.key_hash, digest):
            return client
    return None


def open311_client_revoke(*, actor: Any, client: Open311Client) -> Open311Client:
    with transaction.atomic():
        client.active, client.revoked_at = False, _now()
        client.save(update_fields=["active", "revoked_at"])
        audit_record(
            actor=actor_label(actor),
            action="open311.client_revoked",
            stream="hotline:open311",
            subject=client.name,
            data={"id": client.pk},
        )
    return client


def unit_members_notify_scope(unit: str) -> Iterable[User]:
    return User.objects.filter(
        pk__in=UnitMember.objects.filter(unit=unit).values("user_id"), is_active=True
    ).order_by("pk")


def hotline_agents() -> Iterable[User]:
    return User.objects.filter(
        pk__in=RoleAssignment.objects.filter(role=Role.HOTLINE_AGENT).values("user_id"),
        is_active=True,
    ).order_by("pk")


__all__ = [
    "Intake",
    "Upload",
    "category_corrections_export",
    "category_corrections_for_training",
    "extension_decide",
    "extension_request",
    "hot_spot_acknowledge",
    "hot_spots_flag",
    "open311_client_create",
    "open311_client_for_key",
    "open311_client_revoke",
    "ticket_accept",
    "ticket_attachment_open",
    "ticket_callback",
    "ticket_contact_reveal",
    "ticket_correct_category",
    "ticket_dispatch",
    "ticket_receive",
    "ticket_rehandle",
    "ticket_reply",
    "ticket_return",
    "ticket_sweep",
]
