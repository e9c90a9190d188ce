"""The department simulator over real HTTP on loopback."""

from __future__ import annotations

import json
import re
import socket
import threading
import uuid
from datetime import datetime

import pytest

from onething.simulator import DepartmentSimulator, SimulatorConfig, verify_signature

from .conftest import SECRET


def test_an_accepted_case_is_called_back_with_a_valid_signature_and_its_outputs(
    start_simulator, receiver, payload
):
    _, client = start_simulator()

    response = client.submit(payload(), key="key-1", department="public-security")

    assert response.status == 202
    assert response.json() == {
        "accepted": True,
        "duplicate": False,
        "external_id": "public-security-1",
    }
    [callback] = receiver.wait_for(1)
    assert callback.path == "/callbacks"
    assert verify_signature(SECRET, callback.body, callback.headers["x-onething-signature"])
    assert not verify_signature(
        "another-secret", callback.body, callback.headers["x-onething-signature"]
    )
    decision = callback.json()
    assert decision["case"] == "APP-2025-000123/1"
    assert decision["external_id"] == "public-security-1"
    assert decision["status"] == "approved"
    assert "reason" not in decision
    assert set(decision["outputs"]) == {"child.birth_certificate_number", "household.entry_id"}
    assert re.fullmatch(
        r"CHILD-BIRTH-CERTIFICATE-NUMBER-\d{6}",
        decision["outputs"]["child.birth_certificate_number"],
    )
    assert re.fullmatch(r"HOUSEHOLD-ENTRY-ID-\d{6}", decision["outputs"]["household.entry_id"])
    assert datetime.fromisoformat(decision["decided_at"]).tzinfo is not None
    event_id = callback.headers["x-onething-event-id"]
    assert uuid.UUID(event_id).version == 4
    assert decision["event_id"] == event_id


def test_a_case_is_not_decided_before_its_delay(start_simulator, receiver, payload):
    simulator, client = start_simulator(delay_seconds=0.3)

    client.submit(payload(), key="key-1")
    [callback] = receiver.wait_for(1)

    received_at = datetime.fromisoformat(
        simulator.case("civil-affairs", "civil-affairs-1")["received_at"]
    )
    decided_at = datetime.fromisoformat(callback.json()["decided_at"])
    assert (decided_at - received_at).total_seconds() >= 0.3


def test_the_same_key_twice_is_applied_once_and_called_back_once(
    start_simulator, receiver, payload
):
    simulator, client = start_simulator()

    first = client.submit(payload(), key="key-1")
    second = client.submit(payload(), key="key-1")

    assert first.status == second.status == 202
    assert second.json() == {"accepted": True, "duplicate": True, "external_id": "civil-affairs-1"}
    assert simulator.wait_idle(timeout=5)
    assert len(receiver.calls) == 1
    stats = client.get("/stats").json()
    assert stats["received"] == 2
    assert stats["applied"] == 1
    assert stats["duplicates"] == 1
    assert stats["callbacks_sent"] == 1


def test_a_duplicate_after_the_decision_still_gets_the_same_external_id_and_no_new_callback(
    start_simulator, receiver, payload
):
    simulator, client = start_simulator()
    client.submit(payload(), key="key-1")
    receiver.wait_for(1)

    again = client.submit(payload(), key="key-1")

    assert again.json() == {"accepted": True, "duplicate": True, "external_id": "civil-affairs-1"}
    assert simulator.wait_idle(timeout=5)
    assert len(receiver.calls) == 1


def test_json_key_order_does_not_make_a_different_body(start_simulator, receiver, payload):
    _, client = start_simulator()
    body = payload()
    reordered = dict(reversed(list(body.items())))

    client.submit(body, key="key-1")
    again = client.submit(reordered, key="key-1")

    assert again.status == 202
    assert again.json()["duplicate"] is True


def test_many_concurrent_submissions_with_one_key_apply_once(start_simulator, receiver, payload):
    simulator, client = start_simulator()
    responses = []
    barrier = threading.Barrier(12)

    def submit() -> None:
        barrier.wait()
        responses.append(client.submit(payload(), key="key-1"))

    threads = [threading.Thread(target=submit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r.status for r in responses] == [202] * 12
    assert {r.json()["external_id"] for r in responses} == {"civil-affairs-1"}
    assert sum(not r.json()["duplicate"] for r in responses) == 1
    assert simulator.wait_idle(timeout=5)
    assert len(receiver.calls) == 1
    assert simulator.stats()["applied"] == 1


def test_a_reused_key_with_a_different_body_is_refused_with_422(start_simulator, receiver, payload):
    simulator, client = start_simulator()
    client.submit(payload(), key="key-1")

    response = client.submit(payload(data={"child.name": "Wang Fang"}), key="key-1")

    assert response.status == 422
    assert response.json() == {"error": "idempotency key reused with a different body"}
    assert simulator.wait_idle(timeout=5)
    assert len(receiver.calls) == 1
    assert simulator.stats()["applied"] == 1


def test_a_reused_key_for_another_department_is_refused_with_422(
    start_simulator, receiver, payload
):
    _, client = start_simulator()
    client.submit(payload(), key="key-1", department="civil-affairs")

    response = client.submit(payload(), key="key-1", department="health")

    assert response.status == 422


def test_with_failure_rate_one_nothing_is_applied_until_the_rate_is_lowered(
    start_simulator, receiver, payload
):
    simulator, client = start_simulator(failure_rate=1.0)

    refused = [client.submit(payload(), key="key-1") for _ in range(3)]

    assert [r.status for r in refused] == [503] * 3
    assert refused[0].json() == {"error": "temporarily unavailable"}
    assert refused[0].headers["retry-after"] == "1"
    assert simulator.wait_idle(timeout=5)
    assert receiver.calls == []
    assert client.get("/departments/civil-affairs/cases/civil-affairs-1").status == 404
    stats = simulator.stats()
    assert (stats["received"], stats["applied"], stats["failures_injected"]) == (3, 0, 3)

    simulator.configure(failure_rate=0.0)
    accepted = client.submit(payload(), key="key-1")

    assert accepted.status == 202
    # The failed attempts stored nothing: the retry is the first application, not a duplicate.
    assert accepted.json() == {
        "accepted": True,
        "duplicate": False,
        "external_id": "civil-affairs-1",
    }
    receiver.wait_for(1)
    assert simulator.stats()["applied"] == 1


def test_fail_first_n_refuses_exactly_the_first_n_requests_of_each_key(
    start_simulator, receiver, payload
):
    simulator, client = start_simulator(fail_first_n=2)

    first_key = [client.submit(payload(), key="key-1").status for _ in range(4)]
    second_key = [client.submit(payload(case="APP-2/1"), key="key-2").status for _ in range(3)]

    assert first_key == [503, 503, 202, 202]
    assert second_key == [503, 503, 202]
    assert simulator.wait_idle(timeout=5)
    assert len(receiver.calls) == 2
    stats = simulator.stats()
    assert (stats["failures_injected"], stats["applied"], stats["duplicates"]) == (4, 2, 1)


def test_a_rejection_is_called_back_with_a_reason_and_no_outputs(
    start_simulator, receiver, payload
):
    _, client = start_simulator(reject_rate=1.0)

    client.submit(payload(), key="key-1")

    [callback] = receiver.wait_for(1)
    decision = callback.json()
    assert decision["status"] == "rejected"
    assert decision["reason"]
    assert decision["outputs"] == {}
    assert verify_signature(SECRET, callback.body, callback.headers["x-onething-signature"])
    case = client.get("/departments/civil-affairs/cases/civil-affairs-1").json()
    assert (case["status"], case["reason"]) == ("rejected", decision["reason"])


def test_a_failing_callback_is_retried_with_growing_backoff_until_the_receiver_recovers(
    start_simulator, receiver, payload
):
    receiver.statuses = [500, 500]
    simulator, client = start_simulator(callback_backoff_seconds=0.05)

    client.submit(payload(), key="key-1")

    calls = receiver.wait_for(3)
    assert simulator.wait_idle(timeout=5)
    assert len(receiver.calls) == 3
    assert len({c.body for c in calls}) == 1
    assert len({c.headers["x-onething-event-id"] for c in calls}) == 1
    assert all(verify_signature(SECRET, c.body, c.headers["x-onething-signature"]) for c in calls)
    assert calls[1].at - calls[0].at >= 0.05
    assert calls[2].at - calls[1].at >= 0.1
    stats = simulator.stats()
    assert (stats["callbacks_failed"], stats["callbacks_sent"]) == (2, 1)
    callback = simulator.case("civil-affairs", "civil-affairs-1")["callback"]
    assert (callback["state"], callback["attempts"]) == ("delivered", 3)


def test_a_callback_is_retried_while_the_receiver_is_unreachable(start_simulator, payload):
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        closed_port = placeholder.getsockname()[1]
    simulator, client = start_simulator(callback_attempts=3, callback_backoff_seconds=0.01)

    client.submit(payload(callback_url=f"http://127.0.0.1:{closed_port}/cb"), key="key-1")

    assert simulator.wait_idle(timeout=5)
    stats = simulator.stats()
    assert (stats["callbacks_failed"], stats["callbacks_sent"], stats["callbacks_abandoned"]) == (
        3,
        0,
        1,
    )
    callback = simulator.case("civil-affairs", "civil-affairs-1")["callback"]
    assert (callback["state"], callback["attempts"]) == ("abandoned", 3)


def test_a_callback_stops_after_callback_attempts(start_simulator, receiver, payload):
    receiver.statuses = [503] * 10
    simulator, client = start_simulator(callback_attempts=4, callback_backoff_seconds=0.01)

    client.submit(payload(), key="key-1")

    assert simulator.wait_idle(timeout=5)
    assert len(receiver.calls) == 4
    assert simulator.stats()["callbacks_abandoned"] == 1


def test_malformed_json_is_refused_with_400(start_simulator, receiver):
    simulator, client = start_simulator()

    response = client.request(
        "POST", "/departments/health/cases", b'{"case": ', {"Idempotency-Key": "key-1"}
    )

    assert response.status == 400
    assert response.json() == {"error": "body is not valid JSON"}
    assert simulator.stats()["applied"] == 0


def test_a_missing_idempotency_key_is_refused_with_400(start_simulator, payload):
    simulator, client = start_simulator()

    response = client.submit(payload(), key=None)

    assert response.status == 400
    assert response.json() == {"error": "Idempotency-Key header is required"}
    assert simulator.stats()["applied"] == 0


def test_an_oversized_body_is_refused_with_413_and_the_server_keeps_serving(start_simulator):
    _, client = start_simulator(max_body_bytes=64 * 1024)
    body = json.dumps({"case": "x" * (100 * 1024)}).encode()

    response = client.request(
        "POST", "/departments/health/cases", body, {"Idempotency-Key": "key-1"}
    )

    assert response.status == 413
    assert "larger than" in response.json()["error"]
    assert client.get("/healthz").status == 200


def test_the_default_body_limit_is_one_mebibyte(start_simulator):
    _, client = start_simulator()

    response = client.request(
        "POST", "/departments/health/cases", b" " * (1024 * 1024 + 1), {"Idempotency-Key": "k"}
    )

    assert response.status == 413


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"case": ""}, "case: required, a non-empty string"),
        ({"service": 7}, "service: required, a non-empty string"),
        ({"data": ["not", "an", "object"]}, "data: must be a JSON object"),
        ({"outputs": "child.name"}, "outputs: must be a list of non-empty strings"),
        (
            {"callback_url": "file:///etc/passwd"},
            "callback_url: must be an absolute http or https URL",
        ),
        ({"callback_url": "/relative/path"}, "callback_url: must be an absolute http or https URL"),
    ],
)
def test_a_wrong_field_is_refused_with_400_naming_the_field(
    start_simulator, payload, changes, message
):
    simulator, client = start_simulator()

    response = client.submit(payload(**changes), key="key-1")

    assert response.status == 400
    assert response.json() == {"error": message}
    assert simulator.stats()["applied"] == 0


def test_a_json_array_body_is_refused_with_400(start_simulator):
    _, client = start_simulator()

    response = client.request("POST", "/departments/health/cases", b"[]", {"Idempotency-Key": "k"})

    assert response.status == 400
    assert response.json() == {"error": "body must be a JSON object"}


def test_the_case_status_is_readable_before_and_after_the_decision(
    start_simulator, receiver, payload
):
    simulator, client = start_simulator(delay_seconds=0.3)
    client.submit(payload(), key="key-1")

    before = client.get("/departments/civil-affairs/cases/civil-affairs-1")
    receiver.wait_for(1)
    assert simulator.wait_idle(timeout=5)
    after = client.get("/departments/civil-affairs/cases/civil-affairs-1").json()

    assert before.status == 200
    assert before.json()["status"] == "received"
    assert before.json()["callback"]["state"] == "waiting"
    assert after["status"] == "approved"
    assert after["outputs"] == receiver.calls[0].json()["outputs"]
    assert after["callback"]["state"] == "delivered"
    assert after["callback"]["event_id"] == receiver.calls[0].headers["x-onething-event-id"]
    assert "data" not in after


def test_a_case_is_not_found_under_another_department_or_an_unknown_id(
    start_simulator, receiver, payload
):
    _, client = start_simulator()
    client.submit(payload(), key="key-1", department="civil-affairs")

    assert client.get("/departments/health/cases/civil-affairs-1").status == 404
    assert client.get("/departments/civil-affairs/cases/civil-affairs-99").status == 404


def test_each_department_numbers_its_own_cases(start_simulator, receiver, payload):
    _, client = start_simulator()

    ids = [
        client.submit(payload(), key="a1", department="health").json()["external_id"],
        client.submit(payload(), key="b1", department="tax").json()["external_id"],
        client.submit(payload(case="other"), key="a2", department="health").json()["external_id"],
    ]

    assert ids == ["health-1", "tax-1", "health-2"]


def test_a_department_delay_overrides_the_default(start_simulator, receiver, payload):
    _, client = start_simulator(delay_seconds=30, department_delays={"health": 0.05})
    client.submit(payload(case="slow"), key="k-tax", department="tax")
    client.submit(payload(case="fast"), key="k-health", department="health")

    [callback] = receiver.wait_for(1)

    assert callback.json()["case"] == "fast"
    assert client.get("/departments/tax/cases/tax-1").json()["status"] == "received"


def test_configure_changes_the_decisions_of_later_cases(start_simulator, receiver, payload):
    simulator, client = start_simulator()
    client.submit(payload(case="first"), key="k1")
    receiver.wait_for(1)

    simulator.configure(reject_rate=1.0)
    client.submit(payload(case="second"), key="k2")

    calls = receiver.wait_for(2)
    assert [c.json()["status"] for c in calls] == ["approved", "rejected"]


def test_configure_refuses_unknown_and_invalid_settings(start_simulator):
    simulator, _ = start_simulator()

    with pytest.raises(TypeError):
        simulator.configure(no_such_setting=1)
    with pytest.raises(ValueError, match="failure_rate"):
        simulator.configure(failure_rate=1.5)
    assert simulator.config.failure_rate == 0.0


def test_seeded_simulators_generate_the_same_outputs(start_simulator, receiver, payload):
    for _ in range(2):
        simulator, client = start_simulator(seed=42)
        client.submit(payload(), key="key-1")
        assert simulator.wait_idle(timeout=5)
    outputs = [c.json()["outputs"] for c in receiver.calls]

    assert len(outputs) == 2
    assert outputs[0] == outputs[1]


def test_stats_and_health_are_served(start_simulator):
    _, client = start_simulator()

    health = client.get("/healthz")
    stats = client.get("/stats")

    assert (health.status, health.json()) == (200, {"status": "ok"})
    assert stats.status == 200
    assert {
        "received",
        "applied",
        "duplicates",
        "failures_injected",
        "callbacks_sent",
        "callbacks_failed",
    } <= set(stats.json())


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nowhere", 404),
        ("GET", "/departments/health/cases", 405),
        ("DELETE", "/departments/health/cases/health-1", 405),
        ("PUT", "/departments/health/cases", 405),
        ("POST", "/stats", 405),
        ("POST", "/departments/bad code/cases", 404),
    ],
)
def test_other_paths_and_methods_get_a_json_error(start_simulator, method, path, status):
    _, client = start_simulator()

    response = client.request(method, path.replace(" ", "%20"), b"{}", {"Idempotency-Key": "k"})

    assert response.status == status
    assert "error" in response.json()


def test_garbage_on_the_socket_does_not_stop_the_server(start_simulator):
    _, client = start_simulator()

    with socket.create_connection((client.host, client.port), timeout=5) as raw:
        raw.sendall(b"\x00\xffnot http at all\r\n\r\n")
        answer = b"".join(iter(lambda: raw.recv(1024), b""))
        # Not even a request line: http.server answers the HTTP/0.9 way, a bare body.
        assert answer.endswith(b'{"error": "Bad Request"}')
    with socket.create_connection((client.host, client.port), timeout=5) as raw:
        raw.sendall(
            b"POST /departments/health/cases HTTP/1.1\r\nHost: x\r\n"
            b"Idempotency-Key: k\r\nContent-Length: nope\r\n\r\n"
        )
        assert b" 400 " in raw.recv(1024)

    assert client.get("/healthz").status == 200


def test_a_body_shorter_than_its_content_length_is_refused(start_simulator):
    _, client = start_simulator()

    with socket.create_connection((client.host, client.port), timeout=5) as raw:
        raw.sendall(
            b"POST /departments/health/cases HTTP/1.1\r\nHost: x\r\n"
            b"Idempotency-Key: k\r\nContent-Length: 100\r\n\r\n{}"
        )
        raw.shutdown(socket.SHUT_WR)
        answer = raw.recv(1024)

    assert b" 400 " in answer
    assert client.get("/healthz").status == 200


def test_a_simulator_starts_only_once(start_simulator):
    simulator, _ = start_simulator()

    with pytest.raises(RuntimeError):
        simulator.start()


def test_stop_is_idempotent_and_releases_the_port():
    simulator = DepartmentSimulator(SimulatorConfig(secret=SECRET))
    base_url = simulator.start()
    port = int(base_url.rsplit(":", 1)[1])

    simulator.stop()
    simulator.stop()

    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
