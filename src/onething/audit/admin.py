"""The audit trail in Django admin: readable by staff with the view permission, never editable.

Records change only through `audit.services`; even a superuser cannot add, change or delete one
here (a changed row would break the chain, and `onething audit verify` would name it).
"""

from django.contrib import admin

from onething.audit import models as m


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(m.AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "stream", "seq", "actor", "action", "subject", "purpose")
    list_select_related = ("stream",)
    # Exact matches only: they use the indexes; a substring search would scan the whole table.
    search_fields = ("=subject", "=actor", "=stream__name")
    ordering = ("-recorded_at",)


@admin.register(m.AuditAnchor)
class AuditAnchorAdmin(ReadOnlyAdmin):
    list_display = ("seq", "recorded_at", "actor", "hash")
    ordering = ("-seq",)
