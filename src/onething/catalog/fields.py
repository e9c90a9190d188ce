"""Checking form values against their data elements, and the named cross-field rules.

Pure: no Django import. Problems come back as (rule, params) so the shell can word them in the
user's language; every wrong field is reported at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from onething.catalog.schema import DataElementDef, ElementType, Validator

PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
POSTCODE = re.compile(r"^\d{6}$")
MAX_TEXT = {ElementType.STRING: 200, ElementType.TEXT: 2000}


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one field: a rule name and what the message needs."""

    rule: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldSpec:
    element: DataElementDef
    required: bool


def check_value(element: DataElementDef, raw: Any, today: date) -> tuple[Any, FieldProblem | None]:
    """The typed value (JSON-ready: dates as ISO text, decimals as text) or the problem."""
    if isinstance(raw, str):
        raw = raw.strip()
    kind = element.type
    if kind in (ElementType.STRING, ElementType.TEXT):
        if not isinstance(raw, str):
            return None, FieldProblem("not_text")
        if len(raw) > MAX_TEXT[kind]:
            return None, FieldProblem("too_long", {"max": MAX_TEXT[kind]})
        return _check_validator(element.validator, raw, today)
    if kind == ElementType.DATE:
        try:
            value = date.fromisoformat(str(raw))
        except ValueError:
            return None, FieldProblem("not_a_date")
        if element.past_only and value > today:
            return None, FieldProblem("in_the_future")
        return value.isoformat(), None
    if kind in (ElementType.INTEGER, ElementType.DECIMAL):
        return _check_number(element, raw)
    if kind == ElementType.BOOLEAN:
        if isinstance(raw, bool):
            return raw, None
        word = str(raw).lower()
        if word in {"true", "yes", "1", "on"}:
            return True, None
        if word in {"false", "no", "0", "off"}:
            return False, None
        return None, FieldProblem("not_yes_no")
    options = [o.value for o in element.options]
    if raw not in options:
        return None, FieldProblem("not_an_option", {"allowed": options})
    return raw, None


def _check_number(element: DataElementDef, raw: Any) -> tuple[Any, FieldProblem | None]:
    if isinstance(raw, bool):
        return None, FieldProblem("not_a_number")
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return None, FieldProblem("not_a_number")
    if not value.is_finite() or abs(value) >= Decimal(10) ** 12:
        return None, FieldProblem("not_a_number")
    if element.type == ElementType.INTEGER and value != value.to_integral_value():
        return None, FieldProblem("not_a_whole_number")
    if element.min is not None and value < element.min:
        return None, FieldProblem("below_min", {"limit": element.min})
    if element.max is not None and value > element.max:
        return None, FieldProblem("above_max", {"limit": element.max})
    return (int(value) if element.type == ElementType.INTEGER else str(value)), None


def _check_validator(
    validator: Validator | None, value: str, today: date
) -> tuple[Any, FieldProblem | None]:
    if validator is None:
        return value, None
    if validator == Validator.CN_RIC:
        return _check_stdnum(ric, value.upper(), today)
    if validator == Validator.CN_USCC:
        return _check_stdnum(uscc, value.upper(), today)
    if validator == Validator.BANK_CARD:
        digits = value.replace(" ", "")
        if not (digits.isascii() and digits.isdecimal()) or not 12 <= len(digits) <= 19:
            return None, FieldProblem("bank_card_format")
        if not luhn.is_valid(digits):
            return None, FieldProblem("check_digit")
        return digits, None
    pattern, rule = {
        Validator.PHONE: (PHONE, "phone_format"),
        Validator.EMAIL: (EMAIL, "email_format"),
        Validator.POSTCODE: (POSTCODE, "postcode_format"),
    }[validator]
    compact = value.replace(" ", "") if validator != Validator.EMAIL else value
    if not pattern.match(compact):
        return None, FieldProblem(rule)
    return compact, None


def _check_stdnum(module, value: str, today: date) -> tuple[Any, FieldProblem | None]:
    try:
        compact = module.validate(value)
    except InvalidChecksum:
        return None, FieldProblem("check_digit")
    except InvalidLength:
        return None, FieldProblem("wrong_length", {"length": 18})
    except (InvalidFormat, InvalidComponent):
        return None, FieldProblem("bad_format")
    if module is ric and ric.get_birth_date(compact) > today:
        return None, FieldProblem("bad_format")
    return compact, None


def check_form(
    specs: Iterable[FieldSpec],
    values: Mapping[str, Any],
    today: date,
    rules: Iterable[str] = (),
    partial: bool = False,
) -> tuple[dict[str, Any], dict[str, FieldProblem]]:
    """Check every field, then the named cross-field rules; return clean values and problems.

    With `partial`, missing required fields are not problems (a draft being filled in).
    """
    clean: dict[str, Any] = {}
    problems: dict[str, FieldProblem] = {}
    for spec in specs:
        key = spec.element.key
        raw = values.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if spec.required and not partial:
                problems[key] = FieldProblem("required")
            continue
        value, problem = check_value(spec.element, raw, today)
        if problem:
            problems[key] = problem
        else:
            clean[key] = value
    for name in rules:
        for key, problem in FORM_RULES[name](clean).items():
            problems.setdefault(key, problem)
    return clean, problems


# --- cross-field rules, named in a thing's definition (`form_rules: [...]`) ---------------------

FormRule = Callable[[Mapping[str, Any]], dict[str, FieldProblem]]


def _birth_date_of(values: Mapping[str, Any], person: str) -> date | None:
    if f"{person}.birth_date" in values:
        return date.fromisoformat(values[f"{person}.birth_date"])
    id_number = values.get(f"{person}.id_number")
    return ric.get_birth_date(id_number) if id_number else None


def child_born_after_mother(values: Mapping[str, Any]) -> dict[str, FieldProblem]:
    """A newborn cannot be born before the mother (her birth date comes from her ID number)."""
    child = values.get("child.birth_date")
    mother = _birth_date_of(values, "mother")
    if child and mother and date.fromisoformat(child) <= mother:
        return {"child.birth_date": FieldProblem("before_mother_birth")}
    return {}


def death_after_birth(values: Mapping[str, Any]) -> dict[str, FieldProblem]:
    """A person cannot die before being born (birth date from the deceased's ID number)."""
    death = values.get("deceased.death_date")
    birth = _birth_date_of(values, "deceased")
    if death and birth and date.fromisoformat(death) < birth:
        return {"deceased.death_date": FieldProblem("before_birth")}
    return {}


FORM_RULES: dict[str, FormRule] = {
    "child_born_after_mother": child_born_after_mother,
    "death_after_birth": death_after_birth,
}
