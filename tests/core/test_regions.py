"""The codes of the regions over a place, for queries by equality: exactly the regions that
`region_contains` says contain it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.core.regions import enclosing_codes, region_contains


@pytest.mark.parametrize(
    ("code", "over"),
    [
        ("350000", ["350000", "350000000", "350000000000"]),
        (
            "350203",
            [
                "350000",
                "350000000",
                "350000000000",
                "350200",
                "350200000",
                "350200000000",
                "350203",
                "350203000",
                "350203000000",
            ],
        ),
    ],
)
def test_the_regions_over_a_place_are_listed_in_every_width(code, over):
    assert sorted(enclosing_codes(code)) == sorted(over)


def test_a_street_lies_under_its_district_city_and_province():
    over = enclosing_codes("350203001")
    for outer in ("350000", "350200", "350203", "350203001", "350203001000"):
        assert outer in over
    for elsewhere in ("350100", "350206", "350203002", "360000"):
        assert elsewhere not in over


# Few distinct digits, many zeros: codes that nest in one another often.
CODES = st.sampled_from([6, 9, 12]).flatmap(
    lambda width: st.text(alphabet="0012", min_size=width, max_size=width)
)


@given(CODES, CODES)
def test_a_code_is_listed_exactly_when_its_region_contains_the_place(outer, inner):
    assert (outer in enclosing_codes(inner)) is region_contains(outer, inner)
