"""Reading a whole number somebody typed: a number or None, never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.core.numbers import whole_number


@pytest.mark.parametrize(
    ("text", "max_digits", "expected"),
    [
        ("7", 6, 7),
        ("0", 6, 0),
        ("007", 6, 7),
        ("123456", 6, 123456),
        ("1234567", 6, None),  # longer than allowed
        ("３", 6, 3),  # a full-width digit is a decimal digit
        ("٣", 6, 3),  # so is an Arabic-Indic one
        ("²", 6, None),  # a superscript is a digit but not decimal: int() refuses it
        ("", 6, None),
        (None, 6, None),
        (" 7", 6, None),  # the caller strips
        ("7 ", 6, None),
        ("-1", 6, None),
        ("+1", 6, None),
        ("1.5", 6, None),
        ("1e3", 6, None),
        ("1_000", 6, None),  # int() would take it
        ("9" * 5000, 6, None),  # int() would refuse it with ValueError
    ],
)
def test_a_typed_whole_number_is_read_or_refused(text, max_digits, expected):
    assert whole_number(text, max_digits=max_digits) == expected


@given(st.text(max_size=30), st.integers(min_value=1, max_value=20))
def test_any_text_is_a_number_within_the_digits_allowed_or_none(text, max_digits):
    number = whole_number(text, max_digits=max_digits)
    assert number is None or 0 <= number < 10**max_digits


@given(st.integers(min_value=0, max_value=10**12))
def test_every_number_written_in_ascii_digits_reads_back(number):
    assert whole_number(str(number), max_digits=13) == number
