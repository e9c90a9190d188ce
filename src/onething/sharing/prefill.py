"""What the platform may read to fill a form, from where, about whom — and what it may not.

Pure: no Django import. The prefill service gives this module the elements a form asks for,
the data sources and the grants that apply to the thing and its member services; it answers
with the lookups to make (one per source and subject), the elements no grant allows (denied
by default, and logged), and the elements no source serves (the applicant types them).
After the lookups, `assign` turns the sources' records into values for the form, each with
its source, preferring authoritative sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Served:
    element: str
    field: str
    of: str  # applicant | spouse | enterprise


@dataclass(frozen=True)
class Source:
    code: str
    connector: str
    department: str
    authoritative: bool
    options: Mapping[str, Any]
    serves: tuple[Served, ...]


@dataclass(frozen=True)
class Grant:
    code: str
    source: str
    elements: frozenset[str]
    purpose: str
    legal_basis: str
    service: str | None = None
    thing: str | None = None


@dataclass(frozen=True)
class PlannedLookup:
    """One question to one source about one subject role, and what its fields feed."""

    source: Source
    of: str
    fields: tuple[str, ...]
    elements: Mapping[str, str]  # element key -> source field
    grants: tuple[Grant, ...]

    @property
    def purposes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(g.purpose for g in self.grants))


@dataclass(frozen=True)
class FetchPlan:
    lookups: tuple[PlannedLookup, ...]
    denied: Mapping[str, tuple[str, ...]]  # element -> sources that serve it without a grant
    unserved: tuple[str, ...]  # elements no source serves

    def elements(self) -> frozenset[str]:
        return frozenset(k for lookup in self.lookups for k in lookup.elements)


def applicable_grants(
    grants: Iterable[Grant], *, thing: str, services: Iterable[str]
) -> list[Grant]:
    """Grants for the thing itself or for one of its included member services."""
    members = set(services)
    return [
        g for g in grants if g.thing == thing or (g.service is not None and g.service in members)
    ]


def fetch_plan(
    wanted: Iterable[str], sources: Iterable[Source], grants: Iterable[Grant]
) -> FetchPlan:
    """The lookups that may be made for `wanted` elements under `grants` — deny by default."""
    wanted = list(dict.fromkeys(wanted))
    sources = list(sources)
    granted: dict[tuple[str, str], list[Grant]] = {}
    for grant in grants:
        for element in grant.elements:
            granted.setdefault((grant.source, element), []).append(grant)
    # Authoritative sources first, so a value comes from the best source that may give it.
    ordered = sorted(sources, key=lambda s: (not s.authoritative, s.code))
    chosen: dict[str, tuple[Source, Served]] = {}
    denied: dict[str, list[str]] = {}
    for element in wanted:
        for source in ordered:
            served = next((s for s in source.serves if s.element == element), None)
            if served is None:
                continue
            if (source.code, element) in granted:
                chosen.setdefault(element, (source, served))
            else:
                denied.setdefault(element, []).append(source.code)
    lookups: dict[tuple[str, str], dict[str, Any]] = {}
    for element, (source, served) in chosen.items():
        entry = lookups.setdefault(
            (source.code, served.of), {"source": source, "elements": {}, "grants": []}
        )
        entry["elements"][element] = served.field
        for grant in granted[source.code, element]:
            if grant not in entry["grants"]:
                entry["grants"].append(grant)
    planned = tuple(
        PlannedLookup(
            source=entry["source"],
            of=of,
            fields=tuple(dict.fromkeys(entry["elements"].values())),
            elements=dict(entry["elements"]),
            grants=tuple(entry["grants"]),
        )
        for (_code, of), entry in lookups.items()
    )
    served_anywhere = {s.element for source in sources for s in source.serves}
    return FetchPlan(
        lookups=planned,
        denied={k: tuple(v) for k, v in denied.items() if k not in chosen},
        unserved=tuple(k for k in wanted if k not in served_anywhere),
    )


@dataclass(frozen=True)
class Prefilled:
    value: Any
    source: str
    authoritative: bool


@dataclass
class Outcome:
    """What each lookup gave: a record (field -> value), no record, or unavailable."""

    records: dict[tuple[str, str], Mapping[str, Any] | None] = field(default_factory=dict)
    unavailable: dict[tuple[str, str], str] = field(default_factory=dict)


def assign(plan: FetchPlan, outcome: Outcome) -> dict[str, Prefilled]:
    """The form values the lookups produced, each with its source."""
    values: dict[str, Prefilled] = {}
    for lookup in plan.lookups:
        record = outcome.records.get((lookup.source.code, lookup.of))
        if not record:
            continue
        for element, source_field in lookup.elements.items():
            value = record.get(source_field)
            if value is None or value == "" or element in values:
                continue
            values[element] = Prefilled(value, lookup.source.code, lookup.source.authoritative)
    return values


@dataclass(frozen=True)
class MaterialNeed:
    code: str
    carries: tuple[str, ...]
    certificate_type: str | None


@dataclass(frozen=True)
class Exemption:
    kind: str  # "certificate" or "sharing"
    record: str  # what stands in for the paper: the certificate number, or the sources read


def holder_role(material: MaterialNeed, sources: Iterable[Source]) -> str | None:
    """Whose certificate stands in for a material: the subject the sources read its data
    from (the applicant before the enterprise before a parent before the spouse, for a shared
    paper such as a marriage certificate). None when no source knows whose data it carries."""
    roles = {served.element: served.of for source in sources for served in source.serves}
    found = {roles[key] for key in material.carries if key in roles}
    for role in ("applicant", "enterprise", "mother", "father", "spouse"):
        if role in found:
            return role
    return None


def exemptions(
    materials: Iterable[MaterialNeed],
    values: Mapping[str, Prefilled],
    wallets: Mapping[str, Mapping[str, str]],
    sources: Iterable[Source] = (),
) -> dict[str, Exemption]:
    """Materials this applicant need not submit (免提交): one whose e-certificate is in the wallet
    of the person (or enterprise) it belongs to — `wallets` maps a role to {type: number}, with
    a related person's wallet present only after their consent — or one whose every carried
    data element came from an authoritative source."""
    sources = list(sources)
    found: dict[str, Exemption] = {}
    for material in materials:
        role = holder_role(material, sources)
        wallet = wallets.get(role or "", {})
        if material.certificate_type and material.certificate_type in wallet:
            found[material.code] = Exemption("certificate", wallet[material.certificate_type])
            continue
        carried = [values.get(key) for key in material.carries]
        if carried and all(v is not None and v.authoritative for v in carried):
            read_from = sorted({v.source for v in carried})
            found[material.code] = Exemption("sharing", ", ".join(read_from))
    return found
