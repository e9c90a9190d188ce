"""Callback signatures, as the platform will verify them."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from onething.simulator import sign, verify_signature


def test_the_signature_is_the_hex_hmac_sha256_of_the_body():
    body = b'{"case":"A-1"}'

    expected = hmac.new(b"secret", body, hashlib.sha256).hexdigest()

    assert sign("secret", body) == f"sha256={expected}"


def test_a_signature_verifies_with_the_same_secret_and_body():
    body = '{"reason":"材料不全"}'.encode()

    assert verify_signature("secret", body, sign("secret", body))


@pytest.mark.parametrize(
    ("secret", "body", "header"),
    [
        ("other", b"{}", sign("secret", b"{}")),
        ("secret", b"{} ", sign("secret", b"{}")),
        ("secret", b"{}", None),
        ("secret", b"{}", ""),
        ("secret", b"{}", sign("secret", b"{}").removeprefix("sha256=")),
        ("secret", b"{}", "md5=" + sign("secret", b"{}").removeprefix("sha256=")),
        ("secret", b"{}", "sha256=é"),
        ("secret", b"{}", "sha256="),
        ("", b"{}", "sha256=" + hmac.new(b"", b"{}", hashlib.sha256).hexdigest()),
    ],
)
def test_anything_else_does_not_verify_and_never_raises(secret, body, header):
    assert verify_signature(secret, body, header) is False


def test_surrounding_whitespace_and_uppercase_hex_still_verify():
    header = sign("secret", b"{}")
    shouting = "sha256=" + header.removeprefix("sha256=").upper()

    assert verify_signature("secret", b"{}", f"  {header} ")
    assert verify_signature("secret", b"{}", shouting)


def test_signing_with_an_empty_secret_is_refused():
    with pytest.raises(ValueError, match="secret"):
        sign("", b"{}")
