"""Refresh the translation catalogs and compile them (developer tool).

    uv run python tools/i18n.py            # makemessages (needs GNU xgettext) + compile
    uv run python tools/i18n.py --compile  # compile only (pure Python, via polib)

The compiled .mo files are committed, so running OneThing never needs gettext tools.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import polib

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "onething"
LOCALES = ("zh_Hans", "en")


def make_messages() -> None:
    if not shutil.which("xgettext"):
        sys.exit(
            "xgettext (GNU gettext) is needed to extract strings; use --compile to compile only"
        )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onething.settings")
    import django
    from django.core.management import call_command

    django.setup()
    os.chdir(PACKAGE)
    call_command(
        "makemessages",
        locale=list(LOCALES),
        domain="django",
        no_obsolete=True,
        add_location="file",
        ignore_patterns=["static/*", "catalog/definitions/*"],
        verbosity=0,
    )


def compile_messages() -> None:
    for po_path in sorted((PACKAGE / "locale").glob("*/LC_MESSAGES/*.po")):
        catalog = polib.pofile(str(po_path))
        catalog.save_as_mofile(str(po_path.with_suffix(".mo")))
        print(f"{po_path.relative_to(PACKAGE)}: {catalog.percent_translated()}% translated")


if __name__ == "__main__":
    if "--compile" not in sys.argv:
        make_messages()
    compile_messages()
