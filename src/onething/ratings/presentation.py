"""How pages, the API and notifications name the things of 好差评: the reasons in the reader's
language, the subject's reference, and who rectifies (read once per page through `Names`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from onething.complaints.presentation import Names
from onething.core.masking import mask_personal_numbers
from onething.ratings import rules
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
