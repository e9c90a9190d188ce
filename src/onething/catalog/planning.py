"""Planning: a thing and the applicant's answers give the plan (办理方案 / 一次性告知).

The same plan drives the one-time notification, the form, the checklist, routing and the
supervision figures, so they never disagree. Pure: no Django import; the catalog arrives as the
validated definition models of `catalog.schema`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from onething.catalog import conditions
from onething.catalog.schema import (
    DataElementDef,
    DepartmentDef,
    MaterialDef,
    QuestionDef,
    QuestionType,
    ServiceDef,
    ThingDef,
)


@dataclass(frozen=True)
class ThingBundle:
    """A thing with every catalog record its plan can touch."""

    thing: ThingDef
    services: Mapping[str, ServiceDef]
    departments: Mapping[str, DepartmentDef]
    materials: Mapping[str, MaterialDef]
    elements: Mapping[str, DataElementDef]


# ---------------------------------------------------------------------------------------------
# Answers


class AnswerRule(StrEnum):
    REQUIRED = "required"
    UNKNOWN_QUESTION = "unknown_question"
    NOT_YES_NO = "not_yes_no"
    NOT_AN_OPTION = "not_an_option"
    NOT_A_NUMBER = "not_a_number"
    BELOW_MIN = "below_min"
    ABOVE_MAX = "above_max"


@dataclass(frozen=True)
class AnswerProblem:
    """One wrong answer: which question, which rule, and what would be allowed."""

    question: str
    rule: AnswerRule
    allowed: tuple[str, ...] = ()
    limit: Decimal | None = None


class AnswerErrors(ValueError):
    def __init__(self, problems: list[AnswerProblem]) -> None:
        super().__init__("; ".join(f"{p.question}: {p.rule.value}" for p in problems))
        self.problems = problems


# Bounds for a number question that declares none: no real situation needs more, and a
# `1e999999` must not turn into a million-digit integer further down.
NUMBER_LIMIT = Decimal(10) ** 12

YES_WORDS = {"yes", "true", "1", "y", "on", "是", "有"}
NO_WORDS = {"no", "false", "0", "n", "off", "否", "无", "没有"}


def normalize_answers(questions: list[QuestionDef], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Check every answer against its question and return them typed; raise with every problem.

    Yes/no answers become booleans, numbers become Decimals, choices stay option values.
    A question with a default may be left out.
    """
    problems: list[AnswerProblem] = []
    known = {q.key for q in questions}
    problems.extend(
        AnswerProblem(key, AnswerRule.UNKNOWN_QUESTION, tuple(sorted(known)))
        for key in answers
        if key not in known
    )
    normalized: dict[str, Any] = {}
    for question in questions:
        raw = answers.get(question.key)
        if raw is None or raw == "":
            if question.default is None:
                problems.append(_required(question))
                continue
            raw = question.default
        value, problem = _normalize_one(question, raw)
        if problem:
            problems.append(problem)
        else:
            normalized[question.key] = value
    if problems:
        raise AnswerErrors(problems)
    return normalized


def _required(question: QuestionDef) -> AnswerProblem:
    return AnswerProblem(question.key, AnswerRule.REQUIRED, _allowed(question))


def _allowed(question: QuestionDef) -> tuple[str, ...]:
    if question.type == QuestionType.CHOICE:
        return tuple(o.value for o in question.options)
    if question.type == QuestionType.YES_NO:
        return ("yes", "no")
    return ()


def _normalize_one(question: QuestionDef, raw: Any) -> tuple[Any, AnswerProblem | None]:
    if question.type == QuestionType.YES_NO:
        if isinstance(raw, bool):
            return raw, None
        word = str(raw).strip().lower()
        if word in YES_WORDS:
            return True, None
        if word in NO_WORDS:
            return False, None
        return None, AnswerProblem(question.key, AnswerRule.NOT_YES_NO, ("yes", "no"))
    if question.type == QuestionType.CHOICE:
        value = str(raw) if isinstance(raw, str | int) and not isinstance(raw, bool) else None
        if value in {o.value for o in question.options}:
            return value, None
        return None, AnswerProblem(question.key, AnswerRule.NOT_AN_OPTION, _allowed(question))
    return _normalize_number(question, raw)


def _normalize_number(question: QuestionDef, raw: Any) -> tuple[Any, AnswerProblem | None]:
    if isinstance(raw, bool):
        return None, AnswerProblem(question.key, AnswerRule.NOT_A_NUMBER)
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return None, AnswerProblem(question.key, AnswerRule.NOT_A_NUMBER)
    if not value.is_finite():
        return None, AnswerProblem(question.key, AnswerRule.NOT_A_NUMBER)
    low = question.min if question.min is not None else -NUMBER_LIMIT
    high = question.max if question.max is not None else NUMBER_LIMIT
    if value < low:
        return None, AnswerProblem(question.key, AnswerRule.BELOW_MIN, limit=low)
    if value > high:
        return None, AnswerProblem(question.key, AnswerRule.ABOVE_MAX, limit=high)
    return value, None


# ---------------------------------------------------------------------------------------------
# The plan


class Source(StrEnum):
    """How a material or a field reaches the departments."""

    APPLICANT = "applicant"
    SHARING = "sharing"
    CERTIFICATE = "certificate"
    RESULT = "result"  # produced by an earlier member of the same thing


@dataclass(frozen=True)
class PlannedMember:
    service: ServiceDef
    department: DepartmentDef
    stage: int
    after: tuple[str, ...]
    dropped_after: tuple[str, ...]
    start_day: int
    finish_day: int

    @property
    def code(self) -> str:
        return self.service.code


@dataclass(frozen=True)
class FormField:
    element: DataElementDef
    required: bool
    members: tuple[str, ...]
    source: Source = Source.APPLICANT
    produced_by: str | None = None

    @property
    def asked(self) -> bool:
        """Whether the applicant fills it in (not when an earlier member produces it)."""
        return self.source != Source.RESULT


@dataclass(frozen=True)
class PlannedMaterial:
    material: MaterialDef
    required: bool
    deferrable: bool
    members: tuple[str, ...]
    source: Source
    produced_by: str | None = None

    @property
    def from_applicant(self) -> bool:
        return self.source == Source.APPLICANT


@dataclass(frozen=True)
class Reduction:
    """A figure when each member is handled on its own, and as one thing."""

    separately: int
    together: int

    @property
    def saved(self) -> int:
        return self.separately - self.together

    @property
    def percent(self) -> int:
        return round(100 * self.saved / self.separately) if self.separately else 0


@dataclass(frozen=True)
class Reductions:
    materials: Reduction
    fields: Reduction
    days: Reduction
    trips: Reduction


@dataclass(frozen=True)
class Trips:
    online: int = 0
    window: int = 1


@dataclass(frozen=True)
class Plan:
    thing: ThingDef
    answers: Mapping[str, Any]
    members: tuple[PlannedMember, ...]
    excluded: tuple[ServiceDef, ...]
    form: tuple[FormField, ...]
    materials: tuple[PlannedMaterial, ...]
    fee_total: Decimal
    promised_days: int
    trips: Trips
    reductions: Reductions
    stages: tuple[tuple[str, ...], ...] = field(default=())

    def member(self, code: str) -> PlannedMember:
        return next(m for m in self.members if m.code == code)


def plan(bundle: ThingBundle, answers: Mapping[str, Any]) -> Plan:
    """The plan for `answers`; raises AnswerErrors naming every wrong or missing answer."""
    thing = bundle.thing
    typed = normalize_answers(thing.questions, answers)
    included = [m for m in thing.members if conditions.evaluate(m.when, typed)]
    included_codes = {m.service for m in included}
    excluded = tuple(
        bundle.services[m.service] for m in thing.members if m.service not in included_codes
    )

    prerequisites = {m.service: tuple(a for a in m.after if a in included_codes) for m in included}
    stage, start, finish = _schedule(included, prerequisites, bundle.services)
    declared = {m.service: i for i, m in enumerate(thing.members)}
    ordered = sorted(included, key=lambda m: (stage[m.service], declared[m.service]))
    members = tuple(
        PlannedMember(
            service=bundle.services[m.service],
            department=bundle.departments[bundle.services[m.service].department],
            stage=stage[m.service],
            after=prerequisites[m.service],
            dropped_after=tuple(a for a in m.after if a not in included_codes),
            start_day=start[m.service],
            finish_day=finish[m.service],
        )
        for m in ordered
    )
    ancestors = _ancestors(prerequisites)
    form = _merged_form(members, bundle, ancestors)
    materials = _merged_materials(members, bundle, ancestors)
    stage_count = max(stage.values(), default=0)
    stages = tuple(
        tuple(m.code for m in members if m.stage == n) for n in range(1, stage_count + 1)
    )
    promised_days = max(finish.values(), default=0)
    services = [m.service for m in members]
    reductions = Reductions(
        materials=Reduction(
            separately=sum(len(s.materials) for s in services),
            together=sum(1 for m in materials if m.from_applicant),
        ),
        fields=Reduction(
            separately=sum(len(s.fields) for s in services),
            together=sum(1 for f in form if f.asked),
        ),
        days=Reduction(separately=sum(s.promised_days for s in services), together=promised_days),
        trips=Reduction(
            separately=sum(s.counter_visits for s in services), together=1 if services else 0
        ),
    )
    return Plan(
        thing=thing,
        answers=typed,
        members=members,
        excluded=excluded,
        form=form,
        materials=materials,
        fee_total=sum((s.fee for s in services), Decimal("0")),
        promised_days=promised_days,
        trips=Trips(online=0, window=1 if services else 0),
        reductions=reductions,
        stages=stages,
    )


def promised_days_at_most(bundle: ThingBundle) -> int:
    """The longest promise the thing can make: the critical path in working days when every
    member service applies (answers can only leave services out, never make the path longer)."""
    members = list(bundle.thing.members)
    codes = {m.service for m in members}
    prerequisites = {m.service: tuple(a for a in m.after if a in codes) for m in members}
    _stage, _start, finish = _schedule(members, prerequisites, bundle.services)
    return max(finish.values(), default=0)


def _schedule(
    included: list, prerequisites: Mapping[str, tuple[str, ...]], services: Mapping[str, ServiceDef]
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Stage (1-based level in the DAG), start and finish working day of each member.

    A member starts when its last prerequisite finishes; the whole takes the longest path.
    """
    stage: dict[str, int] = {}
    start: dict[str, int] = {}
    finish: dict[str, int] = {}
    pending = [m.service for m in included]
    while pending:
        progressed = False
        for code in list(pending):
            before = prerequisites[code]
            if all(b in finish for b in before):
                stage[code] = 1 + max((stage[b] for b in before), default=0)
                start[code] = max((finish[b] for b in before), default=0)
                finish[code] = start[code] + services[code].promised_days
                pending.remove(code)
                progressed = True
        if not progressed:
            # The loader refuses cycles; a catalog edited around it must not hang planning.
            raise ValueError(f"cycle in 'after' among {sorted(pending)}")
    return stage, start, finish


def _ancestors(prerequisites: Mapping[str, tuple[str, ...]]) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}

    def visit(code: str) -> set[str]:
        if code not in result:
            result[code] = set()
            for before in prerequisites[code]:
                result[code] |= {before} | visit(before)
        return result[code]

    for code in prerequisites:
        visit(code)
    return result


def _producer(
    needed_by: tuple[str, ...], candidates: list[str], ancestors: Mapping[str, set[str]]
) -> str | None:
    """The member that produces a value before every member needing it, if one does."""
    for code in candidates:
        if all(code in ancestors[n] for n in needed_by):
            return code
    return None


def _merged_form(
    members: tuple[PlannedMember, ...], bundle: ThingBundle, ancestors: Mapping[str, set[str]]
) -> tuple[FormField, ...]:
    needs: dict[str, list[str]] = {}
    required: dict[str, bool] = {}
    for member in members:
        for service_field in member.service.fields:
            needs.setdefault(service_field.element, []).append(member.code)
            required[service_field.element] = (
                required.get(service_field.element, False) or service_field.required
            )
    outputs: dict[str, list[str]] = {}
    for member in members:
        for output in member.service.outputs:
            outputs.setdefault(output.element, []).append(member.code)
    form = []
    for key, needed_by in needs.items():
        producer = _producer(tuple(needed_by), outputs.get(key, []), ancestors)
        form.append(
            FormField(
                element=bundle.elements[key],
                required=required[key],
                members=tuple(needed_by),
                source=Source.RESULT if producer else Source.APPLICANT,
                produced_by=producer,
            )
        )
    return tuple(form)


def _merged_materials(
    members: tuple[PlannedMember, ...], bundle: ThingBundle, ancestors: Mapping[str, set[str]]
) -> tuple[PlannedMaterial, ...]:
    needs: dict[str, list[str]] = {}
    required: dict[str, bool] = {}
    deferrable: dict[str, bool] = {}
    for member in members:
        for item in member.service.materials:
            needs.setdefault(item.material, []).append(member.code)
            required[item.material] = required.get(item.material, False) or item.required
            deferrable[item.material] = deferrable.get(item.material, True) and item.deferrable
    certificate_producers: dict[str, list[str]] = {}
    for member in members:
        if member.service.result_certificate_type:
            certificate_producers.setdefault(member.service.result_certificate_type, []).append(
                member.code
            )
    planned = []
    for code, needed_by in needs.items():
        material = bundle.materials[code]
        producer = None
        if material.certificate_type:
            producer = _producer(
                tuple(needed_by),
                certificate_producers.get(material.certificate_type, []),
                ancestors,
            )
        planned.append(
            PlannedMaterial(
                material=material,
                required=required[code],
                deferrable=deferrable[code],
                members=tuple(needed_by),
                source=Source.RESULT if producer else Source(material.source.value),
                produced_by=producer,
            )
        )
    return tuple(planned)
