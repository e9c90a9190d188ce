"""Masking personal numbers in free text (log lines, error messages)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.core.masking import mask_email_addresses, mask_personal_numbers

RIC = "11010519491231002X"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"id {RIC}.", "id 1101************2X."),
        (f"id {RIC.lower()}", "id 1101************2x"),
        ("old 110105491231002 number", "old 1101*********02 number"),
        ("身份证号110105194912310021，请核对", "身份证号1101************21，请核对"),
        (f"GET /applications/{RIC}/ HTTP/1.1", "GET /applications/1101************2X/ HTTP/1.1"),
        (f"'{RIC}.example.cn'", "'1101************2X.example.cn'"),
        ("call 13912345678 now", "call 139****5678 now"),
        ("tel:+8613912345678", "tel:+86139****5678"),
        ("+86 13912345678", "+86 139****5678"),
        # After a letter or a percent-escape it is still a number: masked (a hash of letters
        # and digits may be over-masked; a number is never under-masked).
        (f"ID{RIC}", "ID1101************2X"),
        (f"q=%20{RIC}", "q=%201101************2X"),
        # Not personal numbers: part of a longer run of digits, or the wrong length.
        ("card 6222020000000000018", "card 6222020000000000018"),
        ("1101051949123100", "1101051949123100"),
        ("12912345678", "12912345678"),
        ("postcode 361000, outbox message 42", "postcode 361000, outbox message 42"),
        ("", ""),
    ],
)
def test_personal_numbers_in_free_text_are_masked_and_nothing_else(text, expected):
    assert mask_personal_numbers(text) == expected


@given(
    before=st.text(alphabet=" /：，'\"=汉", max_size=5),
    body=st.text(alphabet="0123456789", min_size=17, max_size=17),
    check=st.sampled_from("0123456789Xx"),
    after=st.text(alphabet=" /：，'\"&汉", max_size=5),
)
def test_no_resident_id_number_survives_and_masking_twice_changes_nothing(
    before, body, check, after
):
    number = body + check
    masked = mask_personal_numbers(f"{before}{number}{after}")
    assert number not in masked
    assert masked == f"{before}{number[:4]}{'*' * 12}{number[-2:]}{after}"
    assert mask_personal_numbers(masked) == masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("to lin.xiaoyan@example.cn refused", "to l***@example.cn refused"),
        (
            "{'a+b@mail.gov.cn': (550, b'<a+b@mail.gov.cn>')}",
            "{'a***@mail.gov.cn': (550, b'<a***@mail.gov.cn>')}",
        ),
        ("no address here @ all", "no address here @ all"),
    ],
)
def test_email_addresses_in_free_text_are_masked_and_masking_twice_changes_nothing(text, expected):
    assert mask_email_addresses(text) == expected
    assert mask_email_addresses(expected) == expected
