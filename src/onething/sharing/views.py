"""The person's own view of the record of every use of their data ("who used my data")."""

from __future__ import annotations

import contextlib

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from onething.core.errors import Conflict, InvalidInput, NotFound
from onething.core.numbers import whole_number
from onething.sharing import selectors, services
from onething.sharing.models import RelatedConsentRequest

ANSWERS = ("approve", "decline")


@login_required
@require_GET
def my_data_uses(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "sharing/my_data_uses.html",
        {
            "uses": selectors.data_uses_page(request.user, page=_page_number(request)),
            "asked": selectors.related_requests_to(request.user),
        },
    )


def _page_number(request: HttpRequest) -> int:
    """?page=N; anything else is the first page."""
    raw = request.GET.get("page", "1")
    page = whole_number(raw, max_digits=6)
    return 1 if page is None else page


@login_required
@require_POST
def answer_request(request: HttpRequest, pk: int) -> HttpResponse:
    """The related person approves or declines, in their own portal."""
    consent_request = RelatedConsentRequest.objects.filter(pk=pk).first()
    if consent_request is None:
        raise NotFound(_("This request does not exist."))
    answer = request.POST.get("answer", "")
    # A missing or garbled answer must not count as a "no": declining is final.
    if answer not in ANSWERS:
        message = _("answer: choose “approve” or “decline”; nothing was changed.")
        raise InvalidInput(message, fields={"answer": message})
    # Answered already (a second click): the page shows the answer.
    with contextlib.suppress(Conflict):
        services.related_consent_decide(
            actor=request.user,
            consent_request=consent_request,
            approve=answer == "approve",
        )
    return redirect("sharing:my-data-uses")
