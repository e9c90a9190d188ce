"""Writes to the catalog: loading a checked definition set into the database."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction

from onething.catalog import models as m
from onething.catalog.selectors import catalog_revision_forget
from onething.catalog.validation import Catalog

logger = logging.getLogger("onething.catalog")


@dataclass
class LoadReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)

    def record(self, kind: str, created: bool) -> None:
        (self.created if created else self.updated)[kind] += 1

    def summary(self) -> str:
        kinds = sorted(set(self.created) | set(self.updated))
        return ", ".join(
            f"{kind}: {self.created[kind]} created, {self.updated[kind]} updated" for kind in kinds
        )


def _text(value: Any, suffix: str = "") -> dict[str, str]:
    if value is None:
        return {f"{suffix}zh": "", f"{suffix}en": ""}
    return {f"{suffix}zh": value.zh, f"{suffix}en": value.en}


def _options(options: Iterable) -> list[dict]:
    return [{"value": o.value, "label": {"zh": o.label.zh, "en": o.label.en}} for o in options]


def _sync_children(
    manager: models.Manager, key_field: str, rows: list[tuple[Any, dict[str, Any]]]
) -> None:
    """Make the child rows of one parent exactly `rows` (key, values), keeping row identity."""
    keep = []
    for position, (key, values) in enumerate(rows):
        obj, _ = manager.update_or_create(
            **{key_field: key}, defaults={**values, "position": position}
        )
        keep.append(obj.pk)
    manager.exclude(pk__in=keep).delete()


@transaction.atomic
def catalog_load(*, actor: str, catalog: Catalog) -> LoadReport:
    """Upsert a checked definition set; loading the same set again changes nothing.

    Records missing from the set are kept: applications may still refer to them.
    """
    report = LoadReport()
    regions: dict[str, m.Region] = {}
    # Parents first: a province before its cities, a city before its counties.
    for region in sorted(catalog.regions.values(), key=lambda r: (r.parent is not None, r.code)):
        pending = [region]
        while pending[-1].parent and pending[-1].parent not in regions:
            pending.append(catalog.regions[pending[-1].parent])
        for item in reversed(pending):
            if item.code in regions:
                continue
            obj, created = m.Region.objects.update_or_create(
                code=item.code,
                defaults={
                    **_text(item.name, "name_"),
                    "level": item.level.value,
                    "parent": regions.get(item.parent) if item.parent else None,
                },
            )
            regions[item.code] = obj
            report.record("regions", created)

    departments: dict[str, m.Department] = {}
    for dep in catalog.departments.values():
        obj, created = m.Department.objects.update_or_create(
            code=dep.code,
            defaults={
                **_text(dep.name, "name_"),
                "region": regions[dep.region],
                "kind": dep.kind,
            },
        )
        departments[dep.code] = obj
        report.record("departments", created)

    ctypes: dict[str, m.CertificateType] = {}
    for ctype in catalog.certificate_types.values():
        obj, created = m.CertificateType.objects.update_or_create(
            code=ctype.code,
            defaults={**_text(ctype.name, "name_"), "issuer": departments[ctype.issuer]},
        )
        ctypes[ctype.code] = obj
        report.record("certificate_types", created)

    elements: dict[str, m.DataElement] = {}
    for el in catalog.data_elements.values():
        obj, created = m.DataElement.objects.update_or_create(
            key=el.key,
            defaults={
                **_text(el.label, "label_"),
                **_text(el.help, "help_"),
                "type": el.type.value,
                "validator": el.validator.value if el.validator else "",
                "sensitivity": el.sensitivity.value,
                "options": _options(el.options),
                "min_value": el.min,
                "max_value": el.max,
                "past_only": el.past_only,
            },
        )
        elements[el.key] = obj
        report.record("data_elements", created)

    materials: dict[str, m.Material] = {}
    for mat in catalog.materials.values():
        obj, created = m.Material.objects.update_or_create(
            code=mat.code,
            defaults={
                **_text(mat.name, "name_"),
                "kind": mat.kind.value,
                "source": mat.source.value,
                "certificate_type": ctypes.get(mat.certificate_type or ""),
                "shared_by": departments.get(mat.shared_by or ""),
                "copies": mat.copies,
            },
        )
        obj.carries.set([elements[key] for key in mat.carries])
        materials[mat.code] = obj
        report.record("materials", created)

    services: dict[str, m.Service] = {}
    for svc in catalog.services.values():
        obj, created = m.Service.objects.update_or_create(
            code=svc.code,
            defaults={
                **_text(svc.name, "name_"),
                **_text(svc.legal_basis, "legal_basis_"),
                **_text(svc.description, "description_"),
                **_text(svc.fee_note, "fee_note_"),
                "department": departments[svc.department],
                "kind": svc.kind.value,
                "statutory_days": svc.statutory_days,
                "promised_days": svc.promised_days,
                "fee": svc.fee,
                "result_certificate_type": ctypes.get(svc.result_certificate_type or ""),
                "handler": svc.handler.value,
                "rule": svc.rule or "",
                "cross_region": svc.cross_region,
                "counter_visits": svc.counter_visits,
                "rule_inputs": list(svc.rule_inputs),
                "rule_condition": svc.rule_condition,
            },
        )
        _sync_children(
            obj.fields,
            "element",
            [(elements[f.element], {"required": f.required}) for f in svc.fields],
        )
        _sync_children(
            obj.materials,
            "material",
            [
                (materials[i.material], {"required": i.required, "deferrable": i.deferrable})
                for i in svc.materials
            ],
        )
        _sync_children(obj.outputs, "element", [(elements[o.element], {}) for o in svc.outputs])
        services[svc.code] = obj
        report.record("services", created)

    for position, thing in enumerate(catalog.things.values()):
        obj, created = m.Thing.objects.update_or_create(
            code=thing.code,
            defaults={
                **_text(thing.name, "name_"),
                **_text(thing.category, "category_"),
                **_text(thing.summary, "summary_"),
                "audience": thing.audience.value,
                "lead_department": departments[thing.lead_department],
                "form_rules": list(thing.form_rules),
                "position": position,
            },
        )
        _sync_children(
            obj.questions,
            "key",
            [
                (
                    q.key,
                    {
                        "type": q.type.value,
                        **_text(q.label, "label_"),
                        **_text(q.help, "help_"),
                        "options": _options(q.options),
                        "min_value": q.min,
                        "max_value": q.max,
                        "default": _json_default(q.default),
                    },
                )
                for q in thing.questions
            ],
        )
        _sync_children(
            obj.members,
            "service",
            [
                (
                    services[member.service],
                    {
                        "when": member.when,
                        "after": list(member.after),
                        **_text(member.note, "note_"),
                    },
                )
                for member in thing.members
            ],
        )
        report.record("things", created)

    for day in catalog.calendar.values():
        _, created = m.CalendarDay.objects.update_or_create(
            date=day.date,
            region=regions[day.region] if day.region else None,
            defaults={**_text(day.name, "name_"), "kind": day.kind.value},
        )
        report.record("calendar", created)
    sources = {}
    for code, source in catalog.sources.items():
        sources[code], created = m.DataSource.objects.update_or_create(
            code=code,
            defaults={
                **_text(source.name, "name_"),
                "department": departments[source.department],
                "connector": source.connector.value,
                "authoritative": source.authoritative,
                "options": dict(source.options),
                "serves": [s.model_dump(mode="json") for s in source.serves],
            },
        )
        report.record("sources", created)
    for code, grant in catalog.grants.items():
        _, created = m.Grant.objects.update_or_create(
            code=code,
            defaults={
                "service": services[grant.service] if grant.service else None,
                "thing": m.Thing.objects.get(code=grant.thing) if grant.thing else None,
                "source": sources[grant.source],
                "elements": list(grant.elements),
                **_text(grant.purpose, "purpose_"),
                **_text(grant.legal_basis, "legal_basis_"),
            },
        )
        report.record("grants", created)
    catalog_revision_bump()
    logger.info("catalog loaded by %s: %s", actor, report.summary())
    return report


def catalog_revision_bump() -> None:
    """Mark the catalog changed, so every process reads its bundles afresh (in the caller's
    transaction: a rolled-back load leaves the revision as it was)."""
    revision, _ = m.CatalogRevision.objects.select_for_update().get_or_create(pk=1)
    revision.number += 1
    revision.save(update_fields=["number", "changed_at"])
    # Even if the caller rolls back: this process then reads the unchanged revision again.
    catalog_revision_forget()


def _json_default(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    return str(value)
