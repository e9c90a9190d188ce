"""Masking personal data for lists, logs, exports and errors."""

from __future__ import annotations

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
