"""Catalog records in Django admin. The YAML definitions stay the reviewed source: edits here
are for urgent corrections and are overwritten by the next `onething catalog load`."""

from django.contrib import admin

from onething.catalog import models as m


@admin.register(m.Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name_zh", "name_en")


@admin.register(m.Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "region", "kind")
    list_filter = ("kind", "region")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(m.CertificateType)
class CertificateTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "issuer")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(m.DataElement)
class DataElementAdmin(admin.ModelAdmin):
    list_display = ("key", "label_zh", "label_en", "type", "validator", "sensitivity")
    list_filter = ("type", "sensitivity")
    search_fields = ("key", "label_zh", "label_en")


@admin.register(m.Material)
class MaterialAdmin(admin.ModelAdmin):
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
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "department", "promised_days", "statutory_days", "handler")
    list_filter = ("handler", "kind", "department", "cross_region")
    search_fields = ("code", "name_zh", "name_en")
    inlines = (ServiceFieldInline, ServiceMaterialInline, ServiceOutputInline)


class QuestionInline(admin.StackedInline):
    model = m.Question
    extra = 0


class ThingMemberInline(admin.TabularInline):
    model = m.ThingMember
    extra = 0
    autocomplete_fields = ("service",)
    fields = ("position", "service", "when", "after")


@admin.register(m.Thing)
class ThingAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "audience", "lead_department")
    list_filter = ("audience",)
    search_fields = ("code", "name_zh", "name_en")
    inlines = (QuestionInline, ThingMemberInline)
