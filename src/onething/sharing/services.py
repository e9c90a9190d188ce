"""Writes to the platform's own registers."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from onething.audit.services import audit_record
from onething.catalog.models import Department
from onething.core.errors import InvalidInput
from onething.sharing.models import Register, RegisterRecord, RegisterSubject
from onething.sharing.registers import RegisterSet


@dataclass
class RegisterLoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = []
        for code in sorted(set(self.created) | set(self.updated) | set(self.removed)):
            parts.append(
                f"{code}: {self.created.get(code, 0)} new, {self.updated.get(code, 0)} changed, "
                f"{self.removed.get(code, 0)} removed"
            )
        return "; ".join(parts) or "no registers"


@transaction.atomic
def register_load(*, actor: str, registers: RegisterSet) -> RegisterLoadReport:
    """Make the stored registers match `registers`, record by record; all or nothing.

    Loading the same files again changes nothing. Registers not named in `registers` are kept.
    """
    departments = {
        d.code: d
        for d in Department.objects.filter(
            code__in={r.department for r in registers.registers.values()}
        )
    }
    unknown = {
        f"{code}.department": f"unknown department {definition.department!r}"
        for code, definition in registers.registers.items()
        if definition.department not in departments
    }
    if unknown:
        raise InvalidInput("registers name unknown departments", fields=unknown)
    report = RegisterLoadReport()
    now = timezone.now()
    for code, definition in registers.registers.items():
        register, _ = Register.objects.update_or_create(
            code=code,
            defaults={
                "name_zh": definition.name.zh,
                "name_en": definition.name.en,
                "department": departments[definition.department],
                "subject_kind": definition.subject.value,
                "key_field": definition.key,
                "fields": {
                    name: spec.model_dump(mode="json", exclude_defaults=True)
                    for name, spec in definition.fields.items()
                },
                "loaded_at": now,
            },
        )
        rows = {row[definition.key]: row for row in registers.records[code]}
        stored = {record.key: record for record in register.records.all()}
        fresh = [
            RegisterRecord(register=register, key=key, data=row)
            for key, row in rows.items()
            if key not in stored
        ]
        changed = [
            stored[key] for key, row in rows.items() if key in stored and stored[key].data != row
        ]
        for record in changed:
            record.data = rows[record.key]
        gone = [record.pk for key, record in stored.items() if key not in rows]
        RegisterRecord.objects.filter(pk__in=gone).delete()
        RegisterRecord.objects.bulk_update(changed, ["data"])
        RegisterRecord.objects.bulk_create(fresh)
        # bulk_create sets primary keys on PostgreSQL and SQLite; read them back to be sure.
        touched = list(
            register.records.filter(key__in=[r.key for r in fresh] + [r.key for r in changed])
        )
        RegisterSubject.objects.filter(record__in=touched).delete()
        RegisterSubject.objects.bulk_create(
            RegisterSubject(record=record, subject=record.data[name], field=name)
            for record in touched
            for name in definition.subjects
            if record.data.get(name)
        )
        report.created[code], report.updated[code], report.removed[code] = (
            len(fresh),
            len(changed),
            len(gone),
        )
        if fresh or changed or gone:
            audit_record(
                actor=actor,
                action="register.load",
                stream=f"register:{code}",
                subject=code,
                purpose="register maintenance",
                data={"created": len(fresh), "updated": len(changed), "removed": len(gone)},
            )
    return report
