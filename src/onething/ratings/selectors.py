"""Reads of ratings and rectifications, always within the caller's scope.

A rater sees their own ratings and the rectifications they opened; a department's reviewers
(within their region, if their role names one) and the members of a hotline unit see the
rectifications addressed to them; supervisors see the escalated ones of their region (and
department, if their role names one; of a ticket, the department's hotline units: the hotline's
TicketOversight); administrators all. Anything else does not exist (404).
"""

from __future__ import annotations

import functools
import operator
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from onething.accounts.models import Role, RoleAssignment, User
from onething.accounts.selectors import case_scopes, supervisor_oversight, supervisors_over
from onething.applications.lifecycle import ApplicationStatus, CaseStatus
from onething.applications.models import Application
from onething.catalog.models import Department
from onething.complaints.lifecycle import TicketStatus
from onething.complaints.models import Ticket, UnitMember
from onething.complaints.selectors import ticket_shares, ticket_supervisors, units_of
from onething.core.errors import NotFound
from onething.core.regions import region_contains, region_prefix
from onething.ratings import rules
from onething.ratings.models import Rating, Rectification, RectificationEvent

FINISHED = frozenset(
    {
        ApplicationStatus.COMPLETED,
        ApplicationStatus.PARTLY_COMPLETED,
        ApplicationStatus.REJECTED,
    }
)
# A department handled a case when it decided it; cancelled cases never reached a decision.
HANDLED = (CaseStatus.APPROVED, CaseStatus.REJECTED)


def is_finished(application: Application) -> bool:
    return application.status in FINISHED


def is_closed(ticket: Ticket) -> bool:
    return ticket.status == TicketStatus.CLOSED


def handling_departments(application: Application) -> list[Department]:
    """The departments that decided a case of the application, in the plan's order."""
    seen: dict[int, Department] = {}
    cases = application.cases.filter(status__in=[s.value for s in HANDLED]).select_related(
        "department"
    )
    for case in cases.order_by("position", "pk"):
        seen.setdefault(case.department_id, case.department)
    return list(seen.values())


def rating_of(user: Any, *, application: Application | None = None, ticket: Ticket | None = None):
    """The user's rating of the subject, or None."""
    if not getattr(user, "pk", None):
        return None
    subject = {"application": application} if application is not None else {"ticket": ticket}
    return (
        Rating.objects.filter(rater=user, **subject)
        .prefetch_related("departments__department", "rectifications__department")
        .first()
    )


# --- scopes --------------------------------------------------------------------------------------


def _answerer_filter(user: Any) -> Q | None:
    """The rectifications the user answers: their department's (within region), their unit's."""
    parts = []
    for scope in case_scopes(user):
        if not scope.works:
            continue
        part = Q(department_id=scope.department_id)
        if scope.region_code is not None:
            part &= Q(region_code__startswith=region_prefix(scope.region_code))
        parts.append(part)
    units = units_of(user)
    if units:
        parts.append(Q(unit__in=units))
    return functools.reduce(operator.or_, parts) if parts else None


def _supervisor_filter(user: Any) -> Q | None:
    """The rectifications a supervisor watches: an application's by the role's department (if
    named) and region; a ticket's by the same oversight as the ticket (complaints.selectors.
    ticket_oversight: the department's hotline units, the region)."""
    oversight = supervisor_oversight(user)
    if oversight is None:
        return Q()
    parts = []
    for reach, share in zip(oversight, ticket_shares(oversight), strict=True):
        of_application = Q(department__isnull=False)
        if reach.department_id is not None:
            of_application &= Q(department_id=reach.department_id)
        if reach.region_code is not None:
            of_application &= Q(region_code__startswith=region_prefix(reach.region_code))
        parts.append(of_application | (Q(department__isnull=True) & share.condition()))
    return functools.reduce(operator.or_, parts) if parts else None


def answers_rectifications(user: Any) -> bool:
    """Whether the user answers any rectifications (a reviewer, a hotline unit's member)."""
    return _answerer_filter(user) is not None


def watches_rectifications(user: Any) -> bool:
    """Whether escalated rectifications reach the user (a supervisor, an administrator)."""
    return _supervisor_filter(user) is not None


def may_answer(user: Any, rectification: Rectification) -> bool:
    condition = _answerer_filter(user)
    return (
        condition is not None
        and Rectification.objects.filter(condition, pk=rectification.pk).exists()
    )


def supervises(user: Any, rectification: Rectification) -> bool:
    condition = _supervisor_filter(user)
    return (
        condition is not None
        and Rectification.objects.filter(condition, pk=rectification.pk).exists()
    )


def escalated_to(user: Any, rectification: Rectification) -> bool:
    """Whether the rectification was escalated to the user (whatever became of it since)."""
    return rectification.escalated_at is not None and supervises(user, rectification)


def may_supervise(user: Any, rectification: Rectification) -> bool:
    """Whether the user may send the rectification back or close it: escalated to them, and
    with them (escalated, or not settled since)."""
    return rectification.status in rules.SUPERVISOR_ACTS_ON and escalated_to(user, rectification)


def _with_subject(rectifications: QuerySet[Rectification]) -> QuerySet[Rectification]:
    return rectifications.select_related(
        "department", "rating__application__thing", "rating__ticket", "answered_by"
    )


def rectifications_to_answer(user: Any, *, status: str = "") -> QuerySet[Rectification]:
    """A department's (or unit's) rectifications, open ones first by due date."""
    condition = _answerer_filter(user)
    if condition is None:
        return Rectification.objects.none()
    found = Rectification.objects.filter(condition)
    if status:
        found = found.filter(status=status)
    return _with_subject(found).order_by("answered_at", "due_date", "pk")


def rectifications_escalated(user: Any) -> QuerySet[Rectification]:
    """The escalated rectifications a supervisor watches, the oldest escalation first."""
    condition = _supervisor_filter(user)
    if condition is None:
        return Rectification.objects.none()
    found = Rectification.objects.filter(condition, escalated_at__isnull=False)
    return _with_subject(found).order_by("escalated_at", "pk")


def rectifications_of_rater(user: Any) -> QuerySet[Rectification]:
    if not getattr(user, "pk", None):
        return Rectification.objects.none()
    return _with_subject(Rectification.objects.filter(rating__rater=user)).order_by(
        "-created_at", "-pk"
    )


def rectifications_visible_to(user: Any) -> QuerySet[Rectification]:
    """Every rectification the user may read: as rater, answerer or supervisor."""
    if not getattr(user, "pk", None):
        return Rectification.objects.none()
    condition = Q(rating__rater=user)
    for extra in (_answerer_filter(user), _escalated_filter(user)):
        if extra is not None:
            condition |= extra
    return _with_subject(Rectification.objects.filter(condition)).order_by("due_date", "pk")


def _escalated_filter(user: Any) -> Q | None:
    condition = _supervisor_filter(user)
    return None if condition is None else condition & Q(escalated_at__isnull=False)


def rectification_for(user: Any, public_id: Any) -> Rectification:
    """One rectification the user may read, with whether the sweep settled it by the rater's
    silence (`settled_by_silence`); NotFound for any other (or a malformed id)."""
    by_silence = RectificationEvent.objects.filter(
        rectification=OuterRef("pk"), action="settled_by_silence"
    )
    try:
        return (
            rectifications_visible_to(user)
            .annotate(settled_by_silence=Exists(by_silence))
            .get(public_id=public_id)
        )
    except (Rectification.DoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound(_("This rectification does not exist.")) from None


# --- who hears about one ------------------------------------------------------------------------


def answerers_of(rectification: Rectification) -> QuerySet[User]:
    """The people who answer a rectification: the department's reviewers over its region, or
    the hotline unit's members."""
    if rectification.unit:
        ids = UnitMember.objects.filter(unit=rectification.unit).values("user_id")
        return User.objects.filter(pk__in=ids, is_active=True).order_by("pk")
    ids = [
        r.user_id
        for r in RoleAssignment.objects.filter(
            role=Role.REVIEWER, department_id=rectification.department_id
        ).select_related("region")
        if r.region is None
        or (rectification.region_code and region_contains(r.region.code, rectification.region_code))
    ]
    return User.objects.filter(pk__in=ids, is_active=True).order_by("pk")


def supervisors_of(rectification: Rectification) -> QuerySet[User]:
    """The supervisors over the rectification's region and department (if their role names
    one); a ticket's, those over the ticket (its region, the unit holding it)."""
    if rectification.department_id is None:
        return ticket_supervisors(rectification.region_code, rectification.unit)
    ids = supervisors_over(rectification.department_id, rectification.region_code)
    return User.objects.filter(pk__in=ids, is_active=True).order_by("pk")
