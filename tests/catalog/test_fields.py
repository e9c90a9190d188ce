"""Form values are checked against their data elements; every wrong field is named."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric, uscc

from onething.catalog.fields import FieldSpec, check_form, check_value
from onething.catalog.schema import DataElementDef

TODAY = date(2026, 11, 27)
T = {"zh": "名", "en": "name"}


def element(key="x.y", **extra) -> DataElementDef:
    return DataElementDef.model_validate({"key": key, "label": T, "type": "string", **extra})


def valid_ric(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


MOTHER_ID = valid_ric("35020319900307123")
COMPANY = "91350200MA2Y12345"
COMPANY_ID = COMPANY + uscc.calc_check_digit(COMPANY)


@pytest.mark.parametrize(
    ("spec", "raw", "expected"),
    [
        ({"validator": "cn_ric"}, MOTHER_ID.lower(), MOTHER_ID),
        ({"validator": "cn_uscc"}, COMPANY_ID, COMPANY_ID),
        ({"validator": "phone"}, "138 0013 8000", "13800138000"),
        ({"validator": "phone"}, "0592-1234567", "0592-1234567"),
        ({"validator": "bank_card"}, "6222 0200 0000 0000 018", "6222020000000000018"),
        ({"validator": "postcode"}, "361000", "361000"),
        ({"validator": "email"}, "li@example.cn", "li@example.cn"),
        ({"type": "date"}, "2026-01-02", "2026-01-02"),
        ({"type": "integer", "min": 0}, "3200", 3200),
        ({"type": "decimal"}, "12.50", "12.50"),
        ({"type": "boolean"}, "yes", True),
        ({"type": "choice", "options": [{"value": "male", "label": T}]}, "male", "male"),
    ],
)
def test_good_values_are_cleaned(spec, raw, expected):
    value, problem = check_value(element(**spec), raw, TODAY)
    assert problem is None
    assert value == expected


@pytest.mark.parametrize(
    ("spec", "raw", "rule"),
    [
        (
            {"validator": "cn_ric"},
            MOTHER_ID[:-1] + ("0" if MOTHER_ID[-1] != "0" else "1"),
            "check_digit",
        ),
        ({"validator": "cn_ric"}, "3502031990", "wrong_length"),
        ({"validator": "cn_ric"}, "35020330000307123X", "bad_format"),
        (
            {"validator": "cn_uscc"},
            COMPANY_ID[:-1] + ("0" if COMPANY_ID[-1] != "0" else "1"),
            "check_digit",
        ),
        ({"validator": "phone"}, "12345", "phone_format"),
        ({"validator": "bank_card"}, "6222020000000000019", "check_digit"),
        ({"validator": "email"}, "not-an-address", "email_format"),
        ({"type": "date"}, "2026-02-30", "not_a_date"),
        ({"type": "date", "past_only": True}, "2027-01-01", "in_the_future"),
        ({"type": "integer", "min": 500}, "499", "below_min"),
        ({"type": "integer"}, "1.5", "not_a_whole_number"),
        ({"type": "integer"}, "1e99", "not_a_number"),
        ({"type": "decimal"}, "NaN", "not_a_number"),
        ({"type": "boolean"}, "perhaps", "not_yes_no"),
        ({"type": "choice", "options": [{"value": "male", "label": T}]}, "x", "not_an_option"),
        ({}, "x" * 201, "too_long"),
        ({}, ["a", "list"], "not_text"),
    ],
)
def test_bad_values_name_the_rule(spec, raw, rule):
    value, problem = check_value(element(**spec), raw, TODAY)
    assert value is None
    assert problem.rule == rule


def test_every_wrong_field_is_reported_at_once_and_drafts_may_be_incomplete():
    specs = [
        FieldSpec(element("mother.id_number", validator="cn_ric"), required=True),
        FieldSpec(element("applicant.phone", validator="phone"), required=True),
        FieldSpec(element("child.name"), required=True),
        FieldSpec(element("father.name"), required=False),
    ]
    values = {"mother.id_number": "123", "applicant.phone": "x", "father.name": ""}
    clean, problems = check_form(specs, values, TODAY)
    assert {k: p.rule for k, p in problems.items()} == {
        "mother.id_number": "wrong_length",
        "applicant.phone": "phone_format",
        "child.name": "required",
    }
    _, draft_problems = check_form(specs, values, TODAY, partial=True)
    assert "child.name" not in draft_problems
    assert clean == {}


def test_a_child_cannot_be_born_before_the_mother():
    specs = [
        FieldSpec(element("mother.id_number", validator="cn_ric"), required=True),
        FieldSpec(element("child.birth_date", type="date", past_only=True), required=True),
    ]
    rules = ["child_born_after_mother"]
    _clean, problems = check_form(
        specs, {"mother.id_number": MOTHER_ID, "child.birth_date": "2026-11-01"}, TODAY, rules
    )
    assert problems == {}
    _, problems = check_form(
        specs, {"mother.id_number": MOTHER_ID, "child.birth_date": "1989-01-01"}, TODAY, rules
    )
    assert problems["child.birth_date"].rule == "before_mother_birth"
    _, problems = check_form(
        specs, {"mother.id_number": MOTHER_ID, "child.birth_date": "2027-01-01"}, TODAY, rules
    )
    assert problems["child.birth_date"].rule == "in_the_future"
