"""The hotline's report pages: the rates of units and districts over a period, and hot spots.

Thin: parse the request, call a selector or a service, render. Who may read what is decided by
the selectors (`hotline_rates_for`, `hot_spots_for`); the API's rates come from the same one.
"""

from __future__ import annotations

import datetime as dt
import functools

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from onething.accounts.models import User
from onething.catalog.models import in_language
from onething.complaints import selectors, services
from onething.complaints.rates import Rates
from onething.complaints.runtime import categories
from onething.core.errors import InvalidInput, NotAllowed

DEFAULT_PERIOD_DAYS = 30
NOTHING_TO_COUNT = "—"


def staff_required(view):
    """Signed in, and a member of staff; what each may see is still up to the selectors."""

    @functools.wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs):
        if request.user.kind != User.Kind.STAFF:
            raise NotAllowed(_("Only staff may read the hotline's reports."))
        return view(request, *args, **kwargs)

    return wrapped


class RatesPeriodForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), input_formats=["%Y-%m-%d"])
    end = forms.DateField(label=gettext_lazy("To (included)"), input_formats=["%Y-%m-%d"])
    by = forms.ChoiceField(
        label=gettext_lazy("Per"),
        choices=[("unit", gettext_lazy("unit")), ("region", gettext_lazy("district"))],
    )


def _percent(part: int, whole: int, rate: float | None) -> dict:
    return {
        "text": NOTHING_TO_COUNT if rate is None else f"{rate * 100:.1f}%",
        "part": part,
        "whole": whole,
    }


def _rate_row(rates: Rates, names: dict[str, str]) -> dict:
    return {
        "key": rates.key,
        "name": names.get(rates.key, rates.key),
        "tickets": rates.tickets,
        "cells": {
            "on_time_sign": _percent(
                rates.signed_on_time, rates.sign_counted, rates.on_time_sign_rate
            ),
            "on_time_close": _percent(
                rates.closed_on_time, rates.close_counted, rates.on_time_close_rate
            ),
            "resolution": _percent(rates.resolved, rates.callbacks, rates.resolution_rate),
            "satisfaction": _percent(rates.satisfied, rates.callbacks, rates.satisfaction_rate),
            "return": _percent(rates.returned, rates.reached_unit, rates.return_rate),
        },
    }


@login_required
@require_GET
def rates(request: HttpRequest) -> HttpResponse:
    """The five rates per unit or district over the chosen period (the last 30 days at first)."""
    oversight = selectors.rates_oversight_for(request.user)
    today = timezone.localdate()
    defaults = {
        "start": (today - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)).isoformat(),
        "end": today.isoformat(),
        "by": "unit",
    }
    form = RatesPeriodForm({**defaults, **request.GET.dict()})
    rows: list[dict] = []
    if form.is_valid():
        period = form.cleaned_data
        try:
            computed = selectors.hotline_rates_for(
                request.user, start=period["start"], end=period["end"], by=period["by"]
            )
        except InvalidInput as exc:
            for field, message in exc.fields.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            names = selectors.unit_names() if period["by"] == "unit" else selectors.region_names()
            rows = [_rate_row(r, names) for r in computed]
    api_link = "/api/v1/hotline/rates?" + urlencode(
        {name: form.data.get(name, "") for name in ("start", "end", "by")}
    )
    return render(
        request,
        "complaints/rates.html",
        {
            "form": form,
            "rows": rows,
            "everywhere": oversight is None,
            "oversight": selectors.oversight_described(oversight or ()),
            "api_link": api_link,
        },
        status=200 if form.is_valid() else 422,
    )


@staff_required
@require_GET
def hot_spots(request: HttpRequest) -> HttpResponse:
    """The hot spots flagged to the reader's units (or regions), latest week first."""
    names = categories()
    units, regions = selectors.unit_names(), selectors.region_names()
    mine = set(selectors.units_of(request.user))
    rows = []
    for spot in selectors.hot_spots_for(request.user)[:200]:
        category = names.get(spot.category, {})
        rows.append(
            {
                "id": spot.pk,
                "category": in_language(
                    category.get("zh", spot.category), category.get("en", spot.category)
                ),
                "region": regions.get(spot.region_code, spot.region_code),
                "unit": units.get(spot.unit, spot.unit),
                "week": spot.week,
                "week_end": spot.week + dt.timedelta(days=6),
                "count": spot.count,
                "baseline": spot.baseline,
                "acknowledged_at": spot.acknowledged_at,
                "may_acknowledge": spot.acknowledged_at is None and spot.unit in mine,
            }
        )
    return render(request, "complaints/hot_spots.html", {"rows": rows})


@staff_required
@require_POST
def hot_spot_acknowledge(request: HttpRequest, hot_spot_id: int) -> HttpResponse:
    spot = selectors.hot_spot_for(request.user, hot_spot_id)
    services.hot_spot_acknowledge(actor=request.user, hot_spot=spot)
    return redirect("hotline_reports:hot-spots")
