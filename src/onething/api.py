"""The NinjaAPI root: mounts each app's router under /api/v1/ and maps errors to JSON."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer

from onething.accounts.auth import API_AUTH
from onething.applications.api import connector as connector_router
from onething.applications.api import router as applications_router
from onething.applications.api import workbench as workbench_router
from onething.catalog.api import router as catalog_router
from onething.certificates.api import router as certificates_router
from onething.complaints.api import router as hotline_router
from onething.core.errors import OneThingError
from onething.notifications.api import router as notifications_router
from onething.ratings.api import router as ratings_router
from onething.sharing.api import router as sharing_router
from onething.sharing.exchange_api import router as exchange_router
from onething.supervision.api import dashboard_router, public_router
from onething.supervision.api import router as exports_router

logger = logging.getLogger("onething.api")


class ReadableJSONRenderer(JSONRenderer):
    """JSON with Chinese text as text, not \\u escapes."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=ReadableJSONRenderer(),
    # Nothing is open by default: routers that serve the public say so (auth=None).
    auth=API_AUTH,
    title="OneThing API",
    version="1",
    description=(
        "Apply once for a life or business event (一件事一次办). "
        "Names come in the language of the Accept-Language header (zh-Hans or en)."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


UNION_MEMBERS = {"bool", "int", "float", "str", "none", "dict", "list", "literal_error"}


def _field_path(loc: list | tuple) -> str:
    # ninja prefixes the source ("body", "query", "path") and the parameter name; drop them.
    # pydantic names each member of a union it tried ("answers.x.bool", "answers.x.int"…):
    # the user wrote one field, so report it once.
    parts = [str(p) for p in loc if str(p) not in UNION_MEMBERS and "[" not in str(p)]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in {"payload", "body", "data", "filters"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _input_message(error: dict) -> str:
    """The rule a value broke, in the user's language (pydantic's own text is English only)."""
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    messages = {
        "missing": _("This field is required."),
        "dict_type": _("Must be an object (a mapping of names to values)."),
        "list_type": _("Must be a list."),
        "string_type": _("Must be text."),
        "bool_type": _("Must be true or false."),
        "bool_parsing": _("Must be true or false."),
        "int_type": _("Must be a whole number."),
        "int_parsing": _("Must be a whole number."),
        "float_type": _("Must be a number."),
        "float_parsing": _("Must be a number."),
        "json_invalid": _("The body is not valid JSON."),
        "model_attributes_type": _("Must be an object (a mapping of names to values)."),
        "literal_error": _("Must be one of: %(expected)s.")
        % {"expected": context.get("expected", "")},
        "string_too_long": _("Must be at most %(max)s characters.")
        % {"max": context.get("max_length", "")},
    }
    if kind in messages:
        return messages[kind]
    if kind.startswith("union") or kind.endswith("_type"):
        return _("This value has the wrong type.")
    return _("This value is not valid.")


@api.exception_handler(OneThingError)
def _domain_error(request: HttpRequest, exc: OneThingError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError):
    fields: dict[str, str] = {}
    for error in exc.errors:
        path = _field_path(error.get("loc", ()))
        fields.setdefault(path, _input_message(error))
    body = {"code": "invalid_input", "message": _("The request is not valid."), "fields": fields}
    return api.create_response(request, body, status=422)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404):
    return api.create_response(
        request, {"code": "not_found", "message": _("Not found.")}, status=404
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(
        request,
        {"code": "not_authenticated", "message": _("Authentication is required.")},
        status=401,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):
    if exc.status_code == 400:
        # ninja's only 400 of its own: a body that is not JSON (or not UTF-8).
        body = {"code": "invalid_json", "message": _("The request body is not valid JSON.")}
    else:
        body = {"code": "http_error", "message": _("The request could not be handled.")}
    return api.create_response(request, body, status=exc.status_code)


api.add_router("/v1/", catalog_router)
api.add_router("/v1/applications", applications_router)
api.add_router("/v1/workbench", workbench_router)
api.add_router("/v1/connector", connector_router)
api.add_router("/v1/certificates", certificates_router)
api.add_router("/v1/notifications", notifications_router)
api.add_router("/v1/me", sharing_router)
api.add_router("/v1/exchange", exchange_router)
api.add_router("/v1/exports", exports_router)
api.add_router("/v1/supervision", dashboard_router)
api.add_router("/v1/hotline", hotline_router)
api.add_router("/v1/ratings", ratings_router)
api.add_router("/v1/public", public_router)
