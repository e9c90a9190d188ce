"""Registry reads: `GET /registry/{register}/{subject}` answered from register files."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import onething
from onething.simulator import DepartmentSimulator, SimulatorConfig
from onething.simulator.signing import read_message, sign

from .conftest import SECRET

REMOTE_REGISTERS = str(Path(onething.__file__).parent / "demo_data" / "remote")
WANG = "350121196611202467"
PATH = f"/registry/social_insurance/{WANG}"


def test_a_known_subject_is_answered_with_its_record(start_simulator):
    simulator, client = start_simulator(registers=[REMOTE_REGISTERS])

    response = client.get(PATH)

    assert response.status == 200
    found = response.json()["record"]
    assert found["name"] == "王秀英"
    assert (found["contribution_years"], found["medical_contribution_years"]) == (32, 28)
    assert found["status"] == "contributing"
    assert found["insured_since"] == "1994-07-01"
    assert simulator.stats()["registry_reads"] == 1


def test_the_deceased_pensioner_s_pension_stopped_on_the_day_he_died(start_simulator):
    _, client = start_simulator(registers=[REMOTE_REGISTERS])

    found = client.get("/registry/social_insurance/350200194403152113").json()["record"]

    assert (found["status"], found["pension_stopped_on"]) == ("deceased", "2026-11-19")


def test_an_unknown_subject_or_register_is_404(start_simulator):
    _, client = start_simulator(registers=[REMOTE_REGISTERS])

    unknown_subject = client.get("/registry/social_insurance/11010519491231002X")
    unknown_register = client.get(f"/registry/tax/{WANG}")

    assert (unknown_subject.status, unknown_subject.json()) == (404, {"error": "not found"})
    assert (unknown_register.status, unknown_register.json()) == (
        404,
        {"error": "no such register"},
    )


def test_without_registers_every_register_is_unknown(start_simulator):
    _, client = start_simulator()

    assert client.get(PATH).json() == {"error": "no such register"}


def test_a_matching_signature_is_accepted_and_another_refused(start_simulator):
    _, client = start_simulator(registers=[REMOTE_REGISTERS])
    purpose = "prefill APP-1"

    def read(secret: str):
        signature = sign(secret, read_message(PATH, purpose))
        return client.request(
            "GET",
            PATH,
            headers={"X-OneThing-Purpose": purpose, "X-OneThing-Signature": signature},
        )

    assert read(SECRET).status == 200
    refused = read("another-secret")
    assert (refused.status, refused.json()) == (401, {"error": "signature does not match"})


def test_reads_fail_at_the_configured_rate_and_wait_the_configured_delay(start_simulator):
    simulator, client = start_simulator(registers=[REMOTE_REGISTERS], registry_failure_rate=1.0)

    failed = client.get(PATH)
    simulator.configure(registry_failure_rate=0.0, registry_delay_seconds=0.3)
    started = time.monotonic()
    answered = client.get(PATH)
    waited = time.monotonic() - started

    assert (failed.status, failed.json()) == (503, {"error": "temporarily unavailable"})
    assert answered.status == 200
    assert waited >= 0.3
    stats = simulator.stats()
    assert (stats["registry_reads"], stats["registry_failures_injected"]) == (2, 1)
    assert stats["failures_injected"] == 0


def test_a_registry_path_only_answers_reads(start_simulator):
    _, client = start_simulator(registers=[REMOTE_REGISTERS])

    assert client.request("POST", PATH, b"{}", {"Content-Length": "2"}).status == 405


def test_registers_can_be_replaced_at_run_time_and_a_mistake_changes_nothing(
    start_simulator, tmp_path
):
    simulator, client = start_simulator()

    simulator.configure(registers=[REMOTE_REGISTERS])
    with pytest.raises(ValueError):
        simulator.configure(registers=[str(tmp_path / "nowhere")], registry_failure_rate=1.0)

    assert client.get(PATH).status == 200
    assert simulator.config.registers == (REMOTE_REGISTERS,)


def test_a_register_file_with_a_mistake_stops_the_simulator_before_it_starts(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (Path(REMOTE_REGISTERS) / "social_insurance.yaml")
        .read_text(encoding="utf-8")
        .replace("contribution_years: 32", "contribution_years: many"),
        encoding="utf-8",
    )

    with pytest.raises(ValueError, match="contribution_years"):
        DepartmentSimulator(SimulatorConfig(secret="s", registers=[str(broken)]))


@pytest.mark.parametrize(
    "settings",
    [
        {"registers": REMOTE_REGISTERS},
        {"registry_failure_rate": 1.5},
        {"registry_delay_seconds": -1},
    ],
    ids=["a path, not a list", "rate above 1", "negative delay"],
)
def test_nonsense_registry_settings_are_refused(settings):
    with pytest.raises(ValueError):
        SimulatorConfig(secret="s", **settings)


def test_the_command_refuses_a_missing_register_folder(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "onething.simulator",
            "--secret",
            "s",
            "--registers",
            str(tmp_path / "nowhere"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 2
    assert "nowhere" in result.stderr


def test_the_command_serves_the_registers_it_is_given():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onething.simulator",
            "--port",
            "0",
            "--secret",
            "s",
            "--registers",
            REMOTE_REGISTERS,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        url = urlsplit(line.rsplit(" ", 1)[1].strip())
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
        connection.request("GET", PATH)
        response = connection.getresponse()
        body = json.loads(response.read())
        connection.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()

    assert response.status == 200
    assert body["record"]["id_number"] == WANG
