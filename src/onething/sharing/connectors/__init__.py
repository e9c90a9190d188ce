"""Connectors: how the platform reads a data source, behind one registry.

Each connector answers one question — "the record of this subject in this source: these fields"
— and knows nothing of grants, consent or forms (the prefill service decides what may be asked
and records every use). Implementations register themselves:

    connectors.register("table")(TableConnector())

`table` reads the platform's own registers, `http-json` a department's REST service (with a
timeout, retries with backoff and a circuit breaker), `certificates` the platform's e-certificate
library. `fetch` runs on worker threads (the prefill asks every source at once), so whatever a
connector needs from the database or settings is resolved by the caller and passed in the
lookup. A test builds its own `Registry` instead of patching this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from onething.core.registry import Registry


class SourceUnavailable(Exception):
    """The source could not answer (timeout, error, circuit open): the field stays to fill in."""


@dataclass(frozen=True)
class Lookup:
    """One question to one source about one subject."""

    source: str  # the data source's code
    connector: str
    options: Mapping[str, Any]  # connector settings from the catalog (table, path, type …)
    subject: str  # a resident ID number or a unified social credit code
    fields: tuple[str, ...]  # the source's field names wanted
    department: str = ""  # the source's department (for `http-json`: its endpoint)
    extra: Mapping[str, Any] = field(default_factory=dict)


class Connector(Protocol):
    def fetch(self, lookup: Lookup, *, timeout: float) -> dict[str, Any] | None:
        """The wanted fields of the subject's record (absent fields omitted), None when the
        source holds no record of the subject; SourceUnavailable when it cannot answer within
        `timeout` seconds."""


connectors: Registry[Connector] = Registry("data source connector")
