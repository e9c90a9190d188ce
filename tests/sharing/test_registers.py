"""Register files: every record checked field by field, every problem named with its place."""

from __future__ import annotations

import pytest
import yaml
from stdnum.cn import ric

from onething.sharing.registers import RegistersInvalid, read_registers
from tests.conftest import DEMO_REGISTERS


def write(tmp_path, name: str, document: dict) -> None:
    (tmp_path / name).write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


def people(records: list[dict], **extra) -> dict:
    return {
        "register": "population",
        "name": {"zh": "人口", "en": "Population"},
        "department": "fj_public_security",
        "subject": "person",
        "key": "id_number",
        "subjects": ["id_number"],
        "fields": {
            "id_number": {"type": "cn_ric"},
            "name": {"type": "text"},
            "born": {"type": "date"},
            "sex": {"type": "choice", "choices": ["male", "female"]},
            "spouse": {"type": "cn_ric", "required": False, "references": "population"},
        },
        "records": records,
        **extra,
    }


ANNA = {"id_number": "350203199406121242", "name": "A", "born": "1994-06-12", "sex": "female"}


def test_the_demo_registers_are_valid():
    registers = read_registers([DEMO_REGISTERS])
    assert set(registers.registers) == {
        "population",
        "marriages",
        "births",
        "deaths",
        "enterprises",
        "housing_fund",
        "driving_licences",
        "real_estate",
    }
    assert all(registers.counts().values())


@pytest.mark.parametrize(
    ("change", "where", "reason"),
    [
        ({"id_number": "350203199406121243"}, "records[0].id_number", "not a valid resident ID"),
        ({"born": "12.06.1994"}, "records[0].born", "expected a date (YYYY-MM-DD)"),
        ({"sex": "unknown"}, "records[0].sex", "'unknown' is not one of male, female"),
        ({"name": None}, "records[0].name", "a value is required"),
        ({"shoe_size": 38}, "records[0].shoe_size", "not a field of this register"),
        ({"spouse": "35020319920203135X"}, "records[0].spouse", "no record with key"),
    ],
)
def test_a_wrong_value_is_named_with_its_record_and_field(tmp_path, change, where, reason):
    write(tmp_path, "p.yaml", people([{**ANNA, **change}]))
    with pytest.raises(RegistersInvalid) as error:
        read_registers([tmp_path])
    [issue] = error.value.issues
    assert issue.file.endswith("p.yaml")
    assert issue.path == where
    assert reason in issue.reason


def test_every_problem_of_every_file_is_reported_at_once(tmp_path):
    twice = [ANNA, {**ANNA, "name": "B"}]
    write(tmp_path, "a.yaml", people([{**ANNA, "sex": "x"}, {**ANNA, "born": "x"}]))
    write(tmp_path, "b.yaml", people(twice, register="people_again"))
    (tmp_path / "c.yaml").write_text("register: [\n")
    with pytest.raises(RegistersInvalid) as error:
        read_registers([tmp_path])
    text = str(error.value)
    assert "a.yaml: records[0].sex" in text
    assert "a.yaml: records[1].born" in text
    assert (
        "records[1].id_number: the key '350203199406121242' is already used by records[0]" in text
    )
    assert "c.yaml: line 2" in text


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"key": "nickname"}, "'nickname' is not one of the register's fields"),
        ({"subjects": ["name"]}, "must be of type cn_ric"),
        ({"subject": "enterprise"}, "must be of type cn_uscc"),
    ],
)
def test_a_register_must_name_its_key_and_subjects_among_its_fields(tmp_path, change, reason):
    write(tmp_path, "p.yaml", people([ANNA], **change))
    with pytest.raises(RegistersInvalid) as error:
        read_registers([tmp_path])
    assert reason in str(error.value)


def test_the_same_register_in_two_files_is_refused(tmp_path):
    write(tmp_path, "a.yaml", people([ANNA]))
    write(tmp_path, "b.yaml", people([]))
    with pytest.raises(RegistersInvalid, match="already defined in"):
        read_registers([tmp_path])


def test_the_demo_population_has_the_families_the_demo_stories_need():
    registers = read_registers([DEMO_REGISTERS])
    population = {row["id_number"]: row for row in registers.records["population"]}
    for person in population.values():
        assert ric.validate(person["id_number"])
        assert ric.get_birth_date(person["id_number"]).isoformat() == person["birth_date"]
        # GB 11643: the 17th digit is odd for men, even for women.
        assert int(person["id_number"][16]) % 2 == (person["sex"] == "male")
        if spouse := person.get("spouse_id_number"):
            assert population[spouse]["spouse_id_number"] == person["id_number"]
    deceased = [p for p in population.values() if p["status"] == "deceased"]
    assert deceased and all(p.get("death_date") for p in deceased)
    deaths = {row["id_number"] for row in registers.records["deaths"]}
    assert {p["id_number"] for p in deceased} <= deaths
    newborns = [b for b in registers.records["births"] if "child_id_number" not in b]
    assert newborns, "a newborn whose birth is not yet registered in a household"
    assert all(b["mother_id_number"] in population for b in newborns)
    retirees = [p for p in population.values() if p["birth_date"] <= "1966-12-31"]
    assert retirees
    assert registers.registers["births"].sensitive_fields == {
        "birth_weight_grams",
        "gestation_weeks",
    }
