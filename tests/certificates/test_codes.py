"""Verification codes: format, forgiving reading, and typos caught by the check character."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.certificates import codes

bodies = st.text(
    alphabet=codes.ALPHABET, min_size=codes.RANDOM_LENGTH, max_size=codes.RANDOM_LENGTH
)


def _code(body: str) -> str:
    return body + codes.check_character(body)


def test_new_codes_are_grouped_valid_and_distinct():
    made = [codes.new_code() for _ in range(2000)]
    assert len(set(made)) == len(made)
    for code in made:
        assert codes.PATTERN.match(code), code
        assert len(code) == codes.DISPLAY_LENGTH == 14
        assert codes.normalize(code) == code


@pytest.mark.parametrize(
    "typed",
    ["7K3Q-XZ0M-PA4N", "7K3Q XZ0M PA4N", "7k3qxz0mpa4n", " 7K3Q–XZOM－PA4N ", "7k3q-xzom-pa4n"],
)
def test_reading_ignores_case_spaces_and_dashes_and_reads_o_as_zero(typed):
    assert codes.normalize(typed) == "7K3Q-XZ0M-PA4N"


def test_i_and_l_read_as_one():
    body = "11111111111"
    code = _code(body)
    assert codes.normalize("IiLl" + code[4:]) == codes.group(code)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "length"),
        ("ABCD-EFGH-JK", "length"),
        ("ABCD-EFGH-JKMU", "character"),
        ("*" * 12, "character"),
    ],
)
def test_text_that_cannot_be_a_code_says_why(typed, reason):
    with pytest.raises(codes.CodeError) as caught:
        codes.normalize(typed)
    assert caught.value.reason == reason


@given(bodies, st.integers(0, codes.LENGTH - 1), st.sampled_from(codes.ALPHABET))
def test_every_single_mistyped_character_is_caught(body, position, replacement):
    code = _code(body)
    if code[position] == replacement:
        return
    typo = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(codes.CodeError) as caught:
        codes.normalize(typo)
    assert caught.value.reason == "check"


@given(bodies, st.integers(0, codes.LENGTH - 2))
def test_swapped_neighbours_are_caught_except_zero_and_z(body, position):
    code = _code(body)
    pair = code[position : position + 2]
    if pair[0] == pair[1] or set(pair) == {"0", "Z"}:
        return
    swapped = code[:position] + pair[::-1] + code[position + 2 :]
    assert not codes.is_code(swapped)
