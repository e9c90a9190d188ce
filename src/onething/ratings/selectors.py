"""Reads of ratings and rectifications, always within the caller's scope.

A rater sees their own ratings and the rectifications they opened; a department's reviewers
(within their region, if their role names one) and the members of a hotline unit see the
rectifications addressed to them; supervisors see the escalated ones of their region (and
department, if their role names one); administrators all. Anything else does not exist (404).
"""

from __future__ import annotations

import functools
import operator
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from onething.accounts.models import Role, RoleAssignment, User
from onething.accounts.selectors import case_scopes, supervisor_oversight, supervisors_over
from onething.applications.lifecycle import ApplicationStatus, CaseStatus
from onething.applications.models import Application
from onething.catalog.models import Department
from onething.complaints.lifecycle import TicketStatus
from onething.complaints.models import Ticket, UnitMember
from onething.complaints.selectors import units_of
from onething.core.errors import NotFound
from onething.core.regions import region_contains, region_prefix
from onething.ratings import rules
from onething.ratings.models import Rating, Rectification
from onething.ratings.presentation import (
    department_name,
    reason_choices,
    reason_labels,
    rectification_row,
)

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
    """The rectifications a supervisor watches (their department, if named, and region)."""
    oversight = supervisor_oversight(user)
    if oversight is None:
        return Q()
    parts = []
    for reach in oversight:
        part = Q()
        if reach.department_id is not None:
            part &= Q(department_id=reach.department_id)
        if reach.region_code is not None:
            part &= Q(region_code__startswith=region_prefix(reach.region_code))
        parts.append(part)
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


def may_supervise(user: Any, rectification: Rectification) -> bool:
    """Whether the user may send the rectification back or close it: escalated to them, and
    with them (escalated, or not settled since)."""
    return (
        rectification.escalated_at is not None
        and rectification.status in rules.SUPERVISOR_ACTS_ON
        and supervises(user, rectification)
    )


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
    """One rectification the user may read; NotFound for any other (or a malformed id)."""
    try:
        return rectifications_visible_to(user).get(public_id=public_id)
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
    """The supervisors over the rectification's region (and department, if their role names
    one)."""
    ids = supervisors_over(rectification.department_id, rectification.region_code)
    return User.objects.filter(pk__in=ids, is_active=True).order_by("pk")


# --- the rating card ------------------------------------------------------------------------------

STAR_CHOICES = (1, 2, 3, 4, 5)


def rating_card_for(
    user: Any,
    *,
    application: Application | None = None,
    ticket: Ticket | None = None,
    editing: bool = False,
    errors: dict[str, str] | None = None,
    posted: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the rating card shows: the form (new, being changed, or with errors) or the rating."""
    if application is not None:
        open_to_rating = application.applicant_id == getattr(user, "pk", None) and (
            is_finished(application)
        )
        post_url = reverse("ratings:application", args=[application.reference])
        departments = handling_departments(application) if open_to_rating else []
        rating = rating_of(user, application=application) if open_to_rating else None
    else:
        open_to_rating = ticket.citizen_id == getattr(user, "pk", None) and is_closed(ticket)
        post_url = reverse("ratings:ticket", args=[ticket.reference])
        departments = []
        rating = rating_of(user, ticket=ticket) if open_to_rating else None
    if not open_to_rating:
        return {"show": False}
    editable = rating is None or rules.is_editable(rating.editable_until, timezone.now())
    given = {d.department_id: d for d in rating.departments.all()} if rating else {}
    if posted is not None:
        values = posted
    elif rating is not None:
        values = {
            "stars": rating.stars,
            "reasons": list(rating.reasons),
            "comment": rating.comment,
            "departments": {
                code: {"stars": given[d.pk].stars, "reasons": list(given[d.pk].reasons)}
                for d in departments
                if (code := d.code) and d.pk in given
            },
        }
    else:
        values = {"stars": None, "reasons": [], "comment": "", "departments": {}}
    errors = errors or {}
    department_rows = []
    for department in departments:
        own = values["departments"].get(department.code, {})
        department_rows.append(
            {
                "code": department.code,
                "name": department_name(department),
                "stars": own.get("stars"),
                "reasons": reason_choices(own.get("reasons", [])),
                "error": errors.get(f"departments.{department.code}")
                or errors.get(f"departments.{department.code}.stars")
                or errors.get(f"departments.{department.code}.reasons"),
                "given": given.get(department.pk),
            }
        )
    return {
        "show": True,
        "post_url": post_url,
        "rating": rating,
        "form": editable and (rating is None or editing or bool(errors)),
        "editable": editable and rating is not None,
        "stars_choices": STAR_CHOICES,
        "values": values,
        "reasons": reason_choices(values["reasons"]),
        "rating_reasons": reason_labels(rating.reasons) if rating else [],
        "departments": department_rows,
        "errors": errors,
        "rectifications": [
            rectification_row(r, for_rater=True)
            for r in (rating.rectifications.select_related("department") if rating else [])
        ],
    }
