"""Where a ready case goes: the department's workbench queue, an automatic rule (秒批), or the
department's own system over HTTP (a connector). One registry, one entry per handler name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from onething.accounts.models import Enterprise
from onething.applications import services
from onething.applications.lifecycle import CaseStatus
from onething.applications.models import Case, DepartmentEndpoint
from onething.catalog import conditions
from onething.core.actors import SystemActor
from onething.core.registry import Registry
from onething.outbox.registry import PermanentFailure

handlers: Registry[Callable[[Case], None]] = Registry("case handler")


def case_data_for_department(case: Case) -> dict[str, Any]:
    """Only what this service needs: its own fields and the results of earlier cases."""
    keys = set(case.service.fields.values_list("element__key", flat=True))
    data = {k: v for k, v in case.application.form_data.items() if k in keys}
    return {**data, **{k: v for k, v in case.inputs.items() if k in keys}}


@handlers.register("workbench")
def to_workbench(case: Case) -> None:
    """Nothing to send: the ready case is in its department's queue."""


# --- automatic rules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    approve: bool
    reason: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    # Neither approve nor reject: the rule cannot decide, a reviewer of the department does.
    refer: bool = False
    # Which input came from where, recorded with an instant approval.
    evidence: dict[str, str] = field(default_factory=dict)


def generated_outputs(case: Case) -> dict[str, str]:
    """Numbers for the declared outputs, unique per case (what a register would assign)."""
    year = case.application.submitted_at.year if case.application.submitted_at else 0
    return {
        key: f"{key.split('.')[-1].upper()[:6]}-{year}-{case.pk:06d}"
        for key in case.service.outputs.values_list("element__key", flat=True)
    }


def complete_inputs(case: Case) -> Decision:
    """Every required input was checked at submission, so the service is granted at once."""
    return Decision(approve=True, outputs=generated_outputs(case))


def registered_enterprise(case: Case) -> Decision:
    """Granted when the credit code is in the market-entity register, refused otherwise."""
    code = case.application.form_data.get("enterprise.uscc", "")
    if Enterprise.objects.filter(uscc=code).exists():
        return Decision(approve=True, outputs=generated_outputs(case))
    return Decision(
        approve=False,
        reason=_("The unified social credit code is not in the market-entity register."),
    )


def authoritative_inputs(case: Case) -> Decision:
    """秒批: approved at once when every input the rule names came from an authoritative source
    (a department's register read at prefill, or an earlier case's result) and the service's
    condition holds on the values; otherwise the case goes to a reviewer, never rejected."""
    service = case.service
    application = case.application
    keys = list(service.rule_inputs) or list(
        service.fields.filter(required=True).values_list("element__key", flat=True)
    )
    evidence: dict[str, str] = {}
    typed = []
    for key in keys:
        if key in case.inputs:
            evidence[key] = "result"
        elif (origin := application.prefilled.get(key)) and origin.get("authoritative"):
            evidence[key] = origin["source"]
        else:
            typed.append(key)
    if typed:
        return Decision(
            approve=False,
            refer=True,
            reason=_("Not decided automatically: %(fields)s typed by the applicant.")
            % {"fields": ", ".join(typed)},
        )
    values = {**application.form_data, **case.inputs}
    if service.rule_condition and not conditions.evaluate(service.rule_condition, values):
        return Decision(
            approve=False,
            refer=True,
            reason=_("Not decided automatically: the service's condition does not hold."),
        )
    return Decision(approve=True, outputs=generated_outputs(case), evidence=evidence)


AUTOMATIC_RULES: dict[str, Callable[[Case], Decision]] = {
    "complete_inputs": complete_inputs,
    "registered_enterprise": registered_enterprise,
    "authoritative_inputs": authoritative_inputs,
}


@handlers.register("automatic")
def decide_automatically(case: Case) -> None:
    rule = case.service.rule
    actor = SystemActor(f"rule:{rule}")
    decision = AUTOMATIC_RULES[rule](case)
    # Taken up and decided in one transaction: a crash in between must not leave a case
    # accepted by a rule that never decides it.
    if decision.refer:
        services.case_refer_to_reviewer(actor=actor, case=case, reason=decision.reason)
        return
    with transaction.atomic():
        services.case_accept(actor=actor, case=case)
        if decision.approve:
            services.case_approve(
                actor=actor,
                case=case,
                outputs=decision.outputs,
                rule=rule,
                evidence=decision.evidence,
            )
        else:
            services.case_reject(actor=actor, case=case, reason=decision.reason, rule=rule)


# --- connector -----------------------------------------------------------------------------------


def callback_url(case: Case) -> str:
    path = reverse("api:connector_callback", kwargs={"department": case.department.code})
    return settings.ONETHING_PUBLIC_URL.rstrip("/") + path


@handlers.register("connector")
def send_to_department(case: Case) -> None:
    """POST the case to the department's system with an idempotency key.

    A 2xx means the department took it up; a 4xx is our mistake and will not get better
    (dead at once, the case needs attention); anything else is retried by the outbox.
    """
    endpoint = DepartmentEndpoint.objects.filter(department=case.department).first()
    if endpoint is None:
        raise PermanentFailure(f"no endpoint configured for department {case.department.code}")
    body = {
        "case": str(case.public_id),
        "reference": case.application.reference,
        "service": case.service.code,
        "data": case_data_for_department(case),
        "outputs": list(case.service.outputs.values_list("element__key", flat=True)),
        "callback_url": callback_url(case),
    }
    response = httpx.post(
        f"{endpoint.base_url.rstrip('/')}/departments/{case.department.code}/cases",
        json=body,
        headers={"Idempotency-Key": f"case:{case.public_id}"},
        timeout=endpoint.timeout_seconds,
    )
    if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
        raise PermanentFailure(f"department refused the case: HTTP {response.status_code}")
    response.raise_for_status()
    external_id = str(response.json().get("external_id", ""))[:100]
    services.case_accept(
        actor=SystemActor(f"connector:{case.department.code}"),
        case=case,
        external_id=external_id,
    )


def dispatch(case_id: int) -> None:
    """Hand a ready case to its handler; anything but a ready case is left alone (idempotent)."""
    case = Case.objects.select_related("application", "service", "department").get(pk=case_id)
    if case.status != CaseStatus.READY:
        return
    handlers[case.handler](case)
