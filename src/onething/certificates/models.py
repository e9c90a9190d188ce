"""E-certificates issued by departments, and the numbering of each type per year.

The signing keys are files in the data folder (see keys.py), never rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onething.catalog.models import CertificateType, Department


class Certificate(models.Model):
    """电子证照: an e-certificate, its signed JWS and its status.

    `holder_id_number` (a resident ID number or an enterprise's credit code) is masked wherever
    it is shown. When `holder_enterprise` is set the enterprise holds the certificate and
    `holder` is only the person who applied for it.
    """

    class Status(models.TextChoices):
        VALID = "valid", _("valid")
        REVOKED = "revoked", _("revoked")

    type = models.ForeignKey(
        CertificateType,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("certificate type"),
    )
    number = models.CharField(_("number"), max_length=100)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="certificates",
        verbose_name=_("holder"),
    )
    holder_enterprise = models.ForeignKey(
        "accounts.Enterprise",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="certificates",
        verbose_name=_("holding enterprise"),
    )
    holder_name = models.CharField(_("holder's name"), max_length=200)
    holder_id_number = models.CharField(_("holder's ID number"), max_length=18, blank=True)
    issuer = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("issuer")
    )
    data = models.JSONField(_("data"), default=dict, blank=True)
    jws = models.TextField(_("signed certificate (JWS)"))
    kid = models.CharField(_("signing key id"), max_length=64)
    verification_code = models.CharField(_("verification code"), max_length=20, unique=True)
    issued_at = models.DateTimeField(_("issued at"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.VALID
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revocation_reason = models.TextField(_("reason for revocation"), blank=True)
    application_reference = models.CharField(
        _("application reference"), max_length=40, blank=True, db_index=True
    )
    case_public_id = models.UUIDField(_("case"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("e-certificate")
        verbose_name_plural = _("e-certificates")
        constraints = [
            models.UniqueConstraint(fields=["type", "number"], name="certificate_number_unique")
        ]

    def __str__(self) -> str:
        return self.number


class CertificateSequence(models.Model):
    """The last number given to a certificate type in a year: locked while numbering on SQLite;
    on PostgreSQL, where numbers come from a sequence per type and year, where it continues from."""

    type = models.ForeignKey(CertificateType, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["type", "year"], name="certificate_sequence_once")
        ]

    def __str__(self) -> str:
        return f"{self.type_id}/{self.year}: {self.last}"
