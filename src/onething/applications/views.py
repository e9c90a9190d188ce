"""Portal pages of applications: the applicant's journey and the reviewers' workbench.

Thin: parse the request, call a service or a selector, render. Who may see what is decided by
the selectors and services: another applicant's reference, or another department's case, does
not exist for the caller (404).
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onething.accounts.models import User
from onething.accounts.selectors import is_applicant
from onething.applications import selectors, services
from onething.applications.form_steps import Step, form_steps, subject_of
from onething.applications.handlers import case_data_for_department
from onething.applications.lifecycle import (
    APPLICATION_TERMINAL,
    APPLICATION_TRANSITIONS,
    ApplicationAction,
    ApplicationStatus,
    CaseStatus,
)
from onething.applications.models import (
    APPLICATION_STATUS_LABELS,
    CASE_STATUS_LABELS,
    Application,
    Case,
    CaseEvent,
)
from onething.catalog import selectors as catalog_selectors
from onething.catalog.fields import FieldSpec
from onething.catalog.models import in_language
from onething.catalog.plan_output import pick, plan_as_dict
from onething.catalog.planning import Plan, PlannedMaterial, Source
from onething.catalog.schema import DataElementDef, ElementType, Sensitivity, Validator
from onething.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from onething.core.masking import mask

# Step titles by the subject of the data elements they hold (`mother.*` → "Mother").
SUBJECT_TITLES = {
    "applicant": gettext_lazy("About you"),
    "mother": gettext_lazy("Mother"),
    "father": gettext_lazy("Father"),
    "child": gettext_lazy("Child"),
    "household": gettext_lazy("Household register"),
    "marriage": gettext_lazy("Marriage"),
    "bank": gettext_lazy("Bank account"),
    "employer": gettext_lazy("Employer"),
    "retiree": gettext_lazy("Retiree"),
    "deceased": gettext_lazy("The deceased"),
    "enterprise": gettext_lazy("Enterprise"),
    "premises": gettext_lazy("Premises"),
    "food": gettext_lazy("Food business"),
    "signboard": gettext_lazy("Signboard"),
    "seller": gettext_lazy("Seller"),
    "buyer": gettext_lazy("Buyer"),
    "property": gettext_lazy("Property"),
    "contract": gettext_lazy("Contract"),
    "tax": gettext_lazy("Tax"),
    "mortgage": gettext_lazy("Mortgage"),
    "utility": gettext_lazy("Utilities"),
}

EVENT_LABELS = {
    "started": gettext_lazy("Application started"),
    "material_attached": gettext_lazy("Material attached"),
    "submitted": gettext_lazy("Application submitted"),
    "released": gettext_lazy("Sent to the department"),
    "accepted": gettext_lazy("Taken up by the department"),
    "in_progress": gettext_lazy("Being handled"),
    "approved": gettext_lazy("Approved"),
    "rejected": gettext_lazy("Rejected"),
    "cancelled": gettext_lazy("Cancelled"),
    "withdrawn": gettext_lazy("Withdrawn"),
    "finished": gettext_lazy("Application finished"),
    "needs_attention": gettext_lazy("Delayed: the department's system could not be reached"),
    "value_revealed": gettext_lazy("A reviewer viewed one of your values in full"),
}

# How a reviewer reads a case's status (the applicant-facing labels are in models).
REVIEWER_CASE_LABELS = {
    CaseStatus.WAITING: gettext_lazy("waiting for an earlier case"),
    CaseStatus.READY: gettext_lazy("new, to be accepted"),
    CaseStatus.ACCEPTED: gettext_lazy("accepted, to be decided"),
    CaseStatus.SUPPLEMENT: gettext_lazy("waiting for the applicant's supplement"),
    CaseStatus.APPROVED: gettext_lazy("approved"),
    CaseStatus.REJECTED: gettext_lazy("rejected"),
    CaseStatus.CANCELLED: gettext_lazy("cancelled"),
}

MASKED_SENSITIVITIES = (Sensitivity.PERSONAL, Sensitivity.SENSITIVE)


# --- fields --------------------------------------------------------------------------------------


def _input_value(element: DataElementDef, value: Any) -> str:
    """A stored value as an HTML input holds it (yes/no radios hold `yes` / `no`)."""
    if value is None:
        return ""
    if element.type == ElementType.BOOLEAN:
        word = str(value).lower()
        if word in {"true", "yes", "1", "on"}:
            return "yes"
        if word in {"false", "no", "0", "off"}:
            return "no"
    return str(value)


def _display_value(element: DataElementDef, value: Any) -> str:
    """A value as a reader reads it: the option's label, yes or no."""
    text = _input_value(element, value)
    if not text:
        return ""
    if element.type == ElementType.BOOLEAN:
        return {"yes": _("Yes"), "no": _("No")}.get(text, text)
    if element.type == ElementType.CHOICE:
        for option in element.options:
            if option.value == text:
                return pick(option.label)
    return text


def _is_masked(element: DataElementDef) -> bool:
    return element.sensitivity in MASKED_SENSITIVITIES


def _field_id(key: str) -> str:
    return "f-" + key.replace(".", "-")


def _field(element: DataElementDef, *, required: bool, value: Any, error: str = "") -> dict:
    """What the `_field.html` template needs to draw one input for a data element."""
    widget = {
        ElementType.STRING: "input",
        ElementType.TEXT: "textarea",
        ElementType.DATE: "input",
        ElementType.INTEGER: "input",
        ElementType.DECIMAL: "input",
        ElementType.BOOLEAN: "yes_no",
        ElementType.CHOICE: "select",
    }[element.type]
    attrs: dict[str, str] = {"type": "text"}
    if element.type == ElementType.DATE:
        attrs = {"type": "date"}
        if element.past_only:
            attrs["max"] = timezone.localdate().isoformat()
    elif element.type in (ElementType.INTEGER, ElementType.DECIMAL):
        attrs = {
            "type": "number",
            "inputmode": "numeric" if element.type == ElementType.INTEGER else "decimal",
            "step": "1" if element.type == ElementType.INTEGER else "any",
        }
        if element.min is not None:
            attrs["min"] = str(element.min)
        if element.max is not None:
            attrs["max"] = str(element.max)
    elif element.validator == Validator.PHONE:
        attrs = {"type": "tel", "inputmode": "tel", "autocomplete": "tel"}
    elif element.validator == Validator.EMAIL:
        attrs = {"type": "email", "autocomplete": "email"}
    elif element.validator in (Validator.CN_RIC, Validator.CN_USCC):
        attrs = {"type": "text", "maxlength": "18", "autocapitalize": "characters"}
    elif element.validator in (Validator.BANK_CARD, Validator.POSTCODE):
        attrs = {"type": "text", "inputmode": "numeric"}
    return {
        "key": element.key,
        "id": _field_id(element.key),
        "label": pick(element.label),
        "help": pick(element.help),
        "widget": widget,
        "attrs": attrs,
        "required": required,
        "value": _input_value(element, value),
        "error": error,
        "options": [{"value": o.value, "label": pick(o.label)} for o in element.options],
    }


# --- the applicant's journey through one draft ---------------------------------------------------


@dataclass(frozen=True)
class Journey:
    """The pages of one draft: the form steps, then materials (if any), then the check page."""

    application: Application
    plan: Plan
    specs: dict[str, FieldSpec]
    steps: list[Step]
    materials: list[PlannedMaterial]

    @property
    def total(self) -> int:
        return len(self.steps) + (1 if self.materials else 0) + 1

    @property
    def materials_number(self) -> int:
        return len(self.steps) + 1

    def step_url(self, number: int) -> str:
        return reverse("applications:step", args=[self.application.reference, number])

    def materials_url(self) -> str:
        return reverse("applications:materials", args=[self.application.reference])

    def check_url(self) -> str:
        return reverse("applications:check", args=[self.application.reference])

    def url_after_step(self, number: int) -> str:
        if number < len(self.steps):
            return self.step_url(number + 1)
        return self.materials_url() if self.materials else self.check_url()

    def step_of(self, key: str) -> int | None:
        for step in self.steps:
            if key in step.keys:
                return step.number
        return None

    def indicator(self, current: int) -> list[dict]:
        """The progress indicator: every page of the journey, done, current or to do."""
        items = [
            {"number": s.number, "title": _step_title(s), "url": self.step_url(s.number)}
            for s in self.steps
        ]
        if self.materials:
            items.append(
                {
                    "number": self.materials_number,
                    "title": _("Materials"),
                    "url": self.materials_url(),
                }
            )
        items.append(
            {"number": self.total, "title": _("Check and submit"), "url": self.check_url()}
        )
        for item in items:
            item["state"] = (
                "current"
                if item["number"] == current
                else ("done" if item["number"] < current else "todo")
            )
        return items

    def context(self, current: int) -> dict:
        return {
            "application": self.application,
            "thing_name": pick(self.plan.thing.name),
            "indicator": self.indicator(current),
            "number": current,
            "total": self.total,
            "percent": round(100 * (current - 1) / self.total),
        }


def _journey(application: Application) -> Journey:
    plan = services.application_plan(application)
    specs = {spec.element.key: spec for spec in services.asked_fields(plan)}
    return Journey(
        application=application,
        plan=plan,
        specs=specs,
        steps=form_steps(list(specs)),
        materials=services.applicant_materials(plan),
    )


def _step_title(step: Step) -> str:
    return " · ".join(str(SUBJECT_TITLES.get(s, _("More details"))) for s in step.groups)


def _own_application(request: HttpRequest, reference: str) -> Application:
    """The signed-in applicant's application (404 for anybody else's)."""
    return selectors.application_for_applicant(request.user, reference)


def _to_timeline(application: Application) -> HttpResponse:
    return redirect("applications:detail", application.reference)


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, thing_code: str) -> HttpResponse:
    """Confirm the plan for these answers (GET), and start a draft from it (POST)."""
    thing = catalog_selectors.thing_get(thing_code)
    source = request.POST if request.method == "POST" else request.GET
    keys = {q.key for q in thing.questions.all()}
    answers = {k: v for k, v in source.items() if k in keys and v != ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            application = services.application_start(
                actor=request.user,
                thing_code=thing.code,
                answers=answers,
                enterprise_uscc=request.POST.get("enterprise") or None,
            )
        except InvalidInput as exc:
            errors = exc.fields
        else:
            return redirect("applications:step", application.reference, 1)
    plan = None
    try:
        plan = plan_as_dict(catalog_selectors.thing_plan(thing.code, answers))
    except InvalidInput as exc:
        errors = {**exc.fields, **errors}
    questions = []
    if plan is not None:
        for q in thing.questions.all():
            value = plan["answers"].get(q.key)
            if isinstance(value, bool):
                text = _("Yes") if value else _("No")
            else:
                labels = {
                    o["value"]: in_language(o["label"]["zh"], o["label"]["en"]) for o in q.options
                }
                text = labels.get(str(value), "" if value is None else str(value))
            questions.append({"label": in_language(q.label_zh, q.label_en), "answer": text})
    query = urlencode(answers)
    thing_url = reverse("catalog:thing", args=[thing.code])
    return render(
        request,
        "applications/apply.html",
        {
            "thing": thing,
            "plan": plan,
            "answers": answers,
            "questions": questions,
            "errors": errors,
            "thing_url": f"{thing_url}?{query}" if query else thing_url,
            "can_apply": is_applicant(request.user),
            "needs_enterprise": thing.audience == "enterprise",
            "enterprises": list(request.user.enterprises.all()),
            "chosen_enterprise": request.POST.get("enterprise", ""),
        },
        status=422 if errors and request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, reference: str, number: int) -> HttpResponse:
    """One step of the form; saved as a draft, wrong values kept and named next to the field."""
    application = _own_application(request, reference)
    if application.status != ApplicationStatus.DRAFT:
        return _to_timeline(application)
    journey = _journey(application)
    if not journey.steps:
        return redirect(journey.url_after_step(0))
    if not 1 <= number <= len(journey.steps):
        raise Http404
    current = journey.steps[number - 1]
    values = dict(application.form_data)
    errors: dict[str, str] = {}
    if request.method == "POST":
        typed = {key: request.POST[key] for key in current.keys if key in request.POST}
        problems = services.application_save_form(
            actor=request.user, application=application, values=typed
        )
        errors = {
            key: message
            for path, message in problems.items()
            if (key := path.removeprefix("form.")) in current.keys
        }
        if not errors:
            if request.POST.get("then") == "later":
                return redirect("applications:list")
            return redirect(journey.url_after_step(number))
        values.update(typed)
    groups: list[dict] = []
    for key in current.keys:
        spec = journey.specs[key]
        subject = subject_of(key)
        if not groups or groups[-1]["subject"] != subject:
            groups.append(
                {
                    "subject": subject,
                    "title": SUBJECT_TITLES.get(subject, _("More details")),
                    "fields": [],
                }
            )
        groups[-1]["fields"].append(
            _field(
                spec.element,
                required=spec.required,
                value=values.get(key),
                error=errors.get(key, ""),
            )
        )
    return render(
        request,
        "applications/step.html",
        {
            **journey.context(number),
            "groups": groups,
            "errors": [
                {"id": _field_id(key), "message": message} for key, message in errors.items()
            ],
            "previous_url": journey.step_url(number - 1) if number > 1 else None,
            "title": _step_title(current),
        },
    )


def _material_rows(journey: Journey, attached: dict, errors: dict[str, str]) -> list[dict]:
    names = {m.code: pick(m.service.name) for m in journey.plan.members}
    rows = []
    for item in journey.materials:
        code = item.material.code
        rows.append(
            {
                "code": code,
                "name": pick(item.material.name),
                "kind": item.material.kind.value,
                "copies": item.material.copies,
                "required": item.required,
                "deferrable": item.deferrable,
                "needed_by": [names[c] for c in item.members if c in names],
                "attached": attached.get(code),
                "error": errors.get(code, ""),
            }
        )
    return rows


def _provided_rows(plan: Plan) -> list[dict]:
    names = {m.code: pick(m.service.name) for m in plan.members}
    return [
        {
            "code": item.material.code,
            "name": pick(item.material.name),
            "source": item.source.value,
            "produced_by": names.get(item.produced_by or "", ""),
        }
        for item in plan.materials
        if item.source != Source.APPLICANT
    ]


def _attached(application: Application) -> dict:
    return {m.material.code: m for m in application.materials.select_related("material")}


@login_required
@require_http_methods(["GET", "POST"])
def materials(request: HttpRequest, reference: str) -> HttpResponse:
    """Upload what the applicant brings; list what sharing and earlier results provide."""
    application = _own_application(request, reference)
    if application.status != ApplicationStatus.DRAFT:
        return _to_timeline(application)
    journey = _journey(application)
    if not journey.materials:
        return redirect(journey.check_url())
    errors: dict[str, str] = {}
    if request.method == "POST":
        for item in journey.materials:
            code = item.material.code
            upload = request.FILES.get(f"material-{code}")
            if upload is None:
                continue
            if upload.size > services.MAX_UPLOAD_BYTES:
                errors[code] = _("Files may be at most 10 MB.")
                continue
            try:
                services.application_attach_material(
                    actor=request.user,
                    application=application,
                    material_code=code,
                    name=upload.name or "upload",
                    content=upload.read(),
                )
            except InvalidInput as exc:
                errors[code] = next(iter(exc.fields.values()), exc.message)
        if not errors:
            if request.POST.get("then") == "stay":
                return redirect(journey.materials_url())
            return redirect(journey.check_url())
    return render(
        request,
        "applications/materials.html",
        {
            **journey.context(journey.materials_number),
            "rows": _material_rows(journey, _attached(application), errors),
            "provided": _provided_rows(journey.plan),
            "previous_url": journey.step_url(len(journey.steps)) if journey.steps else None,
            "errors": [{"id": f"m-{code}", "message": message} for code, message in errors.items()],
        },
        status=422 if errors else 200,
    )


def _error_link(journey: Journey, path: str) -> str:
    """Where the applicant fixes the field a submission error names."""
    if path.startswith("form."):
        key = path.removeprefix("form.")
        number = journey.step_of(key)
        if number is not None:
            return f"{journey.step_url(number)}#{_field_id(key)}"
    if path.startswith("materials."):
        return f"{journey.materials_url()}#m-{path.removeprefix('materials.')}"
    if path == "consent":
        return "#consent"
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest, reference: str) -> HttpResponse:
    """Every answer once more, the consent, and Submit (idempotent through a hidden token)."""
    application = _own_application(request, reference)
    errors: dict[str, str] = {}
    if request.method == "POST":
        token = request.POST.get("idempotency_key", "").strip()[:100]
        consent = request.POST.get("consent") == "yes"
        try:
            # A second click with the same token finds the application submitted and returns it.
            application = services.application_submit(
                actor=request.user,
                application=application,
                consent=consent,
                idempotency_key=token or None,
            )
        except InvalidInput as exc:
            errors = exc.fields
        else:
            return redirect("applications:submitted", application.reference)
    else:
        # A fresh token per rendering: a double click sends the same one twice.
        token = secrets.token_urlsafe(18)
        consent = False
    if application.status != ApplicationStatus.DRAFT:
        return _to_timeline(application)
    journey = _journey(application)
    values = application.form_data
    sections = []
    for s in journey.steps:
        rows = []
        for key in s.keys:
            element = journey.specs[key].element
            shown = _display_value(element, values.get(key))
            rows.append(
                {
                    "key": key,
                    "label": pick(element.label),
                    "value": mask(shown) if shown and _is_masked(element) else shown,
                    "required": journey.specs[key].required,
                    "change_url": f"{journey.step_url(s.number)}#{_field_id(key)}",
                    "error": errors.get(f"form.{key}", ""),
                }
            )
        sections.append({"title": _step_title(s), "rows": rows, "url": journey.step_url(s.number)})
    material_errors = {
        path.removeprefix("materials."): message
        for path, message in errors.items()
        if path.startswith("materials.")
    }
    return render(
        request,
        "applications/check.html",
        {
            **journey.context(journey.total),
            "sections": sections,
            "materials": _material_rows(journey, _attached(application), material_errors),
            "materials_url": journey.materials_url(),
            "provided": _provided_rows(journey.plan),
            "consent_text": services.consent_text(journey.plan),
            "consent": consent,
            "consent_error": errors.get("consent", ""),
            "token": token,
            "previous_url": (
                journey.materials_url()
                if journey.materials
                else (journey.step_url(len(journey.steps)) if journey.steps else None)
            ),
            "errors": [
                {"message": message, "url": _error_link(journey, path)}
                for path, message in errors.items()
            ],
            "promised_days": journey.plan.promised_days,
        },
        status=422 if errors else 200,
    )


@login_required
@require_GET
def resume(request: HttpRequest, reference: str) -> HttpResponse:
    """Continue a draft where something required is still missing."""
    application = _own_application(request, reference)
    if application.status != ApplicationStatus.DRAFT:
        return _to_timeline(application)
    journey = _journey(application)
    values = application.form_data
    for s in journey.steps:
        missing = [
            key
            for key in s.keys
            if journey.specs[key].required and str(values.get(key, "") or "").strip() == ""
        ]
        if missing:
            return redirect(journey.step_url(s.number))
    attached = _attached(application)
    if any(item.required and item.material.code not in attached for item in journey.materials):
        return redirect(journey.materials_url())
    return redirect(journey.check_url())


# --- after submission ---------------------------------------------------------------------------


def _outputs(case: Case) -> list[dict]:
    labels = {o.element.key: o.element.label for o in case.service.outputs.all()}
    return [{"label": labels.get(key, key), "value": value} for key, value in case.outputs.items()]


def _case_rows(application: Application) -> list[dict]:
    cases = application.cases.select_related("service", "department").prefetch_related(
        "service__outputs__element"
    )
    return [
        {
            "id": case.pk,
            "service": case.service.code,
            "name": case.service.name,
            "department": case.department.name,
            "status": case.status,
            "status_label": CASE_STATUS_LABELS[CaseStatus(case.status)],
            "stage": case.stage,
            "promised_days": case.promised_days,
            "outputs": _outputs(case) if case.status == CaseStatus.APPROVED else [],
            "reason": case.reason
            if case.status in (CaseStatus.REJECTED, CaseStatus.CANCELLED)
            else "",
        }
        for case in cases.order_by("position")
    ]


def _who(event: CaseEvent, application: Application | None) -> str:
    """Who did it, as the reader of the timeline should know it (no staff names)."""
    if event.action == "released" and event.case_id:
        return event.case.department.name
    if application is not None and event.actor_id and event.actor_id == application.applicant_id:
        return _("You")
    if event.actor_label.startswith("system:rule:"):
        return _("Automatic decision")
    if event.actor_label.startswith("system:connector:"):
        return _("The department's own system")
    if event.actor_label.startswith("system:"):
        return _("OneThing")
    if event.case_id:
        return event.case.department.name
    return _("A department")


def _timeline_rows(events, application: Application | None) -> list[dict]:
    """The events for the applicant (`application` given) or for a reviewer (None)."""
    case_labels = CASE_STATUS_LABELS if application is not None else REVIEWER_CASE_LABELS
    return [
        {
            "at": event.at,
            "action": event.action,
            "label": EVENT_LABELS.get(event.action, event.action),
            "service": event.case.service.name if event.case_id else "",
            "to_status": (
                case_labels[CaseStatus(event.to_status)]
                if event.case_id and event.to_status
                else (
                    APPLICATION_STATUS_LABELS[ApplicationStatus(event.to_status)]
                    if event.to_status
                    else ""
                )
            ),
            "note": event.note,
            "who": _who(event, application),
        }
        for event in events
    ]


def _progress_context(application: Application) -> dict:
    return {
        "application": application,
        "status_label": APPLICATION_STATUS_LABELS[ApplicationStatus(application.status)],
        "progress": selectors.application_progress(application),
        "cases": _case_rows(application),
        # Polled while departments may still change something.
        "live": application.status not in APPLICATION_TERMINAL
        and application.status != ApplicationStatus.DRAFT,
    }


@login_required
@require_GET
def submitted(request: HttpRequest, reference: str) -> HttpResponse:
    """The confirmation: the reference number, what happens next, the promised days."""
    application = _own_application(request, reference)
    if application.status == ApplicationStatus.DRAFT:
        return redirect("applications:check", application.reference)
    cases = _case_rows(application)
    return render(
        request,
        "applications/submitted.html",
        {
            "application": application,
            "started": [c for c in cases if c["status"] != CaseStatus.WAITING],
            "waiting": [c for c in cases if c["status"] == CaseStatus.WAITING],
        },
    )


@login_required
@require_GET
def application_list(request: HttpRequest) -> HttpResponse:
    """My applications: drafts to continue, and how far each submitted one has come."""
    rows = [
        {
            "application": application,
            "thing_name": application.thing.name,
            "status_label": APPLICATION_STATUS_LABELS[ApplicationStatus(application.status)],
            "is_draft": application.status == ApplicationStatus.DRAFT,
            "progress": selectors.application_progress(application),
        }
        for application in selectors.applications_for_applicant(request.user)
    ]
    return render(request, "applications/list.html", {"rows": rows})


@login_required
@require_GET
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    """One application: every case, a progress bar, the timeline, and withdrawal."""
    application = _own_application(request, reference)
    can_withdraw = (
        ApplicationStatus(application.status),
        ApplicationAction.WITHDRAW,
    ) in APPLICATION_TRANSITIONS
    return render(
        request,
        "applications/detail.html",
        {
            **_progress_context(application),
            "thing_name": application.thing.name,
            "events": _timeline_rows(selectors.application_timeline(application), application),
            "can_withdraw": can_withdraw,
            "is_draft": application.status == ApplicationStatus.DRAFT,
        },
    )


@login_required
@require_GET
def progress(request: HttpRequest, reference: str) -> HttpResponse:
    """The cases block of the timeline page, polled by htmx so progress shows up live."""
    application = _own_application(request, reference)
    return render(request, "applications/_cases.html", _progress_context(application))


@login_required
@require_POST
def withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    application = _own_application(request, reference)
    services.application_withdraw(
        actor=request.user,
        application=application,
        reason=request.POST.get("reason", "")[:500],
    )
    return redirect("applications:detail", application.reference)


# --- workbench -----------------------------------------------------------------------------------


def staff_required(view):
    """Signed in, and a member of staff; what each may see is still up to the selectors."""

    @functools.wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs):
        if request.user.kind != User.Kind.STAFF:
            raise NotAllowed(_("Only staff may use the workbench."))
        return view(request, *args, **kwargs)

    return wrapped


def _queue_filters() -> list[tuple[str, str]]:
    return [
        ("open", _("Open")),
        ("all", _("All")),
        *[(s.value, str(REVIEWER_CASE_LABELS[s])) for s in CaseStatus if s != CaseStatus.WAITING],
    ]


@staff_required
@require_GET
def workbench(request: HttpRequest) -> HttpResponse:
    """The department's queue, filtered by status (open cases by default)."""
    filters = _queue_filters()
    chosen = request.GET.get("status", "open")
    if chosen not in dict(filters):
        chosen = "open"
    cases = selectors.cases_for_reviewer(request.user, status=None if chosen == "all" else chosen)
    rows = [
        {
            "id": case.pk,
            "reference": case.application.reference,
            "thing": case.application.thing.name,
            "service": case.service.name,
            "department": case.department.name,
            "status": case.status,
            "status_label": REVIEWER_CASE_LABELS[CaseStatus(case.status)],
            "needs_attention": case.needs_attention,
            "ready_at": case.ready_at,
        }
        for case in cases
    ]
    return render(
        request,
        "applications/workbench.html",
        {"rows": rows, "filters": filters, "chosen": chosen},
    )


def _case_context(
    case: Case,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    revealed: frozenset[str] = frozenset(),
    problem: str = "",
) -> dict:
    errors, typed = errors or {}, typed or {}
    data = case_data_for_department(case)
    fields = case.service.fields.select_related("element").order_by("position", "id")
    rows = []
    for service_field in fields:
        element = catalog_selectors.element_definition(service_field.element)
        key = element.key
        shown = _display_value(element, data.get(key))
        masked = bool(shown) and _is_masked(element) and key not in revealed
        rows.append(
            {
                "key": key,
                "id": _field_id(key),
                "label": pick(element.label),
                "value": mask(shown) if masked else shown,
                "masked": masked,
                "from_result": key in case.inputs,
            }
        )
    outputs = [
        _field(
            catalog_selectors.element_definition(o.element),
            required=True,
            value=typed.get(o.element.key, case.outputs.get(o.element.key)),
            error=errors.get(f"outputs.{o.element.key}", ""),
        )
        for o in case.service.outputs.select_related("element")
    ]
    earlier = [
        {
            "service": p.service.name,
            "department": p.department.name,
            "status_label": REVIEWER_CASE_LABELS[CaseStatus(p.status)],
            "outputs": _outputs(p),
        }
        for p in selectors.earlier_results(case)
    ]
    application = case.application
    return {
        "case": case,
        "application": application,
        "status_label": REVIEWER_CASE_LABELS[CaseStatus(case.status)],
        "rows": rows,
        "materials": [
            {
                "name": m.material.name,
                "provision": m.get_provision_display(),
                "upload": bool(m.sha256),
                "sha256": m.sha256[:12],
                "size": m.size,
                "content_type": m.content_type,
            }
            for m in application.materials.select_related("material")
        ],
        "earlier": earlier,
        "decided_outputs": _outputs(case),
        "events": _timeline_rows(
            selectors.application_timeline(application).filter(case=case), None
        ),
        "outputs": outputs,
        "can_accept": case.status == CaseStatus.READY,
        "can_decide": case.status == CaseStatus.ACCEPTED,
        "reason": typed.get("reason", ""),
        "reason_error": errors.get("reason", ""),
        "problem": problem,
        "errors": [
            message
            for path, message in errors.items()
            if path != "reason" and not path.startswith("outputs.")
        ],
    }


@staff_required
@require_GET
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_for_reviewer(request.user, case_id)
    return render(request, "applications/case.html", _case_context(case))


def _case_action(request: HttpRequest, case_id: int, act) -> HttpResponse:
    """Run one action on a case; show what was wrong on the case page, or go back to it."""
    case = selectors.case_for_reviewer(request.user, case_id)
    try:
        act(case)
    except InvalidInput as exc:
        context = _case_context(case, errors=exc.fields, typed=request.POST.dict())
        return render(request, "applications/case.html", context, status=422)
    except Conflict as exc:
        case = selectors.case_for_reviewer(request.user, case_id)
        context = _case_context(case, problem=exc.message)
        return render(request, "applications/case.html", context, status=409)
    return redirect("applications:case", case.pk)


@staff_required
@require_POST
def case_accept(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_action(
        request, case_id, lambda case: services.case_accept(actor=request.user, case=case)
    )


@staff_required
@require_POST
def case_approve(request: HttpRequest, case_id: int) -> HttpResponse:
    def approve(case: Case) -> None:
        keys = case.service.outputs.values_list("element__key", flat=True)
        outputs = {key: request.POST.get(key, "") for key in keys}
        services.case_approve(actor=request.user, case=case, outputs=outputs)

    return _case_action(request, case_id, approve)


@staff_required
@require_POST
def case_reject(request: HttpRequest, case_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")[:2000]
    return _case_action(
        request,
        case_id,
        lambda case: services.case_reject(actor=request.user, case=case, reason=reason),
    )


@staff_required
@require_POST
def case_retry(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_action(
        request,
        case_id,
        lambda case: services.case_retry_dispatch(actor=request.user, case=case),
    )


@staff_required
@require_POST
def case_reveal(request: HttpRequest, case_id: int) -> HttpResponse:
    """Show one masked value in full; the service records who saw it and why."""
    case = selectors.case_for_reviewer(request.user, case_id)
    key = request.POST.get("field", "")
    # Only what this department may see: the service would reveal any value of the form.
    if key not in case_data_for_department(case):
        raise NotFound(_("This field does not exist."))
    value = services.case_reveal_value(actor=request.user, case=case, key=key)
    if request.htmx:
        field = case.service.fields.select_related("element").get(element__key=key)
        element = catalog_selectors.element_definition(field.element)
        row = {"key": key, "id": _field_id(key), "value": _display_value(element, value)}
        return render(request, "applications/_revealed.html", {"row": row})
    context = _case_context(case, revealed=frozenset({key}))
    return render(request, "applications/case.html", context)
