"""`onething keys rotate`."""

from __future__ import annotations

import pytest

from onething.certificates.signing import platform_keys
from onething.cli import main


@pytest.mark.django_db
def test_keys_rotate_makes_a_new_active_key_and_keeps_the_old_one(capsys):
    old = platform_keys().active().kid
    assert main(["keys", "rotate"]) == 0
    new = platform_keys().active().kid
    assert new != old
    assert new in capsys.readouterr().out
    assert set(platform_keys().kids()) == {old, new}
