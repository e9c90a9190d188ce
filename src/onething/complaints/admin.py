"""Open311 client applications: added here (the api_key is shown once, on creation; only its
hash is kept), listed, and revoked — each through the hotline's services, so each is audited.

`onething hotline key NAME` does the same from the command line."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from onething.complaints.models import Open311Client
from onething.complaints.services import open311_client_create, open311_client_revoke


class Open311ClientForm(forms.ModelForm):
    class Meta:
        model = Open311Client
        fields = ("name", "contact")


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "contact", "key_prefix", "active", "created_at", "revoked_at")
    list_filter = ("active",)
    search_fields = ("name", "contact", "key_prefix")
    form = Open311ClientForm
    actions = ("revoke",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "contact")
        return ("name", "contact", "key_prefix", "active", "created_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        # A client is never edited, only revoked: its key stays what its owner was given.
        return () if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its tickets keep pointing at it; revoke instead

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        client, key = open311_client_create(
            actor=request.user,
            name=form.cleaned_data["name"],
            contact=form.cleaned_data.get("contact", ""),
        )
        # The admin goes on with the row the service wrote (for its log and its redirect).
        obj.pk, obj.key_prefix, obj.created_at = client.pk, client.key_prefix, client.created_at
        obj._state.adding, obj._state.db = False, client._state.db
        self.message_user(
            request,
            gettext("The api_key of %(name)s, shown this once (only its hash is kept): %(key)s")
            % {"name": client.name, "key": key},
            messages.WARNING,
        )

    @admin.action(description=_("Revoke the selected clients' keys"), permissions=["change"])
    def revoke(self, request, queryset) -> None:
        revoked = 0
        for client in queryset.filter(active=True):
            open311_client_revoke(actor=request.user, client=client)
            revoked += 1
        self.message_user(
            request, gettext("%(n)d key(s) revoked.") % {"n": revoked}, messages.SUCCESS
        )
