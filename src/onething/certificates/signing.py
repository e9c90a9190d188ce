"""The platform's signing keys, and what a stored certificate says was signed."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from onething.certificates.keys import KeyStore
from onething.certificates.models import Certificate
from onething.certificates.payload import certificate_payload


def platform_keys() -> KeyStore:
    """The platform's signing keys (the folder `ONETHING_KEYS_DIR`)."""
    return KeyStore(settings.ONETHING_KEYS_DIR)


def payload_of(certificate: Certificate) -> dict[str, Any]:
    """The payload the certificate's row says was signed."""
    return certificate_payload(
        code=certificate.verification_code,
        type_code=certificate.type.code,
        type_name={"zh": certificate.type.name_zh, "en": certificate.type.name_en},
        number=certificate.number,
        issuer_code=certificate.issuer.code,
        issuer_name={"zh": certificate.issuer.name_zh, "en": certificate.issuer.name_en},
        holder_kind="enterprise" if certificate.holder_enterprise_id else "person",
        holder_name=certificate.holder_name,
        holder_id_number=certificate.holder_id_number,
        data=certificate.data,
        issued_at=certificate.issued_at,
        application_reference=certificate.application_reference,
        case_public_id=str(certificate.case_public_id) if certificate.case_public_id else None,
    )
