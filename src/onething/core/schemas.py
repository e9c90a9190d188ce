"""Schemas every API router shares. One class per OpenAPI component name: two schemas with the
same class name in different routers overwrite each other in the published document."""

from __future__ import annotations

from ninja import Schema


class ErrorOut(Schema):
    """An error: a stable code, a message in the caller's language, and for invalid input the
    message of each field that broke a rule."""

    code: str
    message: str
    fields: dict[str, str] | None = None
