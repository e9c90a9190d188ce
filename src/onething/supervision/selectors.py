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

from onething.accounts.selectors import case_scopes, supervisor_oversight
from onething.applications.lifecycle import CASE_OPEN, CaseStatus
from onething.applications.models import Case
from onething.applications.selectors import cases_in_scope
from onething.catalog.models import Department, Service, Thing
from onething.core.errors import NotAllowed
from onething.sharing.models import DataUse


@dataclass(frozen=True)
class ExportOversight:
    """The departments whose record of data use a member of staff may export: every one, or
    those in `departments` (none, for a supervisor of a region without departments yet: an
    empty export, not a refusal)."""

    granted: bool = False
    everything: bool = False
    departments: frozenset[int] = frozenset()


def export_oversight(user) -> ExportOversight:
    """Whose uses of data the user may export, by the platform's one reading of oversight
    (accounts.selectors.supervisor_oversight): an administrator or a supervisor without a
    department or region all; a supervisor the departments their roles cover; others none."""
    oversight = supervisor_oversight(user)
    if oversight is None:
        return ExportOversight(granted=True, everything=True)
    if not oversight:
        return ExportOversight()
    covered = frozenset(
        pk
        for pk, region_code in Department.objects.values_list("pk", "region__code")
        if any(role.covers(pk, region_code) for role in oversight)
    )
    return ExportOversight(granted=True, departments=covered)


def may_export_data_uses(user) -> bool:
    return export_oversight(user).granted


def may_export_cases(user) -> bool:
    return bool(case_scopes(user))


def _within_days(field: str, since: date | None, until: date | None) -> Q:
    """`field` from the start of `since` to the end of `until`, in the platform's time zone
    (a supervisor's "1 to 31 March" are Beijing days, not UTC ones).

    Any day builds its condition, even the last one Python holds (it has no day after, nor
    needs a bound): the service checks the period's range before the query runs.
    """
    zone = timezone.get_current_timezone()
    bounds = Q()
    if since is not None:
        start = timezone.make_aware(datetime.combine(since, time.min), zone)
        bounds &= Q(**{f"{field}__gte": start})
    if until is not None and until < date.max:
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
    oversight = export_oversight(user)
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


# A case as its lists name it: the application's reference and the names of its one thing,
# service and department in both languages (for `values_list`; the lists choose the language).
CASE_NAMES = (
    "application__reference",
    "application__thing__name_zh",
    "application__thing__name_en",
    "service__name_zh",
    "service__name_en",
    "department__name_zh",
    "department__name_en",
)


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
    # The scope's own conditions, not `pk IN (…)` of them: the planner then starts from the
    # department's and the period's indexes instead of joining every case to the scope.
    cases = reachable
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


# The case export's order as values to sort by (the earliest due first, none due last, then
# the earliest submitted): the same order as `cases_for_export`, for its ids sorted in Python.
CASE_EXPORT_ORDER = ("pk", "due_date", "application__submitted_at")


def case_export_order_key(values: tuple[int, date | None, datetime | None]) -> tuple:
    """Sorts (pk, due date, submitted at) as PostgreSQL orders them: none last, each time."""
    pk, due_date, submitted_at = values
    return (
        due_date is None,
        due_date or date.min,
        submitted_at is None,
        submitted_at.timestamp() if submitted_at else 0.0,
        pk,
    )
