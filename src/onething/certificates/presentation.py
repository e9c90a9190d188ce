"""How certificates and verdicts read on pages and in the API: labels, masked values, the
verification link and its QR code. Shared by views.py and api.py."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onething.applications.presentation import MASKED_SENSITIVITIES
from onething.catalog.models import DataElement, in_language
from onething.catalog.schema import Validator
from onething.certificates.models import Certificate
from onething.certificates.qr import qr_svg
from onething.certificates.verification import Reason, Status, Verdict, mask_name
from onething.core.masking import is_sensitive_key, mask

VERDICT_LABELS = {
    Status.VALID: gettext_lazy("Valid"),
    Status.REVOKED: gettext_lazy("Revoked"),
    Status.INVALID: gettext_lazy("Not genuine or altered"),
    Status.UNKNOWN: gettext_lazy("Unknown"),
}
VERDICT_SUMMARIES = {
    Status.VALID: gettext_lazy(
        "This certificate is genuine, unaltered and in force: the platform issued it as shown."
    ),
    Status.REVOKED: gettext_lazy(
        "This certificate was genuinely issued, but the issuing department has revoked it: "
        "it is no longer in force."
    ),
    Status.INVALID: gettext_lazy(
        "Do not rely on this certificate: its signature does not verify or its content was "
        "changed after it was issued."
    ),
    Status.UNKNOWN: gettext_lazy("No certificate issued by this platform matches."),
}
REASON_MESSAGES = {
    Reason.NO_SUCH_CERTIFICATE: gettext_lazy("No certificate has this verification code."),
    Reason.NOT_REGISTERED: gettext_lazy(
        "The signature is ours, but no such certificate is in the register."
    ),
    Reason.MALFORMED: gettext_lazy("This is not a well-formed signed certificate (JWS)."),
    Reason.UNSUPPORTED: gettext_lazy("The certificate uses a signature method we do not accept."),
    Reason.UNKNOWN_KEY: gettext_lazy("It was not signed with any of the platform's keys."),
    Reason.BAD_SIGNATURE: gettext_lazy("The signature does not match the content: it was changed."),
    Reason.NOT_AS_ISSUED: gettext_lazy("It differs from the certificate as it was issued."),
    Reason.REGISTER_CHANGED: gettext_lazy("The register's record differs from what was signed."),
    Reason.REVOKED: gettext_lazy("The issuing department has revoked it."),
}
STATUS_LABELS = {
    Certificate.Status.VALID: gettext_lazy("Valid"),
    Certificate.Status.REVOKED: gettext_lazy("Revoked"),
}


def verification_url(request: HttpRequest, code: str) -> str:
    """The absolute address of a certificate's public verification page."""
    path = reverse("certificates:verify-code", args=[code])
    if settings.ONETHING_PUBLIC_URL_CONFIGURED:
        return settings.ONETHING_PUBLIC_URL.rstrip("/") + path
    return request.build_absolute_uri(path)


def verification_qr(request: HttpRequest, code: str) -> str:
    """The QR code (inline SVG) of the verification page's address."""
    return qr_svg(verification_url(request, code), title=_("Scan to verify this certificate"))


def is_enterprise(certificate: Certificate) -> bool:
    return certificate.holder_enterprise_id is not None


def public_view(certificate: Certificate) -> dict[str, Any]:
    """What anyone verifying may see: never a full name or ID number, never the data."""
    return {
        "type": certificate.type.code,
        "type_name": certificate.type.name,
        "number": certificate.number,
        "issuer": certificate.issuer.code,
        "issuer_name": certificate.issuer.name,
        "issued_on": certificate.issued_at.date(),
        "issued_at": certificate.issued_at,
        "holder_name": mask_name(certificate.holder_name, enterprise=is_enterprise(certificate)),
        "holder_id_number": mask(certificate.holder_id_number),
        "status": certificate.status,
        "status_label": STATUS_LABELS[Certificate.Status(certificate.status)],
        "revoked_at": certificate.revoked_at,
    }


def verdict_view(verdict: Verdict) -> dict[str, Any]:
    return {
        "status": verdict.status.value,
        "label": VERDICT_LABELS[verdict.status],
        "summary": VERDICT_SUMMARIES[verdict.status],
        "genuine": verdict.genuine,
        "unaltered": verdict.unaltered,
        "revoked": verdict.revoked,
        "reasons": [
            {"code": reason.value, "message": REASON_MESSAGES[reason]} for reason in verdict.reasons
        ],
    }


def _elements(certificate: Certificate) -> dict[str, DataElement]:
    return {e.key: e for e in DataElement.objects.filter(key__in=list(certificate.data))}


def _is_sensitive(key: str, element: DataElement | None) -> bool:
    """ID numbers, bank accounts and phone numbers: masked even on the holder's own certificate
    (the rest of it is theirs to read and print)."""
    return is_sensitive_key(key) or (element is not None and element.validator == Validator.CN_RIC)


def _is_masked_for_staff(key: str, element: DataElement | None) -> bool:
    """Staff read a certificate as they read a case on the workbench: personal and sensitive
    elements masked, to be revealed (and recorded) on the case, never here. An element the
    catalog no longer knows is masked too: nothing says it is harmless."""
    return (
        element is None
        or element.sensitivity in MASKED_SENSITIVITIES
        or _is_sensitive(key, element)
    )


def data_rows(certificate: Certificate, *, for_staff: bool = False) -> list[dict[str, Any]]:
    """The certificate's values with their labels: ID numbers masked for the holder; for staff
    also every personal or sensitive element, as the workbench masks them."""
    elements = _elements(certificate)
    is_masked = _is_masked_for_staff if for_staff else _is_sensitive
    rows = []
    for key, value in certificate.data.items():
        element = elements.get(key)
        text = _option_label(element, value) or _display(value)
        masked = bool(text) and is_masked(key, element)
        rows.append(
            {
                "key": key,
                "label": element.label if element else key,
                "value": mask(text) if masked else text,
                "masked": masked,
            }
        )
    return rows


def masked_data(certificate: Certificate) -> dict[str, Any]:
    """The certificate's values as JSON, ID numbers masked."""
    elements = _elements(certificate)
    return {
        key: mask(str(value)) if value and _is_sensitive(key, elements.get(key)) else value
        for key, value in certificate.data.items()
    }


def _option_label(element: DataElement | None, value: Any) -> str:
    """The label of a choice (`female` reads 女), or "" when the value is not one."""
    for option in (element.options if element else None) or []:
        if isinstance(option, dict) and option.get("value") == value:
            label = option.get("label") or {}
            return in_language(label.get("zh", ""), label.get("en", "")) or str(value)
    return ""


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(_display(item) for item in value)
    return str(value)
