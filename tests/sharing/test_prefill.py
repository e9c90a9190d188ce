"""What may be read for a form, and from where (pure): deny by default, authoritative first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from onething.sharing.prefill import (
    FetchPlan,
    Grant,
    Outcome,
    Served,
    Source,
    applicable_grants,
    assign,
    fetch_plan,
)

POPULATION = Source(
    "population",
    "table",
    "police",
    True,
    {},
    (
        Served("mother.name", "name", "applicant"),
        Served("father.name", "name", "spouse"),
        Served("household.address", "address", "applicant"),
    ),
)
SELF_DECLARED = Source(
    "survey", "table", "stats", False, {}, (Served("household.address", "addr", "applicant"),)
)


def grant(source, *elements, service=None, thing="newborn"):
    return Grant(f"g-{source}", source, frozenset(elements), "why", "law", service, thing)


def test_an_element_without_a_grant_is_denied_and_not_looked_up():
    plan = fetch_plan(
        ["mother.name", "household.address", "child.name"],
        [POPULATION],
        [grant("population", "mother.name")],
    )
    assert [lk.elements for lk in plan.lookups] == [{"mother.name": "name"}]
    assert plan.denied == {"household.address": ("population",)}
    assert plan.unserved == ("child.name",)


def test_the_authoritative_source_is_asked_before_a_self_declared_one():
    plan = fetch_plan(
        ["household.address"],
        [SELF_DECLARED, POPULATION],
        [grant("population", "household.address"), grant("survey", "household.address")],
    )
    [lookup] = plan.lookups
    assert lookup.source.code == "population"


def test_one_lookup_per_source_and_subject():
    plan = fetch_plan(
        ["mother.name", "father.name", "household.address"],
        [POPULATION],
        [grant("population", "mother.name", "father.name", "household.address")],
    )
    assert sorted((lk.of, tuple(sorted(lk.elements))) for lk in plan.lookups) == [
        ("applicant", ("household.address", "mother.name")),
        ("spouse", ("father.name",)),
    ]


def test_grants_apply_to_their_thing_or_an_included_member_service():
    grants = [
        grant("population", "mother.name"),
        grant("population", "father.name", service="hukou", thing=None),
        grant("population", "household.address", service="other", thing=None),
        grant("population", "mother.name", thing="retirement"),
    ]
    chosen = applicable_grants(grants, thing="newborn", services=["hukou", "birth"])
    assert [g.elements for g in chosen] == [
        frozenset({"mother.name"}),
        frozenset({"father.name"}),
    ]


def test_values_come_with_their_source_and_missing_records_give_nothing():
    plan = fetch_plan(
        ["mother.name", "household.address"],
        [POPULATION],
        [grant("population", "mother.name", "household.address")],
    )
    outcome = Outcome(records={("population", "applicant"): {"name": "林晓燕", "address": ""}})
    values = assign(plan, outcome)
    assert list(values) == ["mother.name"]
    assert values["mother.name"].source == "population"
    assert values["mother.name"].authoritative
    assert assign(plan, Outcome()) == {}


@given(st.sets(st.sampled_from(["mother.name", "father.name", "household.address"])))
def test_nothing_outside_the_grants_is_ever_looked_up(granted):
    plan: FetchPlan = fetch_plan(
        ["mother.name", "father.name", "household.address"],
        [POPULATION],
        [grant("population", *granted)] if granted else [],
    )
    assert plan.elements() == frozenset(granted)
    assert set(plan.denied) == {"mother.name", "father.name", "household.address"} - granted
