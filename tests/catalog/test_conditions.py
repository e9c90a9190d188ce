from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.catalog.conditions import ConditionError, check, comparisons, evaluate, variables

ANSWERS = {"area": Decimal("120"), "insured": True, "cause": "natural", "change": "name"}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (True, True),
        (False, False),
        ({"var": "insured"}, True),
        ({"!": {"var": "insured"}}, False),
        ({">": [{"var": "area"}, 50]}, True),
        ({">": [{"var": "area"}, 500]}, False),
        ({"<=": [{"var": "area"}, 120]}, True),
        ({">=": [{"var": "area"}, 120.5]}, False),
        ({"==": [{"var": "cause"}, "natural"]}, True),
        ({"!=": [{"var": "cause"}, "natural"]}, False),
        ({"in": [{"var": "change"}, ["name", "address"]]}, True),
        ({"in": [{"var": "change"}, ["scope"]]}, False),
        ({"and": [{"var": "insured"}, {">": [{"var": "area"}, 100]}]}, True),
        ({"or": [{"!": {"var": "insured"}}, {"==": [{"var": "cause"}, "other"]}]}, False),
        # Comparing across types is false, never an error.
        ({">": [{"var": "cause"}, 5]}, False),
        ({"==": [{"var": "insured"}, 1]}, False),
        ({"==": [{"var": "missing"}, "x"]}, False),
    ],
)
def test_conditions_evaluate(condition, expected):
    assert evaluate(condition, ANSWERS) is expected


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"exec": "1"}, "unknown operator 'exec'"),
        ({">": [1]}, "'>' takes 2 arguments, got 1"),
        ({"and": []}, "'and' needs at least one argument"),
        ({"var": "a", "==": [1, 1]}, "exactly one operator"),
    ],
)
def test_malformed_conditions_are_refused(condition, message):
    with pytest.raises(ConditionError, match=message):
        check(condition)


def test_variables_and_comparisons_are_found_for_load_time_checks():
    condition = {"and": [{"var": "insured"}, {"in": [{"var": "change"}, ["name", "scope"]]}]}
    assert [name for name, _ in variables(condition)] == ["insured", "change"]
    (found,) = comparisons(condition)
    assert (found.question, found.values) == ("change", ("name", "scope"))


@given(st.decimals(allow_nan=False, allow_infinity=False), st.integers(-1000, 1000))
def test_number_comparisons_agree_with_python(area, threshold):
    answers = {"area": area}
    assert evaluate({">": [{"var": "area"}, threshold]}, answers) is (area > threshold)
    assert evaluate({"<=": [{"var": "area"}, threshold]}, answers) is (area <= threshold)
