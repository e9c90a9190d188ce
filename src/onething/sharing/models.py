"""Registers held by the platform (the `table` data source of the sharing issue).

A `Register` is one department's table — the population register, the hospitals' birth records,
the marriage register. A `RegisterRecord` is one row of it, its values as plain JSON. A
`RegisterSubject` row indexes who a record is about (a marriage is about two people), so looking
up everything held on a resident ID number or a credit code is one indexed query.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from onething.catalog.models import Bilingual, Department, _choices
from onething.sharing.registers import SubjectKind


class Register(Bilingual):
    code = models.SlugField(_("code"), max_length=64, unique=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="registers", verbose_name=_("authority")
    )
    subject_kind = models.CharField(
        _("records are about"), max_length=16, choices=_choices(SubjectKind)
    )
    key_field = models.CharField(_("key field"), max_length=64)
    fields = models.JSONField(_("fields"), default=dict)
    loaded_at = models.DateTimeField(_("loaded at"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("register")
        verbose_name_plural = _("registers")

    @property
    def sensitive_fields(self) -> frozenset[str]:
        return frozenset(name for name, spec in self.fields.items() if spec.get("sensitive"))


class RegisterRecord(models.Model):
    register = models.ForeignKey(Register, on_delete=models.CASCADE, related_name="records")
    key = models.CharField(_("key"), max_length=64)
    data = models.JSONField(_("data"), default=dict)

    class Meta:
        ordering = ["register", "key"]
        constraints = [
            models.UniqueConstraint(fields=["register", "key"], name="register_record_key_unique")
        ]
        verbose_name = _("register record")
        verbose_name_plural = _("register records")

    def __str__(self) -> str:
        return f"{self.register.code}:{self.pk}"


class RegisterSubject(models.Model):
    """`record` is about `subject` (named in its field `field`)."""

    record = models.ForeignKey(RegisterRecord, on_delete=models.CASCADE, related_name="subjects")
    subject = models.CharField(_("resident ID number or credit code"), max_length=18, db_index=True)
    field = models.CharField(_("field"), max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["record", "field"], name="register_subject_field_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.field} of record {self.record_id}"
