"""Every write to applications and cases.

Each service checks the transition (lifecycle), writes the change, its CaseEvent and its
AuditRecord in one transaction, and leaves what must happen next (dispatch to a department) in
the outbox of the same transaction, so a crash loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onething.accounts.models import User
from onething.accounts.selectors import enterprise_for, is_applicant, reviewer_scopes
from onething.applications import lifecycle
from onething.applications.lifecycle import (
    ApplicationAction,
    ApplicationStatus,
    CaseAction,
    CaseStatus,
    TransitionNotAllowed,
)
from onething.applications.models import (
    CASE_STATUS_LABELS,
    Application,
    ApplicationMaterial,
    Case,
    CaseEvent,
    Channel,
)
from onething.applications.uploads import sniff_content_type
from onething.audit.services import audit_record, mask_sensitive
from onething.catalog import models as catalog_models
from onething.catalog import selectors as catalog_selectors
from onething.catalog.fields import FieldProblem, FieldSpec, check_form
from onething.catalog.plan_output import pick, plan_as_dict
from onething.catalog.planning import Plan, Source
from onething.core.actors import SystemActor, actor_label, actor_user
from onething.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from onething.outbox.services import outbox_enqueue

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ALLOWED_UPLOAD_TYPES = ("application/pdf", "image/png", "image/jpeg")
DISPATCH_TOPIC = "case.dispatch"


# --- small shared pieces -------------------------------------------------------------------------


def _today() -> date:
    return timezone.localdate()


def _record(
    application: Application,
    *,
    actor: Any,
    action: str,
    case: Case | None = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: Mapping[str, Any] | None = None,
) -> None:
    """The timeline event and the audit record of one change, in the caller's transaction."""
    now = timezone.now()
    CaseEvent.objects.create(
        application=application,
        case=case,
        actor=actor_user(actor),
        actor_label=actor_label(actor),
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=dict(data or {}),
        at=now,
    )
    audit_record(
        actor=actor_label(actor),
        action=f"{'case' if case else 'application'}.{action}",
        stream=f"application:{application.public_id}",
        subject=f"{application.reference}/{case.service.code}" if case else application.reference,
        data=mask_sensitive(
            {"from": from_status, "to": to_status, "note": note, **dict(data or {})}
        ),
    )


def _new_reference() -> str:
    """`OT20261127-7K3QXZ`: the date it was started and a random part nobody can guess."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    suffix = "".join(secrets.choice(alphabet) for _ in range(6))
    return f"OT{timezone.localdate():%Y%m%d}-{suffix}"


def _lock_application(application: Application | int) -> Application:
    pk = application.pk if isinstance(application, Application) else application
    try:
        # of=("self",): the joined catalog row is read, never locked (every application of a
        # thing would otherwise queue behind each other on PostgreSQL).
        return (
            Application.objects.select_for_update(of=("self",)).select_related("thing").get(pk=pk)
        )
    except Application.DoesNotExist:
        raise NotFound(_("This application does not exist.")) from None


def _lock_case(case: Case | int) -> Case:
    pk = case.pk if isinstance(case, Case) else case
    try:
        return (
            Case.objects.select_for_update(of=("self",))
            .select_related("application", "service", "department")
            .get(pk=pk)
        )
    except Case.DoesNotExist:
        raise NotFound(_("This case does not exist.")) from None


def _require_own(actor: Any, application: Application) -> None:
    if application.applicant_id != getattr(actor, "pk", None):
        raise NotFound(_("This application does not exist."))


def _fingerprint(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- plans and forms -----------------------------------------------------------------------------


def application_plan(application: Application) -> Plan:
    """The plan for the application's answers, from the current catalog."""
    return catalog_selectors.thing_plan(application.thing.code, application.answers)


def asked_fields(plan: Plan) -> list[FieldSpec]:
    """The fields the applicant fills in: the merged form minus what earlier cases produce."""
    return [FieldSpec(f.element, f.required) for f in plan.form if f.asked]


def applicant_materials(plan: Plan) -> list:
    """The materials the applicant provides (not sharing, e-certificates or earlier results)."""
    return [m for m in plan.materials if m.source == Source.APPLICANT]


def field_problem_message(problem: FieldProblem, label: str) -> str:
    """One wrong field, in the user's language, naming the rule."""
    params = {"label": label, **{k: str(v) for k, v in problem.params.items()}}
    messages = {
        "required": _("%(label)s is required."),
        "not_text": _("%(label)s must be text."),
        "too_long": _("%(label)s must be at most %(max)s characters."),
        "not_a_date": _("%(label)s must be a date (YYYY-MM-DD)."),
        "in_the_future": _("%(label)s cannot be in the future."),
        "not_a_number": _("%(label)s must be a number."),
        "not_a_whole_number": _("%(label)s must be a whole number."),
        "below_min": _("%(label)s must be at least %(limit)s."),
        "above_max": _("%(label)s must be at most %(limit)s."),
        "not_yes_no": _("%(label)s must be yes or no."),
        "not_an_option": _("%(label)s must be one of the listed choices."),
        "check_digit": _("%(label)s: the check digit does not match."),
        "wrong_length": _("%(label)s must have %(length)s characters."),
        "bad_format": _("%(label)s is not a valid number of this kind."),
        "bank_card_format": _("%(label)s must be 12 to 19 digits."),
        "phone_format": _("%(label)s must be a mobile number (11 digits) or a landline."),
        "email_format": _("%(label)s must be an e-mail address."),
        "postcode_format": _("%(label)s must be 6 digits."),
        "before_mother_birth": _("%(label)s cannot be before the mother's date of birth."),
        "before_birth": _("%(label)s cannot be before the date of birth."),
    }
    return messages.get(problem.rule, _("%(label)s is not valid.")) % params


def _problems_as_fields(problems: Mapping[str, FieldProblem], plan: Plan) -> dict[str, str]:
    labels = {f.element.key: pick(f.element.label) for f in plan.form}
    return {
        f"form.{key}": field_problem_message(problem, labels.get(key, key))
        for key, problem in problems.items()
    }


# --- drafts --------------------------------------------------------------------------------------


@transaction.atomic
def application_start(
    *,
    actor: User,
    thing_code: str,
    answers: Mapping[str, Any],
    enterprise_uscc: str | None = None,
    channel: str = Channel.WEB,
) -> Application:
    """Start a draft for a thing from the situation answers (which must give a valid plan)."""
    if not is_applicant(actor):
        raise NotAllowed(_("Only a signed-in applicant can start an application."))
    plan = catalog_selectors.thing_plan(thing_code, dict(answers))
    enterprise = None
    if plan.thing.audience.value == "enterprise":
        if not enterprise_uscc:
            raise InvalidInput(
                _("Say which enterprise you act for."),
                fields={"enterprise": _("Choose the enterprise you act for.")},
            )
        enterprise = enterprise_for(actor, enterprise_uscc)
        if enterprise is None:
            raise InvalidInput(
                _("You may not act for this enterprise."),
                fields={"enterprise": _("You are not an agent of this enterprise.")},
            )
    application = Application.objects.create(
        reference=_new_reference(),
        thing=catalog_models.Thing.objects.get(code=thing_code),
        applicant=actor,
        enterprise=enterprise,
        channel=channel,
        status=ApplicationStatus.DRAFT,
        answers=plan_as_dict(plan)["answers"],
        form_data=_prefill(actor, enterprise, plan),
    )
    _record(application, actor=actor, action="started", to_status=ApplicationStatus.DRAFT)
    return application


def _prefill(actor: User, enterprise, plan: Plan) -> dict[str, Any]:
    """What the platform already knows from the signed-in account (sharing comes later)."""
    known = {
        "applicant.name": actor.real_name,
        "applicant.id_number": actor.id_number,
        "applicant.phone": actor.phone,
    }
    if enterprise is not None:
        known |= {"enterprise.uscc": enterprise.uscc, "enterprise.name": enterprise.name}
    keys = {f.element.key for f in plan.form if f.asked}
    return {k: v for k, v in known.items() if k in keys and v}


@transaction.atomic
def application_save_form(
    *, actor: User, application: Application, values: Mapping[str, Any]
) -> dict[str, str]:
    """Save what was typed into a draft, even if wrong (nothing typed is lost); return problems.

    Only the plan's fields are kept; required-but-empty is not a problem until submission.
    """
    application = _lock_application(application)
    _require_own(actor, application)
    if application.status != ApplicationStatus.DRAFT:
        raise Conflict(_("This application was already submitted; its form can no longer change."))
    plan = application_plan(application)
    specs = asked_fields(plan)
    keys = {spec.element.key for spec in specs}
    typed = {k: v for k, v in values.items() if k in keys}
    _typed_clean, problems = check_form(specs, typed, _today(), partial=True)
    application.form_data = {**application.form_data, **typed}
    application.save(update_fields=["form_data", "updated_at"])
    return _problems_as_fields(problems, plan)


@transaction.atomic
def application_attach_material(
    *, actor: User, application: Application, material_code: str, name: str, content: bytes
) -> ApplicationMaterial:
    """Attach an uploaded file to a draft: size limited, type read from the content."""
    application = _lock_application(application)
    _require_own(actor, application)
    if application.status != ApplicationStatus.DRAFT:
        raise Conflict(_("This application was already submitted."))
    plan = application_plan(application)
    wanted = {m.material.code: m for m in applicant_materials(plan)}
    if material_code not in wanted:
        raise InvalidInput(
            _("This material is not asked for."),
            fields={"material": _("This application does not ask for this material.")},
        )
    field = f"materials.{material_code}"
    if not content:
        raise InvalidInput(_("The file is empty."), fields={field: _("The file is empty.")})
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            _("The file is too large."),
            fields={field: _("Files may be at most 10 MB.")},
        )
    content_type = sniff_content_type(content)
    if content_type not in ALLOWED_UPLOAD_TYPES:
        raise InvalidInput(
            _("This kind of file is not accepted."),
            fields={field: _("Upload a PDF, PNG or JPEG file.")},
        )
    material = catalog_models.Material.objects.get(code=material_code)
    ApplicationMaterial.objects.filter(application=application, material=material).delete()
    attached = ApplicationMaterial(
        application=application,
        material=material,
        provision=ApplicationMaterial.Provision.UPLOAD,
        original_name=name[:200],
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    attached.file.save("upload", ContentFile(content), save=False)
    attached.save()
    _record(
        application,
        actor=actor,
        action="material_attached",
        data={"material": material_code, "sha256": attached.sha256, "size": attached.size},
    )
    return attached


# --- submission ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    application: Application
    created: bool


@transaction.atomic
def application_submit(
    *,
    actor: User,
    application: Application,
    consent: bool,
    idempotency_key: str | None = None,
) -> Application:
    """Submit a draft: check everything at once, create one case per member, dispatch.

    Submitting a submitted application again with the same key returns it unchanged.
    """
    application = _lock_application(application)
    _require_own(actor, application)
    if application.status != ApplicationStatus.DRAFT:
        if idempotency_key and application.idempotency_key == idempotency_key:
            return application
        raise Conflict(_("This application was already submitted."))
    plan = application_plan(application)
    specs = asked_fields(plan)
    clean, problems = check_form(specs, application.form_data, _today(), plan.thing.form_rules)
    fields = _problems_as_fields(problems, plan)
    attached = set(application.materials.values_list("material__code", flat=True))
    for item in applicant_materials(plan):
        if item.required and item.material.code not in attached:
            fields[f"materials.{item.material.code}"] = _("%(name)s must be uploaded.") % {
                "name": pick(item.material.name)
            }
    if not consent:
        fields["consent"] = _("You must agree to the use of your data to submit.")
    if fields:
        raise InvalidInput(_("Some information is missing or wrong."), fields=fields)
    if idempotency_key:
        taken = Application.objects.filter(
            applicant=actor, idempotency_key=idempotency_key
        ).exclude(pk=application.pk)
        if taken.exists():
            raise InvalidInput(
                _("This idempotency key was already used for another application."),
                fields={"idempotency_key": _("Already used for another application.")},
            )
    _materialise(application, plan, clean, consent_at=timezone.now(), key=idempotency_key)
    _record(
        application,
        actor=actor,
        action="submitted",
        from_status=ApplicationStatus.DRAFT,
        to_status=ApplicationStatus.SUBMITTED,
        data={"cases": len(plan.members), "promised_days": plan.promised_days},
    )
    _release_ready_cases(application, actor=actor)
    return application


def _materialise(
    application: Application, plan: Plan, clean: dict, *, consent_at, key: str | None
) -> None:
    """Freeze the plan and the form on the application and create its cases."""
    application.status = lifecycle.application_next(application.status, ApplicationAction.SUBMIT)
    application.form_data = clean
    application.plan_snapshot = plan_as_dict(plan, "zh-hans")
    application.promised_days = plan.promised_days
    application.consent_given_at = consent_at
    application.consent_text = consent_text(plan)
    application.idempotency_key = key
    application.submitted_at = timezone.now()
    application.save()
    services = {
        s.code: s
        for s in catalog_models.Service.objects.filter(code__in=[m.code for m in plan.members])
    }
    cases: dict[str, Case] = {}
    for position, member in enumerate(plan.members):
        service = services[member.code]
        cases[member.code] = Case.objects.create(
            application=application,
            service=service,
            department_id=service.department_id,
            handler=service.handler,
            stage=member.stage,
            position=position,
            promised_days=service.promised_days,
        )
    for member in plan.members:
        if member.after:
            cases[member.code].prerequisites.set([cases[code] for code in member.after])
    for item in plan.materials:
        if item.source != Source.APPLICANT:
            ApplicationMaterial.objects.get_or_create(
                application=application,
                material=catalog_models.Material.objects.get(code=item.material.code),
                defaults={"provision": item.source.value},
            )


def consent_text(plan: Plan) -> str:
    """The consent the applicant gives (shown on the page and recorded with the application)."""
    departments = sorted({pick(m.department.name) for m in plan.members})
    return _(
        "I agree that the departments handling this application (%(departments)s) use the data "
        "and materials I provide, and the data they already hold about me, for this application "
        "only."
    ) % {"departments": ", ".join(departments)}


@transaction.atomic
def application_create_and_submit(
    *,
    actor: User,
    thing_code: str,
    answers: Mapping[str, Any],
    form: Mapping[str, Any],
    consent: bool,
    idempotency_key: str,
    enterprise_uscc: str | None = None,
    channel: str = Channel.API,
) -> Submission:
    """One call for systems: start, fill and submit. The same key gives the same application;
    the same key with a different body is refused."""
    fingerprint = _fingerprint(
        {
            "thing": thing_code,
            "answers": dict(answers),
            "form": dict(form),
            "consent": consent,
            "enterprise": enterprise_uscc,
        }
    )
    existing = Application.objects.filter(applicant=actor, idempotency_key=idempotency_key).first()
    if existing is not None:
        return _same_request(existing, fingerprint)
    try:
        with transaction.atomic():
            application = application_start(
                actor=actor,
                thing_code=thing_code,
                answers=answers,
                enterprise_uscc=enterprise_uscc,
                channel=channel,
            )
            application.idempotency_key = idempotency_key
            application.request_fingerprint = fingerprint
            application.save(update_fields=["idempotency_key", "request_fingerprint"])
            application_save_form(actor=actor, application=application, values=form)
            application_submit(
                actor=actor,
                application=application,
                consent=consent,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # A concurrent request with the same key won the race: answer as it did.
        existing = Application.objects.get(applicant=actor, idempotency_key=idempotency_key)
        return _same_request(existing, fingerprint)
    application.refresh_from_db()
    return Submission(application, created=True)


def _same_request(existing: Application, fingerprint: str) -> Submission:
    if existing.request_fingerprint != fingerprint:
        raise InvalidInput(
            _("This idempotency key was already used with a different request."),
            fields={"Idempotency-Key": _("Already used with a different request body.")},
        )
    return Submission(existing, created=False)


# --- routing ------------------------------------------------------------------------------------


def _case_graph(application: Application) -> tuple[dict[str, Case], dict[str, list[str]]]:
    """The application's cases (locked, in plan order) by service code, and what each waits
    for — in two queries, whatever the number of cases."""
    cases = list(
        application.cases.select_for_update(of=("self",))
        .select_related("service")
        .prefetch_related("prerequisites__service")
        .order_by("position")
    )
    prerequisites = {c.service.code: [p.service.code for p in c.prerequisites.all()] for c in cases}
    return {c.service.code: c for c in cases}, prerequisites


def _release_ready_cases(application: Application, *, actor: Any) -> list[Case]:
    """Move waiting cases whose prerequisites are all approved to ready, hand them their
    inputs (the outputs of those prerequisites) and queue their dispatch."""
    by_code, prerequisites = _case_graph(application)
    cases = list(by_code.values())
    released = []
    for code in lifecycle.releasable({c.service.code: c.status for c in cases}, prerequisites):
        case = by_code[code]
        before = case.status
        case.status = lifecycle.case_next(case.status, CaseAction.RELEASE)
        case.ready_at = timezone.now()
        case.inputs = {
            key: value for p in prerequisites[code] for key, value in by_code[p].outputs.items()
        }
        case.save(update_fields=["status", "ready_at", "inputs", "updated_at"])
        _record(
            application,
            actor=actor,
            action="released",
            case=case,
            from_status=before,
            to_status=case.status,
        )
        outbox_enqueue(
            topic=DISPATCH_TOPIC,
            payload={"case": case.pk},
            key=f"dispatch:{case.public_id}",
        )
        released.append(case)
    return released


def _settle(application: Application, *, actor: Any) -> None:
    """End the application once every case is terminal; start it when a case is taken up."""
    statuses = list(application.cases.values_list("status", flat=True))
    outcome = lifecycle.application_outcome(statuses)
    if outcome is None or application.status in lifecycle.APPLICATION_TERMINAL:
        return
    before = application.status
    application.status = lifecycle.application_next(application.status, outcome)
    application.finished_at = timezone.now()
    application.save(update_fields=["status", "finished_at", "updated_at"])
    _record(
        application,
        actor=actor,
        action="finished",
        from_status=before,
        to_status=application.status,
    )


def _start_if_submitted(application: Application, *, actor: Any) -> None:
    if application.status == ApplicationStatus.SUBMITTED:
        application.status = lifecycle.application_next(application.status, ApplicationAction.START)
        application.save(update_fields=["status", "updated_at"])
        _record(
            application,
            actor=actor,
            action="in_progress",
            from_status=ApplicationStatus.SUBMITTED,
            to_status=application.status,
        )


# --- working cases -------------------------------------------------------------------------------


def _require_reviewer(actor: Any, case: Case) -> None:
    """Staff may act on cases of their department (and region, if their role names one)."""
    if isinstance(actor, SystemActor):
        return
    for department_id, region_id in reviewer_scopes(actor):
        if department_id == case.department_id and (
            region_id is None or region_id == case.department.region_id
        ):
            return
    raise NotFound(_("This case does not exist."))


def _move(case: Case, action: CaseAction, *, actor: Any) -> str:
    before = case.status
    try:
        case.status = lifecycle.case_next(case.status, action)
    except TransitionNotAllowed:
        raise Conflict(
            _("This case is %(status)s; it cannot be changed that way.")
            % {"status": CASE_STATUS_LABELS[CaseStatus(case.status)]}
        ) from None
    return before


@transaction.atomic
def case_accept(*, actor: Any, case: Case, external_id: str = "") -> Case:
    """The department takes the case up (受理)."""
    case = _lock_case(case)
    _require_reviewer(actor, case)
    application = _lock_application(case.application_id)
    before = _move(case, CaseAction.ACCEPT, actor=actor)
    case.accepted_at = timezone.now()
    case.assignee = actor_user(actor)
    case.needs_attention = False
    if external_id:
        case.external_id = external_id
    case.save(
        update_fields=[
            "status",
            "accepted_at",
            "assignee",
            "external_id",
            "needs_attention",
            "updated_at",
        ]
    )
    _record(
        application,
        actor=actor,
        action="accepted",
        case=case,
        from_status=before,
        to_status=case.status,
    )
    _start_if_submitted(application, actor=actor)
    return case


@transaction.atomic
def case_approve(
    *, actor: Any, case: Case, outputs: Mapping[str, Any] | None = None, rule: str = ""
) -> Case:
    """Approve a case with its declared outputs; release the cases waiting for it."""
    case = _lock_case(case)
    _require_reviewer(actor, case)
    application = _lock_application(case.application_id)
    before = _move(case, CaseAction.APPROVE, actor=actor)
    declared = list(case.service.outputs.select_related("element"))
    outputs = dict(outputs or {})
    specs = [
        FieldSpec(catalog_selectors.element_definition(o.element), required=True) for o in declared
    ]
    clean, problems = check_form(specs, outputs, _today())
    if problems:
        labels = {o.element.key: o.element.label for o in declared}
        raise InvalidInput(
            _("Some results are missing or wrong."),
            fields={
                f"outputs.{key}": field_problem_message(p, labels[key])
                for key, p in problems.items()
            },
        )
    case.outputs = clean
    case.decided_at = timezone.now()
    case.decided_by_rule = rule
    case.save(update_fields=["status", "outputs", "decided_at", "decided_by_rule", "updated_at"])
    _record(
        application,
        actor=actor,
        action="approved",
        case=case,
        from_status=before,
        to_status=case.status,
        data={"outputs": clean, **({"rule": rule} if rule else {})},
    )
    _release_ready_cases(application, actor=actor)
    _settle(application, actor=actor)
    return case


@transaction.atomic
def case_reject(*, actor: Any, case: Case, reason: str, rule: str = "") -> Case:
    """Reject with a reason; cases that depended on it are cancelled, the others go on."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("Say why the case is rejected."), fields={"reason": _("A reason is required.")}
        )
    case = _lock_case(case)
    _require_reviewer(actor, case)
    application = _lock_application(case.application_id)
    before = _move(case, CaseAction.REJECT, actor=actor)
    case.reason = reason[:2000]
    case.decided_at = timezone.now()
    case.decided_by_rule = rule
    case.save(update_fields=["status", "reason", "decided_at", "decided_by_rule", "updated_at"])
    _record(
        application,
        actor=actor,
        action="rejected",
        case=case,
        from_status=before,
        to_status=case.status,
        note=case.reason,
        data={"rule": rule} if rule else None,
    )
    _cancel_dependents(application, case, actor=actor)
    _settle(application, actor=actor)
    return case


def _cancel_dependents(application: Application, rejected: Case, *, actor: Any) -> None:
    by_code, prerequisites = _case_graph(application)
    cases = list(by_code.values())
    doomed = lifecycle.dependents_to_cancel(
        rejected.service.code, {c.service.code: c.status for c in cases}, prerequisites
    )
    note = _("Cancelled because “%(service)s” was rejected: %(reason)s") % {
        "service": rejected.service.name,
        "reason": rejected.reason,
    }
    for code in doomed:
        case = by_code[code]
        before = case.status
        case.status = lifecycle.case_next(case.status, CaseAction.CANCEL)
        case.reason = note
        case.decided_at = timezone.now()
        case.save(update_fields=["status", "reason", "decided_at", "updated_at"])
        _record(
            application,
            actor=actor,
            action="cancelled",
            case=case,
            from_status=before,
            to_status=case.status,
            note=note,
        )


@transaction.atomic
def application_withdraw(*, actor: User, application: Application, reason: str = "") -> Application:
    """The applicant withdraws before completion; every open case is cancelled."""
    application = _lock_application(application)
    _require_own(actor, application)
    try:
        after = lifecycle.application_next(application.status, ApplicationAction.WITHDRAW)
    except TransitionNotAllowed:
        raise Conflict(_("This application is finished and can no longer be withdrawn.")) from None
    before = application.status
    note = (reason or "").strip()[:500] or _("Withdrawn by the applicant.")
    for case in application.cases.select_for_update(of=("self",)).select_related("service"):
        if case.status in lifecycle.CASE_OPEN:
            case_before = case.status
            case.status = CaseStatus.CANCELLED
            case.reason = note
            case.save(update_fields=["status", "reason", "updated_at"])
            _record(
                application,
                actor=actor,
                action="cancelled",
                case=case,
                from_status=case_before,
                to_status=case.status,
                note=note,
            )
    application.status = after
    application.finished_at = timezone.now()
    application.save(update_fields=["status", "finished_at", "updated_at"])
    _record(
        application, actor=actor, action="withdrawn", from_status=before, to_status=after, note=note
    )
    return application


@transaction.atomic
def case_flag_attention(*, actor: Any, case: Case, reason: str) -> Case:
    """Mark a case for staff attention (its department's system could not be reached)."""
    case = _lock_case(case)
    case.needs_attention = True
    case.attention_reason = reason[:1000]
    case.save(update_fields=["needs_attention", "attention_reason", "updated_at"])
    _record(case.application, actor=actor, action="needs_attention", case=case, note=reason)
    return case


@transaction.atomic
def connector_callback(
    *,
    department_code: str,
    event_id: str,
    case_public_id: str,
    status: str,
    outputs: Mapping[str, Any] | None = None,
    reason: str = "",
) -> Case:
    """Apply a department system's decision once, however often it is delivered."""
    from onething.applications.models import ConnectorCallback

    try:
        uuid.UUID(case_public_id)
    except ValueError:
        raise NotFound(_("This case does not exist.")) from None
    case = (
        Case.objects.select_related("department")
        .filter(public_id=case_public_id, department__code=department_code)
        .first()
    )
    if case is None:
        raise NotFound(_("This case does not exist."))
    if ConnectorCallback.objects.filter(event_id=event_id).exists():
        return case
    actor = SystemActor(f"connector:{department_code}")
    if case.status == CaseStatus.READY:
        case = case_accept(actor=actor, case=case)
    if status == "approved":
        case = case_approve(actor=actor, case=case, outputs=outputs)
    elif status == "rejected":
        case = case_reject(
            actor=actor, case=case, reason=reason or _("Rejected by the department's system.")
        )
    else:
        raise InvalidInput(
            _("Unknown status."), fields={"status": _("Must be approved or rejected.")}
        )
    ConnectorCallback.objects.create(event_id=event_id[:100], case=case)
    return case


@transaction.atomic
def case_reveal_value(*, actor: Any, case: Case, key: str, purpose: str = "review") -> str:
    """Show a reviewer one masked value of the applicant's data; every reveal is recorded."""
    _require_reviewer(actor, case)
    from onething.applications.handlers import case_data_for_department

    # Only what this case's service needs: a health reviewer never reads the bank account.
    values = case_data_for_department(case)
    if key not in values:
        raise NotFound(_("This field does not exist."))
    audit_record(
        actor=actor_label(actor),
        action="case.value_revealed",
        stream=f"application:{case.application.public_id}",
        subject=f"{case.application.reference}/{case.service.code}",
        purpose=purpose,
        data={"field": key},
    )
    CaseEvent.objects.create(
        application=case.application,
        case=case,
        actor=actor_user(actor),
        actor_label=actor_label(actor),
        action="value_revealed",
        data={"field": key},
        at=timezone.now(),
    )
    return str(values[key])


@transaction.atomic
def case_retry_dispatch(*, actor: Any, case: Case) -> Case:
    """Staff send a case whose dispatch gave up to its department again (the department's
    system is back); the attempt count starts over."""
    from onething.outbox.models import OutboxMessage
    from onething.outbox.services import outbox_retry

    case = _lock_case(case)
    _require_reviewer(actor, case)
    message = OutboxMessage.objects.filter(
        key=f"dispatch:{case.public_id}", status=OutboxMessage.Status.DEAD
    ).first()
    if message is None:
        raise Conflict(_("This case is not waiting for a retry."))
    outbox_retry(actor=actor_label(actor), message_id=message.pk)
    case.needs_attention = False
    case.save(update_fields=["needs_attention", "updated_at"])
    _record(
        case.application,
        actor=actor,
        action="dispatch_retried",
        case=case,
        note=case.attention_reason,
    )
    return case
