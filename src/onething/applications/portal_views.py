"""The applicant's pages: apply, fill in the form step by step, attach materials, check and submit,
then follow the application (list, timeline, progress) or withdraw it.

Thin: parse the request, call a service or a selector, render. Another applicant's reference does
not exist for the caller (404): the selectors decide.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onething.accounts.selectors import is_applicant
from onething.applications import selectors, services, window
from onething.applications.form_steps import Step, form_steps, subject_of
from onething.applications.lifecycle import (
    APPLICATION_TERMINAL,
    APPLICATION_TRANSITIONS,
    CASE_OPEN,
    ApplicationAction,
    ApplicationStatus,
    CaseStatus,
)
from onething.applications.models import (
    APPLICATION_STATUS_LABELS,
    CASE_STATUS_LABELS,
    Application,
    ApplicationMaterial,
)
from onething.applications.presentation import (
    field_id,
    form_field,
    masked_display,
    output_rows,
    timeline_rows,
)
from onething.catalog import selectors as catalog_selectors
from onething.catalog.fields import FieldSpec
from onething.catalog.models import in_language
from onething.catalog.plan_output import pick, plan_as_dict
from onething.catalog.planning import Plan, PlannedMaterial
from onething.certificates.selectors import certificates_of_application
from onething.core.errors import Conflict, InvalidInput
from onething.sharing.selectors import related_requests_of, source_names

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
        materials=services.applicant_materials(plan, application.exemptions),
    )


def _step_title(step: Step) -> str:
    return " · ".join(str(SUBJECT_TITLES.get(s, _("More details"))) for s in step.groups)


def _own_application(request: HttpRequest, reference: str) -> Application:
    """The signed-in applicant's application (404 for anybody else's)."""
    return selectors.application_for_applicant(request.user, reference)


def _participant_application(request: HttpRequest, reference: str) -> Application:
    """The applicant's application, or one the signed-in window clerk took (一窗受理)."""
    return selectors.application_for_participant(request.user, reference)


def _at_window(request: HttpRequest, application: Application) -> bool:
    """The window clerk who took the application is working on it (not the applicant)."""
    return application.applicant_id != request.user.pk and window.took(request.user, application)


def _home(request: HttpRequest, application: Application) -> HttpResponse:
    """Where "come back later" leads: the applicant's list, or the clerk's window."""
    if _at_window(request, application):
        return redirect("applications:window")
    return redirect("applications:list")


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
            return redirect("applications:data-use", application.reference)
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
    application = _participant_application(request, reference)
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
                return _home(request, application)
            return redirect(journey.url_after_step(number))
        values.update(typed)
    groups: list[dict] = []
    unanswered = services.prefill_unanswered(application)
    sources = source_names() if application.prefilled or unanswered else {}
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
            {
                **form_field(
                    spec.element,
                    required=spec.required,
                    value=values.get(key),
                    error=errors.get(key, ""),
                ),
                **_origin(application, key, sources),
                "unanswered_by": (
                    sources.get(unanswered[key], (unanswered[key], ""))[0]
                    if key in unanswered
                    and not values.get(key)
                    and key not in application.prefilled
                    else ""
                ),
            }
        )
    return render(
        request,
        "applications/step.html",
        {
            **journey.context(number),
            "groups": groups,
            "errors": [
                {"id": field_id(key), "message": message} for key, message in errors.items()
            ],
            "previous_url": journey.step_url(number - 1) if number > 1 else None,
            "title": _step_title(current),
            "at_window": _at_window(request, application),
        },
    )


def _origin(application: Application, key: str, sources: dict) -> dict:
    """Where a prefilled value came from; an authoritative one is shown read-only."""
    origin = application.prefilled.get(key)
    if not origin:
        return {}
    name, department = sources.get(origin["source"], (origin["source"], ""))
    return {
        "source_name": name,
        "source_department": department,
        "readonly": bool(origin.get("authoritative")),
    }


@login_required
@require_GET
def notice(request: HttpRequest, reference: str) -> HttpResponse:
    """The one-time notification (一次性告知书) for this applicant: the materials they still
    provide, those exempt for them and what stands in, and what applying once saved them."""
    from onething.catalog.views import _questions

    application = _participant_application(request, reference)
    plan = services.application_plan(application)
    data = plan_as_dict(plan)
    origins = services.material_origins(plan, application.exemptions)
    for material in data["materials"]:
        origin = origins[material["code"]]
        material["source"], material["record"] = origin.source, origin.record
    for field in data["form"]:
        if field["key"] in application.prefilled:
            field["source"] = "prefilled"
    data["reductions"] = services.application_reductions(application)
    answers = {key: str(value) for key, value in application.answers.items()}
    return render(
        request,
        "catalog/notice.html",
        {
            "thing": application.thing,
            "questions": _questions(application.thing, answers, {}),
            "answers_query": urlencode(answers),
            "plan": data,
            "application": application,
            "back_url": reverse("applications:detail", args=[application.reference]),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def data_use(request: HttpRequest, reference: str) -> HttpResponse:
    """Before the form: what the platform would read from which department, about whom and
    why; the applicant consents (sensitive data ticked apart) or fills everything in."""
    application = _participant_application(request, reference)
    if application.status != ApplicationStatus.DRAFT:
        return _to_timeline(application)
    journey = _journey(application)
    first_step = journey.step_url(1) if journey.steps else journey.url_after_step(0)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.POST.get("then") == "myself":
            return redirect(first_step)
        if request.POST.get("then") == "ask-spouse":
            try:
                services.application_ask_related_consent(
                    actor=request.user, application=application
                )
            except (InvalidInput, Conflict) as exc:
                errors = {"relation": exc.message}
            else:
                return redirect("applications:data-use", application.reference)
        else:
            try:
                services.application_prefill(
                    actor=request.user,
                    application=application,
                    consent=request.POST.get("consent") == "yes",
                    sensitive=request.POST.get("sensitive") == "yes",
                )
            except InvalidInput as exc:
                errors = exc.fields
            else:
                return redirect(first_step)
    overview = services.application_data_use(application, actor=request.user)
    if overview.empty:
        return redirect(first_step)
    return render(
        request,
        "applications/data_use.html",
        {
            **journey.context(1),
            "overview": overview,
            "errors": errors,
            "first_step": first_step,
            "related": related_requests_of(application.reference),
        },
        status=422 if errors else 200,
    )


def _material_rows(
    journey: Journey, attached: dict[str, ApplicationMaterial], errors: dict[str, str]
) -> list[dict]:
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
                "promised": getattr(attached.get(code), "promised_by", None),
                "seen": _seen_as(attached.get(code)),
                "error": errors.get(code, ""),
            }
        )
    return rows


def _seen_as(attached: ApplicationMaterial | None) -> str:
    """`original` or `copy` when the window clerk saw the paper material, else empty."""
    if attached is None or attached.provision != ApplicationMaterial.Provision.SEEN_AT_WINDOW:
        return ""
    return attached.seen_as


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _provided_rows(plan: Plan, exemptions: dict | None = None) -> list[dict]:
    """The materials this applicant need not submit, and what stands in for each."""
    names = {m.code: pick(m.service.name) for m in plan.members}
    origins = services.material_origins(plan, exemptions)
    return [
        {
            "code": item.material.code,
            "name": pick(item.material.name),
            "source": origins[item.material.code].source,
            "record": origins[item.material.code].record,
            "produced_by": names.get(item.produced_by or "", ""),
        }
        for item in plan.materials
        if origins[item.material.code].source != "applicant"
    ]


@login_required
@require_http_methods(["GET", "POST"])
def materials(request: HttpRequest, reference: str) -> HttpResponse:
    """Upload what the applicant brings; list what sharing and earlier results provide.

    At the window the clerk may instead record that they saw the paper original or a copy.
    """
    application = _participant_application(request, reference)
    if application.status != ApplicationStatus.DRAFT:
        return _to_timeline(application)
    journey = _journey(application)
    if not journey.materials:
        return redirect(journey.check_url())
    at_window = _at_window(request, application)
    errors: dict[str, str] = {}
    if request.method == "POST":
        before = selectors.application_materials(application) if at_window else {}
        for item in journey.materials:
            code = item.material.code
            upload = request.FILES.get(f"material-{code}")
            seen_as = request.POST.get(f"seen-{code}", "") if at_window else ""
            if upload is None and seen_as and seen_as != _seen_as(before.get(code)):
                try:
                    window.application_material_seen(
                        actor=request.user,
                        application=application,
                        material_code=code,
                        seen_as=seen_as,
                    )
                except InvalidInput as exc:
                    errors[code] = next(iter(exc.fields.values()), exc.message)
                continue
            promised_by = request.POST.get(f"promise-{code}", "").strip()
            if upload is None and promised_by and item.deferrable:
                try:
                    services.application_promise_material(
                        actor=request.user,
                        application=application,
                        material_code=code,
                        promised_by=_parse_date(promised_by),
                    )
                except InvalidInput as exc:
                    errors[code] = next(iter(exc.fields.values()), exc.message)
                continue
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
            "rows": _material_rows(journey, selectors.application_materials(application), errors),
            "provided": _provided_rows(journey.plan, application.exemptions),
            "previous_url": journey.step_url(len(journey.steps)) if journey.steps else None,
            "errors": [{"id": f"m-{code}", "message": message} for code, message in errors.items()],
            "at_window": at_window,
        },
        status=422 if errors else 200,
    )


def _error_link(journey: Journey, path: str) -> str:
    """Where the applicant fixes the field a submission error names."""
    if path.startswith("form."):
        key = path.removeprefix("form.")
        number = journey.step_of(key)
        if number is not None:
            return f"{journey.step_url(number)}#{field_id(key)}"
    if path.startswith("materials."):
        code = path.removeprefix("materials.").removesuffix(".promised_by")
        return f"{journey.materials_url()}#m-{code}"
    if path == "consent":
        return "#consent"
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest, reference: str) -> HttpResponse:
    """Every answer once more, the consent, and Submit (idempotent through a hidden token).

    At the window the clerk confirms that the applicant read and signed the consent.
    """
    application = _participant_application(request, reference)
    at_window = _at_window(request, application)
    errors: dict[str, str] = {}
    if request.method == "POST":
        token = request.POST.get("idempotency_key", "").strip()[:100]
        consent = request.POST.get("consent") == "yes"
        if token and token == application.idempotency_key:
            # A second click after the first went through (the clerk may no longer change it).
            return redirect("applications:submitted", application.reference)
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
            if at_window and "consent" in errors:
                errors["consent"] = _("Confirm that the applicant has read and signed the consent.")
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
            shown, _masked = masked_display(element, values.get(key))
            rows.append(
                {
                    "key": key,
                    "label": pick(element.label),
                    "value": shown,
                    "required": journey.specs[key].required,
                    "change_url": f"{journey.step_url(s.number)}#{field_id(key)}",
                    "error": errors.get(f"form.{key}", ""),
                }
            )
        sections.append({"title": _step_title(s), "rows": rows, "url": journey.step_url(s.number)})
    material_errors = {
        path.removeprefix("materials.").removesuffix(".promised_by"): message
        for path, message in errors.items()
        if path.startswith("materials.")
    }
    return render(
        request,
        "applications/check.html",
        {
            **journey.context(journey.total),
            "sections": sections,
            "materials": _material_rows(
                journey, selectors.application_materials(application), material_errors
            ),
            "materials_url": journey.materials_url(),
            "provided": _provided_rows(journey.plan, application.exemptions),
            "saved": {"reductions": services.application_reductions(application)},
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
            "at_window": at_window,
        },
        status=422 if errors else 200,
    )


@login_required
@require_GET
def resume(request: HttpRequest, reference: str) -> HttpResponse:
    """Continue a draft where something required is still missing."""
    application = _participant_application(request, reference)
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
    attached = selectors.application_materials(application)
    if any(item.required and item.material.code not in attached for item in journey.materials):
        return redirect(journey.materials_url())
    return redirect(journey.check_url())


# --- after submission ---------------------------------------------------------------------------


def _case_rows(application: Application) -> list[dict]:
    certificates = certificates_of_application(application.reference)
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
            "due_date": case.due_date if case.status in CASE_OPEN else None,
            "paused": case.paused_since is not None,
            "certificate": certificates.get(str(case.public_id)),
            # The applicant's own results: in full.
            "outputs": (
                output_rows(case, reveal_all=True) if case.status == CaseStatus.APPROVED else []
            ),
            "reason": case.reason
            if case.status in (CaseStatus.REJECTED, CaseStatus.CANCELLED)
            else "",
        }
        for case in selectors.application_cases(application)
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
    """The confirmation: the reference number, what happens next, the promised days.

    The window clerk gets the acceptance receipt to print for the applicant instead.
    """
    application = _participant_application(request, reference)
    if application.status == ApplicationStatus.DRAFT:
        return redirect("applications:check", application.reference)
    if application.applicant_id != request.user.pk:
        return redirect("applications:window-receipt", application.reference)
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
    """One application: every case, a progress bar, the timeline, and withdrawal.

    The window clerk who took it follows it here too; withdrawing it and answering supplement
    notices stay with the applicant.
    """
    application = _participant_application(request, reference)
    if application.applicant_id != request.user.pk:
        return render(
            request,
            "applications/detail.html",
            {**_detail_context(application), "can_withdraw": False, "at_window": True},
        )
    return render(
        request,
        "applications/detail.html",
        {
            **_detail_context(application),
            **_notice_context(application),
            "answered": request.GET.get("answered") == "1",
        },
    )


def _detail_context(application: Application) -> dict:
    can_withdraw = (
        ApplicationStatus(application.status),
        ApplicationAction.WITHDRAW,
    ) in APPLICATION_TRANSITIONS
    return {
        **_progress_context(application),
        "thing_name": application.thing.name,
        "events": timeline_rows(selectors.application_timeline(application), application),
        "can_withdraw": can_withdraw,
        "is_draft": application.status == ApplicationStatus.DRAFT,
    }


def _notice_context(application: Application, errors: dict[str, str] | None = None) -> dict:
    errors = errors or {}
    plan_elements = {f.element.key: f.element for f in services.application_plan(application).form}
    notices = []
    for notice in selectors.application_notices(application):
        entries = []
        for entry in notice.entries:
            row = {"entry": entry, "error": ""}
            if entry.kind == "field" and not entry.resolved and entry.target in plan_elements:
                row["field"] = form_field(
                    plan_elements[entry.target],
                    required=True,
                    value=application.form_data.get(entry.target),
                    error=errors.get(f"form.{entry.target}", ""),
                )
            else:
                row["error"] = errors.get(f"materials.{entry.target}", "")
            entries.append(row)
        notices.append({"notice": notice, "request": notice.request, "entries": entries})
    return {"notices": notices}


@login_required
@require_POST
def supplement_answer(request: HttpRequest, reference: str, number: int) -> HttpResponse:
    """The applicant answers a supplement notice (every item at once) or supplies promised
    materials; what was wrong is shown next to the item and nothing typed is lost."""
    application = _own_application(request, reference)
    notice = selectors.open_notice(application, number)
    values = {
        e.target: request.POST.get(e.target, "") for e in notice.open_entries if e.kind == "field"
    }
    files = {}
    for entry in notice.open_entries:
        upload = request.FILES.get(f"material-{entry.target}")
        if entry.kind == "material" and upload is not None:
            # One byte past the limit is enough for the service to say it is too large.
            files[entry.target] = (
                upload.name or "upload",
                upload.read(services.MAX_UPLOAD_BYTES + 1),
            )
    try:
        services.supplement_answer(
            actor=request.user, request=notice.request, values=values, files=files
        )
    except InvalidInput as exc:
        application.form_data = {**application.form_data, **values}  # shown again, not saved
        return render(
            request,
            "applications/detail.html",
            {
                **_detail_context(application),
                **_notice_context(application, exc.fields),
                "notice_problem": exc.message,
            },
            status=422,
        )
    return redirect(reverse("applications:detail", args=[application.reference]) + "?answered=1")


@login_required
@require_GET
def progress(request: HttpRequest, reference: str) -> HttpResponse:
    """The cases block of the timeline page, polled by htmx so progress shows up live."""
    application = _participant_application(request, reference)
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
