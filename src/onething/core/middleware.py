"""Request ids, so a 500 a user reports can be found in the logs."""

from __future__ import annotations

import logging
import uuid

from onething.core.masking import mask_personal_numbers

logger = logging.getLogger("onething.request")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-Id", "")[:64]
        request.request_id = given if given.replace("-", "").isalnum() else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        return response

    def process_exception(self, request, exception):
        # The id goes into the message itself, so a user's reference finds the log line.
        logger.exception(
            "unhandled error request_id=%s path=%s",
            getattr(request, "request_id", "-"),
            request.path,
        )


# The statuses of error pages; 409 and 422 re-show a form with what its user typed.
ERROR_PAGE_STATUSES = frozenset({400, 403, 404, 405, 500})


class DomainErrorPageMiddleware:
    """Turns domain errors escaping a page view into the matching error page, never a 500;
    and masks personal numbers on every error page, since the layout echoes the address
    (a 404 for a URL with somebody's ID number in it must not show the number)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in ERROR_PAGE_STATUSES:
            _mask_error_content(response)
        return response

    def process_exception(self, request, exception):
        from django.shortcuts import render

        from onething.core.errors import OneThingError

        if not isinstance(exception, OneThingError):
            return None
        template = {404: "404.html", 403: "403.html"}.get(exception.status, "400.html")
        return render(request, template, {"message": exception.message}, status=exception.status)


def _mask_error_content(response) -> None:
    content_type = response.get("Content-Type", "")
    if response.streaming or not content_type.startswith(("text/", "application/json")):
        return
    try:
        text = response.content.decode(response.charset)
    except UnicodeDecodeError:
        return
    masked = mask_personal_numbers(text)
    if masked != text:
        response.content = masked.encode(response.charset)


class RejectNulMiddleware:
    """NUL characters are never meaningful in our URLs, and PostgreSQL refuses them in text:
    answer 400 before they reach a query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http import HttpResponseBadRequest, JsonResponse
        from django.utils.translation import gettext as _

        raw = request.path + request.META.get("QUERY_STRING", "")
        if (
            "\x00" in raw
            or "%00" in raw.lower()
            or any("\x00" in value for values in request.GET.lists() for value in values[1])
            or self._body_has_nul(request)
        ):
            message = _("The request contains a character that is not allowed (NUL).")
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "invalid_input", "message": message}, status=400)
            if request.path.startswith("/open311/"):
                # Open311 clients parse the spec's own error list, in XML or JSON.
                from onething.complaints.open311 import nul_refused

                return nul_refused(request.path)
            return HttpResponseBadRequest(message)
        return self.get_response(request)

    @staticmethod
    def _body_has_nul(request) -> bool:
        """A NUL in a JSON or form body (files are binary and may hold any byte)."""
        content_type = request.META.get("CONTENT_TYPE", "")
        if not content_type.startswith(("application/json", "application/x-www-form-urlencoded")):
            return False
        try:
            body = request.body
        except Exception:
            return False
        if b"\x00" in body:
            return True
        if content_type.startswith("application/json"):
            # A NUL escaped in JSON; the text "%00" in a JSON string is just text.
            return b"\\u0000" in body.lower()
        return b"%00" in body  # percent-encoded in a form body


class ApiJsonErrorsMiddleware:
    """Errors Django answers before the API router runs (a wrong method) come back as JSON
    under /api/, with a stable code."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code == 405
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            from django.http import JsonResponse
            from django.utils.translation import gettext as _

            allowed = response.get("Allow", "")
            replacement = JsonResponse(
                {
                    "code": "method_not_allowed",
                    "message": _("This method is not allowed here; allowed: %(allowed)s.")
                    % {"allowed": allowed},
                },
                status=405,
            )
            replacement["Allow"] = allowed
            return replacement
        return response


class ApiLanguageMiddleware:
    """API clients choose their language with Accept-Language alone: a language cookie left by
    the portal must not override what an app asks for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.META.get("HTTP_ACCEPT_LANGUAGE")
        if request.path.startswith("/api/") and header:
            from django.utils import translation
            from django.utils.translation.trans_real import parse_accept_lang_header

            for code, _quality in parse_accept_lang_header(header):
                try:
                    language = translation.get_supported_language_variant(code)
                except LookupError:
                    continue
                translation.activate(language)
                request.LANGUAGE_CODE = language
                break
        return self.get_response(request)
