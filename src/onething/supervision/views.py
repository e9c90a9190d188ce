"""The supervision dashboard, the staff exports page, its CSV downloads and the dashboard charts'
CSV and xlsx downloads. Thin: parse the filters, call one selector or service.

Who may export what is decided by the selectors, or for a chart by its builder (NotAllowed
becomes the 403 page); the link on the page is only an offer.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from onething.applications.presentation import REVIEWER_CASE_LABELS
from onething.applications.workbench_views import staff_required
from onething.core.errors import InvalidInput, NotAllowed
from onething.core.masking import mask_personal_numbers
from onething.supervision import dashboard, reports, selectors, services
from onething.supervision.downloads import download


def _status_choices() -> list[tuple[str, str]]:
    return [
        ("open", _("Open")),
        ("all", _("All")),
        *[(status.value, str(label)) for status, label in REVIEWER_CASE_LABELS.items()],
    ]


def _echoed(params) -> dict[str, str]:
    """The filters as typed, to show again: only well-formed ones (anything else could carry a
    personal number onto the page)."""
    echoed = {}
    for name in ("since", "until"):
        try:
            echoed[name] = date.fromisoformat(params.get(name, "")).isoformat()
        except ValueError:
            echoed[name] = ""
    status = params.get("status", "")
    echoed["status"] = status if status in selectors.CASE_STATUS_FILTERS else "open"
    return echoed


def _page(request: HttpRequest, *, errors: dict[str, str] | None = None, status: int = 200):
    may_cases = selectors.may_export_cases(request.user)
    may_data_uses = selectors.may_export_data_uses(request.user)
    if not (may_cases or may_data_uses):
        raise NotAllowed(_("Only reviewers, supervisors and administrators may export."))
    context = {
        "may_cases": may_cases,
        "may_data_uses": may_data_uses,
        "statuses": _status_choices(),
        "typed": _echoed(request.GET),
        "errors": errors or {},
    }
    response = render(request, "supervision/exports.html", context, status=status)
    # Nothing here needs a whole personal number, but the layout echoes the address (the
    # language switch's "next"): a number typed into the query string is shown masked.
    response.content = mask_personal_numbers(response.content.decode()).encode()
    return response


@staff_required
@require_GET
def exports_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@staff_required
@require_GET
def export_cases(request: HttpRequest) -> HttpResponse:
    try:
        filters = services.export_filters_parse(request.GET)
        export = services.export_cases(actor=request.user, filters=filters)
    except InvalidInput as exc:
        return _page(request, errors=exc.fields or {"since": exc.message}, status=422)
    return download(export)


@staff_required
@require_GET
def export_data_uses(request: HttpRequest) -> HttpResponse:
    try:
        filters = services.export_filters_parse(request.GET)
        export = services.export_data_uses(actor=request.user, filters=filters)
    except InvalidInput as exc:
        return _page(request, errors=exc.fields or {"since": exc.message}, status=422)
    return download(export)


@staff_required
@require_GET
def export_chart(request: HttpRequest, key: str, fmt: str) -> HttpResponse:
    """A chart's table view as CSV or xlsx, rebuilt from the page's query string."""
    try:
        export = services.export_chart(actor=request.user, key=key, params=request.GET, fmt=fmt)
    except InvalidInput as exc:
        response = render(
            request,
            "supervision/chart_export_invalid.html",
            {"message": exc.message, "errors": exc.fields},
            status=422,
        )
        # The layout echoes the address, filters and all.
        response.content = mask_personal_numbers(response.content.decode()).encode()
        return response
    return download(export)


@staff_required
@require_GET
def dashboard_page(request: HttpRequest) -> HttpResponse:
    """统一监管: the supervisor's dashboard; a wrong filter is named next to it (422)."""
    dashboard.dashboard_scope(request.user)  # NotAllowed (403) before anything is read
    errors: dict[str, str] = {}
    try:
        filters = dashboard.filters_parse(request.GET)
    except InvalidInput as exc:
        errors = exc.fields or {"from": exc.message}
        filters = dashboard.filters_parse({})
    board = dashboard.dashboard_for(request.user, filters)
    typed = {k: request.GET.get(k, "")[:64] for k in ("from", "to")} if errors else {}

    def link(**changes) -> str:
        return "?" + urlencode(filters.as_query(**changes))

    context = {
        "board": board,
        "drill_links": [(name, link(region=code, page="")) for code, name in board.drill],
        "breadcrumb_links": [
            (_("All regions"), link(region="", page="")),
            *[(name, link(region=code, page="")) for code, name in board.breadcrumbs],
        ],
        "report_links": [
            (name, reverse("supervision:monthly-report", args=[code, month]))
            for name, code, month in reports.report_links(request.user, filters, board.drill)
        ],
        "next_page": link(page=filters.page + 1),
        "previous_page": link(page=filters.page - 1) if filters.page > 1 else "",
        "filters": filters,
        "query": filters.as_query(),
        "typed": typed,
        "errors": errors,
        "red_marks": dashboard.RED,
        **dashboard.filter_choices(),
    }
    response = render(request, "supervision/dashboard.html", context, status=422 if errors else 200)
    response.content = mask_personal_numbers(response.content.decode()).encode()
    return response


def _reduction_rows(found) -> list[dict]:
    return [
        {
            "name": r.name,
            "label": dashboard.REDUCTION_LABELS[r.name](),
            "applications": r.applications,
            "separately": r.separately,
            "together": r.together,
            "saved": r.saved,
            "percent": r.percent,
        }
        for r in found
    ]


@staff_required
@require_GET
def monthly_report_page(request: HttpRequest, region: str, month: str) -> HttpResponse:
    """A region's monthly report on A4 (403 outside the reader's regions, 404 for an unknown
    region, 422 naming a month that is not YYYY-MM)."""
    report = reports.monthly_report(request.user, region, month)
    back = {"from": f"{report.month:%Y-%m}", "to": f"{report.month:%Y-%m}", "region": region}
    context = {
        "report": report,
        "reductions_basis": dashboard.reductions_basis(),
        "charts": [report.by_region, report.by_thing],
        "reductions": _reduction_rows(report.reductions),
        "dashboard_url": reverse("supervision:dashboard") + "?" + urlencode(back),
    }
    response = render(request, "supervision/monthly_report.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def service_quality_page(request: HttpRequest) -> HttpResponse:
    """服务质量: per one thing, promised and actual time, satisfaction and reductions; public."""
    quality = reports.service_quality_cached()
    rows = [(thing, _reduction_rows(thing.reductions)) for thing in quality.things]
    return render(
        request,
        "supervision/service_quality.html",
        {
            "quality": quality,
            "rows": rows,
            "small_count": reports.SMALL_COUNT,
            "reductions_basis": dashboard.reductions_basis(),
        },
    )
