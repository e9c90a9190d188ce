"""Every visible string has a Chinese translation, and the compiled catalogs match the sources."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[1] / "src" / "onething" / "locale"


def test_the_chinese_catalog_is_complete():
    catalog = polib.pofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in catalog if e.obsolete is False and not e.translated()]
    assert missing == []
    assert [e.msgid for e in catalog.fuzzy_entries()] == []


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_the_compiled_catalog_matches_its_source(language):
    source = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    compiled = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))
    expected = {(e.msgid, e.msgstr or str(e.msgstr_plural)) for e in source.translated_entries()}
    actual = {(e.msgid, e.msgstr or str(e.msgstr_plural)) for e in compiled if e.msgid}
    assert actual == expected, "run `uv run python tools/i18n.py --compile`"
