"""Planning is pure: these tests build catalogs in memory and need no database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onething.catalog.planning import (
    AnswerErrors,
    AnswerRule,
    Source,
    ThingBundle,
    normalize_answers,
    plan,
    promised_days_at_most,
)
from onething.catalog.schema import (
    DataElementDef,
    DepartmentDef,
    MaterialDef,
    QuestionDef,
    ServiceDef,
    ThingDef,
)


def text(word: str) -> dict:
    return {"zh": word, "en": word}


def service(
    code: str, *, days: int = 3, fields=(), materials=(), outputs=(), **extra
) -> ServiceDef:
    return ServiceDef.model_validate(
        {
            "code": code,
            "name": text(code),
            "department": extra.pop("department", "dept"),
            "kind": "licence",
            "legal_basis": text("law"),
            "statutory_days": max(days, 20),
            "promised_days": days,
            "fields": [{"element": f} if isinstance(f, str) else f for f in fields],
            "materials": [{"material": m} if isinstance(m, str) else m for m in materials],
            "outputs": [{"element": o} for o in outputs],
            **extra,
        }
    )


def bundle(
    members: list[dict], services: list[ServiceDef], questions=(), materials=()
) -> ThingBundle:
    thing = ThingDef.model_validate(
        {
            "code": "sample",
            "name": text("sample"),
            "audience": "person",
            "category": text("birth"),
            "lead_department": "dept",
            "summary": text("sample"),
            "questions": list(questions),
            "members": members,
        }
    )
    elements = {
        key: DataElementDef.model_validate({"key": key, "label": text(key), "type": "string"})
        for s in services
        for key in [f.element for f in s.fields] + [o.element for o in s.outputs]
    }
    material_defs = {
        m["code"]: MaterialDef.model_validate({"name": text(m["code"]), "kind": "copy", **m})
        for m in materials
    }
    for s in services:
        for item in s.materials:
            material_defs.setdefault(
                item.material,
                MaterialDef.model_validate(
                    {"code": item.material, "name": text(item.material), "kind": "copy"}
                ),
            )
    department = DepartmentDef.model_validate(
        {"code": "dept", "name": text("dept"), "region": "350000"}
    )
    return ThingBundle(
        thing=thing,
        services={s.code: s for s in services},
        departments={"dept": department},
        materials=material_defs,
        elements=elements,
    )


YES_NO = {"key": "insured", "type": "yes_no", "label": text("insured?")}
AREA = {"key": "area", "type": "number", "label": text("area"), "min": 0, "max": 100000}
CAUSE = {
    "key": "cause",
    "type": "choice",
    "label": text("cause"),
    "options": [{"value": "natural", "label": text("n")}, {"value": "other", "label": text("o")}],
}


# --- answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "raw", "expected"),
    [
        (YES_NO, True, True),
        (YES_NO, "yes", True),
        (YES_NO, "no", False),
        (YES_NO, "false", False),
        (AREA, "120.5", Decimal("120.5")),
        (AREA, 60, Decimal(60)),
        (CAUSE, "natural", "natural"),
    ],
)
def test_answers_are_typed(question, raw, expected):
    answers = normalize_answers([QuestionDef.model_validate(question)], {question["key"]: raw})
    assert answers[question["key"]] == expected


@pytest.mark.parametrize(
    ("question", "raw", "rule"),
    [
        (YES_NO, None, AnswerRule.REQUIRED),
        (YES_NO, "maybe", AnswerRule.NOT_YES_NO),
        (AREA, "big", AnswerRule.NOT_A_NUMBER),
        (AREA, True, AnswerRule.NOT_A_NUMBER),
        (AREA, "NaN", AnswerRule.NOT_A_NUMBER),
        (AREA, -1, AnswerRule.BELOW_MIN),
        (AREA, 100001, AnswerRule.ABOVE_MAX),
        ({**AREA, "max": None}, "1e999999", AnswerRule.ABOVE_MAX),
        ({**AREA, "min": None}, "-1e20", AnswerRule.BELOW_MIN),
        (CAUSE, "accident", AnswerRule.NOT_AN_OPTION),
        (CAUSE, True, AnswerRule.NOT_AN_OPTION),
    ],
)
def test_a_wrong_answer_names_the_question_and_the_rule(question, raw, rule):
    with pytest.raises(AnswerErrors) as caught:
        normalize_answers([QuestionDef.model_validate(question)], {question["key"]: raw})
    (problem,) = caught.value.problems
    assert (problem.question, problem.rule) == (question["key"], rule)


def test_every_wrong_answer_is_reported_at_once():
    questions = [QuestionDef.model_validate(q) for q in (YES_NO, AREA, CAUSE)]
    with pytest.raises(AnswerErrors) as caught:
        normalize_answers(questions, {"area": "x", "cause": "zzz", "colour": "red"})
    found = {(p.question, p.rule) for p in caught.value.problems}
    assert found == {
        ("colour", AnswerRule.UNKNOWN_QUESTION),
        ("insured", AnswerRule.REQUIRED),
        ("area", AnswerRule.NOT_A_NUMBER),
        ("cause", AnswerRule.NOT_AN_OPTION),
    }
    choice = next(p for p in caught.value.problems if p.question == "cause")
    assert choice.allowed == ("natural", "other")


def test_a_question_with_a_default_may_be_left_out():
    question = QuestionDef.model_validate({**YES_NO, "default": False})
    assert normalize_answers([question], {}) == {"insured": False}


# --- members, order and stages -----------------------------------------------------------------


def newborn_like() -> ThingBundle:
    services = [
        service(
            "birth",
            days=2,
            fields=["mother.id", "child.name"],
            materials=["mother_card"],
            outputs=["child.birth_no"],
            result_certificate_type="birth_cert",
        ),
        service("vaccine", days=1, fields=["child.name"]),
        service(
            "hukou",
            days=3,
            fields=["mother.id", "child.birth_no"],
            materials=["mother_card", "birth_paper"],
        ),
        service("insurance", days=2, fields=["mother.id", "child.name"]),
        service("card", days=5, fields=["child.name"], materials=["photo"]),
        service("benefit", days=4, fields=["mother.id", "bank.account"], materials=["bank_card"]),
    ]
    members = [
        {"service": "birth"},
        {"service": "vaccine"},
        {"service": "hukou", "after": ["birth"]},
        {"service": "insurance", "after": ["hukou"]},
        {"service": "card", "after": ["hukou"]},
        {"service": "benefit", "when": {"var": "insured"}, "after": ["birth"]},
    ]
    materials = [
        {"code": "birth_paper", "source": "certificate", "certificate_type": "birth_cert"},
        {"code": "mother_card", "source": "certificate", "certificate_type": "id_card"},
        {"code": "bank_card"},
        {"code": "photo"},
    ]
    return bundle(members, services, [YES_NO], materials)


def test_members_are_staged_by_their_dependencies():
    result = plan(newborn_like(), {"insured": True})
    assert result.stages == (("birth", "vaccine"), ("hukou", "benefit"), ("insurance", "card"))
    assert result.member("card").after == ("hukou",)


def test_a_member_is_excluded_when_its_condition_fails():
    result = plan(newborn_like(), {"insured": False})
    assert [m.code for m in result.members] == ["birth", "vaccine", "hukou", "insurance", "card"]
    assert [s.code for s in result.excluded] == ["benefit"]


def test_a_dependency_on_an_excluded_member_is_dropped():
    services = [service("natural", days=1), service("police", days=2), service("cremation")]
    members = [
        {"service": "natural", "when": {"==": [{"var": "cause"}, "natural"]}},
        {"service": "police", "when": {"!=": [{"var": "cause"}, "natural"]}},
        {"service": "cremation", "after": ["natural", "police"]},
    ]
    result = plan(bundle(members, services, [CAUSE]), {"cause": "natural"})
    cremation = result.member("cremation")
    assert cremation.after == ("natural",)
    assert cremation.dropped_after == ("police",)
    assert cremation.stage == 2


def test_promised_days_follow_the_critical_path_not_the_sum():
    result = plan(newborn_like(), {"insured": True})
    # birth 2 -> hukou 3 -> card 5 is the longest chain; benefit (2+4) finishes earlier.
    assert result.promised_days == 10
    assert result.reductions.days.separately == 2 + 1 + 3 + 2 + 5 + 4
    assert result.reductions.days.together == 10


def test_the_longest_promise_counts_every_member_whatever_the_answers():
    # birth 2 -> hukou 3 -> card 5; the conditional benefit (2 + 4) does not lengthen it.
    assert promised_days_at_most(newborn_like()) == 10
    services = [service("a", days=1), service("b", days=7)]
    members = [{"service": "a"}, {"service": "b", "when": {"var": "insured"}, "after": ["a"]}]
    assert promised_days_at_most(bundle(members, services, [YES_NO])) == 8


# --- the merged form and materials ------------------------------------------------------------


def test_the_form_has_one_field_per_data_element_with_who_needs_it():
    result = plan(newborn_like(), {"insured": True})
    keys = [f.element.key for f in result.form]
    assert len(keys) == len(set(keys))
    mother = next(f for f in result.form if f.element.key == "mother.id")
    assert mother.members == ("birth", "hukou", "benefit", "insurance")


def test_a_field_produced_by_an_earlier_member_is_not_asked():
    result = plan(newborn_like(), {"insured": False})
    birth_no = next(f for f in result.form if f.element.key == "child.birth_no")
    assert (birth_no.source, birth_no.produced_by, birth_no.asked) == (
        Source.RESULT,
        "birth",
        False,
    )
    assert result.reductions.fields.together == len(result.form) - 1


def test_materials_are_merged_and_marked_with_their_source():
    result = plan(newborn_like(), {"insured": True})
    by_code = {m.material.code: m for m in result.materials}
    assert len(by_code) == len(result.materials)
    assert by_code["mother_card"].members == ("birth", "hukou")
    assert by_code["mother_card"].source == Source.CERTIFICATE
    assert (by_code["birth_paper"].source, by_code["birth_paper"].produced_by) == (
        Source.RESULT,
        "birth",
    )
    assert by_code["bank_card"].source == Source.APPLICANT
    # Separately: birth 1, hukou 2, card 1, benefit 1; together the applicant brings 2.
    assert (result.reductions.materials.separately, result.reductions.materials.together) == (5, 2)


def test_a_material_is_deferrable_only_if_every_member_allows_it():
    services = [
        service("a", materials=[{"material": "lease", "deferrable": True}]),
        service("b", materials=[{"material": "lease", "deferrable": False}]),
        service("c", materials=[{"material": "plan", "deferrable": True}]),
    ]
    result = plan(bundle([{"service": c} for c in "abc"], services), {})
    by_code = {m.material.code: m for m in result.materials}
    assert by_code["lease"].deferrable is False
    assert by_code["plan"].deferrable is True


def test_fees_and_trips():
    services = [
        service("register", fee="80", counter_visits=2),
        service("tax", counter_visits=1),
        service("water", counter_visits=1),
    ]
    result = plan(bundle([{"service": c} for c in ("register", "tax", "water")], services), {})
    assert result.fee_total == Decimal("80")
    assert (result.trips.online, result.trips.window) == (0, 1)
    assert (result.reductions.trips.separately, result.reductions.trips.saved) == (4, 3)


# --- properties over random catalogs ----------------------------------------------------------


@st.composite
def random_things(draw):
    """A random DAG of members with random conditions over three yes/no questions."""
    count = draw(st.integers(min_value=1, max_value=9))
    codes = [f"s{i}" for i in range(count)]
    element_pool = [f"e.f{i}" for i in range(6)]
    material_pool = [f"m{i}" for i in range(5)]
    services, members = [], []
    for i, code in enumerate(codes):
        after = draw(st.lists(st.sampled_from(codes[:i]), unique=True)) if i else []
        when = draw(
            st.one_of(
                st.just(True),
                st.sampled_from(["q0", "q1", "q2"]).map(lambda q: {"var": q}),
                st.sampled_from(["q0", "q1", "q2"]).map(lambda q: {"!": {"var": q}}),
            )
        )
        services.append(
            service(
                code,
                days=draw(st.integers(min_value=0, max_value=15)),
                fields=draw(st.lists(st.sampled_from(element_pool), unique=True)),
                materials=draw(st.lists(st.sampled_from(material_pool), unique=True)),
            )
        )
        members.append({"service": code, "when": when, "after": after})
    questions = [{"key": f"q{i}", "type": "yes_no", "label": text("q")} for i in range(3)]
    answers = {f"q{i}": draw(st.booleans()) for i in range(3)}
    return bundle(members, services, questions), answers


def _holds(when, answers) -> bool:
    if when is True:
        return True
    if "!" in when:
        return not answers[when["!"]["var"]]
    return answers[when["var"]]


@settings(max_examples=200, deadline=None)
@given(random_things())
def test_properties_of_every_plan(case):
    thing_bundle, answers = case
    result = plan(thing_bundle, answers)
    included = {m.code for m in result.members}
    # A member is included exactly when its condition holds.
    for member in thing_bundle.thing.members:
        assert (member.service in included) == _holds(member.when, answers)
    # The order respects `after`: every prerequisite comes earlier, in an earlier stage.
    position = {m.code: i for i, m in enumerate(result.members)}
    for member in result.members:
        for before in member.after:
            assert position[before] < position[member.code]
            assert result.member(before).stage < member.stage
    # Stages partition the members.
    assert sorted(c for stage in result.stages for c in stage) == sorted(included)
    # One field per data element; no duplicate materials.
    keys = [f.element.key for f in result.form]
    assert len(keys) == len(set(keys))
    codes = [m.material.code for m in result.materials]
    assert len(codes) == len(set(codes))
    # Promised days equal the longest path through the included DAG.
    assert result.promised_days == _longest_path(result)
    assert result.reductions.days.together <= result.reductions.days.separately
    # No answers promise more than the longest promise of the thing.
    assert result.promised_days <= promised_days_at_most(thing_bundle)


def _longest_path(result) -> int:
    memo: dict[str, int] = {}

    def finish(code: str) -> int:
        if code not in memo:
            member = result.member(code)
            memo[code] = member.service.promised_days + max(
                (finish(b) for b in member.after), default=0
            )
        return memo[code]

    return max((finish(m.code) for m in result.members), default=0)
