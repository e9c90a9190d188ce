"""Registers are loaded from reviewed files (`onething registers load`), never edited here; the
admin shows them with personal data masked, so browsing a register reveals nobody."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from onething.core.masking import mask, mask_mapping
from onething.sharing.models import Register, RegisterRecord


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Register)
class RegisterAdmin(ReadOnly):
    list_display = ("code", "name_zh", "name_en", "department", "subject_kind", "size", "loaded_at")
    exclude = ("fields",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(size=Count("records"))

    @admin.display(description=_("records"), ordering="size")
    def size(self, obj) -> int:
        return obj.size


def masked_record(record: RegisterRecord) -> dict:
    sensitive = set(record.register.sensitive_fields)
    return mask_mapping(record.data, sensitive)


@admin.register(RegisterRecord)
class RegisterRecordAdmin(ReadOnly):
    list_display = ("register", "masked_key", "masked_data")
    list_filter = ("register",)
    list_select_related = ("register",)
    fields = ("register", "masked_key", "masked_data")
    readonly_fields = fields

    @admin.display(description=_("key"))
    def masked_key(self, obj) -> str:
        return mask(obj.key) if len(obj.key) >= 15 else obj.key

    @admin.display(description=_("data (masked)"))
    def masked_data(self, obj) -> str:
        return ", ".join(f"{k}: {v}" for k, v in masked_record(obj).items())
