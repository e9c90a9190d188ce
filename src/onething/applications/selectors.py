"""Reads of applications and cases, always within the caller's scope.

An applicant sees their own applications; a reviewer sees the cases of their departments (and
regions). A row outside the scope does not exist for the caller (404, never 403), so nobody can
probe for other people's reference numbers.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from onething.accounts.selectors import reviewer_scopes
from onething.applications.lifecycle import CASE_OPEN, CaseStatus, progress_percent
from onething.applications.models import Application, ApplicationMaterial, Case, CaseEvent
from onething.core.errors import NotFound


def applications_for_applicant(user) -> QuerySet[Application]:
    if not getattr(user, "pk", None):
        return Application.objects.none()
    return (
        Application.objects.filter(applicant=user)
        .select_related("thing", "enterprise")
        .prefetch_related("cases")
        .order_by("-created_at")
    )


def application_for_applicant(user, reference: str) -> Application:
    try:
        return applications_for_applicant(user).get(reference=reference)
    except Application.DoesNotExist:
        raise NotFound(_("This application does not exist.")) from None


def _reviewer_filter(user) -> Q | None:
    scopes = reviewer_scopes(user)
    if not scopes:
        return None
    condition = Q(pk__in=[])
    for department_id, region_id in scopes:
        scope = Q(department_id=department_id)
        if region_id is not None:
            scope &= Q(department__region_id=region_id)
        condition |= scope
    return condition


def cases_for_reviewer(user, *, status: str | None = None) -> QuerySet[Case]:
    """The department's queue: open cases first, oldest ready first."""
    condition = _reviewer_filter(user)
    if condition is None:
        return Case.objects.none()
    cases = Case.objects.filter(condition).exclude(status=CaseStatus.WAITING)
    if status == "open":
        cases = cases.filter(status__in=[s.value for s in CASE_OPEN])
    elif status:
        cases = cases.filter(status=status)
    return cases.select_related(
        "application__thing", "application__applicant", "service", "department"
    ).order_by("needs_attention", "ready_at")


def case_for_reviewer(user, case_id: int) -> Case:
    condition = _reviewer_filter(user)
    if condition is None:
        raise NotFound(_("This case does not exist."))
    try:
        return (
            Case.objects.filter(condition)
            .select_related("application__thing", "application__applicant", "service", "department")
            .get(pk=case_id)
        )
    except Case.DoesNotExist:
        raise NotFound(_("This case does not exist.")) from None


def application_cases(application: Application) -> QuerySet[Case]:
    """The application's cases in plan order, with what the progress page shows of each."""
    return (
        application.cases.select_related("service", "department")
        .prefetch_related("service__outputs__element")
        .order_by("position")
    )


def application_materials(application: Application) -> dict[str, ApplicationMaterial]:
    """The materials attached to the application, keyed by the material's code."""
    return {m.material.code: m for m in application.materials.select_related("material")}


def application_timeline(application: Application) -> QuerySet[CaseEvent]:
    return application.events.select_related("case__service", "case__department").order_by(
        "at", "id"
    )


def case_events(case: Case) -> QuerySet[CaseEvent]:
    """One case's part of its application's timeline, in the timeline's order."""
    return application_timeline(case.application).filter(case=case)


def application_progress(application: Application) -> int:
    return progress_percent(c.status for c in application.cases.all())


def earlier_results(case: Case) -> list[Case]:
    """The approved cases this one depended on, with their outputs (for the reviewer)."""
    return list(
        case.prerequisites.select_related("service", "department").prefetch_related(
            "service__outputs__element"
        )
    )
