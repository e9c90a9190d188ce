"""Loopback fixtures: a simulator factory, a scriptable callback receiver and a tiny client."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from onething.simulator import DepartmentSimulator, SimulatorConfig

SECRET = "test-shared-secret"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """The platform's end of the callbacks: answers the scripted statuses, then 200."""

    url: str
    statuses: list[int] = field(default_factory=list)
    calls: list[Received] = field(default_factory=list)
    condition: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.condition:
            while len(self.calls) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} callbacks, got {len(self.calls)}")
                self.condition.wait(remaining)
            return list(self.calls)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            target = state["receiver"]
            with target.condition:
                status = target.statuses.pop(0) if target.statuses else 200
                target.calls.append(
                    Received(
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        at=time.monotonic(),
                    )
                )
                target.condition.notify_all()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_port}/callbacks")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def start_simulator() -> Iterator[Callable[..., tuple[DepartmentSimulator, Client]]]:
    """Start a simulator with tiny delays (overridable) and a client for it."""
    started: list[DepartmentSimulator] = []

    def start(**settings: Any) -> tuple[DepartmentSimulator, Client]:
        settings = {
            "secret": SECRET,
            "delay_seconds": 0.05,
            "callback_backoff_seconds": 0.05,
            **settings,
        }
        simulator = DepartmentSimulator(SimulatorConfig(**settings))
        base_url = simulator.start(host="127.0.0.1", port=0)
        started.append(simulator)
        return simulator, Client(base_url)

    yield start
    for simulator in started:
        simulator.stop()


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """http.client over loopback: nothing between the test and the simulator."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> Response:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Response(
                response.status,
                response.read(),
                {k.lower(): v for k, v in response.getheaders()},
            )
        finally:
            connection.close()

    def submit(
        self,
        payload: dict[str, Any],
        *,
        key: str | None,
        department: str = "civil-affairs",
    ) -> Response:
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.request(
            "POST", f"/departments/{department}/cases", json.dumps(payload).encode(), headers
        )

    def get(self, path: str) -> Response:
        return self.request("GET", path)


@pytest.fixture
def payload(receiver: Receiver) -> Callable[..., dict[str, Any]]:
    """A valid submission calling back to `receiver`, with any field changed."""

    def make(**changes: Any) -> dict[str, Any]:
        return {
            "case": "APP-2025-000123/1",
            "service": "birth-registration",
            "data": {"child.name": "Li Ming", "mother.id_number": "11010519491231002X"},
            "outputs": ["child.birth_certificate_number", "household.entry_id"],
            "callback_url": receiver.url,
            **changes,
        }

    return make
