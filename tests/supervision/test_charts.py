"""What a chart is and how ECharts is told to draw it: the option is built from the chart alone
(bar, line and pie; titles, axis names, units, tooltips, legend; missing values as gaps)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.supervision.charts import (
    CHART_BUILDERS,
    GAP,
    TABLE_BUILDERS,
    Chart,
    Series,
    Table,
    echarts_option,
    register_chart,
    register_table,
    tabulated,
)

REGIONS = ("思明区", "湖里区", "集美区")


def chart(*series: Series, **extra) -> Chart:
    return Chart(
        key="overdue",
        title="Overdue by region",
        category_label="Region",
        categories=REGIONS,
        series=series,
        **extra,
    )


OVERDUE = Series("Overdue cases", (4, None, 7))
RATE = Series("Overdue rate", (12.5, 0.0, None), kind="line", unit="%")
DAYS = Series("Average time", (3.5, 4.0, 2.25), kind="line", unit="working days")


@pytest.mark.parametrize(
    ("series", "expected_names", "expected_axes", "expected_axis_of_series"),
    [
        ((OVERDUE,), ["Overdue cases"], [""], [0]),
        ((RATE,), ["Overdue rate (%)"], ["%"], [0]),
        ((OVERDUE, RATE), ["Overdue cases", "Overdue rate (%)"], ["", "%"], [0, 1]),
        (
            (RATE, OVERDUE, Series("Solved rate", (90, 80, 70), kind="line", unit="%")),
            ["Overdue rate (%)", "Overdue cases", "Solved rate (%)"],
            ["%", ""],
            [0, 1, 0],
        ),
        (
            (OVERDUE, RATE, DAYS),
            ["Overdue cases", "Overdue rate (%)", "Average time (working days)"],
            ["", "%", "working days"],
            [0, 1, 2],
        ),
    ],
)
def test_each_unit_gets_a_value_axis_named_by_it_and_series_are_named_with_their_unit(
    series, expected_names, expected_axes, expected_axis_of_series
):
    option = echarts_option(chart(*series))
    assert [s["name"] for s in option["series"]] == expected_names
    assert option["legend"]["data"] == expected_names
    assert [axis["name"] for axis in option["yAxis"]] == expected_axes
    assert [s["yAxisIndex"] for s in option["series"]] == expected_axis_of_series


def test_a_third_unit_axis_is_moved_out_so_it_does_not_cover_the_first():
    axes = echarts_option(chart(OVERDUE, RATE, DAYS))["yAxis"]
    assert [(a["position"], a["offset"]) for a in axes] == [("left", 0), ("right", 0), ("left", 56)]


@pytest.mark.parametrize(
    ("series", "expected_data"),
    [
        (OVERDUE, [4, GAP, 7]),
        (RATE, [12.5, 0.0, GAP]),
        (Series("none", (None, None, None)), [GAP, GAP, GAP]),
    ],
)
def test_a_missing_value_is_a_gap_and_a_zero_stays_a_zero(series, expected_data):
    assert echarts_option(chart(series))["series"][0]["data"] == expected_data


def test_a_line_breaks_at_a_gap_instead_of_joining_across_it():
    (line,) = echarts_option(chart(RATE))["series"]
    assert line["type"] == "line"
    assert line["connectNulls"] is False


@pytest.mark.parametrize(
    ("series", "expected_types", "expected_pointer"),
    [
        ((OVERDUE,), ["bar"], "shadow"),
        ((RATE,), ["line"], "line"),
        ((OVERDUE, RATE), ["bar", "line"], "line"),
    ],
)
def test_bar_and_line_share_the_category_axis_with_an_axis_tooltip(
    series, expected_types, expected_pointer
):
    option = echarts_option(chart(*series))
    assert [s["type"] for s in option["series"]] == expected_types
    assert option["xAxis"]["type"] == "category"
    assert option["xAxis"]["data"] == list(REGIONS)
    assert option["xAxis"]["name"] == "Region"
    assert option["tooltip"] == {"trigger": "axis", "axisPointer": {"type": expected_pointer}}


def test_the_title_and_the_note_are_the_charts():
    option = echarts_option(chart(OVERDUE, note="Cases open on 1 March"))
    assert option["title"]["text"] == "Overdue by region"
    assert option["title"]["subtext"] == "Cases open on 1 March"
    assert option["aria"] == {"enabled": True}


def test_a_pie_has_one_slice_per_category_with_a_value_and_no_axes():
    option = echarts_option(chart(Series("Tickets", (5, None, 2), kind="pie")))
    assert "xAxis" not in option and "yAxis" not in option
    assert option["tooltip"] == {"trigger": "item"}
    (pie,) = option["series"]
    assert pie["type"] == "pie"
    assert pie["name"] == "Tickets"
    assert pie["data"] == [{"name": "思明区", "value": 5}, {"name": "集美区", "value": 2}]
    assert option["legend"]["data"] == list(REGIONS)


@pytest.mark.parametrize(
    ("series", "problem"),
    [
        ((), "no series"),
        ((Series("a", (1, 2)),), "2 values for 3 categories"),
        ((Series("a", (1, 2, 3), kind="pie"), Series("b", (1, 2, 3), kind="pie")), "one series"),
        ((Series("a", (1, 2, 3), kind="pie"), OVERDUE), "one series"),
    ],
)
def test_a_chart_echarts_cannot_draw_faithfully_is_refused(series, problem):
    with pytest.raises(ValueError, match=problem):
        echarts_option(chart(*series))


@pytest.mark.parametrize(
    ("drill", "drill_param", "expected"),
    [
        (("350203", None, "350211"), "region", {"思明区": "350203", "集美区": "350211"}),
        (("350203", None, "350211"), "", {}),
        ((), "region", {}),
        (("350203",), "region", {"思明区": "350203"}),
    ],
)
def test_only_categories_with_a_drill_value_are_drill_targets(drill, drill_param, expected):
    assert chart(OVERDUE, drill=drill, drill_param=drill_param).drill_targets() == expected


def test_the_table_view_is_what_an_export_writes_for_a_chart_or_a_table():
    assert tabulated(chart(OVERDUE, RATE)) == (
        ["Region", "Overdue cases", "Overdue rate (%)"],
        [["思明区", 4, 12.5], ["湖里区", None, 0.0], ["集美区", 7, None]],
    )
    table = Table(key="overdue_list", title="Overdue", header=("Ref", "Days"), rows=(("A1", 3),))
    assert tabulated(table) == (["Ref", "Days"], [["A1", 3]])


def test_a_key_is_registered_once_across_charts_and_tables():
    key = "test-charts-registered-once"
    try:
        register_chart(key)(lambda user, filters: chart(OVERDUE))
        with pytest.raises(ValueError, match="registered twice"):
            register_table(key)(lambda user, filters: None)
        with pytest.raises(ValueError, match="registered twice"):
            register_chart(key)(lambda user, filters: chart(OVERDUE))
    finally:
        CHART_BUILDERS.pop(key, None)
        TABLE_BUILDERS.pop(key, None)


values = st.one_of(st.none(), st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6))


@st.composite
def charts(draw):
    categories = tuple(draw(st.lists(st.text(min_size=1, max_size=8), max_size=6)))
    kind = draw(st.sampled_from(["bar", "line"]))
    series = tuple(
        Series(
            name=draw(st.text(max_size=8)),
            values=tuple(draw(values) for _ in categories),
            kind=draw(st.sampled_from([kind, "bar", "line"])),
            unit=draw(st.sampled_from(["", "%", "working days"])),
        )
        for _ in range(draw(st.integers(1, 3)))
    )
    return Chart(key="k", title="t", category_label="c", categories=categories, series=series)


@given(charts())
def test_every_value_is_drawn_where_the_table_shows_it_and_every_gap_stays_a_gap(c):
    option = json.loads(json.dumps(echarts_option(c), allow_nan=False))
    for series, drawn in zip(c.series, option["series"], strict=True):
        assert len(drawn["data"]) == len(c.categories)
        for value, point in zip(series.values, drawn["data"], strict=True):
            assert point == (GAP if value is None else value)
        assert option["yAxis"][drawn["yAxisIndex"]]["name"] == series.unit
