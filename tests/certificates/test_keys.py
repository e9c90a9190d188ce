"""The key folder: made on first use with private permissions, rotated without losing keys."""

from __future__ import annotations

import stat
import threading

import pytest

from onething.certificates import jws
from onething.certificates.keys import KeyStore, KeyStoreError


def test_the_first_use_makes_one_private_key_named_by_its_thumbprint(tmp_path):
    store = KeyStore(tmp_path / "data" / "keys")
    key = store.active()
    directory = tmp_path / "data" / "keys"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    pem = directory / f"{key.kid}.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert stat.S_IMODE((directory / "active").stat().st_mode) == 0o600
    assert key.kid == jws.thumbprint(key.private_key)
    assert store.active().kid == key.kid
    assert sorted(p.name for p in directory.iterdir()) == sorted([pem.name, "active"])


def test_rotation_keeps_every_earlier_key_and_publishes_them_all(tmp_path):
    store = KeyStore(tmp_path)
    first = store.active()
    token = jws.sign({"n": 1}, first.private_key, kid=first.kid)
    second = store.rotate()
    third = store.rotate()
    assert store.active().kid == third
    assert store.kids()[0] == third
    assert set(store.kids()) == {first.kid, second, third}
    assert jws.verify(token, store.public_keys()).payload == {"n": 1}
    published = store.jwks()["keys"]
    assert published[0]["kid"] == third
    assert {k["kid"] for k in published} == {first.kid, second, third}
    for entry in published:
        assert set(entry) == {"kty", "crv", "x", "kid", "use", "alg"}
        assert jws.thumbprint(jws.public_key_from_jwk(entry)) == entry["kid"]


def test_an_empty_folder_publishes_no_keys(tmp_path):
    assert KeyStore(tmp_path / "none").jwks() == {"keys": []}


def test_processes_starting_together_end_up_with_one_active_key(tmp_path):
    directory = tmp_path / "keys"
    results: list[str] = []
    barrier = threading.Barrier(8)

    def first_use():
        barrier.wait()
        results.append(KeyStore(directory).active().kid)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert KeyStore(directory).kids() == results[:1]


def test_a_key_file_that_does_not_match_its_name_is_refused(tmp_path):
    store = KeyStore(tmp_path)
    kid = store.active().kid
    other = store.rotate()
    (tmp_path / f"{kid}.pem").write_bytes((tmp_path / f"{other}.pem").read_bytes())
    with pytest.raises(KeyStoreError, match="does not match"):
        store.public_keys()
