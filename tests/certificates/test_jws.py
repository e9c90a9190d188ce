"""Compact JWS with Ed25519: RFC vectors, round trips, and refusal of every changed byte."""

from __future__ import annotations

import json
import random
import string

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from onething.certificates import jws

# RFC 8037, appendix A.
RFC_PRIVATE = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC_PUBLIC = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC_TOKEN = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)
B64URL_ALPHABET = string.ascii_letters + string.digits + "-_"


@pytest.fixture(scope="module")
def key():
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def keys(key):
    return {jws.thumbprint(key): key.public_key()}


def test_the_thumbprint_is_the_rfc_8037_example():
    public = jws.public_key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": RFC_PUBLIC})
    assert jws.thumbprint(public) == RFC_THUMBPRINT


def test_the_rfc_8037_signature_verifies_and_ed25519_signing_reproduces_it():
    private = Ed25519PrivateKey.from_private_bytes(jws.b64url_decode(RFC_PRIVATE))
    assert jws.public_jwk(private)["x"] == RFC_PUBLIC
    parsed = jws.parse(RFC_TOKEN)
    assert parsed.payload_bytes == b"Example of Ed25519 signing"
    assert jws.verify_signature(parsed, private.public_key())
    assert jws.b64url_encode(private.sign(parsed.signing_input)) == RFC_TOKEN.split(".")[2]


def test_a_signed_payload_verifies_with_its_header(key, keys):
    token = jws.sign({"number": "A-1", "名字": "林小燕"}, key)
    verified = jws.verify(token, keys)
    assert verified.payload == {"number": "A-1", "名字": "林小燕"}
    assert verified.header == {"alg": "EdDSA", "kid": jws.thumbprint(key), "typ": "JWT"}
    assert "=" not in token


def test_a_thousand_generated_certificates_verify(key, keys):
    rng = random.Random(7)
    tokens = []
    for index in range(1000):
        payload = {
            "code": f"C{index:05d}",
            "number": f"BIRTH-2026-{index:06d}",
            "holder": {"name": "".join(rng.choice("林陈黄张小燕明华") for _ in range(3))},
            "data": {"weight": rng.randint(2000, 4500), "note": rng.random()},
        }
        tokens.append((payload, jws.sign(payload, key)))
    assert len({token for _, token in tokens}) == 1000
    for payload, token in tokens:
        assert jws.verify(token, keys).payload == payload


def test_every_changed_character_of_a_token_is_refused(key, keys):
    token = jws.sign({"number": "BIRTH-2026-000001", "holder": {"name": "林小燕"}}, key)
    rng = random.Random(11)
    for position, original in enumerate(token):
        choices = [c for c in B64URL_ALPHABET + "." if c != original]
        for replacement in rng.sample(choices, 3):
            changed = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(jws.JWSError):
                jws.verify(changed, keys)


def test_every_changed_byte_of_the_encoded_token_is_refused(key, keys):
    raw = jws.sign({"n": 1}, key).encode()
    for position in range(len(raw)):
        for flip in (0x01, 0x20, 0x80):
            changed = bytearray(raw)
            changed[position] ^= flip
            with pytest.raises(jws.JWSError):
                jws.verify(changed.decode("latin-1"), keys)


def test_appended_or_removed_characters_are_refused(key, keys):
    token = jws.sign({"n": 1}, key)
    for changed in (token + "A", token[:-1], "A" + token, token + ".", token + "=", " " + token):
        with pytest.raises(jws.JWSError):
            jws.verify(changed, keys)


def test_a_non_canonical_last_character_is_refused(key, keys):
    """86 characters carry the 64 signature bytes; the last one has 4 unused bits."""
    token = jws.sign({"n": 1}, key)
    head, signature = token.rsplit(".", 1)
    last = B64URL_ALPHABET.index(signature[-1])
    sibling = B64URL_ALPHABET[last ^ 0b0001]
    assert jws.base64.urlsafe_b64decode(signature[:-1] + sibling + "==") == jws.b64url_decode(
        signature
    )
    with pytest.raises(jws.JWSError, match="malformed"):
        jws.verify(f"{head}.{signature[:-1]}{sibling}", keys)


def _token(header: dict, payload: dict, key) -> str:
    signing_input = (
        jws.b64url_encode(json.dumps(header).encode())
        + "."
        + jws.b64url_encode(json.dumps(payload).encode())
    )
    return signing_input + "." + jws.b64url_encode(key.sign(signing_input.encode()))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"alg": "none"}, "unsupported"),
        ({"alg": "HS256"}, "unsupported"),
        ({"alg": "EdDSA", "crit": ["exp"]}, "unsupported"),
        ({"alg": "EdDSA"}, "unknown_key"),
        ({"alg": "EdDSA", "kid": "someone-else"}, "unknown_key"),
    ],
)
def test_headers_we_do_not_accept_are_refused_with_a_reason(key, keys, header, reason):
    kid = jws.thumbprint(key)
    if header.get("kid") is None and reason != "unknown_key":
        header = {**header, "kid": kid}
    with pytest.raises(jws.JWSError) as caught:
        jws.verify(_token(header, {"n": 1}, key), keys)
    assert caught.value.reason == reason


def test_a_token_signed_by_another_key_with_our_kid_is_refused(key, keys):
    forger = Ed25519PrivateKey.generate()
    token = jws.sign({"n": 1}, forger, kid=jws.thumbprint(key))
    with pytest.raises(jws.JWSError) as caught:
        jws.verify(token, keys)
    assert caught.value.reason == "bad_signature"


@pytest.mark.parametrize(
    "token", ["", "a.b", "a.b.c.d", "!!.e30.AA", "e30.e30.", "W10.e30.AA", "bm90IGpzb24.e30.AA"]
)
def test_malformed_tokens_are_refused_as_malformed(keys, token):
    with pytest.raises(jws.JWSError) as caught:
        jws.verify(token, keys)
    assert caught.value.reason in {"malformed", "unsupported"}


def test_a_payload_that_is_not_an_object_is_refused(key, keys):
    token = _token({"alg": "EdDSA", "kid": jws.thumbprint(key)}, [1, 2], key)  # type: ignore[arg-type]
    with pytest.raises(jws.JWSError, match="malformed"):
        jws.verify(token, keys)


@given(st.binary(max_size=200))
def test_base64url_round_trips_without_padding(data):
    text = jws.b64url_encode(data)
    assert "=" not in text
    assert jws.b64url_decode(text) == data


@given(st.text(max_size=40))
def test_decoding_either_round_trips_or_refuses(text):
    try:
        data = jws.b64url_decode(text)
    except ValueError:
        return
    assert jws.b64url_encode(data) == text
