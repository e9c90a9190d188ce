"""Reads of the platform's own registers."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from onething.sharing.models import Register, RegisterRecord


def register_records_about(subject: str, *, register: str | None = None) -> list[RegisterRecord]:
    """Every record that names `subject` (a resident ID number or credit code), oldest register
    first. Callers that show or use the values must be authorised for them and record the use."""
    records = RegisterRecord.objects.filter(subjects__subject=subject).select_related("register")
    if register is not None:
        records = records.filter(register__code=register)
    return list(records.distinct().order_by("register__code", "key"))


def register_record(register: str, key: str) -> dict[str, Any] | None:
    """The values of one record, or None."""
    record = RegisterRecord.objects.filter(register__code=register, key=key).first()
    return None if record is None else dict(record.data)


def register_sizes() -> dict[str, int]:
    """Records per register, by register code."""
    return dict(
        Register.objects.annotate(size=Count("records"))
        .order_by("code")
        .values_list("code", "size")
    )
