"""The wire format: request paths, submission parsing and the callback payload.

Pure: no I/O and no shared state, so the HTTP layer and the tests agree on one definition.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

CASES_PATH = re.compile(r"^/departments/(?P<department>[A-Za-z0-9][A-Za-z0-9_.-]{0,63})/cases$")
CASE_PATH = re.compile(
    r"^/departments/(?P<department>[A-Za-z0-9][A-Za-z0-9_.-]{0,63})/cases/(?P<external_id>[^/]{1,200})$"
)
REGISTRY_PATH = re.compile(
    r"^/registry/(?P<register>[a-z][a-z0-9_]{0,63})/(?P<subject>[^/]{1,200})$"
)
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_LENGTH = 200
MAX_OUTPUT_KEYS = 200
_KEY_CHARACTERS = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII, no spaces
_NOT_ALPHANUMERIC = re.compile(r"[^A-Z0-9]+")

REJECTION_REASONS = (
    "materials incomplete: the supporting documents do not cover every requirement",
    "information mismatch: the submitted data differs from the department's records",
    "not eligible: the applicant does not meet the conditions of this service",
    "duplicate application: the department already holds an open case for this applicant",
)


class ProtocolError(Exception):
    """A request the simulator refuses; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Submission:
    """A validated case submission. The form data is kept only as part of the fingerprint."""

    department: str
    case: str
    service: str
    outputs: tuple[str, ...]
    callback_url: str
    fingerprint: str


def check_idempotency_key(value: str | None) -> str:
    """The idempotency key from its header value, or a 400 naming the rule it breaks."""
    if value is None or not value.strip():
        raise ProtocolError(400, f"{IDEMPOTENCY_HEADER} header is required")
    key = value.strip()
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ProtocolError(
            400, f"{IDEMPOTENCY_HEADER}: at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters"
        )
    if not _KEY_CHARACTERS.match(key):
        raise ProtocolError(400, f"{IDEMPOTENCY_HEADER}: only visible ASCII characters")
    return key


def parse_submission(department: str, body: bytes) -> Submission:
    """The submission in `body`, or a 400 naming the first wrong field.

    The fingerprint covers the department and the whole parsed body (key order ignored), so
    reusing an idempotency key with any other content is detected.
    """
    try:
        document = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ProtocolError(400, "body is not valid JSON") from None
    if not isinstance(document, dict):
        raise ProtocolError(400, "body must be a JSON object")
    case = _required_text(document, "case")
    service = _required_text(document, "service")
    data = document.get("data", {})
    if not isinstance(data, dict):
        raise ProtocolError(400, "data: must be a JSON object")
    outputs = document.get("outputs", [])
    if not isinstance(outputs, list) or not all(isinstance(k, str) and k for k in outputs):
        raise ProtocolError(400, "outputs: must be a list of non-empty strings")
    if len(outputs) > MAX_OUTPUT_KEYS:
        raise ProtocolError(400, f"outputs: at most {MAX_OUTPUT_KEYS} keys")
    callback_url = _required_text(document, "callback_url")
    if not is_http_url(callback_url):
        raise ProtocolError(400, "callback_url: must be an absolute http or https URL")
    try:
        canonical = json.dumps(
            [department, document], sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
    except RecursionError:
        raise ProtocolError(400, "body is nested too deeply") from None
    fingerprint = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    return Submission(
        department=department,
        case=case,
        service=service,
        outputs=tuple(dict.fromkeys(outputs)),
        callback_url=callback_url,
        fingerprint=fingerprint,
    )


def is_http_url(url: str) -> bool:
    """Whether `url` is an absolute http(s) URL with a host (nothing else is ever opened)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def output_value(key: str, number: int) -> str:
    """The generated value of output `key`: the key upper-cased, non-alphanumerics as "-",
    then "-" and six digits (``child.birth_cert`` -> ``CHILD-BIRTH-CERT-042137``)."""
    stem = _NOT_ALPHANUMERIC.sub("-", key.upper()).strip("-") or "OUTPUT"
    return f"{stem}-{number % 1_000_000:06d}"


def callback_body(
    *,
    event_id: str,
    case: str,
    external_id: str,
    department: str,
    service: str,
    status: str,
    outputs: Mapping[str, str],
    reason: str | None,
    decided_at: datetime,
) -> bytes:
    """The exact bytes of a decision callback; sent unchanged on every attempt."""
    payload: dict[str, Any] = {
        "event_id": event_id,
        "case": case,
        "external_id": external_id,
        "department": department,
        "service": service,
        "status": status,
        "outputs": dict(outputs),
        "decided_at": decided_at.isoformat(),
    }
    if reason is not None:
        payload["reason"] = reason
    # ASCII-escaped: a lone surrogate in a reference must not make the body unencodable.
    return json.dumps(payload, separators=(",", ":")).encode("ascii")


def _required_text(document: Mapping[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError(400, f"{name}: required, a non-empty string")
    return value


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")
