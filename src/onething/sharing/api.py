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
    source: str
    department: str
    elements: list[str]
    purpose: str
    use: str
    service: str
    application_reference: str
    outcome: str


class DataUseList(Schema):
    items: list[DataUseOut]


@router.get("/data-uses", response=DataUseList, summary="Who used my data (newest first)")
def my_data_uses(request: HttpRequest):
    return {
        "items": [
            {
                "at": use.at.isoformat(),
                "actor": use.actor,
                "source": use.source,
                "department": use.department,
                "elements": list(use.elements),
                "purpose": use.purpose,
                "use": use.use,
                "service": use.service,
                "application_reference": use.application_reference,
                "outcome": use.outcome,
            }
            for use in selectors.data_uses_about(request.auth)
        ]
    }
