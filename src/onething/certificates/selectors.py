"""Reads of e-certificates, each in its caller's scope: the holder's wallet, the issuing
department's list, and the public verdict (which shows nothing a stranger should not see)."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from onething.accounts.models import Role, RoleAssignment
from onething.certificates import codes
from onething.certificates.models import Certificate
from onething.certificates.signing import payload_of, platform_keys
from onething.certificates.verification import Registered, Verdict, judge, signed_code
from onething.core.errors import InvalidInput, NotFound
from onething.core.regions import region_prefix


def _certificates() -> QuerySet[Certificate]:
    return Certificate.objects.select_related("type", "issuer", "holder_enterprise")


def normalize_code(text: str, *, field: str = "code") -> str:
    """The grouped form of a typed verification code; InvalidInput naming `field` if it is not
    one."""
    try:
        return codes.normalize(text)
    except codes.CodeError as exc:
        messages = {
            "length": _("A verification code has 12 characters, like 7K3Q-XZ0M-PA4N."),
            "character": _("Only digits and the letters of a verification code are allowed."),
            "check": _("This code is mistyped: please check it character by character."),
        }
        raise InvalidInput(
            _("This is not a verification code."), fields={field: messages[exc.reason]}
        ) from None


def certificate_by_code(code: str) -> Certificate | None:
    """The certificate with this verification code (typed in any form), or None.

    InvalidInput (field `code`) when the text cannot be a verification code.
    """
    return _certificates().filter(verification_code=normalize_code(code)).first()


def wallet_for(user) -> QuerySet[Certificate]:
    """Every certificate the user holds: as a person, and those of the enterprises they act for.

    A certificate an enterprise holds shows only to the enterprise's current agents, even to the
    person who applied for it.
    """
    if not getattr(user, "pk", None):
        return Certificate.objects.none()
    return _certificates().filter(
        Q(holder=user, holder_enterprise__isnull=True) | Q(holder_enterprise__agents=user)
    )


def wallet_certificate(user, code: str) -> Certificate:
    """One certificate of the user's wallet; NotFound for anyone else's (or a wrong code)."""
    try:
        normalized = codes.normalize(code)
    except codes.CodeError:
        normalized = ""
    certificate = wallet_for(user).filter(verification_code=normalized).first()
    if certificate is None:
        raise NotFound(_("This certificate is not in your wallet."))
    return certificate


def _staff_scope(user) -> Q | None:
    """Which certificates a member of staff may manage: everything for an administrator, their
    departments' for a reviewer; None for nobody."""
    if not getattr(user, "pk", None):
        return None
    roles = RoleAssignment.objects.filter(user=user)
    if roles.filter(role=Role.ADMINISTRATOR).exists():
        return Q()
    parts = []
    for department_id, region_code in roles.filter(role=Role.REVIEWER).values_list(
        "department_id", "region__code"
    ):
        part = Q(issuer_id=department_id)
        if region_code:
            # A reviewer limited to a region manages the certificates of that region's
            # applications only, as on the workbench.
            applications = apps.get_model("applications", "Application").objects.filter(
                region__code__startswith=region_prefix(region_code)
            )
            part &= Q(application_reference__in=applications.values("reference"))
        parts.append(part)
    return functools.reduce(operator.or_, parts) if parts else None


def certificates_for_staff(user, *, search: str = "") -> QuerySet[Certificate]:
    """The certificates the user's departments issued (all for an administrator), newest first,
    optionally those whose number or verification code contains `search`."""
    scope = _staff_scope(user)
    if scope is None:
        return Certificate.objects.none()
    certificates = _certificates().filter(scope)
    search = search.strip()
    if search:
        certificates = certificates.filter(
            Q(number__icontains=search) | Q(verification_code__icontains=search.upper())
        )
    return certificates


def certificate_for_staff(user, code: str) -> Certificate:
    """One certificate the user's departments issued; NotFound otherwise."""
    try:
        normalized = codes.normalize(code)
    except codes.CodeError:
        normalized = ""
    certificate = certificates_for_staff(user).filter(verification_code=normalized).first()
    if certificate is None:
        raise NotFound(_("No certificate of your department has this code."))
    return certificate


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    # Set only when the verdict lets its details be shown (genuine and unaltered).
    certificate: Certificate | None


def _registered(certificate: Certificate | None) -> Registered | None:
    if certificate is None:
        return None
    return Registered(
        jws=certificate.jws,
        kid=certificate.kid,
        payload=payload_of(certificate),
        revoked=certificate.status == Certificate.Status.REVOKED,
    )


def certificate_verify(*, code: str | None = None, token: str | None = None) -> Verification:
    """The public verdict on a verification code, or on a JWS someone presents.

    InvalidInput (field `code`) for text that cannot be a code; an unknown code or a token that is
    not ours is a verdict, not an error.
    """
    keys = platform_keys().public_keys()
    if token is not None:
        claimed = signed_code(token, keys)
        certificate = None
        if claimed is not None and codes.is_code(claimed):
            certificate = _certificates().filter(verification_code=claimed).first()
        verdict = judge(keys=keys, registered=_registered(certificate), presented=token)
    else:
        certificate = certificate_by_code(code or "")
        verdict = judge(keys=keys, registered=_registered(certificate))
    return Verification(verdict, certificate if verdict.known else None)


def jwks() -> dict:
    """The public keys of every signing key, active and retired (RFC 7517 JWK Set)."""
    return platform_keys().jwks()


def certificates_of_application(application_reference: str) -> dict[str, Certificate]:
    """The certificates an application's cases produced, by case public id (as text).

    The caller has already been allowed to see the application (its applicant, or the clerk
    who took it)."""
    return {
        str(certificate.case_public_id): certificate
        for certificate in _certificates().filter(
            application_reference=application_reference, case_public_id__isnull=False
        )
    }


def wallet_numbers(holder_id_number: str) -> dict[str, str]:
    """Certificate type code -> number of the newest valid certificate the person holds."""
    numbers: dict[str, str] = {}
    for type_code, number in (
        _certificates()
        .filter(holder_id_number=holder_id_number, status=Certificate.Status.VALID)
        .order_by("issued_at")
        .values_list("type__code", "number")
    ):
        numbers[type_code] = number
    return numbers
