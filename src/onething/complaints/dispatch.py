"""The hotline's dispatch catalogue and the routing that reads it (pure: no Django).

`data/dispatch.yaml` lists street areas, units, rules (categories × region → responsible unit
plus assisting units) and each region's 12345 dispatch desk. Routing takes the most specific
rule: the ticket's street, then its district, then the city (then the province); with no rule it
goes to the nearest desk (district, then city), so every category has an answer everywhere a
desk is reachable, which the loader checks for every known city, district and street.

Returns (退单): a unit that is not responsible sends the ticket back; `reroute_after_return`
skips every unit that returned it and takes the next candidate in the same order (the rules from
specific to general, then the desks). After 3 returns or transfers the ticket escalates to a
supervisor (提级督办).

Region codes follow GB/T 2260: a province is `xx0000`, a city `xxxx00`, a district any other
6-digit code, a street a 9-digit code under its district.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from onething.catalog.schema import Code, Strict, Text

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_FILE = DATA_DIR / "dispatch.yaml"
CATEGORIES_FILE = DATA_DIR / "categories.yaml"
ESCALATE_AFTER = 3  # returns plus transfers

RegionCode = Annotated[str, Field(pattern=r"^\d{6}(\d{3})?$")]
StreetCode = Annotated[str, Field(pattern=r"^\d{9}$")]
Level = Literal["street", "district", "city", "province", "desk"]


class UnitKind(StrEnum):
    DEPARTMENT = "department"
    STREET_OFFICE = "street_office"  # 街道办事处
    COMPANY = "company"  # e.g. the water and power utilities


class StreetDef(Strict):
    """A street office's area (街道), under its district."""

    code: StreetCode
    name: Text


class UnitDef(Strict):
    """Someone a ticket can be dispatched to."""

    code: Code
    name: Text
    kind: UnitKind
    region: RegionCode
    department: Code | None = Field(default=None, description="catalog department code")


class RuleDef(Strict):
    categories: list[Code] = Field(min_length=1)
    region: RegionCode
    responsible: Code
    assisting: list[Code] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct(self) -> RuleDef:
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("a category is listed twice")
        if len(set(self.assisting)) != len(self.assisting):
            raise ValueError("an assisting unit is listed twice")
        if self.responsible in self.assisting:
            raise ValueError("the responsible unit cannot also assist")
        return self


class DeskDef(Strict):
    region: RegionCode
    unit: Code


SECTIONS: dict[str, type[BaseModel]] = {
    "streets": StreetDef,
    "units": UnitDef,
    "rules": RuleDef,
    "desks": DeskDef,
}


@dataclass(frozen=True, order=True)
class DispatchIssue:
    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.reason}"


class DispatchInvalid(ValueError):
    def __init__(self, issues: list[DispatchIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass(frozen=True)
class RuleRef:
    """Which entry of the file decided a route: `rules[12]` at street level, `desks[1]`."""

    level: Level
    region: str
    path: str

    def __str__(self) -> str:
        return f"{self.path} ({self.level} {self.region})"


@dataclass(frozen=True)
class Route:
    responsible: str
    assisting: tuple[str, ...]
    rule: RuleRef


@dataclass(frozen=True)
class Reroute:
    """The next route after returns, or None when every candidate has returned the ticket."""

    route: Route | None
    escalate: bool
    handovers: int  # returns plus transfers so far


def level_of(code: str) -> Level:
    """The administrative level a GB/T 2260 code (or a 9-digit street code) stands for."""
    if len(code) == 9:
        return "street"
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "district"


def lineage(code: str) -> list[str]:
    """The code and every region above it, most specific first."""
    chain = [code] if len(code) == 9 else []
    district = code[:6]
    for candidate in (district, district[:4] + "00", district[:2] + "0000"):
        if candidate not in chain:
            chain.append(candidate)
    return chain


def category_codes(path: Path | str = CATEGORIES_FILE) -> frozenset[str]:
    """The hotline's category codes (data/categories.yaml)."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return frozenset(str(entry["code"]) for entry in raw["categories"])


@dataclass(frozen=True)
class _Entry:
    responsible: str
    assisting: tuple[str, ...]
    ref: RuleRef


@dataclass(frozen=True)
class Dispatch:
    """A checked dispatch catalogue."""

    categories: frozenset[str]
    regions: frozenset[str]  # the known regions plus the streets
    streets: dict[str, StreetDef]
    units: dict[str, UnitDef]
    rules: dict[tuple[str, str], _Entry]  # (category, region) -> entry
    desks: dict[str, _Entry]  # region -> entry

    def candidates(
        self, category: str, region_code: str, *, street: str | None = None
    ) -> list[Route]:
        """Every route for the ticket in order of precedence; the first is `route`'s answer.

        The matching rules from the most specific region up, then the desks from the most
        specific region up; a unit appears once, where it first appears.
        """
        chain = self._chain(category, region_code, street)
        entries = [self.rules[category, code] for code in chain if (category, code) in self.rules]
        entries += [self.desks[code] for code in chain if code in self.desks]
        seen: set[str] = set()
        routes = []
        for entry in entries:
            if entry.responsible not in seen:
                seen.add(entry.responsible)
                routes.append(Route(entry.responsible, entry.assisting, entry.ref))
        return routes

    def route(self, category: str, region_code: str, *, street: str | None = None) -> Route:
        """The responsible and assisting units for a ticket: street rule, district rule, city
        rule, then the nearest 12345 dispatch desk."""
        routes = self.candidates(category, region_code, street=street)
        if not routes:
            raise ValueError(f"region_code: no rule and no dispatch desk covers {region_code}")
        return routes[0]

    def reroute_after_return(
        self,
        category: str,
        region_code: str,
        *,
        street: str | None = None,
        returned_by: Sequence[str],
        transfers: int = 0,
    ) -> Reroute:
        """The next candidate that has not returned the ticket; escalate after 3 handovers.

        Units that returned the ticket are neither responsible nor assisting again. With no
        candidate left the route is None and the ticket escalates whatever the count.
        """
        unknown = sorted(set(returned_by) - set(self.units))
        if unknown:
            raise ValueError(f"returned_by: unknown units {', '.join(unknown)}")
        if transfers < 0:
            raise ValueError("transfers: cannot be negative")
        excluded = set(returned_by)
        handovers = len(returned_by) + transfers
        for candidate in self.candidates(category, region_code, street=street):
            if candidate.responsible not in excluded:
                assisting = tuple(a for a in candidate.assisting if a not in excluded)
                route = Route(candidate.responsible, assisting, candidate.rule)
                return Reroute(route, handovers >= ESCALATE_AFTER, handovers)
        return Reroute(None, True, handovers)

    def _chain(self, category: str, region_code: str, street: str | None) -> list[str]:
        if category not in self.categories:
            raise ValueError(f"category: unknown category {category!r}")
        if region_code not in self.regions or len(region_code) != 6:
            raise ValueError(f"region_code: {region_code!r} is not a known district or city")
        if level_of(region_code) == "province":
            raise ValueError(f"region_code: {region_code} is a province; give a city or district")
        if street is None:
            return lineage(region_code)
        if street not in self.streets:
            raise ValueError(f"street: {street!r} is not a known street")
        if street[:6] != region_code:
            raise ValueError(f"street: {street} is not in district {region_code}")
        return lineage(street)


def load(
    path: Path | str = DEFAULT_FILE,
    *,
    regions: Collection[str],
    categories: Collection[str] | None = None,
    departments: Collection[str] | None = None,
) -> Dispatch:
    """Read and check a dispatch file; raise DispatchInvalid listing every problem.

    `regions` are the known region codes (the file adds its streets); `categories` default to
    data/categories.yaml; `departments`, when given, are the catalog department codes units
    may belong to.
    """
    label = str(path)
    known_categories = frozenset(category_codes() if categories is None else categories)
    known_regions = frozenset(regions)
    raw, issues = _read(Path(path), label)
    records: dict[str, list[tuple[str, Any]]] = {section: [] for section in SECTIONS}
    if raw is not None:
        issues += _validate(raw, label, records)

    def issue(where: str, reason: str) -> None:
        issues.append(DispatchIssue(label, where, reason))

    streets: dict[str, StreetDef] = {}
    for where, street in records["streets"]:
        if street.code in streets:
            issue(where, f"street {street.code} is defined twice")
        elif street.code[:6] not in known_regions or level_of(street.code[:6]) != "district":
            issue(where, f"street {street.code}: {street.code[:6]} is not a known district")
        else:
            streets[street.code] = street
    all_regions = known_regions | set(streets)

    units: dict[str, UnitDef] = {}
    for where, unit in records["units"]:
        if unit.code in units:
            issue(where, f"unit {unit.code} is defined twice")
            continue
        units[unit.code] = unit
        if unit.region not in all_regions:
            issue(f"{where}.region", f"{unit.region} is not a known region or street")
        if unit.kind == UnitKind.STREET_OFFICE and level_of(unit.region) != "street":
            issue(f"{where}.region", "a street office serves a street, not a whole district")
        if departments is not None and unit.department and unit.department not in departments:
            issue(f"{where}.department", f"{unit.department} is not a known department")

    def check_unit(where: str, code: str, region: str) -> None:
        if code not in units:
            issue(where, f"{code} is not a known unit")
        elif region in all_regions and units[code].region not in lineage(region):
            issue(where, f"{code} serves {units[code].region}, which does not cover {region}")

    rules: dict[tuple[str, str], _Entry] = {}
    for where, rule in records["rules"]:
        if rule.region not in all_regions:
            issue(f"{where}.region", f"{rule.region} is not a known region or street")
        check_unit(f"{where}.responsible", rule.responsible, rule.region)
        for index, code in enumerate(rule.assisting):
            check_unit(f"{where}.assisting[{index}]", code, rule.region)
        entry = _Entry(rule.responsible, tuple(rule.assisting), _ref(where, rule.region))
        for index, category in enumerate(rule.categories):
            if category not in known_categories:
                issue(f"{where}.categories[{index}]", f"{category} is not a known category")
            elif (category, rule.region) in rules:
                first = rules[category, rule.region].ref.path
                issue(where, f"duplicate rule for {category} in {rule.region}; first at {first}")
            else:
                rules[category, rule.region] = entry

    desks: dict[str, _Entry] = {}
    for where, desk in records["desks"]:
        if desk.region not in all_regions:
            issue(f"{where}.region", f"{desk.region} is not a known region or street")
        check_unit(f"{where}.unit", desk.unit, desk.region)
        if desk.region in desks:
            issue(where, f"{desk.region} has a desk already at {desks[desk.region].ref.path}")
        else:
            desks[desk.region] = _Entry(desk.unit, (), RuleRef("desk", desk.region, where))

    if raw is not None:
        for code in sorted(all_regions):
            if level_of(code) != "province" and not any(c in desks for c in lineage(code)):
                issue("desks", f"no 12345 dispatch desk for {code} or any region above it")

    if issues:
        raise DispatchInvalid(sorted(set(issues)))
    return Dispatch(known_categories, all_regions, streets, units, rules, desks)


def _ref(where: str, region: str) -> RuleRef:
    return RuleRef(level_of(region), region, where)


def _read(path: Path, label: str) -> tuple[dict | None, list[DispatchIssue]]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [DispatchIssue(label, "-", "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [DispatchIssue(label, "-", f"cannot read file: {exc}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "-"
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [DispatchIssue(label, where, f"not valid YAML: {problem}")]
    if not isinstance(raw, dict):
        return None, [DispatchIssue(label, "-", f"expected a mapping of {', '.join(SECTIONS)}")]
    return raw, []


def _validate(
    raw: dict, label: str, records: dict[str, list[tuple[str, Any]]]
) -> list[DispatchIssue]:
    """Each record on its own, so one mistake hides neither the others nor the record's
    references from the cross-checks."""
    issues = []
    for section, entries in raw.items():
        if section not in SECTIONS:
            issues.append(
                DispatchIssue(
                    label, str(section), f"unknown section; expected {', '.join(SECTIONS)}"
                )
            )
            continue
        if not isinstance(entries, list):
            issues.append(DispatchIssue(label, section, "expected a list"))
            continue
        for index, entry in enumerate(entries):
            code = entry.get("code") if isinstance(entry, dict) else None
            where = f"{section}[{index}]" + (f"({code})" if isinstance(code, str) else "")
            try:
                records[section].append((where, SECTIONS[section].model_validate(entry)))
            except ValidationError as exc:
                issues.extend(
                    DispatchIssue(label, _location(where, error["loc"]), _reason(error))
                    for error in exc.errors()
                )
    return issues


def _location(where: str, loc: Iterable[Any]) -> str:
    return where + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in loc)


def _reason(error: dict) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "field required"
    return error["msg"].removeprefix("Value error, ")
