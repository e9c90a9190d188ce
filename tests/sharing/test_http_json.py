"""The `http-json` connector against real HTTP servers on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

import onething
from onething.sharing.circuit import CircuitBreaker, State
from onething.sharing.connectors import Lookup, SourceUnavailable, connectors
from onething.sharing.connectors.http_json import HttpJsonConnector
from onething.simulator import DepartmentSimulator, SimulatorConfig
from onething.simulator.signing import read_message, verify_signature

SECRET = "shared-with-the-department"
WANG = "350121196611202467"
REMOTE_REGISTERS = Path(onething.__file__).parent / "demo_data" / "remote"
RECORD = {"id_number": WANG, "name": "王秀英", "contribution_years": 32, "status": "contributing"}


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    sleep: float = 0.0


def record(payload: dict[str, Any] = RECORD) -> Answer:
    return Answer(200, json.dumps({"record": payload}).encode())


@dataclass
class Department:
    """A scripted registry: answers `script` in order, then `default` for ever."""

    url: str
    script: list[Answer] = field(default_factory=list)
    default: Answer = field(default_factory=record)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def hits(self) -> int:
        with self.lock:
            return len(self.requests)


@pytest.fixture
def department() -> Iterator[Department]:
    holder: dict[str, Department] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            target = holder["department"]
            with target.lock:
                target.requests.append((self.path, dict(self.headers.items())))
                answer = target.script.pop(0) if target.script else target.default
            if answer.sleep:
                time.sleep(answer.sleep)
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except OSError:
                pass  # the client gave up waiting, as it should

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    holder["department"] = Department(url=f"http://127.0.0.1:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield holder["department"]
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def breakers() -> dict[str, CircuitBreaker]:
    return {}


@pytest.fixture
def connector(breakers) -> Iterator[HttpJsonConnector]:
    """Quick retries and a breaker opening after three failed fetches, private to the test."""

    def breaker(code: str) -> CircuitBreaker:
        return breakers.setdefault(code, CircuitBreaker(failure_threshold=3, cooldown_seconds=30))

    made = HttpJsonConnector(
        attempts=4,
        backoff_seconds=0.01,
        backoff_max_seconds=0.04,
        breakers=breaker,
        trust_env=False,
    )
    yield made
    made.close()


def lookup(base_url: str, **changes: Any) -> Lookup:
    settings: dict[str, Any] = {
        "source": "social_insurance",
        "connector": "http-json",
        "options": {"path": "/registry/social_insurance/{subject}"},
        "subject": WANG,
        "fields": ("contribution_years", "status", "monthly_pension_yuan"),
        "department": "fj_hrss",
        "extra": {
            "base_url": base_url,
            "purpose": "prefill 退休一件事 APP-2026-1",
            "secret": SECRET,
        },
    }
    return Lookup(**{**settings, **changes})


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    try:
        return call(), time.monotonic() - started
    except SourceUnavailable as error:
        return error, time.monotonic() - started


def test_the_connector_is_registered_as_http_json():
    assert isinstance(connectors["http-json"], HttpJsonConnector)


def test_an_answer_gives_only_the_wanted_fields_the_record_has(connector, department):
    found = connector.fetch(lookup(department.url), timeout=2)

    assert found == {"contribution_years": 32, "status": "contributing"}
    [(path, headers)] = department.requests
    assert path == f"/registry/social_insurance/{WANG}"
    assert headers["Accept"] == "application/json"
    purpose = headers["X-OneThing-Purpose"]
    assert unquote(purpose) == "prefill 退休一件事 APP-2026-1"
    assert verify_signature(SECRET, read_message(path, purpose), headers["X-OneThing-Signature"])


def test_without_a_secret_the_request_is_not_signed(connector, department):
    connector.fetch(lookup(department.url, extra={"base_url": department.url}), timeout=2)

    [(_, headers)] = department.requests
    assert "X-OneThing-Signature" not in headers
    assert headers["X-OneThing-Purpose"] == ""


def test_a_department_too_slow_for_the_budget_is_unavailable_within_the_budget(
    connector, department
):
    department.default = Answer(200, b'{"record": {}}', sleep=3)

    error, elapsed = timed(lambda: connector.fetch(lookup(department.url), timeout=0.5))

    assert isinstance(error, SourceUnavailable)
    assert "timed out" in str(error)
    # Cut off by the budget, not by the department's 3 s; the margin is for a loaded CI machine
    # (0.84 s was seen with the suite running on both cores).
    assert elapsed < 1.5


def test_two_server_errors_are_retried_and_the_third_answer_is_used(connector, department):
    department.script = [Answer(500, b"{}"), Answer(503, b"{}")]

    found = connector.fetch(lookup(department.url), timeout=2)

    assert found == {"contribution_years": 32, "status": "contributing"}
    assert department.hits == 3


def test_a_department_always_failing_opens_the_breaker_and_is_then_not_asked(
    connector, department, breakers
):
    department.default = Answer(500, b'{"error": "internal"}')

    for _ in range(3):
        with pytest.raises(SourceUnavailable, match="HTTP 500"):
            connector.fetch(lookup(department.url), timeout=2)
    asked = department.hits
    error, elapsed = timed(lambda: connector.fetch(lookup(department.url), timeout=2))

    assert asked == 3 * connector.attempts
    assert breakers["social_insurance"].state == State.OPEN
    assert isinstance(error, SourceUnavailable)
    assert "failed repeatedly" in str(error)
    assert department.hits == asked
    assert elapsed < 0.05


def test_after_the_cool_down_a_single_request_probes_the_department(department, breakers):
    breaker = CircuitBreaker(failure_threshold=1, cooldown_seconds=0.2)
    connector = HttpJsonConnector(
        attempts=4, backoff_seconds=0.01, breakers=lambda _: breaker, trust_env=False
    )
    department.default = Answer(500, b"{}")
    with pytest.raises(SourceUnavailable):
        connector.fetch(lookup(department.url), timeout=2)
    time.sleep(0.25)

    with pytest.raises(SourceUnavailable):
        connector.fetch(lookup(department.url), timeout=2)
    probed = department.hits
    time.sleep(0.25)
    department.default = record()
    found = connector.fetch(lookup(department.url), timeout=2)

    assert probed == 4 + 1
    assert found == {"contribution_years": 32, "status": "contributing"}
    assert breaker.state == State.CLOSED
    connector.close()


def test_no_record_is_none_and_not_retried(connector, department, breakers):
    department.default = Answer(404, b'{"error": "not found"}')

    assert connector.fetch(lookup(department.url), timeout=2) is None
    assert department.hits == 1
    assert breakers["social_insurance"].consecutive_failures == 0


@pytest.mark.parametrize(
    "body",
    [b"<html>maintenance</html>", b'{"record": ', b'["not", "a", "record"]', b'{"record": 42}'],
    ids=["html", "truncated", "a list", "no record object"],
)
def test_an_answer_that_is_not_a_json_record_is_retried_then_unavailable(
    connector, department, body
):
    department.default = Answer(200, body)

    with pytest.raises(SourceUnavailable, match=r"JSON|record"):
        connector.fetch(lookup(department.url), timeout=2)
    assert department.hits == connector.attempts


def test_a_refusal_that_would_come_back_the_same_is_not_retried(connector, department):
    department.default = Answer(403, b'{"error": "forbidden"}')

    with pytest.raises(SourceUnavailable, match="HTTP 403"):
        connector.fetch(lookup(department.url), timeout=2)
    assert department.hits == 1


def test_a_pause_that_would_outlast_the_budget_is_not_taken(department, breakers):
    connector = HttpJsonConnector(
        attempts=4, backoff_seconds=5, breakers=lambda _: CircuitBreaker(), trust_env=False
    )
    department.default = Answer(500, b"{}")

    error, elapsed = timed(lambda: connector.fetch(lookup(department.url), timeout=1))

    assert isinstance(error, SourceUnavailable)
    assert department.hits == 1
    assert elapsed < 0.5
    connector.close()


def test_no_listener_is_unavailable_within_the_budget(connector, department):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    error, elapsed = timed(
        lambda: connector.fetch(lookup(f"http://127.0.0.1:{closed_port}"), timeout=0.5)
    )

    assert isinstance(error, SourceUnavailable)
    assert "ConnectError" in str(error)
    assert elapsed < 0.5 + 0.25


@pytest.mark.parametrize(
    "changes",
    [
        {"extra": {}},
        {"extra": {"base_url": "ftp://example.org"}},
        {"options": {}},
        {"options": {"path": "/registry/{register}/{subject}"}},
    ],
    ids=["no base_url", "not http", "no path", "unknown placeholder"],
)
def test_a_configuration_mistake_is_unavailable_without_a_request_or_a_breaker_failure(
    connector, department, breakers, changes
):
    with pytest.raises(SourceUnavailable):
        connector.fetch(lookup(department.url, **changes), timeout=2)

    assert department.hits == 0
    assert "social_insurance" not in breakers


def test_the_demo_social_insurance_register_is_read_from_the_department_simulator(connector):
    simulator = DepartmentSimulator(
        SimulatorConfig(secret=SECRET, registers=[str(REMOTE_REGISTERS)])
    )
    base_url = simulator.start()
    try:
        found = connector.fetch(
            lookup(base_url, fields=("contribution_years", "medical_contribution_years")),
            timeout=2,
        )
        unknown = connector.fetch(lookup(base_url, subject="11010519491231002X"), timeout=2)
        wrongly_signed = lookup(base_url, extra={"base_url": base_url, "secret": "not-it"})
        with pytest.raises(SourceUnavailable, match="HTTP 401"):
            connector.fetch(wrongly_signed, timeout=2)
    finally:
        simulator.stop()

    assert found == {"contribution_years": 32, "medical_contribution_years": 28}
    assert unknown is None


def test_no_time_to_ask_is_unavailable_without_a_request_or_a_breaker_failure(
    connector, department, breakers
):
    with pytest.raises(SourceUnavailable, match="no time"):
        connector.fetch(lookup(department.url), timeout=0)

    assert department.hits == 0
    assert "social_insurance" not in breakers
