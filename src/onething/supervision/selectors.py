"""Reads for supervision, always within what the caller oversees.

A supervisor oversees the departments of their assignment: all of them without a department or a
region, one department, or every department of a region and the regions below it. An
administrator sees the whole record of data uses (the platform's own evidential log), but works no
cases. A reviewer exports their own queue. Anybody else may export nothing (NotAllowed, 403).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from onething.accounts.models import Role, RoleAssignment
from onething.accounts.selectors import case_scopes
from onething.applications.lifecycle import CASE_OPEN, CaseStatus
from onething.applications.models import Case
from onething.applications.selectors import cases_in_scope
from onething.catalog.models import Department, Region, Service, Thing
from onething.core.errors import NotAllowed
from onething.sharing.models import DataUse


@dataclass(frozen=True)
class Oversight:
    """The departments a member of staff oversees: every one, or those in `departments` (none,
    for a supervisor of a region without departments yet: an empty export, not a refusal)."""

    granted: bool = False
    everything: bool = False
    departments: frozenset[int] = frozenset()


def regions_within(region_id: int) -> set[int]:
    """The region and every region below it (one query per level: province to street)."""
    found, frontier = {region_id}, {region_id}
    while frontier:
        frontier = set(Region.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        frontier -= found
        found |= frontier
    return found


def supervisor_oversight(user) -> Oversight:
    """What the user's supervisor roles cover (nothing without one)."""
    if not getattr(user, "pk", None):
        return Oversight()
    scopes = list(
        RoleAssignment.objects.filter(user=user, role=Role.SUPERVISOR).values_list(
            "department_id", "region_id"
        )
    )
    if not scopes:
        return Oversight()
    departments: set[int] = set()
    for department_id, region_id in scopes:
        if department_id is None and region_id is None:
            return Oversight(granted=True, everything=True)
        chosen = Department.objects.all()
        if department_id is not None:
            chosen = chosen.filter(pk=department_id)
        if region_id is not None:
            chosen = chosen.filter(region_id__in=regions_within(region_id))
        departments |= set(chosen.values_list("pk", flat=True))
    return Oversight(granted=True, departments=frozenset(departments))


def data_use_oversight(user) -> Oversight:
    """Whose uses of data the user may export: an administrator all, a supervisor theirs."""
    if not getattr(user, "pk", None):
        return Oversight()
    if RoleAssignment.objects.filter(user=user, role=Role.ADMINISTRATOR).exists():
        return Oversight(granted=True, everything=True)
    return supervisor_oversight(user)


def may_export_data_uses(user) -> bool:
    return data_use_oversight(user).granted


def may_export_cases(user) -> bool:
    return bool(case_scopes(user))


def _within_days(field: str, since: date | None, until: date | None) -> Q:
    """`field` from the start of `since` to the end of `until`, in the platform's time zone
    (a supervisor's "1 to 31 March" are Beijing days, not UTC ones)."""
    zone = timezone.get_current_timezone()
    bounds = Q()
    if since is not None:
        start = timezone.make_aware(datetime.combine(since, time.min), zone)
        bounds &= Q(**{f"{field}__gte": start})
    if until is not None:
        end = timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min), zone)
        bounds &= Q(**{f"{field}__lt": end})
    return bounds


def data_uses_for_export(
    user, *, since: date | None = None, until: date | None = None
) -> QuerySet[DataUse]:
    """The record of data uses the user oversees, in the date range, oldest first.

    A use belongs to the departments whose service (or whose one thing) it was for, and to the
    department that holds the data read: a supervisor sees what their departments read and who
    read what their departments hold.
    """
    oversight = data_use_oversight(user)
    if not oversight.granted:
        raise NotAllowed(
            _("Only supervisors and administrators may export the record of data use.")
        )
    uses = DataUse.objects.filter(_within_days("at", since, until))
    if not oversight.everything:
        departments = oversight.departments
        services = Service.objects.filter(department_id__in=departments).values_list(
            "code", flat=True
        )
        things = (
            Thing.objects.filter(
                Q(lead_department_id__in=departments)
                | Q(members__service__department_id__in=departments)
            )
            .values_list("code", flat=True)
            .distinct()
        )
        holders = Department.objects.filter(pk__in=departments).values_list("code", flat=True)
        uses = uses.filter(
            Q(service__in=services) | Q(service__in=things) | Q(department__in=holders)
        )
    return uses.order_by("at", "pk")


CASE_STATUS_FILTERS = ("open", "all", *(s.value for s in CaseStatus))


def cases_for_export(
    user,
    *,
    status: str = "all",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[Case]:
    """The cases the user works or oversees, by status ("open", "all" or one status) and the day
    their application was submitted, the earliest due first.

    Exactly the cases the workbench shows the user: a reviewer's queue, what a supervisor or an
    administrator may read (accounts.selectors.case_scopes).
    """
    scopes = case_scopes(user)
    if not scopes:
        raise NotAllowed(_("Only reviewers and supervisors may export cases."))
    # The workbench's scope (one answer to "which cases may this person see"); those who read
    # rather than work also get the cases still waiting for an earlier one, which no queue shows.
    reachable = cases_in_scope(user)
    if all(scope.works for scope in scopes):
        reachable = reachable.exclude(status=CaseStatus.WAITING)
    scope = Q(pk__in=reachable.order_by().values("pk"))
    cases = Case.objects.filter(scope)
    if status == "open":
        cases = cases.filter(status__in=[s.value for s in CASE_OPEN])
    elif status != "all":
        cases = cases.filter(status=status)
    cases = cases.filter(_within_days("application__submitted_at", since, until))
    return cases.select_related(
        "application__thing",
        "application__applicant",
        "application__enterprise",
        "service",
        "department",
    ).order_by(F("due_date").asc(nulls_last=True), "application__submitted_at", "pk")
