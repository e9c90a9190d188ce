"""Reads of the catalog shared by its readers: names by code."""

from __future__ import annotations

from django.utils import translation

from onething.catalog import models as m
from onething.catalog.selectors import names_by_code


def test_names_by_code_are_the_catalog_names_in_the_active_language(db):
    departments = list(m.Department.objects.order_by("code")[:2])
    codes = [d.code for d in departments]
    with translation.override("zh-hans"):
        chinese = names_by_code(m.Department, [*codes, codes[0], "no-such-department"])
    with translation.override("en"):
        english = names_by_code(m.Department, iter(codes))
    assert chinese == {d.code: d.name_zh for d in departments}
    assert english == {d.code: d.name_en or d.name_zh for d in departments}


def test_without_codes_every_row_is_named_in_code_order(db):
    with translation.override("en"):
        named = names_by_code(m.Thing)
    assert list(named) == sorted(m.Thing.objects.values_list("code", flat=True))
    assert len(named) > 1
    assert names_by_code(m.Thing, []) == {}
