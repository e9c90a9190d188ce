"""Reads the prefill makes on every request: the catalog's sources and grants (cached until the
catalog changes), who is who around the applicant (resolved once per request), and the
departments' endpoints (read only when a remote source is asked)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from onething.catalog.models import CatalogRevision, DataSource, Department, Grant
from onething.catalog.selectors import catalog_revision_forget
from onething.catalog.services import catalog_revision_bump
from onething.sharing import selectors
from onething.sharing.services import PrefillRequest, prefill_run, register_load
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

LIN = "350203199406121242"  # the newborn's mother in the demo population
HUANG = "350200197004083572"  # his father died last week


@pytest.fixture
def registers(loaded_catalog, demo_registers):
    register_load(actor="test", registers=demo_registers)


def queries_naming(captured, table: str) -> int:
    return sum(table in query["sql"] for query in captured.captured_queries)


def _edit_sources_grants_and_a_department(changed) -> None:
    """Rename a source, narrow a grant, rename a department, delete a source; `changed()` after
    each, as a catalog load or an admin edit follows its writes."""
    source = DataSource.objects.get(code="population_register")
    source.name_en = "Household register"
    source.save()
    changed()
    with translation.override("en"):
        assert selectors.source_names()["population_register"][0] == "Household register"
    grant = Grant.objects.get(code="newborn_parents")
    grant.elements = ["mother.name"]
    grant.save()
    changed()
    newborn = next(g for g in selectors.sharing_grants() if g.code == "newborn_parents")
    assert newborn.elements == frozenset({"mother.name"})
    health = Department.objects.get(code="fj_public_security")
    health.name_en = "Police"
    health.save()
    changed()
    with translation.override("en"):
        assert selectors.source_names()["population_register"][1] == "Police"
    source.delete()
    changed()
    assert "population_register" not in {s.code for s in selectors.sharing_sources()}


def test_the_catalogs_sources_are_built_once_per_catalog_revision(loaded_catalog):
    selectors.sharing_sources()
    with CaptureQueriesContext(connection) as unchanged:
        sources = selectors.sharing_sources()
        selectors.sharing_grants()
        selectors.source_names()
    # The revision read for the first call is trusted for a second: nothing is asked again.
    assert len(unchanged.captured_queries) == 0
    assert "population_register" in {s.code for s in sources}
    # A load and an admin edit bump the revision (catalog_revision_bump): rebuilt after each.
    _edit_sources_grants_and_a_department(catalog_revision_bump)


def test_without_a_catalog_revision_an_aggregate_tells_whether_sources_changed(loaded_catalog):
    CatalogRevision.objects.all().delete()
    catalog_revision_forget()
    selectors.sharing_sources()
    with CaptureQueriesContext(connection) as unchanged:
        selectors.sharing_sources()
    # No revision (trusted for a second, as one would be): one small aggregate per call.
    (aggregate,) = unchanged.captured_queries
    assert "COUNT(" in aggregate["sql"].upper()
    _edit_sources_grants_and_a_department(catalog_revision_forget)


def test_grant_texts_follow_the_language_of_the_request(loaded_catalog):
    with translation.override("en"):
        english = {g.code: g.purpose for g in selectors.sharing_grants()}
    with translation.override("zh-hans"):
        chinese = {g.code: g.purpose for g in selectors.sharing_grants()}
    assert english["retirement_identity"] == "Checking the retiree's identity"
    assert chinese["retirement_identity"] == "核验退休人员身份"


def test_every_role_of_a_request_is_resolved_from_one_read_of_each_person(registers):
    relatives = selectors.Relatives(LIN)
    with CaptureQueriesContext(connection) as captured:
        roles = {of: relatives.role(of) for of in ("mother", "father", "spouse", "applicant")}
        spouse = relatives.spouse()
        relatives.role("mother")
    assert roles == {
        "mother": "applicant",
        "father": "spouse",
        "spouse": "spouse",
        "applicant": "applicant",
    }
    assert spouse == "35020319920203135X"
    assert len(captured.captured_queries) == 1

    son = selectors.Relatives(HUANG)
    with CaptureQueriesContext(connection) as captured:
        assert son.role("deceased") == "deceased"
        assert son.deceased() == "350200194403152113"
        assert son.deceased() == "350200194403152113"
    # His record, then his father's and his mother's (whose records say who died), once each.
    assert len(captured.captured_queries) == 3
    assert selectors.Relatives(LIN).deceased() is None


def test_the_departments_endpoints_are_read_only_when_a_remote_source_is_asked(registers):
    applicant = PersonFactory(id_number=LIN)

    def prefill(wanted, thing):
        request = PrefillRequest(
            actor=applicant,
            applicant_id_number=LIN,
            thing=thing,
            services=(),
            wanted=wanted,
            application_reference="OT20261127-ENDPTS",
        )
        with CaptureQueriesContext(connection) as captured:
            prefill_run(request, budget=0.5)
        return queries_naming(captured, "departmentendpoint")

    assert prefill(("mother.name", "household.address"), "newborn") == 0
    assert prefill(("retiree.name", "retiree.contribution_years"), "retirement") == 1
