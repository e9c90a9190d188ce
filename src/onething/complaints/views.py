"""The 12345 hotline's pages: the citizen's web form and their complaints, the agent's workbench
(take a call, dispatch, call back), the unit's workbench, the ticket page and the supervisor's
page.

Thin: parse the request, call one service or selector, render. A ticket outside the reader's
scope does not exist for them (404): the selectors decide; the services check every action again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onething.accounts.models import User
from onething.catalog.selectors import work_calendar
from onething.complaints import selectors, services
from onething.complaints.deadlines import Urgency
from onething.complaints.lifecycle import WITH_UNIT, TicketStatus
from onething.complaints.models import Channel, ExtensionRequest, Ticket
from onething.complaints.presentation import (
    CHANNEL_LABELS,
    CITIZEN_STATUS_LABELS,
    ESCALATION_REASONS,
    REVEAL_PURPOSE_LABELS,
    STATUS_LABELS,
    URGENCY_LABELS,
    Names,
    callback_mark,
    category_choices,
    category_name,
    deadline_marks,
    timeline_rows,
)
from onething.complaints.runtime import suggestion_model
from onething.core.errors import Conflict, InvalidInput, NotAllowed
from onething.core.masking import mask
from onething.core.numbers import whole_number

# The references this browser session filed, so that its confirmation page shows to it alone
# (an anonymous filer has no account to scope by).
FILED_SESSION_KEY = "hotline_filed"
FILED_KEPT = 10
SUGGESTIONS = 3
# The service names Open311's fields; the pages name their inputs for what they hold.
INPUT_OF_FIELD = {
    "lat": "latitude",
    "long": "longitude",
    "first_name": "contact_name",
    "phone": "contact_phone",
    "email": "contact_email",
    "media": "photo",
}
# Where a queue's inline form sends the user back to.
BACK_TO = {"agent": "complaints:agent", "supervise": "complaints:supervise"}


def staff_required(view):
    """Signed in, and a member of staff; which tickets each may see is up to the selectors."""

    @functools.wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs):
        if request.user.kind != User.Kind.STAFF:
            raise NotAllowed(_("Only the hotline's staff may use this page."))
        return view(request, *args, **kwargs)

    return wrapped


def agent_required(view):
    @functools.wraps(view)
    @staff_required
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not selectors.is_hotline_agent(request.user):
            raise NotAllowed(_("Only hotline agents may use this page."))
        return view(request, *args, **kwargs)

    return wrapped


def _field(
    key: str,
    label: str,
    *,
    typed: dict[str, Any],
    errors: dict[str, str],
    widget: str = "text",
    required: bool = False,
    help_text: str = "",
    options: list[dict] | None = None,
    attrs: dict[str, str] | None = None,
) -> dict:
    """One input as applications/_field.html draws it, with what was typed and its error."""
    return {
        "key": key,
        "id": f"f-{key}",
        "label": label,
        "value": typed.get(key, ""),
        "error": errors.get(key, ""),
        "widget": widget,
        "required": required,
        "help": help_text,
        "options": options or [],
        "attrs": attrs or {},
    }


def _error_list(errors: dict[str, str]) -> list[dict]:
    return [{"id": f"f-{key}", "message": message} for key, message in errors.items()]


def _input_errors(exc: InvalidInput) -> dict[str, str]:
    return {INPUT_OF_FIELD.get(key, key): message for key, message in exc.fields.items()}


def _intake_from(request: HttpRequest, *, category: str = "") -> services.Intake:
    post = request.POST
    uploads = tuple(
        # One byte past the limit is enough for the service to say the file is too large.
        services.Upload(name=f.name or "upload", content=f.read(services.MAX_ATTACHMENT_BYTES + 1))
        for f in request.FILES.getlist("photo")[: services.MAX_ATTACHMENTS + 1]
    )
    return services.Intake(
        description=post.get("description", ""),
        address=post.get("address", ""),
        latitude=post.get("latitude", "") or None,
        longitude=post.get("longitude", "") or None,
        category=category,
        urgency=post.get("urgency", Urgency.NORMAL.value),
        contact_name=post.get("contact_name", ""),
        contact_phone=post.get("contact_phone", ""),
        contact_email=post.get("contact_email", ""),
        contact_needed=post.get("contact_needed") == "yes",
        attachments=uploads,
    )


def _where_fields(typed: dict, errors: dict) -> list[dict]:
    return [
        _field(
            "address",
            _("Address"),
            typed=typed,
            errors=errors,
            help_text=_(
                "District, street and number, for example 厦门市思明区中华街道中山路128号. "
                "Or give the coordinates below."
            ),
            attrs={"maxlength": "300", "autocomplete": "street-address"},
        ),
        _field(
            "latitude",
            _("Latitude"),
            typed=typed,
            errors=errors,
            help_text=_("Optional, from a map app, for example 24.4560."),
            attrs={"inputmode": "decimal"},
        ),
        _field(
            "longitude",
            _("Longitude"),
            typed=typed,
            errors=errors,
            help_text=_("Optional, for example 118.0830."),
            attrs={"inputmode": "decimal"},
        ),
    ]


# --- the hotline's front page --------------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """What the reader can do on the hotline: file and follow complaints, or their workbenches."""
    user = request.user
    staff = user.is_authenticated and user.kind == User.Kind.STAFF
    names = Names.load() if staff else None
    return render(
        request,
        "complaints/home.html",
        {
            "staff": staff,
            "is_agent": staff and selectors.is_hotline_agent(user),
            "units": [names.unit(u) for u in selectors.units_of(user)] if names else [],
            "supervises": staff and selectors.is_ticket_supervisor(user),
        },
    )


# --- the citizen's web form and their complaints -------------------------------------------------


def _complaint_form(typed: dict, errors: dict, *, photo_chosen: bool = False) -> dict:
    photo_help = _("Optional: up to 5 photos (PNG or JPEG) or PDFs, at most 10 MB each.")
    if photo_chosen:
        photo_help = _("Choose your photo again: a browser does not keep a chosen file.")
    contact_help = _(
        "Only the hotline sees these in full. Give a phone number if you want to be called back."
    )
    return {
        "what": [
            _field(
                "description",
                _("What is the problem?"),
                typed=typed,
                errors=errors,
                widget="textarea",
                required=True,
                help_text=_(
                    "Say what happens, where exactly and since when. Do not write ID numbers."
                ),
            ),
            _field(
                "urgency",
                _("How urgent is it?"),
                typed=typed,
                errors=errors,
                widget="select",
                help_text=_(
                    "Urgent: a danger to people or property now. In an emergency call 110, "
                    "119 or 120."
                ),
                options=[
                    {"value": Urgency.NORMAL.value, "label": _("normal")},
                    {"value": Urgency.URGENT.value, "label": _("urgent")},
                ],
            ),
        ],
        "where": _where_fields(typed, errors),
        "photo": _field(
            "photo",
            _("Photos"),
            typed={},
            errors=errors,
            help_text=photo_help,
            attrs={
                "type": "file",
                "accept": "image/png,image/jpeg,application/pdf",
                "multiple": "multiple",
            },
        ),
        "contact": [
            _field(
                "contact_name",
                _("Your name"),
                typed=typed,
                errors=errors,
                help_text=contact_help,
                attrs={"maxlength": "100", "autocomplete": "name"},
            ),
            _field(
                "contact_phone",
                _("Phone"),
                typed=typed,
                errors=errors,
                attrs={"inputmode": "tel", "autocomplete": "tel"},
            ),
            _field(
                "contact_email",
                _("E-mail"),
                typed=typed,
                errors=errors,
                attrs={"type": "email", "autocomplete": "email"},
            ),
        ],
        "errors": _error_list(errors),
    }


@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    """The web form (anonymous or signed in): every wrong field named at once, nothing lost."""
    if request.method == "GET":
        typed = {"urgency": Urgency.NORMAL.value}
        if request.user.is_authenticated:
            typed.update(
                contact_name=request.user.real_name,
                contact_phone=request.user.phone,
                contact_email=request.user.email,
            )
        return render(request, "complaints/new.html", _complaint_form(typed, {}))
    intake = _intake_from(request)
    try:
        ticket = services.ticket_receive(actor=request.user, channel=Channel.WEB, intake=intake)
    except InvalidInput as exc:
        context = _complaint_form(
            request.POST.dict(), _input_errors(exc), photo_chosen=bool(intake.attachments)
        )
        return render(request, "complaints/new.html", context, status=422)
    filed = request.session.get(FILED_SESSION_KEY, [])
    request.session[FILED_SESSION_KEY] = [*filed, ticket.reference][-FILED_KEPT:]
    return redirect("complaints:filed", ticket.reference)


@require_GET
def complaint_filed(request: HttpRequest, reference: str) -> HttpResponse:
    """The confirmation, for the browser that filed it (or the citizen it belongs to)."""
    if reference in request.session.get(FILED_SESSION_KEY, []):
        ticket = Ticket.objects.get(reference=reference)
    else:
        ticket = selectors.ticket_of_citizen(request.user, reference)
    return render(
        request,
        "complaints/filed.html",
        {
            "ticket": ticket,
            "category": category_name(ticket.category),
            "expected": ticket.due_date if ticket.status != TicketStatus.RECEIVED else None,
            "own": ticket.citizen_id is not None and ticket.citizen_id == request.user.pk,
        },
    )


@login_required
@require_GET
def my_complaints(request: HttpRequest) -> HttpResponse:
    rows = [
        {
            "ticket": ticket,
            "category": category_name(ticket.category),
            "status_label": CITIZEN_STATUS_LABELS[TicketStatus(ticket.status)],
            "expected": _expected(ticket),
        }
        for ticket in selectors.tickets_of_citizen(request.user)
    ]
    return render(request, "complaints/my_list.html", {"rows": rows})


def _expected(ticket: Ticket):
    """The day the citizen can expect an answer: the unit's reply deadline while it works."""
    if ticket.status in WITH_UNIT or ticket.status == TicketStatus.RETURNED:
        return ticket.due_date
    return None


@login_required
@require_GET
def my_complaint(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_of_citizen(request.user, reference)
    names = Names.load()
    return render(
        request,
        "complaints/my_detail.html",
        {
            "ticket": ticket,
            "reply": selectors.reply_for(request.user, ticket),
            "category": category_name(ticket.category),
            "status_label": CITIZEN_STATUS_LABELS[TicketStatus(ticket.status)],
            "expected": _expected(ticket),
            "place": names.place(ticket),
            "unit": names.unit(ticket.unit),
            "attachments": list(ticket.attachments.all()),
            "events": timeline_rows(
                selectors.ticket_timeline(ticket, for_citizen=True), names, for_citizen=True
            ),
        },
    )


# --- the hotline agent's workbench ---------------------------------------------------------------

AGENT_QUEUES = ("dispatch", "callbacks", "escalated")


def _queue_titles() -> dict[str, str]:
    return {
        "dispatch": _("To dispatch"),
        "callbacks": _("To call back"),
        "escalated": _("Escalated"),
    }


@agent_required
@require_GET
def agent_workbench(request: HttpRequest) -> HttpResponse:
    """The queues: tickets to dispatch, replies to call back, escalated tickets."""
    chosen = request.GET.get("queue", "dispatch")
    if chosen not in AGENT_QUEUES:
        chosen = "dispatch"
    queues = {
        "dispatch": selectors.dispatch_queue(),
        "callbacks": selectors.callback_queue(),
        "escalated": selectors.escalated_for(request.user),
    }
    today = timezone.localdate()
    names = Names.load()
    rows = [
        {
            "ticket": ticket,
            "category": category_name(ticket.category),
            "confidence": _percent(ticket.suggestion_confidence),
            "place": names.place(ticket),
            "unit": names.unit(ticket.unit),
            "status_label": STATUS_LABELS[TicketStatus(ticket.status)],
            "phone": mask(ticket.contact_phone, keep_start=3, keep_end=4),
            "description": selectors.description_for(request.user, ticket),
            "callback_mark": callback_mark(ticket, today),
            "reason": ESCALATION_REASONS.get(ticket.escalation_reason, ""),
        }
        for ticket in queues[chosen][:200]
    ]
    titles = _queue_titles()
    return render(
        request,
        "complaints/agent.html",
        {
            "rows": rows,
            "chosen": chosen,
            "tabs": [(key, titles[key], queues[key].count()) for key in AGENT_QUEUES],
            "categories": category_choices(),
        },
    )


def _percent(confidence: float | None) -> int | None:
    return None if confidence is None else round(confidence * 100)


def _call_form(typed: dict, errors: dict, suggestions: list[dict]) -> dict:
    return {
        "caller": [
            _field(
                "contact_phone",
                _("Caller's number"),
                typed=typed,
                errors=errors,
                required=True,
                attrs={"inputmode": "tel"},
            ),
            _field(
                "contact_name",
                _("Caller's name"),
                typed=typed,
                errors=errors,
                attrs={"maxlength": "100"},
            ),
        ],
        "where": _where_fields(typed, errors),
        "urgency": _field(
            "urgency",
            _("Urgency"),
            typed=typed,
            errors=errors,
            widget="select",
            options=[{"value": u.value, "label": URGENCY_LABELS[u]} for u in Urgency],
        ),
        "description": typed.get("description", ""),
        "description_error": errors.get("description", ""),
        "contact_needed": typed.get("contact_needed") == "yes",
        **_category_context(typed, errors.get("category", ""), suggestions),
        "errors": _error_list(errors),
    }


def _category_context(typed: dict, error: str, suggestions: list[dict]) -> dict:
    """The category choice: the classifier's suggestions as radios, any other from the list."""
    chosen = typed.get("category", "")
    codes = {s["code"] for s in suggestions}
    picked_another = chosen == "other" and typed.get("category_other")
    if chosen not in codes and not picked_another:
        # Nothing chosen yet: the best suggestion is preselected for the agent to confirm.
        chosen = suggestions[0]["code"] if suggestions else "other"
    return {
        "suggestions": suggestions,
        "category_chosen": chosen,
        "category_other": typed.get("category_other", ""),
        "category_error": error,
        "categories": category_choices(),
    }


def _suggestions(text: str) -> list[dict]:
    if not text.strip():
        return []
    return [
        {"code": code, "name": category_name(code), "percent": round(confidence * 100)}
        for code, confidence in suggestion_model().top(
            text[: services.MAX_DESCRIPTION], SUGGESTIONS
        )
    ]


def _chosen_category(post) -> str:
    chosen = post.get("category", "")
    return post.get("category_other", "") if chosen == "other" else chosen


@agent_required
@require_http_methods(["GET", "POST"])
def agent_call(request: HttpRequest) -> HttpResponse:
    """A call taken down: the caller's number, what and where; the agent confirms the category."""
    if request.method == "GET":
        typed = {"urgency": Urgency.NORMAL.value}
        return render(request, "complaints/call.html", _call_form(typed, {}, []))
    typed = request.POST.dict()
    category = _chosen_category(request.POST)
    if request.POST.get("then") == "suggest":
        # Without JavaScript the agent asks for suggestions with a button; nothing is saved.
        context = _call_form(typed, {}, _suggestions(typed.get("description", "")))
        return render(request, "complaints/call.html", context)
    try:
        ticket = services.ticket_receive(
            actor=request.user,
            channel=Channel.PHONE,
            intake=_intake_from(request, category=category),
        )
    except InvalidInput as exc:
        suggestions = _suggestions(typed.get("description", ""))
        context = _call_form(typed, _input_errors(exc), suggestions)
        return render(request, "complaints/call.html", context, status=422)
    return redirect("complaints:ticket", ticket.reference)


@agent_required
@require_POST
def agent_suggest(request: HttpRequest) -> HttpResponse:
    """htmx: the classifier's top suggestions for the text typed so far."""
    typed = request.POST.dict()
    context = _category_context(typed, "", _suggestions(typed.get("description", "")))
    return render(request, "complaints/_category_choice.html", context)


# --- the unit's workbench ------------------------------------------------------------------------


@staff_required
@require_GET
def unit_workbench(request: HttpRequest) -> HttpResponse:
    """The unit's tickets, the nearest due date first: amber when due soon, red when late."""
    units = selectors.units_of(request.user)
    if not units:
        raise NotAllowed(_("You are not a member of a unit that handles hotline tickets."))
    now, calendar, names = timezone.now(), work_calendar(), Names.load()
    rows = [
        {
            "ticket": ticket,
            "category": category_name(ticket.category),
            "place": names.place(ticket),
            "unit": names.unit(ticket.unit),
            "status_label": STATUS_LABELS[TicketStatus(ticket.status)],
            "urgency": URGENCY_LABELS.get(ticket.urgency, ticket.urgency),
            "marks": deadline_marks(ticket, now, calendar),
            "description": selectors.description_for(request.user, ticket),
        }
        for ticket in selectors.unit_queue(request.user)
    ]
    return render(
        request,
        "complaints/unit.html",
        {"rows": rows, "units": [names.unit(u) for u in units], "many_units": len(units) > 1},
    )


# --- the supervisor's page -----------------------------------------------------------------------


@staff_required
@require_GET
def supervise(request: HttpRequest) -> HttpResponse:
    if not selectors.is_ticket_supervisor(request.user):
        raise NotAllowed(_("Only supervisors may use this page."))
    return render(request, "complaints/supervise.html", _supervise_context(request.user))


def _supervise_context(user, *, problem: str = "") -> dict:
    names = Names.load()
    return {
        "escalated": [
            {
                "ticket": ticket,
                "category": category_name(ticket.category),
                "place": names.place(ticket),
                "unit": names.unit(ticket.unit),
                "status_label": STATUS_LABELS[TicketStatus(ticket.status)],
                "reason": ESCALATION_REASONS.get(ticket.escalation_reason, ""),
            }
            for ticket in selectors.escalated_for(user)
        ],
        "extensions": [
            {"extension": extension, "unit": names.unit(extension.unit)}
            for extension in selectors.pending_extensions_for(user)
        ],
        "problem": problem,
    }


@staff_required
@require_POST
def extension_decide(request: HttpRequest, extension_id: int) -> HttpResponse:
    extension = selectors.extension_for_supervisor(request.user, extension_id)
    try:
        services.extension_decide(
            actor=request.user,
            extension=extension,
            approve=request.POST.get("decision") == "approve",
            note=request.POST.get("note", "")[:1000],
        )
    except Conflict as exc:
        if request.POST.get("back") == "supervise":
            context = _supervise_context(request.user, problem=exc.message)
            return render(request, "complaints/supervise.html", context, status=409)
        context = _ticket_context(request, extension.ticket, problem=exc.message)
        return render(request, "complaints/ticket.html", context, status=409)
    return _back(request, extension.ticket)


# --- one ticket ----------------------------------------------------------------------------------


def _ticket_context(
    request: HttpRequest,
    ticket: Ticket,
    *,
    form: str = "",
    errors: dict[str, str] | None = None,
    problem: str = "",
    revealed: services.RevealedContact | None = None,
) -> dict:
    """The ticket as this reader may see it, and the actions their role allows now."""
    user = request.user
    is_agent = selectors.is_hotline_agent(user)
    supervises = selectors.supervises(user, ticket)
    in_unit = bool(ticket.unit) and ticket.unit in selectors.units_of(user)
    pending = ticket.extensions.filter(status=ExtensionRequest.Status.PENDING).first()
    status = TicketStatus(ticket.status)
    may_dispatch = is_agent or supervises
    names = Names.load()
    return {
        "ticket": ticket,
        "reply": selectors.reply_for(user, ticket),
        "status_label": STATUS_LABELS[status],
        "category": category_name(ticket.category),
        "suggested": category_name(ticket.suggested_category),
        "confidence": _percent(ticket.suggestion_confidence),
        "urgency": URGENCY_LABELS.get(ticket.urgency, ticket.urgency),
        "channel": CHANNEL_LABELS.get(ticket.channel, ticket.channel),
        "place": names.place(ticket),
        "unit": names.unit(ticket.unit),
        "assisting": [names.unit(u) for u in ticket.assisting],
        "returned_by": [names.unit(u) for u in ticket.returned_by],
        **_contact_context(user, ticket, revealed),
        "attachments": list(ticket.attachments.all()),
        "linked": [
            {"ticket": t, "status_label": STATUS_LABELS[TicketStatus(t.status)]}
            for t in selectors.linked_tickets(user, ticket)
        ],
        "marks": deadline_marks(ticket, timezone.now(), work_calendar()),
        "escalation_reason": ESCALATION_REASONS.get(ticket.escalation_reason, ""),
        "extensions": list(ticket.extensions.order_by("requested_at", "pk")),
        "pending_extension": pending,
        "events": timeline_rows(
            selectors.ticket_timeline(ticket, for_citizen=False),
            names,
            for_citizen=False,
            citizen_id=ticket.citizen_id,
        ),
        "can_accept": in_unit and status == TicketStatus.DISPATCHED,
        "can_reply": in_unit and status == TicketStatus.ACCEPTED,
        "can_return": in_unit and status in WITH_UNIT,
        "can_extend": in_unit and status in WITH_UNIT and pending is None,
        "can_decide_extension": supervises and pending is not None,
        "can_categorise": is_agent and status != TicketStatus.CLOSED,
        "can_dispatch": may_dispatch
        and status
        in (
            TicketStatus.RECEIVED,
            TicketStatus.RETURNED,
            TicketStatus.DISPATCHED,
            TicketStatus.ACCEPTED,
        ),
        "can_callback": is_agent and status == TicketStatus.REPLIED,
        "can_rehandle": may_dispatch
        and status == TicketStatus.CLOSED
        and not (ticket.resolved and ticket.satisfied),
        "categories": category_choices(),
        "units": names.units(),
        # Per form, so that two forms' fields of the same name keep apart.
        "errors": {form: errors or {}} if form else {},
        "typed": {form: request.POST.dict()} if form else {},
        "problem": problem,
    }


def _contact_context(
    user: Any, ticket: Ticket, revealed: services.RevealedContact | None
) -> dict[str, Any]:
    """The contact card and the text: masked for everyone but the citizen until revealed."""
    shown = revealed is not None or selectors.is_own_ticket(user, ticket)
    return {
        "contact": {"name": revealed.name, "phone": revealed.phone, "email": revealed.email}
        if revealed
        else selectors.contact_for(user, ticket),
        "description": revealed.description
        if revealed
        else selectors.description_for(user, ticket),
        "contact_masked": not shown,
        "contact_revealed": revealed is not None,
        "may_reveal": not shown and selectors.may_see_contact(user, ticket),
        "reveal_purposes": [
            (purpose, REVEAL_PURPOSE_LABELS[purpose]) for purpose in services.REVEAL_PURPOSES
        ],
        "reveal_purpose": services.default_reveal_purpose(user),
    }


@staff_required
@require_GET
def ticket_page(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for(request.user, reference)
    return render(request, "complaints/ticket.html", _ticket_context(request, ticket))


@login_required
@require_GET
def ticket_file(request: HttpRequest, reference: str, attachment_id: int) -> FileResponse:
    """An attachment, to whoever may read the ticket (staff in scope, or the citizen)."""
    attachment = selectors.attachment_for(request.user, reference, attachment_id)
    services.ticket_attachment_open(
        actor=request.user, ticket=attachment.ticket, attachment=attachment
    )
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )


@staff_required
@require_POST
def ticket_contact(request: HttpRequest, reference: str) -> HttpResponse:
    """Show the caller's contact details in full; the service records who saw them and why
    (403 and nothing recorded for a unit the ticket does not ask to contact the caller)."""
    ticket = selectors.ticket_for(request.user, reference)
    try:
        revealed = services.ticket_contact_reveal(
            actor=request.user, ticket=ticket, purpose=request.POST.get("purpose", "")
        )
    except InvalidInput as exc:
        context = _ticket_context(request, ticket, form="contact", errors=exc.fields)
        return render(request, "complaints/ticket.html", context, status=422)
    context = _ticket_context(request, ticket, revealed=revealed)
    if request.htmx:
        return render(request, "complaints/_contact.html", {**context, "swap_description": True})
    return render(request, "complaints/ticket.html", context)


def _back(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    """To the queue the action was taken from, or to the ticket."""
    back = BACK_TO.get(request.POST.get("back", ""))
    return redirect(back) if back else redirect("complaints:ticket", ticket.reference)


def _ticket_action(
    request: HttpRequest, reference: str, form: str, act: Callable[[Ticket], Any]
) -> HttpResponse:
    """Run one action on a ticket; show what was wrong on the ticket page, or go on."""
    ticket = selectors.ticket_for(request.user, reference)
    try:
        act(ticket)
    except InvalidInput as exc:
        context = _ticket_context(request, ticket, form=form, errors=exc.fields)
        return render(request, "complaints/ticket.html", context, status=422)
    except Conflict as exc:
        context = _ticket_context(request, ticket, problem=exc.message)
        return render(request, "complaints/ticket.html", context, status=409)
    if form == "return":
        # The ticket has left the unit: back to what it still holds.
        return redirect("complaints:unit")
    return _back(request, ticket)


@staff_required
@require_POST
def ticket_accept(request: HttpRequest, reference: str) -> HttpResponse:
    return _ticket_action(
        request,
        reference,
        "accept",
        lambda ticket: services.ticket_accept(actor=request.user, ticket=ticket),
    )


@staff_required
@require_POST
def ticket_return(request: HttpRequest, reference: str) -> HttpResponse:
    reason = request.POST.get("reason", "")[:1000]
    return _ticket_action(
        request,
        reference,
        "return",
        lambda ticket: services.ticket_return(actor=request.user, ticket=ticket, reason=reason),
    )


@staff_required
@require_POST
def ticket_extend(request: HttpRequest, reference: str) -> HttpResponse:
    raw = request.POST.get("days", "").strip()
    days = whole_number(raw, max_digits=3) or 0
    reason = request.POST.get("reason", "")[:1000]
    return _ticket_action(
        request,
        reference,
        "extend",
        lambda ticket: services.extension_request(
            actor=request.user, ticket=ticket, days=days, reason=reason
        ),
    )


@staff_required
@require_POST
def ticket_reply(request: HttpRequest, reference: str) -> HttpResponse:
    reply = request.POST.get("reply", "")[: services.MAX_DESCRIPTION]
    return _ticket_action(
        request,
        reference,
        "reply",
        lambda ticket: services.ticket_reply(actor=request.user, ticket=ticket, reply=reply),
    )


@staff_required
@require_POST
def ticket_category(request: HttpRequest, reference: str) -> HttpResponse:
    category = request.POST.get("category", "")
    return _ticket_action(
        request,
        reference,
        "category",
        lambda ticket: services.ticket_correct_category(
            actor=request.user, ticket=ticket, category=category
        ),
    )


@staff_required
@require_POST
def ticket_dispatch(request: HttpRequest, reference: str) -> HttpResponse:
    """By hand to the chosen unit, or by the catalogue when none is chosen."""
    unit = request.POST.get("unit", "")
    return _ticket_action(
        request,
        reference,
        "dispatch",
        lambda ticket: services.ticket_dispatch(actor=request.user, ticket=ticket, unit=unit),
    )


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


@staff_required
@require_POST
def ticket_callback(request: HttpRequest, reference: str) -> HttpResponse:
    post = request.POST
    reached = post.get("reached") == "yes"
    return _ticket_action(
        request,
        reference,
        "callback",
        lambda ticket: services.ticket_callback(
            actor=request.user,
            ticket=ticket,
            reached=reached,
            resolved=_yes_no(post.get("resolved", "")),
            satisfied=_yes_no(post.get("satisfied", "")),
            note=post.get("note", "")[:1000],
            rehandle=post.get("then") == "rehandle",
        ),
    )


@staff_required
@require_POST
def ticket_rehandle(request: HttpRequest, reference: str) -> HttpResponse:
    reason = request.POST.get("reason", "")[:500]
    return _ticket_action(
        request,
        reference,
        "rehandle",
        lambda ticket: services.ticket_rehandle(actor=request.user, ticket=ticket, reason=reason),
    )
