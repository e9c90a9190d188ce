"""好差评 in the demo: a retirement application the pension office refused, rated badly (its
rectification open for the human resources and social security department), and a closed
street-light complaint rated well. Everything goes through the services; seeded once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from stdnum.cn import uscc

from onething.accounts.models import User
from onething.applications import services as applications
from onething.applications.lifecycle import CaseStatus
from onething.catalog.schema import ElementType, Validator
from onething.complaints.models import Ticket
from onething.ratings import services
from onething.ratings.models import Rating

# The smallest valid PNG header the upload check accepts (the demo's scanned material).
DEMO_SCAN = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
DEMO_EMPLOYER_BODY = "91350203MA2Y0RT1X"  # an invented employer's credit code, less its check digit
REFUSAL = "参保缴费记录与档案记载不一致，请补充原始证明后重新申请"
RETIREMENT_ANSWERS = {"retirement_type": "normal", "file_review_needed": False}


def demo_typed_value(element, applicant: User) -> Any:
    """What the applicant would type for a field no register filled in."""
    if element.validator == Validator.CN_RIC:
        return applicant.id_number
    if element.validator == Validator.CN_USCC:
        return DEMO_EMPLOYER_BODY + uscc.calc_check_digit(DEMO_EMPLOYER_BODY)
    if element.validator == Validator.PHONE:
        return applicant.phone or "13906001234"
    if element.validator == Validator.BANK_CARD:
        return "6222020000000000018"
    if element.validator == Validator.POSTCODE:
        return "361000"
    if element.validator == Validator.EMAIL:
        return "demo@example.cn"
    if element.type == ElementType.DATE:
        return timezone.localdate().replace(day=1).isoformat()
    if element.type in (ElementType.INTEGER, ElementType.DECIMAL):
        return str(element.min if element.min is not None else 30)
    if element.type == ElementType.BOOLEAN:
        return True
    if element.type == ElementType.CHOICE:
        return element.options[0].value
    return "演示"


def demo_application_submit(applicant: User, thing_code: str, answers: dict[str, Any]):
    """Start, fill (as the applicant would type it), attach every material and submit an
    application through the services; returns it submitted."""
    application = applications.application_start(
        actor=applicant, thing_code=thing_code, answers=answers
    )
    plan = applications.application_plan(application)
    values = {
        f.element.key: demo_typed_value(f.element, applicant)
        for f in plan.form
        if f.asked and f.element.key not in application.form_data
    }
    applications.application_save_form(actor=applicant, application=application, values=values)
    application.refresh_from_db()
    for item in applications.applicant_materials(plan, application.exemptions):
        applications.application_attach_material(
            actor=applicant,
            application=application,
            material_code=item.material.code,
            name=f"{item.material.code}.png",
            content=DEMO_SCAN,
        )
    return applications.application_submit(actor=applicant, application=application, consent=True)


def _refused_retirement(applicant: User, reviewer: User):
    """Applied for, and refused by the pension office (the medical insurance case waiting on it
    is cancelled): a finished application."""
    application = demo_application_submit(applicant, "retirement", RETIREMENT_ANSWERS)
    for case in application.cases.filter(status=CaseStatus.READY).order_by("position"):
        case = applications.case_accept(actor=reviewer, case=case)
        applications.case_reject(actor=reviewer, case=case, reason=REFUSAL)
    application.refresh_from_db()
    return application


def demo_seed_ratings(*, people: dict[str, User], reviewers: dict[str, User]) -> None:
    """Seed the demo's ratings once (nothing if any rating exists)."""
    if Rating.objects.exists():
        return
    retiree = people["wangxiuying"]
    application = _refused_retirement(retiree, reviewers["fj_hrss"])
    services.rating_submit(
        actor=retiree,
        application=application,
        stars=2,
        reasons=["repeated_trips", "unclear_guidance"],
        comment="窗口没有一次说清楚要带哪些证明，白跑了一趟。",
        departments=[services.DepartmentStars("fj_hrss", 1, ["unclear_guidance"])],
    )
    closed = (
        Ticket.objects.filter(citizen__isnull=False, status="closed")
        .select_related("citizen")
        .order_by("pk")
    )
    for ticket in closed:
        services.rating_submit(
            actor=ticket.citizen,
            ticket=ticket,
            stars=5,
            reasons=["efficient", "friendly"],
            comment="第二天路灯就修好了，谢谢！",
            now=timezone.now() - dt.timedelta(hours=1),
        )
