from __future__ import annotations

import pytest
from django.conf import settings

from onething.catalog.validation import Catalog, read_catalog


@pytest.fixture(scope="session")
def demo_catalog() -> Catalog:
    """The shipped demo catalog, read from its YAML files (no database)."""
    return read_catalog([settings.CATALOG_DEFINITIONS_DIR])


@pytest.fixture
def loaded_catalog(db, demo_catalog):
    """The demo catalog loaded into the test database."""
    from onething.catalog.services import catalog_load

    catalog_load(actor="test", catalog=demo_catalog)
    return demo_catalog
