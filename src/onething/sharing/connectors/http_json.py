"""`http-json`: a department's registry read over HTTP, within a time budget.

    GET {base_url}{path}            path from the catalog, e.g. /registry/social_insurance/{subject}
    Accept: application/json
    X-OneThing-Purpose: <why the platform asks; percent-encoded UTF-8>
    X-OneThing-Signature: sha256=<HMAC-SHA256 of "GET\\n{path}\\n{purpose}"> (given a secret;
                          `onething.simulator.signing.read_message`)

    200 {"record": {...}}  → the wanted fields present in the record
    404                    → None: the department holds no record of the subject
    anything else          → retried, then SourceUnavailable

The lookup carries everything (no Django import: this runs on the prefill's worker threads):
`options["path"]` with a `{subject}` placeholder, `extra["base_url"]` (the department's
endpoint), `extra["purpose"]` and `extra["secret"]` (the secret shared with the department).

Timeouts, 5xx, 408, 429, connection errors and bodies that are not a JSON record are retried with
exponential backoff and jitter while the caller's `timeout` lasts: each attempt may use only the
time left, and no pause is taken that would leave no time for another attempt. Another 4xx would
only come back the same, so it fails at once. Each source has a circuit breaker
(`sharing.circuit`): a fetch that ends unavailable is one failure, an answer (record or 404) one
success; while the breaker is open the fetch fails at once without any request, and the half-open
trial makes a single attempt.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from onething.sharing.circuit import (
    DEFAULT_COOLDOWN_SECONDS,
    DEFAULT_FAILURE_THRESHOLD,
    CircuitBreaker,
    CircuitOpen,
    breaker_for,
)
from onething.sharing.connectors import Lookup, SourceUnavailable, connectors
from onething.simulator.signing import PURPOSE_HEADER, SIGNATURE_HEADER, read_message, sign

USER_AGENT = "OneThing-Platform/1"
MAX_RESPONSE_BYTES = 1024 * 1024
# An attempt with less time than this left would only time out; stop instead.
MIN_ATTEMPT_SECONDS = 0.02
_RETRYABLE_STATUSES = frozenset({408, 429})
# Header values are latin-1 on the wire; a purpose in Chinese travels percent-encoded.
_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%") + " "


class _Failed(Exception):
    """One attempt failed; `retryable` when another attempt might succeed."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class HttpJsonConnector:
    """Reads one record from a department's REST registry (see the module docstring).

    `attempts` is the most requests one fetch makes. The pause after failed attempt n is drawn
    uniformly from [d/2, d] with d = `backoff_seconds` · 2^(n-1), capped at
    `backoff_max_seconds`. `breakers` maps a source code to its circuit breaker (by default
    the process-wide ones, made with `failure_threshold` and `cooldown_seconds`). `clock`,
    `sleep` and `rng` are injectable for tests.
    """

    def __init__(
        self,
        *,
        attempts: int = 4,
        backoff_seconds: float = 0.1,
        backoff_max_seconds: float = 2.0,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
        breakers: Callable[[str], CircuitBreaker] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        trust_env: bool = True,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts: must be at least 1")
        if backoff_seconds < 0 or backoff_max_seconds < 0:
            raise ValueError("backoff: must be non-negative")
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self._breakers = breakers or (
            lambda code: breaker_for(
                code, failure_threshold=failure_threshold, cooldown_seconds=cooldown_seconds
            )
        )
        self._clock = clock
        self._sleep = sleep
        # Jitter spreads retries of many threads apart; it is not a secret.
        self._rng = rng or random.Random()  # noqa: S311
        self._rng_lock = threading.Lock()
        self._trust_env = trust_env
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()

    def fetch(self, lookup: Lookup, *, timeout: float) -> dict[str, Any] | None:
        """The wanted fields of the subject's record, None when the department has none;
        SourceUnavailable when no answer came within `timeout` seconds."""
        deadline = self._clock() + timeout
        url, headers = self._request(lookup)
        if timeout < MIN_ATTEMPT_SECONDS:
            # Not the source's fault: it must not count against its breaker.
            raise SourceUnavailable(f"{lookup.source}: no time to ask ({timeout}s)")
        breaker = self._breakers(lookup.source)
        try:
            permit = breaker.admit()
        except CircuitOpen as refused:
            raise SourceUnavailable(
                f"{lookup.source}: not asked, it failed repeatedly ({refused})"
            ) from None
        try:
            found = self._fetch_with_retries(lookup, url, headers, deadline, single=permit.trial)
        except BaseException:
            # Whatever ended the call, the permit is reported: a half-open breaker whose trial
            # never reports would refuse the source for ever.
            breaker.record_failure(permit)
            raise
        breaker.record_success(permit)
        return found

    def backoff(self, failed_attempt: int) -> float:
        """Seconds to pause after attempt number `failed_attempt` (1-based) failed."""
        ceiling = min(self.backoff_seconds * 2 ** (failed_attempt - 1), self.backoff_max_seconds)
        with self._rng_lock:
            return self._rng.uniform(ceiling / 2, ceiling)

    def _fetch_with_retries(
        self,
        lookup: Lookup,
        url: str,
        headers: Mapping[str, str],
        deadline: float,
        *,
        single: bool,
    ) -> dict[str, Any] | None:
        attempts = 1 if single else self.attempts
        made = 0
        reason = "no time left to ask"
        while made < attempts:
            remaining = deadline - self._clock()
            if remaining < MIN_ATTEMPT_SECONDS:
                break
            made += 1
            try:
                record = self._attempt(url, headers, remaining)
            except _Failed as failure:
                reason = failure.reason
                if not failure.retryable:
                    break
            else:
                if record is None:
                    return None
                return {name: record[name] for name in lookup.fields if name in record}
            if made >= attempts:
                break
            pause = self.backoff(made)
            if self._clock() + pause + MIN_ATTEMPT_SECONDS > deadline:
                break
            self._sleep(pause)
        tries = f"{made} attempt{'s' if made != 1 else ''}"
        # The URL names the subject: it stays out of a message that may reach a caller.
        raise SourceUnavailable(f"{lookup.source}: no answer ({tries}; last: {reason})")

    def _attempt(
        self, url: str, headers: Mapping[str, str], remaining: float
    ) -> dict[str, Any] | None:
        # httpx timeouts hold per phase (connect, each read); the body is read in chunks and
        # abandoned at the deadline, so a trickling answer cannot outlast the budget either.
        deadline = self._clock() + remaining
        try:
            with self._http().stream(
                "GET", url, headers=dict(headers), timeout=httpx.Timeout(remaining)
            ) as response:
                status = response.status_code
                if status == 404:
                    return None
                if status != 200:
                    retryable = status >= 500 or status in _RETRYABLE_STATUSES
                    raise _Failed(f"HTTP {status}", retryable=retryable)
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise _Failed(f"answer larger than {MAX_RESPONSE_BYTES} bytes")
                    if self._clock() > deadline:
                        raise _Failed("timed out reading the answer")
        except httpx.TimeoutException:
            raise _Failed("timed out") from None
        except httpx.HTTPError as error:
            raise _Failed(f"{type(error).__name__}: {error}") from None
        return _record(bytes(body))

    def _request(self, lookup: Lookup) -> tuple[str, dict[str, str]]:
        """The URL and headers; a catalog or endpoint mistake is unavailable at once."""
        base_url = str(lookup.extra.get("base_url") or "").rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise SourceUnavailable(f"{lookup.source}: no http(s) base_url for {lookup.department}")
        template = lookup.options.get("path")
        if not isinstance(template, str) or not template.startswith("/"):
            raise SourceUnavailable(f"{lookup.source}: options.path must be a path starting '/'")
        try:
            path = template.format(subject=quote(lookup.subject, safe=""))
        except (KeyError, IndexError, ValueError) as error:
            raise SourceUnavailable(
                f"{lookup.source}: options.path {template!r} is not a template of {{subject}}"
                f" ({error!r})"
            ) from None
        purpose = quote(str(lookup.extra.get("purpose", "")), safe=_HEADER_SAFE)
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            PURPOSE_HEADER: purpose,
        }
        secret = lookup.extra.get("secret")
        if secret:
            headers[SIGNATURE_HEADER] = sign(str(secret), read_message(path, purpose))
        return base_url + path, headers

    def _http(self) -> httpx.Client:
        # One pooled client for every thread (httpx.Client is thread-safe), made on first use.
        with self._client_lock:
            if self._client is None:
                self._client = httpx.Client(follow_redirects=False, trust_env=self._trust_env)
            return self._client

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def _record(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise _Failed("the answer is not valid JSON") from None
    record = document.get("record") if isinstance(document, dict) else None
    if not isinstance(record, dict):
        raise _Failed('the answer is not {"record": {...}}')
    return record


connectors.register("http-json")(HttpJsonConnector())
