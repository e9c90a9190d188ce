"""Department simulator: stands in for the departments' own systems over real HTTP.

The demo starts it on loopback so the platform's connector path (submit with an idempotency key,
retry with backoff, receive signed status callbacks) runs end to end, and answers registry reads
for the `http-json` data connector. Plain Python, standard library only (registers are read with
the platform's pure `onething.sharing.registers`); no Django import. This docstring is the
contract the connectors follow.

Submitting a case
-----------------

``POST /departments/{department_code}/cases``
(``department_code``: 1–64 of ``A-Z a-z 0-9 _ . -``, starting alphanumeric; any code is
accepted, the simulator plays every department)

Headers: ``Idempotency-Key: <key>`` (required; 1–200 visible ASCII characters),
``Content-Length`` (required; chunked bodies are refused with 411).

Body (JSON object, at most ``max_body_bytes``, default 1 MiB)::

    {"case": "<case reference>",            required, non-empty string
     "service": "<service code>",           required, non-empty string
     "data": {...form data...},             optional object (only hashed, never stored or logged)
     "outputs": ["<data element key>", ...],optional list of strings (at most 200)
     "callback_url": "http://127.0.0.1:PORT/..."}   required, absolute http/https URL

Answers, checked in this order:

- 413 ``{"error": "body larger than N bytes"}`` — the body exceeds the limit.
- 400 ``{"error": "Idempotency-Key header is required"}`` — missing or malformed key.
- 400 ``{"error": "body is not valid JSON"}`` / ``{"error": "<field>: <rule>"}`` — bad body.
- 503 ``{"error": "temporarily unavailable"}`` (header ``Retry-After: 1``) — an injected failure:
  the first ``fail_first_n`` requests of each key, then each request with probability
  ``failure_rate``. Nothing is stored; the connector retries with the same key and body.
- 422 ``{"error": "idempotency key reused with a different body"}`` — the key was accepted before
  with another body. Keys are global: the fingerprint covers the department code and the whole
  parsed body (JSON key order ignored).
- 202 ``{"accepted": true, "duplicate": false, "external_id": "<dept>-<n>"}`` — first acceptance;
  ``n`` counts from 1 per department. Exactly one decision is scheduled.
- 202 ``{"accepted": true, "duplicate": true, "external_id": "<same>"}`` — the same key and body
  again; nothing new is scheduled (the department never applies a case twice).

Decision callback
-----------------

``delay_seconds`` after acceptance (``department_delays[code]`` overrides it per department) the
case is decided: rejected with probability ``reject_rate`` (with a reason), else approved with a
generated value per requested output key (the key upper-cased, non-alphanumerics as ``-``, then
``-`` and six digits: ``child.birth_cert`` → ``CHILD-BIRTH-CERT-042137``). Then::

    POST <callback_url>
    Content-Type: application/json
    X-OneThing-Signature: sha256=<hex HMAC-SHA256 of the raw body with the shared secret>
    X-OneThing-Event-Id: <uuid4>

    {"event_id": "<the same uuid4>", "case": "...", "external_id": "...", "department": "...",
     "service": "...", "status": "approved" | "rejected",
     "outputs": {"<key>": "<value>", ...},  (empty when rejected)
     "reason": "...",                       (only when rejected)
     "decided_at": "<ISO 8601, UTC>"}

Any 2xx answer delivers it. A connection error, timeout, redirect or other status is a failed
attempt, retried after ``callback_backoff_seconds`` (0.2 s) doubled each time (0.2, 0.4, 0.8 …,
capped at 30 s) up to ``callback_attempts`` (8) attempts in all, then abandoned. Every attempt sends
the same bytes and the same event id, and the event id is inside the signed body too, so the
platform must verify the signature (`verify_signature`), check the header matches the body's
``event_id``, and apply each event id once. Callbacks never go through an HTTP proxy.

Registry reads
--------------

``GET /registry/{register}/{subject}`` (``register``: a register code; ``subject``: the value of
the register's key field, percent-encoded) answers from the register files given as
``registers`` (``--registers DIR``, the format of ``onething.sharing.registers``; read at start,
a mistake stops the simulator). Optional headers: ``X-OneThing-Purpose`` (why the platform asks)
and ``X-OneThing-Signature: sha256=<hex HMAC-SHA256 of "GET\\n<request target>\\n<purpose>">``
(`signing.read_message`); a signature that does not match is answered 401
``{"error": "signature does not match"}``, an unsigned read is answered.

Each read waits ``registry_delay_seconds`` (0), then is answered 503
``{"error": "temporarily unavailable"}`` with probability ``registry_failure_rate`` (0); else
200 ``{"record": {...field: value...}}``, 404 ``{"error": "not found"}`` for an unknown subject or
404 ``{"error": "no such register"}``.

Reading
-------

- ``GET /departments/{department_code}/cases/{external_id}`` → 200 ``{"external_id",
  "department", "case", "service", "status": "received"|"approved"|"rejected", "outputs",
  "reason", "received_at", "decided_at", "callback": {"state":
  "waiting"|"pending"|"delivered"|"abandoned", "event_id", "attempts"}}``; 404 if unknown.
- ``GET /stats`` → 200 ``{"received": POST requests to a cases URL, "applied": distinct keys
  accepted, "duplicates", "conflicts": 422 answers, "failures_injected": 503 answers, "decided",
  "approved", "rejected", "callbacks_sent": attempts answered 2xx, "callbacks_failed": failed
  attempts, "callbacks_abandoned": callbacks given up, "registry_reads": registry GETs with a
  valid or no signature, "registry_failures_injected": their 503 answers}``.
- ``GET /healthz`` → 200 ``{"status": "ok"}``.

Other paths answer 404, other methods 405, always with ``{"error": ...}``; an unexpected error is
a 500 and never stops the server. Request bodies are never logged and the access log is off.

Python API
----------

::

    from onething.simulator import DepartmentSimulator, SimulatorConfig

    sim = DepartmentSimulator(SimulatorConfig(secret="s", delay_seconds=0.5, failure_rate=0.1))
    base_url = sim.start(host="127.0.0.1", port=0)   # port 0 picks a free port
    sim.configure(failure_rate=0.0)                  # at run time
    sim.stats(); sim.case("gongan", "gongan-1"); sim.wait_idle(timeout=5)
    sim.stop()

Standalone: ``python -m onething.simulator --port 8100 --secret S --delay 2 --failure-rate 0.1
--registers DIR --registry-delay 0.2 --registry-failure-rate 0.1`` (the secret may come from
``ONETHING_SIMULATOR_SECRET`` instead).
"""

from onething.simulator.config import SimulatorConfig
from onething.simulator.server import DepartmentSimulator
from onething.simulator.signing import sign, verify_signature

__all__ = ["DepartmentSimulator", "SimulatorConfig", "sign", "verify_signature"]
