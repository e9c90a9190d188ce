"""A scratch PostgreSQL database for one benchmark run: created, migrated, the demo catalog
loaded, and dropped afterwards (through `.ci/pgdb.py`, as CI makes its own)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"


def _pgdb(action: str, name: str) -> None:
    subprocess.run(  # noqa: S603 - our own script, a fixed argument list
        [sys.executable, str(ROOT / ".ci" / "pgdb.py"), action, name], check=True
    )


@contextlib.contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A new database named after `prefix` and this process; its URL is DATABASE_URL inside."""
    name = f"{prefix}_{os.getpid()}"
    _pgdb("create", name)
    url = f"{SERVER}/{name}"
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    try:
        yield url
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        _pgdb("drop", name)


def setup_django_with_catalog() -> None:
    """Django on DATABASE_URL, migrated, with the demo catalog loaded (as `onething demo` does)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onething.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from onething.catalog.services import catalog_load
    from onething.catalog.validation import read_catalog

    call_command("migrate", verbosity=0)
    catalog_load(actor="bench", catalog=read_catalog([settings.CATALOG_DEFINITIONS_DIR]))
