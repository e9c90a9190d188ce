"""A plan as plain data in one language, for the API, the pages and the command line."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from onething.catalog.models import in_language
from onething.catalog.planning import AnswerProblem, AnswerRule, Plan
from onething.catalog.schema import QuestionDef, Text


def pick(text: Text | None, language: str | None = None) -> str:
    """The text in `language` (default: the active one); Chinese unless English is asked."""
    return "" if text is None else in_language(text.zh, text.en, language)


def money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def json_number(value: Any) -> Any:
    """A Decimal for JSON: an integer when whole, else its exact text (a float would round)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


def plan_as_dict(plan: Plan, language: str | None = None) -> dict[str, Any]:
    def t(text: Text | None) -> str:
        return pick(text, language)

    names = {m.code: t(m.service.name) for m in plan.members}
    reductions = {
        name: {
            "separately": r.separately,
            "together": r.together,
            "saved": r.saved,
            "percent": r.percent,
        }
        for name, r in (
            ("materials", plan.reductions.materials),
            ("fields", plan.reductions.fields),
            ("days", plan.reductions.days),
            ("trips", plan.reductions.trips),
        )
    }
    return {
        "thing": {
            "code": plan.thing.code,
            "name": t(plan.thing.name),
            "audience": plan.thing.audience.value,
            "summary": t(plan.thing.summary),
        },
        "answers": {k: json_number(v) for k, v in plan.answers.items()},
        "members": [
            {
                "service": m.code,
                "name": names[m.code],
                "department": {"code": m.department.code, "name": t(m.department.name)},
                "kind": m.service.kind.value,
                "stage": m.stage,
                "after": list(m.after),
                "promised_days": m.service.promised_days,
                "statutory_days": m.service.statutory_days,
                "start_day": m.start_day,
                "finish_day": m.finish_day,
                "fee": money(m.service.fee),
                "handler": m.service.handler.value,
                "cross_region": m.service.cross_region,
                "result_certificate_type": m.service.result_certificate_type,
                "legal_basis": t(m.service.legal_basis),
            }
            for m in plan.members
        ],
        "excluded": [{"service": s.code, "name": t(s.name)} for s in plan.excluded],
        "stages": [
            {
                "number": number,
                "members": list(codes),
                "days": max((plan.member(c).service.promised_days for c in codes), default=0),
                "finish_day": max((plan.member(c).finish_day for c in codes), default=0),
            }
            for number, codes in enumerate(plan.stages, start=1)
        ],
        "form": [
            {
                "key": f.element.key,
                "label": t(f.element.label),
                "type": f.element.type.value,
                "validator": f.element.validator.value if f.element.validator else None,
                "sensitivity": f.element.sensitivity.value,
                "required": f.required,
                "members": list(f.members),
                "needed_by": [names[c] for c in f.members],
                "source": f.source.value,
                "produced_by": f.produced_by,
            }
            for f in plan.form
        ],
        "materials": [
            {
                "code": pm.material.code,
                "name": t(pm.material.name),
                "kind": pm.material.kind.value,
                "copies": pm.material.copies,
                "required": pm.required,
                "deferrable": pm.deferrable,
                "members": list(pm.members),
                "needed_by": [names[c] for c in pm.members],
                "source": pm.source.value,
                "produced_by": pm.produced_by,
                "certificate_type": pm.material.certificate_type,
                "shared_by": pm.material.shared_by,
            }
            for pm in plan.materials
        ],
        "fees": {
            "currency": "CNY",
            "total": money(plan.fee_total),
            "per_member": [
                {"service": m.code, "name": names[m.code], "fee": money(m.service.fee)}
                for m in plan.members
            ],
        },
        "promised_days": plan.promised_days,
        "trips": {"online": plan.trips.online, "window": plan.trips.window},
        "reductions": reductions,
    }


def answer_problem_message(problem: AnswerProblem, question: QuestionDef | None) -> str:
    """What is wrong with one answer, in the active language, naming what is allowed."""
    label = pick(question.label) if question else problem.question
    allowed = ", ".join(problem.allowed)
    if question is not None and question.options and problem.allowed:
        allowed = ", ".join(f"{o.value} ({pick(o.label)})" for o in question.options)
    messages = {
        AnswerRule.REQUIRED: (
            _("“%(label)s” must be answered: %(allowed)s.") % {"label": label, "allowed": allowed}
            if allowed
            else _("“%(label)s” must be answered.") % {"label": label}
        ),
        AnswerRule.UNKNOWN_QUESTION: _("This thing asks no such question; it asks: %(allowed)s.")
        % {"allowed": allowed},
        AnswerRule.NOT_YES_NO: _("“%(label)s” must be yes or no.") % {"label": label},
        AnswerRule.NOT_AN_OPTION: _("“%(label)s” must be one of: %(allowed)s.")
        % {"label": label, "allowed": allowed},
        AnswerRule.NOT_A_NUMBER: _("“%(label)s” must be a number.") % {"label": label},
        AnswerRule.BELOW_MIN: _("“%(label)s” must be at least %(limit)s.")
        % {"label": label, "limit": json_number(problem.limit)},
        AnswerRule.ABOVE_MAX: _("“%(label)s” must be at most %(limit)s.")
        % {"label": label, "limit": json_number(problem.limit)},
    }
    return messages[problem.rule]


def answer_messages(problems: list[AnswerProblem], questions: list[QuestionDef]) -> dict[str, str]:
    """One message per question key (prefixed `answers.` as the API field path)."""
    by_key = {q.key: q for q in questions}
    return {
        f"answers.{p.question}": answer_problem_message(p, by_key.get(p.question)) for p in problems
    }
