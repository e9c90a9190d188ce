"""Request ids, so a 500 a user reports can be found in the logs."""

from __future__ import annotations

import logging
import uuid

logger = logging.getLogger("onething.request")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        return response

    def process_exception(self, request, exception):
        logger.exception(
            "unhandled error",
            extra={"request_id": getattr(request, "request_id", "-"), "path": request.path},
        )


class DomainErrorPageMiddleware:
    """Turns domain errors escaping a page view into the matching error page, never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.shortcuts import render

        from onething.core.errors import OneThingError

        if not isinstance(exception, OneThingError):
            return None
        template = {404: "404.html", 403: "403.html"}.get(exception.status, "400.html")
        return render(request, template, {"message": exception.message}, status=exception.status)
