"""好差评 pages: the rating card on a finished application and a closed complaint, the rater's
view of a rectification and the list of them, the department's (or unit's) rectifications and
answer page, and the supervisors' escalated rectifications, which they send back or close on
the rectification's page. The lists come a page at a time.

Thin: parse the form, call one service or selector, render. The card is an htmx fragment: it
swaps itself after a rating is given or changed; without JavaScript the form posts and returns
to the page it came from.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from onething.accounts.models import User
from onething.applications.selectors import application_for_applicant
from onething.complaints.presentation import Names
from onething.complaints.selectors import ticket_of_citizen
from onething.core.errors import InvalidInput, NotAllowed
from onething.core.numbers import whole_number
from onething.ratings import rules, selectors, services
from onething.ratings.models import RectificationStatus
from onething.ratings.presentation import (
    escalation_label,
    escalation_labels,
    event_label,
    rating_card_for,
    reason_labels,
    rectification_row,
)

PAGE_SIZE = 50


def _stars(raw: str | None) -> Any:
    raw = (raw or "").strip()
    stars = whole_number(raw, max_digits=6)
    # Anything else goes on as typed: the service names the rule (1 to 5 stars).
    return stars if stars is not None else raw or None


def _posted(request: HttpRequest, departments) -> dict[str, Any]:
    return {
        "stars": _stars(request.POST.get("stars")),
        "reasons": request.POST.getlist("reasons"),
        "comment": request.POST.get("comment", ""),
        "departments": {
            d.code: {
                "stars": _stars(request.POST.get(f"dept-{d.code}-stars")),
                "reasons": request.POST.getlist(f"dept-{d.code}-reasons"),
            }
            for d in departments
            if request.POST.get(f"dept-{d.code}-stars")
        },
    }


def _rate(request: HttpRequest, subject: dict[str, Any], back: str) -> HttpResponse:
    editing = request.GET.get("edit") == "1"
    if request.method == "POST":
        departments = (
            selectors.handling_departments(subject["application"])
            if "application" in subject
            else []
        )
        posted = _posted(request, departments)
        try:
            services.rating_submit(
                actor=request.user,
                stars=posted["stars"] if posted["stars"] is not None else "",
                reasons=posted["reasons"],
                comment=posted["comment"],
                departments=[
                    services.DepartmentStars(code, v["stars"], v["reasons"])
                    for code, v in posted["departments"].items()
                ],
                **subject,
            )
        except InvalidInput as exc:
            context = rating_card_for(request.user, errors=exc.fields, posted=posted, **subject)
            template = "ratings/_card.html" if request.htmx else "ratings/rate.html"
            return render(
                request,
                template,
                {**context, "back": back},
                status=200 if request.htmx else 422,
            )
        if not request.htmx:
            return redirect(f"{back}#rating")
        editing = False
    context = rating_card_for(request.user, editing=editing, **subject)
    if not context["show"]:
        raise NotAllowed(_("This can be rated by its applicant once it is finished."))
    template = "ratings/_card.html" if request.htmx else "ratings/rate.html"
    return render(request, template, {**context, "back": back})


@login_required
@require_http_methods(["GET", "POST"])
def rate_application(request: HttpRequest, reference: str) -> HttpResponse:
    application = application_for_applicant(request.user, reference)
    back = reverse("applications:detail", args=[application.reference])
    return _rate(request, {"application": application}, back)


@login_required
@require_http_methods(["GET", "POST"])
def rate_ticket(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = ticket_of_citizen(request.user, reference)
    back = reverse("complaints:my-ticket", args=[ticket.reference])
    return _rate(request, {"ticket": ticket}, back)


# --- the rater's view of a rectification --------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def my_rectification(request: HttpRequest, public_id: str) -> HttpResponse:
    rectification = selectors.rectification_for(request.user, public_id)
    if rectification.rating.rater_id != request.user.pk:
        return redirect("ratings:rectification", public_id=rectification.public_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        answer = request.POST.get("settled")
        settled: Any = {"yes": True, "no": False}.get(answer, answer)
        try:
            rectification = services.rectification_settle(
                actor=request.user,
                rectification=rectification,
                settled=settled,
                note=request.POST.get("note", ""),
            )
            return redirect("ratings:mine", public_id=rectification.public_id)
        except InvalidInput as exc:
            errors = exc.fields
            if "settled" in errors:
                errors["settled"] = _("Say whether the answer settles the matter.")
    rating = rectification.rating
    subject_url = (
        reverse("applications:detail", args=[rating.application.reference])
        if rating.application_id
        else reverse("complaints:my-ticket", args=[rating.ticket.reference])
    )
    return render(
        request,
        "ratings/mine.html",
        {
            **rectification_row(rectification, for_rater=True),
            "subject_url": subject_url,
            "can_settle": rectification.status == RectificationStatus.ANSWERED,
            "settle_by": rules.settled_by_silence_at(rectification.answered_at)
            if rectification.answered_at
            else None,
            "errors": errors,
            "posted": request.POST,
        },
        status=422 if errors else 200,
    )


# --- staff ---------------------------------------------------------------------------------------


def _staff(request: HttpRequest) -> None:
    if request.user.kind != User.Kind.STAFF:
        raise NotAllowed(_("Only staff may use this page."))


def _page_of_rows(request: HttpRequest, rectifications, *, for_rater: bool):
    """One page of the list (?page=N), each row named with the names read once for the page."""
    page = Paginator(rectifications, PAGE_SIZE).get_page(request.GET.get("page"))
    names = Names.load()
    page.rows = [rectification_row(r, for_rater=for_rater, names=names) for r in page]
    return page


@login_required
@require_GET
def department_list(request: HttpRequest) -> HttpResponse:
    """The department's (or unit's) rectifications: open ones by due date, then answered."""
    _staff(request)
    if not selectors.answers_rectifications(request.user):
        raise NotAllowed(_("Only a department's reviewers or a hotline unit rectify."))
    page = _page_of_rows(request, selectors.rectifications_to_answer(request.user), for_rater=False)
    return render(request, "ratings/department.html", {"page": page, "rows": page.rows})


@login_required
@require_GET
def escalated_list(request: HttpRequest) -> HttpResponse:
    """The rectifications escalated to the supervisor: late ones and those not settled."""
    _staff(request)
    if not selectors.watches_rectifications(request.user):
        raise NotAllowed(_("Only supervisors see escalated rectifications."))
    page = _page_of_rows(request, selectors.rectifications_escalated(request.user), for_rater=False)
    for row in page.rows:
        row["escalation"] = escalation_label(row["r"].escalation_reason)
    return render(
        request,
        "ratings/escalated.html",
        {"page": page, "rows": page.rows, "escalation_reasons": escalation_labels()},
    )


@login_required
@require_GET
def my_rectifications(request: HttpRequest) -> HttpResponse:
    """The rectifications the user's bad ratings opened, the newest first."""
    page = _page_of_rows(request, selectors.rectifications_of_rater(request.user), for_rater=True)
    return render(request, "ratings/my_list.html", {"page": page, "rows": page.rows})


@login_required
@require_http_methods(["GET", "POST"])
def rectification_page(request: HttpRequest, public_id: str) -> HttpResponse:
    """One rectification for staff: the rating (numbers masked), its timeline, the answer form."""
    rectification = selectors.rectification_for(request.user, public_id)
    if rectification.rating.rater_id == request.user.pk:
        return redirect("ratings:mine", public_id=rectification.public_id)
    _staff(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action", "answer")
        try:
            if action == "send_back":
                services.rectification_send_back(
                    actor=request.user,
                    rectification=rectification,
                    instruction=request.POST.get("instruction", ""),
                )
            elif action == "close":
                services.rectification_close(
                    actor=request.user,
                    rectification=rectification,
                    conclusion=request.POST.get("conclusion", ""),
                )
            else:
                services.rectification_answer(
                    actor=request.user,
                    rectification=rectification,
                    answer=request.POST.get("answer", ""),
                )
            return redirect("ratings:rectification", public_id=rectification.public_id)
        except InvalidInput as exc:
            errors = exc.fields
    department_stars = None
    if rectification.department_id:
        department_stars = rectification.rating.departments.filter(
            department_id=rectification.department_id
        ).first()
    return render(
        request,
        "ratings/rectification.html",
        {
            **rectification_row(rectification, for_rater=False),
            "department_stars": department_stars,
            "department_reasons": (
                reason_labels(department_stars.reasons) if department_stars else []
            ),
            "events": [
                {"e": e, "label": event_label(e.action)} for e in rectification.events.all()
            ],
            "can_answer": selectors.may_answer(request.user, rectification)
            and rectification.status in (RectificationStatus.OPEN, RectificationStatus.ESCALATED),
            "can_supervise": selectors.may_supervise(request.user, rectification),
            "errors": errors,
            "posted": request.POST,
        },
        status=422 if errors else 200,
    )
