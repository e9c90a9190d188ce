"""Certificate pages: public verification, the holder's wallet and printable certificate, the
issuing department's list with revocation, and the published public keys.

Thin: parse the request, call a selector or a service, render. A certificate outside the caller's
wallet or department does not exist for them (404): the selectors decide.
"""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onething.accounts.models import User
from onething.certificates import selectors, services
from onething.certificates.jws import MAX_TOKEN_LENGTH
from onething.certificates.models import Certificate
from onething.certificates.presentation import (
    STATUS_LABELS,
    data_rows,
    is_enterprise,
    public_view,
    verdict_view,
    verification_qr,
    verification_url,
)
from onething.certificates.verification import mask_name
from onething.core.errors import Conflict, InvalidInput, NotAllowed
from onething.core.masking import mask

JWKS_MAX_AGE = 300


def staff_required(view):
    """Signed in, and a member of staff; which certificates each may see is up to the
    selectors."""

    @functools.wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs):
        if request.user.kind != User.Kind.STAFF:
            raise NotAllowed(_("Only staff may manage certificates."))
        return view(request, *args, **kwargs)

    return wrapped


# --- public ------------------------------------------------------------------------------------


def _verify_page(
    request: HttpRequest, *, typed: str = "", error: str = "", result=None, status=200
):
    context = {"typed": typed, "error": error, "result": None, "certificate": None}
    if result is not None:
        context["result"] = verdict_view(result.verdict)
        if result.certificate is not None:
            context["certificate"] = public_view(result.certificate)
    return render(request, "certificates/verify.html", context, status=status)


@require_http_methods(["GET", "POST"])
def verify_form(request: HttpRequest) -> HttpResponse:
    """Type a verification code (goes to its page) or paste a signed certificate (checked
    here, never put in an address)."""
    if request.method == "GET":
        return _verify_page(request)
    typed = request.POST.get("q", "").strip()
    if not typed:
        return _verify_page(
            request, error=_("Type a verification code or paste a certificate."), status=422
        )
    if "." in typed:
        if len(typed) > MAX_TOKEN_LENGTH:
            return _verify_page(
                request, error=_("This is too long to be a certificate."), status=422
            )
        result = selectors.certificate_verify(token=typed)
        return _verify_page(request, typed=typed, result=result)
    try:
        code = selectors.normalize_code(typed, field="q")
    except InvalidInput as exc:
        return _verify_page(request, typed=typed[:64], error=exc.fields["q"], status=422)
    return redirect("certificates:verify-code", code)


@require_GET
def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    """The public verdict on one verification code (where a certificate's QR code leads)."""
    try:
        result = selectors.certificate_verify(code=code)
    except InvalidInput as exc:
        return _verify_page(request, typed=code[:64], error=exc.fields["code"], status=404)
    if result.certificate is not None and code != result.certificate.verification_code:
        return redirect("certificates:verify-code", result.certificate.verification_code)
    status = 404 if result.verdict.status == "unknown" else 200
    return _verify_page(request, typed=code, result=result, status=status)


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """The platform's public signing keys (RFC 7517 JWK Set), active and retired."""
    response = JsonResponse(selectors.jwks())
    response["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- the holder's wallet ------------------------------------------------------------------------


def _certificate_context(
    request: HttpRequest, certificate: Certificate, *, for_staff: bool = False
) -> dict:
    return {
        "certificate": certificate,
        "enterprise": is_enterprise(certificate),
        "holder_id_number": mask(certificate.holder_id_number),
        "status_label": STATUS_LABELS[Certificate.Status(certificate.status)],
        "rows": data_rows(certificate, for_staff=for_staff),
        "verify_url": verification_url(request, certificate.verification_code),
    }


@login_required
@require_GET
def wallet(request: HttpRequest) -> HttpResponse:
    """Every certificate the user holds, and those of the enterprises they act for."""
    rows = [
        {
            "certificate": c,
            "enterprise": is_enterprise(c),
            "status_label": STATUS_LABELS[Certificate.Status(c.status)],
        }
        for c in selectors.wallet_for(request.user)
    ]
    return render(request, "certificates/wallet.html", {"rows": rows})


@login_required
@require_GET
def wallet_certificate(request: HttpRequest, code: str) -> HttpResponse:
    """One certificate on A4, with the QR code of its verification page."""
    certificate = selectors.wallet_certificate(request.user, code)
    context = _certificate_context(request, certificate)
    context["qr"] = verification_qr(request, certificate.verification_code)
    return render(request, "certificates/certificate.html", context)


# --- the issuing department ---------------------------------------------------------------------


@staff_required
@require_GET
def manage(request: HttpRequest) -> HttpResponse:
    """The certificates the user's departments issued (all, for an administrator)."""
    search = request.GET.get("q", "")[:64]
    certificates = selectors.certificates_for_staff(request.user, search=search)[:200]
    rows = [
        {
            "certificate": c,
            # A list is read over a shoulder: names masked as in the exports.
            "holder_name": mask_name(c.holder_name, enterprise=is_enterprise(c)),
            "status_label": STATUS_LABELS[Certificate.Status(c.status)],
        }
        for c in certificates
    ]
    return render(request, "certificates/manage.html", {"rows": rows, "search": search})


def _manage_page(
    request: HttpRequest, certificate: Certificate, *, reason: str = "", error: str = "", status=200
) -> HttpResponse:
    context = _certificate_context(request, certificate, for_staff=True)
    context.update(
        {
            "has_masked": any(row["masked"] for row in context["rows"]),
            "can_revoke": certificate.status == Certificate.Status.VALID
            and services.may_revoke(request.user, certificate),
            "reason": reason,
            "error": error,
        }
    )
    return render(request, "certificates/manage_certificate.html", context, status=status)


@staff_required
@require_GET
def manage_certificate(request: HttpRequest, code: str) -> HttpResponse:
    """One issued certificate, its sensitive values masked; every view is recorded."""
    certificate = selectors.certificate_for_staff(request.user, code)
    services.certificate_view_record(actor=request.user, certificate=certificate)
    return _manage_page(request, certificate)


@staff_required
@require_POST
def manage_revoke(request: HttpRequest, code: str) -> HttpResponse:
    """Revoke at once, with a reason; the service checks the user may."""
    certificate = selectors.certificate_for_staff(request.user, code)
    reason = request.POST.get("reason", "")[: services.MAX_REASON_LENGTH + 1]
    try:
        services.certificate_revoke(actor=request.user, certificate=certificate, reason=reason)
    except InvalidInput as exc:
        message = exc.fields.get("reason", exc.message)
        return _manage_page(request, certificate, reason=reason, error=message, status=422)
    except Conflict as exc:
        return _manage_page(request, certificate, error=exc.message, status=409)
    return redirect("certificates:manage-certificate", certificate.verification_code)
