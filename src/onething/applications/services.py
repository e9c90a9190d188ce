"""Every write to applications and cases.

Each service checks the transition (lifecycle), writes the change, its CaseEvent and its
AuditRecord in one transaction, and leaves what must happen next (dispatch to a department) in
the outbox of the same transaction, so a crash loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from onething.accounts.models import Role, User
from onething.accounts.selectors import case_scopes, enterprise_for, has_role, is_applicant
from onething.applications import lifecycle, reductions, supplements
from onething.applications.lifecycle import (
    DEADLINE_SEVERITY,
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
    SupplementItem,
    SupplementRequest,
)
from onething.applications.selectors import deadline_state_on
from onething.applications.uploads import sniff_content_type
from onething.audit.services import audit_record, mask_sensitive
from onething.catalog import models as catalog_models
from onething.catalog import selectors as catalog_selectors
from onething.catalog.fields import FieldProblem, FieldSpec, check_form
from onething.catalog.plan_output import json_number, pick, plan_as_dict
from onething.catalog.planning import Plan, PlannedMaterial, Source
from onething.catalog.selectors import work_calendar
from onething.certificates.services import certificate_issue
from onething.core.actors import SystemActor, actor_label, actor_user
from onething.core.errors import Conflict, InvalidInput, NotAllowed, NotFound, OneThingError
from onething.core.events import publish
from onething.core.references import save_with_new_reference
from onething.outbox.services import outbox_enqueue
from onething.sharing.services import record_data_use

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ALLOWED_UPLOAD_TYPES = ("application/pdf", "image/png", "image/jpeg")
DISPATCH_TOPIC = "case.dispatch"
SUPPLEMENT_RELEASE_TOPIC = "supplement.release"
DEADLINE_SWEEP_TOPIC = "deadline.sweep"


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


def _lock_case(case: Case | int) -> tuple[Case, Application]:
    """Lock a case's application, then the case.

    One order everywhere — an application before any of its cases — so that two departments
    acting on cases of the same application queue behind each other instead of deadlocking
    (approving one case locks the application and then its sibling cases)."""
    pk = case.pk if isinstance(case, Case) else case
    # A case never moves to another application: the caller's row names it without a query.
    application_id = case.application_id if isinstance(case, Case) else None
    if application_id is None:
        application_id = Case.objects.filter(pk=pk).values_list("application_id", flat=True).first()
    if application_id is None:
        raise NotFound(_("This case does not exist."))
    application = _lock_application(application_id)
    try:
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("service", "department")
            .get(pk=pk)
        )
    except Case.DoesNotExist:
        raise NotFound(_("This case does not exist.")) from None
    locked.application = application
    return locked, application


def _require_own(actor: Any, application: Application) -> None:
    """The applicant; or, while it is a draft, the window clerk who took it (一窗受理)."""
    pk = getattr(actor, "pk", None)
    if pk is not None and application.applicant_id == pk:
        return
    if (
        pk is not None
        and application.channel == Channel.WINDOW
        and application.taken_by_id == pk
        and application.status == ApplicationStatus.DRAFT
        and has_role(actor, Role.WINDOW_CLERK)
    ):
        return
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


def applicant_materials(plan: Plan, exemptions: Mapping[str, Any] | None = None) -> list:
    """The materials this applicant provides.

    Not an earlier case's result, and not one exempt for this applicant (免提交: its data came
    from an authoritative source, or its e-certificate is in the applicant's wallet). A
    material the catalog expects from sharing or an e-certificate must be provided when the
    look-up found nothing (or the applicant chose to fill in everything); only a document that
    carries no data of the form (a discharge summary) is fetched by its department directly.
    """
    exemptions = exemptions or {}
    return [
        m
        for m in plan.materials
        if m.source != Source.RESULT
        and m.material.code not in exemptions
        and (m.source == Source.APPLICANT or m.material.carries)
    ]


@dataclass(frozen=True)
class MaterialOrigin:
    """Where one material of a plan comes from for this applicant."""

    # "applicant" (they submit it), an exemption's kind ("sharing", "certificate"), or the
    # plan's own source for what nobody submits (an earlier case's result, a department's file).
    source: str
    # For an exempt material, what stands in for the paper, for people: the names of the
    # sources read, or the e-certificate's number; else empty.
    record: str = ""


def material_origins(
    plan: Plan, exemptions: Mapping[str, Any] | None = None
) -> dict[str, MaterialOrigin]:
    """Material code -> its `MaterialOrigin` for this applicant, in the plan's order.

    One answer for the one-time notification and the form's list of what need not be submitted,
    so that the two never disagree.
    """
    from onething.sharing.selectors import source_names

    exemptions = exemptions or {}
    names = source_names() if exemptions else {}
    provided = {m.material.code for m in applicant_materials(plan, exemptions)}
    origins = {}
    for item in plan.materials:
        code = item.material.code
        if code in exemptions:
            # The record holds source codes (or a certificate number): codes become names.
            parts = exemptions[code].get("record", "").split(", ")
            record = "、".join(str(names.get(part, (part, ""))[0]) for part in parts if part)
            origins[code] = MaterialOrigin(exemptions[code]["kind"], record)
        elif code in provided:
            origins[code] = MaterialOrigin("applicant")
        else:
            origins[code] = MaterialOrigin(item.source.value)
    return origins


def field_problem_message(problem: FieldProblem, label: str) -> str:
    """One wrong field, in the user's language, naming the rule."""
    # A limit kept as a Decimal reads as written: 300, not 300.00.
    params = {"label": label, **{k: str(json_number(v)) for k, v in problem.params.items()}}
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
    applicant: User | None = None,
) -> Application:
    """Start a draft for a thing from the situation answers (which must give a valid plan).

    With `applicant` (somebody other than the actor), a window clerk takes the application for
    that person at the one-stop window: the channel is `window` and the clerk is `taken_by`.
    """
    applicant = applicant or actor
    taken_by = None
    if applicant.pk != actor.pk:
        if not has_role(actor, Role.WINDOW_CLERK):
            raise NotAllowed(_("Only a window clerk can start an application for somebody else."))
        channel, taken_by = Channel.WINDOW, actor
    if not is_applicant(applicant):
        raise NotAllowed(_("Only a signed-in applicant can start an application."))
    plan = catalog_selectors.thing_plan(thing_code, dict(answers))
    enterprise = None
    if plan.thing.audience.value == "enterprise":
        if not enterprise_uscc:
            raise InvalidInput(
                _("Say which enterprise you act for."),
                fields={"enterprise": _("Choose the enterprise you act for.")},
            )
        enterprise = enterprise_for(applicant, enterprise_uscc)
        if enterprise is None:
            raise InvalidInput(
                _("You may not act for this enterprise."),
                fields={"enterprise": _("You are not an agent of this enterprise.")},
            )
    # `OT20261127-7K3QXZ`: the day it was started and a random part nobody can guess.
    application = save_with_new_reference(
        Application(
            thing=catalog_models.Thing.objects.get(code=thing_code),
            applicant=applicant,
            enterprise=enterprise,
            # Handled where the enterprise is registered, or where the applicant's household is.
            region_id=enterprise.region_id if enterprise else applicant.region_id,
            channel=channel,
            taken_by=taken_by,
            status=ApplicationStatus.DRAFT,
            answers=plan_as_dict(plan)["answers"],
            form_data=_prefill(applicant, enterprise, plan),
        ),
        "OT",
    )
    _record(
        application,
        actor=actor,
        action="started",
        to_status=ApplicationStatus.DRAFT,
        data={"channel": channel} if taken_by else None,
    )
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
    # A value from an authoritative source is the record itself: it is not the applicant's to
    # change (it is shown read-only; a changed one posted anyway is ignored).
    locked = {k for k, origin in application.prefilled.items() if origin.get("authoritative")}
    typed = {k: v for k, v in values.items() if k in keys and k not in locked}
    _typed_clean, problems = check_form(specs, typed, _today(), partial=True)
    application.form_data = {**application.form_data, **typed}
    application.save(update_fields=["form_data", "updated_at"])
    fields = _problems_as_fields(problems, plan)
    mismatches = _not_the_enterprise(application, typed)
    return {**fields, **{k: v for k, v in mismatches.items() if k not in fields}}


def _not_the_enterprise(application: Application, values: Mapping[str, Any]) -> dict[str, str]:
    """The enterprise fields that name another enterprise than the one the application is for.

    The agent of one enterprise must not apply in another's name: the application's enterprise
    was checked against the agent's mandates when it started, the form must say the same.
    """
    enterprise = application.enterprise
    if enterprise is None:
        return {}
    problems = {}
    uscc = values.get("enterprise.uscc")
    if uscc and str(uscc).strip().upper() != enterprise.uscc.upper():
        problems["form.enterprise.uscc"] = _(
            "Must be the unified social credit code of %(name)s, the enterprise you act for "
            "(%(uscc)s)."
        ) % {"name": enterprise.name, "uscc": enterprise.uscc}
    name = values.get("enterprise.name")
    if name and str(name).strip() != enterprise.name.strip():
        problems["form.enterprise.name"] = _(
            "Must be the name of the enterprise you act for (%(name)s)."
        ) % {"name": enterprise.name}
    return problems


@transaction.atomic
def application_attach_material(
    *, actor: User, application: Application, material_code: str, name: str, content: bytes
) -> ApplicationMaterial:
    """Attach an uploaded file to a draft: size limited, type read from the content."""
    application = _lock_application(application)
    _require_own(actor, application)
    if application.status != ApplicationStatus.DRAFT:
        raise Conflict(_("This application was already submitted."))
    asked_material(application, material_code)
    field = f"materials.{material_code}"
    problem = upload_problem(content)
    if problem:
        raise InvalidInput(problem, fields={field: problem})
    attached = _store_upload(application, material_code, name, content)
    _record(
        application,
        actor=actor,
        action="material_attached",
        data={"material": material_code, "sha256": attached.sha256, "size": attached.size},
    )
    return attached


def upload_problem(content: bytes) -> str | None:
    """Why an uploaded file cannot be taken (empty, too large, not PDF/PNG/JPEG by its content)."""
    if not content:
        return _("The file is empty.")
    if len(content) > MAX_UPLOAD_BYTES:
        return _("Files may be at most 10 MB.")
    if sniff_content_type(content) not in ALLOWED_UPLOAD_TYPES:
        return _("Upload a PDF, PNG or JPEG file.")
    return None


def _store_upload(
    application: Application, material_code: str, name: str, content: bytes
) -> ApplicationMaterial:
    """Replace the application's copy of a material with a checked upload (SHA-256 kept)."""
    return _replace_material(
        application,
        material_code,
        provision=ApplicationMaterial.Provision.UPLOAD,
        original_name=name[:200],
        content_type=sniff_content_type(content),
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        file=ContentFile(content, name="upload"),
    )


def asked_material(application: Application, material_code: str) -> PlannedMaterial:
    """The material of the application's plan that the applicant still provides.

    Raises InvalidInput for one the plan does not ask for, or one exempt for this applicant.
    """
    wanted = {
        m.material.code: m
        for m in applicant_materials(application_plan(application), application.exemptions)
    }
    if material_code not in wanted:
        raise InvalidInput(
            _("This material is not asked for."),
            fields={"material": _("This application does not ask for this material.")},
        )
    return wanted[material_code]


def _replace_material(
    application: Application, material_code: str, **provision: Any
) -> ApplicationMaterial:
    """The application's one record of how a material is provided (uploaded, promised, seen at
    the window), replacing the one before."""
    material = catalog_models.Material.objects.get(code=material_code)
    ApplicationMaterial.objects.filter(application=application, material=material).delete()
    return ApplicationMaterial.objects.create(
        application=application, material=material, **provision
    )


# --- submission ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    application: Application
    created: bool


def application_submit(
    *,
    actor: User,
    application: Application,
    consent: bool,
    idempotency_key: str | None = None,
) -> Application:
    """Submit a draft: check everything at once, create one case per member, dispatch.

    Submitting a submitted application again with the same key returns it unchanged. Typed
    values are first checked against the records the applicant let the application read — in
    their own transaction, so that the record of those reads stays even when the submission is
    refused.
    """
    disagreements = _typed_values_that_disagree(application, actor=actor)
    return _application_submit(
        actor=actor,
        application=application,
        consent=consent,
        idempotency_key=idempotency_key,
        disagreements=disagreements,
    )


@transaction.atomic
def _application_submit(
    *,
    actor: User,
    application: Application,
    consent: bool,
    idempotency_key: str | None,
    disagreements: Mapping[str, str],
) -> Application:
    application = _lock_application(application)
    _require_own(actor, application)
    if application.status != ApplicationStatus.DRAFT:
        if idempotency_key and application.idempotency_key == idempotency_key:
            # A repeat must be the same request: it was submitted with consent, so a repeat
            # without it is another request under the same key, not a retry.
            if not consent:
                raise InvalidInput(
                    _("This idempotency key was already used with a different request."),
                    fields={"Idempotency-Key": _("Already used with a different request body.")},
                )
            return application
        raise Conflict(_("This application was already submitted."))
    plan = application_plan(application)
    specs = asked_fields(plan)
    clean, problems = check_form(specs, application.form_data, _today(), plan.thing.form_rules)
    fields = _problems_as_fields(problems, plan)
    fields.update({k: v for k, v in disagreements.items() if k not in fields})
    mismatches = _not_the_enterprise(application, application.form_data)
    fields.update({k: v for k, v in mismatches.items() if k not in fields})
    attached = set(application.materials.values_list("material__code", flat=True))
    for item in applicant_materials(plan, application.exemptions):
        if item.required and item.material.code not in attached:
            fields[f"materials.{item.material.code}"] = _("%(name)s must be uploaded.") % {
                "name": pick(item.material.name)
            }
    for promised in application.materials.filter(
        provision=ApplicationMaterial.Provision.PROMISED, promised_by__lte=_today()
    ).select_related("material"):
        fields[f"materials.{promised.material.code}.promised_by"] = _(
            "You promised to supply %(name)s by %(date)s, which has passed: upload it now or "
            "give a later date."
        ) % {"name": promised.material.name, "date": promised.promised_by.isoformat()}
    if not consent:
        fields["consent"] = _("You must agree to the use of your data to submit.")
    if fields:
        raise InvalidInput(_("Some information is missing or wrong."), fields=fields)
    if idempotency_key:
        taken = Application.objects.filter(
            applicant=application.applicant_id, idempotency_key=idempotency_key
        ).exclude(pk=application.pk)
        if taken.exists():
            raise InvalidInput(
                _("This idempotency key was already used for another application."),
                fields={"idempotency_key": _("Already used for another application.")},
            )
    _materialise(application, plan, clean, consent_at=timezone.now(), key=idempotency_key)
    _open_promises(application, plan, now=application.submitted_at)
    _record(
        application,
        actor=actor,
        action="submitted",
        from_status=ApplicationStatus.DRAFT,
        to_status=ApplicationStatus.SUBMITTED,
        data={"cases": len(plan.members), "promised_days": plan.promised_days},
    )
    _release_ready_cases(application, actor=actor)
    publish("application.submitted", application=application.pk, applicant=application.applicant_id)
    return application


def _typed_values_that_disagree(application: Application, *, actor: Any) -> dict[str, str]:
    """Values the applicant typed that a department's record contradicts (a wrong certificate
    number), checked only when they let the application read those records."""
    from onething.sharing.selectors import latest_consent
    from onething.sharing.services import verify_typed

    application = Application.objects.select_related("thing", "applicant", "enterprise").get(
        pk=application.pk
    )
    if application.status != ApplicationStatus.DRAFT:
        return {}
    _require_own(actor, application)
    consent = latest_consent(application.reference)
    if consent is None:
        return {}
    plan = application_plan(application)
    clean, problems = check_form(
        asked_fields(plan), application.form_data, _today(), plan.thing.form_rules
    )
    typed = {
        key: value
        for key, value in clean.items()
        if key not in application.prefilled and key not in problems and value not in (None, "")
    }
    request = _prefill_request(
        application, plan, actor=actor, sensitive_ok=consent.sensitive_consented
    )
    labels = {f.element.key: pick(f.element.label) for f in plan.form}
    return {
        f"form.{key}": _(
            "%(label)s does not match the record held by %(source)s: check it against your papers."
        )
        % {"label": labels.get(key, key), "source": source}
        for key, source in verify_typed(request, typed).items()
    }


def _materialise(
    application: Application, plan: Plan, clean: dict, *, consent_at, key: str | None
) -> None:
    """Freeze the plan and the form on the application and create its cases."""
    application.status = lifecycle.application_next(application.status, ApplicationAction.SUBMIT)
    application.form_data = clean
    application.plan_snapshot = plan_as_dict(plan, "zh-hans")
    application.promised_days = plan.promised_days
    application.due_date = work_calendar().add_working_days(_today(), plan.promised_days)
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
    # Written in one query each, whatever the number of cases and materials.
    Case.prerequisites.through.objects.bulk_create(
        Case.prerequisites.through(from_case=cases[member.code], to_case=cases[code])
        for member in plan.members
        for code in member.after
    )
    provided = {m.material.code for m in applicant_materials(plan, application.exemptions)}
    # The first mention of a material wins, as with one get_or_create per mention.
    held: dict[str, Any] = {}
    for item in plan.materials:
        if item.material.code not in provided:
            held.setdefault(item.material.code, item)
    for code in application.materials.filter(material__code__in=held).values_list(
        "material__code", flat=True
    ):
        del held[code]
    catalog_materials = catalog_models.Material.objects.in_bulk(held, field_name="code")
    ApplicationMaterial.objects.bulk_create(
        ApplicationMaterial(
            application=application,
            material=catalog_materials[code],
            provision=application.exemptions.get(code, {}).get("kind") or item.source.value,
            source_record=application.exemptions.get(code, {}).get("record", ""),
        )
        for code, item in held.items()
    )


def consent_text(plan: Plan) -> str:
    """The consent the applicant gives (shown on the page and recorded with the application)."""
    departments = sorted({pick(m.department.name) for m in plan.members})
    return _(
        "I agree that the departments handling this application (%(departments)s) use the data "
        "and materials I provide, and the data they already hold about me, for this application "
        "only."
    ) % {"departments": ", ".join(departments)}


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
    share_data: bool = False,
    share_sensitive: bool = False,
) -> Submission:
    """One call for systems: start, fill and submit. The same key gives the same application;
    the same key with a different body is refused.

    With `share_data` (the applicant's consent to the data use of the thing's grants; sensitive
    data only with `share_sensitive` as well), what departments hold is read first: those fields
    need not be sent, and materials it covers are exempt."""
    fingerprint = _fingerprint(
        {
            "thing": thing_code,
            "answers": dict(answers),
            "form": dict(form),
            "consent": consent,
            "enterprise": enterprise_uscc,
            "share_data": share_data,
            "share_sensitive": share_sensitive,
        }
    )
    existing = Application.objects.filter(applicant=actor, idempotency_key=idempotency_key).first()
    if existing is not None:
        return _same_request(existing, fingerprint)
    from onething.sharing.services import data_use_journal, data_use_replay

    with data_use_journal() as reads:
        try:
            return _create_and_submit(
                actor=actor,
                thing_code=thing_code,
                answers=answers,
                form=form,
                consent=consent,
                idempotency_key=idempotency_key,
                enterprise_uscc=enterprise_uscc,
                channel=channel,
                share_data=share_data,
                share_sensitive=share_sensitive,
                fingerprint=fingerprint,
                reads=reads,
            )
        except OneThingError:
            # Refused and rolled back: the departments' records were read all the same.
            data_use_replay(reads)
            raise


def _create_and_submit(
    *,
    actor: User,
    thing_code: str,
    answers: Mapping[str, Any],
    form: Mapping[str, Any],
    consent: bool,
    idempotency_key: str,
    enterprise_uscc: str | None,
    channel: str,
    share_data: bool,
    share_sensitive: bool,
    fingerprint: str,
    reads: list,
) -> Submission:
    from onething.sharing.services import data_use_replay

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
            if share_data:
                application = application_prefill(
                    actor=actor, application=application, consent=True, sensitive=share_sensitive
                )
            application_save_form(actor=actor, application=application, values=form)
            application_submit(
                actor=actor,
                application=application,
                consent=consent,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # A concurrent request with the same key won the race: answer as it did (the reads
        # this one made stay recorded).
        data_use_replay(reads)
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
        .select_related("service", "department__region")
        .order_by("position")
    )
    code_of = {c.pk: c.service.code for c in cases}
    needs: dict[int, set[int]] = {c.pk: set() for c in cases}
    # The links as plain id pairs: a prefetch of the prerequisites with their services was two
    # queries and model instances for what is a handful of integers, on every approval.
    links = Case.prerequisites.through.objects.filter(from_case__application=application)
    for waiting, needed in links.values_list("from_case_id", "to_case_id"):
        needs[waiting].add(needed)
    # Each case's prerequisites in plan order (the order their outputs are merged in).
    prerequisites = {
        c.service.code: [code_of[o.pk] for o in cases if o.pk in needs[c.pk]] for c in cases
    }
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
        case.due_date = _case_due_date(case)
        case.inputs = {
            key: value for p in prerequisites[code] for key, value in by_code[p].outputs.items()
        }
        case.save(update_fields=["status", "ready_at", "due_date", "inputs", "updated_at"])
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
    _close_requests(application)
    publish(
        "application.finished",
        application=application.pk,
        applicant=application.applicant_id,
        status=application.status,
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
    """Only a reviewer whose department (and region, if their role names one) covers the case
    works it. Supervisors and administrators who may read the case are refused; to anybody else
    it does not exist."""
    if isinstance(actor, SystemActor):
        return
    region_code = case.application.region_code
    reaching = [s for s in case_scopes(actor) if s.covers(case.department_id, region_code)]
    if any(scope.works for scope in reaching):
        return
    if reaching:
        raise NotAllowed(
            _(
                "You may read this case; only its department's reviewers work it or reveal "
                "personal details."
            )
        )
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
    case, application = _lock_case(case)
    _require_reviewer(actor, case)
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
    *,
    actor: Any,
    case: Case,
    outputs: Mapping[str, Any] | None = None,
    rule: str = "",
    evidence: Mapping[str, str] | None = None,
) -> Case:
    """Approve a case with its declared outputs; release the cases waiting for it."""
    case, application = _lock_case(case)
    _require_reviewer(actor, case)
    _refuse_if_promise_overdue(case)
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
    _save_decision(case, rule=rule, changed="outputs")
    _record(
        application,
        actor=actor,
        action="approved",
        case=case,
        from_status=before,
        to_status=case.status,
        data={
            "outputs": clean,
            **({"rule": rule} if rule else {}),
            **({"inputs_from": dict(evidence)} if evidence else {}),
        },
    )
    _issue_result_certificate(case, application, actor=actor)
    _release_ready_cases(application, actor=actor)
    _send_due_notices(application, actor=actor)
    publish("case.approved", application=application.pk, case=case.pk)
    _settle(application, actor=actor)
    return case


def _save_decision(case: Case, *, rule: str, changed: str) -> None:
    """Store an approval or a rejection: when, by which rule, and that the case had its first
    review (which a stage's supplement notice waits for)."""
    case.decided_at = timezone.now()
    case.first_reviewed_at = case.first_reviewed_at or case.decided_at
    case.decided_by_rule = rule
    case.save(
        update_fields=[
            "status",
            changed,
            "decided_at",
            "first_reviewed_at",
            "decided_by_rule",
            "updated_at",
        ]
    )


@transaction.atomic
def case_reject(*, actor: Any, case: Case, reason: str, rule: str = "") -> Case:
    """Reject with a reason; cases that depended on it are cancelled, the others go on."""
    case, application = _lock_case(case)
    _require_reviewer(actor, case)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("Give the reason for the rejection."), fields={"reason": _("A reason is required.")}
        )
    before = _move(case, CaseAction.REJECT, actor=actor)
    case.reason = reason[:2000]
    _save_decision(case, rule=rule, changed="reason")
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
    _send_due_notices(application, actor=actor)
    publish("case.rejected", application=application.pk, case=case.pk)
    _settle(application, actor=actor)
    return case


def _issue_result_certificate(case: Case, application: Application, *, actor: Any) -> None:
    """A service that declares a result certificate issues it on approval, signed, in the
    same transaction: the certificate exists exactly when the approval does."""
    certificate_type = case.service.result_certificate_type
    if certificate_type is None:
        return
    keys = set(case.service.fields.values_list("element__key", flat=True))
    data = {
        **{k: v for k, v in application.form_data.items() if k in keys},
        **{k: v for k, v in case.inputs.items() if k in keys},
        **case.outputs,
    }
    certificate = certificate_issue(
        actor=actor,
        certificate_type=certificate_type,
        holder=application.applicant,
        holder_enterprise=application.enterprise,
        issuer=case.department,
        data=data,
        application_reference=application.reference,
        case_public_id=case.public_id,
    )
    _record(
        application,
        actor=actor,
        action="certificate_issued",
        case=case,
        data={"certificate": certificate.number, "type": certificate_type.code},
    )


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
    _close_requests(application)
    _record(
        application, actor=actor, action="withdrawn", from_status=before, to_status=after, note=note
    )
    return application


@transaction.atomic
def case_refer_to_reviewer(*, actor: Any, case: Case, reason: str) -> Case:
    """An automatic rule could not decide: the case waits in its department's queue."""
    case, application = _lock_case(case)
    if case.status != CaseStatus.READY:
        return case
    _record(application, actor=actor, action="referred", case=case, note=reason[:1000])
    return case


@transaction.atomic
def case_flag_attention(*, actor: Any, case: Case, reason: str) -> Case:
    """Mark a case for staff attention (its department's system could not be reached)."""
    case, _application = _lock_case(case)
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
def case_reveal_value(
    *,
    actor: Any,
    case: Case,
    key: str,
    purpose: str = "review",
    output_of: Case | None = None,
) -> str:
    """Show a reviewer one masked value of the applicant's data; every reveal is recorded.

    With `output_of`, the value is a result of that case: this case's own, or one of the earlier
    cases it depends on (the baby's ID number the household registration issued); never another
    application's or an unrelated case's result.
    """
    _require_reviewer(actor, case)
    from onething.applications.handlers import case_data_for_department

    if output_of is None:
        # Only what this case's service needs: a health reviewer never reads the bank account.
        values = case_data_for_department(case)
        recorded = {"field": key}
    else:
        related = output_of.pk == case.pk or case.prerequisites.filter(pk=output_of.pk).exists()
        values = output_of.outputs if related else {}
        recorded = {"field": key, "output_of": output_of.service.code}
    if key not in values:
        raise NotFound(_("This field does not exist."))
    audit_record(
        actor=actor_label(actor),
        action="case.value_revealed",
        stream=f"application:{case.application.public_id}",
        subject=f"{case.application.reference}/{case.service.code}",
        purpose=purpose,
        data=recorded,
    )
    # The person the value is about sees it under "who used my data" (the father for his ID
    # number, the enterprise for its data, else the applicant).
    form = case.application.form_data
    prefix = key.rsplit(".", 1)[0]
    # A child's data are seen by the parent who applies.
    adults = ("mother", "father", "retiree", "deceased", "seller", "buyer")
    about = (
        form.get("enterprise.uscc")
        if prefix == "enterprise"
        else form.get(f"{prefix}.id_number")
        if prefix in adults
        else None
    )
    record_data_use(
        actor=actor,
        subject=str(about or case.application.applicant.id_number)[:18],
        source="application",
        department=case.department.code,
        elements=[key],
        purpose=purpose,
        use="reveal",
        outcome="provided",
        service=case.service.code,
        application_reference=case.application.reference,
    )
    CaseEvent.objects.create(
        application=case.application,
        case=case,
        actor=actor_user(actor),
        actor_label=actor_label(actor),
        action="value_revealed",
        data=recorded,
        at=timezone.now(),
    )
    return str(values[key])


@transaction.atomic
def case_material_open(
    *, actor: Any, case: Case, attached: ApplicationMaterial, purpose: str = "review"
) -> ApplicationMaterial:
    """Record that a member of staff opened one of the applicant's materials for a case.

    Materials (ID cards, medical records) are as personal as the form: every download is in the
    audit trail under the reader's name, like a reveal.
    """
    audit_record(
        actor=actor_label(actor),
        action="case.material_opened",
        stream=f"application:{case.application.public_id}",
        subject=f"{case.application.reference}/{case.service.code}",
        purpose=purpose,
        data={"material": attached.material.code, "sha256": attached.sha256},
    )
    return attached


@transaction.atomic
def case_retry_dispatch(*, actor: Any, case: Case) -> Case:
    """Staff send a case whose dispatch gave up to its department again (the department's
    system is back); the attempt count starts over."""
    from onething.outbox.models import OutboxMessage
    from onething.outbox.services import outbox_retry

    case, _application = _lock_case(case)
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


# --- supplements: one notice per stage (一次性补正告知), promised materials (容缺受理) ---


def _service_targets(case: Case) -> dict[tuple[str, str], str]:
    """What a case may ask the applicant for: its service's fields and materials, with labels."""
    fields = {
        (SupplementItem.Kind.FIELD, f.element.key): f.element.label
        for f in case.service.fields.select_related("element")
    }
    materials = {
        (SupplementItem.Kind.MATERIAL, m.material.code): m.material.name
        for m in case.service.materials.select_related("material")
    }
    return {**fields, **materials}


def _next_request_number(application: Application) -> int:
    last = application.supplement_requests.order_by("-number").values_list("number", flat=True)
    return (last.first() or 0) + 1


@transaction.atomic
def case_ask_supplement(
    *, actor: Any, case: Case, items: list[Mapping[str, str]], now=None
) -> SupplementRequest:
    """Ask the applicant for fields or materials; the items wait in the stage's one notice.

    Each item is {"kind": "field" | "material", "target": key or code, "reason": why}. After
    the stage's notice was sent, its departments cannot ask again (一次性告知).
    """
    now = now or timezone.now()
    case, application = _lock_case(case)
    _require_reviewer(actor, case)
    allowed = _service_targets(case)
    problems: dict[str, str] = {}
    wanted: dict[tuple[str, str], str] = {}
    if not items:
        problems["items"] = _("Choose at least one field or material to ask for.")
    for index, item in enumerate(items):
        kind = str(item.get("kind") or "")
        target = str(item.get("target") or "")
        reason = str(item.get("reason") or "").strip()
        if (kind, target) not in allowed:
            problems[f"items.{index}.target"] = _("This service does not ask for “%(target)s”.") % {
                "target": target
            }
            continue
        if not reason:
            problems[f"items.{index}.reason"] = _("Say what is missing or wrong in “%(item)s”.") % {
                "item": allowed[kind, target]
            }
            continue
        wanted[kind, target] = reason[:1000]
    if problems:
        raise InvalidInput(_("The supplement request is incomplete."), fields=problems)
    notice = application.supplement_requests.filter(
        kind=SupplementRequest.Kind.NOTICE, stage=case.stage
    ).first()
    if notice is not None and notice.status != SupplementRequest.Status.COLLECTING:
        raise Conflict(
            _(
                "The one-time supplement notice for this stage was already sent to the "
                "applicant; decide on the case with what you have."
            )
        )
    before = _move(case, CaseAction.ASK_SUPPLEMENT, actor=actor)
    if notice is None:
        notice = SupplementRequest.objects.create(
            application=application,
            number=_next_request_number(application),
            kind=SupplementRequest.Kind.NOTICE,
            stage=case.stage,
            status=SupplementRequest.Status.COLLECTING,
            hold_until=now + settings.SUPPLEMENT_HOLD,
            created_at=now,
        )
        outbox_enqueue(
            topic=SUPPLEMENT_RELEASE_TOPIC,
            payload={"request": notice.pk},
            key=f"{SUPPLEMENT_RELEASE_TOPIC}:{notice.public_id}",
            available_at=notice.hold_until,
        )
    for (kind, target), reason in wanted.items():
        SupplementItem.objects.update_or_create(
            request=notice,
            case=case,
            kind=kind,
            target=target,
            defaults={"reason": reason, "raised_by": actor_user(actor), "raised_at": now},
        )
    case.first_reviewed_at = case.first_reviewed_at or now
    case.save(update_fields=["status", "first_reviewed_at", "updated_at"])
    _record(
        application,
        actor=actor,
        action="supplement_asked",
        case=case,
        from_status=before,
        to_status=case.status,
        data={"items": [{"kind": k, "target": t, "reason": r} for (k, t), r in wanted.items()]},
    )
    _send_due_notices(application, actor=actor, now=now)
    return notice


def _send_due_notices(application: Application, *, actor: Any, now=None) -> None:
    """Send each collecting notice whose stage is fully reviewed (or whose hold ran out)."""
    now = now or timezone.now()
    collecting = application.supplement_requests.filter(
        kind=SupplementRequest.Kind.NOTICE, status=SupplementRequest.Status.COLLECTING
    )
    for notice in collecting.select_for_update(of=("self",)):
        stage = [
            supplements.StageCase(
                code=str(pk),
                reviewed=reviewed_at is not None or status in lifecycle.CASE_TERMINAL,
            )
            for pk, status, reviewed_at in application.cases.filter(stage=notice.stage).values_list(
                "pk", "status", "first_reviewed_at"
            )
        ]
        if supplements.notice_due(stage, hold_until=notice.hold_until, now=now):
            _send_notice(application, notice, actor=actor, now=now)


def _send_notice(application: Application, notice: SupplementRequest, *, actor: Any, now) -> None:
    notice.status = SupplementRequest.Status.SENT
    notice.sent_at = now
    notice.save(update_fields=["status", "sent_at"])
    _start_if_submitted(application, actor=actor)
    if application.status == ApplicationStatus.IN_PROGRESS:
        application.status = lifecycle.application_next(
            application.status, ApplicationAction.AWAIT_SUPPLEMENT
        )
        application.save(update_fields=["status", "updated_at"])
    items = list(notice.items.select_related("case__department"))
    # The clock of the cases that asked stops now that the applicant has been asked (not while
    # the notice was held for the stage's other departments).
    application.cases.filter(
        pk__in={item.case_id for item in items},
        status=CaseStatus.SUPPLEMENT,
        paused_since__isnull=True,
    ).update(paused_since=timezone.localdate(now))
    _record(
        application,
        actor=actor,
        action="supplement_notice_sent",
        to_status=application.status,
        data={
            "notice": notice.number,
            "items": len({(i.kind, i.target) for i in items}),
            "departments": sorted({i.case.department.code for i in items}),
        },
    )
    publish(
        "supplement.notice_sent",
        application=application.pk,
        request=notice.pk,
        applicant=application.applicant_id,
    )


@transaction.atomic
def supplement_request_release(*, actor: Any, request: SupplementRequest | int) -> None:
    """Send a held notice whose hold has run out, with the items it has.

    The worker calls this when the outbox message queued for `hold_until` falls due; a notice
    already sent (every case of its stage was reviewed first) is left as it is.
    """
    pk = request.pk if isinstance(request, SupplementRequest) else request
    application_id = (
        SupplementRequest.objects.filter(pk=pk).values_list("application_id", flat=True).first()
    )
    if application_id is None:
        return
    application = _lock_application(application_id)
    notice = SupplementRequest.objects.select_for_update(of=("self",)).get(pk=pk)
    if notice.status == SupplementRequest.Status.COLLECTING:
        _send_notice(application, notice, actor=actor, now=timezone.now())


def _resolved_answer(
    application: Application,
    open_items: list[SupplementItem],
    values: Mapping[str, Any],
    files: Mapping[str, tuple[str, bytes]],
    *,
    partial: bool,
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]], dict[str, str]]:
    """The checked field values and files that answer `open_items`, and the problems."""
    plan = application_plan(application)
    elements = {f.element.key: f.element for f in plan.form}
    field_keys = sorted({i.target for i in open_items if i.kind == SupplementItem.Kind.FIELD})
    material_codes = sorted(
        {i.target for i in open_items if i.kind == SupplementItem.Kind.MATERIAL}
    )
    problems: dict[str, str] = {}
    given_fields = [k for k in field_keys if not partial or k in values]
    # The whole form is checked again with the answers in it, so that the thing's cross-field
    # rules (a child born after the mother) hold for a corrected value too; only problems of
    # the answered fields are reported (the rest was accepted at submission).
    specs = asked_fields(plan)
    # A field asked for that the plan's form no longer holds (the catalog changed since) is
    # checked on its catalog definition; all such fields in one query.
    specs += [
        FieldSpec(catalog_selectors.element_definition(element), required=True)
        for element in catalog_models.DataElement.objects.filter(
            key__in=[key for key in given_fields if key not in elements]
        ).order_by("key")
    ]
    given_specs = {spec.element.key: spec for spec in specs if spec.element.key in given_fields}
    specs = [
        FieldSpec(spec.element, required=True) if spec.element.key in given_specs else spec
        for spec in specs
    ]
    merged = {**application.form_data, **{k: values.get(k) for k in given_fields}}
    clean, field_problems = check_form(specs, merged, _today(), plan.thing.form_rules)
    labels = {spec.element.key: pick(spec.element.label) for spec in specs}
    for key, problem in field_problems.items():
        if key in given_fields:
            problems[f"form.{key}"] = field_problem_message(problem, labels.get(key, key))
    given_files: dict[str, tuple[str, bytes]] = {}
    names = {
        m.code: m.name
        for m in catalog_models.Material.objects.filter(code__in=material_codes).only(
            "code", "name_zh", "name_en"
        )
    }
    for code in material_codes:
        upload = files.get(code)
        if upload is None:
            if not partial:
                problems[f"materials.{code}"] = _("%(name)s must be uploaded.") % {
                    "name": names.get(code, code)
                }
            continue
        problem = upload_problem(upload[1])
        if problem:
            problems[f"materials.{code}"] = problem
        else:
            given_files[code] = upload
    if partial and not given_fields and not given_files and not problems:
        problems["items"] = _("Supply at least one of the promised materials.")
    answered = {key: clean[key] for key in given_fields if key in clean}
    return answered, given_files, problems


@transaction.atomic
def supplement_answer(
    *,
    actor: User,
    request: SupplementRequest,
    values: Mapping[str, Any] | None = None,
    files: Mapping[str, tuple[str, bytes]] | None = None,
) -> SupplementRequest:
    """The applicant answers a notice once — every item at once — or supplies promised materials
    (one or more at a time). The cases that asked resume; the others never stopped."""
    values, files = dict(values or {}), dict(files or {})
    application = _lock_application(request.application_id)
    _require_own(actor, application)
    request = SupplementRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
    if request.status != SupplementRequest.Status.SENT:
        raise Conflict(_("This supplement request is not waiting for an answer."))
    open_items = list(request.items.filter(resolved_at__isnull=True).select_related("case"))
    partial = request.kind == SupplementRequest.Kind.PROMISE
    answered, uploads, problems = _resolved_answer(
        application, open_items, values, files, partial=partial
    )
    if problems:
        raise InvalidInput(_("Some information is missing or wrong."), fields=problems)
    now = timezone.now()
    if answered:
        application.form_data = {**application.form_data, **answered}
        # A value the applicant supplied is theirs now, no longer the record's: it stops
        # counting as authoritative (for instant approval and read-only display).
        application.prefilled = {
            k: v for k, v in application.prefilled.items() if k not in answered
        }
        application.save(update_fields=["form_data", "prefilled", "updated_at"])
    stored = {
        code: _store_upload(application, code, name, content)
        for code, (name, content) in uploads.items()
    }
    resolved = [
        item
        for item in open_items
        if (item.kind == SupplementItem.Kind.FIELD and item.target in answered)
        or (item.kind == SupplementItem.Kind.MATERIAL and item.target in stored)
    ]
    for item in resolved:
        item.resolved_at = now
    SupplementItem.objects.bulk_update(resolved, ["resolved_at"])
    if not request.items.filter(resolved_at__isnull=True).exists():
        request.status = SupplementRequest.Status.ANSWERED
        request.answered_at = now
        request.save(update_fields=["status", "answered_at"])
    _record(
        application,
        actor=actor,
        action="supplement_answered",
        data={
            "request": request.number,
            "fields": sorted(answered),
            "materials": {code: m.sha256 for code, m in stored.items()},
        },
    )
    _resume_answered_cases(application, {item.case_id for item in resolved}, actor=actor)
    publish("supplement.answered", application=application.pk, request=request.pk)
    return request


def _resume_answered_cases(application: Application, case_ids: set[int], *, actor: Any) -> None:
    waiting = SupplementItem.objects.filter(
        request__application=application,
        request__kind=SupplementRequest.Kind.NOTICE,
        resolved_at__isnull=True,
    ).values_list("case_id", flat=True)
    still_waiting = set(waiting)
    cases = application.cases.select_for_update(of=("self",)).filter(
        pk__in=case_ids, status=CaseStatus.SUPPLEMENT
    )
    for case in cases.select_related("service", "department__region"):
        if case.pk in still_waiting:
            continue
        before = _move(case, CaseAction.RESUME, actor=actor)
        if case.paused_since is not None:
            # The day the notice went out still counts; the days after it up to the answer do
            # not (the answer day is like a new acceptance day). Asked and answered the same
            # day: the clock never stopped.
            first_waiting_day = case.paused_since + timedelta(days=1)
            if _today() >= first_waiting_day:
                case.pauses = [
                    *case.pauses,
                    [first_waiting_day.isoformat(), _today().isoformat()],
                ]
            case.paused_since = None
            case.due_date = _case_due_date(case)
            # A later due date clears the yellow or red mark; the sweep marks it again if due.
            case.deadline_state = ""
        case.save(
            update_fields=[
                "status",
                "pauses",
                "paused_since",
                "due_date",
                "deadline_state",
                "updated_at",
            ]
        )
        _record(
            application,
            actor=actor,
            action="resumed",
            case=case,
            from_status=before,
            to_status=case.status,
        )
    unanswered = application.supplement_requests.filter(
        kind=SupplementRequest.Kind.NOTICE, status=SupplementRequest.Status.SENT
    )
    if application.status == ApplicationStatus.AWAITING_SUPPLEMENT and not unanswered.exists():
        application.status = lifecycle.application_next(
            application.status, ApplicationAction.RESUME
        )
        application.save(update_fields=["status", "updated_at"])
        _record(
            application,
            actor=actor,
            action="in_progress",
            from_status=ApplicationStatus.AWAITING_SUPPLEMENT,
            to_status=application.status,
        )


@transaction.atomic
def application_promise_material(
    *, actor: User, application: Application, material_code: str, promised_by: date | None
) -> ApplicationMaterial:
    """容缺受理: promise to supply a deferrable material by a date instead of uploading it now."""
    application = _lock_application(application)
    _require_own(actor, application)
    if application.status != ApplicationStatus.DRAFT:
        raise Conflict(_("This application was already submitted."))
    item = asked_material(application, material_code)
    field = f"materials.{material_code}"
    if not item.deferrable:
        raise InvalidInput(
            _("This material cannot be supplied later."),
            fields={
                field: _("%(name)s is needed before the application can be accepted.")
                % {"name": pick(item.material.name)}
            },
        )
    today = _today()
    latest = today + timedelta(days=settings.PROMISE_MAX_DAYS)
    problem = supplements.promise_date_problem(promised_by, today=today, latest=latest)
    if problem:
        messages = {
            "required": _("Give the date by which you will supply it."),
            "not_future": _("The date must be after today."),
            "too_late": _("The date can be at most %(days)s days from today (%(latest)s).")
            % {"days": settings.PROMISE_MAX_DAYS, "latest": latest.isoformat()},
        }
        raise InvalidInput(messages[problem], fields={f"{field}.promised_by": messages[problem]})
    promised = _replace_material(
        application,
        material_code,
        provision=ApplicationMaterial.Provision.PROMISED,
        promised_by=promised_by,
    )
    _record(
        application,
        actor=actor,
        action="material_promised",
        data={"material": material_code, "promised_by": promised_by.isoformat()},
    )
    return promised


def _open_promises(application: Application, plan: Plan, *, now) -> None:
    """At submission: the promised materials become items of one promise request, one per case
    that needs them, chased until supplied."""
    promised = list(
        application.materials.filter(
            provision=ApplicationMaterial.Provision.PROMISED
        ).select_related("material")
    )
    if not promised:
        return
    members = {m.material.code: m.members for m in plan.materials}
    cases = {c.service.code: c for c in application.cases.select_related("service")}
    request = SupplementRequest.objects.create(
        application=application,
        number=_next_request_number(application),
        kind=SupplementRequest.Kind.PROMISE,
        status=SupplementRequest.Status.SENT,
        created_at=now,
        sent_at=now,
    )
    for attached in promised:
        for code in members.get(attached.material.code, ()):
            if code in cases:
                SupplementItem.objects.create(
                    request=request,
                    case=cases[code],
                    kind=SupplementItem.Kind.MATERIAL,
                    target=attached.material.code,
                    reason=_("Promised at submission (容缺受理)."),
                    raised_at=now,
                    due_date=attached.promised_by,
                )


def _refuse_if_promise_overdue(case: Case) -> None:
    """A case cannot be approved while a material promised for it is missing past its date."""
    today = _today()
    for item in case.supplement_items.filter(
        request__kind=SupplementRequest.Kind.PROMISE, resolved_at__isnull=True
    ):
        if supplements.promise_overdue(item.due_date, resolved=False, today=today):
            raise Conflict(
                _(
                    "The applicant promised to supply “%(material)s” by %(date)s and has not; "
                    "the case cannot be approved until it is supplied."
                )
                % {
                    "material": catalog_models.Material.objects.get(code=item.target).name,
                    "date": item.due_date.isoformat(),
                }
            )


def _close_requests(application: Application) -> None:
    application.supplement_requests.exclude(status=SupplementRequest.Status.ANSWERED).update(
        status=SupplementRequest.Status.CLOSED
    )


# --- deadlines in working days -------------------------------------------------------------------


def _case_due_date(case: Case) -> date | None:
    """The case's due date: its promised working days from the day it became ready, the
    clock stopped while it waited for the applicant (in its department's region calendar)."""
    if case.ready_at is None:
        return None
    pauses = [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in case.pauses]
    return work_calendar().due_date(
        timezone.localdate(case.ready_at),
        case.promised_days,
        pauses,
        region=case.department.region.code,
    )


# Cases whose clock runs: with the department, or asking a supplement still held in its notice.
DEADLINE_RUNNING = (CaseStatus.READY, CaseStatus.ACCEPTED, CaseStatus.SUPPLEMENT)


def deadline_sweep(*, actor: Any, today: date | None = None) -> dict[str, int]:
    """Mark open cases due soon (yellow), overdue (red) or escalated, once each: an event on
    the timeline, the department told, and past the escalation limit its supervisors."""
    today = today or _today()
    horizon = today + timedelta(days=settings.DEADLINE_WARN_DAYS * 2 + 14)
    candidates = Case.objects.filter(
        status__in=DEADLINE_RUNNING,
        paused_since__isnull=True,
        due_date__isnull=False,
        due_date__lte=horizon,
    ).exclude(deadline_state="escalated")
    counts = {"due_soon": 0, "overdue": 0, "escalated": 0, "promises_chased": 0}
    for pk, application_id in candidates.values_list("pk", "application_id").iterator():
        state = _deadline_mark(pk, application_id, actor=actor, today=today)
        if state:
            counts[state] += 1
    counts["promises_chased"] = _chase_promises(actor=actor, today=today)
    return counts


def _chase_promises(*, actor: Any, today: date) -> int:
    """Remind the applicant of promised materials the day before they are due, and once more
    when they are overdue (容缺受理: the promised item is chased like a supplement)."""
    due = SupplementItem.objects.filter(
        request__kind=SupplementRequest.Kind.PROMISE,
        request__status=SupplementRequest.Status.SENT,
        case__status__in=[s.value for s in lifecycle.CASE_OPEN],
        resolved_at__isnull=True,
        due_date__lte=today + timedelta(days=1),
    )
    chased = 0
    by_request: dict[int, list[SupplementItem]] = {}
    for item in due.select_related("request"):
        overdue = item.due_date < today
        if item.chased_at is not None and (
            not overdue or timezone.localdate(item.chased_at) > item.due_date
        ):
            continue  # reminded already at this stage
        by_request.setdefault(item.request_id, []).append(item)
    for request_id, items in by_request.items():
        with transaction.atomic():
            request = SupplementRequest.objects.select_related("application").get(pk=request_id)
            application = _lock_application(request.application_id)
            now = timezone.now()
            SupplementItem.objects.filter(pk__in=[i.pk for i in items]).update(chased_at=now)
            _record(
                application,
                actor=actor,
                action="promise_chased",
                data={
                    "materials": sorted({i.target for i in items}),
                    "due": min(i.due_date for i in items).isoformat(),
                },
            )
            publish(
                "supplement.promise_due",
                application=application.pk,
                request=request.pk,
                applicant=application.applicant_id,
                overdue=any(i.due_date < today for i in items),
            )
            chased += 1
    return chased


@transaction.atomic
def _deadline_mark(pk: int, application_id: int, *, actor: Any, today: date) -> str | None:
    """Mark one case, unless its application is being changed right now: the next sweep will.

    The application is locked before the case, as everywhere (`_lock_case`). Locking the case
    alone deadlocked with a reviewer who held the application and its audit stream and then
    locked the cases (found by bench/lifecycle.py beside a real worker). A case never moves to
    another application: the sweep's own read names it."""
    application = (
        Application.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("thing")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        return None
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("service", "department__region")
        .filter(pk=pk, status__in=DEADLINE_RUNNING)
        .first()
    )
    if case is None or case.due_date is None or case.paused_since is not None:
        return None
    case.application = application
    state = deadline_state_on(case, today)
    if DEADLINE_SEVERITY[state] <= DEADLINE_SEVERITY[case.deadline_state]:
        return None
    case.deadline_state = state
    fields = ["deadline_state", "updated_at"]
    if state == "escalated":
        case.escalated_at = timezone.now()
        fields.append("escalated_at")
    case.save(update_fields=fields)
    _record(
        case.application,
        actor=actor,
        action=f"deadline_{state}",
        case=case,
        data={"due_date": case.due_date.isoformat()},
    )
    publish("case.deadline", case=case.pk, department=case.department_id, state=state)
    return state


def deadline_schedule_sweep(*, now=None) -> None:
    """Make sure the next sweep is due at the next ten-minute mark (one message per mark)."""
    now = now or timezone.now()
    step = 600
    slot = int(now.timestamp()) // step + 1
    due = datetime.fromtimestamp(slot * step, tz=now.tzinfo or UTC)
    with transaction.atomic():
        outbox_enqueue(
            topic=DEADLINE_SWEEP_TOPIC,
            payload={},
            key=f"{DEADLINE_SWEEP_TOPIC}:{slot}",
            available_at=due,
        )


# --- prefill from what departments already hold (data sharing) ----------------------------------


def _prefill_request(application: Application, plan: Plan, *, actor: Any, sensitive_ok: bool):
    from onething.sharing.services import PrefillRequest

    asked = [f.element for f in plan.form if f.asked]
    return PrefillRequest(
        actor=actor,
        applicant_id_number=application.applicant.id_number,
        thing=application.thing.code,
        services=tuple(m.code for m in plan.members),
        wanted=tuple(e.key for e in asked),
        sensitive=frozenset(e.key for e in asked if e.sensitivity.value == "sensitive"),
        sensitive_consented=sensitive_ok,
        enterprise_uscc=application.enterprise.uscc if application.enterprise_id else None,
        application_reference=application.reference,
    )


def _wallets(application: Application, request) -> dict[str, tuple[str, dict[str, str]]]:
    """Whose e-certificates may stand in for materials, by the role a source gives them: the
    applicant's, the enterprise's, and a related person's (the spouse, or a child's other
    parent) only once they consented. Role -> (whose number, {certificate type: number})."""
    from onething.certificates.selectors import wallet_numbers
    from onething.sharing.selectors import approved_related_subjects

    subjects = {"applicant": application.applicant.id_number}
    if request.enterprise_uscc:
        subjects["enterprise"] = request.enterprise_uscc
    subjects.update(approved_related_subjects(application.reference))
    wallets = {}
    for role in ("applicant", "enterprise", "spouse", "mother", "father"):
        subject = subjects.get(request.relatives.role(role) or "")
        if subject:
            wallets[role] = (subject, wallet_numbers(subject))
    return wallets


def _record_certificate_uses(application, needs, found, wallets, sources, *, actor) -> None:
    """An e-certificate that stands in for a paper is a use of its holder's data: recorded
    for them like any other read."""
    from onething.sharing.prefill import holder_role

    for code, exemption in found.items():
        if exemption.kind != "certificate":
            continue
        role = holder_role(needs[code], sources)
        subject = wallets.get(role or "", ("", {}))[0]
        if subject:
            record_data_use(
                actor=actor,
                subject=subject,
                source="certificates",
                department="",
                elements=[needs[code].certificate_type or code],
                purpose=_("stands in for the paper “%(material)s”") % {"material": code},
                use="exemption",
                outcome="provided",
                service=application.thing.code,
                application_reference=application.reference,
            )


def application_ask_related_consent(*, actor: User, application: Application):
    """Ask the applicant's spouse, in their own portal, to let this application read their data."""
    from onething.sharing.services import related_consent_request

    _require_own(actor, application)
    if application.status != ApplicationStatus.DRAFT:
        raise Conflict(_("This application was already submitted."))
    plan = application_plan(application)
    request = _prefill_request(application, plan, actor=actor, sensitive_ok=True)
    consent_request = related_consent_request(actor=actor, request=request)
    _record(
        application,
        actor=actor,
        action="related_consent_requested",
        data={"relation": consent_request.relation, "elements": consent_request.elements},
    )
    return consent_request


def application_reductions(application: Application) -> dict[str, dict[str, Any]]:
    """The four reductions for this applicant: materials they provide and fields they type
    (after what the departments' records and certificates cover) and their trips, against what
    the catalog asks of each member service applied for on its own; and the working days, once
    measured: each case's own handling time added up, against the application's.

    Counted by applications.reductions, as the supervision roll-ups count them. Before
    submission the materials still to attach count as to be uploaded. Days are measured only
    when every service was approved (reductions.MEASURED_OUTCOME); until then the days entry
    is {"measured": False, "finished": ..., "promised": ...}, which the page says plainly.
    """
    plan = application_plan(application)
    separately = {
        name: getattr(plan.reductions, name).separately for name in reductions.FROM_THE_CATALOG
    }
    together = {
        "materials": reductions.materials_provided(_material_provisions(application, plan)),
        "fields": reductions.fields_typed(
            (spec.element.key for spec in asked_fields(plan)), application.prefilled
        ),
        "trips": reductions.trips_made(application.channel),
    }
    measured = _days_taken(application)
    if measured is not None:
        separately["days"], together["days"] = measured
    out: dict[str, dict[str, Any]] = reductions.figures(separately, together)
    if measured is None:
        out["days"] = {
            "measured": False,
            "finished": application.status in lifecycle.APPLICATION_TERMINAL,
            "promised": plan.promised_days,
        }
    else:
        out["days"]["measured"] = True
    return out


def _days_taken(application: Application) -> tuple[int, int] | None:
    """reductions.days_taken for the application: its cases' ready and decision days and its
    own, counted in its region's working days (as the roll-ups count them)."""
    if application.status != reductions.MEASURED_OUTCOME:
        return None  # not measured: spare the queries

    def local(moment: datetime | None) -> date | None:
        return timezone.localdate(moment) if moment is not None else None

    calendar, region = work_calendar(), application.region_code
    return reductions.days_taken(
        application.status,
        local(application.submitted_at),
        local(application.finished_at),
        [
            (local(ready_at), local(decided_at))
            for ready_at, decided_at in application.cases.values_list("ready_at", "decided_at")
        ],
        lambda start, end: calendar.working_days_between(start, end, region),
    )


def _material_provisions(application: Application, plan: Plan) -> dict[str, int]:
    """Provision -> number of the plan's materials provided that way: the application's records
    of its materials, and for a draft those it is still to provide (as uploads) or is exempt
    from (by the exemption's kind)."""
    recorded = dict(
        application.materials.values("provision")
        .annotate(n=Count("pk"))
        .values_list("provision", "n")
    )
    if application.status != ApplicationStatus.DRAFT:
        return recorded
    attached = set(application.materials.values_list("material__code", flat=True))
    provisions = dict(recorded)
    for item in applicant_materials(plan, application.exemptions):
        if item.material.code not in attached:
            provisions[ApplicationMaterial.Provision.UPLOAD] = (
                provisions.get(ApplicationMaterial.Provision.UPLOAD, 0) + 1
            )
    for code, exemption in application.exemptions.items():
        if code not in attached:
            provisions[exemption["kind"]] = provisions.get(exemption["kind"], 0) + 1
    return provisions


def application_data_use(application: Application, *, actor: Any):
    """What prefilling this application would read, from where, about whom and why — shown to
    the applicant before they consent (sensitive elements listed apart)."""
    from onething.sharing.selectors import consent_overview

    _require_own(actor, application)
    plan = application_plan(application)
    request = _prefill_request(application, plan, actor=actor, sensitive_ok=True)
    return consent_overview(request)


def _unanswered_fields(wanted, result, sources) -> dict[str, str]:
    """Field -> the source that should have filled it but did not answer (down, slow, or its
    circuit open): the form step asks the applicant to fill these in themselves."""
    unanswered: dict[str, str] = {}
    for source in sources:
        if source.code not in result.unavailable:
            continue
        for served in source.serves:
            if served.element in wanted and served.element not in result.values:
                unanswered.setdefault(served.element, source.code)
    return dict(sorted(unanswered.items()))


def prefill_unanswered(application: Application) -> dict[str, str]:
    """Field -> the source that did not answer at the draft's last prefill (empty when none)."""
    last = (
        CaseEvent.objects.filter(application=application, case=None, action="prefilled")
        .order_by("-pk")
        .values_list("data", flat=True)
        .first()
    )
    return dict((last or {}).get("unanswered", {}))


def application_prefill(
    *, actor: User, application: Application, consent: bool, sensitive: bool = False
) -> Application:
    """With the applicant's consent, fill the draft from every granted source at once.

    The sources are read outside any lock (a slow department must not hold the application);
    the values, their origin and the consent are then written in one transaction. Values the
    applicant already typed are kept. Without consent nothing is read.
    """
    from onething.sharing.prefill import MaterialNeed, exemptions
    from onething.sharing.selectors import sharing_sources
    from onething.sharing.services import consent_record, prefill_run

    _require_own(actor, application)
    if application.status != ApplicationStatus.DRAFT:
        raise Conflict(_("This application was already submitted."))
    if not consent:
        raise InvalidInput(
            _("Nothing is read without your consent."),
            fields={"consent": _("Tick the box to let the platform read these data.")},
        )
    plan = application_plan(application)
    request = _prefill_request(application, plan, actor=actor, sensitive_ok=sensitive)
    result = prefill_run(request)
    with transaction.atomic():
        application = _lock_application(application)
        # The sources were read without a lock: the draft may have been submitted meanwhile.
        if application.status != ApplicationStatus.DRAFT:
            raise Conflict(_("This application was already submitted."))
        filled = {}
        for key, value in result.values.items():
            if application.form_data.get(key) in (None, ""):
                filled[key] = value
        application.form_data = {
            **application.form_data,
            **{k: v.value for k, v in filled.items()},
        }
        application.prefilled = {
            **application.prefilled,
            **{
                k: {"source": v.source, "authoritative": v.authoritative} for k, v in filled.items()
            },
        }
        wallets = _wallets(application, request)
        sources = sharing_sources()
        # What an earlier case produces is never the applicant's to provide, nor to be exempt from.
        needs = {
            m.material.code: MaterialNeed(
                m.material.code, tuple(m.material.carries), m.material.certificate_type
            )
            for m in plan.materials
            if m.source != Source.RESULT
        }
        found = exemptions(
            needs.values(),
            {
                key: value
                for key, value in result.values.items()
                if key in application.prefilled or key in filled
            },
            {role: wallet for role, (_subject, wallet) in wallets.items()},
            sources,
        )
        application.exemptions = {
            code: {"kind": e.kind, "record": e.record} for code, e in found.items()
        }
        _record_certificate_uses(application, needs, found, wallets, sources, actor=actor)
        application.save(update_fields=["form_data", "prefilled", "exemptions", "updated_at"])
        consent_record(request=request, given_by=actor)
        _record(
            application,
            actor=actor,
            action="prefilled",
            data={
                "fields": sorted(filled),
                "exempt_materials": sorted(found),
                "unavailable": sorted(result.unavailable),
                "unanswered": _unanswered_fields(request.wanted, result, sources),
                "awaiting_related_consent": sorted(result.needs_related_consent),
            },
        )
    return application
