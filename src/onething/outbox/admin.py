"""Outbox messages in Django admin: read-only, with a retry action for dead ones.

Status changes go through the worker and `outbox_retry` only, so every field is read-only here.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onething.core.errors import OneThingError
from onething.outbox.models import OutboxMessage
from onething.outbox.services import outbox_retry


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "topic",
        "key",
        "status",
        "attempts",
        "available_at",
        "claimed_by",
        "updated_at",
    )
    list_filter = ("status", "topic")
    search_fields = ("key", "topic")
    date_hierarchy = "created_at"
    actions = ("retry",)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting a pending message would silently drop a next step.
        return False

    @admin.action(
        description=gettext_lazy("Retry the selected dead messages"), permissions=["change"]
    )
    def retry(self, request, queryset) -> None:
        retried = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                outbox_retry(actor=request.user.get_username(), message_id=pk)
            except OneThingError as exc:
                self.message_user(request, exc.message, messages.WARNING)
            else:
                retried += 1
        if retried:
            self.message_user(
                request, _("%(n)d message(s) queued again.") % {"n": retried}, messages.SUCCESS
            )
