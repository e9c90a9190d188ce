"""Signatures: HMAC-SHA256 with the secret shared by both ends.

A callback signs its raw body; a registry read (which has no body) signs `read_message`: the
method, the request target and the purpose header, one a line. The header value is
``sha256=<lowercase hex digest>``. The platform reuses `verify_signature` to check department
callbacks, so it must never raise on hostile input and must compare in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-OneThing-Signature"
EVENT_ID_HEADER = "X-OneThing-Event-Id"
PURPOSE_HEADER = "X-OneThing-Purpose"
_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The signature header value for `body`: ``sha256=`` and the hex HMAC-SHA256 with `secret`."""
    if not secret:
        raise ValueError("secret must not be empty")
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def read_message(target: str, purpose: str) -> bytes:
    """What a registry read's signature covers: ``GET``, the request target (path and query as
    sent) and the purpose header value, joined by newlines."""
    return f"GET\n{target}\n{purpose}".encode()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of `body` under `secret`.

    False (never an exception) for a missing, malformed or non-ASCII header or an empty secret;
    the digest is compared in constant time.
    """
    if not secret or not header:
        return False
    candidate = header.strip()
    if not candidate.lower().startswith(_PREFIX):
        return False
    try:
        given = candidate[len(_PREFIX) :].lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    expected = sign(secret, body)[len(_PREFIX) :].encode("ascii")
    return hmac.compare_digest(expected, given)
