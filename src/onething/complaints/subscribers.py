"""Who hears what about a ticket: the unit, the supervisors over it, the citizen.

Subscribers run in the transaction of the change; notify() queues e-mail through the outbox, so
nothing leaves before the change commits. Texts carry no contact details.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from onething.complaints.models import ExtensionRequest, HotSpot, Ticket
from onething.complaints.runtime import categories
from onething.complaints.selectors import ticket_supervisors
from onething.complaints.services import hotline_agents, unit_members_notify_scope
from onething.core.events import Event, subscribe
from onething.notifications.services import notify, recipient_language


def _ticket(event: Event) -> Ticket:
    return Ticket.objects.get(pk=event.data["ticket"])


def _category(code: str, language: str) -> str:
    names = categories().get(code, {})
    return names.get("en" if language.startswith("en") else "zh", code)


def _tell(users, kind: str, subject: str, body: str, link: str, values: dict) -> None:
    for user in users:
        language = recipient_language(user)
        with translation.override(language):
            texts = {k: (v(language) if callable(v) else v) for k, v in values.items()}
            notify(
                recipient=user,
                kind=kind,
                subject=_(subject) % texts,
                body=_(body) % texts,
                link=link,
            )


def _staff_link(ticket: Ticket) -> str:
    return f"/hotline/tickets/{ticket.reference}/"


@subscribe("ticket.dispatched")
def tell_the_unit(event: Event) -> None:
    ticket = _ticket(event)
    _tell(
        unit_members_notify_scope(ticket.unit),
        "ticket-dispatched",
        gettext_noop("New ticket %(reference)s: %(category)s"),
        gettext_noop(
            "Ticket %(reference)s (%(category)s) was dispatched to your unit. Sign for it by "
            "%(sign_due)s and reply by %(due)s."
        ),
        _staff_link(ticket),
        {
            "reference": ticket.reference,
            "category": lambda lang: _category(ticket.category, lang),
            "sign_due": ticket.sign_due_at.astimezone().strftime("%Y-%m-%d %H:%M")
            if ticket.sign_due_at
            else "",
            "due": ticket.due_date.isoformat() if ticket.due_date else "",
        },
    )


@subscribe("ticket.deadline")
def warn_the_unit(event: Event) -> None:
    ticket = _ticket(event)
    state = event.data["state"]
    subjects = {
        "sign_overdue": gettext_noop("Not signed for in time: %(reference)s"),
        "due_soon": gettext_noop("Reply due soon: %(reference)s"),
        "overdue": gettext_noop("Reply overdue: %(reference)s"),
    }
    bodies = {
        "sign_overdue": gettext_noop("Ticket %(reference)s was not signed for by its deadline."),
        "due_soon": gettext_noop("Ticket %(reference)s must be answered by %(due)s."),
        "overdue": gettext_noop("Ticket %(reference)s was due on %(due)s and has no reply."),
    }
    _tell(
        unit_members_notify_scope(ticket.unit),
        f"ticket-{state.replace('_', '-')}",
        subjects[state],
        bodies[state],
        _staff_link(ticket),
        {
            "reference": ticket.reference,
            "due": ticket.due_date.isoformat() if ticket.due_date else "",
        },
    )


@subscribe("ticket.callback_overdue")
def tell_the_agents_of_a_late_callback(event: Event) -> None:
    ticket = _ticket(event)
    _tell(
        hotline_agents(),
        "ticket-callback-overdue",
        gettext_noop("Callback overdue: %(reference)s"),
        gettext_noop(
            "The citizen of ticket %(reference)s should have been called back by %(due)s: "
            "call them back now."
        ),
        _staff_link(ticket),
        {
            "reference": ticket.reference,
            "due": ticket.callback_due.isoformat() if ticket.callback_due else "",
        },
    )


@subscribe("ticket.escalated")
def tell_the_supervisors(event: Event) -> None:
    ticket = _ticket(event)
    reasons = {
        "handoffs": gettext_noop("it was returned or transferred %(handoffs)d times"),
        "overdue": gettext_noop("its reply is overdue"),
        "rehandled": gettext_noop(
            "the citizen's problem was sent back for re-handling %(rehandled)d times"
        ),
    }
    _tell(
        ticket_supervisors(ticket.region_code, ticket.unit),
        "ticket-escalated",
        gettext_noop("Escalated: %(reference)s"),
        gettext_noop("Ticket %(reference)s is escalated to you (提级督办) because %(reason)s."),
        _staff_link(ticket),
        {
            "reference": ticket.reference,
            "reason": lambda lang: (
                _(reasons.get(ticket.escalation_reason, reasons["overdue"]))
                % {"handoffs": ticket.handoffs, "rehandled": ticket.rehandled}
            ),
        },
    )


@subscribe("ticket.extension_requested")
def ask_the_supervisors(event: Event) -> None:
    ticket = _ticket(event)
    extension = ExtensionRequest.objects.get(pk=event.data["extension"])
    _tell(
        ticket_supervisors(ticket.region_code, ticket.unit),
        "ticket-extension",
        gettext_noop("Extension asked: %(reference)s"),
        gettext_noop("The unit asks %(days)d more working days for ticket %(reference)s."),
        _staff_link(ticket),
        {"reference": ticket.reference, "days": extension.days},
    )


@subscribe("ticket.replied")
def tell_the_citizen(event: Event) -> None:
    ticket = _ticket(event)
    if ticket.citizen is None:
        return
    _tell(
        [ticket.citizen],
        "ticket-replied",
        gettext_noop("Reply to your complaint %(reference)s"),
        gettext_noop(
            "The department answered your complaint %(reference)s. The hotline will call you "
            "back to ask whether it is solved."
        ),
        f"/hotline/my/{ticket.reference}/",
        {"reference": ticket.reference},
    )


@subscribe("ticket.hot_spot")
def tell_the_unit_of_a_hot_spot(event: Event) -> None:
    spot = HotSpot.objects.get(pk=event.data["hot_spot"])
    _tell(
        unit_members_notify_scope(spot.unit),
        "ticket-hot-spot",
        gettext_noop("Hot spot: %(category)s in %(region)s"),
        gettext_noop(
            "%(count)d tickets about %(category)s in %(region)s in the week of %(week)s, "
            "against about %(baseline)s a week before: act before more people have to call "
            "(未诉先办)."
        ),
        "/hotline/hot-spots/",
        {
            "category": lambda lang: _category(spot.category, lang),
            "region": spot.region_code,
            "count": spot.count,
            "week": spot.week.isoformat(),
            "baseline": spot.baseline,
        },
    )
