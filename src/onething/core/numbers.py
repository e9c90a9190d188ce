"""Whole numbers people type (a page number, stars, extension days, an id in a form): read
without ever raising.

No Django import.
"""

from __future__ import annotations


def whole_number(text: str | None, *, max_digits: int) -> int | None:
    """The whole number `text` spells in decimal digits, or None for anything else.

    None for nothing, a sign, a space, a fraction, a superscript digit (str.isdigit lets ²
    through, and int() refuses it) or more than `max_digits` digits (no page, star or id is
    that long, and int() refuses thousands of digits). Digits of other scripts (full-width ３)
    are decimal digits and count. Spaces are not trimmed: a form's caller strips what it reads.
    """
    if not text or not text.isdecimal() or len(text) > max_digits:
        return None
    return int(text)
