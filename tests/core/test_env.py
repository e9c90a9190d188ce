from __future__ import annotations

import pytest

from onething.core.env import EnvError, env_bool, env_list


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("off", False), ("", False)]
)
def test_env_bool_reads_the_usual_words(monkeypatch, raw, expected):
    monkeypatch.setenv("ONETHING_X", raw)
    assert env_bool("ONETHING_X") is expected


def test_env_bool_names_the_variable_when_it_cannot_read_it(monkeypatch):
    monkeypatch.setenv("ONETHING_X", "perhaps")
    with pytest.raises(EnvError, match="ONETHING_X"):
        env_bool("ONETHING_X")


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("ONETHING_HOSTS", "a.example, b.example,")
    assert env_list("ONETHING_HOSTS", []) == ["a.example", "b.example"]
    monkeypatch.delenv("ONETHING_HOSTS")
    assert env_list("ONETHING_HOSTS", ["x"]) == ["x"]
