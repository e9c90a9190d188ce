"""`table`: the registers the platform holds (population, births, marriages, enterprises …).

A local read: called on the request's own thread (it needs the database connection and the
request's transaction), while remote sources are asked on worker threads at the same time.
The subject's record is the one whose key is the subject; otherwise the newest record that names
the subject in any role (`options.order` names the field that orders them, e.g. `born_at`).
"""

from __future__ import annotations

from typing import Any

from onething.sharing.connectors import Lookup, SourceUnavailable, connectors
from onething.sharing.models import RegisterRecord
from onething.sharing.selectors import register_records_about


class TableConnector:
    local = True

    def fetch(self, lookup: Lookup, *, timeout: float) -> dict[str, Any] | None:
        register = lookup.options.get("register")
        if not register:
            raise SourceUnavailable(f"source {lookup.source}: no register configured")
        record = RegisterRecord.objects.filter(register__code=register, key=lookup.subject).first()
        if record is None:
            candidates = register_records_about(lookup.subject, register=register)
            if not candidates:
                return None
            order = lookup.options.get("order")
            record = max(
                candidates,
                key=lambda r: (str(r.data.get(order, "")) if order else "", r.pk),
            )
        return {name: record.data[name] for name in lookup.fields if name in record.data}


connectors.register("table")(TableConnector())
