"""The exchange through the API: departments' systems query data sources (see `exchange`).

Department systems authenticate with their own tokens (`Authorization: Bearer ox_<prefix>.<secret>`,
issued by `onething exchange token DEPARTMENT`); personal tokens and sessions are not accepted.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.security import HttpBearer

from onething.core.schemas import ErrorOut
from onething.sharing import exchange


class ExchangeTokenAuth(HttpBearer):
    """`Authorization: Bearer ox_<prefix>.<secret>` of an active department system."""

    def authenticate(self, request, token):
        return exchange.client_for_token(token)


router = Router(tags=["exchange"], auth=ExchangeTokenAuth())


class QueryIn(Schema):
    service: str = Field(max_length=64, description="code of the service the query is for")
    subject: str = Field(
        max_length=40, description="resident ID number or unified social credit code"
    )
    elements: list[Annotated[str, Field(max_length=100)]] = Field(
        min_length=1, max_length=100, description="data element keys"
    )
    purpose: str = Field(max_length=300, description="why the data is needed (recorded)")


class ValueOut(Schema):
    value: Any
    source: str
    authoritative: bool


class DeniedOut(Schema):
    element: str
    reason: str


class QueryOut(Schema):
    values: dict[str, ValueOut]
    denied: list[DeniedOut]
    unavailable: dict[str, str] = Field(description="source -> why it did not answer")


@router.post(
    "/query",
    response={200: QueryOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Query data about one subject for a service of your department (every query logged)",
)
def query(request: HttpRequest, payload: QueryIn):
    result = exchange.exchange_query(
        client=request.auth,
        service=payload.service,
        subject=payload.subject,
        elements=payload.elements,
        purpose=payload.purpose,
    )
    return {
        "values": {
            key: {"value": v.value, "source": v.source, "authoritative": v.authoritative}
            for key, v in result.values.items()
        },
        "denied": [{"element": k, "reason": r} for k, r in result.denied.items()],
        "unavailable": result.unavailable,
    }
