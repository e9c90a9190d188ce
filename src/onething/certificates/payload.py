"""What a certificate's signature covers: the payload, built from plain values.

The same function builds the payload when a certificate is issued and again from the stored row
when it is verified; the two must agree on every value the register holds (`REGISTER_CLAIMS`),
or the row was changed after signing. Names of the type and the issuer are signed too, for
offline readers, but are not compared: the catalog may rename a department later.
No Django import here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

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
        "holder": {"kind": holder_kind, "name": holder_name, "id": holder_id_number},
        "data": dict(data),
        "iat": int(issued_at.timestamp()),
        "application": application_reference,
        "case": case_public_id,
    }


def register_claims(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The claims that must equal the register's row."""
    return {name: payload.get(name) for name in REGISTER_CLAIMS}
