"""Conditions over situation answers, in a safe subset of JsonLogic (never Python `eval`).

A condition is JSON data: `true`, `{"var": "mother_insured"}`,
`{">": [{"var": "floor_area"}, 50]}`, `{"in": [{"var": "change"}, ["name", "address"]]}`,
`{"and": [...]}`, `{"or": [...]}`, `{"!": ...}`. Only the operators below exist; anything else
is rejected when the catalog is loaded, so evaluation never meets an unknown operator.
No Django import.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
OPERATORS = (*COMPARISONS, "and", "or", "!", "in", "var")


class ConditionError(ValueError):
    """A condition that is not well formed; `path` points inside the condition."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class Comparison:
    """A question compared with literal values, found by `comparisons()` for load-time checks."""

    question: str
    values: tuple[Any, ...]
    path: str


def _operator(node: Mapping, path: str) -> tuple[str, Any]:
    if len(node) != 1:
        raise ConditionError("an operation must have exactly one operator", path)
    ((op, args),) = node.items()
    if op not in OPERATORS:
        raise ConditionError(f"unknown operator {op!r}; allowed: {', '.join(OPERATORS)}", path)
    return op, args


def _args(op: str, args: Any, path: str, count: int | None = None) -> list:
    if not isinstance(args, list):
        args = [args]
    if count is not None and len(args) != count:
        raise ConditionError(f"{op!r} takes {count} arguments, got {len(args)}", path)
    if op in ("and", "or") and not args:
        raise ConditionError(f"{op!r} needs at least one argument", path)
    return args


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    return value


def evaluate(condition: Any, answers: Mapping[str, Any]) -> bool:
    """Whether `condition` holds for `answers`. Comparisons across types are false, not errors."""
    return bool(_eval(condition, answers, "when"))


def _eval(node: Any, answers: Mapping[str, Any], path: str) -> Any:
    if isinstance(node, list):
        return [_eval(item, answers, f"{path}[{i}]") for i, item in enumerate(node)]
    if not isinstance(node, Mapping):
        return _number(node)
    op, raw = _operator(node, path)
    if op == "var":
        (name,) = _args(op, raw, path, 1)
        return _number(answers.get(name))
    if op == "!":
        (operand,) = _args(op, raw, path, 1)
        return not _eval(operand, answers, f"{path}.!")
    if op == "and":
        return all(
            _eval(a, answers, f"{path}.and[{i}]") for i, a in enumerate(_args(op, raw, path))
        )
    if op == "or":
        return any(_eval(a, answers, f"{path}.or[{i}]") for i, a in enumerate(_args(op, raw, path)))
    left, right = (
        _eval(a, answers, f"{path}.{op}[{i}]") for i, a in enumerate(_args(op, raw, path, 2))
    )
    if op == "in":
        if isinstance(right, str):
            return isinstance(left, str) and left in right
        return isinstance(right, list) and left in right
    if op == "==":
        return _same_type(left, right) and left == right
    if op == "!=":
        return not (_same_type(left, right) and left == right)
    if not (isinstance(left, Decimal) and isinstance(right, Decimal)):
        return False
    return {
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]


def _same_type(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool)
    return isinstance(left, Decimal) == isinstance(right, Decimal)


def check(condition: Any, path: str = "when") -> None:
    """Raise ConditionError if the condition uses an unknown operator or a wrong arity."""
    for _ in _walk(condition, path):
        pass


def variables(condition: Any) -> Iterator[tuple[str, str]]:
    """Every (question key, path) the condition reads."""
    for node, path in _walk(condition, "when"):
        if isinstance(node, Mapping) and "var" in node:
            (name,) = _args("var", node["var"], path, 1)
            if not isinstance(name, str):
                raise ConditionError("'var' takes a question key", path)
            yield name, path


def comparisons(condition: Any) -> Iterator[Comparison]:
    """Every question compared with literals (`==`, `!=`, `in`, orderings), for value checks."""
    for node, path in _walk(condition, "when"):
        if not isinstance(node, Mapping) or len(node) != 1:
            continue
        ((op, raw),) = node.items()
        if op not in (*COMPARISONS, "in"):
            continue
        left, right = _args(op, raw, path, 2)
        if _is_var(left) and not isinstance(right, Mapping):
            values = tuple(right) if op == "in" and isinstance(right, list) else (right,)
            yield Comparison(left["var"], values, f"{path}.{op}")
        elif _is_var(right) and not isinstance(left, Mapping) and op != "in":
            yield Comparison(right["var"], (left,), f"{path}.{op}")


def _is_var(node: Any) -> bool:
    return isinstance(node, Mapping) and set(node) == {"var"} and isinstance(node["var"], str)


def _walk(node: Any, path: str) -> Iterator[tuple[Any, str]]:
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk(item, f"{path}[{i}]")
        return
    if isinstance(node, Mapping):
        op, raw = _operator(node, path)
        if op == "var":
            _args(op, raw, path, 1)
            yield node, path
            return
        count = 1 if op == "!" else (None if op in ("and", "or") else 2)
        args = _args(op, raw, path, count)
        yield node, path
        for i, arg in enumerate(args):
            yield from _walk(arg, f"{path}.{op}[{i}]")
        return
    if node is not None and not isinstance(node, str | int | float | bool):
        raise ConditionError(f"unsupported value {node!r}", path)
    yield node, path
