"""How pages, the API and notifications name the things of 好差评: the reasons in the reader's
language, the subject's reference, and who rectifies (read once per page through `Names`); the
timeline's events and the reasons to escalate; and the rating card's page context."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from onething.applications.models import Application
from onething.complaints.models import Ticket
from onething.complaints.presentation import Names
from onething.core.masking import mask_personal_numbers
from onething.ratings import rules, selectors
from onething.ratings.models import Rectification, RectificationStatus
from onething.ratings.rules import EscalationReason


def reader_language() -> str:
    """The active language (Chinese when none is active, as for the worker)."""
    return translation.get_language() or "zh-hans"


def reason_labels(codes: Iterable[str]) -> list[str]:
    """The labels of the standard reasons among `codes`, in the reader's language."""
    current = reader_language()
    return [reason.label(current) for code in codes if (reason := rules.REASONS.get(code))]


def reasons_out(codes: Iterable[str]) -> list[dict[str, str]]:
    """The standard reasons among `codes` as the API gives them: code, kind and label."""
    current = reader_language()
    return [
        {"code": code, "kind": reason.kind, "label": reason.label(current)}
        for code in codes
        if (reason := rules.REASONS.get(code))
    ]


def subject_reference(rectification: Rectification) -> str:
    rating = rectification.rating
    return rating.application.reference if rating.application_id else rating.ticket.reference


def who_rectifies(rectification: Rectification, language: str, names: Names | None = None) -> str:
    """The department's or hotline unit's name; pass `names` when naming many (one load)."""
    if rectification.department_id:
        return department_name(rectification.department, language)
    names = names if names is not None else Names.load()
    return names.unit(rectification.unit) or rectification.unit


def reason_choices(chosen) -> list[dict[str, Any]]:
    language = reader_language()
    return [
        {
            "code": r.code,
            "kind": r.kind,
            "label": r.label(language),
            "checked": r.code in chosen,
        }
        for r in rules.GOOD_REASONS + rules.BAD_REASONS
    ]


def department_name(department, language: str | None = None) -> str:
    """The department's name in `language` (the reader's, when not given)."""
    language = language or reader_language()
    return department.name_en if language.startswith("en") else department.name_zh


def rectification_row(
    rectification: Rectification, *, for_rater: bool, names: Names | None = None
) -> dict[str, Any]:
    """What a page shows of one rectification; staff read the rater's words with numbers masked."""
    rating = rectification.rating
    return {
        "r": rectification,
        "reference": subject_reference(rectification),
        "who": who_rectifies(rectification, reader_language(), names),
        "status_label": RectificationStatus(rectification.status).label,
        "reasons": reason_labels(rating.reasons),
        "comment": rating.comment if for_rater else mask_personal_numbers(rating.comment),
        "applicant_note": rectification.applicant_note
        if for_rater
        else mask_personal_numbers(rectification.applicant_note),
        "overdue": rectification.status == RectificationStatus.OPEN
        and rectification.due_date < timezone.localdate(),
        # Told by selectors.rectification_for (one rectification's page); lists do not ask.
        "settled_by_silence": getattr(rectification, "settled_by_silence", False),
    }


# --- what happened to a rectification, and why it was escalated --------------------------------

# Marked with gettext_noop: translated when shown, in the reader's (or recipient's) language.
EVENT_LABELS = {
    "opened": gettext_noop("rectification asked for"),
    "answered": gettext_noop("the department answered"),
    "settled": gettext_noop("the rater says it is settled"),
    "unsettled": gettext_noop("the rater says it is not settled"),
    "escalated": gettext_noop("escalated to the supervisors"),
    "settled_by_silence": gettext_noop("settled: the rater did not reply within a week"),
    "sent_back": gettext_noop("sent back to the department by the supervisors"),
    "closed": gettext_noop("closed by the supervisors"),
}


def event_label(action: str) -> str:
    """A timeline event's label (the action itself for one without a label)."""
    label = EVENT_LABELS.get(action)
    return _(label) if label else action


@dataclass(frozen=True)
class EscalationWording:
    label: str  # what the lists and pages show
    because: str  # what the supervisors are told: "… escalated to you because <because>."


ESCALATION_REASONS = {
    EscalationReason.OVERDUE: EscalationWording(
        gettext_noop("not answered in time"), gettext_noop("it was not answered by %(due)s")
    ),
    EscalationReason.UNSETTLED: EscalationWording(
        gettext_noop("the rater is not satisfied with the answer"),
        gettext_noop("the rater says the answer does not settle it"),
    ),
}


def escalation_labels() -> list[str]:
    """Every reason to escalate, as the pages name them."""
    return [_(wording.label) for wording in ESCALATION_REASONS.values()]


def escalation_label(reason: str) -> str:
    """Why a rectification was escalated, as the lists show it ("" when it was not)."""
    wording = ESCALATION_REASONS.get(reason) if reason else None
    return _(wording.label) if wording else ""


def escalation_because(rectification: Rectification) -> str:
    """Why it was escalated, as the supervisors' notification says it."""
    reason = rectification.escalation_reason or EscalationReason.OVERDUE
    return _(ESCALATION_REASONS[EscalationReason(reason)].because) % {
        "due": rectification.due_date.isoformat()
    }


# --- the rating card ------------------------------------------------------------------------------

STAR_CHOICES = (1, 2, 3, 4, 5)


def rating_card_for(
    user: Any,
    *,
    application: Application | None = None,
    ticket: Ticket | None = None,
    editing: bool = False,
    errors: dict[str, str] | None = None,
    posted: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the rating card shows: the form (new, being changed, or with errors) or the rating.

    The user's rating and the departments that handled the application come from `selectors`.
    """
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
                "name": department_name(department),
                "stars": own.get("stars"),
                "reasons": reason_choices(own.get("reasons", [])),
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
        "reasons": reason_choices(values["reasons"]),
        "rating_reasons": reason_labels(rating.reasons) if rating else [],
        "departments": department_rows,
        "errors": errors,
        "rectifications": [
            rectification_row(r, for_rater=True)
            for r in (rating.rectifications.select_related("department") if rating else [])
        ],
    }
