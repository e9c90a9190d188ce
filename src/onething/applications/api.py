"""Applications API: the applicant's journey and the reviewer's work, for apps and systems.

Every operation needs a signed-in user (token or session); what each may see is decided by the
selectors and services, never here. Supervisors and administrators read the workbench's cases
within their scope; its actions answer them 403.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Header, Router, Schema, Status
from ninja.files import UploadedFile

from onething.accounts.auth import API_AUTH
from onething.accounts.selectors import case_scopes
from onething.applications import selectors, services
from onething.applications.lifecycle import progress_percent
from onething.applications.models import (
    APPLICATION_STATUS_LABELS,
    CASE_STATUS_LABELS,
    Application,
    Case,
    DepartmentEndpoint,
)
from onething.catalog.models import DataElement, Department
from onething.core.errors import InvalidInput, NotAllowed, NotFound
from onething.core.masking import mask_mapping
from onething.core.schemas import ErrorOut
from onething.simulator.signing import verify_signature

router = Router(tags=["applications"], auth=API_AUTH)
workbench = Router(tags=["workbench"], auth=API_AUTH)
# Departments' systems authenticate each callback with an HMAC signature instead.
connector = Router(tags=["connector"], auth=None)

AnswerValue = bool | int | float | str | None


class DraftIn(Schema):
    thing: str = Field(max_length=64)
    answers: dict[str, AnswerValue] = Field(default_factory=dict)
    enterprise: str | None = Field(None, max_length=18, description="credit code you act for")


class ApplicationIn(DraftIn):
    form: dict[str, AnswerValue] = Field(default_factory=dict)
    consent: bool = False
    share_data: bool = Field(
        False,
        description="the applicant consents to the data use of the thing's grants: what "
        "departments hold is read first, and materials it covers are exempt",
    )
    share_sensitive: bool = Field(False, description="also read sensitive data (health, children)")


class FormIn(Schema):
    values: dict[str, AnswerValue]


class FormOut(Schema):
    saved: bool
    problems: dict[str, str]


class SubmitIn(Schema):
    consent: bool = False


class WithdrawIn(Schema):
    reason: str = Field("", max_length=500)


class CaseOut(Schema):
    id: int
    service: str
    service_name: str
    department: str
    department_name: str
    status: str
    status_label: str
    stage: int
    promised_days: int
    outputs: dict[str, Any]
    reason: str


class EventOut(Schema):
    at: str
    action: str
    case: str | None
    from_status: str
    to_status: str
    note: str
    actor: str


class ApplicationOut(Schema):
    reference: str
    thing: str
    thing_name: str
    status: str
    status_label: str
    channel: str
    progress: int
    promised_days: int | None
    due_date: str | None = None
    submitted_at: str | None
    finished_at: str | None
    cases: list[CaseOut]


class ApplicationDetail(ApplicationOut):
    answers: dict[str, Any]
    form: dict[str, Any]
    timeline: list[EventOut]


class ApplicationList(Schema):
    items: list[ApplicationOut]
    count: int


class MaterialOut(Schema):
    material: str
    sha256: str
    size: int
    content_type: str


class QueueItem(Schema):
    id: int
    reference: str
    thing: str
    service: str
    service_name: str
    status: str
    status_label: str
    needs_attention: bool
    ready_at: str | None
    due_date: str | None = None
    deadline: str | None = Field(None, description="due_soon, overdue or escalated")


class Queue(Schema):
    items: list[QueueItem]
    count: int


class CaseDetail(QueueItem):
    data: dict[str, Any]
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    declared_outputs: list[str]
    reason: str
    attention_reason: str


class ApproveIn(Schema):
    outputs: dict[str, AnswerValue] = Field(default_factory=dict)


class RejectIn(Schema):
    reason: str = Field(max_length=2000)


class RevealIn(Schema):
    field: str = Field(max_length=100)
    output_of: int | None = Field(
        None,
        description="A result rather than a form value: the id of this case or of an earlier "
        "case it depends on",
    )


class RevealOut(Schema):
    field: str
    value: str


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _case_out(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "service": case.service.code,
        "service_name": case.service.name,
        "department": case.department.code,
        "department_name": case.department.name,
        "status": case.status,
        "status_label": str(CASE_STATUS_LABELS[case.status]),
        "stage": case.stage,
        "promised_days": case.promised_days,
        "outputs": case.outputs,
        "reason": case.reason,
    }


def _application_out(application: Application, cases: list[Case] | None = None) -> dict[str, Any]:
    if cases is None:
        cases = selectors.application_cases_in_order(application)
    return {
        "reference": application.reference,
        "thing": application.thing.code,
        "thing_name": application.thing.name,
        "status": application.status,
        "status_label": str(APPLICATION_STATUS_LABELS[application.status]),
        "channel": application.channel,
        "progress": progress_percent(c.status for c in cases),
        "promised_days": application.promised_days,
        "due_date": application.due_date.isoformat() if application.due_date else None,
        "submitted_at": _iso(application.submitted_at),
        "finished_at": _iso(application.finished_at),
        "cases": [_case_out(c) for c in cases],
    }


def _application_detail(application: Application) -> dict[str, Any]:
    cases = selectors.application_cases_in_order(application)
    service_of_case = {case.pk: case.service.code for case in cases}
    return {
        **_application_out(application, cases),
        "answers": application.answers,
        "form": application.form_data,
        "timeline": [
            {
                "at": event["at"].isoformat(),
                "action": event["action"],
                "case": service_of_case.get(event["case_id"]),
                "from_status": event["from_status"],
                "to_status": event["to_status"],
                "note": event["note"],
                "actor": event["actor_label"],
            }
            for event in selectors.application_timeline_entries(application)
        ],
    }


@router.get("", response=ApplicationList, summary="My applications")
def list_applications(request: HttpRequest):
    items = [_application_out(a) for a in selectors.applications_to_show(request.auth)]
    return {"items": items, "count": len(items)}


@router.post(
    "",
    response={
        200: ApplicationDetail,
        201: ApplicationDetail,
        403: ErrorOut,
        404: ErrorOut,
        422: ErrorOut,
    },
    summary="Apply in one call (idempotent: send an Idempotency-Key header)",
)
def create_application(
    request: HttpRequest,
    payload: ApplicationIn,
    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=8, max_length=100),
):
    submission = services.application_create_and_submit(
        actor=request.auth,
        thing_code=payload.thing,
        answers=payload.answers,
        form=payload.form,
        consent=payload.consent,
        idempotency_key=idempotency_key,
        enterprise_uscc=payload.enterprise,
        share_data=payload.share_data,
        share_sensitive=payload.share_sensitive,
    )
    return Status(201 if submission.created else 200, _application_detail(submission.application))


@router.post(
    "/drafts",
    response={201: ApplicationDetail, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Start a draft from situation answers",
)
def create_draft(request: HttpRequest, payload: DraftIn):
    application = services.application_start(
        actor=request.auth,
        thing_code=payload.thing,
        answers=payload.answers,
        enterprise_uscc=payload.enterprise,
    )
    return Status(201, _application_detail(application))


@router.get(
    "/{reference}", response={200: ApplicationDetail, 404: ErrorOut}, summary="One application"
)
def get_application(request: HttpRequest, reference: str):
    return _application_detail(selectors.application_to_show(request.auth, reference))


@router.patch(
    "/{reference}/form",
    response={200: FormOut, 404: ErrorOut, 409: ErrorOut},
    summary="Save form values into a draft (problems are reported, nothing is lost)",
)
def save_form(request: HttpRequest, reference: str, payload: FormIn):
    application = selectors.application_for_applicant(request.auth, reference)
    problems = services.application_save_form(
        actor=request.auth, application=application, values=payload.values
    )
    return {"saved": True, "problems": problems}


@router.post(
    "/{reference}/materials/{material}",
    response={201: MaterialOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Upload a material (PDF, PNG or JPEG, at most 10 MB)",
)
def upload_material(
    request: HttpRequest,
    reference: str,
    material: str,
    file: UploadedFile = File(...),  # noqa: B008 - ninja declares parameters this way
):
    application = selectors.application_for_applicant(request.auth, reference)
    if file.size and file.size > services.MAX_UPLOAD_BYTES:
        raise InvalidInput(
            _("The file is too large."), fields={f"materials.{material}": _("At most 10 MB.")}
        )
    attached = services.application_attach_material(
        actor=request.auth,
        application=application,
        material_code=material,
        name=file.name or "upload",
        content=file.read(),
    )
    return Status(
        201,
        {
            "material": material,
            "sha256": attached.sha256,
            "size": attached.size,
            "content_type": attached.content_type,
        },
    )


@router.post(
    "/{reference}/submit",
    response={200: ApplicationDetail, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Submit a draft (idempotent with an Idempotency-Key header)",
)
def submit_application(
    request: HttpRequest,
    reference: str,
    payload: SubmitIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=100),
):
    application = selectors.application_for_applicant(request.auth, reference)
    application = services.application_submit(
        actor=request.auth,
        application=application,
        consent=payload.consent,
        idempotency_key=idempotency_key,
    )
    return _application_detail(application)


@router.post(
    "/{reference}/withdraw",
    response={200: ApplicationDetail, 404: ErrorOut, 409: ErrorOut},
    summary="Withdraw before completion",
)
def withdraw_application(request: HttpRequest, reference: str, payload: WithdrawIn):
    application = selectors.application_for_applicant(request.auth, reference)
    application = services.application_withdraw(
        actor=request.auth, application=application, reason=payload.reason
    )
    return _application_detail(application)


# --- supplements ---------------------------------------------------------------------------------


class NoticeEntryOut(Schema):
    kind: str
    target: str
    label: str
    asked_by: list[dict[str, str]]
    due_date: str | None
    resolved: bool


class NoticeOut(Schema):
    number: int
    kind: str
    status: str
    sent_at: str | None
    answered_at: str | None
    items: list[NoticeEntryOut]


class NoticeList(Schema):
    items: list[NoticeOut]


def _notice_out(notice: selectors.Notice) -> dict[str, Any]:
    request = notice.request
    return {
        "number": request.number,
        "kind": request.kind,
        "status": request.status,
        "sent_at": _iso(request.sent_at),
        "answered_at": _iso(request.answered_at),
        "items": [
            {
                "kind": e.kind,
                "target": e.target,
                "label": str(e.label),
                "asked_by": [{"department": str(d), "reason": r} for d, r in e.asked_by],
                "due_date": e.due_date.isoformat() if e.due_date else None,
                "resolved": e.resolved,
            }
            for e in notice.entries
        ],
    }


@router.get(
    "/{reference}/supplements",
    response={200: NoticeList, 404: ErrorOut},
    summary="Supplement notices and promised materials of one application",
)
def list_supplements(request: HttpRequest, reference: str):
    application = selectors.application_for_applicant(request.auth, reference)
    return {"items": [_notice_out(n) for n in selectors.application_notices(application)]}


@router.post(
    "/{reference}/supplements/{number}/answer",
    response={200: NoticeOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Answer a supplement notice once",
    description="Multipart: `values` is a JSON object of the corrected fields; each material "
    "is a file named `material-<code>`. A notice is answered whole; promised materials may be "
    "supplied one at a time.",
)
def answer_supplement(
    request: HttpRequest,
    reference: str,
    number: int,
    values: str = Form("{}", description='e.g. {"child.birth_weight": 3250}'),
):
    application = selectors.application_for_applicant(request.auth, reference)
    notice = selectors.open_notice(application, number)
    try:
        parsed = json.loads(values or "{}")
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise InvalidInput(
            _("values must be a JSON object."), fields={"values": _("Expected a JSON object.")}
        )
    files = {
        name.removeprefix("material-"): (
            upload.name or "upload",
            upload.read(services.MAX_UPLOAD_BYTES + 1),
        )
        for name, upload in request.FILES.items()
        if name.startswith("material-")
    }
    services.supplement_answer(
        actor=request.auth, request=notice.request, values=parsed, files=files
    )
    return _notice_out(
        next(n for n in selectors.application_notices(application) if n.request.number == number)
    )


# --- workbench ----------------------------------------------------------------------------------


def _queue_item(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "reference": case.application.reference,
        "thing": case.application.thing.code,
        "service": case.service.code,
        "service_name": case.service.name,
        "status": case.status,
        "status_label": str(CASE_STATUS_LABELS[case.status]),
        "needs_attention": case.needs_attention,
        "ready_at": _iso(case.ready_at),
        "due_date": case.due_date.isoformat() if case.due_date else None,
        "deadline": case.deadline_state or None,
    }


def _sensitive_keys(case: Case) -> set[str]:
    """Every personal or sensitive element among the case's fields, inputs and results."""
    keys = {*case.inputs, *case.outputs}
    return set(
        DataElement.objects.filter(
            Q(key__in=keys) | Q(pk__in=case.service.fields.values("element")),
            sensitivity__in=["personal", "sensitive"],
        ).values_list("key", flat=True)
    )


def _case_detail(case: Case) -> dict[str, Any]:
    from onething.applications.handlers import case_data_for_department

    # Results are as personal as the form (the baby's ID number): masked for every reader of the
    # workbench, revealed one at a time through `reveal`, which is recorded.
    sensitive = _sensitive_keys(case)
    return {
        **_queue_item(case),
        "data": mask_mapping(case_data_for_department(case), sensitive),
        "inputs": mask_mapping(case.inputs, sensitive),
        "outputs": mask_mapping(case.outputs, sensitive),
        "declared_outputs": list(case.service.outputs.values_list("element__key", flat=True)),
        "reason": case.reason,
        "attention_reason": case.attention_reason,
    }


QueueFilter = Literal[
    "open", "waiting", "ready", "accepted", "supplement", "approved", "rejected", "cancelled"
]


@workbench.get(
    "/cases",
    response={200: Queue, 403: ErrorOut},
    summary="My department's queue (for a supervisor or an administrator: the cases they read)",
    description="Reviewers, supervisors and administrators only; anyone else gets 403.",
)
def queue(request: HttpRequest, status: QueueFilter | None = None):
    if not case_scopes(request.auth):
        # Declared, not implied by an empty list: applicants and clerks have no queue.
        raise NotAllowed(_("Only reviewers, supervisors and administrators have a queue."))
    items = [_queue_item(c) for c in selectors.cases_for_staff(request.auth, status=status)]
    return {"items": items, "count": len(items)}


@workbench.get("/cases/{case_id}", response={200: CaseDetail, 404: ErrorOut}, summary="One case")
def get_case(request: HttpRequest, case_id: int):
    return _case_detail(selectors.case_for_staff(request.auth, case_id))


@workbench.post(
    "/cases/{case_id}/accept",
    response={200: CaseDetail, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def accept_case(request: HttpRequest, case_id: int):
    case = selectors.case_for_staff(request.auth, case_id)
    return _case_detail(services.case_accept(actor=request.auth, case=case))


@workbench.post(
    "/cases/{case_id}/approve",
    response={200: CaseDetail, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def approve_case(request: HttpRequest, case_id: int, payload: ApproveIn):
    case = selectors.case_for_staff(request.auth, case_id)
    return _case_detail(
        services.case_approve(actor=request.auth, case=case, outputs=payload.outputs)
    )


class SupplementItemIn(Schema):
    kind: Literal["field", "material"]
    target: str = Field(max_length=100)
    reason: str = Field(max_length=1000)


class SupplementAskIn(Schema):
    items: list[SupplementItemIn] = Field(max_length=100)


@workbench.post(
    "/cases/{case_id}/supplement",
    response={200: CaseDetail, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Ask the applicant for fields or materials (held in the stage's one notice)",
)
def ask_supplement(request: HttpRequest, case_id: int, payload: SupplementAskIn):
    case = selectors.case_for_staff(request.auth, case_id)
    services.case_ask_supplement(
        actor=request.auth, case=case, items=[item.dict() for item in payload.items]
    )
    return _case_detail(selectors.case_for_staff(request.auth, case_id))


@workbench.post(
    "/cases/{case_id}/reject",
    response={200: CaseDetail, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def reject_case(request: HttpRequest, case_id: int, payload: RejectIn):
    case = selectors.case_for_staff(request.auth, case_id)
    return _case_detail(services.case_reject(actor=request.auth, case=case, reason=payload.reason))


@workbench.post(
    "/cases/{case_id}/reveal",
    response={200: RevealOut, 403: ErrorOut, 404: ErrorOut},
    summary="Show one masked value (recorded in the audit trail)",
)
def reveal_value(request: HttpRequest, case_id: int, payload: RevealIn):
    case = selectors.case_for_staff(request.auth, case_id)
    source = (
        None if payload.output_of is None else selectors.case_with_results(case, payload.output_of)
    )
    value = services.case_reveal_value(
        actor=request.auth, case=case, key=payload.field, output_of=source
    )
    return {"field": payload.field, "value": value}


# --- connector callbacks ------------------------------------------------------------------------


class CallbackOut(Schema):
    case: str
    status: str


@connector.post(
    "/callbacks/{department}",
    url_name="connector_callback",
    response={200: CallbackOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="A department's system reports a decision (HMAC-signed)",
)
def connector_callback(
    request: HttpRequest,
    department: str,
    signature: str = Header("", alias="X-OneThing-Signature"),
    event_id: str = Header("", alias="X-OneThing-Event-Id", max_length=100),
):
    endpoint = DepartmentEndpoint.objects.filter(department__code=department).first()
    if endpoint is None or not Department.objects.filter(code=department).exists():
        raise NotFound(_("No such department endpoint."))
    if not verify_signature(endpoint.secret, request.body, signature):
        raise NotAllowed(_("The signature does not match."))
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            _("The body is not valid JSON."), fields={"body": _("Not JSON.")}
        ) from None
    if not isinstance(body, dict) or not event_id:
        raise InvalidInput(
            _("The callback is incomplete."),
            fields={"X-OneThing-Event-Id": _("Required."), "body": _("Must be an object.")},
        )
    outputs = body.get("outputs") if isinstance(body.get("outputs"), dict) else {}
    case = services.connector_callback(
        department_code=department,
        event_id=event_id,
        case_public_id=str(body.get("case", "")),
        status=str(body.get("status", "")),
        outputs=outputs,
        reason=str(body.get("reason", ""))[:2000],
    )
    return {"case": str(case.public_id), "status": case.status}
