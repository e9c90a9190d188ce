"""Reads of applications and cases, always within the caller's scope.

An applicant sees their own applications; a reviewer sees the cases of their departments (and
regions); a supervisor reads the cases of their region (all without one), an administrator all;
a window clerk sees the applications they took at the window. A row outside the scope
does not exist for the caller (404, never 403), so nobody can probe for other people's reference
numbers.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import models as db
from django.db.models import F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from onething.accounts.models import Role
from onething.accounts.selectors import case_scopes, has_role
from onething.applications import supplements
from onething.applications.lifecycle import (
    CASE_OPEN,
    DEADLINE_MARKED,
    DEADLINE_SEVERITY,
    CaseStatus,
    progress_percent,
)
from onething.applications.models import (
    Application,
    ApplicationMaterial,
    Case,
    CaseEvent,
    Channel,
    SupplementItem,
    SupplementRequest,
)
from onething.catalog.models import DataElement, Material
from onething.catalog.selectors import work_calendar
from onething.core.errors import NotFound
from onething.core.regions import region_prefix
from onething.core.workdays import RegionalWorkdays


def applications_for_applicant(user) -> QuerySet[Application]:
    if not getattr(user, "pk", None):
        return Application.objects.none()
    return (
        Application.objects.filter(applicant=user)
        .select_related("thing", "enterprise")
        .prefetch_related("cases")
        .order_by("-created_at")
    )


def applications_to_show(user) -> QuerySet[Application]:
    """The applicant's applications with their cases in order, read in one query for them all.

    For answers only: the cases are a snapshot (`cases_in_order`), so an application that a
    service changes next must come from `application_for_applicant` instead.
    """
    in_order = Case.objects.select_related("service", "department").order_by("position")
    return (
        applications_for_applicant(user)
        .prefetch_related(None)  # the plain prefetch of the cases would read them twice
        .prefetch_related(Prefetch("cases", queryset=in_order, to_attr="cases_in_order"))
    )


def application_to_show(user, reference: str) -> Application:
    """One of the applicant's applications, to answer with (see `applications_to_show`)."""
    try:
        return applications_to_show(user).get(reference=reference)
    except Application.DoesNotExist:
        raise NotFound(_("This application does not exist.")) from None


def application_cases_in_order(application: Application) -> list[Case]:
    """The application's cases by position, from `applications_to_show`'s snapshot if taken."""
    snapshot = getattr(application, "cases_in_order", None)
    if snapshot is not None:
        return snapshot
    return list(application.cases.select_related("service", "department").order_by("position"))


def application_for_applicant(user, reference: str) -> Application:
    try:
        return applications_for_applicant(user).get(reference=reference)
    except Application.DoesNotExist:
        raise NotFound(_("This application does not exist.")) from None


def applications_taken_by(user) -> QuerySet[Application]:
    """The window clerk's queue: the applications they took (首问负责), newest first."""
    if not has_role(user, Role.WINDOW_CLERK):
        return Application.objects.none()
    return (
        Application.objects.filter(channel=Channel.WINDOW, taken_by=user)
        .select_related("thing", "applicant", "enterprise")
        .prefetch_related("cases")
        .order_by("-created_at")
    )


def application_taken_by(user, reference: str) -> Application:
    """One application the window clerk took (404 for anybody else)."""
    try:
        return applications_taken_by(user).get(reference=reference)
    except Application.DoesNotExist:
        raise NotFound(_("This application does not exist.")) from None


def application_for_participant(user, reference: str) -> Application:
    """The applicant's own application, or one the window clerk took for somebody.

    What the clerk may change (a draft only) is still up to the services.
    """
    if not getattr(user, "pk", None):
        raise NotFound(_("This application does not exist."))
    own = Q(applicant=user)
    if has_role(user, Role.WINDOW_CLERK):
        own |= Q(channel=Channel.WINDOW, taken_by=user)
    try:
        return (
            Application.objects.filter(own)
            .select_related("thing", "enterprise", "applicant", "taken_by")
            .get(reference=reference)
        )
    except Application.DoesNotExist:
        raise NotFound(_("This application does not exist.")) from None


def _case_scope_filter(user) -> Q | None:
    """The cases the user's roles reach, as a filter; None when they reach none."""
    parts = []
    for scope in case_scopes(user):
        part = Q()
        if scope.department_id is not None:
            part &= Q(department_id=scope.department_id)
        if scope.region_code is not None:
            # GB/T 2260 codes nest: 3502 (Xiamen) holds 350203 and 350206, never 350102.
            part &= Q(application__region__code__startswith=region_prefix(scope.region_code))
        if not part:
            return Q()  # one unlimited scope reaches every case (and `Q(...) | Q()` drops it)
        parts.append(part)
    return functools.reduce(operator.or_, parts) if parts else None


def cases_in_scope(user) -> QuerySet[Case]:
    """Every case the user's roles reach, waiting ones included (exports, dashboards)."""
    condition = _case_scope_filter(user)
    return Case.objects.none() if condition is None else Case.objects.filter(condition)


def cases_for_staff(user, *, status: str | None = None) -> QuerySet[Case]:
    """The cases the user's roles reach (a reviewer's department queue; what a supervisor or an
    administrator may read), the most urgent first: those that need attention (their
    department's system failed them), then by how late they are (escalated, overdue, due soon,
    on time), then the earliest due date, then the oldest ready."""
    condition = _case_scope_filter(user)
    if condition is None:
        return Case.objects.none()
    cases = Case.objects.filter(condition).exclude(status=CaseStatus.WAITING)
    if status == "open":
        cases = cases.filter(status__in=[s.value for s in CASE_OPEN])
    elif status:
        cases = cases.filter(status=status)
    lateness = db.Case(  # the model Case is a case file; this is SQL's CASE
        *(
            When(
                status__in=[s.value for s in DEADLINE_MARKED],
                deadline_state=state,
                then=Value(severity),
            )
            for state, severity in DEADLINE_SEVERITY.items()
            if severity
        ),
        default=Value(0),
        output_field=IntegerField(),
    )
    return (
        cases.select_related(
            "application__thing", "application__applicant", "service", "department"
        )
        .annotate(lateness=lateness)
        .order_by(
            F("needs_attention").desc(),
            F("lateness").desc(),
            F("due_date").asc(nulls_last=True),
            "ready_at",
        )
    )


def case_for_staff(user, case_id: int) -> Case:
    """One case the user's roles reach; NotFound for any other. Whether they may work it, not
    only read it, is `may_work_case` (and the services check it again)."""
    condition = _case_scope_filter(user)
    if condition is None:
        raise NotFound(_("This case does not exist."))
    try:
        return (
            Case.objects.filter(condition)
            .select_related(
                "application__thing",
                "application__applicant",
                "application__region",
                "service",
                "department",
            )
            .get(pk=case_id)
        )
    except Case.DoesNotExist:
        raise NotFound(_("This case does not exist.")) from None


def may_work_case(user, case: Case) -> bool:
    """Whether a reviewer's role covers the case (supervisors and administrators only read)."""
    region_code = case.application.region_code
    return any(
        scope.works and scope.covers(case.department_id, region_code) for scope in case_scopes(user)
    )


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


def application_timeline_entries(application: Application) -> QuerySet:
    """The timeline as plain rows, each naming its case by id only: for answers that already
    hold the application's cases, so that no event reads its case, service and department."""
    return application.events.order_by("at", "id").values(
        "at", "action", "case_id", "from_status", "to_status", "note", "actor_label"
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


def case_material(case: Case, material_code: str) -> ApplicationMaterial:
    """An uploaded material of the case's application that the case's service uses.

    The case is already in the caller's scope (`case_for_staff`); a material another member
    service asks for (the bank card, for the health commission) does not exist here.
    """
    found = (
        ApplicationMaterial.objects.select_related("material")
        .filter(
            application=case.application_id,
            material__code=material_code,
            material__in=case.service.materials.values("material"),
        )
        .exclude(file="")
        .first()
    )
    if found is None:
        raise NotFound(_("This material does not exist."))
    return found


def case_with_results(case: Case, case_id: int) -> Case:
    """The case whose results a reviewer of `case` may read: itself or one it depended on.

    Anything else (another application's case, a sibling it does not depend on) is not found.
    """
    if case_id == case.pk:
        return case
    found = case.prerequisites.select_related("service").filter(pk=case_id).first()
    if found is None:
        raise NotFound(_("This case does not exist."))
    return found


def case_supplement_items(case: Case) -> list[SupplementItem]:
    """What this case asked of the applicant (and what it was promised), oldest first."""
    return list(case.supplement_items.select_related("request").order_by("raised_at", "pk"))


@dataclass(frozen=True)
class NoticeEntry:
    """One field or material of a supplement request, with every department that asked and why."""

    kind: str
    target: str
    label: str
    asked_by: tuple[tuple[str, str], ...]  # (department name, reason)
    due_date: date | None
    resolved: bool


@dataclass(frozen=True)
class Notice:
    request: SupplementRequest
    entries: tuple[NoticeEntry, ...]

    @property
    def open_entries(self) -> tuple[NoticeEntry, ...]:
        return tuple(e for e in self.entries if not e.resolved)


def application_notices(application: Application) -> list[Notice]:
    """The supplement notices and promises the applicant can see (not those still collecting),
    each field or material once, in two queries."""
    requests = list(
        application.supplement_requests.exclude(status=SupplementRequest.Status.COLLECTING)
        .order_by("number")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=SupplementItem.objects.select_related("case__department").order_by(
                    "case__position", "pk"
                ),
            )
        )
    )
    items = [item for request in requests for item in request.items.all()]
    elements = {
        e.key: e.label
        for e in DataElement.objects.filter(
            key__in={i.target for i in items if i.kind == SupplementItem.Kind.FIELD}
        )
    }
    materials = {
        m.code: m.name
        for m in Material.objects.filter(
            code__in={i.target for i in items if i.kind == SupplementItem.Kind.MATERIAL}
        )
    }
    notices = []
    for request in requests:
        by_pk = {str(item.pk): item for item in request.items.all()}
        # One entry per field or material, however many departments asked for it.
        merged = supplements.merge_items(
            supplements.RaisedItem(case=pk, kind=i.kind, target=i.target, reason=i.reason)
            for pk, i in by_pk.items()
        )
        entries = []
        for entry in merged:
            group = [by_pk[pk] for pk, _reason in entry.asked_by]
            labels = elements if entry.kind == SupplementItem.Kind.FIELD else materials
            entries.append(
                NoticeEntry(
                    kind=entry.kind,
                    target=entry.target,
                    label=labels.get(entry.target, entry.target),
                    asked_by=tuple((i.case.department.name, i.reason) for i in group),
                    due_date=min((i.due_date for i in group if i.due_date), default=None),
                    resolved=all(i.resolved_at for i in group),
                )
            )
        notices.append(Notice(request=request, entries=tuple(entries)))
    return notices


def open_notice(application: Application, number: int) -> Notice:
    """A notice or promise of the application still waiting for the applicant."""
    for notice in application_notices(application):
        if (
            notice.request.number == number
            and notice.request.status == SupplementRequest.Status.SENT
        ):
            return notice
    raise NotFound(_("This supplement request does not exist or was already answered."))


def deadline_state_on(case: Case, today: date, *, workdays: RegionalWorkdays | None = None) -> str:
    """on_time, due_soon, overdue, or escalated (overdue by the escalation limit or more), as
    the deadline sweep judges `case` on `today`.

    `workdays`: the platform's calendar indexed around the days judged, when the caller judges
    many cases (else the calendar counts)."""
    workdays = workdays or RegionalWorkdays(work_calendar(), today, today)
    return workdays.deadline_mark(
        case.due_date,
        today,
        case.department.region.code,
        warn_days=settings.DEADLINE_WARN_DAYS,
        escalate_days=settings.DEADLINE_ESCALATE_DAYS,
    )
