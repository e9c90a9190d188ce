"""Registers the platform holds itself: tables of records loaded from YAML files.

A register is what a department would otherwise answer from its own system — the population
register of public security, the hospitals' birth records, the marriage register of civil
affairs, the enterprise register of market regulation. Each file declares the register, the
department that is its authority, the fields of its records with their types, which field is the
record's key and which fields name the people or enterprises a record is about (a marriage is
about two people). Every record is checked field by field; every problem is reported with the
file, the record and the field. No Django import here.

    register: population
    name: {zh: 户籍人口信息, en: Population register}
    department: fj_public_security
    subject: person
    key: id_number
    subjects: [id_number]
    fields:
      id_number: {type: cn_ric}
      spouse_id_number: {type: cn_ric, required: false, references: population}
    records:
      - {id_number: "350203199406121242", ...}
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, model_validator
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from onething.catalog.schema import Code, Strict, Text
from onething.catalog.validation import YAML_SUFFIXES, CatalogIssue

FIELD_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


class SubjectKind(StrEnum):
    PERSON = "person"
    ENTERPRISE = "enterprise"


class FieldType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DATE = "date"
    DATETIME = "datetime"
    CHOICE = "choice"
    CN_RIC = "cn_ric"
    CN_USCC = "cn_uscc"


SUBJECT_TYPES = {SubjectKind.PERSON: FieldType.CN_RIC, SubjectKind.ENTERPRISE: FieldType.CN_USCC}


class RegisterField(Strict):
    type: FieldType
    required: bool = True
    choices: list[str] = Field(default_factory=list)
    references: Code | None = Field(
        default=None, description="a register whose record key this value must be"
    )
    sensitive: bool = Field(
        default=False, description="health or children's data: masked wherever it is listed"
    )

    @model_validator(mode="after")
    def _choices_only_for_choice(self) -> RegisterField:
        if (self.type == FieldType.CHOICE) != bool(self.choices):
            raise ValueError("a choice field needs choices, and only a choice field may have them")
        return self


class RegisterDef(Strict):
    # `register:` in the file; `register` itself would shadow ABCMeta.register on the model.
    code: Code = Field(alias="register")
    name: Text
    department: Code
    subject: SubjectKind
    key: str = Field(pattern=FIELD_NAME_PATTERN)
    subjects: list[str] = Field(min_length=1)
    fields: dict[str, RegisterField] = Field(min_length=1)
    records: list[dict[str, Any]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _named_fields_exist(self) -> RegisterDef:
        for name in (self.key, *self.subjects):
            if name not in self.fields:
                raise ValueError(f"{name!r} is not one of the register's fields")
        wanted = SUBJECT_TYPES[self.subject]
        for name in self.subjects:
            if self.fields[name].type != wanted:
                raise ValueError(
                    f"subject field {name!r} must be of type {wanted} for a {self.subject} register"
                )
        return self

    @property
    def sensitive_fields(self) -> frozenset[str]:
        return frozenset(name for name, spec in self.fields.items() if spec.sensitive)


@dataclass
class RegisterSet:
    """Valid registers by code, with records whose values are plain JSON (dates as ISO text)."""

    registers: dict[str, RegisterDef] = field(default_factory=dict)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {code: len(rows) for code, rows in self.records.items()}


class RegistersInvalid(ValueError):
    def __init__(self, issues: list[CatalogIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def register_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES))
        else:
            files.append(path)
    return files


def read_registers(paths: Iterable[str | Path]) -> RegisterSet:
    """Read and check every register file; raise RegistersInvalid listing every problem."""
    files = register_files(paths)
    if not files:
        raise RegistersInvalid([CatalogIssue("-", "-", "no register files found")])
    issues: list[CatalogIssue] = []
    result = RegisterSet()
    origin: dict[str, str] = {}
    for path in files:
        label = str(path)
        definition, problems = _parse_file(path)
        issues.extend(problems)
        if definition is None:
            continue
        if definition.code in result.registers:
            issues.append(
                CatalogIssue(
                    label,
                    "register",
                    f"register {definition.code!r} is already defined in {origin[definition.code]}",
                )
            )
            continue
        origin[definition.code] = label
        rows, problems = _check_records(label, definition)
        issues.extend(problems)
        result.registers[definition.code] = definition
        result.records[definition.code] = rows
    issues.extend(_check_references(result, origin))
    if issues:
        raise RegistersInvalid(sorted(set(issues)))
    return result


def _parse_file(path: Path) -> tuple[RegisterDef | None, list[CatalogIssue]]:
    label = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [CatalogIssue(label, "-", "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [CatalogIssue(label, "-", f"cannot read file: {exc}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "-"
        return None, [CatalogIssue(label, where, f"not valid YAML: {exc}")]
    if not isinstance(raw, dict):
        return None, [
            CatalogIssue(label, "-", "expected a mapping (register: ..., records: [...])")
        ]
    try:
        return RegisterDef.model_validate(raw), []
    except ValidationError as exc:
        return None, [
            CatalogIssue(label, ".".join(str(part) for part in error["loc"]) or "-", error["msg"])
            for error in exc.errors()
        ]


def _check_records(
    label: str, definition: RegisterDef
) -> tuple[list[dict[str, Any]], list[CatalogIssue]]:
    issues: list[CatalogIssue] = []
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(definition.records):
        where = f"records[{index}]"
        if not isinstance(record, dict):
            issues.append(CatalogIssue(label, where, "expected a mapping of field: value"))
            continue
        row: dict[str, Any] = {}
        for name in sorted(set(record) - set(definition.fields)):
            issues.append(CatalogIssue(label, f"{where}.{name}", "not a field of this register"))
        for name, spec in definition.fields.items():
            value = record.get(name)
            if value is None or value == "":
                if spec.required:
                    issues.append(CatalogIssue(label, f"{where}.{name}", "a value is required"))
                continue
            clean, problem = check_register_value(spec, value)
            if problem:
                issues.append(CatalogIssue(label, f"{where}.{name}", problem))
            else:
                row[name] = clean
        key = row.get(definition.key)
        if key is not None:
            if key in seen:
                issues.append(
                    CatalogIssue(
                        label,
                        f"{where}.{definition.key}",
                        f"the key {key!r} is already used by records[{seen[key]}]",
                    )
                )
            seen.setdefault(key, index)
        rows.append(row)
    return rows, issues


def check_register_value(spec: RegisterField, value: Any) -> tuple[Any, str | None]:
    """The value as stored (JSON), or the reason it is wrong."""
    match spec.type:
        case FieldType.TEXT:
            return (str(value), None) if isinstance(value, str | int) else (None, "expected text")
        case FieldType.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                return None, "expected a whole number"
            return value, None
        case FieldType.DATE:
            if isinstance(value, date) and not isinstance(value, datetime):
                return value.isoformat(), None
            try:
                return date.fromisoformat(str(value)).isoformat(), None
            except ValueError:
                return None, "expected a date (YYYY-MM-DD)"
        case FieldType.DATETIME:
            if isinstance(value, datetime):
                return value.isoformat(), None
            try:
                return datetime.fromisoformat(str(value)).isoformat(), None
            except ValueError:
                return None, "expected a date and time (YYYY-MM-DDTHH:MM)"
        case FieldType.CHOICE:
            if str(value) not in spec.choices:
                return None, f"{value!r} is not one of {', '.join(spec.choices)}"
            return str(value), None
        case FieldType.CN_RIC | FieldType.CN_USCC:
            module = ric if spec.type == FieldType.CN_RIC else uscc
            try:
                return module.validate(str(value)), None
            except StdnumError as exc:
                what = "resident ID number" if spec.type == FieldType.CN_RIC else "credit code"
                return None, f"not a valid {what}: {exc.message}"
    return None, f"unknown field type {spec.type}"  # pragma: no cover - the enum is closed


def _check_references(result: RegisterSet, origin: dict[str, str]) -> list[CatalogIssue]:
    issues: list[CatalogIssue] = []
    keys = {
        code: {row.get(definition.key) for row in result.records[code]}
        for code, definition in result.registers.items()
    }
    for code, definition in result.registers.items():
        for name, spec in definition.fields.items():
            if spec.references is None:
                continue
            if spec.references not in result.registers:
                issues.append(
                    CatalogIssue(
                        origin[code], f"fields.{name}", f"unknown register {spec.references!r}"
                    )
                )
                continue
            for index, row in enumerate(result.records[code]):
                value = row.get(name)
                if value is not None and value not in keys[spec.references]:
                    issues.append(
                        CatalogIssue(
                            origin[code],
                            f"records[{index}].{name}",
                            f"no record with key {value!r} in register {spec.references!r}",
                        )
                    )
    return issues
