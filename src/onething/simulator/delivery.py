"""Sends one signed callback over HTTP with the standard library (no proxies, no redirects)."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass

from onething.simulator.protocol import is_http_url
from onething.simulator.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, sign

USER_AGENT = "OneThing-DepartmentSimulator/1"


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET without the body; count it as a failed attempt.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        return None


# The platform is on loopback: an HTTP(S)_PROXY in the environment must not capture callbacks.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _RefuseRedirects())


@dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    status: int | None = None
    error: str | None = None


def post_callback(
    url: str, body: bytes, *, secret: str, event_id: str, timeout: float
) -> DeliveryResult:
    """POST `body` to `url`, signed; delivered only on a 2xx answer."""
    if not is_http_url(url):
        return DeliveryResult(False, error="callback_url is not an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 - scheme checked to be http/https above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(secret, body),
            EVENT_ID_HEADER: event_id,
        },
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(64 * 1024)
            return DeliveryResult(200 <= response.status < 300, status=response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return DeliveryResult(False, status=error.code)
    except (OSError, http.client.HTTPException, ValueError) as error:
        # URLError is an OSError; only the type is kept, the message may echo the URL.
        return DeliveryResult(False, error=type(error).__name__)
