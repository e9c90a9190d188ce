"""Registers are loaded from reviewed files (`onething registers load`), never edited here. The
list of a register's records shows no contents, so browsing a register reveals nobody; opening a
record shows its values (sensitive ones masked) and is recorded as a use of the data of every
person it names.

Exchange clients and their tokens are issued with `onething exchange token`; here they are
read-only (a token shows only its prefix and hash), with actions to revoke and deactivate."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from onething.core.masking import mask, mask_mapping
from onething.sharing.exchange import exchange_client_deactivate, exchange_token_revoke
from onething.sharing.models import ExchangeClient, ExchangeToken, Register, RegisterRecord
from onething.sharing.services import record_admin_view


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
    list_display = ("register", "masked_key")
    list_filter = ("register",)
    list_select_related = ("register",)
    fields = ("register", "masked_key", "masked_data")
    readonly_fields = fields

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        record = self.get_object(request, object_id) if response.status_code == 200 else None
        if record is not None:
            record_admin_view(actor=request.user, record=record)
        return response

    @admin.display(description=_("key"))
    def masked_key(self, obj) -> str:
        return mask(obj.key) if len(obj.key) >= 15 else obj.key

    @admin.display(description=_("data (masked)"))
    def masked_data(self, obj) -> str:
        return ", ".join(f"{k}: {v}" for k, v in masked_record(obj).items())


class ExchangeTokenInline(admin.TabularInline):
    model = ExchangeToken
    extra = 0
    fields = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ExchangeClient)
class ExchangeClientAdmin(admin.ModelAdmin):
    list_display = ("name", "department", "active", "created_at")
    list_filter = ("active", "department")
    list_select_related = ("department",)
    fields = ("name", "department", "active", "created_at")
    readonly_fields = fields
    inlines = (ExchangeTokenInline,)
    actions = ("deactivate",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Deactivate the selected systems"), permissions=["change"])
    def deactivate(self, request, queryset) -> None:
        for client in queryset:
            exchange_client_deactivate(actor=request.user, client=client)
        self.message_user(
            request,
            gettext("%(n)d system(s) deactivated.") % {"n": queryset.count()},
            messages.SUCCESS,
        )


@admin.register(ExchangeToken)
class ExchangeTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "client", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("client__department",)
    list_select_related = ("client__department",)
    fields = ("client", "name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request, queryset) -> None:
        for token in queryset:
            exchange_token_revoke(actor=request.user, token=token)
        self.message_user(
            request,
            gettext("%(n)d token(s) revoked.") % {"n": queryset.count()},
            messages.SUCCESS,
        )
