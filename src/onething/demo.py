"""What `onething demo` puts in a fresh data folder: the demo catalog and the demo logins.

Everything here is idempotent: a second run finds the rows and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from onething.catalog.services import LoadReport, catalog_load
from onething.catalog.validation import read_catalog


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    where: str


DEMO_LOGINS = (DemoLogin("catalog administrator", "admin", "onething-demo", "/admin/"),)


@transaction.atomic
def demo_prepare() -> tuple[LoadReport, tuple[DemoLogin, ...]]:
    """Load the shipped catalog and make sure every demo login exists with its password."""
    report = catalog_load(actor="demo", catalog=read_catalog([settings.CATALOG_DEFINITIONS_DIR]))
    users = get_user_model()
    for login in DEMO_LOGINS:
        user, created = users.objects.get_or_create(
            username=login.username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(login.password)
            user.save(update_fields=["password"])
    return report, DEMO_LOGINS
