"""The topic the subprocess workers of the crash tests run (imported through
ONETHING_EXTRA_TASK_MODULES, so only those worker processes register it)."""

from __future__ import annotations

import json
import time
from http.client import HTTPConnection

from onething.outbox.models import OutboxMessage
from onething.outbox.registry import topic


@topic("test.apply", lease_seconds=2, base_delay_seconds=0.2, max_attempts=5)
def apply(message: OutboxMessage) -> None:
    """Deliver to the test's receiver under the message key, then take a while to finish."""
    body = json.dumps(message.payload)
    connection = HTTPConnection("127.0.0.1", int(message.payload["port"]), timeout=5)
    try:
        connection.request(
            "POST",
            "/apply",
            body=body,
            headers={"Content-Type": "application/json", "Idempotency-Key": message.key},
        )
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"receiver answered {response.status}")
    finally:
        connection.close()
    # The window in which the test kills the worker: applied, but not yet marked done.
    time.sleep(float(message.payload["sleep"]))
