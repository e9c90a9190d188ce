from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from onething.complaints import dispatch

DEFINITIONS = Path(dispatch.__file__).resolve().parents[1] / "catalog" / "definitions"


def _codes(name: str, section: str) -> list[str]:
    raw = yaml.safe_load((DEFINITIONS / name).read_text(encoding="utf-8"))
    return [str(entry["code"]) for entry in raw[section]]


REGIONS = _codes("regions.yaml", "regions")
DEPARTMENTS = _codes("departments.yaml", "departments")
DISTRICTS = [code for code in REGIONS if dispatch.level_of(code) == "district"]
CATEGORIES = sorted(dispatch.category_codes())


@pytest.fixture(scope="module")
def shipped() -> dispatch.Dispatch:
    return dispatch.load(regions=REGIONS, departments=DEPARTMENTS)


def test_the_shipped_file_loads_with_streets_for_every_demo_district(shipped):
    assert DISTRICTS == ["350102", "350103", "350203", "350206"]
    for district in DISTRICTS:
        offices = [
            unit
            for unit in shipped.units.values()
            if unit.kind == dispatch.UnitKind.STREET_OFFICE and unit.region[:6] == district
        ]
        assert len(offices) >= 2, district
    assert shipped.streets["350203001"].name.zh == "中华街道"


@pytest.mark.parametrize("district", DISTRICTS)
def test_every_category_has_a_route_in_every_demo_district_and_street(shipped, district):
    streets = [code for code in shipped.streets if code[:6] == district]
    for category in CATEGORIES:
        for street in [None, *streets]:
            route = shipped.route(category, district, street=street)
            unit = shipped.units[route.responsible]
            assert unit.region in dispatch.lineage(street or district), (category, street)
            assert route.responsible not in route.assisting


@pytest.mark.parametrize(
    ("category", "region", "street", "responsible", "assisting", "level"),
    [
        # a street rule beats the district rule
        ("noise", "350203", "350203001", "sm_zhonghua_police", ("sm_zhonghua_office",), "street"),
        ("garbage", "350206", "350206003", "hl_heshan_office", (), "street"),
        # a street without its own rule for the category falls back to the district
        ("noise", "350203", "350203003", "sm_police", ("sm_urban_management",), "district"),
        ("food_safety", "350102", "350102001", "gl_market_regulation", (), "district"),
        # no street given: the district rule
        ("noise", "350203", None, "sm_police", ("sm_urban_management",), "district"),
        ("neighbour_disputes", "350103", None, "tj_justice", (), "district"),
        # no district rule: the city default
        ("water_supply", "350206", "350206001", "xm_water_group", (), "city"),
        ("public_transport", "350103", None, "fz_bus_group", ("fz_transport",), "city"),
        # no rule at all: the district's dispatch desk, or the city's for a city-wide ticket
        ("heating", "350203", "350203002", "sm_12345", (), "desk"),
        ("heating", "350100", None, "fz_12345", (), "desk"),
        ("noise", "350200", None, "xm_12345", (), "desk"),
        ("power_supply", "350100", None, "fz_power", (), "city"),
    ],
)
def test_the_most_specific_rule_wins(
    shipped, category, region, street, responsible, assisting, level
):
    route = shipped.route(category, region, street=street)
    assert (route.responsible, route.assisting, route.rule.level) == (
        responsible,
        assisting,
        level,
    )


@pytest.mark.parametrize(
    ("category", "region", "street", "message"),
    [
        ("snow", "350203", None, "category: unknown category"),
        ("noise", "350299", None, "region_code: '350299' is not a known"),
        ("noise", "350000", None, "is a province"),
        ("noise", "350203", "350206001", "is not in district 350203"),
        ("noise", "350203", "350203999", "is not a known street"),
    ],
)
def test_routing_refuses_what_the_catalogue_does_not_know(
    shipped, category, region, street, message
):
    with pytest.raises(ValueError, match=message):
        shipped.route(category, region, street=street)


BROKEN = """\
streets:
  - {code: "350203001", name: {zh: 中华街道, en: Zhonghua}}
  - {code: "350203001", name: {zh: 中华街道, en: Zhonghua}}
  - {code: "359999001", name: {zh: 无名街道, en: Nowhere}}
units:
  - {code: sm_desk, kind: department, region: "350203", name: {zh: 派单席, en: Desk}}
  - {code: sm_police, kind: department, region: "350203", name: {zh: 分局, en: Police}}
  - {code: hl_police, kind: department, region: "350206", name: {zh: 分局, en: Police}}
  - {code: ghost, kind: company, region: "350999", name: {zh: 无, en: Ghost}}
  - {code: lazy_office, kind: street_office, region: "350203", name: {zh: 街道, en: Office}}
  - {code: rogue, kind: agency, region: "350203", name: {zh: 无, en: Rogue}, colour: red}
  - {code: orphan, kind: department, region: "350203", department: nobody,
     name: {zh: 无, en: Orphan}}
rules:
  - {categories: [noise, snow], region: "350203", responsible: sm_police}
  - {categories: [noise], region: "350203", responsible: sm_police}
  - {categories: [pets], region: "350203", responsible: missing_unit, assisting: [also_missing]}
  - {categories: [traffic], region: "350203", responsible: hl_police}
  - {categories: [parking], region: "350203", responsible: sm_police, assisting: [sm_police]}
  - {categories: [garbage], region: "350777", responsible: sm_police}
desks:
  - {region: "350203", unit: sm_desk}
"""


def test_a_broken_file_lists_every_problem_with_its_path(tmp_path):
    path = tmp_path / "dispatch.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(dispatch.DispatchInvalid) as caught:
        dispatch.load(path, regions=REGIONS, departments=DEPARTMENTS)
    found = {(issue.path, issue.reason) for issue in caught.value.issues}
    assert all(issue.file == str(path) for issue in caught.value.issues)
    expected = {
        ("streets[1](350203001)", "street 350203001 is defined twice"),
        ("streets[2](359999001)", "street 359999001: 359999 is not a known district"),
        ("units[3](ghost).region", "350999 is not a known region or street"),
        (
            "units[4](lazy_office).region",
            "a street office serves a street, not a whole district",
        ),
        ("units[5](rogue).kind", "Input should be 'department', 'street_office' or 'company'"),
        ("units[5](rogue).colour", "unknown field"),
        ("units[6](orphan).department", "nobody is not a known department"),
        ("rules[0].categories[1]", "snow is not a known category"),
        ("rules[1]", "duplicate rule for noise in 350203; first at rules[0]"),
        ("rules[2].responsible", "missing_unit is not a known unit"),
        ("rules[2].assisting[0]", "also_missing is not a known unit"),
        ("rules[3].responsible", "hl_police serves 350206, which does not cover 350203"),
        ("rules[4]", "the responsible unit cannot also assist"),
        ("rules[5].region", "350777 is not a known region or street"),
        ("desks", "no 12345 dispatch desk for 350100 or any region above it"),
    } | {
        ("desks", f"no 12345 dispatch desk for {code} or any region above it")
        for code in ["350100", "350102", "350103", "350200", "350206"]
    }
    assert found == expected, sorted(found ^ expected)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("streets: [\n", "not valid YAML"),
        ("- a list\n", "expected a mapping of streets, units, rules, desks"),
        ("lanes: []\n", "unknown section"),
    ],
)
def test_an_unreadable_file_is_reported_not_half_loaded(tmp_path, text, reason):
    path = tmp_path / "dispatch.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(dispatch.DispatchInvalid, match=reason):
        dispatch.load(path, regions=REGIONS)


def test_a_return_excludes_the_unit_that_sent_the_ticket_back(shipped):
    first = shipped.route("noise", "350203", street="350203001")
    assert first.responsible == "sm_zhonghua_police"
    again = shipped.reroute_after_return(
        "noise", "350203", street="350203001", returned_by=["sm_zhonghua_police"]
    )
    assert again.route is not None
    assert again.route.responsible == "sm_police"
    assert "sm_zhonghua_police" not in again.route.assisting
    assert (again.escalate, again.handovers) == (False, 1)


def test_a_unit_that_returned_the_ticket_does_not_assist_either(shipped):
    again = shipped.reroute_after_return(
        "parking", "350206", returned_by=["hl_urban_management", "hl_traffic_police"]
    )
    assert again.route is not None
    assert (again.route.responsible, again.route.assisting) == ("hl_12345", ())


@pytest.mark.parametrize(
    ("returns", "transfers", "escalate"),
    [(0, 0, False), (1, 0, False), (2, 0, False), (1, 1, False), (3, 0, True), (2, 1, True)],
)
def test_the_ticket_escalates_after_the_third_return_or_transfer(
    shipped, returns, transfers, escalate
):
    chain = ["sm_zhonghua_police", "sm_police", "sm_12345"][:returns]
    outcome = shipped.reroute_after_return(
        "noise", "350203", street="350203001", returned_by=chain, transfers=transfers
    )
    assert outcome.escalate is escalate
    assert outcome.handovers == returns + transfers


def test_when_everyone_has_returned_the_ticket_there_is_no_route_and_it_escalates(shipped):
    outcome = shipped.reroute_after_return(
        "heating", "350203", returned_by=["sm_12345", "xm_12345"]
    )
    assert outcome.route is None
    assert outcome.escalate is True


def test_a_return_by_an_unknown_unit_is_refused(shipped):
    with pytest.raises(ValueError, match="returned_by: unknown units nobody"):
        shipped.reroute_after_return("noise", "350203", returned_by=["nobody"])
