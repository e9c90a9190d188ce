"""Applications made through the real services at a pinned clock, for the dashboard's tests."""

from __future__ import annotations

import datetime as dt
from datetime import date
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from onething.accounts.models import Role, User
from onething.applications import services
from onething.applications.lifecycle import CaseStatus
from onething.applications.models import Application, Case
from onething.catalog.models import Department, Region
from onething.core.actors import SystemActor
from onething.ratings.models import DepartmentRating, Rating, SubjectKind
from onething.supervision import rollups
from tests.applications.conftest import fill_and_attach
from tests.factories import PersonFactory, make_ric, reviewer
from tests.factories import staff_with as staff_with  # re-exported: test modules import it here

BEIJING = ZoneInfo("Asia/Shanghai")
# Two cases: the birth certificate (health), then the hukou (public security) after it.
SMALL_NEWBORN = {
    "mother_insured": "no",
    "vaccination_certificate_issued": "yes",
    "apply_social_security_card": "no",
}
OUTPUTS = {
    "birth_medical_certificate": lambda: {"child.birth_certificate_number": "Q350203456"},
    "birth_hukou_registration": lambda: {"child.id_number": make_ric(birth=date(2025, 9, 1))},
}


def at(day: date, hour: int = 10):
    """Travel to `hour` o'clock on `day`, Beijing time (the clock stands still)."""
    return time_machine.travel(
        dt.datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING), tick=False
    )


def reviewer_of(department: str):
    """A reviewer of the department: one already in the database, else a new one. (Looked up,
    not remembered: a remembered user may be gone with a rolled-back test, and another user
    may since have taken its primary key.)"""
    found = (
        User.objects.filter(
            roles__role=Role.REVIEWER,
            roles__department__code=department,
            roles__region__isnull=True,  # the whole department's, not one region's
        )
        .order_by("pk")
        .first()
    )
    return found or reviewer(department)


def submit(
    day: date,
    *,
    region: str = "350203",
    channel: str = "web",
    answers=None,
    applicant=None,
) -> Application:
    """An application of the newborn thing, submitted on `day` through the services."""
    applicant = applicant or PersonFactory(id_number=make_ric(birth=date(1992, 5, 17)))
    with at(day):
        application = services.application_start(
            actor=applicant, thing_code="newborn", answers=answers or SMALL_NEWBORN
        )
        fill_and_attach(application, applicant)
        application = services.application_submit(
            actor=applicant, application=application, consent=True
        )
    # Where it is handled and how it came in are facts of intake, set here for the data set.
    Application.objects.filter(pk=application.pk).update(
        region=Region.objects.get(code=region), channel=channel
    )
    application.refresh_from_db()
    return application


def open_case(application: Application, service: str) -> Case:
    return application.cases.get(service__code=service)


def accept(application: Application, service: str, day: date) -> Case:
    case = open_case(application, service)
    with at(day):
        return services.case_accept(actor=reviewer_of(case.department.code), case=case)


def approve(application: Application, service: str, day: date, *, rule: str = "") -> Case:
    """A reviewer approves the case (accepting it first if needed); with `rule`, the automatic
    handler does, as the worker would (秒批)."""
    case = open_case(application, service)
    staff = SystemActor(f"rule:{rule}") if rule else reviewer_of(case.department.code)
    outputs = OUTPUTS.get(service, dict)()
    with at(day):
        if case.status == CaseStatus.READY:
            case = services.case_accept(actor=staff, case=case)
        return services.case_approve(actor=staff, case=case, outputs=outputs, rule=rule)


def reject(application: Application, service: str, day: date) -> Case:
    case = open_case(application, service)
    staff = reviewer_of(case.department.code)
    with at(day):
        if case.status == CaseStatus.READY:
            case = services.case_accept(actor=staff, case=case)
        return services.case_reject(actor=staff, case=case, reason="资料不符")


def ask_supplement(application: Application, service: str, day: date) -> Case:
    """The reviewer asks for a corrected field; the notice goes out at once."""
    case = open_case(application, service)
    staff = reviewer_of(case.department.code)
    with at(day):
        if case.status == CaseStatus.READY:
            case = services.case_accept(actor=staff, case=case)
        services.case_ask_supplement(
            actor=staff,
            case=case,
            items=[{"kind": "field", "target": "applicant.phone", "reason": "号码无法接通"}],
        )
        for request in application.supplement_requests.filter(status="collecting"):
            services.supplement_request_release(actor=staff, request=request)
    return open_case(application, service)


def answer_supplement(application: Application, day: date) -> None:
    """The applicant answers the notice that is waiting, correcting the phone number."""
    notice = application.supplement_requests.get(status="sent")
    with at(day):
        services.supplement_answer(
            actor=application.applicant, request=notice, values={"applicant.phone": "13912345679"}
        )


def withdraw(application: Application, day: date) -> Application:
    with at(day):
        return services.application_withdraw(
            actor=application.applicant, application=application, reason="不办了"
        )


def rate(application: Application, day: date, stars: int, departments=None) -> Rating:
    """A rating as the applicant gives it (the ratings service is another issue's: the row is
    written as that service would write it)."""
    moment = dt.datetime(day.year, day.month, day.day, 12, tzinfo=BEIJING)
    with at(day, 12):
        return _rate(application, moment, stars, departments)


def _rate(application: Application, moment, stars: int, departments) -> Rating:
    rating, _created = Rating.objects.update_or_create(
        application=application,
        rater=application.applicant,
        defaults={
            "subject_kind": SubjectKind.APPLICATION,
            "stars": stars,
            "region_code": application.region_code or "",
            "created_at": moment,
            "updated_at": timezone.now(),
            "editable_until": moment + dt.timedelta(days=7),
        },
    )
    for code, given in (departments or {}).items():
        DepartmentRating.objects.update_or_create(
            rating=rating, department=Department.objects.get(code=code), defaults={"stars": given}
        )
    return rating


BIRTH, HUKOU, INSURANCE = (
    "birth_medical_certificate",
    "birth_hukou_registration",
    "newborn_medical_insurance",
)


@pytest.fixture
def data_set(loaded_catalog):
    """The constructed data set of tests/supervision/test_dashboard.py (described there)."""
    a1 = submit(date(2025, 9, 30))
    approve(a1, BIRTH, date(2025, 9, 30))
    approve(a1, HUKOU, date(2025, 10, 9))
    approve(a1, INSURANCE, date(2025, 10, 9), rule="newborn_insurance_auto")

    a2 = submit(date(2025, 9, 26), channel="window")
    ask_supplement(a2, BIRTH, date(2025, 9, 26))
    answer_supplement(a2, date(2025, 9, 28))
    approve(a2, BIRTH, date(2025, 9, 29))
    approve(a2, HUKOU, date(2025, 10, 11))
    approve(a2, INSURANCE, date(2025, 10, 11))

    a3 = submit(date(2026, 2, 13), region="350102")
    approve(a3, BIRTH, date(2026, 2, 13))
    approve(a3, HUKOU, date(2026, 2, 24))
    approve(a3, INSURANCE, date(2026, 2, 24))

    a4 = submit(date(2025, 10, 9))
    reject(a4, BIRTH, date(2025, 10, 10))

    a5 = submit(date(2025, 10, 9))
    withdraw(a5, date(2025, 10, 10))

    a6 = submit(date(2025, 10, 20))
    accept(a6, BIRTH, date(2025, 10, 20))

    rate(a1, date(2025, 10, 12), 5, departments={"fj_health": 4})
    rate(a2, date(2025, 10, 15), 2)
    for application in (a1, a2, a3, a4, a5, a6):
        application.refresh_from_db()
    rollups.refresh()
    return {"a1": a1, "a2": a2, "a3": a3, "a4": a4, "a5": a5, "a6": a6}
