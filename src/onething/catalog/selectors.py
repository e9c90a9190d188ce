"""Reads of the catalog. Planning gets its input here, as the same definition models the YAML
loader produces, so a plan from the database and a plan from the files agree."""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from onething.catalog import models as m
from onething.catalog.plan_output import answer_messages
from onething.catalog.planning import AnswerErrors, Plan, ThingBundle, plan
from onething.catalog.schema import (
    DataElementDef,
    DepartmentDef,
    MaterialDef,
    QuestionDef,
    ServiceDef,
    ThingDef,
)
from onething.core.errors import InvalidInput, NotFound
from onething.core.workdays import DayKind, Override, WorkCalendar


def _text(obj, prefix: str) -> dict[str, str] | None:
    """Both languages of a stored text; one left empty in admin falls back to the other."""
    zh, en = getattr(obj, f"{prefix}_zh"), getattr(obj, f"{prefix}_en")
    return {"zh": zh or en, "en": en or zh} if zh or en else None


def _service_queryset() -> QuerySet[m.Service]:
    return m.Service.objects.select_related(
        "department__region", "result_certificate_type"
    ).prefetch_related(
        Prefetch("fields", queryset=m.ServiceField.objects.select_related("element")),
        Prefetch(
            "materials",
            queryset=m.ServiceMaterial.objects.select_related(
                "material__certificate_type", "material__shared_by"
            ).prefetch_related("material__carries"),
        ),
        Prefetch("outputs", queryset=m.ServiceOutput.objects.select_related("element")),
    )


def things_list(*, audience: str | None = None, query: str | None = None) -> QuerySet[m.Thing]:
    """Things for the portal, optionally for one audience and matching a name in either language."""
    things = m.Thing.objects.select_related("lead_department").annotate(
        member_count=Count("members", distinct=True),
        department_count=Count("members__service__department", distinct=True),
    )
    if audience:
        things = things.filter(audience=audience)
    if query:
        things = things.filter(
            Q(name_zh__icontains=query)
            | Q(name_en__icontains=query)
            | Q(summary_zh__icontains=query)
            | Q(summary_en__icontains=query)
            | Q(code__icontains=query)
        )
    return things.order_by("position", "code")


def thing_get(code: str) -> m.Thing:
    try:
        return (
            m.Thing.objects.select_related("lead_department__region")
            .prefetch_related("questions", "members__service__department")
            .get(code=code)
        )
    except m.Thing.DoesNotExist:
        raise NotFound(
            _("There is no one thing with the code “%(code)s”.") % {"code": code[:64]}
        ) from None


def services_list(
    *, department: str | None = None, query: str | None = None
) -> QuerySet[m.Service]:
    services = m.Service.objects.select_related("department", "result_certificate_type")
    if department:
        services = services.filter(department__code=department)
    if query:
        services = services.filter(
            Q(name_zh__icontains=query) | Q(name_en__icontains=query) | Q(code__icontains=query)
        )
    return services.order_by("department__code", "code")


def service_get(code: str) -> m.Service:
    try:
        return _service_queryset().get(code=code)
    except m.Service.DoesNotExist:
        raise NotFound(
            _("There is no service with the code “%(code)s”.") % {"code": code[:64]}
        ) from None


def things_with_service(service: m.Service) -> QuerySet[m.Thing]:
    return m.Thing.objects.filter(members__service=service).distinct()


def departments_list() -> QuerySet[m.Department]:
    return m.Department.objects.select_related("region").order_by("region__code", "code")


def service_definition(service: m.Service) -> ServiceDef:
    """The stored service as a definition model (expects `_service_queryset` prefetches)."""
    return ServiceDef.model_validate(
        {
            "code": service.code,
            "name": _text(service, "name"),
            "department": service.department.code,
            "kind": service.kind,
            "legal_basis": _text(service, "legal_basis"),
            "description": _text(service, "description"),
            "fields": [
                {"element": f.element.key, "required": f.required} for f in service.fields.all()
            ],
            "materials": [
                {"material": i.material.code, "required": i.required, "deferrable": i.deferrable}
                for i in service.materials.all()
            ],
            "outputs": [{"element": o.element.key} for o in service.outputs.all()],
            "statutory_days": service.statutory_days,
            "promised_days": service.promised_days,
            "fee": service.fee,
            "fee_note": _text(service, "fee_note"),
            "result_certificate_type": (
                service.result_certificate_type.code if service.result_certificate_type else None
            ),
            "handler": service.handler,
            "rule": service.rule or None,
            "cross_region": service.cross_region,
            "counter_visits": service.counter_visits,
            "rule_inputs": list(service.rule_inputs),
            "rule_condition": service.rule_condition,
        }
    )


def material_definition(material: m.Material) -> MaterialDef:
    return MaterialDef.model_validate(
        {
            "code": material.code,
            "name": _text(material, "name"),
            "kind": material.kind,
            "carries": [e.key for e in material.carries.all()],
            "source": material.source,
            "certificate_type": (
                material.certificate_type.code if material.certificate_type else None
            ),
            "shared_by": material.shared_by.code if material.shared_by else None,
            "copies": material.copies,
        }
    )


def element_definition(element: m.DataElement) -> DataElementDef:
    return DataElementDef.model_validate(
        {
            "key": element.key,
            "label": _text(element, "label"),
            "type": element.type,
            "validator": element.validator or None,
            "sensitivity": element.sensitivity,
            "options": element.options,
            "min": element.min_value,
            "max": element.max_value,
            "help": _text(element, "help"),
            "past_only": element.past_only,
        }
    )


def department_definition(department: m.Department) -> DepartmentDef:
    return DepartmentDef.model_validate(
        {
            "code": department.code,
            "name": _text(department, "name"),
            "region": department.region.code,
            "kind": department.kind,
        }
    )


# How long a process trusts the catalog revision it last read before asking again: a load or
# an admin edit in another process is planned within this time (in this process, at once).
REVISION_TRUSTED_SECONDS = 1.0
# (when it was read, on the monotonic clock; the revision and its time, or None for none).
_revision_read: tuple[float, tuple[int, object] | None] | None = None
# (catalog revision, its time) -> thing code -> the bundle read at that revision.
_bundle_cache: tuple[tuple[int, object], dict[str, ThingBundle]] | None = None


def catalog_revision_forget() -> None:
    """Ask for the catalog revision on the next plan (this process changed the catalog)."""
    global _revision_read
    _revision_read = None


def catalog_revision() -> tuple[int, object] | None:
    """The catalog's revision and when it changed, read at most once a second; None without a
    revision row (a catalog written by other means)."""
    global _revision_read
    now = time.monotonic()
    read = _revision_read
    if read is not None and now - read[0] < REVISION_TRUSTED_SECONDS:
        return read[1]
    revision = m.CatalogRevision.objects.filter(pk=1).values_list("number", "changed_at").first()
    _revision_read = (now, revision)
    return revision


def thing_bundle(code: str) -> ThingBundle:
    """Everything planning needs for one thing, read once per catalog revision.

    Reading it costs ten queries and a hundred times the planning itself. The revision is read
    at most once a second (a query per plan was half a plan's time under load); a load or an
    admin edit bumps it, so other processes plan the change within that second. Without a
    revision row (a catalog written by other means) nothing is cached.
    """
    global _bundle_cache
    revision = catalog_revision()
    if revision is None:
        return _thing_bundle_read(code)
    cached = _bundle_cache
    if cached is None or cached[0] != revision:
        cached = (revision, {})
        _bundle_cache = cached
    bundle = cached[1].get(code)
    if bundle is None:
        bundle = cached[1][code] = _thing_bundle_read(code)
    return bundle


def _thing_bundle_read(code: str) -> ThingBundle:
    """Everything planning needs for one thing, in a fixed handful of queries."""
    thing = thing_get(code)
    members = list(thing.members.all())
    services = {
        s.code: s
        for s in _service_queryset().filter(pk__in=[member.service_id for member in members])
    }
    thing_def = ThingDef.model_validate(
        {
            "code": thing.code,
            "name": _text(thing, "name"),
            "audience": thing.audience,
            "category": _text(thing, "category"),
            "lead_department": thing.lead_department.code,
            "summary": _text(thing, "summary"),
            "questions": [question_definition(q) for q in thing.questions.all()],
            "form_rules": thing.form_rules,
            "members": [
                {
                    "service": member.service.code,
                    "when": member.when,
                    "after": member.after,
                    "note": _text(member, "note"),
                }
                for member in members
            ],
        }
    )
    service_defs = {code: service_definition(s) for code, s in services.items()}
    materials: dict[str, MaterialDef] = {}
    elements: dict[str, DataElementDef] = {}
    departments = {thing.lead_department.code: department_definition(thing.lead_department)}
    for service in services.values():
        departments[service.department.code] = department_definition(service.department)
        for item in service.materials.all():
            materials.setdefault(item.material.code, material_definition(item.material))
        for row in [*service.fields.all(), *service.outputs.all()]:
            elements.setdefault(row.element.key, element_definition(row.element))
    return ThingBundle(thing_def, service_defs, departments, materials, elements)


def question_definition(question: m.Question) -> QuestionDef:
    return QuestionDef.model_validate(
        {
            "key": question.key,
            "type": question.type,
            "label": _text(question, "label"),
            "help": _text(question, "help"),
            "options": question.options,
            "min": question.min_value,
            "max": question.max_value,
            "default": question.default,
        }
    )


def thing_plan(code: str, answers: dict) -> Plan:
    """The plan for a stored thing; InvalidInput names every wrong answer in the user's language."""
    bundle = thing_bundle(code)
    try:
        return plan(bundle, answers)
    except AnswerErrors as exc:
        raise InvalidInput(
            _("Some answers are missing or not allowed."),
            fields=answer_messages(exc.problems, bundle.thing.questions),
        ) from None


# The catalog revision (or, without one, the calendar table's row count and last update) ->
# the calendar built from it.
_calendar_cache: tuple[object, WorkCalendar] | None = None


def work_calendar() -> WorkCalendar:
    """The working-day calendar with the catalog's overrides, rebuilt when they change.

    Read once per catalog revision, as the plans are: a load or an admin edit bumps it, so
    every process sees a change within `REVISION_TRUSTED_SECONDS` without asking on every
    deadline (an aggregate over the table per released case before). Without a revision row
    one aggregate query per call tells whether the table changed (a deletion changes the count,
    an edit `updated_at`).
    """
    global _calendar_cache
    fingerprint: object = catalog_revision()
    if fingerprint is None:
        stamp = m.CalendarDay.objects.aggregate(count=Count("pk"), last=Max("updated_at"))
        fingerprint = ("table", stamp["count"], stamp["last"])
    cached = _calendar_cache
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    calendar = WorkCalendar(
        Override(row.date, DayKind(row.kind), row.region.code if row.region else None, row.name_zh)
        for row in m.CalendarDay.objects.select_related("region")
    )
    _calendar_cache = (fingerprint, calendar)
    return calendar


def names_by_code(model: type[m.Bilingual], codes: Iterable[str] | None = None) -> dict[str, str]:
    """Code → name in the active language of `model`'s rows (a catalog model with a code and
    both names), ordered by code: every row, or those of `codes` only."""
    rows = model.objects.order_by("code")
    if codes is not None:
        rows = rows.filter(code__in=sorted(set(codes)))
    return {
        code: m.in_language(zh, en)
        for code, zh, en in rows.values_list("code", "name_zh", "name_en")
    }
