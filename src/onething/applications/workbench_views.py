"""The reviewers' workbench: the department's queue, one case, and what a reviewer does with it
(accept, approve, reject, retry the dispatch, reveal a masked value). Supervisors and
administrators read the cases of their scope here too, without the actions.

Thin: parse the request, call a service or a selector, render. Another department's case does not
exist for the caller (404): the selectors decide.
"""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from onething.accounts.models import User
from onething.applications import selectors, services
from onething.applications.handlers import case_data_for_department
from onething.applications.lifecycle import DEADLINE_MARKED, CaseStatus
from onething.applications.models import Case
from onething.applications.presentation import (
    REVIEWER_CASE_LABELS,
    display_value,
    field_id,
    form_field,
    masked_display,
    output_id,
    output_rows,
    timeline_rows,
)
from onething.catalog import selectors as catalog_selectors
from onething.catalog.plan_output import pick
from onething.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from onething.core.numbers import whole_number


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
    cases = selectors.cases_for_staff(request.user, status=None if chosen == "all" else chosen)
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
            "due_date": case.due_date,
            "paused": case.paused_since is not None,
            "deadline": case.deadline_state if case.status in DEADLINE_MARKED else "",
        }
        for case in cases
    ]
    return render(
        request,
        "applications/workbench.html",
        {"rows": rows, "filters": filters, "chosen": chosen},
    )


def _case_context(
    viewer: User,
    case: Case,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    revealed: frozenset[str] = frozenset(),
    revealed_output: tuple[int, str] | None = None,
    problem: str = "",
) -> dict:
    errors, typed = errors or {}, typed or {}
    data = case_data_for_department(case)
    fields = case.service.fields.select_related("element").order_by("position", "id")
    rows = []
    for service_field in fields:
        element = catalog_selectors.element_definition(service_field.element)
        key = element.key
        shown, masked = masked_display(element, data.get(key), revealed=key in revealed)
        rows.append(
            {
                "key": key,
                "id": field_id(key),
                "label": pick(element.label),
                "value": shown,
                "masked": masked,
                "from_result": key in case.inputs,
            }
        )
    outputs = [
        form_field(
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
            "outputs": output_rows(p, revealed=_revealed_of(p, revealed_output)),
        }
        for p in selectors.earlier_results(case)
    ]
    application = case.application
    choices = _supplement_choices(case, errors, typed)
    labels = {c["value"]: c["label"] for c in choices}
    # Supervisors and administrators read the case; only its reviewers see the actions.
    may_work = selectors.may_work_case(viewer, case)
    service_materials = set(case.service.materials.values_list("material_id", flat=True))
    return {
        "case": case,
        "application": application,
        "may_work": may_work,
        "status_label": REVIEWER_CASE_LABELS[CaseStatus(case.status)],
        "rows": rows,
        "materials": [
            {
                "name": m.material.name,
                "provision": m.get_provision_display(),
                "record": m.source_record,
                "upload": bool(m.sha256),
                "sha256": m.sha256[:12],
                "size": m.size,
                "content_type": m.content_type,
                # Only what this case's service asks for may be opened from this case.
                "download": bool(m.file) and m.material_id in service_materials,
                "code": m.material.code,
            }
            for m in selectors.application_materials(application).values()
        ],
        "earlier": earlier,
        "decided_outputs": output_rows(case, revealed=_revealed_of(case, revealed_output)),
        "events": timeline_rows(selectors.case_events(case), None),
        "supplement_choices": choices,
        "supplement_items": [
            {
                "label": labels.get(f"{item.kind}:{item.target}", item.target),
                "reason": item.reason,
                "state": _item_state(item),
                "due_date": item.due_date,
            }
            for item in selectors.case_supplement_items(case)
        ],
        "outputs": outputs,
        "can_accept": may_work and case.status == CaseStatus.READY,
        "can_decide": may_work and case.status == CaseStatus.ACCEPTED,
        "reason": typed.get("reason", ""),
        "reason_error": errors.get("reason", ""),
        "problem": problem,
        "errors": [
            message
            for path, message in errors.items()
            if path != "reason" and not path.startswith(("outputs.", "items."))
        ],
    }


def _revealed_of(case: Case, revealed_output: tuple[int, str] | None) -> frozenset[str]:
    if revealed_output is None or revealed_output[0] != case.pk:
        return frozenset()
    return frozenset({revealed_output[1]})


def _item_state(item) -> str:
    if item.resolved_at:
        return _("supplied")
    if item.request.status == "collecting":
        return _("held until every department of this stage has reviewed")
    if item.request.kind == "promise":
        return _("promised by the applicant")
    return _("sent to the applicant")


def _supplement_choices(case: Case, errors: dict[str, str], typed: dict[str, str]) -> list[dict]:
    """The fields and materials this case's service uses, each a possible supplement item."""
    chosen = set(typed.get("items_chosen", []))
    choices = []
    targets = [
        ("field", f.element.key, f.element.label)
        for f in case.service.fields.select_related("element").order_by("position", "id")
    ] + [
        ("material", m.material.code, m.material.name)
        for m in case.service.materials.select_related("material").order_by("position", "id")
    ]
    for index, (kind, target, label) in enumerate(targets):
        value = f"{kind}:{target}"
        choices.append(
            {
                "index": index,
                "value": value,
                "label": label,
                "kind": kind,
                "checked": value in chosen,
                "reason": typed.get(f"reason:{value}", ""),
                "error": errors.get(f"items.{value}", ""),
            }
        )
    return choices


@staff_required
@require_POST
def case_ask_supplement(request: HttpRequest, case_id: int) -> HttpResponse:
    """Ask the applicant for the ticked fields and materials, each with its reason."""
    case = selectors.case_for_staff(request.user, case_id)
    chosen = request.POST.getlist("item")
    items = [
        {
            "kind": value.split(":", 1)[0],
            "target": value.split(":", 1)[-1],
            "reason": request.POST.get(f"reason:{value}", ""),
        }
        for value in chosen
    ]
    try:
        services.case_ask_supplement(actor=request.user, case=case, items=items)
    except InvalidInput as exc:
        # The service names items by position; the page names them by their checkbox.
        errors = {
            (f"items.{chosen[int(path.split('.')[1])]}" if path.count(".") == 2 else path): message
            for path, message in exc.fields.items()
        }
        typed = {**request.POST.dict(), "items_chosen": chosen}
        context = _case_context(request.user, case, errors=errors, typed=typed)
        if "items" in errors:
            context["problem"] = errors["items"]
        return render(request, "applications/case.html", context, status=422)
    except Conflict as exc:
        case = selectors.case_for_staff(request.user, case_id)
        return render(
            request,
            "applications/case.html",
            _case_context(request.user, case, problem=exc.message),
            status=409,
        )
    return redirect("applications:case", case.pk)


@staff_required
@require_GET
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_for_staff(request.user, case_id)
    return render(request, "applications/case.html", _case_context(request.user, case))


def _case_action(request: HttpRequest, case_id: int, act) -> HttpResponse:
    """Run one action on a case; show what was wrong on the case page, or go back to it."""
    case = selectors.case_for_staff(request.user, case_id)
    try:
        act(case)
    except InvalidInput as exc:
        context = _case_context(request.user, case, errors=exc.fields, typed=request.POST.dict())
        return render(request, "applications/case.html", context, status=422)
    except Conflict as exc:
        case = selectors.case_for_staff(request.user, case_id)
        context = _case_context(request.user, case, problem=exc.message)
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
@require_GET
def case_material(request: HttpRequest, case_id: int, code: str) -> FileResponse:
    """One uploaded material the case's service uses, to whoever may read the case; recorded."""
    case = selectors.case_for_staff(request.user, case_id)
    attached = selectors.case_material(case, code)
    services.case_material_open(actor=request.user, case=case, attached=attached)
    return FileResponse(
        attached.file.open("rb"),
        as_attachment=True,
        filename=attached.original_name or f"{code}",
        content_type=attached.content_type or "application/octet-stream",
    )


@staff_required
@require_POST
def case_reveal(request: HttpRequest, case_id: int) -> HttpResponse:
    """Show one masked value in full (a form value, or with `output_of` a case's result); the
    service records who saw it and why."""
    case = selectors.case_for_staff(request.user, case_id)
    key = request.POST.get("field", "")
    output_of = request.POST.get("output_of", "")
    if output_of:
        source_id = whole_number(output_of, max_digits=18)
        if source_id is None:
            raise NotFound(_("This case does not exist."))
        source = selectors.case_with_results(case, source_id)
        value = services.case_reveal_value(actor=request.user, case=case, key=key, output_of=source)
        if request.htmx:
            row = {"id": output_id(source, key), "value": value}
            return render(request, "applications/_revealed.html", {"row": row})
        context = _case_context(request.user, case, revealed_output=(source.pk, key))
        return render(request, "applications/case.html", context)
    # Only what this department may see: the service would reveal any value of the form.
    if key not in case_data_for_department(case):
        raise NotFound(_("This field does not exist."))
    value = services.case_reveal_value(actor=request.user, case=case, key=key)
    if request.htmx:
        field = case.service.fields.select_related("element").get(element__key=key)
        element = catalog_selectors.element_definition(field.element)
        row = {"key": key, "id": field_id(key), "value": display_value(element, value)}
        return render(request, "applications/_revealed.html", {"row": row})
    context = _case_context(request.user, case, revealed=frozenset({key}))
    return render(request, "applications/case.html", context)
