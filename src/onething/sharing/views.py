"""The person's own view of the record of every use of their data ("who used my data")."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from onething.sharing import selectors


@login_required
@require_GET
def my_data_uses(request: HttpRequest) -> HttpResponse:
    names = selectors.source_names()
    rows = [
        {
            "use": use,
            "source_name": names.get(use.source, (use.source, ""))[0],
            "department_name": names.get(use.source, ("", use.department))[1],
        }
        for use in selectors.data_uses_about(request.user)
    ]
    return render(request, "sharing/my_data_uses.html", {"rows": rows})
