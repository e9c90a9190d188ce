"""好差评 pages: the rating card on a finished application and a closed complaint, the rater's
view of a rectification, the department's (or unit's) rectifications and answer page, and the
supervisors' escalated rectifications.

Thin: parse the form, call one service or selector, render. The card is an htmx fragment: it
swaps itself after a rating is given or changed; without JavaScript the form posts and returns
to the page it came from.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from onething.accounts.models import User
from onething.applications.models import Application
from onething.applications.selectors import application_for_applicant
from onething.complaints.models import Ticket
from onething.complaints.selectors import ticket_of_citizen
from onething.core.errors import InvalidInput, NotAllowed
from onething.core.masking import mask_personal_numbers
from onething.core.numbers import whole_number
from onething.ratings import rules, selectors, services
from onething.ratings.models import Rectification, RectificationStatus
from onething.ratings.subscribers import subject_reference, who_rectifies

STAR_CHOICES = (1, 2, 3, 4, 5)


def _language() -> str:
    return translation.get_language() or "zh-hans"


def _labels(codes) -> list[str]:
    language = _language()
    return [r.label(language) for code in codes if (r := rules.REASONS.get(code))]


def _reason_choices(chosen) -> list[dict[str, Any]]:
    language = _language()
    return [
        {
            "code": r.code,
            "kind": r.kind,
            "label": r.label(language),
            "checked": r.code in chosen,
        }
        for r in rules.GOOD_REASONS + rules.BAD_REASONS
    ]


def _department_name(department) -> str:
    return department.name_en if _language().startswith("en") else department.name_zh


def event_label(action: str) -> str:
    labels = {
        "opened": _("rectification asked for"),
        "answered": _("the department answered"),
        "settled": _("the rater says it is settled"),
        "unsettled": _("the rater says it is not settled"),
        "escalated": _("escalated to the supervisors"),
    }
    return labels.get(action, action)


def _rectification_row(rectification: Rectification, *, for_rater: bool) -> dict[str, Any]:
    rating = rectification.rating
    return {
        "r": rectification,
        "reference": subject_reference(rectification),
        "who": who_rectifies(rectification, _language()),
        "status_label": RectificationStatus(rectification.status).label,
        "reasons": _labels(rating.reasons),
        "comment": rating.comment if for_rater else mask_personal_numbers(rating.comment),
        "applicant_note": rectification.applicant_note
        if for_rater
        else mask_personal_numbers(rectification.applicant_note),
        "overdue": rectification.status == RectificationStatus.OPEN
        and rectification.due_date < timezone.localdate(),
    }


def card_context(
    user: Any,
    *,
    application: Application | None = None,
    ticket: Ticket | None = None,
    editing: bool = False,
    errors: dict[str, str] | None = None,
    posted: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the rating card shows: the form (new, being changed, or with errors) or the rating."""
    if application is not None:
        open_to_rating = application.applicant_id == getattr(user, "pk", None) and (
            selectors.is_finished(application)
        )
        post_url = reverse("ratings:application", args=[application.reference])
        departments = selectors.handling_departments(application) if open_to_rating else []
        rating = selectors.rating_of(user, application=application) if open_to_rating else None
    else:
        open_to_rating = ticket.citizen_id == getattr(user, "pk", None) and selectors.is_closed(
            ticket
        )
        post_url = reverse("ratings:ticket", args=[ticket.reference])
        departments = []
        rating = selectors.rating_of(user, ticket=ticket) if open_to_rating else None
    if not open_to_rating:
        return {"show": False}
    editable = rating is None or rules.is_editable(rating.editable_until, timezone.now())
    given = {d.department_id: d for d in rating.departments.all()} if rating else {}
    if posted is not None:
        values = posted
    elif rating is not None:
        values = {
            "stars": rating.stars,
            "reasons": list(rating.reasons),
            "comment": rating.comment,
            "departments": {
                code: {"stars": given[d.pk].stars, "reasons": list(given[d.pk].reasons)}
                for d in departments
                if (code := d.code) and d.pk in given
            },
        }
    else:
        values = {"stars": None, "reasons": [], "comment": "", "departments": {}}
    errors = errors or {}
    department_rows = []
    for department in departments:
        own = values["departments"].get(department.code, {})
        department_rows.append(
            {
                "code": department.code,
                "name": _department_name(department),
                "stars": own.get("stars"),
                "reasons": _reason_choices(own.get("reasons", [])),
                "error": errors.get(f"departments.{department.code}")
                or errors.get(f"departments.{department.code}.stars")
                or errors.get(f"departments.{department.code}.reasons"),
                "given": given.get(department.pk),
            }
        )
    return {
        "show": True,
        "post_url": post_url,
        "rating": rating,
        "form": editable and (rating is None or editing or bool(errors)),
        "editable": editable and rating is not None,
        "stars_choices": STAR_CHOICES,
        "values": values,
        "reasons": _reason_choices(values["reasons"]),
        "rating_reasons": _labels(rating.reasons) if rating else [],
        "departments": department_rows,
        "errors": errors,
        "rectifications": [
            _rectification_row(r, for_rater=True)
            for r in (rating.rectifications.select_related("department") if rating else [])
        ],
    }


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
            context = card_context(request.user, errors=exc.fields, posted=posted, **subject)
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
    context = card_context(request.user, editing=editing, **subject)
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
            **_rectification_row(rectification, for_rater=True),
            "subject_url": subject_url,
            "can_settle": rectification.status == RectificationStatus.ANSWERED,
            "errors": errors,
            "posted": request.POST,
        },
        status=422 if errors else 200,
    )


# --- staff ---------------------------------------------------------------------------------------


def _staff(request: HttpRequest) -> None:
    if request.user.kind != User.Kind.STAFF:
        raise NotAllowed(_("Only staff may use this page."))


@login_required
@require_GET
def department_list(request: HttpRequest) -> HttpResponse:
    """The department's (or unit's) rectifications: open ones by due date, then answered."""
    _staff(request)
    rows = [
        _rectification_row(r, for_rater=False)
        for r in selectors.rectifications_to_answer(request.user)
    ]
    if not selectors.answers_rectifications(request.user):
        raise NotAllowed(_("Only a department's reviewers or a hotline unit rectify."))
    return render(request, "ratings/department.html", {"rows": rows})


@login_required
@require_GET
def escalated_list(request: HttpRequest) -> HttpResponse:
    """The rectifications escalated to the supervisor: late ones and those not settled."""
    _staff(request)
    if not selectors.watches_rectifications(request.user):
        raise NotAllowed(_("Only supervisors see escalated rectifications."))
    rows = [
        _rectification_row(r, for_rater=False)
        for r in selectors.rectifications_escalated(request.user)
    ]
    reasons = {
        "overdue": _("not answered in time"),
        "unsettled": _("the rater is not satisfied with the answer"),
    }
    for row in rows:
        row["escalation"] = reasons.get(row["r"].escalation_reason, "")
    return render(request, "ratings/escalated.html", {"rows": rows})


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
        try:
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
            **_rectification_row(rectification, for_rater=False),
            "department_stars": department_stars,
            "department_reasons": _labels(department_stars.reasons) if department_stars else [],
            "events": [
                {"e": e, "label": event_label(e.action)} for e in rectification.events.all()
            ],
            "can_answer": selectors.may_answer(request.user, rectification)
            and rectification.status in (RectificationStatus.OPEN, RectificationStatus.ESCALATED),
            "errors": errors,
            "posted": request.POST,
        },
        status=422 if errors else 200,
    )
