"""The person's record of uses of their data, through the API."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from onething.accounts.auth import API_AUTH
from onething.sharing import selectors

router = Router(tags=["data use"], auth=API_AUTH)


class DataUseOut(Schema):
    at: str
    actor: str
    actor_name: str
    source: str
    source_name: str
    department: str
    department_name: str
    elements: list[str]
    element_labels: list[str]
    purpose: str
    use: str
    service: str
    application_reference: str
    outcome: str


class DataUseList(Schema):
    items: list[DataUseOut]
    page: int
    pages: int
    per_page: int
    total: int


@router.get("/data-uses", response=DataUseList, summary="Who used my data (newest first)")
def my_data_uses(request: HttpRequest, page: int = 1):
    """One page of the uses of the caller's data; `elements` are the data element keys,
    `element_labels` their names in the request's language, in the same order."""
    uses = selectors.data_uses_page(request.auth, page=min(max(page, 1), 10**6))
    return {
        "items": [
            {
                "at": row.use.at.isoformat(),
                "actor": row.use.actor,
                "actor_name": row.who,
                "source": row.use.source,
                "source_name": row.source_name,
                "department": row.use.department,
                "department_name": row.department_name,
                "elements": list(row.use.elements),
                "element_labels": list(row.element_labels),
                "purpose": row.use.purpose,
                "use": row.use.use,
                "service": row.use.service,
                "application_reference": row.use.application_reference,
                "outcome": row.use.outcome,
            }
            for row in uses.rows
        ],
        "page": uses.page,
        "pages": uses.pages,
        "per_page": uses.per_page,
        "total": uses.total,
    }
