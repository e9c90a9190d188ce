"""The four reductions of one application, counted once for the applicant's pages and the
supervision roll-ups."""

import pytest

from onething.applications import reductions


@pytest.mark.parametrize(
    ("provisions", "provided"),
    [
        ({}, 0),
        ({"upload": 2, "window": 1, "promised": 1}, 4),
        ({"upload": 1, "sharing": 3, "certificate": 1, "result": 2}, 1),
    ],
)
def test_only_materials_the_applicant_brought_or_sent_count_as_provided(provisions, provided):
    assert reductions.materials_provided(provisions) == provided


def test_a_field_filled_from_the_records_is_not_typed_and_one_never_asked_does_not_count():
    asked = ["applicant.name", "child.name", "child.birth_date"]
    assert reductions.fields_typed(asked, {}) == 3
    assert reductions.fields_typed(asked, {"child.birth_date": {}}) == 2
    assert reductions.fields_typed(asked, {"child.birth_date": {}, "mother.name": {}}) == 2


def test_a_field_an_earlier_case_produces_is_not_asked_in_the_snapshot():
    form = [{"key": "a", "source": "applicant"}, {"key": "b", "source": "result"}, {"key": "c"}]
    assert reductions.asked_in_snapshot(form) == ["a", "c"]


def test_only_the_window_costs_a_trip():
    assert [reductions.trips_made(c) for c in ("window", "web", "api", "federated")] == [1, 0, 0, 0]


def test_saved_is_never_negative_and_its_percent_is_of_the_separate_figure():
    out = reductions.figures(
        {"materials": 8, "fields": 0, "days": 10, "trips": 3},
        {"materials": 5, "fields": 2, "days": 12, "trips": 1},
    )
    assert out["materials"] == {"separately": 8, "together": 5, "saved": 3, "percent": 38}
    assert out["fields"] == {"separately": 0, "together": 2, "saved": 0, "percent": 0}
    assert out["days"]["saved"] == 0
    assert out["trips"] == {"separately": 3, "together": 1, "saved": 2, "percent": 67}
