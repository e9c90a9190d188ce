"""What a certificate's signature covers: the payload, built from plain values.

The same function builds the payload when a certificate is issued and again from the stored row
when it is verified; the two must agree on every value the register holds (`REGISTER_CLAIMS`),
or the row was changed after signing. Names of the type and the issuer are signed too, for
offline readers, but are not compared: the catalog may rename a department later.
No Django import here.

The signed text is meant to be handed to whoever needs to check the certificate, so personal
numbers never appear in it in clear: a resident ID number, a phone or a bank account is signed as
a SHA-256 digest of (verification code, key, value). Someone shown the ID card can still check it
(`protected_value` gives the same digest); someone holding only the text learns nothing. The
register keeps the clear values for the holder's own view.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from onething.core.masking import is_sensitive_key

VERSION = 1
REGISTER_CLAIMS = (
    "ver",
    "code",
    "type",
    "number",
    "issuer",
    "holder",
    "data",
    "iat",
    "application",
    "case",
)


def protected_value(code: str, key: str, value: Any) -> Any:
    """What the signature carries for a personal number: its digest, tied to this certificate."""
    if value is None or value == "":
        return value
    digest = hashlib.sha256(f"{code}:{key}:{value}".encode()).hexdigest()
    return {"sha256": digest}


def certificate_payload(
    *,
    code: str,
    type_code: str,
    type_name: Mapping[str, str],
    number: str,
    issuer_code: str,
    issuer_name: Mapping[str, str],
    holder_kind: str,
    holder_name: str,
    holder_id_number: str,
    data: Mapping[str, Any],
    issued_at: datetime,
    application_reference: str = "",
    case_public_id: str | None = None,
) -> dict[str, Any]:
    """The JSON object a certificate signs (issued_at is kept to the second, as `iat`)."""
    return {
        "ver": VERSION,
        "code": code,
        "type": type_code,
        "type_name": dict(type_name),
        "number": number,
        "issuer": issuer_code,
        "issuer_name": dict(issuer_name),
        "holder": {
            "kind": holder_kind,
            "name": holder_name,
            # A credit code is public; a person's resident ID number is not.
            "id": holder_id_number
            if holder_kind == "enterprise"
            else protected_value(code, "holder.id_number", holder_id_number),
        },
        "data": {
            key: protected_value(code, key, value) if is_sensitive_key(key) else value
            for key, value in data.items()
        },
        "iat": int(issued_at.timestamp()),
        "application": application_reference,
        "case": case_public_id,
    }


def register_claims(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The claims that must equal the register's row."""
    return {name: payload.get(name) for name in REGISTER_CLAIMS}
