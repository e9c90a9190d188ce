"""The `onething` command, run as a user would run it."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from onething.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run_onething(*args: str, env: dict | None = None, timeout: int = 180):
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    # The demo takes its complaints in through the classifier: the one the tests train once,
    # not one per fresh data folder (training takes seconds).
    environment["ONETHING_HOTLINE_MODEL"] = str(settings.ONETHING_HOTLINE_MODEL)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "onething.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def test_catalog_check_accepts_the_demo_catalog(capsys):
    assert main(["catalog", "check", "src/onething/catalog/definitions"]) == 0
    assert "catalog is valid" in capsys.readouterr().out


def test_catalog_check_lists_every_error_and_exits_1(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text(
        yaml.safe_dump(
            {
                "departments": [
                    {"code": "police", "name": {"zh": "公安", "en": "Police"}, "region": "999999"}
                ],
                "things": [{"code": "x"}],
            }
        )
    )
    (tmp_path / "b.yaml").write_text("regions: [\n")
    assert main(["catalog", "check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "a.yaml: things[0](x).name: field required" in err
    assert "b.yaml: line " in err
    assert "nothing loaded" in err


def test_demo_prepares_the_data_folder_and_a_second_run_reuses_it(tmp_path):
    env = {"ONETHING_DATA_DIR": str(tmp_path)}
    first = run_onething("demo", "--no-serve", env=env)
    assert first.returncode == 0, first.stderr
    assert "http://127.0.0.1:8000/" in first.stdout
    for login in (
        "admin",
        "linxiaoyan",
        "zhangwei",
        "wangxiuying",
        "huangzhiqiang",
        "lina",
        "reviewer_fj_health",
        "reviewer_fj_health_xiamen",
        "reviewer_fj_public_security",
        "clerk",
        "supervisor",
        "agent12345",
        "supervisor_xiamen",
        "unit_sm_zhonghua_police",
        "unit_sm_housing",
        "unit_sm_zhonghua_office",
        "unit_sm_12345",
    ):
        assert f"{login} / onething-demo" in first.stdout, login
    open311 = re.search(r"demo api_key: (o311_\S+)", first.stdout)
    assert open311, first.stdout
    key_open311 = open311.group(1)
    key = (tmp_path / "secret_key").read_text()
    database = tmp_path / "onething.sqlite3"

    def counts():
        with sqlite3.connect(database) as connection:
            return [
                connection.execute(f"SELECT COUNT(*) FROM catalog_{table}").fetchone()[0]
                for table in ("thing", "service", "servicefield", "thingmember", "question")
            ]

    before = counts()
    assert before[0] >= 6
    second = run_onething("demo", "--no-serve", env=env)
    assert second.returncode == 0, second.stderr
    assert counts() == before
    assert (tmp_path / "secret_key").read_text() == key
    assert f"demo api_key: {key_open311}" in second.stdout, "the Open311 key stays the same"


def test_serve_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_onething("serve", env={"ONETHING_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "SECRET_KEY is not set" in result.stderr


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory):
    # One demo folder for the module: a demo run takes many seconds, and these tests only read.
    env = {"ONETHING_DATA_DIR": str(tmp_path_factory.mktemp("demo"))}
    assert run_onething("demo", "--no-serve", env=env).returncode == 0
    return env


def test_plan_prints_the_plan_as_json(demo_data):
    result = run_onething(
        "plan", "newborn", *_newborn_answers(), "--json", "--lang", "en", env=demo_data
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["thing"]["code"] == "newborn"
    assert plan["promised_days"] > 0


def test_plan_names_a_wrong_answer_and_exits_1(demo_data):
    result = run_onething("plan", "newborn", "--lang", "en", env=demo_data)
    assert result.returncode == 1
    assert "answers." in result.stderr and "must be answered" in result.stderr


def test_catalog_list_and_manage_pass_through(demo_data):
    listing = run_onething("catalog", "list", "--lang", "en", env=demo_data)
    assert listing.returncode == 0
    assert "newborn" in listing.stdout
    manage = run_onething("manage", "showmigrations", "catalog", env=demo_data)
    assert manage.returncode == 0
    assert "[X] 0001_initial" in manage.stdout


def _newborn_answers() -> list[str]:
    from onething.catalog.validation import default_definitions_dir, read_catalog

    thing = read_catalog([default_definitions_dir()]).things["newborn"]
    args = []
    for question in thing.questions:
        if question.type.value == "yes_no":
            value = "yes"
        elif question.type.value == "choice":
            value = question.options[0].value
        else:
            value = str(question.min if question.min is not None else 1)
        args += ["--answer", f"{question.key}={value}"]
    return args


def test_commands_on_an_empty_database_say_how_to_set_it_up(tmp_path):
    result = run_onething("plan", "newborn", env={"ONETHING_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "onething manage migrate" in result.stderr
    assert "Traceback" not in result.stderr


def test_registers_check_accepts_the_demo_registers_and_names_every_error(tmp_path, capsys):
    assert main(["registers", "check", "src/onething/demo_data/registers"]) == 0
    assert "registers are valid: births 2" in capsys.readouterr().out
    (tmp_path / "p.yaml").write_text(
        yaml.safe_dump(
            {
                "register": "people",
                "name": {"zh": "人口", "en": "People"},
                "department": "fj_public_security",
                "subject": "person",
                "key": "id_number",
                "subjects": ["id_number"],
                "fields": {"id_number": {"type": "cn_ric"}},
                "records": [{"id_number": "350203199406121243"}],
            }
        )
    )
    assert main(["registers", "check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "p.yaml: records[0].id_number: not a valid resident ID number" in err
    assert "nothing loaded" in err
