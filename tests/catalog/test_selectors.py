"""Reads of the catalog shared by its readers: names by code, plans cached per revision."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import translation

from onething.catalog import models as m
from onething.catalog import selectors
from onething.catalog.selectors import names_by_code, thing_plan
from onething.catalog.services import catalog_load
from onething.core.errors import NotFound


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


NEWBORN_ANSWERS = {"mother_insured": "yes"}


def test_a_thing_is_read_once_per_catalog_revision_which_is_read_once_a_second(
    loaded_catalog, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(selectors, "REVISION_TRUSTED_SECONDS", 60)
    first = thing_plan("newborn", NEWBORN_ANSWERS)
    with django_assert_num_queries(0):
        again = thing_plan("newborn", NEWBORN_ANSWERS)
    assert again == first
    monkeypatch.setattr(selectors, "REVISION_TRUSTED_SECONDS", 0)
    with django_assert_num_queries(1):
        assert thing_plan("newborn", NEWBORN_ANSWERS) == first


def test_a_change_made_by_another_process_is_planned_once_the_revision_is_read_again(
    loaded_catalog, monkeypatch
):
    monkeypatch.setattr(selectors, "REVISION_TRUSTED_SECONDS", 60)
    before = thing_plan("newborn", NEWBORN_ANSWERS)
    # Another process's load: the revision changes, this process is not told.
    m.CatalogRevision.objects.filter(pk=1).update(number=F("number") + 1)
    m.Service.objects.filter(code="birth_hukou_registration").update(name_en="Renamed elsewhere")
    assert thing_plan("newborn", NEWBORN_ANSWERS) == before
    monkeypatch.setattr(selectors, "REVISION_TRUSTED_SECONDS", 0)
    after = thing_plan("newborn", NEWBORN_ANSWERS)
    names = {member.service.code: member.service.name.en for member in after.members}
    assert names["birth_hukou_registration"] == "Renamed elsewhere"


def test_a_catalog_reload_is_planned_at_once(loaded_catalog, demo_catalog):
    before = thing_plan("newborn", NEWBORN_ANSWERS)
    service = demo_catalog.services["birth_hukou_registration"]
    renamed = service.model_copy(
        update={"name": service.name.model_copy(update={"en": "Birth registration, renamed"})}
    )
    edited = type(demo_catalog)(
        **{**demo_catalog.__dict__, "services": {**demo_catalog.services, service.code: renamed}}
    )
    catalog_load(actor="test", catalog=edited)
    after = thing_plan("newborn", NEWBORN_ANSWERS)
    names = {member.service.code: member.service.name.en for member in after.members}
    assert names[service.code] == "Birth registration, renamed"
    assert before != after


def test_a_thing_deleted_in_admin_is_no_longer_planned(client, loaded_catalog):
    thing_plan("retirement", {"retirement_type": "disability"})
    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-1234")
    client.force_login(root)
    thing = m.Thing.objects.get(code="retirement")
    response = client.post(
        "/admin/catalog/thing/",
        {"action": "delete_selected", "_selected_action": [thing.pk], "post": "yes"},
    )
    assert response.status_code == 302
    with pytest.raises(NotFound):
        thing_plan("retirement", {"retirement_type": "disability"})
