"""The HTTP service (a `ThreadingHTTPServer` on a daemon thread) and its lifecycle."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from onething.simulator import protocol
from onething.simulator.config import SimulatorConfig
from onething.simulator.delivery import post_callback
from onething.simulator.registry import Registers
from onething.simulator.scheduler import Scheduler
from onething.simulator.signing import (
    PURPOSE_HEADER,
    SIGNATURE_HEADER,
    read_message,
    verify_signature,
)
from onething.simulator.state import Outcome, PendingCallback, SimulatorState

logger = logging.getLogger("onething.simulator")

# An oversized body up to this size is read and thrown away so the client sees the 413 instead
# of a reset connection; a larger one just closes the connection.
_DRAIN_LIMIT_BYTES = 16 * 1024 * 1024
_DRAIN_CHUNK_BYTES = 64 * 1024


class DepartmentSimulator:
    """Simulated department systems behind one loopback HTTP service.

    Accepts cases idempotently, decides each after a delay and calls the platform back with a
    signed decision, retrying with exponential backoff; answers registry reads from the
    configured registers. State is in memory and lost on `stop`.
    """

    def __init__(self, config: SimulatorConfig) -> None:
        # Read first: a register file with a mistake stops the simulator before it listens.
        self._registers = Registers.load(config.registers)
        self._state = SimulatorState(config, now=lambda: datetime.now(UTC))
        self._scheduler = Scheduler()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._base_url: str | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving (port 0 picks a free port); returns the base URL, no trailing slash."""
        if self._server is not None or self._stopped:
            raise RuntimeError("a DepartmentSimulator can be started once")
        self._server = _Server((host, port), self)
        bound_host, bound_port = self._server.server_address[:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        self._base_url = f"http://{shown}:{bound_port}"
        self._scheduler.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="department-simulator-http",
            daemon=True,
        )
        self._thread.start()
        logger.info("department simulator listening on %s", self._base_url)
        return self._base_url

    def stop(self) -> None:
        """Stop serving and drop callbacks not yet due; waits for callbacks being sent."""
        if self._stopped:
            return
        self._stopped = True
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._scheduler.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the simulator is not started")
        return self._base_url

    @property
    def config(self) -> SimulatorConfig:
        return self._state.config

    def configure(self, **changes: Any) -> SimulatorConfig:
        """Change settings at run time (rates, delays, attempts…); returns the new config.

        A new delay applies to cases accepted afterwards; `callback_attempts` to every attempt
        still to come; new `registers` are read at once (and kept only if valid).
        """
        registers = None
        if "registers" in changes:
            # Checked and read before anything changes: a mistake leaves the simulator as it was.
            candidate = dataclasses.replace(self._state.config, **changes)
            registers = Registers.load(candidate.registers)
        config = self._state.configure(**changes)
        if registers is not None:
            self._registers = registers
        return config

    def stats(self) -> dict[str, int]:
        """Counters since start (see the package docstring for their meaning)."""
        return self._state.stats()

    def case(self, department: str, external_id: str) -> dict[str, Any] | None:
        """The case as `GET /departments/{department}/cases/{external_id}` shows it."""
        return self._state.case(department, external_id)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every accepted case is decided and its callback finished (delivered or
        abandoned); False if `timeout` seconds passed first."""
        return self._scheduler.wait_idle(timeout)

    # -- HTTP operations (called from the request threads) ----------------------------------

    def _note_request(self) -> None:
        self._state.note_request()

    def _submit(self, department: str, key: str, body: bytes) -> tuple[int, dict[str, Any]]:
        submission = protocol.parse_submission(department, body)
        result = self._state.submit(key, submission)
        if result.outcome is Outcome.UNAVAILABLE:
            return HTTPStatus.SERVICE_UNAVAILABLE, {"error": "temporarily unavailable"}
        if result.outcome is Outcome.CONFLICT:
            return HTTPStatus.UNPROCESSABLE_ENTITY, {
                "error": "idempotency key reused with a different body"
            }
        external_id = result.external_id or ""  # accepted and duplicate results carry it
        if result.outcome is Outcome.ACCEPTED:
            self._scheduler.schedule(result.delay_seconds, lambda: self._decide(external_id))
            logger.debug("department %s accepted case %s", department, external_id)
        return HTTPStatus.ACCEPTED, {
            "accepted": True,
            "duplicate": result.outcome is Outcome.DUPLICATE,
            "external_id": external_id,
        }

    def _read_register(
        self, register: str, subject: str, *, target: str, purpose: str, signature: str | None
    ) -> tuple[int, dict[str, Any]]:
        config = self._state.config
        if signature is not None and not verify_signature(
            config.secret, read_message(target, purpose), signature
        ):
            return HTTPStatus.UNAUTHORIZED, {"error": "signature does not match"}
        delay, fail = self._state.registry_read()
        if delay > 0:
            time.sleep(delay)
        if fail:
            return HTTPStatus.SERVICE_UNAVAILABLE, {"error": "temporarily unavailable"}
        registers = self._registers
        if register not in registers:
            return HTTPStatus.NOT_FOUND, {"error": "no such register"}
        found = registers.record(register, subject)
        if found is None:
            return HTTPStatus.NOT_FOUND, {"error": "not found"}
        return HTTPStatus.OK, {"record": found}

    # -- background jobs (called from the sender threads) -----------------------------------

    def _decide(self, external_id: str) -> None:
        self._deliver(self._state.decide(external_id))

    def _deliver(self, pending: PendingCallback) -> None:
        config = self._state.config
        result = post_callback(
            pending.url,
            pending.body,
            secret=config.secret,
            event_id=pending.event_id,
            timeout=config.callback_timeout_seconds,
        )
        following = self._state.record_attempt(pending.external_id, delivered=result.delivered)
        if result.delivered:
            logger.debug("callback for %s delivered", pending.external_id)
            return
        detail = result.status if result.status is not None else result.error
        if following is None:
            logger.warning(
                "callback for %s abandoned after %d attempts (%s)",
                pending.external_id,
                pending.attempt,
                detail,
            )
            return
        delay = self._state.config.backoff_after(pending.attempt)
        logger.info(
            "callback for %s failed (attempt %d, %s); retrying in %.2fs",
            pending.external_id,
            pending.attempt,
            detail,
            delay,
        )
        self._scheduler.schedule(delay, lambda: self._deliver(following))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops bursts of connector retries into SYN backoff

    def __init__(self, address: tuple[str, int], simulator: DepartmentSimulator) -> None:
        self.simulator = simulator
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; a dropped client connection is not news.
        logger.debug("department simulator connection error", exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "OneThing-DepartmentSimulator/1"
    sys_version = ""
    timeout = 10  # seconds a slow client may hold a request thread

    def log_message(self, format: str, *args: Any) -> None:
        # The default access log goes to stderr; request lines are not worth keeping here.
        return

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Unparseable requests are answered by http.server itself; keep its answers JSON too.
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        self._send_json(code, {"error": phrase})

    def do_GET(self) -> None:
        self._respond(self._get)

    def do_HEAD(self) -> None:
        self._respond(self._get)

    def do_POST(self) -> None:
        self._respond(self._post)

    def do_PUT(self) -> None:
        self._respond(self._not_allowed)

    def do_PATCH(self) -> None:
        self._respond(self._not_allowed)

    def do_DELETE(self) -> None:
        self._respond(self._not_allowed)

    def _respond(self, operation: Callable[[str], tuple[int, dict[str, Any]]]) -> None:
        try:
            status, payload = operation(urlsplit(self.path).path)
        except protocol.ProtocolError as error:
            status, payload = error.status, {"error": error.message}
        except Exception:
            logger.exception("department simulator request failed")
            status, payload = HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"}
        self._send_json(status, payload)

    def _get(self, path: str) -> tuple[int, dict[str, Any]]:
        simulator = self.server.simulator
        if path == "/healthz":
            return HTTPStatus.OK, {"status": "ok"}
        if path == "/stats":
            return HTTPStatus.OK, simulator.stats()
        match = protocol.CASE_PATH.match(path)
        if match:
            found = simulator.case(match["department"], match["external_id"])
            if found is None:
                return HTTPStatus.NOT_FOUND, {"error": "no such case"}
            return HTTPStatus.OK, found
        match = protocol.REGISTRY_PATH.match(path)
        if match:
            return simulator._read_register(
                match["register"],
                unquote(match["subject"]),
                target=self.path,
                purpose=self.headers.get(PURPOSE_HEADER, ""),
                signature=self.headers.get(SIGNATURE_HEADER),
            )
        if protocol.CASES_PATH.match(path):
            return HTTPStatus.METHOD_NOT_ALLOWED, {"error": "method not allowed"}
        return HTTPStatus.NOT_FOUND, {"error": "not found"}

    def _post(self, path: str) -> tuple[int, dict[str, Any]]:
        match = protocol.CASES_PATH.match(path)
        if not match:
            self._discard_body()
            if (
                protocol.CASE_PATH.match(path)
                or protocol.REGISTRY_PATH.match(path)
                or path in {"/healthz", "/stats"}
            ):
                return HTTPStatus.METHOD_NOT_ALLOWED, {"error": "method not allowed"}
            return HTTPStatus.NOT_FOUND, {"error": "not found"}
        simulator = self.server.simulator
        simulator._note_request()
        body = self._read_body(simulator.config.max_body_bytes)
        key = protocol.check_idempotency_key(self.headers.get(protocol.IDEMPOTENCY_HEADER))
        return simulator._submit(match["department"], key, body)

    def _not_allowed(self, path: str) -> tuple[int, dict[str, Any]]:
        self._discard_body()
        return HTTPStatus.METHOD_NOT_ALLOWED, {"error": "method not allowed"}

    def _content_length(self) -> int:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            raise protocol.ProtocolError(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
        raw = self.headers.get("Content-Length")
        if raw is None:
            raise protocol.ProtocolError(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
        try:
            length = int(raw)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise protocol.ProtocolError(
                HTTPStatus.BAD_REQUEST, "Content-Length must be a non-negative integer"
            )
        return length

    def _read_body(self, limit: int) -> bytes:
        length = self._content_length()
        if length > limit:
            self._drain(length)
            raise protocol.ProtocolError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body larger than {limit} bytes"
            )
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            raise protocol.ProtocolError(HTTPStatus.BAD_REQUEST, "body shorter than Content-Length")
        return body

    def _discard_body(self) -> None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length:
            self._drain(length)

    def _drain(self, length: int) -> None:
        if not 0 < length <= _DRAIN_LIMIT_BYTES:
            self.close_connection = True
            return
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, _DRAIN_CHUNK_BYTES))
            if not chunk:
                self.close_connection = True
                return
            remaining -= len(chunk)

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode("ascii")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if status == HTTPStatus.SERVICE_UNAVAILABLE:
            self.send_header("Retry-After", "1")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
