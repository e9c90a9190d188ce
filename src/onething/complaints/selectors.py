"""Reading tickets: who sees which, the queues, weekly counts and the rates.

Scope is enforced here, not in templates: a citizen sees their own tickets, a unit the tickets it
holds or held, hotline agents every ticket, supervisors the tickets of their regions held by
the units of their departments (TicketOversight). A ticket outside the reader's scope does not
exist for them (404).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from onething.accounts.models import Role, RoleAssignment, User
from onething.accounts.selectors import Oversight, supervisor_oversight
from onething.catalog.models import Department, Region, in_language
from onething.complaints import rates as rates_core
from onething.complaints.hotspots import WeekCounts
from onething.complaints.lifecycle import TicketStatus
from onething.complaints.models import (
    CategoryCorrection,
    ExtensionRequest,
    HotSpot,
    Ticket,
    TicketAttachment,
    TicketEvent,
    UnitMember,
)
from onething.complaints.runtime import dispatch_catalogue
from onething.core.errors import InvalidInput, NotAllowed, NotFound
from onething.core.masking import mask, mask_personal_numbers
from onething.core.regions import region_contains, region_prefix

# --- who may do what -----------------------------------------------------------------------------


def is_hotline_agent(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and RoleAssignment.objects.filter(user=user, role=Role.HOTLINE_AGENT).exists()
    )


@dataclass(frozen=True)
class TicketOversight:
    """One supervisor role's share of the tickets: those of a region and the regions inside it
    (everywhere if None) that a hotline unit of the role's department holds (any unit if None).

    Tickets belong to no department, but the units they are dispatched to do (the dispatch
    catalogue's): a department's supervisor oversees the tickets its units hold, as the
    dashboard's hotline figures count them."""

    region_code: str | None
    units: frozenset[str] | None

    def covers(self, region_code: str, unit: str) -> bool:
        if self.units is not None and unit not in self.units:
            return False
        return self.region_code is None or region_contains(self.region_code, region_code)

    def covers_some(self) -> bool:
        """Whether any ticket could be within it (not a department without hotline units)."""
        return self.units is None or bool(self.units)

    def condition(self, *, region_field: str = "region_code", unit_field: str = "unit") -> Q:
        """The same, as a filter of tickets or hot spots (both have region_code and unit), or
        of the ticket roll-ups (region, and the unit in `department`)."""
        condition = Q()
        if self.region_code is not None:
            condition &= Q(**{f"{region_field}__startswith": region_prefix(self.region_code)})
        if self.units is not None:
            condition &= Q(**{f"{unit_field}__in": sorted(self.units)})
        return condition


def _units_by_department() -> dict[str, frozenset[str]]:
    """Each department's hotline units (codes; the dispatch catalogue's)."""
    found: dict[str, set[str]] = {}
    for code, unit in dispatch_catalogue().units.items():
        if unit.department:
            found.setdefault(unit.department, set()).add(code)
    return {department: frozenset(codes) for department, codes in found.items()}


def hotline_units(departments: Iterable[str]) -> list[str]:
    """The hotline units that belong to these departments (codes; the dispatch catalogue's)."""
    by_department = _units_by_department()
    return sorted({code for d in set(departments) for code in by_department.get(d, ())})


def ticket_shares(oversight: Sequence[Oversight]) -> tuple[TicketOversight, ...]:
    """Each supervisor role's share of the tickets, in the same order: its region, and the
    hotline units of its department (any unit if it names none)."""
    department_ids = {o.department_id for o in oversight if o.department_id is not None}
    if not department_ids:
        return tuple(TicketOversight(region_code=o.region_code, units=None) for o in oversight)
    department_codes = dict(
        Department.objects.filter(pk__in=department_ids).values_list("pk", "code")
    )
    by_department = _units_by_department()
    return tuple(
        TicketOversight(
            region_code=o.region_code,
            units=None
            if o.department_id is None
            else by_department.get(department_codes.get(o.department_id, ""), frozenset()),
        )
        for o in oversight
    )


# A page asks for the reader's oversight several times (lists, the ticket, reveal, rates); the
# request's user is loaded afresh for each request, so it is kept on that object.
_OVERSIGHT_MEMO = "_ticket_oversight_memo"
_NOT_YET = object()


def ticket_oversight(user: Any) -> tuple[TicketOversight, ...] | None:
    """The tickets a supervisor (or administrator) oversees, from the one rule of
    accounts.selectors.supervisor_oversight: None for every ticket, () for none.

    Remembered on the user object (see forget_ticket_oversight)."""
    if not getattr(user, "pk", None):
        return ()
    memo = getattr(user, _OVERSIGHT_MEMO, _NOT_YET)
    if memo is not _NOT_YET:
        return memo
    oversight = supervisor_oversight(user)
    shares = None if oversight is None else ticket_shares(oversight)
    setattr(user, _OVERSIGHT_MEMO, shares)
    return shares


def forget_ticket_oversight(user: Any) -> None:
    """Drop the oversight remembered on the user object, after its roles changed."""
    if hasattr(user, _OVERSIGHT_MEMO):
        delattr(user, _OVERSIGHT_MEMO)


def oversight_condition(oversight: Sequence[TicketOversight], **fields: str) -> Q:
    """The rows (tickets, hot spots; roll-ups with `fields`, see TicketOversight.condition)
    within any of the shares; nothing when there is none."""
    condition = Q(pk__in=[])
    for share in oversight:
        condition |= share.condition(**fields)
    return condition


def is_ticket_supervisor(user: Any) -> bool:
    """A supervisor (or administrator) whose oversight could cover some ticket: a department
    without hotline units oversees none."""
    oversight = ticket_oversight(user)
    return oversight is None or any(share.covers_some() for share in oversight)


def ticket_supervisors(region_code: str, unit: str) -> QuerySet[User]:
    """The active supervisors whose oversight covers a ticket of the region held by the unit
    (administrators oversee every ticket but are not told of each one)."""
    roles = list(
        RoleAssignment.objects.filter(role=Role.SUPERVISOR).values_list(
            "user_id", "department_id", "region__code"
        )
    )
    shares = ticket_shares([Oversight(department_id=d, region_code=r) for _, d, r in roles])
    ids = {
        user_id
        for (user_id, _, _), share in zip(roles, shares, strict=True)
        if share.covers(region_code, unit)
    }
    return User.objects.filter(pk__in=ids, is_active=True).order_by("pk")


def units_of(user: Any) -> list[str]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(UnitMember.objects.filter(user=user).values_list("unit", flat=True))


def supervises(user: Any, ticket: Ticket) -> bool:
    """A supervisor (or administrator) over the ticket (its region, the unit holding it)."""
    oversight = ticket_oversight(user)
    return oversight is None or any(
        share.covers(ticket.region_code, ticket.unit) for share in oversight
    )


def is_own_ticket(user: Any, ticket: Ticket) -> bool:
    """The signed-in citizen who filed the ticket on the web."""
    return bool(ticket.citizen_id) and getattr(user, "pk", None) == ticket.citizen_id


def may_reveal_contact(user: Any, ticket: Ticket) -> bool:
    """Who may have the caller's contact details shown in full (each time recorded): hotline
    agents and supervisors; a unit holding the ticket only when it must contact the citizen
    itself (`contact_needed`)."""
    if is_hotline_agent(user) or supervises(user, ticket):
        return True
    return ticket.contact_needed and bool(ticket.unit) and ticket.unit in units_of(user)


def tickets_visible_to(user: Any) -> QuerySet[Ticket]:
    """Every ticket `user` may read."""
    if not getattr(user, "is_authenticated", False):
        return Ticket.objects.none()
    if is_hotline_agent(user):
        return Ticket.objects.all()
    scope = Q(citizen=user)
    units = units_of(user)
    if units:
        # A unit sees what it holds and what it returned: its own step in the timeline, found
        # by the "returned" events it left (one query on every database, unlike JSON lookups).
        returned = TicketEvent.objects.filter(action="returned", unit__in=units)
        scope |= Q(unit__in=units) | Q(pk__in=returned.values("ticket_id"))
    oversight = ticket_oversight(user)
    if oversight is None:
        return Ticket.objects.all()
    return Ticket.objects.filter(scope | oversight_condition(oversight))


def ticket_for(user: Any, reference: str) -> Ticket:
    ticket = tickets_visible_to(user).filter(reference=reference).first()
    if ticket is None:
        raise NotFound("No such ticket.")
    return ticket


def may_see_contact(user: Any, ticket: Ticket) -> bool:
    """Whether `user` sees the contact details whole or may reveal them: the citizen
    themself; hotline agents and supervisors; a unit only when the ticket needs it to contact
    the citizen itself. Everyone but the citizen sees them masked until they reveal them."""
    return is_own_ticket(user, ticket) or may_reveal_contact(user, ticket)


def description_for(user: Any, ticket: Ticket) -> str:
    """The complaint's text as this reader sees it: callers write their number or ID into the
    text too, so its numbers are masked for everyone but the citizen (pages, lists and API)
    until a reader allowed to reveal the contact does so (`ticket_contact_reveal`)."""
    if is_own_ticket(user, ticket):
        return ticket.description
    return mask_personal_numbers(ticket.description)


def reply_for(user: Any, ticket: Ticket) -> str:
    """The unit's reply as this reader sees it. Units sometimes name a number in it, and a reply
    to a lead ticket is copied to every ticket linked to it, whose citizens are other people: its
    numbers are masked for everyone but the citizen of a ticket answered directly."""
    if is_own_ticket(user, ticket) and ticket.lead_id is None:
        return ticket.reply
    return mask_personal_numbers(ticket.reply)


def masked_contact(ticket: Ticket) -> dict[str, str]:
    """The contact details masked: enough to recognise a caller, not to call them."""
    name, phone, email = ticket.contact_name, ticket.contact_phone, ticket.contact_email
    return {
        "name": (name[:1] + "*" * (len(name) - 1)) if name else "",
        "phone": mask(phone, keep_start=3, keep_end=4) if phone else "",
        "email": ("***@" + email.split("@")[-1]) if email else "",
    }


def contact_for(user: Any, ticket: Ticket) -> dict[str, str]:
    """The contact details as this reader sees them without revealing: whole for the citizen
    themself, masked for everyone else (a reveal goes through `ticket_contact_reveal`)."""
    if is_own_ticket(user, ticket):
        return {
            "name": ticket.contact_name,
            "phone": ticket.contact_phone,
            "email": ticket.contact_email,
        }
    return masked_contact(ticket)


def dispatch_queue() -> QuerySet[Ticket]:
    """Tickets waiting for an agent: the category to confirm, or returned with nowhere to go."""
    return Ticket.objects.filter(
        Q(status=TicketStatus.RECEIVED) | Q(status=TicketStatus.RETURNED)
    ).order_by("created_at")


def unit_queue(user: Any) -> QuerySet[Ticket]:
    return Ticket.objects.filter(
        unit__in=units_of(user),
        status__in=[TicketStatus.DISPATCHED, TicketStatus.ACCEPTED],
    ).order_by("due_date", "created_at")


def callback_queue() -> QuerySet[Ticket]:
    return Ticket.objects.filter(status=TicketStatus.REPLIED).order_by("callback_due", "pk")


def escalated_for(user: Any) -> QuerySet[Ticket]:
    """Open escalated tickets: every one for hotline agents, those they oversee for
    supervisors."""
    tickets = Ticket.objects.filter(escalated_at__isnull=False).exclude(status=TicketStatus.CLOSED)
    oversight = None if is_hotline_agent(user) else ticket_oversight(user)
    if oversight is not None:
        tickets = tickets.filter(oversight_condition(oversight))
    return tickets.order_by("escalated_at", "pk")


def pending_extensions_for(user: Any) -> QuerySet[ExtensionRequest]:
    """Extension requests waiting for this supervisor's decision (the tickets they oversee)."""
    oversight = ticket_oversight(user)
    pending = ExtensionRequest.objects.filter(status=ExtensionRequest.Status.PENDING)
    if oversight is not None:
        pending = pending.filter(
            ticket__in=Ticket.objects.filter(oversight_condition(oversight)).values("pk")
        )
    return pending.select_related("ticket").order_by("requested_at", "pk")


def extension_for_supervisor(user: Any, extension_id: int) -> ExtensionRequest:
    extension = (
        ExtensionRequest.objects.filter(pk=extension_id)
        .filter(ticket__in=tickets_visible_to(user).values("pk"))
        .select_related("ticket")
        .first()
    )
    if extension is None:
        raise NotFound("No such extension request.")
    return extension


# What a citizen's own page shows of the timeline: the steps that tell them where their
# complaint is, not the hotline's internal work (returns, escalations, category corrections,
# deadline warnings, agents' notes).
CITIZEN_EVENTS = frozenset(
    {"received", "dispatched", "rehandle", "accepted", "replied", "extension_approved", "closed"}
)


def tickets_of_citizen(user: Any) -> QuerySet[Ticket]:
    """The tickets a signed-in citizen filed on the web."""
    if not getattr(user, "is_authenticated", False):
        return Ticket.objects.none()
    return Ticket.objects.filter(citizen=user)


def ticket_of_citizen(user: Any, reference: str) -> Ticket:
    ticket = tickets_of_citizen(user).filter(reference=reference).first()
    if ticket is None:
        raise NotFound("No such ticket.")
    return ticket


def ticket_timeline(ticket: Ticket, *, for_citizen: bool) -> QuerySet[TicketEvent]:
    events = ticket.events.select_related("actor")
    return events.filter(action__in=CITIZEN_EVENTS) if for_citizen else events


def linked_tickets(user: Any, ticket: Ticket) -> list[Ticket]:
    """The ticket's lead and the tickets linked to it (or to its lead), as far as `user` sees."""
    lead = ticket.lead or ticket
    family = Ticket.objects.filter(Q(pk=lead.pk) | Q(lead=lead)).exclude(pk=ticket.pk)
    visible = tickets_visible_to(user)
    return list(family.filter(pk__in=visible.values("pk")).order_by("created_at", "pk"))


def attachment_for(user: Any, reference: str, attachment_id: int) -> TicketAttachment:
    ticket = ticket_for(user, reference)
    attachment = ticket.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(_("No such file."))
    return attachment


def weekly_counts(start: dt.date, end: dt.date) -> WeekCounts:
    """(category, district, Monday) → tickets taken in from `start` up to `end`'s week's end."""
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=7), dt.time.min, tzinfo=tz)
    counts: Counter = Counter()
    rows = Ticket.objects.filter(created_at__gte=since, created_at__lt=until).values_list(
        "category", "region_code", "created_at"
    )
    for category, region, created in rows:
        day = timezone.localtime(created).date()
        counts[(category, region, day - dt.timedelta(days=day.weekday()))] += 1
    return dict(counts)


def hot_spots_for(user: Any) -> QuerySet[HotSpot]:
    units = units_of(user)
    if is_hotline_agent(user):
        return HotSpot.objects.all()
    oversight = ticket_oversight(user)
    if oversight is None:
        return HotSpot.objects.all()
    return HotSpot.objects.filter(Q(unit__in=units) | oversight_condition(oversight))


def hot_spot_for(user: Any, hot_spot_id: int) -> HotSpot:
    spot = hot_spots_for(user).filter(pk=hot_spot_id).first()
    if spot is None:
        raise NotFound(_("No such hot spot."))
    return spot


def hotline_rates(
    *,
    start: dt.date,
    end: dt.date,
    by: str = "unit",
    oversight: Sequence[TicketOversight] | None = None,
    now: dt.datetime | None = None,
) -> list[rates_core.Rates]:
    """The rates of the tickets taken in from `start` to `end` (both included), per unit or
    district, of the tickets within `oversight` (None: every ticket). Pages and API both call
    this."""
    check_rates_period(start=start, end=end, by=by)
    tz = timezone.get_current_timezone()
    tickets = Ticket.objects.filter(
        created_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        created_at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )
    if oversight is not None:
        tickets = tickets.filter(oversight_condition(oversight))
    facts = [read.facts for read in read_ticket_facts(tickets)]
    result = rates_core.compute_rates(facts, by=by, now=timezone.localtime(now or timezone.now()))
    return list(result.values())


class TicketRead(NamedTuple):
    """One ticket as the rates and the roll-ups read it."""

    pk: int
    channel: str
    received_on: dt.date  # local date
    facts: rates_core.TicketFacts


def read_ticket_facts(tickets: QuerySet[Ticket]) -> Iterator[TicketRead]:
    """What the hotline's rates judge each of `tickets` by, in one query (dates are local)."""
    zone = timezone.get_current_timezone()  # looked up once: localtime() does it every call
    for row in tickets.values(
        "pk",
        "channel",
        "created_at",
        "region_code",
        "unit",
        "returned_by",
        "sign_due_at",
        "accepted_at",
        "due_date",
        "replied_at",
        "callback_reached",
        "resolved",
        "satisfied",
    ):
        replied = row["replied_at"]
        yield TicketRead(
            pk=row["pk"],
            channel=row["channel"],
            received_on=row["created_at"].astimezone(zone).date(),
            facts=rates_core.TicketFacts(
                region_code=row["region_code"],
                unit=row["unit"],
                returned_by=tuple(row["returned_by"] or ()),
                sign_due_at=row["sign_due_at"],
                accepted_at=row["accepted_at"],
                due_date=row["due_date"],
                replied_on=replied.astimezone(zone).date() if replied is not None else None,
                reached=row["callback_reached"],
                resolved=row["resolved"],
                satisfied=row["satisfied"],
            ),
        )


# Rates are kept to years a ticket can have been taken in: far-off dates are typing errors, and
# the day after 9999-12-31 does not exist.
RATES_EARLIEST = dt.date(2000, 1, 1)
RATES_LATEST = dt.date(2099, 12, 31)
RATES_BY = ("unit", "region")


def check_rates_period(*, start: dt.date, end: dt.date, by: str) -> None:
    """InvalidInput naming each wrong field of a rates query, all at once."""
    fields = {}
    for name, day in (("start", start), ("end", end)):
        if not RATES_EARLIEST <= day <= RATES_LATEST:
            fields[name] = _("Choose a day from %(earliest)s to %(latest)s.") % {
                "earliest": RATES_EARLIEST.isoformat(),
                "latest": RATES_LATEST.isoformat(),
            }
    if not fields and end < start:
        fields["end"] = _("The period cannot end before it starts.")
    if by not in RATES_BY:
        fields["by"] = _("Choose unit or region.")
    if fields:
        raise InvalidInput(_("Some information is missing or wrong."), fields=fields)


def rates_oversight_for(user: Any) -> tuple[TicketOversight, ...] | None:
    """The tickets whose rates `user` may read (None: every ticket); NotAllowed for anyone but
    hotline agents, supervisors (the tickets they oversee) and administrators."""
    if is_hotline_agent(user):
        return None
    oversight = ticket_oversight(user)
    if oversight == ():
        raise NotAllowed(_("Only the hotline, supervisors and administrators may read the rates."))
    return oversight


def hotline_rates_for(
    user: Any,
    *,
    start: dt.date,
    end: dt.date,
    by: str = "unit",
    now: dt.datetime | None = None,
) -> list[rates_core.Rates]:
    """`hotline_rates` within what `user` may read: the one entry of the rates page and API."""
    oversight = rates_oversight_for(user)
    return hotline_rates(start=start, end=end, by=by, oversight=oversight, now=now)


def oversight_described(oversight: Sequence[TicketOversight]) -> list[str]:
    """Each share in words, for the pages: the region's name, and the units' names when the
    role is a department's."""
    regions, units = region_names(), unit_names()
    described = []
    for share in oversight:
        where = regions.get(share.region_code, share.region_code) if share.region_code else ""
        which = "、".join(units.get(u, u) for u in sorted(share.units or ()))
        if share.units is not None and not which:
            which = _("no hotline unit")
        described.append(f"{where}（{which}）" if where and which else where or which)
    return described


def unit_names(language: str | None = None) -> dict[str, str]:
    """Unit code → its name in the dispatch catalogue, in `language` (default: the active one)."""
    return {
        code: in_language(unit.name.zh, unit.name.en, language)
        for code, unit in dispatch_catalogue().units.items()
    }


def region_names(language: str | None = None) -> dict[str, str]:
    """District and street code → name: the catalog's regions and the catalogue's streets."""
    names = {
        code: in_language(street.name.zh, street.name.en, language)
        for code, street in dispatch_catalogue().streets.items()
    }
    for code, zh, en in Region.objects.values_list("code", "name_zh", "name_en"):
        names[code] = in_language(zh, en, language)
    return names


@dataclass(frozen=True)
class Correction:
    """An agent's correction of a ticket's suggested category, its text's numbers masked."""

    reference: str
    at: dt.datetime
    suggested: str
    chosen: str
    text: str


def category_corrections() -> list[Correction]:
    """Every correction, oldest first, with ID and phone numbers in the text masked."""
    rows = CategoryCorrection.objects.select_related("ticket").order_by("at", "pk")
    return [
        Correction(
            reference=row.ticket.reference,
            at=row.at,
            suggested=row.suggested,
            chosen=row.chosen,
            text=mask_personal_numbers(row.text),
        )
        for row in rows
    ]


def corrected_tickets(corrections: Sequence[Correction]) -> list[tuple[str, str]]:
    """(masked text, category) of each corrected ticket's last correction, oldest first."""
    last: dict[str, tuple[int, Correction]] = {}
    for index, correction in enumerate(corrections):
        last[correction.reference] = (index, correction)
    return [(c.text, c.chosen) for _, c in sorted(last.values(), key=lambda pair: pair[0])]
