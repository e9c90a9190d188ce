"""Reading definition files: every error is reported with its file, its path and a reason."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from onething.catalog.validation import CatalogInvalid, read_catalog

T = {"zh": "名", "en": "name"}

BASE = {
    "regions": [{"code": "350000", "name": T, "level": "province"}],
    "departments": [
        {"code": "health", "name": T, "region": "350000"},
        {"code": "police", "name": T, "region": "350000"},
    ],
    "certificate_types": [{"code": "birth_cert", "name": T, "issuer": "health"}],
    "data_elements": [
        {"key": "mother.id_number", "label": T, "type": "string", "validator": "cn_ric"},
        {"key": "child.name", "label": T, "type": "string"},
    ],
    "materials": [
        {"code": "id_card", "name": T, "kind": "original", "carries": ["mother.id_number"]},
    ],
    "services": [
        {
            "code": "birth",
            "name": T,
            "department": "health",
            "kind": "confirmation",
            "legal_basis": T,
            "statutory_days": 10,
            "promised_days": 2,
            "fields": [{"element": "mother.id_number"}],
            "materials": [{"material": "id_card"}],
            "result_certificate_type": "birth_cert",
        },
        {
            "code": "hukou",
            "name": T,
            "department": "police",
            "kind": "registration",
            "legal_basis": T,
            "statutory_days": 10,
            "promised_days": 3,
            "fields": [{"element": "child.name"}],
        },
    ],
}

THING = {
    "things": [
        {
            "code": "newborn",
            "name": T,
            "audience": "person",
            "category": T,
            "lead_department": "health",
            "summary": T,
            "questions": [
                {
                    "key": "place",
                    "type": "choice",
                    "label": T,
                    "options": [{"value": "hospital", "label": T}, {"value": "home", "label": T}],
                },
                {"key": "insured", "type": "yes_no", "label": T},
            ],
            "members": [
                {"service": "birth", "when": {"==": [{"var": "place"}, "hospital"]}},
                {"service": "hukou", "after": ["birth"]},
            ],
        }
    ]
}


def write(tmp_path: Path, name: str, data: dict | str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True))
    return path


def errors_for(tmp_path: Path, base: dict, thing: dict) -> list[str]:
    write(tmp_path, "base.yaml", base)
    write(tmp_path, "things/newborn.yaml", thing)
    with pytest.raises(CatalogInvalid) as caught:
        read_catalog([tmp_path])
    return [str(issue) for issue in caught.value.issues]


def test_a_valid_set_loads(tmp_path):
    write(tmp_path, "base.yaml", BASE)
    write(tmp_path, "things/newborn.yaml", THING)
    catalog = read_catalog([tmp_path])
    assert set(catalog.things) == {"newborn"}
    assert catalog.counts()["services"] == 2


def test_unknown_data_element(tmp_path):
    base = copy.deepcopy(BASE)
    base["services"][1]["fields"].append({"element": "child.eye_colour"})
    (error,) = errors_for(tmp_path, base, THING)
    assert error.startswith(str(tmp_path / "base.yaml"))
    assert "services[1](hukou).fields[1].element" in error
    assert "unknown data element 'child.eye_colour'" in error


def test_unknown_material(tmp_path):
    base = copy.deepcopy(BASE)
    base["services"][0]["materials"].append({"material": "passport"})
    (error,) = errors_for(tmp_path, base, THING)
    assert "base.yaml: services[0](birth).materials[1].material: unknown material 'passport'" in (
        error
    )


def test_unknown_service(tmp_path):
    thing = copy.deepcopy(THING)
    thing["things"][0]["members"].append({"service": "passport"})
    errors = errors_for(tmp_path, BASE, thing)
    assert any(
        "newborn.yaml: things[0](newborn).members[2].service: unknown service 'passport'" in e
        for e in errors
    )


def test_unknown_department(tmp_path):
    base = copy.deepcopy(BASE)
    base["services"][1]["department"] = "tax"
    (error,) = errors_for(tmp_path, base, THING)
    assert "services[1](hukou).department: unknown department 'tax'" in error


def test_duplicate_codes_across_files_name_the_first_file(tmp_path):
    thing = copy.deepcopy(THING)
    thing["services"] = [copy.deepcopy(BASE["services"][0])]
    (error,) = errors_for(tmp_path, BASE, thing)
    assert "newborn.yaml: services[0](birth): duplicate code 'birth'" in error
    assert "first defined in" in error and "base.yaml" in error


def test_cycle_in_after(tmp_path):
    thing = copy.deepcopy(THING)
    thing["things"][0]["members"][0]["after"] = ["hukou"]
    (error,) = errors_for(tmp_path, BASE, thing)
    assert "newborn.yaml: things[0](newborn).members[" in error
    assert "cycle in 'after'" in error and "birth" in error and "hukou" in error


def test_after_naming_a_service_outside_the_thing(tmp_path):
    thing = copy.deepcopy(THING)
    thing["things"][0]["members"][1]["after"] = ["marriage"]
    (error,) = errors_for(tmp_path, BASE, thing)
    assert "members[1].after[0]: 'marriage' is not a member of this thing" in error


def test_condition_naming_an_unknown_question(tmp_path):
    thing = copy.deepcopy(THING)
    thing["things"][0]["members"][1]["when"] = {"var": "married"}
    (error,) = errors_for(tmp_path, BASE, thing)
    assert "things[0](newborn).members[1].when: unknown question 'married'" in error


def test_condition_with_a_value_the_question_does_not_offer(tmp_path):
    thing = copy.deepcopy(THING)
    thing["things"][0]["members"][0]["when"] = {"==": [{"var": "place"}, "taxi"]}
    (error,) = errors_for(tmp_path, BASE, thing)
    assert "members[0].when.==" in error
    assert "question 'place' does not offer 'taxi' (options: hospital, home)" in error


def test_condition_with_an_unknown_operator_is_refused_not_evaluated(tmp_path):
    thing = copy.deepcopy(THING)
    thing["things"][0]["members"][1]["when"] = {"__import__": "os"}
    (error,) = errors_for(tmp_path, BASE, thing)
    assert "members[1].when: unknown operator '__import__'" in error


def test_yes_no_condition_compared_with_a_word(tmp_path):
    thing = copy.deepcopy(THING)
    thing["things"][0]["members"][1]["when"] = {"==": [{"var": "insured"}, "yes"]}
    (error,) = errors_for(tmp_path, BASE, thing)
    assert "question 'insured' is yes/no" in error


def test_a_schema_error_names_the_field(tmp_path):
    base = copy.deepcopy(BASE)
    base["services"][0]["promised_days"] = 30
    base["services"][1]["colour"] = "red"
    del base["departments"][0]["name"]
    errors = errors_for(tmp_path, base, THING)
    assert any("departments[0](health).name: field required" in e for e in errors)
    assert any(
        "services[0](birth): promised_days (30) exceeds statutory_days (10)" in e for e in errors
    )
    assert any("services[1](hukou).colour: unknown field" in e for e in errors)


def test_every_error_of_every_file_is_listed(tmp_path):
    base = copy.deepcopy(BASE)
    base["services"][1]["department"] = "tax"
    thing = copy.deepcopy(THING)
    thing["things"][0]["members"][1]["when"] = {"var": "married"}
    errors = errors_for(tmp_path, base, thing)
    assert len(errors) == 2


def test_broken_yaml_names_the_line(tmp_path):
    write(tmp_path, "base.yaml", BASE)
    write(tmp_path, "things/broken.yaml", "things:\n  - code: x\n   name: [\n")
    with pytest.raises(CatalogInvalid) as caught:
        read_catalog([tmp_path])
    (issue,) = caught.value.issues
    assert issue.file.endswith("broken.yaml")
    assert issue.path.startswith("line ")
    assert "not valid YAML" in issue.reason


def test_a_missing_file_is_an_error_not_a_crash(tmp_path):
    with pytest.raises(CatalogInvalid) as caught:
        read_catalog([tmp_path / "nope.yaml"])
    assert "file not found" in str(caught.value)


def test_the_demo_catalog_is_valid_and_big_enough(demo_catalog):
    counts = demo_catalog.counts()
    assert counts["departments"] >= 10
    assert counts["services"] >= 25
    assert counts["data_elements"] >= 40
    assert counts["materials"] >= 30
    assert set(demo_catalog.things) >= {
        "newborn",
        "open_restaurant",
        "retirement",
        "after_death",
        "home_transfer",
        "enterprise_change",
    }
    levels = [r.level.value for r in demo_catalog.regions.values()]
    assert (levels.count("province"), levels.count("city"), levels.count("county")) == (1, 2, 4)
    for thing in demo_catalog.things.values():
        assert thing.name.zh and thing.name.en


def test_one_bad_record_hides_neither_other_errors_nor_itself(tmp_path):
    base = copy.deepcopy(BASE)
    base["services"][0]["promised_days"] = -1
    base["services"][1]["department"] = "tax"
    errors = errors_for(tmp_path, base, THING)
    assert any("services[0](birth).promised_days" in e for e in errors)
    assert any("services[1](hukou).department: unknown department 'tax'" in e for e in errors)
    # The thing refers to the broken service: that is not reported a second time.
    assert not any("unknown service 'birth'" in e for e in errors)


def test_a_cycle_of_region_parents_is_refused(tmp_path):
    base = copy.deepcopy(BASE)
    base["regions"] = [
        {"code": "350100", "name": T, "level": "city", "parent": "350102"},
        {"code": "350102", "name": T, "level": "county", "parent": "350100"},
        *base["regions"],
    ]
    errors = errors_for(tmp_path, base, THING)
    assert any("cycle in 'parent'" in e for e in errors)


SHARING = {
    "sources": [
        {
            "code": "population",
            "name": T,
            "department": "police",
            "connector": "table",
            "options": {"register": "population"},
            "serves": [{"element": "mother.id_number", "field": "id_number"}],
        }
    ],
    "grants": [
        {
            "code": "birth_reads_population",
            "service": "birth",
            "source": "population",
            "elements": ["mother.id_number"],
            "purpose": T,
            "legal_basis": T,
        }
    ],
}


def test_valid_sources_and_grants_load(tmp_path):
    write(tmp_path, "base.yaml", BASE)
    write(tmp_path, "things/newborn.yaml", THING)
    write(tmp_path, "sharing.yaml", SHARING)
    catalog = read_catalog([tmp_path])
    assert set(catalog.sources) == {"population"}
    assert set(catalog.grants) == {"birth_reads_population"}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("sources", "department", "nobody"), "unknown department 'nobody'"),
        (("sources", "serves", [{"element": "x.y", "field": "f"}]), "unknown data element 'x.y'"),
        (("sources", "options", {}), "a table source needs options.register"),
        (("grants", "source", "elsewhere"), "unknown data source 'elsewhere'"),
        (("grants", "service", "nothing"), "unknown service 'nothing'"),
        (("grants", "elements", ["child.name"]), "does not serve 'child.name'"),
    ],
)
def test_every_wrong_source_or_grant_is_named(tmp_path, change, expected):
    kind, key, value = change
    sharing = copy.deepcopy(SHARING)
    sharing[kind][0][key] = value
    write(tmp_path, "sharing.yaml", sharing)
    errors = errors_for(tmp_path, BASE, THING)
    assert any(expected in error and "sharing.yaml" in error for error in errors), errors
