"""Catalog API: things, their plans, services and departments. Public reads, no login needed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import StringConstraints

from onething.catalog import selectors
from onething.catalog.models import in_language
from onething.catalog.plan_output import json_number, money, plan_as_dict
from onething.core.schemas import ErrorOut

router = Router(tags=["catalog"], auth=None)  # the catalog is public

AnswerValue = bool | int | float | str | None


class DepartmentRef(Schema):
    code: str
    name: str


class DepartmentOut(DepartmentRef):
    name_zh: str
    name_en: str
    region: str
    region_name: str
    kind: str


class DepartmentList(Schema):
    items: list[DepartmentOut]
    count: int


class ThingItem(Schema):
    code: str
    name: str
    audience: Literal["person", "enterprise"]
    category: str
    summary: str
    lead_department: DepartmentRef
    url: str


class ThingList(Schema):
    items: list[ThingItem]
    count: int


class OptionOut(Schema):
    value: str
    label: str


class QuestionOut(Schema):
    key: str
    type: Literal["yes_no", "choice", "number"]
    label: str
    help: str
    options: list[OptionOut]
    min: float | None = None
    max: float | None = None
    default: AnswerValue = None


class MemberOut(Schema):
    service: str
    name: str
    department: DepartmentRef
    conditional: bool
    after: list[str]


class ThingDetail(ThingItem):
    questions: list[QuestionOut]
    members: list[MemberOut]


AnswerKey = Annotated[str, StringConstraints(max_length=64)]


class PlanIn(Schema):
    answers: dict[AnswerKey, AnswerValue] = Field(default_factory=dict, max_length=50)


class Reduction(Schema):
    separately: int
    together: int
    saved: int
    percent: int


class Reductions(Schema):
    materials: Reduction
    fields: Reduction
    days: Reduction
    trips: Reduction


class PlanMember(Schema):
    service: str
    name: str
    department: DepartmentRef
    kind: str
    stage: int
    after: list[str]
    promised_days: int
    statutory_days: int
    start_day: int
    finish_day: int
    fee: str
    handler: str
    cross_region: bool
    result_certificate_type: str | None
    legal_basis: str


class ExcludedMember(Schema):
    service: str
    name: str


class PlanStage(Schema):
    number: int
    members: list[str]
    days: int = Field(description="the longest promised limit among the stage's services")
    finish_day: int = Field(description="the working day by which the whole stage is done")


class PlanField(Schema):
    key: str
    label: str
    type: str
    validator: str | None
    sensitivity: str
    required: bool
    members: list[str]
    needed_by: list[str]
    source: Literal["applicant", "result"]
    produced_by: str | None


class PlanMaterial(Schema):
    code: str
    name: str
    kind: str
    copies: int
    required: bool
    deferrable: bool
    members: list[str]
    needed_by: list[str]
    source: Literal["applicant", "sharing", "certificate", "result"]
    produced_by: str | None
    certificate_type: str | None
    shared_by: str | None


class FeeLine(Schema):
    service: str
    name: str
    fee: str


class Fees(Schema):
    currency: str
    total: str
    per_member: list[FeeLine]


class Trips(Schema):
    online: int
    window: int


class ThingRef(Schema):
    code: str
    name: str
    audience: str
    summary: str


class PlanOut(Schema):
    thing: ThingRef
    answers: dict[str, AnswerValue]
    members: list[PlanMember]
    excluded: list[ExcludedMember]
    stages: list[PlanStage]
    form: list[PlanField]
    materials: list[PlanMaterial]
    fees: Fees
    promised_days: int
    trips: Trips
    reductions: Reductions


class ServiceItem(Schema):
    code: str
    name: str
    department: DepartmentRef
    kind: str
    promised_days: int
    statutory_days: int
    fee: str
    handler: str
    cross_region: bool
    url: str


class ServiceList(Schema):
    items: list[ServiceItem]
    count: int


class GuideField(Schema):
    key: str
    label: str
    type: str
    required: bool


class GuideMaterial(Schema):
    code: str
    name: str
    kind: str
    required: bool
    deferrable: bool
    source: str


class ServiceGuide(ServiceItem):
    legal_basis: str
    description: str
    fee_note: str
    counter_visits: int
    result_certificate_type: str | None
    fields: list[GuideField]
    materials: list[GuideMaterial]
    outputs: list[str]
    things: list[str]


def _department_ref(department) -> dict[str, str]:
    return {"code": department.code, "name": department.name}


def _thing_item(thing) -> dict[str, Any]:
    return {
        "code": thing.code,
        "name": thing.name,
        "audience": thing.audience,
        "category": thing.category,
        "summary": thing.summary,
        "lead_department": _department_ref(thing.lead_department),
        "url": f"/things/{thing.code}/",
    }


def _service_item(service) -> dict[str, Any]:
    return {
        "code": service.code,
        "name": service.name,
        "department": _department_ref(service.department),
        "kind": service.kind,
        "promised_days": service.promised_days,
        "statutory_days": service.statutory_days,
        "fee": money(service.fee),
        "handler": service.handler,
        "cross_region": service.cross_region,
        "url": f"/services/{service.code}/",
    }


def _label(value: dict | None) -> str:
    return in_language(value.get("zh", ""), value.get("en", "")) if value else ""


@router.get("/things", response=ThingList, summary="List one things")
def list_things(
    request: HttpRequest,
    audience: Literal["person", "enterprise", ""] | None = None,
    q: str | None = Query(None, max_length=100, description="search names in either language"),
):
    items = [_thing_item(t) for t in selectors.things_list(audience=audience, query=q)]
    return {"items": items, "count": len(items)}


@router.get(
    "/things/{code}", response={200: ThingDetail, 404: ErrorOut}, summary="One thing, its questions"
)
def get_thing(request: HttpRequest, code: str):
    thing = selectors.thing_get(code)
    return {
        **_thing_item(thing),
        "questions": [
            {
                "key": q.key,
                "type": q.type,
                "label": in_language(q.label_zh, q.label_en),
                "help": in_language(q.help_zh, q.help_en),
                "options": [{"value": o["value"], "label": _label(o["label"])} for o in q.options],
                "min": json_number(q.min_value),
                "max": json_number(q.max_value),
                "default": q.default,
            }
            for q in thing.questions.all()
        ],
        "members": [
            {
                "service": member.service.code,
                "name": member.service.name,
                "department": _department_ref(member.service.department),
                "conditional": member.when is not True,
                "after": member.after,
            }
            for member in thing.members.all()
        ],
    }


@router.post(
    "/things/{code}/plan",
    response={200: PlanOut, 404: ErrorOut, 422: ErrorOut},
    summary="Plan a thing for these answers (the one-time notification)",
)
def plan_thing(request: HttpRequest, code: str, payload: PlanIn):
    return plan_as_dict(selectors.thing_plan(code, payload.answers))


@router.get("/services", response=ServiceList, summary="List services")
def list_services(
    request: HttpRequest,
    department: str | None = Query(None, max_length=64),
    q: str | None = Query(None, max_length=100),
):
    items = [_service_item(s) for s in selectors.services_list(department=department, query=q)]
    return {"items": items, "count": len(items)}


@router.get(
    "/services/{code}", response={200: ServiceGuide, 404: ErrorOut}, summary="A service's guide"
)
def get_service(request: HttpRequest, code: str):
    service = selectors.service_get(code)
    return {
        **_service_item(service),
        "legal_basis": service.legal_basis,
        "description": in_language(service.description_zh, service.description_en),
        "fee_note": in_language(service.fee_note_zh, service.fee_note_en),
        "counter_visits": service.counter_visits,
        "result_certificate_type": (
            service.result_certificate_type.code if service.result_certificate_type else None
        ),
        "fields": [
            {
                "key": f.element.key,
                "label": f.element.label,
                "type": f.element.type,
                "required": f.required,
            }
            for f in service.fields.all()
        ],
        "materials": [
            {
                "code": i.material.code,
                "name": i.material.name,
                "kind": i.material.kind,
                "required": i.required,
                "deferrable": i.deferrable,
                "source": i.material.source,
            }
            for i in service.materials.all()
        ],
        "outputs": [o.element.key for o in service.outputs.all()],
        "things": [t.code for t in selectors.things_with_service(service)],
    }


@router.get("/departments", response=DepartmentList, summary="List departments")
def list_departments(request: HttpRequest):
    items = [
        {
            "code": d.code,
            "name": d.name,
            "name_zh": d.name_zh,
            "name_en": d.name_en,
            "region": d.region.code,
            "region_name": d.region.name,
            "kind": d.kind,
        }
        for d in selectors.departments_list()
    ]
    return {"items": items, "count": len(items)}
