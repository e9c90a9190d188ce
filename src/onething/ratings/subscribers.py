"""Who hears what about a rectification: the department or unit asked to rectify, the rater when
it answers, the supervisors when it escalates.

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
from onething.ratings.presentation import subject_reference, who_rectifies


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
        reference=rating.application.reference if rating.application_id else "",
    )


@subscribe("rectification.escalated")
def tell_the_supervisors(event: Event) -> None:
    rectification = _rectification(event)
    reasons = {
        "overdue": gettext_noop("it was not answered by %(due)s"),
        "unsettled": gettext_noop("the rater says the answer does not settle it"),
    }
    _tell(
        selectors.supervisors_of(rectification),
        "rectification-escalated",
        gettext_noop("Rectification escalated: %(reference)s"),
        gettext_noop(
            "The rectification %(who)s owes for a bad rating of %(reference)s is escalated to "
            "you (督办) because %(reason)s."
        ),
        staff_link(rectification),
        {
            "reference": subject_reference(rectification),
            "who": lambda language: who_rectifies(rectification, language),
            "reason": lambda language: (
                _(reasons[rectification.escalation_reason or "overdue"])
                % {"due": rectification.due_date.isoformat()}
            ),
        },
    )
