"""How applications read on the pages: values, masked values, form inputs, outputs, the timeline.

Shared by the applicant's portal and the reviewers' workbench; no view functions and no queries
of its own (only what the objects handed in already hold).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onething.applications.lifecycle import ApplicationStatus, CaseStatus
from onething.applications.models import (
    APPLICATION_STATUS_LABELS,
    CASE_STATUS_LABELS,
    Application,
    Case,
    CaseEvent,
)
from onething.catalog.plan_output import pick
from onething.catalog.schema import DataElementDef, ElementType, Sensitivity, Validator
from onething.core.masking import is_sensitive_key, mask

EVENT_LABELS = {
    "started": gettext_lazy("Application started"),
    "material_attached": gettext_lazy("Material uploaded"),
    "material_seen": gettext_lazy("Material seen at the one-stop window"),
    "submitted": gettext_lazy("Application submitted"),
    "released": gettext_lazy("Sent to the department"),
    "accepted": gettext_lazy("Accepted by the department"),
    "in_progress": gettext_lazy("Being handled"),
    "approved": gettext_lazy("Approved"),
    "rejected": gettext_lazy("Rejected"),
    "cancelled": gettext_lazy("Cancelled"),
    "withdrawn": gettext_lazy("Withdrawn"),
    "finished": gettext_lazy("Application finished"),
    "needs_attention": gettext_lazy("Delayed: the department's system could not be reached"),
    "value_revealed": gettext_lazy("A reviewer viewed one of your details in full"),
    "material_promised": gettext_lazy("Material promised for later (容缺受理)"),
    "supplement_asked": gettext_lazy("The department needs a supplement"),
    "supplement_notice_sent": gettext_lazy("One-time supplement notice sent"),
    "supplement_answered": gettext_lazy("Supplement provided"),
    "resumed": gettext_lazy("Handling resumed"),
    "certificate_issued": gettext_lazy("E-certificate issued"),
    "promise_chased": gettext_lazy("Reminder: promised materials are due"),
    "referred": gettext_lazy("Passed to a reviewer"),
    "prefilled": gettext_lazy("Filled in from the departments' records"),
    "deadline_due_soon": gettext_lazy("Due soon"),
    "deadline_overdue": gettext_lazy("Overdue"),
    "deadline_escalated": gettext_lazy("Overdue: escalated to the supervisor"),
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


def input_value(element: DataElementDef, value: Any) -> str:
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


def display_value(element: DataElementDef, value: Any) -> str:
    """A value as a reader reads it: the option's label, yes or no."""
    text = input_value(element, value)
    if not text:
        return ""
    if element.type == ElementType.BOOLEAN:
        return {"yes": _("Yes"), "no": _("No")}.get(text, text)
    if element.type == ElementType.CHOICE:
        for option in element.options:
            if option.value == text:
                return pick(option.label)
    return text


def is_masked(element: DataElementDef) -> bool:
    """Personal and sensitive values are shown masked until a reviewer reveals one."""
    return element.sensitivity in MASKED_SENSITIVITIES


def masked_display(
    element: DataElementDef, value: Any, *, revealed: bool = False
) -> tuple[str, bool]:
    """The value as a reader sees it, masked unless revealed; and whether it was masked."""
    shown = display_value(element, value)
    masked = bool(shown) and is_masked(element) and not revealed
    return (mask(shown) if masked else shown), masked


def field_id(key: str) -> str:
    return "f-" + key.replace(".", "-")


def form_field(element: DataElementDef, *, required: bool, value: Any, error: str = "") -> dict:
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
        "id": field_id(element.key),
        "label": pick(element.label),
        "help": pick(element.help),
        "widget": widget,
        "attrs": attrs,
        "required": required,
        "value": input_value(element, value),
        "error": error,
        "options": [{"value": o.value, "label": pick(o.label)} for o in element.options],
    }


# --- cases and the timeline ----------------------------------------------------------------------


def output_id(case: Case, key: str) -> str:
    """The HTML id of one result value (a key may be both a field and an earlier result)."""
    return f"out-{case.pk}-" + key.replace(".", "-")


def is_sensitive_output(key: str, sensitivity: str | None) -> bool:
    """Masked like a form value: by the element's sensitivity, or by its key (`*.id_number`)."""
    return sensitivity in MASKED_SENSITIVITIES or is_sensitive_key(key)


def output_rows(
    case: Case, *, reveal_all: bool = False, revealed: frozenset[str] = frozenset()
) -> list[dict]:
    """A case's results, labelled by its service's output elements.

    Staff read personal results masked (a baby's ID number is as personal as the mother's) until
    they reveal one, which is recorded; only the applicant reads their own results in full
    (`reveal_all`).
    """
    declared = {o.element.key: o.element for o in case.service.outputs.all()}
    rows = []
    for key, value in case.outputs.items():
        element = declared.get(key)
        sensitivity = element.sensitivity if element is not None else None
        masked = (
            not reveal_all
            and key not in revealed
            and bool(value)
            and is_sensitive_output(key, sensitivity)
        )
        rows.append(
            {
                "key": key,
                "id": output_id(case, key),
                "case_id": case.pk,
                "label": element.label if element is not None else key,
                "value": mask(str(value)) if masked else value,
                "masked": masked,
            }
        )
    return rows


def _who(event: CaseEvent, application: Application | None) -> str:
    """Who did it, as the reader of the timeline should know it (no staff names)."""
    if event.action == "released" and event.case_id:
        return event.case.department.name
    if application is not None and event.actor_id and event.actor_id == application.applicant_id:
        return _("You")
    if application is not None and event.actor_id and event.actor_id == application.taken_by_id:
        return _("The one-stop window")
    if event.actor_label.startswith("system:rule:"):
        return _("Automatic decision")
    if event.actor_label.startswith("system:connector:"):
        return _("The department's own system")
    if event.actor_label.startswith("system:"):
        return _("OneThing")
    if event.case_id:
        return event.case.department.name
    return _("A department")


def timeline_rows(events: Iterable[CaseEvent], application: Application | None) -> list[dict]:
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
