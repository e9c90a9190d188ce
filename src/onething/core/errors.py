"""One error hierarchy for everything a user or a client can get wrong.

The API maps these to 4xx JSON with a stable `code`; pages show them next to the field.
Anything else that escapes is a bug (500, logged with a request id).
Messages reach pages, JSON and logs, so a personal number in one is masked when it is made.
"""

from __future__ import annotations

from collections.abc import Mapping

from onething.core.masking import mask_personal_numbers


class OneThingError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str = "", *, fields: Mapping[str, str] | None = None) -> None:
        self.message = mask_personal_numbers(str(message))
        super().__init__(self.message)
        self.fields: dict[str, str] = {
            k: mask_personal_numbers(str(v)) for k, v in (fields or {}).items()
        }

    def as_dict(self) -> dict:
        body: dict = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body


class InvalidInput(OneThingError):
    """One message per wrong field, all at once."""

    code = "invalid_input"
    status = 422


class NotFound(OneThingError):
    code = "not_found"
    status = 404


class NotAllowed(OneThingError):
    code = "not_allowed"
    status = 403


class Conflict(OneThingError):
    code = "conflict"
    status = 409
