"""What the public reads of a ticket's place: the area's name down to the street office, and
coordinates rounded to about 100 m. Pure: no database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.complaints.locate import areas, public_coordinate


@pytest.mark.parametrize(
    ("region", "street", "name"),
    [
        ("350203", "350203001", "厦门市思明区中华街道"),
        ("350203", "", "厦门市思明区"),
        ("350203", "350299999", "厦门市思明区"),  # a street we do not know: the district
        ("110101", "", ""),  # a district the hotline does not serve
    ],
)
def test_the_place_is_named_no_finer_than_the_street_office(region, street, name):
    assert areas().place_name(region, street) == name


@pytest.mark.parametrize(
    ("given_value", "public"),
    [
        (Decimal("24.457391"), 24.457),
        (Decimal("118.082518"), 118.083),
        (Decimal("24.457000"), 24.457),
        (None, None),
    ],
)
def test_public_coordinates_keep_three_decimals(given_value, public):
    assert public_coordinate(given_value) == public


@given(st.decimals(min_value=-180, max_value=180, places=6))
def test_a_public_coordinate_is_within_half_a_thousandth_of_the_true_one(value):
    public = public_coordinate(value)
    assert abs(Decimal(str(public)) - value) <= Decimal("0.0005")
    assert Decimal(str(public)) == Decimal(str(public)).quantize(Decimal("0.001"))
