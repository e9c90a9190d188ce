"""Catalog records in Django admin. The YAML definitions stay the reviewed source: edits here
are for urgent corrections and are overwritten by the next `onething catalog load`."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _

from onething.catalog import models as m
from onething.catalog.selectors import question_definition
from onething.catalog.services import catalog_revision_bump
from onething.catalog.validation import condition_problems, find_cycle


class CatalogAdmin(admin.ModelAdmin):
    """An admin edit changes the catalog's revision, as a load does, so that plans cached by
    every process are read afresh (in the admin's own transaction)."""

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        catalog_revision_bump()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        catalog_revision_bump()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        catalog_revision_bump()


@admin.register(m.Region)
class RegionAdmin(CatalogAdmin):
    list_display = ("code", "name_zh", "name_en", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name_zh", "name_en")


@admin.register(m.Department)
class DepartmentAdmin(CatalogAdmin):
    list_display = ("code", "name_zh", "name_en", "region", "kind")
    list_filter = ("kind", "region")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(m.CertificateType)
class CertificateTypeAdmin(CatalogAdmin):
    list_display = ("code", "name_zh", "name_en", "issuer")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(m.DataElement)
class DataElementAdmin(CatalogAdmin):
    list_display = ("key", "label_zh", "label_en", "type", "validator", "sensitivity")
    list_filter = ("type", "sensitivity")
    search_fields = ("key", "label_zh", "label_en")


@admin.register(m.Material)
class MaterialAdmin(CatalogAdmin):
    list_display = ("code", "name_zh", "name_en", "kind", "source")
    list_filter = ("kind", "source")
    search_fields = ("code", "name_zh", "name_en")
    filter_horizontal = ("carries",)


class ServiceFieldInline(admin.TabularInline):
    model = m.ServiceField
    extra = 0
    autocomplete_fields = ("element",)


class ServiceMaterialInline(admin.TabularInline):
    model = m.ServiceMaterial
    extra = 0
    autocomplete_fields = ("material",)


class ServiceOutputInline(admin.TabularInline):
    model = m.ServiceOutput
    extra = 0
    autocomplete_fields = ("element",)


@admin.register(m.Service)
class ServiceAdmin(CatalogAdmin):
    list_display = ("code", "name_zh", "department", "promised_days", "statutory_days", "handler")
    list_filter = ("handler", "kind", "department", "cross_region")
    search_fields = ("code", "name_zh", "name_en")
    inlines = (ServiceFieldInline, ServiceMaterialInline, ServiceOutputInline)


class QuestionInline(admin.StackedInline):
    model = m.Question
    extra = 0


class ThingMemberForm(forms.ModelForm):
    """Checks a condition and its `after` list as the YAML loader would, before saving."""

    class Meta:
        model = m.ThingMember
        fields = ("position", "service", "when", "after")

    def clean(self):
        cleaned = super().clean()
        thing = self.instance.thing if self.instance.thing_id else None
        if thing is None:
            return cleaned
        questions = [question_definition(q) for q in thing.questions.all()]
        problems = condition_problems(cleaned.get("when", True), questions)
        if problems:
            self.add_error("when", "; ".join(problems))
        after = cleaned.get("after") or []
        members = set(thing.members.values_list("service__code", flat=True))
        if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
            self.add_error("after", _("Must be a list of service codes."))
        else:
            unknown = [a for a in after if a not in members]
            graph = dict(thing.members.values_list("service__code", "after"))
            graph[cleaned["service"].code if cleaned.get("service") else ""] = after
            cycle = find_cycle({k: [a for a in v if a in graph] for k, v in graph.items()})
            if cycle:
                self.add_error(
                    "after", _("This makes a cycle: %(cycle)s") % {"cycle": " → ".join(cycle)}
                )
            elif unknown:
                self.add_error(
                    "after",
                    _("Not members of this thing: %(codes)s") % {"codes": ", ".join(unknown)},
                )
        return cleaned


class ThingMemberInline(admin.TabularInline):
    model = m.ThingMember
    form = ThingMemberForm
    extra = 0
    autocomplete_fields = ("service",)
    fields = ("position", "service", "when", "after")


@admin.register(m.Thing)
class ThingAdmin(CatalogAdmin):
    list_display = ("code", "name_zh", "name_en", "audience", "lead_department")
    list_filter = ("audience",)
    search_fields = ("code", "name_zh", "name_en")
    inlines = (QuestionInline, ThingMemberInline)


@admin.register(m.CalendarDay)
class CalendarDayAdmin(CatalogAdmin):
    list_display = ("date", "kind", "region", "name_zh", "name_en")
    list_filter = ("kind", "region")
    search_fields = ("name_zh", "name_en")
    date_hierarchy = "date"
    autocomplete_fields = ("region",)
    fields = ("date", "kind", "region", "name_zh", "name_en")
