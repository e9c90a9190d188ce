"""E-certificates API: the caller's wallet, revocation by the issuer, and public verification.

Only verification is open to anyone (auth=None); the wallet and revocation need a signed-in
user, and the selectors and services decide what each may see and do.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from onething.accounts.auth import API_AUTH
from onething.certificates import selectors, services
from onething.certificates.jws import MAX_TOKEN_LENGTH
from onething.certificates.models import Certificate
from onething.certificates.presentation import (
    STATUS_LABELS,
    masked_data,
    public_view,
    verdict_view,
    verification_url,
)
from onething.core.errors import InvalidInput, NotFound
from onething.core.masking import mask
from onething.core.schemas import ErrorOut

router = Router(tags=["certificates"], auth=API_AUTH)


class VerifyIn(Schema):
    code: str | None = Field(
        None, max_length=64, description="a verification code, e.g. 7K3Q-XZ0M-PA4N"
    )
    jws: str | None = Field(
        None, max_length=MAX_TOKEN_LENGTH, description="or a signed certificate (compact JWS)"
    )


class ReasonOut(Schema):
    code: str
    message: str


class PublicCertificateOut(Schema):
    type: str
    type_name: str
    number: str
    issuer: str
    issuer_name: str
    issued_at: str
    holder_name: str = Field(description="partly masked")
    holder_id_number: str = Field(description="masked")
    status: Literal["valid", "revoked"]
    revoked_at: str | None


class VerdictOut(Schema):
    status: Literal["valid", "revoked", "invalid", "unknown"]
    label: str
    summary: str
    genuine: bool
    unaltered: bool
    revoked: bool
    reasons: list[ReasonOut]
    certificate: PublicCertificateOut | None


class WalletItem(Schema):
    verification_code: str
    verify_url: str
    type: str
    type_name: str
    number: str
    issuer: str
    issuer_name: str
    issued_at: str
    holder_kind: Literal["person", "enterprise"]
    holder_name: str
    holder_id_number: str = Field(description="masked")
    data: dict[str, Any]
    status: Literal["valid", "revoked"]
    status_label: str
    revoked_at: str | None
    application_reference: str
    kid: str
    jws: str = Field(description="the signed certificate, to present to anyone")


class Wallet(Schema):
    items: list[WalletItem]
    count: int


class RevokeIn(Schema):
    reason: str = Field(max_length=services.MAX_REASON_LENGTH)


class RevokedOut(Schema):
    verification_code: str
    number: str
    status: Literal["valid", "revoked"]
    revoked_at: str | None
    reason: str


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _wallet_item(request: HttpRequest, certificate: Certificate) -> dict[str, Any]:
    return {
        "verification_code": certificate.verification_code,
        "verify_url": verification_url(request, certificate.verification_code),
        "type": certificate.type.code,
        "type_name": certificate.type.name,
        "number": certificate.number,
        "issuer": certificate.issuer.code,
        "issuer_name": certificate.issuer.name,
        "issued_at": certificate.issued_at.isoformat(),
        "holder_kind": "enterprise" if certificate.holder_enterprise_id else "person",
        "holder_name": certificate.holder_name,
        "holder_id_number": mask(certificate.holder_id_number),
        "data": masked_data(certificate),
        "status": certificate.status,
        "status_label": str(STATUS_LABELS[Certificate.Status(certificate.status)]),
        "revoked_at": _iso(certificate.revoked_at),
        "application_reference": certificate.application_reference,
        "kid": certificate.kid,
        "jws": certificate.jws,
    }


def _public_certificate(certificate: Certificate) -> dict[str, Any]:
    view = public_view(certificate)
    return {
        "type": view["type"],
        "type_name": str(view["type_name"]),
        "number": view["number"],
        "issuer": view["issuer"],
        "issuer_name": str(view["issuer_name"]),
        "issued_at": view["issued_at"].isoformat(),
        "holder_name": view["holder_name"],
        "holder_id_number": view["holder_id_number"],
        "status": view["status"],
        "revoked_at": _iso(view["revoked_at"]),
    }


@router.get("", response=Wallet, summary="My wallet: every certificate I hold or my enterprises")
def wallet(request: HttpRequest):
    items = [_wallet_item(request, c) for c in selectors.wallet_for(request.auth)]
    return {"items": items, "count": len(items)}


@router.post(
    "/verify",
    auth=None,
    response={200: VerdictOut, 422: ErrorOut},
    summary="Is a certificate genuine, unaltered and not revoked? (open to anyone)",
    description=(
        "Send exactly one of `code` (a verification code, in any case, with or without "
        "hyphens) or `jws` (a signed certificate). An unknown code or a token that is not ours "
        "is a verdict (200, status `unknown` or `invalid`); a code whose check character does "
        "not match is a typo (422 naming `code`)."
    ),
)
def verify(request: HttpRequest, payload: VerifyIn):
    code = (payload.code or "").strip() or None
    token = (payload.jws or "").strip() or None
    if (code is None) == (token is None):
        message = _("Give either a verification code or a signed certificate (jws).")
        raise InvalidInput(message, fields={"code": message, "jws": message})
    result = selectors.certificate_verify(code=code, token=token)
    body = verdict_view(result.verdict)
    return {
        **body,
        "label": str(body["label"]),
        "summary": str(body["summary"]),
        "reasons": [{"code": r["code"], "message": str(r["message"])} for r in body["reasons"]],
        "certificate": _public_certificate(result.certificate) if result.certificate else None,
    }


@router.post(
    "/{code}/revoke",
    response={200: RevokedOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Revoke a certificate (its issuing department's reviewers or an administrator)",
)
def revoke(request: HttpRequest, code: str, payload: RevokeIn):
    try:
        certificate = selectors.certificate_by_code(code)
    except InvalidInput as exc:
        # In a path, text that cannot be a code names no certificate: not found, and why.
        raise NotFound(_("No certificate has this verification code."), fields=exc.fields) from None
    if certificate is None:
        raise NotFound(_("No certificate has this verification code."))
    revoked = services.certificate_revoke(
        actor=request.auth, certificate=certificate, reason=payload.reason
    )
    return {
        "verification_code": revoked.verification_code,
        "number": revoked.number,
        "status": revoked.status,
        "revoked_at": _iso(revoked.revoked_at),
        "reason": revoked.revocation_reason,
    }
