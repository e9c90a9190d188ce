"""The supervision roll-ups (汇总): counts and totals by month and dimension, kept up to date
incrementally, so that the dashboards never scan the cases.

Only `supervision.rollups` writes these rows. What each metric counts is defined in
`supervision.metrics`.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

DIMENSIONS = ("region", "thing", "department", "service", "channel")
FIGURES = ("metric", "bucket", "count", "total")


class Rollup(models.Model):
    """汇总: the sum of every subject's contribution to one key (see supervision.metrics)."""

    key = models.CharField(max_length=400, unique=True)
    level = models.CharField(max_length=12)
    month = models.DateField()
    region = models.CharField(max_length=12)
    thing = models.CharField(max_length=64)
    department = models.CharField(max_length=64)
    service = models.CharField(max_length=64)
    channel = models.CharField(max_length=12)
    metric = models.CharField(max_length=32)
    bucket = models.IntegerField(default=0)
    count = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("roll-up")
        verbose_name_plural = _("roll-ups")
        # Each dashboard query reads one level (or one department's cases) over a range of
        # months, optionally within a region (LIKE '3502%'): covering indexes let PostgreSQL
        # answer from the index alone (other databases ignore `include`).
        indexes = [
            models.Index(
                fields=["level", "month"],
                include=[*DIMENSIONS, *FIGURES],
                name="rollup_level_month",
            ),
            models.Index(
                fields=["region", "level", "month"],
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", "date_ops"],
                include=[*DIMENSIONS[1:], *FIGURES],
                name="rollup_region_prefix",
            ),
            models.Index(
                fields=["department", "month"],
                include=["level", "region", "thing", "service", "channel", *FIGURES],
                name="rollup_department_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.count}/{self.total}"


class RollupLedger(models.Model):
    """What one subject last added to the roll-ups, so a refresh can take exactly that back."""

    subject_kind = models.CharField(max_length=20)
    subject_id = models.BigIntegerField()
    contributions = models.JSONField(default=list)
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject_kind", "subject_id"], name="rollup_ledger_once_per_subject"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind}:{self.subject_id}"


class RollupState(models.Model):
    """Where the incremental refresh got to (one row; locked while a refresh or rebuild runs)."""

    name = models.CharField(max_length=40, unique=True)
    watermark = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}@{self.watermark}"


class MonthEndSnapshot(models.Model):
    """月末快照: the open cases marked late when one month ended, for that month's report.

    Written once, by the first worker run after the month ends (supervision.month_end); one row
    per month, with its late cases (none is a snapshot too: nothing was late)."""

    month = models.DateField(unique=True)  # the first day of the month
    as_of = models.DateField()  # its last day: the marks are those of that day
    taken_at = models.DateTimeField()

    class Meta:
        verbose_name = _("month-end snapshot")
        verbose_name_plural = _("month-end snapshots")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}@{self.as_of}"


class MonthEndLateCase(models.Model):
    """One case overdue or due soon at a month's end: the application's reference and catalog
    codes only (no personal data; names are looked up when the report is printed)."""

    snapshot = models.ForeignKey(
        MonthEndSnapshot, on_delete=models.CASCADE, related_name="late_cases"
    )
    application_reference = models.CharField(max_length=32)
    thing = models.CharField(max_length=64)
    service = models.CharField(max_length=64)
    department = models.CharField(max_length=64)
    region = models.CharField(max_length=12)  # the application's region ("" for none)
    due_date = models.DateField()
    mark = models.CharField(max_length=12)  # due_soon, overdue or escalated

    class Meta:
        indexes = [
            models.Index(
                fields=["snapshot", "region"],
                opclasses=["int8_ops", "varchar_pattern_ops"],
                name="month_end_late_region",
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_reference}/{self.service}:{self.mark}"
