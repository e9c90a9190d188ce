"""Reads catalog definition files and checks them as one set, reporting every error at once.

Each error names the file, the path inside it and the reason. Nothing is returned unless the
whole set is valid, so a loader never half-loads a catalog. No Django import.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from onething.catalog import conditions
from onething.catalog.fields import FORM_RULES
from onething.catalog.planning import ThingBundle
from onething.catalog.schema import (
    KIND_MODELS,
    KINDS,
    CalendarDayDef,
    CertificateTypeDef,
    DataElementDef,
    DefinitionFile,
    DepartmentDef,
    GrantDef,
    MaterialDef,
    QuestionDef,
    QuestionType,
    RegionDef,
    ServiceDef,
    SourceDef,
    ThingDef,
)
from onething.core.workdays import Override

YAML_SUFFIXES = (".yaml", ".yml")


class _DefinitionLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so the schema checks them and an impossible date
    (2027-02-30) is reported at its record instead of aborting the whole read."""


_DefinitionLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True, order=True)
class CatalogIssue:
    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.reason}"


class CatalogInvalid(ValueError):
    def __init__(self, issues: list[CatalogIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass
class Catalog:
    """A valid set of definitions, indexed by code (data elements by key)."""

    regions: dict[str, RegionDef] = field(default_factory=dict)
    departments: dict[str, DepartmentDef] = field(default_factory=dict)
    certificate_types: dict[str, CertificateTypeDef] = field(default_factory=dict)
    data_elements: dict[str, DataElementDef] = field(default_factory=dict)
    materials: dict[str, MaterialDef] = field(default_factory=dict)
    services: dict[str, ServiceDef] = field(default_factory=dict)
    things: dict[str, ThingDef] = field(default_factory=dict)
    # Keyed by "date@region" (CalendarDayDef.key), so a date is declared once per region.
    calendar: dict[str, CalendarDayDef] = field(default_factory=dict)
    sources: dict[str, SourceDef] = field(default_factory=dict)
    grants: dict[str, GrantDef] = field(default_factory=dict)

    def overrides(self) -> list[Override]:
        """The calendar records as overrides for a `WorkCalendar`, names in Chinese."""
        return [
            Override(day.date, day.kind, day.region, day.name.zh) for day in self.calendar.values()
        ]

    def bundle(self, thing_code: str) -> ThingBundle:
        thing = self.things[thing_code]
        services = {m.service: self.services[m.service] for m in thing.members}
        materials = {
            item.material: self.materials[item.material]
            for s in services.values()
            for item in s.materials
        }
        elements = {
            key: self.data_elements[key]
            for s in services.values()
            for key in [f.element for f in s.fields] + [o.element for o in s.outputs]
        }
        departments = {s.department: self.departments[s.department] for s in services.values()}
        departments[thing.lead_department] = self.departments[thing.lead_department]
        return ThingBundle(thing, services, departments, materials, elements)

    def counts(self) -> dict[str, int]:
        return {kind: len(getattr(self, kind)) for kind in KINDS}


def definition_files(paths: Iterable[str | Path]) -> list[Path]:
    """The YAML files named, or found (recursively, sorted) in the folders named."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES))
        else:
            files.append(path)
    return files


def read_catalog(paths: Iterable[str | Path]) -> Catalog:
    """Read and check every file; raise CatalogInvalid listing every problem."""
    files = definition_files(paths)
    issues: list[CatalogIssue] = []
    if not files:
        raise CatalogInvalid([CatalogIssue("-", "-", "no definition files found")])
    parsed: list[tuple[str, DefinitionFile]] = []
    broken: set[tuple[str, str]] = set()
    # (kind, code) -> (file, path) of the first record with that code, as written in the file.
    origins: dict[tuple[str, str], tuple[str, str]] = {}
    for path in files:
        label = str(path)
        document, problems, broken_here = _parse(path, origins)
        issues.extend(problems)
        broken |= broken_here
        if document is not None:
            parsed.append((label, document))
    catalog, problems = _index(parsed)
    issues.extend(problems)
    issues.extend(_check_references(catalog, origins, broken))
    if issues:
        raise CatalogInvalid(sorted(set(issues)))
    return catalog


def _parse(
    path: Path, positions: dict[tuple[str, str], tuple[str, str]]
) -> tuple[DefinitionFile | None, list[CatalogIssue], set[tuple[str, str]]]:
    """The valid records of one file, the problems of the others, and the codes of the broken
    records (so references to them are not reported a second time)."""
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [CatalogIssue(label, "-", "file not found")], set()
    except (OSError, UnicodeDecodeError) as exc:
        return None, [CatalogIssue(label, "-", f"cannot read file: {exc}")], set()
    try:
        raw = yaml.load(text, Loader=_DefinitionLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "-"
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [CatalogIssue(label, where, f"not valid YAML: {problem}")], set()
    if raw is None:
        return DefinitionFile(), [], set()
    if not isinstance(raw, dict):
        return (
            None,
            [CatalogIssue(label, "-", "expected a mapping of kinds (things: [...])")],
            set(),
        )
    issues: list[CatalogIssue] = []
    valid: dict[str, list] = {}
    broken: set[tuple[str, str]] = set()
    for kind, records in raw.items():
        if kind not in KIND_MODELS:
            issues.append(
                CatalogIssue(label, str(kind), f"unknown kind; expected one of {', '.join(KINDS)}")
            )
            continue
        if records is None:
            continue
        if not isinstance(records, list):
            issues.append(CatalogIssue(label, kind, "expected a list of records"))
            continue
        valid[kind] = []
        # One record at a time, so one mistake hides neither the other records' mistakes nor
        # the record itself from cross-reference checks.
        for index, record in enumerate(records):
            try:
                model = KIND_MODELS[kind].model_validate(record)
            except ValidationError as exc:
                code = record.get("code") or record.get("key") if isinstance(record, dict) else None
                if isinstance(code, str):
                    broken.add((kind, code))
                issues.extend(
                    CatalogIssue(
                        label, _location((kind, index, *error["loc"]), raw), _reason(error)
                    )
                    for error in exc.errors()
                )
            else:
                valid[kind].append(model)
                positions.setdefault(
                    (kind, _code(model)), (label, f"{kind}[{index}]({_code(model)})")
                )
    return DefinitionFile.model_construct(**valid), issues, broken


def _location(loc: tuple, raw: Any) -> str:
    """`things[0].members[2].when`, naming the record's code when it has one."""
    parts: list[str] = []
    node = raw
    for step in loc:
        if isinstance(step, int):
            label = f"[{step}]"
            node = node[step] if isinstance(node, list) and step < len(node) else None
            code = (
                node.get("code") or node.get("key") or node.get("date")
                if isinstance(node, dict)
                else None
            )
            if code and len(parts) == 1:
                label += f"({code})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return "".join(parts) or "-"


def _reason(error: dict) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "field required"
    return error["msg"].removeprefix("Value error, ")


def _code(record: Any) -> str:
    return getattr(record, "code", None) or record.key


def _index(parsed: list[tuple[str, DefinitionFile]]) -> tuple[Catalog, list[CatalogIssue]]:
    catalog = Catalog()
    issues: list[CatalogIssue] = []
    first_seen: dict[tuple[str, str], str] = {}
    for label, document in parsed:
        for kind in KINDS:
            target = getattr(catalog, kind)
            for index, record in enumerate(getattr(document, kind)):
                code = _code(record)
                if code in target:
                    what = (
                        f"{record.date} declared twice for {record.region or 'the whole country'}"
                        if kind == "calendar"
                        else f"duplicate code {code!r}"
                    )
                    issues.append(
                        CatalogIssue(
                            label,
                            f"{kind}[{index}]({code})",
                            f"{what}, first defined in {first_seen[kind, code]}",
                        )
                    )
                    continue
                target[code] = record
                first_seen[kind, code] = label
    return catalog, issues


def _check_references(
    catalog: Catalog,
    origins: dict[tuple[str, str], tuple[str, str]],
    broken: set[tuple[str, str]] = frozenset(),
) -> Iterator[CatalogIssue]:
    def issue(kind: str, code: str, path: str, reason: str) -> CatalogIssue:
        file, base = origins[kind, code]
        return CatalogIssue(file, f"{base}{path}", reason)

    pools = {id(getattr(catalog, kind)): kind for kind in KINDS}

    def unknown(
        kind: str, code: str, path: str, what: str, ref: str | None, pool: dict
    ) -> Iterator[CatalogIssue]:
        # A record that exists but is itself invalid was reported already.
        if ref is not None and ref not in pool and (pools[id(pool)], ref) not in broken:
            yield issue(kind, code, path, f"unknown {what} {ref!r}")

    for code, region in catalog.regions.items():
        yield from unknown("regions", code, ".parent", "region", region.parent, catalog.regions)
    region_cycle = find_cycle(
        {code: [r.parent] for code, r in catalog.regions.items() if r.parent in catalog.regions}
    )
    if region_cycle:
        yield issue(
            "regions", region_cycle[0], ".parent", "cycle in 'parent': " + " -> ".join(region_cycle)
        )
    for code, department in catalog.departments.items():
        yield from unknown(
            "departments", code, ".region", "region", department.region, catalog.regions
        )
    for code, ctype in catalog.certificate_types.items():
        yield from unknown(
            "certificate_types", code, ".issuer", "department", ctype.issuer, catalog.departments
        )
    for code, material in catalog.materials.items():
        for i, key in enumerate(material.carries):
            yield from unknown(
                "materials", code, f".carries[{i}]", "data element", key, catalog.data_elements
            )
        yield from unknown(
            "materials",
            code,
            ".certificate_type",
            "certificate type",
            material.certificate_type,
            catalog.certificate_types,
        )
        yield from unknown(
            "materials", code, ".shared_by", "department", material.shared_by, catalog.departments
        )
    for code, service in catalog.services.items():
        yield from _check_service(catalog, code, service, issue, unknown)
    for code, thing in catalog.things.items():
        yield from _check_thing(catalog, code, thing, issue, unknown)
    for code, day in catalog.calendar.items():
        yield from unknown("calendar", code, ".region", "region", day.region, catalog.regions)
    for code, source in catalog.sources.items():
        yield from _check_source(catalog, code, source, issue, unknown)
    for code, grant in catalog.grants.items():
        yield from _check_grant(catalog, code, grant, issue, unknown)


def _check_source(catalog, code, source, issue, unknown) -> Iterator[CatalogIssue]:
    yield from unknown(
        "sources", code, ".department", "department", source.department, catalog.departments
    )
    if source.connector == "certificates":
        yield from unknown(
            "sources",
            code,
            ".options.certificate_type",
            "certificate type",
            source.options["certificate_type"],
            catalog.certificate_types,
        )
    for i, served in enumerate(source.serves):
        yield from unknown(
            "sources",
            code,
            f".serves[{i}].element",
            "data element",
            served.element,
            catalog.data_elements,
        )


def _check_grant(catalog, code, grant, issue, unknown) -> Iterator[CatalogIssue]:
    yield from unknown("grants", code, ".service", "service", grant.service, catalog.services)
    yield from unknown("grants", code, ".thing", "thing", grant.thing, catalog.things)
    yield from unknown("grants", code, ".source", "data source", grant.source, catalog.sources)
    source = catalog.sources.get(grant.source)
    if source is None:
        return
    served = {s.element for s in source.serves}
    for i, key in enumerate(grant.elements):
        if key not in served:
            yield issue(
                "grants",
                code,
                f".elements[{i}]",
                f"data source {grant.source!r} does not serve {key!r}",
            )


def _check_service(catalog, code, service, issue, unknown) -> Iterator[CatalogIssue]:
    kind = "services"
    yield from unknown(
        kind, code, ".department", "department", service.department, catalog.departments
    )
    yield from unknown(
        kind,
        code,
        ".result_certificate_type",
        "certificate type",
        service.result_certificate_type,
        catalog.certificate_types,
    )
    seen: set[str] = set()
    for i, service_field in enumerate(service.fields):
        path = f".fields[{i}].element"
        yield from unknown(
            kind, code, path, "data element", service_field.element, catalog.data_elements
        )
        if service_field.element in seen:
            yield issue(kind, code, path, f"data element {service_field.element!r} listed twice")
        seen.add(service_field.element)
    seen = set()
    for i, item in enumerate(service.materials):
        path = f".materials[{i}].material"
        yield from unknown(kind, code, path, "material", item.material, catalog.materials)
        if item.material in seen:
            yield issue(kind, code, path, f"material {item.material!r} listed twice")
        seen.add(item.material)
    for i, output in enumerate(service.outputs):
        yield from unknown(
            kind,
            code,
            f".outputs[{i}].element",
            "data element",
            output.element,
            catalog.data_elements,
        )


def _check_thing(catalog, code, thing, issue, unknown) -> Iterator[CatalogIssue]:
    kind = "things"
    yield from unknown(
        kind, code, ".lead_department", "department", thing.lead_department, catalog.departments
    )
    for i, rule in enumerate(thing.form_rules):
        if rule not in FORM_RULES:
            yield issue(
                kind,
                code,
                f".form_rules[{i}]",
                f"unknown form rule {rule!r}; known: {', '.join(sorted(FORM_RULES))}",
            )
    questions: dict[str, QuestionDef] = {}
    for i, question in enumerate(thing.questions):
        if question.key in questions:
            yield issue(kind, code, f".questions[{i}].key", f"duplicate question {question.key!r}")
        questions[question.key] = question
        problem = _default_problem(question)
        if problem:
            yield issue(kind, code, f".questions[{i}].default", problem)
    members: dict[str, int] = {}
    for i, member in enumerate(thing.members):
        path = f".members[{i}]"
        yield from unknown(
            kind, code, f"{path}.service", "service", member.service, catalog.services
        )
        if member.service in members:
            yield issue(kind, code, f"{path}.service", f"service {member.service!r} listed twice")
        members.setdefault(member.service, i)
    for i, member in enumerate(thing.members):
        path = f".members[{i}]"
        for j, before in enumerate(member.after):
            if before == member.service:
                yield issue(kind, code, f"{path}.after[{j}]", "a member cannot come after itself")
            elif before not in members:
                yield issue(
                    kind,
                    code,
                    f"{path}.after[{j}]",
                    f"{before!r} is not a member of this thing",
                )
        yield from _check_condition(
            member.when, questions, lambda p, r, path=path: issue(kind, code, f"{path}.{p}", r)
        )
    cycle = find_cycle({m.service: [a for a in m.after if a in members] for m in thing.members})
    if cycle:
        yield issue(
            kind,
            code,
            f".members[{members[cycle[0]]}].after",
            "cycle in 'after': " + " -> ".join(cycle),
        )


def condition_problems(condition: Any, questions: Iterable[QuestionDef]) -> list[str]:
    """What is wrong with a member's condition for these questions (empty when it is fine)."""
    by_key = {q.key: q for q in questions}
    return [
        f"{path}: {reason}"
        for path, reason in _check_condition(condition, by_key, lambda p, r: (p, r))
    ]


def _default_problem(question: QuestionDef) -> str | None:
    default = question.default
    if default is None:
        return None
    if question.type == QuestionType.YES_NO and not isinstance(default, bool):
        return "the default of a yes/no question must be true or false"
    if question.type == QuestionType.CHOICE and default not in {o.value for o in question.options}:
        return f"default {default!r} is not one of the options"
    if question.type == QuestionType.NUMBER and (
        isinstance(default, bool) or not isinstance(default, Decimal | int | float)
    ):
        return "the default of a number question must be a number"
    return None


def _check_condition(condition, questions, report) -> Iterator[CatalogIssue]:
    try:
        conditions.check(condition)
        names = list(conditions.variables(condition))
        compared = list(conditions.comparisons(condition))
    except conditions.ConditionError as exc:
        yield report(exc.path, str(exc))
        return
    for name, path in names:
        if name not in questions:
            yield report(path, f"unknown question {name!r}")
    for comparison in compared:
        question = questions.get(comparison.question)
        if question is None:
            continue
        for value in comparison.values:
            problem = _comparison_problem(question, value)
            if problem:
                yield report(comparison.path, problem)


def _comparison_problem(question: QuestionDef, value: Any) -> str | None:
    if question.type == QuestionType.CHOICE:
        options = [o.value for o in question.options]
        if value not in options:
            return (
                f"question {question.key!r} does not offer {value!r} "
                f"(options: {', '.join(options)})"
            )
    elif question.type == QuestionType.YES_NO and not isinstance(value, bool):
        return f"question {question.key!r} is yes/no: compare with true or false, not {value!r}"
    elif question.type == QuestionType.NUMBER and (
        isinstance(value, bool) or not isinstance(value, int | float)
    ):
        return f"question {question.key!r} is a number: compare with a number, not {value!r}"
    return None


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A cycle as a list of codes (first repeated at the end), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def default_definitions_dir() -> Path:
    return Path(__file__).parent / "definitions"
