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


class DataUse(models.Model):
    """One use of somebody's data (X-Road's evidential log, Estonia's data tracker): who read
    which elements of whose record from which source, for which service and purpose, and what
    came of it. The person sees their own; the audit chain holds the same facts tamper-evident.
    """

    class Outcome(models.TextChoices):
        PROVIDED = "provided", _("provided")
        NO_RECORD = "no_record", _("no record held")
        UNAVAILABLE = "unavailable", _("source unavailable")
        DENIED = "denied", _("refused: no grant")

    at = models.DateTimeField(_("when"), db_index=True)
    actor = models.CharField(_("who"), max_length=100)
    subject = models.CharField(_("whose data"), max_length=18, db_index=True)
    source = models.CharField(_("data source"), max_length=64)
    department = models.CharField(_("held by"), max_length=64, blank=True)
    elements = models.JSONField(_("data elements"), default=list)
    purpose = models.CharField(_("purpose"), max_length=300, blank=True)
    use = models.CharField(_("use"), max_length=20)  # prefill, verification, exchange, reveal
    service = models.CharField(_("service or thing"), max_length=64, blank=True)
    application_reference = models.CharField(max_length=32, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("data use")
        verbose_name_plural = _("data uses")

    def __str__(self) -> str:
        return f"{self.use}:{self.source}:{self.pk}"


class Consent(models.Model):
    """授权同意: the applicant's yes to the data use shown before the form was filled in."""

    application_reference = models.CharField(max_length=32, db_index=True)
    given_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("given by")
    )
    given_at = models.DateTimeField(_("given at"))
    statement = models.TextField(_("what was consented to"))
    sources = models.JSONField(_("sources and elements"), default=list)
    sensitive_elements = models.JSONField(default=list)
    sensitive_consented = models.BooleanField(default=False)

    class Meta:
        ordering = ["-given_at"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"{self.application_reference}@{self.given_at:%Y-%m-%d %H:%M}"


class ExchangeClient(models.Model):
    """数据交换接入系统: a department's own system that queries data sources through the
    platform's exchange (X-Road's member client). It reads only for its department's services,
    under the same grants as the platform, and every query is recorded."""

    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="exchange_clients",
        verbose_name=_("department"),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["department", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "name"], name="exchange_client_name_unique"
            )
        ]
        verbose_name = _("exchange client")
        verbose_name_plural = _("exchange clients")

    def __str__(self) -> str:
        return f"{self.department.code}/{self.name}"


class ExchangeToken(models.Model):
    """A bearer token of an exchange client (`ox_<prefix>.<secret>`); only its hash is kept."""

    client = models.ForeignKey(ExchangeClient, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(_("hash of the secret"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("exchange token")
        verbose_name_plural = _("exchange tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class RelatedConsentRequest(models.Model):
    """A request to a related person (the applicant's spouse) to let the applicant's application
    read their data — the father authorises his records and certificates for the newborn's
    application. Until they approve in their own portal, nothing of theirs is read."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for their answer")
        APPROVED = "approved", _("approved")
        DECLINED = "declined", _("declined")

    application_reference = models.CharField(max_length=32, db_index=True)
    thing = models.CharField(max_length=64)
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("asked by")
    )
    relation = models.CharField(_("relation"), max_length=20)  # "spouse"
    subject = models.CharField(_("whose data"), max_length=18, db_index=True)
    elements = models.JSONField(_("data elements"), default=list)
    purposes = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("consent request to a related person")
        verbose_name_plural = _("consent requests to related persons")
        constraints = [
            models.UniqueConstraint(
                fields=["application_reference", "relation"], name="one_request_per_relation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_reference}:{self.relation}:{self.status}"
