"""Certificates are issued and revoked through services only; the admin shows them read-only,
with the holder's ID number masked."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from onething.certificates.models import Certificate
from onething.core.masking import mask


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ("number", "type", "holder_name", "issuer", "issued_at", "status")
    list_filter = ("status", "type", "issuer")
    list_select_related = ("type", "issuer")
    search_fields = ("number", "verification_code", "application_reference")
    fields = (
        "type",
        "number",
        "verification_code",
        "holder_name",
        "masked_id_number",
        "issuer",
        "issued_at",
        "kid",
        "status",
        "revoked_at",
        "revocation_reason",
        "application_reference",
        "case_public_id",
    )
    readonly_fields = fields

    @admin.display(description=_("holder's ID number (masked)"))
    def masked_id_number(self, obj) -> str:
        return mask(obj.holder_id_number)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
