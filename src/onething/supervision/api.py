"""Staff exports through the API: the same CSV files as the exports page, for the same people.

Signed-in staff only (token or session); who may export what is up to the selectors: an
applicant or a window clerk gets 403, a reviewer only their department's queue.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from onething.accounts.auth import API_AUTH
from onething.core.schemas import ErrorOut
from onething.supervision import dashboard, reports, selectors, services
from onething.supervision.downloads import download

router = Router(tags=["exports"], auth=API_AUTH)

CaseStatusFilter = Literal[selectors.CASE_STATUS_FILTERS]  # type: ignore[valid-type]

CSV_RESPONSE = {
    "responses": {
        200: {
            "description": "CSV, UTF-8 with a byte order mark; personal numbers masked",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
}


class DataUseFilters(Schema):
    since: date | None = Field(None, description="first day (Beijing time), YYYY-MM-DD")
    until: date | None = Field(None, description="last day (Beijing time), YYYY-MM-DD")


class CaseFilters(DataUseFilters):
    status: CaseStatusFilter = Field("all", description="open, all, or one case status")


@router.get(
    "/data-uses",
    response={403: ErrorOut, 422: ErrorOut},
    openapi_extra=CSV_RESPONSE,
    summary="The record of data uses as CSV (supervisors and administrators; recorded)",
)
def export_data_uses(request: HttpRequest, filters: Query[DataUseFilters]):
    chosen = services.ExportFilters(since=filters.since, until=filters.until)
    return download(services.export_data_uses(actor=request.auth, filters=chosen))


@router.get(
    "/cases",
    response={403: ErrorOut, 422: ErrorOut},
    openapi_extra=CSV_RESPONSE,
    summary="The case list as CSV (a reviewer's queue, a supervisor's departments; recorded)",
)
def export_cases(request: HttpRequest, filters: Query[CaseFilters]):
    chosen = services.ExportFilters(since=filters.since, until=filters.until, status=filters.status)
    return download(services.export_cases(actor=request.auth, filters=chosen))


dashboard_router = Router(tags=["supervision"], auth=API_AUTH)


class DashboardFilters(Schema):
    from_: str = Field("", alias="from", description="first month, YYYY-MM (default: a year ago)")
    to: str = Field("", description="last month, YYYY-MM (default: this month)")
    region: str = Field("", description="region code: it and the regions inside it")
    thing: str = Field("", description="one thing's code")
    department: str = Field("", description="department code (figures become case figures)")
    service: str = Field("", description="service code (figures become case figures)")
    channel: str = Field("", description="web, window, api or federated")
    page: str = Field("1", description="page of the overdue and due-soon lists")


@dashboard_router.get(
    "/dashboard",
    response={200: dict, 403: ErrorOut, 422: ErrorOut},
    summary="The supervision dashboard's figures, charts and red/yellow lists (supervisors)",
)
def supervision_dashboard(request: HttpRequest, filters: Query[DashboardFilters]):
    dashboard.dashboard_scope(request.auth)
    chosen = dashboard.filters_parse(filters.model_dump(by_alias=True))
    return dashboard.dashboard_for(request.auth, chosen).as_dict()


public_router = Router(tags=["public"], auth=None)


@public_router.get(
    "/service-quality",
    response={200: dict},
    url_name="public_service_quality",
    summary="Per one thing: promised and actual median time, satisfaction, reductions (public)",
)
def public_service_quality(request: HttpRequest, response: HttpResponse):
    """Aggregates only; a thing with fewer than five applications in the period shows none."""
    response["Cache-Control"] = f"public, max-age={reports.CACHE_SECONDS}"
    return reports.service_quality_cached().as_dict()
