"""Masking personal data for lists, logs, exports and errors."""

from __future__ import annotations

import re

SENSITIVE_SUFFIXES = ("id_number", "bank.account_number", "phone")


def mask(value: str, keep_start: int = 4, keep_end: int = 2) -> str:
    """`3502************12`: enough to recognise, not enough to use."""
    if not value:
        return value
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def is_sensitive_key(key: str) -> bool:
    return key.endswith(SENSITIVE_SUFFIXES)


def mask_mapping(values: dict, sensitive: set[str] | None = None) -> dict:
    """A copy with every sensitive value masked (by element sensitivity or by key)."""
    sensitive = sensitive or set()
    return {
        key: mask(str(value)) if (key in sensitive or is_sensitive_key(key)) and value else value
        for key, value in values.items()
    }


# A resident ID number (18 characters: 17 digits and a digit or X; or the old 15 digits) or a
# mainland mobile number (+86 or not), standing alone: not inside a longer run of letters and
# digits (a digest, a bank card number), but found next to Chinese text, slashes or quotes.
# ASCII digits only; one compiled pattern does the whole text in a single pass.
_PERSONAL_NUMBER = re.compile(
    # Not inside a longer run of digits (a bank card, a hash of digits); a letter or a
    # percent-escape (`ID350…`, `q=%20350…` in a logged URL) may come right before it.
    r"(?:(?<![0-9])|(?<=%[0-9A-Fa-f]{2}))"
    r"(?:(?P<ric>[0-9]{17}[0-9Xx]|[0-9]{15})|(?P<prefix>\+?86[- ]?)?(?P<mobile>1[3-9][0-9]{9}))"
    r"(?![0-9])"
)


def _mask_match(match: re.Match[str]) -> str:
    if match.group("ric"):
        return mask(match.group("ric"))
    return (match.group("prefix") or "") + mask(match.group("mobile"), keep_start=3, keep_end=4)


def mask_personal_numbers(text: str) -> str:
    """Free text with every resident ID number and mobile number in it masked.

    `3502************42`, `139****5678`; for text whose structure we do not know (log lines,
    error messages). Masking twice changes nothing.
    """
    if not text:
        return text
    return _PERSONAL_NUMBER.sub(_mask_match, text)


# An e-mail address inside free text (an SMTP server's reply quotes the recipient's).
_EMAIL_ADDRESS = re.compile(
    r"(?P<first>[^\s@<>()\[\]{}'\",;:])[^\s@<>()\[\]{}'\",;:]*@(?P<domain>[\w.-]+)"
)


def mask_email_addresses(text: str) -> str:
    """Free text with every e-mail address in it masked: `l***@example.com`. The domain stays
    (it tells which mail server refused); masking twice changes nothing."""
    if not text:
        return text
    return _EMAIL_ADDRESS.sub(lambda m: f"{m.group('first')}***@{m.group('domain')}", text)


def mask_personal_text(text: str) -> str:
    """Free text (an error message, a log line) with personal numbers and e-mail addresses
    masked."""
    return mask_email_addresses(mask_personal_numbers(text))
