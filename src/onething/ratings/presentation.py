"""How pages, the API and notifications name the things of 好差评: the reasons in the reader's
language, the subject's reference, and who rectifies (read once per page through `Names`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone, translation

from onething.complaints.presentation import Names
from onething.core.masking import mask_personal_numbers
from onething.ratings import rules
from onething.ratings.models import Rectification, RectificationStatus


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
    }
