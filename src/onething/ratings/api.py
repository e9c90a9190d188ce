"""好差评 API: the standard reasons, rating an application or a ticket, and rectifications.

Everything but the reasons needs a signed-in user. Scopes are the selectors': only the applicant
(the citizen of a ticket) rates and reads their rating; a rectification is read by its rater,
the department or unit asked to rectify and, once escalated, the supervisors over it; to anybody
else it does not exist (404). Staff never see the rater's name, and numbers in the rater's
comment are masked for them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone, translation
from ninja import Field, Query, Router, Schema

from onething.accounts.auth import API_AUTH
from onething.applications.selectors import application_for_applicant
from onething.complaints.presentation import Names
from onething.complaints.selectors import ticket_of_citizen
from onething.core.errors import NotFound
from onething.core.masking import mask_personal_numbers
from onething.core.schemas import ErrorOut
from onething.ratings import rules, selectors, services
from onething.ratings.models import Rating, Rectification, RectificationStatus
from onething.ratings.presentation import (
    department_name,
    reader_language,
    reasons_out,
    subject_reference,
    who_rectifies,
)

router = Router(tags=["ratings"], auth=API_AUTH)


class RatingReasonOut(Schema):
    code: str
    kind: str = Field(description="good (3–5 stars) or bad (1–3 stars)")
    label: str


class RatingReasonsOut(Schema):
    good: list[RatingReasonOut]
    bad: list[RatingReasonOut]


class DepartmentStarsIn(Schema):
    department: str = Field(max_length=64, description="the department's code")
    stars: int = Field(strict=True, description="1 to 5")
    reasons: list[str] = Field(default_factory=list)


class RatingIn(Schema):
    stars: int = Field(strict=True, description="1 to 5; 1 or 2 is a bad rating (差评)")
    reasons: list[str] = Field(default_factory=list, description="codes of the standard reasons")
    comment: str = Field("", max_length=rules.MAX_COMMENT)
    departments: list[DepartmentStarsIn] = Field(
        default_factory=list,
        description="stars for departments that handled a case of the application",
    )


class DepartmentStarsOut(Schema):
    department: str
    name: str
    stars: int
    reasons: list[RatingReasonOut]


class RectificationOut(Schema):
    id: str
    subject: str = Field(description="application or ticket")
    reference: str
    department: str | None
    unit: str
    who: str = Field(description="the department or unit asked to rectify")
    rating_stars: int
    rating_reasons: list[RatingReasonOut]
    comment: str = Field(description="the rater's comment (numbers masked for staff)")
    status: str
    status_label: str
    due_date: dt.date
    answer: str
    answered_at: dt.datetime | None
    applicant_note: str
    settled_at: dt.datetime | None
    escalated_at: dt.datetime | None
    escalation_reason: str
    instruction: str = Field(description="the supervisor's instruction when sending it back")
    sent_back_at: dt.datetime | None
    conclusion: str = Field(description="the supervisor's conclusion when closing it")
    closed_at: dt.datetime | None


class RectificationList(Schema):
    items: list[RectificationOut]
    count: int


class RatingOut(Schema):
    id: str
    subject: str
    reference: str
    stars: int
    reasons: list[RatingReasonOut]
    comment: str
    departments: list[DepartmentStarsOut]
    created_at: dt.datetime
    updated_at: dt.datetime
    editable_until: dt.datetime
    editable: bool
    rectifications: list[RectificationOut]


class AnswerIn(Schema):
    answer: str = Field(max_length=rules.MAX_ANSWER, description="what the department changed")


class SendBackIn(Schema):
    instruction: str = Field(
        max_length=rules.MAX_ANSWER, description="what the department must still do"
    )


class CloseIn(Schema):
    conclusion: str = Field(max_length=rules.MAX_ANSWER, description="what the supervisors found")


class SettleIn(Schema):
    settled: bool
    note: str = Field("", max_length=rules.MAX_COMMENT)


def rectification_out(
    rectification: Rectification, *, for_rater: bool, names: Names | None = None
) -> dict[str, Any]:
    rating = rectification.rating
    return {
        "id": str(rectification.public_id),
        "subject": rating.subject_kind,
        "reference": subject_reference(rectification),
        "department": rectification.department.code if rectification.department_id else None,
        "unit": rectification.unit,
        "who": who_rectifies(rectification, reader_language(), names),
        "rating_stars": rating.stars,
        "rating_reasons": reasons_out(rating.reasons),
        "comment": rating.comment if for_rater else mask_personal_numbers(rating.comment),
        "status": rectification.status,
        "status_label": str(RectificationStatus(rectification.status).label),
        "due_date": rectification.due_date,
        "answer": rectification.answer,
        "answered_at": rectification.answered_at,
        "applicant_note": rectification.applicant_note
        if for_rater
        else mask_personal_numbers(rectification.applicant_note),
        "settled_at": rectification.settled_at,
        "escalated_at": rectification.escalated_at,
        "escalation_reason": rectification.escalation_reason,
        "instruction": rectification.instruction,
        "sent_back_at": rectification.sent_back_at,
        "conclusion": rectification.conclusion,
        "closed_at": rectification.closed_at,
    }


def rating_out(rating: Rating, reference: str) -> dict[str, Any]:
    return {
        "id": str(rating.public_id),
        "subject": rating.subject_kind,
        "reference": reference,
        "stars": rating.stars,
        "reasons": reasons_out(rating.reasons),
        "comment": rating.comment,
        "departments": [
            {
                "department": d.department.code,
                "name": department_name(d.department),
                "stars": d.stars,
                "reasons": reasons_out(d.reasons),
            }
            for d in rating.departments.select_related("department").order_by("department__code")
        ],
        "created_at": rating.created_at,
        "updated_at": rating.updated_at,
        "editable_until": rating.editable_until,
        "editable": rules.is_editable(rating.editable_until, timezone.now()),
        "rectifications": [
            rectification_out(r, for_rater=True)
            for r in rating.rectifications.select_related(
                "department", "rating__application", "rating__ticket"
            )
        ],
    }


@router.get("/reasons", response=RatingReasonsOut, auth=None, summary="The standard reasons")
def reasons(request: HttpRequest):
    language = reader_language()

    def out(items):
        return [{"code": r.code, "kind": r.kind, "label": r.label(language)} for r in items]

    return {"good": out(rules.GOOD_REASONS), "bad": out(rules.BAD_REASONS)}


def _not_rated() -> None:
    raise NotFound(translation.gettext("You have not rated this yet."))


def _submit(request: HttpRequest, payload: RatingIn, **subject) -> Rating:
    return services.rating_submit(
        actor=request.auth,
        stars=payload.stars,
        reasons=payload.reasons,
        comment=payload.comment,
        departments=[
            services.DepartmentStars(d.department, d.stars, d.reasons) for d in payload.departments
        ],
        **subject,
    )


RATING_RESPONSES = {200: RatingOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@router.get(
    "/applications/{reference}",
    response={200: RatingOut, 404: ErrorOut},
    summary="My rating of one of my applications",
)
def my_application_rating(request: HttpRequest, reference: str):
    application = application_for_applicant(request.auth, reference)
    rating = selectors.rating_of(request.auth, application=application)
    if rating is None:
        _not_rated()
    return rating_out(rating, application.reference)


@router.post(
    "/applications/{reference}",
    response=RATING_RESPONSES,
    summary="Rate a finished application (or change the rating within seven days)",
)
def rate_application(request: HttpRequest, reference: str, payload: RatingIn):
    application = application_for_applicant(request.auth, reference)
    return rating_out(_submit(request, payload, application=application), application.reference)


@router.put(
    "/applications/{reference}",
    response=RATING_RESPONSES,
    summary="Change my rating of an application (or give it)",
)
def change_application_rating(request: HttpRequest, reference: str, payload: RatingIn):
    return rate_application(request, reference, payload)


@router.get(
    "/tickets/{reference}",
    response={200: RatingOut, 404: ErrorOut},
    summary="My rating of one of my hotline complaints",
)
def my_ticket_rating(request: HttpRequest, reference: str):
    ticket = ticket_of_citizen(request.auth, reference)
    rating = selectors.rating_of(request.auth, ticket=ticket)
    if rating is None:
        _not_rated()
    return rating_out(rating, ticket.reference)


@router.post(
    "/tickets/{reference}",
    response=RATING_RESPONSES,
    summary="Rate a closed hotline complaint (or change the rating within seven days)",
)
def rate_ticket(request: HttpRequest, reference: str, payload: RatingIn):
    ticket = ticket_of_citizen(request.auth, reference)
    return rating_out(_submit(request, payload, ticket=ticket), ticket.reference)


@router.put(
    "/tickets/{reference}",
    response=RATING_RESPONSES,
    summary="Change my rating of a hotline complaint (or give it)",
)
def change_ticket_rating(request: HttpRequest, reference: str, payload: RatingIn):
    return rate_ticket(request, reference, payload)


@router.get(
    "/rectifications",
    response=RectificationList,
    summary="Rectifications I may read: my own, my department's or unit's, escalated ones I watch",
    description="`count` is the number of them all; `limit` and `offset` choose the page.",
)
def list_rectifications(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    user = request.auth
    found = selectors.rectifications_visible_to(user)
    names = Names.load()
    items = [
        rectification_out(r, for_rater=r.rating.rater_id == user.pk, names=names)
        for r in found[offset : offset + limit]
    ]
    return {"items": items, "count": found.count()}


@router.get(
    "/rectifications/{rectification_id}",
    response={200: RectificationOut, 404: ErrorOut},
    summary="One rectification",
)
def get_rectification(request: HttpRequest, rectification_id: str):
    rectification = selectors.rectification_for(request.auth, rectification_id)
    return rectification_out(
        rectification, for_rater=rectification.rating.rater_id == request.auth.pk
    )


# A department's answer and a supervisor's moves: refused (403) to those who may only read it.
ACTION_RESPONSES = {
    200: RectificationOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


@router.post(
    "/rectifications/{rectification_id}/answer",
    response=ACTION_RESPONSES,
    summary="Say what the department changed (its reviewers, or the hotline unit's members)",
)
def answer_rectification(request: HttpRequest, rectification_id: str, payload: AnswerIn):
    rectification = selectors.rectification_for(request.auth, rectification_id)
    done = services.rectification_answer(
        actor=request.auth, rectification=rectification, answer=payload.answer
    )
    return rectification_out(done, for_rater=False)


@router.post(
    "/rectifications/{rectification_id}/settle",
    response={200: RectificationOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Say whether the answer settles the matter (the rater)",
)
def settle_rectification(request: HttpRequest, rectification_id: str, payload: SettleIn):
    rectification = selectors.rectification_for(request.auth, rectification_id)
    done = services.rectification_settle(
        actor=request.auth, rectification=rectification, settled=payload.settled, note=payload.note
    )
    return rectification_out(done, for_rater=True)


@router.post(
    "/rectifications/{rectification_id}/send-back",
    response=ACTION_RESPONSES,
    summary="Send an escalated rectification back to the department with an instruction "
    "(the supervisors over it)",
)
def send_back_rectification(request: HttpRequest, rectification_id: str, payload: SendBackIn):
    rectification = selectors.rectification_for(request.auth, rectification_id)
    done = services.rectification_send_back(
        actor=request.auth, rectification=rectification, instruction=payload.instruction
    )
    return rectification_out(done, for_rater=False)


@router.post(
    "/rectifications/{rectification_id}/close",
    response=ACTION_RESPONSES,
    summary="Close an escalated rectification with a conclusion (the supervisors over it)",
)
def close_rectification(request: HttpRequest, rectification_id: str, payload: CloseIn):
    rectification = selectors.rectification_for(request.auth, rectification_id)
    done = services.rectification_close(
        actor=request.auth, rectification=rectification, conclusion=payload.conclusion
    )
    return rectification_out(done, for_rater=False)
