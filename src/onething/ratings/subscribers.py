"""Who hears what about a rectification: the department or unit asked to rectify, the rater when
it answers, the supervisors when it escalates and of every change after, rater and department
when a supervisor sends it back or closes it.

Subscribers run in the transaction of the change; notify() queues the e-mail through the outbox,
so nothing leaves before the change commits. Texts carry neither the rater's comment nor any
personal detail.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from onething.core.events import Event, subscribe
from onething.notifications.services import notify, recipient_language
from onething.ratings import selectors
from onething.ratings.models import Rectification
from onething.ratings.presentation import escalation_because, subject_reference, who_rectifies


def _rectification(event: Event) -> Rectification:
    return Rectification.objects.select_related(
        "department", "rating__application", "rating__ticket"
    ).get(pk=event.data["rectification"])


def staff_link(rectification: Rectification) -> str:
    return f"/workbench/rectifications/{rectification.public_id}/"


def rater_link(rectification: Rectification) -> str:
    return f"/my/rectifications/{rectification.public_id}/"


def _tell(users, kind: str, subject: str, body: str, link: str, values: dict, reference="") -> None:
    for user in users:
        language = recipient_language(user)
        with translation.override(language):
            texts = {k: (v(language) if callable(v) else v) for k, v in values.items()}
            notify(
                recipient=user,
                kind=kind,
                subject=_(subject) % texts,
                body=_(body) % texts,
                link=link,
                application_reference=reference,
            )


@subscribe("rectification.opened")
def tell_the_department(event: Event) -> None:
    rectification = _rectification(event)
    _tell(
        selectors.answerers_of(rectification),
        "rectification-opened",
        gettext_noop("Bad rating: rectify by %(due)s (%(reference)s)"),
        gettext_noop(
            "%(reference)s was rated %(stars)d of 5 stars. Find out what went wrong, fix it, and "
            "say what %(who)s changed by %(due)s (整改)."
        ),
        staff_link(rectification),
        {
            "reference": subject_reference(rectification),
            "stars": rectification.rating.stars,
            "due": rectification.due_date.isoformat(),
            "who": lambda language: who_rectifies(rectification, language),
        },
    )


@subscribe("rectification.answered")
def tell_the_rater(event: Event) -> None:
    rectification = _rectification(event)
    rating = rectification.rating
    _tell(
        [rating.rater],
        "rectification-answered",
        gettext_noop("Answer to your rating of %(reference)s"),
        gettext_noop(
            "%(who)s answered your rating of %(reference)s with what it changed. Please say "
            "whether this settles the matter."
        ),
        rater_link(rectification),
        {
            "reference": subject_reference(rectification),
            "who": lambda language: who_rectifies(rectification, language),
        },
        reference=_application_reference(rectification),
    )


@subscribe("rectification.escalated")
def tell_the_supervisors(event: Event) -> None:
    rectification = _rectification(event)
    _tell(
        selectors.supervisors_of(rectification),
        "rectification-escalated",
        gettext_noop("Rectification escalated: %(reference)s"),
        gettext_noop(
            "The rectification %(who)s owes for a bad rating of %(reference)s is escalated to "
            "you (督办) because %(reason)s."
        ),
        staff_link(rectification),
        {**_texts(rectification), "reason": lambda language: escalation_because(rectification)},
    )


def _application_reference(rectification: Rectification) -> str:
    """The reference a notification files under: the application's ("" for a ticket's)."""
    rating = rectification.rating
    return rating.application.reference if rating.application_id else ""


def _concerned(rectification: Rectification) -> list:
    return [*selectors.answerers_of(rectification), rectification.rating.rater]


def _texts(rectification: Rectification) -> dict:
    return {
        "reference": subject_reference(rectification),
        "who": lambda language: who_rectifies(rectification, language),
        "due": rectification.due_date.isoformat(),
    }


def _staff_or_rater_link(rectification: Rectification):
    return lambda user: (
        rater_link(rectification)
        if user.pk == rectification.rating.rater_id
        else staff_link(rectification)
    )


@subscribe("rectification.answered")
@subscribe("rectification.settled")
def tell_the_supervisors_what_changed(event: Event) -> None:
    """Once escalated, the supervisors hear of every change (the sweep escalates only once)."""
    rectification = _rectification(event)
    if rectification.escalated_at is None:
        return
    changes = {
        "answered": gettext_noop("the department answered with what it changed"),
        "settled": gettext_noop("the rater says the answer settles it"),
        "unsettled": gettext_noop("the rater says the answer does not settle it"),
        "settled_by_silence": gettext_noop(
            "the rater did not reply to the answer within the week, so it counts as settled"
        ),
    }
    if event.name == "rectification.answered":
        change = "answered"
    elif event.data.get("by_silence"):
        change = "settled_by_silence"
    else:
        change = "settled" if event.data.get("settled") else "unsettled"
    _tell(
        selectors.supervisors_of(rectification),
        "rectification-changed",
        gettext_noop("Escalated rectification changed: %(reference)s"),
        gettext_noop(
            "The rectification %(who)s owes for a bad rating of %(reference)s, escalated to you "
            "(督办), has changed: %(change)s."
        ),
        staff_link(rectification),
        {**_texts(rectification), "change": lambda language: _(changes[change])},
    )


@subscribe("rectification.settled")
def tell_the_rater_it_counts_as_settled(event: Event) -> None:
    if not event.data.get("by_silence"):
        return  # the rater said so themselves
    rectification = _rectification(event)
    rating = rectification.rating
    _tell(
        [rating.rater],
        "rectification-settled-by-silence",
        gettext_noop("Rectification settled: %(reference)s"),
        gettext_noop(
            "You did not say within a week whether the answer of %(who)s to your rating of "
            "%(reference)s settles the matter, so it counts as settled."
        ),
        rater_link(rectification),
        _texts(rectification),
        reference=_application_reference(rectification),
    )


def _tell_concerned(rectification: Rectification, kind: str, subject: str, body: str) -> None:
    """Tell the department's (or unit's) answerers and the rater, each with their own link."""
    link = _staff_or_rater_link(rectification)
    for user in _concerned(rectification):
        _tell(
            [user],
            kind,
            subject,
            body,
            link(user),
            _texts(rectification),
            reference=_application_reference(rectification),
        )


@subscribe("rectification.sent_back")
def tell_rater_and_department_it_is_sent_back(event: Event) -> None:
    _tell_concerned(
        _rectification(event),
        "rectification-sent-back",
        gettext_noop("Rectification sent back: %(reference)s"),
        gettext_noop(
            "The supervisors sent the rectification of %(who)s for the rating of "
            "%(reference)s back with an instruction (督办); a new answer is due by %(due)s."
        ),
    )


@subscribe("rectification.closed")
def tell_rater_and_department_it_is_closed(event: Event) -> None:
    _tell_concerned(
        _rectification(event),
        "rectification-closed",
        gettext_noop("Rectification closed: %(reference)s"),
        gettext_noop(
            "The supervisors closed the rectification of %(who)s for the rating of "
            "%(reference)s with a conclusion; it is on the rectification's page."
        ),
    )
