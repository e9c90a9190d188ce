from __future__ import annotations

import pytest
from django.conf import settings
from hypothesis import settings as hypothesis_settings

from onething.catalog.validation import Catalog, read_catalog
from onething.sharing.registers import RegisterSet, read_registers

DEMO_REGISTERS = settings.DEMO_REGISTERS_DIR

# No per-example deadline: on a shared 2-core machine under load, hypothesis's 200 ms would fail
# correct code on timing alone (seen once on test_any_untouched_chain_is_intact).
hypothesis_settings.register_profile("onething", deadline=None)
hypothesis_settings.load_profile("onething")


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the platform's default language: Django's test client leaves the
    language of its last request active in the thread, which would leak into the next test."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _catalog_revision_read_afresh():
    """Each test's database has its own catalog revision (a test's load is rolled back after
    it): planning must not trust the revision the previous test read less than a second ago."""
    from onething.catalog.selectors import catalog_revision_forget

    catalog_revision_forget()


@pytest.fixture(scope="session")
def demo_catalog() -> Catalog:
    """The shipped demo catalog, read from its YAML files (no database)."""
    return read_catalog([settings.CATALOG_DEFINITIONS_DIR])


@pytest.fixture(scope="session")
def demo_registers() -> RegisterSet:
    """The demo's registers (population, births, deaths, marriages, enterprises), read from YAML."""
    return read_registers([settings.DEMO_REGISTERS_DIR])


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, demo_catalog):
    """Load the demo catalog once per test database; each test rolls back its own changes."""
    from onething.catalog.services import catalog_load

    with django_db_blocker.unblock():
        catalog_load(actor="test", catalog=demo_catalog)


@pytest.fixture
def loaded_catalog(db, demo_catalog):
    """The demo catalog in the test database (reloaded after a transactional test emptied it)."""
    from onething.catalog.models import Thing
    from onething.catalog.services import catalog_load

    if not Thing.objects.exists():
        catalog_load(actor="test", catalog=demo_catalog)
    return demo_catalog


LIN_XIAOYAN = "350203199406121242"  # the newborn's mother in the demo population


@pytest.fixture
def resident_mother(db, loaded_catalog, demo_registers):
    """林晓燕 of the demo registers, with her resident ID card e-certificate in her wallet: what
    the departments hold about her and her baby can be read (with consent)."""
    from onething.sharing.services import register_load
    from tests.factories import PersonFactory, id_card_issue

    register_load(actor="test", registers=demo_registers)
    mother = PersonFactory(id_number=LIN_XIAOYAN, real_name="林晓燕")
    id_card_issue(mother, {"name": "林晓燕", "id_number": LIN_XIAOYAN})
    return mother
