"""Every write of 好差评: rating a finished application or a closed ticket, answering and settling
a rectification, and the sweep that escalates late or unsettled ones.

Each service locks what it changes, asks `rules` whether the step is allowed, writes the change
with its `RectificationEvent` and its audit record in one transaction, and publishes a domain
event; the subscribers queue the notifications, which leave after commit through the outbox.

Decisions the issue leaves open:
- A rating is changed by submitting it again within the window (seven days after it was first
  given). Changing it to bad opens rectifications for the departments it newly names; changing
  it to good closes nothing: a department that was told to rectify still answers, and the rater
  still says whether the answer settles it (the supervisor's figures count the bad rating that
  was given, not only the last one).
- A department has at most one rectification per rating, whatever the edits.
- A rater who does not say within `rules.SETTLE_SILENCE` (seven days) whether the answer settles
  the matter is taken to accept it: the sweep settles it by silence and tells them (see
  `rules`). Escalating it instead would send every answer a rater ignores to a supervisor.
- Once escalated, a rectification stays with its supervisors: every later change (an answer,
  the rater's yes or no, settling by silence) is told to them; they send it back with an
  instruction or close it with a conclusion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from onething.applications.models import Application
from onething.audit.services import audit_record
from onething.catalog.selectors import work_calendar
from onething.complaints.models import Ticket
from onething.core.actors import actor_label, actor_user
from onething.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from onething.core.events import publish
from onething.core.masking import mask_personal_numbers
from onething.ratings import rules, selectors
from onething.ratings.models import (
    DepartmentRating,
    Rating,
    Rectification,
    RectificationEvent,
    RectificationStatus,
    SubjectKind,
)
from onething.ratings.rules import ReasonProblem, RectificationAction

SWEEP_EVERY_SECONDS = 900


@dataclass(frozen=True)
class DepartmentStars:
    """The stars (and reasons) a rating gives one department that handled a case."""

    department: str  # the department's code
    stars: Any
    reasons: Sequence[str] = ()


def _now() -> dt.datetime:
    return timezone.now()


def _reason_message(problem: ReasonProblem, code: str) -> str:
    reason = rules.REASONS.get(code)
    label = reason.label(translation.get_language() or "zh-hans") if reason else code
    if problem == ReasonProblem.UNKNOWN:
        return _("“%(code)s” is not one of the standard reasons.") % {"code": code}
    if problem == ReasonProblem.BAD_WITH_GOOD_STARS:
        return _("“%(reason)s” is a reason for a bad rating; it does not go with 4 or 5 stars.") % {
            "reason": label
        }
    return _("“%(reason)s” is a reason for a good rating; it does not go with 1 or 2 stars.") % {
        "reason": label
    }


def _check_stars_and_reasons(
    prefix: str, stars: Any, reasons: Sequence[str], fields: dict[str, str]
) -> None:
    if not rules.stars_valid(stars):
        fields[f"{prefix}stars"] = _("Choose from 1 to 5 stars.")
        return
    if not isinstance(reasons, (list, tuple)) or not all(isinstance(r, str) for r in reasons):
        fields[f"{prefix}reasons"] = _("Must be a list of reason codes.")
        return
    problems = rules.reason_problems(stars, reasons)
    if problems:
        code, problem = next(iter(problems.items()))
        fields[f"{prefix}reasons"] = _reason_message(problem, code)


def _check(
    *,
    stars: Any,
    reasons: Sequence[str],
    comment: str,
    departments: Sequence[DepartmentStars],
    handling: Mapping[str, Any],
) -> dict[str, str]:
    """Every wrong field at once, named as the API and the form name them."""
    fields: dict[str, str] = {}
    _check_stars_and_reasons("", stars, reasons, fields)
    if not isinstance(comment, str):
        fields["comment"] = _("Must be text.")
    elif len(comment) > rules.MAX_COMMENT:
        fields["comment"] = _("Must be at most %(max)s characters.") % {"max": rules.MAX_COMMENT}
    seen: set[str] = set()
    for item in departments:
        prefix = f"departments.{item.department}."
        if item.department not in handling:
            fields[f"departments.{item.department}"] = _(
                "Only a department that handled a case of this application can be rated."
            )
            continue
        if item.department in seen:
            fields[f"departments.{item.department}"] = _("This department is rated twice.")
            continue
        seen.add(item.department)
        _check_stars_and_reasons(prefix, item.stars, list(item.reasons), fields)
    return fields


def _lock_application(actor: Any, application: Application) -> Application:
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related("region")
        .filter(pk=application.pk, applicant_id=getattr(actor, "pk", None))
        .first()
    )
    if locked is None:
        raise NotFound(_("This application does not exist."))
    if not selectors.is_finished(locked):
        raise Conflict(_("An application can be rated once it is finished."))
    return locked


def _lock_ticket(actor: Any, ticket: Ticket) -> Ticket:
    locked = (
        Ticket.objects.select_for_update()
        .filter(pk=ticket.pk, citizen_id=getattr(actor, "pk", None))
        .first()
    )
    if locked is None:
        raise NotFound(_("No such ticket."))
    if not selectors.is_closed(locked):
        raise Conflict(_("A complaint can be rated once it is closed."))
    return locked


def _audit_rating(rating: Rating, *, actor: Any, action: str, subject: str) -> None:
    audit_record(
        actor=actor_label(actor),
        action=f"rating.{action}",
        stream=f"rating:{rating.public_id}",
        subject=subject,
        data={
            "stars": rating.stars,
            "reasons": list(rating.reasons),
            "departments": {d.department.code: d.stars for d in rating.departments.all()},
        },
    )


@transaction.atomic
def rating_submit(
    *,
    actor: Any,
    application: Application | None = None,
    ticket: Ticket | None = None,
    stars: Any,
    reasons: Sequence[str] = (),
    comment: str = "",
    departments: Sequence[DepartmentStars] = (),
    now: dt.datetime | None = None,
) -> Rating:
    """Rate a finished application (or a closed ticket) one has made, or change that rating.

    Only its applicant (or the citizen who filed the ticket) rates it, once, changing it within
    `rules.EDIT_WINDOW`; department stars only for departments that decided one of its cases.
    A bad rating opens a rectification for each department (or unit) it names.
    """
    if (application is None) == (ticket is None):
        raise ValueError("rate exactly one application or one ticket")
    now = now or _now()
    if application is not None:
        subject_row = _lock_application(actor, application)
        handling = {d.code: d for d in selectors.handling_departments(subject_row)}
        existing = Rating.objects.select_for_update().filter(application=subject_row, rater=actor)
        subject_label = subject_row.reference
    else:
        subject_row = _lock_ticket(actor, ticket)
        handling = {}
        existing = Rating.objects.select_for_update().filter(ticket=subject_row, rater=actor)
        subject_label = subject_row.reference
    reasons = list(reasons) if isinstance(reasons, (list, tuple)) else reasons
    fields = _check(
        stars=stars,
        reasons=reasons,
        comment=comment,
        departments=list(departments),
        handling=handling,
    )
    if fields:
        raise InvalidInput(_("Please correct the marked fields."), fields=fields)
    rating = existing.first()
    if rating is not None and not rules.is_editable(rating.editable_until, now):
        raise Conflict(
            _("This rating can no longer be changed: changes were possible until %(until)s.")
            % {"until": timezone.localtime(rating.editable_until).strftime("%Y-%m-%d %H:%M")}
        )
    created = rating is None
    if created:
        rating = Rating(
            subject_kind=SubjectKind.APPLICATION if application is not None else SubjectKind.TICKET,
            application=subject_row if application is not None else None,
            ticket=subject_row if ticket is not None else None,
            rater=actor,
            created_at=now,
            editable_until=rules.editable_until(now),
            region_code=(
                (subject_row.region_code or "")
                if application is not None
                else subject_row.region_code
            ),
        )
    rating.stars = stars
    rating.reasons = list(dict.fromkeys(reasons))
    rating.comment = comment.strip()
    rating.updated_at = now
    rating.save()
    given = {item.department: item for item in departments}
    rating.departments.exclude(department__code__in=list(given)).delete()
    for code, item in given.items():
        DepartmentRating.objects.update_or_create(
            rating=rating,
            department=handling[code],
            defaults={"stars": item.stars, "reasons": list(dict.fromkeys(item.reasons))},
        )
    _audit_rating(
        rating, actor=actor, action="given" if created else "changed", subject=subject_label
    )
    if application is not None:
        targets = rules.rectification_targets(
            stars, {code: item.stars for code, item in given.items()}, list(handling)
        )
        for code in targets:
            _open(rating, actor=actor, department=handling[code], now=now)
    elif unit := _handling_unit(subject_row):
        for target in rules.rectification_targets(stars, {}, [unit]):
            _open(rating, actor=actor, unit=target, now=now)
    return rating


def _handling_unit(ticket: Ticket) -> str:
    """The unit that handled the ticket: a ticket linked to a lead was answered by the lead's
    unit and may hold none of its own (it was linked before the lead was dispatched)."""
    if ticket.unit:
        return ticket.unit
    return ticket.lead.unit if ticket.lead_id else ""


def _record(
    rectification: Rectification,
    *,
    actor: Any,
    action: str,
    now: dt.datetime,
    from_status: str = "",
    note: str = "",
    data: Mapping[str, Any] | None = None,
) -> None:
    """The rectification's event (at the service's `now`) and its audit record, in the
    caller's transaction."""
    note = mask_personal_numbers(note)
    RectificationEvent.objects.create(
        rectification=rectification,
        actor=actor_user(actor),
        action=action,
        from_status=from_status,
        to_status=rectification.status,
        note=note,
        at=now,
    )
    audit_record(
        actor=actor_label(actor),
        action=f"rectification.{action}",
        stream=f"rectification:{rectification.public_id}",
        subject=str(rectification.public_id),
        data={
            "from": from_status,
            "to": rectification.status,
            "department": rectification.department.code if rectification.department_id else "",
            "unit": rectification.unit,
            "note": note,
            **dict(data or {}),
        },
    )


def _open(rating: Rating, *, actor: Any, now: dt.datetime, department=None, unit: str = ""):
    """A rectification for the department or unit, unless this rating already opened one."""
    already = rating.rectifications.filter(
        department=department, unit=unit if department is None else ""
    )
    if already.exists():
        return None
    region = rating.region_code or (department.region.code if department is not None else "")
    rectification = Rectification.objects.create(
        rating=rating,
        department=department,
        unit=unit if department is None else "",
        region_code=region,
        due_date=rules.rectification_due(work_calendar(), timezone.localdate(now), region or None),
        created_at=now,
    )
    _record(
        rectification,
        actor=actor,
        action="opened",
        now=now,
        data={"stars": rating.stars, "due": rectification.due_date.isoformat()},
    )
    publish("rectification.opened", rectification=rectification.pk)
    return rectification


def _lock(rectification: Rectification) -> Rectification:
    try:
        return (
            Rectification.objects.select_for_update(of=("self",))
            .select_related("department", "rating")
            .get(pk=rectification.pk)
        )
    except Rectification.DoesNotExist:
        raise NotFound(_("This rectification does not exist.")) from None


def _not_in_this_status(status: str) -> Conflict:
    return Conflict(
        _("A rectification that is %(status)s cannot be changed this way.")
        % {"status": RectificationStatus(status).label}
    )


def _move(rectification: Rectification, action: RectificationAction) -> str:
    before = rectification.status
    try:
        rectification.status = rules.next_status(before, action)
    except rules.TransitionNotAllowed:
        raise _not_in_this_status(before) from None
    return before


def _required_text(field: str, text: Any, missing_message: str) -> str:
    """`text` stripped, or InvalidInput naming `field`: missing, or longer than
    `rules.MAX_ANSWER`."""
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise InvalidInput(_("Please correct the marked fields."), fields={field: missing_message})
    if len(text) > rules.MAX_ANSWER:
        raise InvalidInput(
            _("Please correct the marked fields."),
            fields={field: _("Must be at most %(max)s characters.") % {"max": rules.MAX_ANSWER}},
        )
    return text


@transaction.atomic
def rectification_answer(
    *, actor: Any, rectification: Rectification, answer: str, now: dt.datetime | None = None
) -> Rectification:
    """The department (or unit) says what it changed; the rater is told.

    Its reviewers within their region (the unit's members for a ticket) answer; a supervisor
    who may read it is refused; to anybody else it does not exist.
    """
    now = now or _now()
    rectification = _lock(rectification)
    if not selectors.may_answer(actor, rectification):
        if selectors.supervises(actor, rectification) or rectification.rating.rater_id == getattr(
            actor, "pk", None
        ):
            raise NotAllowed(_("Only the department asked to rectify answers."))
        raise NotFound(_("This rectification does not exist."))
    text = _required_text("answer", answer, _("Say what the department changed."))
    before = _move(rectification, RectificationAction.ANSWER)
    rectification.answer = text
    rectification.answered_by = actor_user(actor)
    rectification.answered_at = now
    rectification.save(update_fields=["status", "answer", "answered_by", "answered_at"])
    _record(rectification, actor=actor, action="answered", now=now, from_status=before, note=text)
    publish("rectification.answered", rectification=rectification.pk)
    return rectification


@transaction.atomic
def rectification_settle(
    *,
    actor: Any,
    rectification: Rectification,
    settled: Any,
    note: str = "",
    now: dt.datetime | None = None,
) -> Rectification:
    """The rater says whether the department's answer settles the matter (yes or no, a note).

    An unsettled one goes to the supervisors with the next sweep.
    """
    now = now or _now()
    rectification = _lock(rectification)
    if rectification.rating.rater_id != getattr(actor, "pk", None):
        raise NotFound(_("This rectification does not exist."))
    fields = {}
    if not isinstance(settled, bool):
        fields["settled"] = _("Must be true or false.")
    if not isinstance(note, str):
        fields["note"] = _("Must be text.")
    elif len(note) > rules.MAX_COMMENT:
        fields["note"] = _("Must be at most %(max)s characters.") % {"max": rules.MAX_COMMENT}
    elif settled is False and not note.strip():
        fields["note"] = _("Say what is still wrong.")
    if fields:
        raise InvalidInput(_("Please correct the marked fields."), fields=fields)
    action = RectificationAction.SETTLE if settled else RectificationAction.REFUSE
    before = _move(rectification, action)
    rectification.settled_at = now
    rectification.applicant_note = note.strip()
    rectification.save(update_fields=["status", "settled_at", "applicant_note"])
    _record(
        rectification,
        actor=actor,
        action="settled" if settled else "unsettled",
        now=now,
        from_status=before,
        note=rectification.applicant_note,
    )
    publish("rectification.settled", rectification=rectification.pk, settled=settled)
    return rectification


def _lock_for_supervisor(actor: Any, rectification: Rectification) -> Rectification:
    """The rectification locked, if `selectors.may_supervise`: a conflict (409) once it is no
    longer with its supervisors; refused (403) to its rater and its department, which may read
    it; to anybody else it does not exist."""
    rectification = _lock(rectification)
    if selectors.may_supervise(actor, rectification):
        return rectification
    if selectors.escalated_to(actor, rectification):
        raise _not_in_this_status(rectification.status)
    if selectors.may_answer(actor, rectification) or rectification.rating.rater_id == getattr(
        actor, "pk", None
    ):
        raise NotAllowed(_("Only the supervisors it was escalated to may do this."))
    raise NotFound(_("This rectification does not exist."))


@transaction.atomic
def rectification_send_back(
    *, actor: Any, rectification: Rectification, instruction: Any, now: dt.datetime | None = None
) -> Rectification:
    """A supervisor returns an escalated rectification to the department with an instruction;
    its new answer is due `rules.RECTIFY_WORKING_DAYS` working days on. Rater and department
    are told."""
    now = now or _now()
    rectification = _lock_for_supervisor(actor, rectification)
    text = _required_text("instruction", instruction, _("Say what the department must still do."))
    before = _move(rectification, RectificationAction.SEND_BACK)
    rectification.instruction = text
    rectification.sent_back_at = now
    rectification.due_date = rules.rectification_due(
        work_calendar(), timezone.localdate(now), rectification.region_code or None
    )
    rectification.save(update_fields=["status", "instruction", "sent_back_at", "due_date"])
    _record(
        rectification,
        actor=actor,
        action="sent_back",
        now=now,
        from_status=before,
        note=text,
        data={"due": rectification.due_date.isoformat()},
    )
    publish("rectification.sent_back", rectification=rectification.pk)
    return rectification


@transaction.atomic
def rectification_close(
    *, actor: Any, rectification: Rectification, conclusion: Any, now: dt.datetime | None = None
) -> Rectification:
    """A supervisor closes an escalated rectification with a conclusion; rater and department
    are told."""
    now = now or _now()
    rectification = _lock_for_supervisor(actor, rectification)
    text = _required_text("conclusion", conclusion, _("Say what the supervisors concluded."))
    before = _move(rectification, RectificationAction.CLOSE)
    rectification.conclusion = text
    rectification.closed_at = now
    rectification.closed_by = actor_user(actor)
    rectification.save(update_fields=["status", "conclusion", "closed_at", "closed_by"])
    _record(rectification, actor=actor, action="closed", now=now, from_status=before, note=text)
    publish("rectification.closed", rectification=rectification.pk)
    return rectification


def _sweep_one(rectification: Rectification, *, actor: Any, now: dt.datetime) -> str | None:
    """Settle by silence or escalate one locked rectification; what was done, if anything."""
    if rules.settled_by_silence(rectification.status, rectification.answered_at, now):
        before = _move(rectification, RectificationAction.SETTLE)
        rectification.settled_at = now
        rectification.save(update_fields=["status", "settled_at"])
        _record(
            rectification, actor=actor, action="settled_by_silence", now=now, from_status=before
        )
        publish(
            "rectification.settled",
            rectification=rectification.pk,
            settled=True,
            by_silence=True,
        )
        return "settled_by_silence"
    escalated = rectification.escalated_at
    sent_back = rectification.sent_back_at
    reason = rules.escalation_due(
        rectification.status,
        rectification.due_date,
        timezone.localdate(now),
        escalated_since_sent_back=escalated is not None
        and (sent_back is None or escalated > sent_back),
        watched=escalated is not None,
    )
    if reason is None:
        return None
    before = _move(rectification, RectificationAction.ESCALATE)
    rectification.escalated_at = now
    rectification.escalation_reason = str(reason)
    rectification.save(update_fields=["status", "escalated_at", "escalation_reason"])
    _record(
        rectification,
        actor=actor,
        action="escalated",
        now=now,
        from_status=before,
        data={"reason": str(reason)},
    )
    publish("rectification.escalated", rectification=rectification.pk)
    return str(reason)


def rectification_sweep(*, actor: Any, now: dt.datetime | None = None) -> dict[str, int]:
    """Settle the answers their raters left unanswered for `rules.SETTLE_SILENCE`, and escalate,
    once each, the rectifications answered late (again late, once sent back) and those the
    rater did not accept, to the supervisors over their region."""
    now = now or _now()
    counts = {"overdue": 0, "unsettled": 0, "settled_by_silence": 0}
    status = rules.RectificationStatus
    candidates = Rectification.objects.filter(
        Q(status__in=[status.OPEN, status.UNSETTLED], escalated_at__isnull=True)
        | Q(status=status.OPEN, sent_back_at__gt=F("escalated_at"))
        | Q(status=status.ANSWERED, answered_at__lte=now - rules.SETTLE_SILENCE)
    )
    for pk in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            rectification = (
                Rectification.objects.select_for_update(of=("self",))
                .select_related("department")
                .get(pk=pk)
            )
            done = _sweep_one(rectification, actor=actor, now=now)
            if done is not None:
                counts[done] += 1
    return counts


__all__ = [
    "DepartmentStars",
    "rating_submit",
    "rectification_answer",
    "rectification_close",
    "rectification_send_back",
    "rectification_settle",
    "rectification_sweep",
]
