from __future__ import annotations

import pytest

from onething.audit.models import AuditRecord
from onething.audit.services import audit_record


def write(stream: str, n: int, **fields) -> list[AuditRecord]:
    """`n` records appended to `stream`, as a service would write them."""
    return [
        audit_record(
            actor=fields.get("actor", "user:42"),
            action=fields.get("action", "case.accept"),
            stream=stream,
            subject=fields.get("subject", f"{stream}/case:{i}"),
            purpose=fields.get("purpose", "review"),
            data=fields.get("data", {"step": i}),
        )
        for i in range(n)
    ]


@pytest.fixture
def trail(db) -> dict[str, list[AuditRecord]]:
    """Two application streams of 3 and 2 records and a catalog stream of 1."""
    return {
        "application:a": write("application:a", 3),
        "application:b": write("application:b", 2),
        "catalog": write("catalog", 1, actor="cli", action="catalog.load"),
    }
