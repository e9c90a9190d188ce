"""Compact JWS (RFC 7515) signed with Ed25519 (RFC 8037, alg "EdDSA"), and Ed25519 JWKs.

Strict on what it accepts: exactly three base64url parts without padding, each in its one
canonical encoding (so no two tokens that differ in any byte both verify), a JSON object header
naming alg "EdDSA" and a known `kid`, no `crit` extensions, and a JSON object payload.
No Django import here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG = "EdDSA"
TYP = "JWT"
B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
# A kid is our RFC 7638 thumbprint: SHA-256, base64url without padding.
KID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
MAX_TOKEN_LENGTH = 64 * 1024


class JWSError(ValueError):
    """Why a token was refused; `reason` is a stable code (`bad_signature`, `unknown_key` …)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes of unpadded base64url `text`; only the canonical encoding is accepted."""
    if not B64URL.match(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not unpadded base64url") from None
    # The last character may carry unused bits: a different character decoding to the same
    # bytes would be a changed token that still verifies.
    if b64url_encode(data) != text:
        raise ValueError("not the canonical base64url encoding")
    return data


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- keys --------------------------------------------------------------------------------------


def public_jwk(key: Ed25519PublicKey | Ed25519PrivateKey) -> dict[str, str]:
    """The public key as an RFC 8037 OKP JWK (the members a thumbprint covers)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(raw)}


def thumbprint(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of the public key: our `kid`."""
    digest = hashlib.sha256(canonical_json(public_jwk(key))).digest()
    return b64url_encode(digest)


def public_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("not an Ed25519 OKP key")
    raw = b64url_decode(str(jwk.get("x", "")))
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


# --- signing and verifying ---------------------------------------------------------------------


def sign(
    payload: Mapping[str, Any], key: Ed25519PrivateKey, *, kid: str | None = None, typ: str = TYP
) -> str:
    """`header.payload.signature` over the canonical JSON of `payload`."""
    header = {"alg": ALG, "kid": kid or thumbprint(key), "typ": typ}
    signing_input = (
        b64url_encode(canonical_json(header)) + "." + b64url_encode(canonical_json(dict(payload)))
    )
    signature = key.sign(signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(signature)


@dataclass(frozen=True)
class Parsed:
    header: dict[str, Any]
    payload_bytes: bytes
    signing_input: bytes
    signature: bytes

    @property
    def kid(self) -> str:
        return str(self.header.get("kid", ""))


@dataclass(frozen=True)
class Verified:
    header: dict[str, Any]
    payload: dict[str, Any]

    @property
    def kid(self) -> str:
        return str(self.header["kid"])


def parse(token: str) -> Parsed:
    """Split and decode a compact JWS without checking the signature; JWSError if malformed."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise JWSError("malformed", "not a token of a sensible length")
    parts = token.split(".")
    if len(parts) != 3:
        raise JWSError("malformed", "a compact JWS has three parts separated by dots")
    try:
        header_bytes, payload_bytes, signature = (b64url_decode(part) for part in parts)
    except ValueError as exc:
        raise JWSError("malformed", str(exc)) from None
    try:
        header = json.loads(header_bytes)
    except (ValueError, UnicodeDecodeError):
        raise JWSError("malformed", "the header is not JSON") from None
    if not isinstance(header, dict):
        raise JWSError("malformed", "the header is not a JSON object")
    signing_input = (parts[0] + "." + parts[1]).encode("ascii")
    return Parsed(header, payload_bytes, signing_input, signature)


def verify_signature(parsed: Parsed, key: Ed25519PublicKey) -> bool:
    if len(parsed.signature) != 64:
        return False
    try:
        key.verify(parsed.signature, parsed.signing_input)
    except InvalidSignature:
        return False
    return True


def verify(token: str, keys: Mapping[str, Ed25519PublicKey]) -> Verified:
    """The header and payload of `token` if it is signed by the key its `kid` names.

    Raises JWSError with reason `malformed`, `unsupported` (alg other than EdDSA, `crit`),
    `unknown_key` or `bad_signature`.
    """
    parsed = parse(token)
    header = parsed.header
    if header.get("alg") != ALG:
        raise JWSError("unsupported", f"alg must be {ALG}")
    if "crit" in header:
        raise JWSError("unsupported", "no critical header extensions are understood")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        raise JWSError("unknown_key", "the key that signed it is not one of ours")
    if not verify_signature(parsed, keys[kid]):
        raise JWSError("bad_signature", "the signature does not match")
    try:
        payload = json.loads(parsed.payload_bytes)
    except (ValueError, UnicodeDecodeError):
        raise JWSError("malformed", "the payload is not JSON") from None
    if not isinstance(payload, dict):
        raise JWSError("malformed", "the payload is not a JSON object")
    return Verified(header, payload)
