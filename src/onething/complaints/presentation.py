"""How tickets read on the hotline's pages: names of categories, units and places, status and
event labels, deadline marks, timeline rows.

No view functions and no scope of its own: callers hand in what the selectors let them read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onething.catalog.models import Region, in_language
from onething.catalog.plan_output import pick
from onething.complaints import deadlines
from onething.complaints.dispatch import Dispatch
from onething.complaints.lifecycle import TicketStatus
from onething.complaints.models import Ticket, TicketEvent
from onething.complaints.runtime import categories, dispatch_catalogue
from onething.core.workdays import WorkCalendar

# What the hotline's staff read.
STATUS_LABELS = {
    TicketStatus.RECEIVED: gettext_lazy("received, to be dispatched"),
    TicketStatus.DISPATCHED: gettext_lazy("dispatched, to be signed for"),
    TicketStatus.ACCEPTED: gettext_lazy("signed for, being handled"),
    TicketStatus.RETURNED: gettext_lazy("returned, to be re-dispatched"),
    TicketStatus.REPLIED: gettext_lazy("replied, to be called back"),
    TicketStatus.CLOSED: gettext_lazy("closed"),
}

# What the citizen reads: where their complaint is, without the hotline's internal steps.
CITIZEN_STATUS_LABELS = {
    TicketStatus.RECEIVED: gettext_lazy("received"),
    TicketStatus.DISPATCHED: gettext_lazy("sent to the responsible unit"),
    TicketStatus.ACCEPTED: gettext_lazy("being handled"),
    TicketStatus.RETURNED: gettext_lazy("being sent to the right unit"),
    TicketStatus.REPLIED: gettext_lazy("answered"),
    TicketStatus.CLOSED: gettext_lazy("closed"),
}

URGENCY_LABELS = {
    deadlines.Urgency.NORMAL: gettext_lazy("normal"),
    deadlines.Urgency.URGENT: gettext_lazy("urgent"),
    deadlines.Urgency.VERY_URGENT: gettext_lazy("very urgent"),
}

CHANNEL_LABELS = {
    "phone": gettext_lazy("hotline call"),
    "web": gettext_lazy("web form"),
    "open311": gettext_lazy("Open311 client"),
}

EVENT_LABELS = {
    "received": gettext_lazy("Complaint received"),
    "linked": gettext_lazy("Linked to a similar ticket"),
    "dispatched": gettext_lazy("Dispatched to the responsible unit"),
    "rehandle": gettext_lazy("Sent back for re-handling"),
    "category_confirmed": gettext_lazy("Category confirmed"),
    "category_corrected": gettext_lazy("Category corrected"),
    "accepted": gettext_lazy("Signed for by the unit"),
    "returned": gettext_lazy("Returned by the unit"),
    "escalated": gettext_lazy("Escalated to a supervisor"),
    "replied": gettext_lazy("The unit replied"),
    "callback": gettext_lazy("Called back"),
    "closed": gettext_lazy("Closed"),
    "extension_requested": gettext_lazy("More time asked for"),
    "extension_approved": gettext_lazy("More time granted"),
    "extension_refused": gettext_lazy("More time refused"),
    "sign_overdue": gettext_lazy("Not signed for in time"),
    "due_soon": gettext_lazy("Reply due soon"),
    "overdue": gettext_lazy("Reply overdue"),
    "callback_overdue": gettext_lazy("Callback overdue"),
    "not_routed": gettext_lazy("No dispatch rule for its place: to be dispatched by hand"),
}

CITIZEN_EVENT_LABELS = {
    **EVENT_LABELS,
    "received": gettext_lazy("We received your complaint"),
    "dispatched": gettext_lazy("Sent to the unit responsible"),
    "rehandle": gettext_lazy("Sent back to the unit to handle again"),
    "accepted": gettext_lazy("The unit took it on"),
    "replied": gettext_lazy("The unit answered"),
    "extension_approved": gettext_lazy("The unit was given more time"),
}

ESCALATION_REASONS = {
    "handoffs": gettext_lazy("returned or transferred three times"),
    "overdue": gettext_lazy("reply overdue"),
    "rehandled": gettext_lazy("sent back for re-handling twice"),
}
# Why a member of staff reveals the caller's contact details (services.REVEAL_PURPOSES).
REVEAL_PURPOSE_LABELS = {
    "callback": gettext_lazy("to call the caller back"),
    "handling": gettext_lazy("to contact the caller about the handling"),
    "supervision": gettext_lazy("to supervise the handling"),
}


def category_name(code: str) -> str:
    names = categories().get(code)
    return in_language(names["zh"], names["en"]) if names else code


def category_choices() -> list[tuple[str, str]]:
    return [(code, category_name(code)) for code in categories()]


@dataclass(frozen=True)
class Names:
    """The names a page shows for units and places, read once per page (not once per row)."""

    catalogue: Dispatch
    regions: dict[str, str]

    @classmethod
    def load(cls) -> Names:
        return cls(
            catalogue=dispatch_catalogue(),
            regions={r.code: r.name for r in Region.objects.only("code", "name_zh", "name_en")},
        )

    def unit(self, code: str) -> str:
        unit = self.catalogue.units.get(code) if code else None
        return pick(unit.name) if unit else code

    def units(self) -> list[tuple[str, str]]:
        return sorted(((code, pick(u.name)) for code, u in self.catalogue.units.items()))

    def place(self, ticket: Ticket) -> str:
        """District and street, as the catalog and the dispatch catalogue name them."""
        parts = [self.regions.get(ticket.region_code, ticket.region_code)]
        street = self.catalogue.streets.get(ticket.street_code) if ticket.street_code else None
        if street is not None:
            parts.append(pick(street.name))
        return " · ".join(parts)


def deadline_marks(ticket: Ticket, now: dt.datetime, calendar: WorkCalendar) -> dict[str, str]:
    """`sign` and `due`: "due_soon", "overdue" or "" for a ticket a unit holds, computed now
    (the sweep's marks lag by up to its period)."""
    marks = {"sign": "", "due": ""}
    if ticket.status == TicketStatus.DISPATCHED and ticket.sign_due_at:
        state = deadlines.sign_status(ticket.sign_due_at, now)
        marks["sign"] = "" if state == "on_time" else str(state)
    if ticket.status in (TicketStatus.DISPATCHED, TicketStatus.ACCEPTED) and ticket.due_date:
        state = deadlines.resolution_status(
            calendar, ticket.due_date, timezone.localdate(now), ticket.region_code
        )
        marks["due"] = "" if state == "on_time" else str(state)
    return marks


def callback_mark(ticket: Ticket, today: dt.date) -> str:
    """A replied ticket's callback: "overdue" once the sweep marked it so, "due_soon" from its
    day until then."""
    if ticket.status != TicketStatus.REPLIED or ticket.callback_due is None:
        return ""
    if ticket.callback_overdue:
        return "overdue"
    return "due_soon" if ticket.callback_due <= today else ""


def _who(event: TicketEvent, citizen_id: int | None) -> str:
    # The citizen's own name is contact data, which units may not see: they read "citizen".
    if event.actor_id is None or event.actor_id == citizen_id:
        if event.actor_label.startswith("system:"):
            return _("the platform")
        return _("the citizen")
    return str(event.actor)


def timeline_rows(
    events: Iterable[TicketEvent],
    names: Names,
    *,
    for_citizen: bool,
    citizen_id: int | None = None,
) -> list[dict]:
    """The events as the citizen reads them (no staff names, only the reply as a note) or staff."""
    labels = CITIZEN_EVENT_LABELS if for_citizen else EVENT_LABELS
    rows = []
    for event in events:
        unit = event.data.get("unit", "") if event.action in ("dispatched", "rehandle") else ""
        rows.append(
            {
                "at": event.at,
                "action": event.action,
                "label": labels.get(event.action, event.action),
                "unit": names.unit(unit),
                "note": event.note if (not for_citizen or event.action == "replied") else "",
                "who": "" if for_citizen else _who(event, citizen_id),
                "to_status": (
                    STATUS_LABELS.get(event.to_status, event.to_status)
                    if not for_citizen and event.to_status != event.from_status
                    else ""
                ),
            }
        )
    return rows
