"""Loading the catalog into the database: idempotent, all or nothing, and faithful."""

from __future__ import annotations

import pytest
from django.db import connection

from onething.catalog import models as m
from onething.catalog import selectors
from onething.catalog.plan_output import plan_as_dict
from onething.catalog.planning import plan
from onething.catalog.services import catalog_load

pytestmark = pytest.mark.django_db

TABLES = (
    m.Region,
    m.Department,
    m.DataElement,
    m.Material,
    m.Service,
    m.ServiceField,
    m.ServiceMaterial,
    m.ServiceOutput,
    m.Thing,
    m.Question,
    m.ThingMember,
)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TABLES}


def test_loading_twice_changes_nothing(demo_catalog):
    m.Thing.objects.all().delete()
    first = catalog_load(actor="test", catalog=demo_catalog)
    assert first.created["things"] == len(demo_catalog.things)
    counts = row_counts()
    second = catalog_load(actor="test", catalog=demo_catalog)
    assert row_counts() == counts
    assert sum(second.created.values()) == 0
    assert second.updated["services"] == len(demo_catalog.services)


def test_a_reload_applies_edits_and_drops_removed_children(demo_catalog):
    catalog_load(actor="test", catalog=demo_catalog)
    service = demo_catalog.services["birth_hukou_registration"]
    edited = service.model_copy(
        update={
            "name": service.name.model_copy(update={"en": "Birth registration"}),
            "fields": service.fields[:1],
        }
    )
    demo_catalog_edited = type(demo_catalog)(
        **{**demo_catalog.__dict__, "services": {**demo_catalog.services, service.code: edited}}
    )
    catalog_load(actor="test", catalog=demo_catalog_edited)
    stored = m.Service.objects.get(code=service.code)
    assert stored.name_en == "Birth registration"
    assert [f.element.key for f in stored.fields.all()] == [service.fields[0].element]


@pytest.mark.parametrize(
    ("thing", "answers"),
    [
        ("newborn", {"mother_insured": "yes"}),
        ("open_restaurant", {"floor_area": "600", "has_signboard": "yes", "sells_tobacco": "yes"}),
        ("retirement", {"retirement_type": "disability"}),
        ("after_death", {"death_cause": "unnatural", "held_driving_licence": "yes"}),
        ("home_transfer", {"transfer_broadband": "yes"}),
        ("enterprise_change", {"change_name": "yes", "has_food_licence": "yes"}),
    ],
)
def test_a_plan_from_the_database_equals_the_plan_from_the_files(demo_catalog, thing, answers):
    catalog_load(actor="test", catalog=demo_catalog)
    from_files = plan_as_dict(plan(demo_catalog.bundle(thing), answers), "en")
    from_database = plan_as_dict(selectors.thing_plan(thing, answers), "en")
    assert from_database == from_files


def test_the_test_database_is_the_one_asked_for():
    import os

    if os.environ.get("ONETHING_TEST_DATABASE_URL", "").startswith("postgres"):
        assert connection.vendor == "postgresql"
    else:
        assert connection.vendor == "sqlite"
