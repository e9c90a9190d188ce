"""Who is told what when an application moves: the domain events, turned into inbox messages.

Each subscriber runs inside the publisher's transaction (see `core.events`), loads the rows the
event names by primary key and calls `notify`, so a message exists exactly when the change that
caused it committed. Texts are written in the recipient's language. Applicants read about their
own application; staff messages name the reference number and the service only.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from onething.accounts.models import Role, RoleAssignment, User
from onething.accounts.selectors import CaseScope
from onething.applications.lifecycle import ApplicationStatus, CaseStatus
from onething.applications.models import (
    CASE_STATUS_LABELS,
    Application,
    Case,
    SupplementRequest,
)
from onething.core.events import Event, subscribe
from onething.notifications.models import Notification
from onething.notifications.services import notify, recipient_language

# Kinds of notification (a slug on each row).
SUBMITTED = "application-submitted"
SUPPLEMENT_NOTICE = "supplement-notice"
PROMISE_DUE = "promise-due"
CASE_APPROVED = "case-approved"
CASE_REJECTED = "case-rejected"
FINISHED = "application-finished"
DEADLINE_KINDS = {
    "due_soon": "case-due-soon",
    "overdue": "case-overdue",
    "escalated": "case-escalated",
}


def _application(pk: int) -> Application:
    return Application.objects.select_related("thing", "applicant").get(pk=pk)


def _detail_link(application: Application) -> str:
    return reverse("applications:detail", args=[application.reference])


def _case_link(case: Case) -> str:
    return reverse("applications:case", args=[case.pk])


def _date(value) -> str:
    return formats.date_format(value, "DATE_FORMAT")


# --- the applicant -------------------------------------------------------------------------------


@subscribe("application.submitted")
def tell_the_applicant_it_was_submitted(event: Event) -> None:
    application = _application(event.data["application"])
    # The application's own applicant, whoever submitted it (a window clerk may have).
    applicant = application.applicant
    with translation.override(recipient_language(applicant)):
        values = {"reference": application.reference, "thing": application.thing.name}
        body = (
            _(
                "We received your application for “%(thing)s”. Its reference number is "
                "%(reference)s; every department involved now works on it."
            )
            % values
        )
        if application.due_date:
            body += " " + _("The departments promise to finish by %(date)s.") % {
                "date": _date(application.due_date)
            }
        notify(
            recipient=applicant,
            kind=SUBMITTED,
            subject=_("Application %(reference)s submitted") % values,
            body=body,
            link=_detail_link(application),
            application_reference=application.reference,
        )


@subscribe("supplement.notice_sent")
def tell_the_applicant_what_to_supply(event: Event) -> None:
    application = _application(event.data["application"])
    notice = SupplementRequest.objects.get(pk=event.data["request"], application=application)
    applicant = application.applicant
    # Two departments asking for the same field or material: the applicant supplies it once.
    count = len(set(notice.items.values_list("kind", "target")))
    with translation.override(recipient_language(applicant)):
        values = {
            "reference": application.reference,
            "thing": application.thing.name,
            "count": count,
        }
        body = ngettext(
            "The departments handling your application for “%(thing)s” need %(count)d item from "
            "you. This is the one notice for this step: see what is needed and answer it on the "
            "application page.",
            "The departments handling your application for “%(thing)s” need %(count)d items from "
            "you. This is the one notice for this step: see what is needed and answer them all at "
            "once on the application page.",
            count,
        )
        notify(
            recipient=applicant,
            kind=SUPPLEMENT_NOTICE,
            subject=_("Application %(reference)s: please supply more information") % values,
            body=body % values,
            link=_detail_link(application),
            application_reference=application.reference,
        )


@subscribe("supplement.promise_due")
def remind_the_applicant_of_a_promise(event: Event) -> None:
    application = _application(event.data["application"])
    applicant = application.applicant
    with translation.override(recipient_language(applicant)):
        values = {"reference": application.reference, "thing": application.thing.name}
        if event.data.get("overdue"):
            subject = _("Application %(reference)s: promised materials are overdue") % values
            body = _(
                "You promised to supply materials for “%(thing)s” by a date that has passed. "
                "The cases that need them cannot be approved until you supply them on the "
                "application page."
            )
        else:
            subject = _("Application %(reference)s: promised materials are due tomorrow") % values
            body = _(
                "Please supply the materials you promised for “%(thing)s” on the application "
                "page by tomorrow, so that the cases that need them can be approved."
            )
        notify(
            recipient=applicant,
            kind=PROMISE_DUE,
            subject=subject,
            body=body % values,
            link=_detail_link(application),
            application_reference=application.reference,
        )


def _case(event: Event) -> Case:
    return Case.objects.select_related(
        "application__thing", "application__applicant", "service"
    ).get(pk=event.data["case"])


def _tell_the_applicant_of_a_decision(event: Event, *, kind: str, subject, body) -> None:
    """One case of the application was decided: `subject` and `body` are lazy texts, read in
    the applicant's language, with the reference, the thing and the service."""
    case = _case(event)
    application = case.application
    applicant = application.applicant
    with translation.override(recipient_language(applicant)):
        values = {
            "reference": application.reference,
            "thing": application.thing.name,
            "service": case.service.name,
        }
        notify(
            recipient=applicant,
            kind=kind,
            subject=str(subject) % values,
            body=str(body) % values,
            link=_detail_link(application),
            application_reference=application.reference,
        )


@subscribe("case.approved")
def tell_the_applicant_a_case_was_approved(event: Event) -> None:
    _tell_the_applicant_of_a_decision(
        event,
        kind=CASE_APPROVED,
        subject=gettext_lazy("Application %(reference)s: “%(service)s” approved"),
        body=gettext_lazy("“%(service)s”, part of your application for “%(thing)s”, was approved."),
    )


@subscribe("case.rejected")
def tell_the_applicant_a_case_was_rejected(event: Event) -> None:
    _tell_the_applicant_of_a_decision(
        event,
        kind=CASE_REJECTED,
        subject=gettext_lazy("Application %(reference)s: “%(service)s” not approved"),
        # The reason stays on the application page, behind sign-in, not in an e-mail.
        body=gettext_lazy(
            "“%(service)s”, part of your application for “%(thing)s”, was not approved. "
            "The department's reason is on the application page."
        ),
    )


def _finished_intro(status: str) -> str:
    if status == ApplicationStatus.COMPLETED:
        return _("Your application for “%(thing)s” is complete. The results:")
    if status == ApplicationStatus.PARTLY_COMPLETED:
        return _(
            "Your application for “%(thing)s” is finished; some of it was not approved. "
            "The results:"
        )
    if status == ApplicationStatus.REJECTED:
        return _("Your application for “%(thing)s” was not approved. The results:")
    return _("Your application for “%(thing)s” is finished. The results:")


@subscribe("application.finished")
def tell_the_applicant_every_result(event: Event) -> None:
    application = _application(event.data["application"])
    applicant = application.applicant
    already = Notification.objects.filter(
        recipient=applicant, kind=FINISHED, application_reference=application.reference
    )
    if already.exists():
        return  # once per application, with every result together
    cases = list(application.cases.select_related("service").order_by("position"))
    with translation.override(recipient_language(applicant)):
        values = {"reference": application.reference, "thing": application.thing.name}
        lines = [_finished_intro(str(event.data.get("status") or application.status)) % values]
        lines += [
            f"- {case.service.name}: {CASE_STATUS_LABELS[CaseStatus(case.status)]}"
            for case in cases
        ]
        if any(case.status == CaseStatus.APPROVED for case in cases):
            lines.append(
                _("Certificates issued to you are in your wallet: %(wallet)s")
                % {"wallet": reverse("certificates:wallet")}
            )
        notify(
            recipient=applicant,
            kind=FINISHED,
            subject=_("Application %(reference)s finished") % values,
            body="\n".join(lines),
            link=_detail_link(application),
            application_reference=application.reference,
        )


# --- staff ---------------------------------------------------------------------------------------


def _deadline_recipients(state: str, case: Case) -> Iterable[User]:
    """Due soon or overdue: the reviewers who work the case; escalated: the supervisors over it.

    Scopes as in the workbench: a supervisor without a department oversees them all, and a role
    limited to a region counts for the applications of that region and the regions inside it.
    """
    role = Role.SUPERVISOR if state == "escalated" else Role.REVIEWER
    region_code = case.application.region_code
    roles = (
        RoleAssignment.objects.filter(role=role)
        .filter(Q(department__isnull=True) | Q(department_id=case.department_id))
        .values_list("user_id", "department_id", "region__code")
    )
    user_ids = {
        user_id
        for user_id, department_id, role_region in roles
        if CaseScope(department_id, role_region, works=role == Role.REVIEWER).covers(
            case.department_id, region_code
        )
    }
    return User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk")


def _deadline_texts(state: str, case: Case) -> tuple[str, str]:
    values = {
        "reference": case.application.reference,
        "service": case.service.name,
        "date": _date(case.due_date) if case.due_date else "",
    }
    if state == "due_soon":
        subject = _("Due soon: %(reference)s, “%(service)s”")
        body = (
            _("The case %(reference)s for “%(service)s” is due on %(date)s.")
            if case.due_date
            else _("The case %(reference)s for “%(service)s” is due soon.")
        )
    elif state == "overdue":
        subject = _("Overdue: %(reference)s, “%(service)s”")
        body = (
            _("The case %(reference)s for “%(service)s” was due on %(date)s and is not decided.")
            if case.due_date
            else _("The case %(reference)s for “%(service)s” is overdue and not decided.")
        )
    else:
        subject = _("Escalated: %(reference)s, “%(service)s”")
        body = (
            _(
                "The case %(reference)s for “%(service)s” was due on %(date)s and is still not "
                "decided; it is escalated to you as supervisor."
            )
            if case.due_date
            else _(
                "The case %(reference)s for “%(service)s” is overdue and still not decided; it is "
                "escalated to you as supervisor."
            )
        )
    return subject % values, body % values


@subscribe("case.deadline")
def tell_staff_about_a_deadline(event: Event) -> None:
    state = str(event.data["state"])
    if state not in DEADLINE_KINDS:
        return  # on time: nobody needs telling
    case = Case.objects.select_related("application__region", "service").get(pk=event.data["case"])
    for user in _deadline_recipients(state, case):
        with translation.override(recipient_language(user)):
            subject, body = _deadline_texts(state, case)
            notify(
                recipient=user,
                kind=DEADLINE_KINDS[state],
                subject=subject,
                body=body,
                link=_case_link(case),
                application_reference=case.application.reference,
            )


@subscribe("consent.requested")
def ask_the_related_person(event: Event) -> None:
    from onething.sharing.models import RelatedConsentRequest

    consent_request = RelatedConsentRequest.objects.select_related("requested_by").get(
        pk=event.data["request"]
    )
    person = User.objects.filter(id_number=consent_request.subject).first()
    if person is None:
        return  # no account yet: they answer when they sign in for the first time
    with translation.override(recipient_language(person)):
        values = {
            "name": consent_request.requested_by.real_name,
            "reference": consent_request.application_reference,
        }
        notify(
            recipient=person,
            kind="consent-request",
            subject=_("%(name)s asks to use your data for application %(reference)s") % values,
            body=_(
                "%(name)s applies for a one-thing service and asks that the platform may read "
                "some of your records for it. Nothing is read unless you agree; see what is "
                "asked and answer under “Who used my data”."
            )
            % values,
            link=reverse("sharing:my-data-uses"),
        )


@subscribe("consent.decided")
def tell_the_applicant_the_answer(event: Event) -> None:
    from onething.sharing.models import RelatedConsentRequest

    consent_request = RelatedConsentRequest.objects.select_related("requested_by").get(
        pk=event.data["request"]
    )
    applicant = consent_request.requested_by
    with translation.override(recipient_language(applicant)):
        values = {"reference": consent_request.application_reference}
        approved = consent_request.status == RelatedConsentRequest.Status.APPROVED
        notify(
            recipient=applicant,
            kind="consent-decided",
            subject=(
                _("Your spouse agreed: application %(reference)s can use their data")
                if approved
                else _("Your spouse did not agree to application %(reference)s using their data")
            )
            % values,
            body=(
                _("Open the application to fill in your spouse's details from the records.")
                if approved
                else _("Please fill in your spouse's details yourself.")
            ),
            link=reverse("applications:data-use", args=[consent_request.application_reference]),
            application_reference=consent_request.application_reference,
        )
