"""Each domain event puts the right message in the right inboxes, and in nobody else's."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import formats, translation

from onething.applications import services
from onething.applications.lifecycle import ApplicationStatus, CaseStatus
from onething.catalog.models import ServiceField, ServiceMaterial
from onething.core.events import publish
from onething.notifications.models import Notification
from tests.notifications.conftest import forget_what_setting_up_sent

pytestmark = pytest.mark.django_db


def case(application, code):
    return application.cases.select_related("service").get(service__code=code)


def inbox_of_everyone() -> dict[int, list[str]]:
    rows: dict[int, list[str]] = {}
    for recipient, kind in Notification.objects.order_by("id").values_list("recipient", "kind"):
        rows.setdefault(recipient, []).append(kind)
    return rows


def only(notification_kind: str) -> Notification:
    rows = list(Notification.objects.all())
    assert len(rows) == 1, rows
    assert rows[0].kind == notification_kind
    return rows[0]


def assert_no_personal_data(notification: Notification, applicant) -> None:
    for text in (notification.subject, notification.body):
        assert applicant.id_number not in text
        assert applicant.phone not in text


def test_a_submitted_application_tells_its_applicant_its_reference_and_promised_date(
    newborn, people
):
    assert newborn.due_date is not None
    with transaction.atomic():
        publish("application.submitted", application=newborn.pk, applicant=newborn.applicant_id)

    notification = only("application-submitted")
    assert notification.recipient == people["applicant"]
    assert newborn.reference in notification.subject
    assert newborn.reference in notification.body
    with translation.override("zh-hans"):
        assert formats.date_format(newborn.due_date, "DATE_FORMAT") in notification.body
        assert newborn.thing.name_zh in notification.body
    assert notification.link == f"/applications/{newborn.reference}/"
    assert notification.application_reference == newborn.reference
    assert notification.read_at is None
    assert_no_personal_data(notification, people["applicant"])


def test_the_supplement_notice_says_how_many_items_in_one_message(newborn, people):
    health = people["health_reviewer"]
    birth = services.case_accept(actor=health, case=case(newborn, "birth_medical_certificate"))
    field = ServiceField.objects.filter(service=birth.service).select_related("element").first()
    material = ServiceMaterial.objects.filter(service=birth.service).select_related("material")
    items = [{"kind": "field", "target": field.element.key, "reason": "与分娩记录不符"}]
    items += [
        {"kind": "material", "target": m.material.code, "reason": "看不清"} for m in material[:1]
    ]
    notice = services.case_ask_supplement(actor=health, case=birth, items=items)
    forget_what_setting_up_sent()

    with transaction.atomic():
        publish(
            "supplement.notice_sent",
            application=newborn.pk,
            request=notice.pk,
            applicant=newborn.applicant_id,
        )

    notification = only("supplement-notice")
    assert notification.recipient == people["applicant"]
    assert f" {len(items)} " in notification.body
    assert notification.link == f"/applications/{newborn.reference}/"
    # The reviewer's reasons stay on the page, behind sign-in.
    assert "与分娩记录不符" not in notification.body
    assert_no_personal_data(notification, people["applicant"])


def test_an_approved_case_tells_the_applicant_which_service(newborn, people):
    birth = case(newborn, "birth_medical_certificate")
    # Decided by a reviewer reading English: the applicant is still written to in theirs.
    with translation.override("en"), transaction.atomic():
        publish("case.approved", application=newborn.pk, case=birth.pk)

    notification = only("case-approved")
    assert notification.recipient == people["applicant"]
    assert notification.subject == f"办件 {newborn.reference}：“{birth.service.name_zh}”已批准"


def test_a_rejected_case_tells_the_applicant_but_keeps_the_reason_off_the_message(newborn, people):
    health = people["health_reviewer"]
    birth = services.case_accept(actor=health, case=case(newborn, "birth_medical_certificate"))
    services.case_reject(actor=health, case=birth, reason="出生医学证明信息与分娩记录不符")
    forget_what_setting_up_sent()

    with transaction.atomic():
        publish("case.rejected", application=newborn.pk, case=birth.pk)

    notification = only("case-rejected")
    assert notification.recipient == people["applicant"]
    with translation.override("zh-hans"):
        assert birth.service.name_zh in notification.body
    assert "分娩记录" not in notification.body


def finish_partly(application, people):
    """Reject the birth certificate (its dependents are cancelled) and approve the vaccination."""
    health, cdc = people["health_reviewer"], people["cdc_reviewer"]
    birth = services.case_accept(actor=health, case=case(application, "birth_medical_certificate"))
    services.case_reject(actor=health, case=birth, reason="信息不符")
    vaccination = services.case_accept(actor=cdc, case=case(application, "vaccination_certificate"))
    services.case_approve(actor=cdc, case=vaccination)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PARTLY_COMPLETED
    forget_what_setting_up_sent()


def test_a_finished_application_sends_every_result_together_once(newborn, people):
    finish_partly(newborn, people)

    for _ in range(2):
        with transaction.atomic():
            publish(
                "application.finished",
                application=newborn.pk,
                applicant=newborn.applicant_id,
                status=newborn.status,
            )

    notification = only("application-finished")
    assert notification.recipient == people["applicant"]
    assert newborn.reference in notification.subject
    lines = notification.body.splitlines()
    with translation.override("zh-hans"):
        for each in newborn.cases.select_related("service"):
            assert any(each.service.name_zh in line for line in lines), each.service.code
    statuses = set(newborn.cases.values_list("status", flat=True))
    assert statuses == {CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.CANCELLED}
    assert "/wallet/" in notification.body
    assert_no_personal_data(notification, people["applicant"])


@pytest.mark.parametrize(
    ("state", "kind", "told"),
    [
        ("due_soon", "case-due-soon", {"health_reviewer", "second_health_reviewer"}),
        ("overdue", "case-overdue", {"health_reviewer", "second_health_reviewer"}),
        ("escalated", "case-escalated", {"supervisor"}),
    ],
)
def test_a_deadline_tells_the_departments_reviewers_or_its_supervisors(
    newborn, people, state, kind, told
):
    birth = case(newborn, "birth_medical_certificate")
    with transaction.atomic():
        publish("case.deadline", case=birth.pk, department=birth.department_id, state=state)

    expected = {people[name].pk: [kind] for name in told}
    assert inbox_of_everyone() == expected
    applicant = people["applicant"]
    for notification in Notification.objects.all():
        assert notification.link == f"/workbench/cases/{birth.pk}/"
        assert newborn.reference in notification.subject
        assert str(applicant) not in notification.subject + notification.body
        assert_no_personal_data(notification, applicant)


@pytest.mark.parametrize("state", ["overdue", "escalated"])
def test_a_deadline_tells_only_the_staff_whose_region_holds_the_application(newborn, state):
    from onething.accounts.models import Role, RoleAssignment
    from onething.applications.models import Application
    from onething.catalog.models import Region
    from tests.factories import StaffFactory

    Application.objects.filter(pk=newborn.pk).update(region=Region.objects.get(code="350203"))
    birth = case(newborn, "birth_medical_certificate")
    role = Role.SUPERVISOR if state == "escalated" else Role.REVIEWER
    staff = {}
    for region in ("350200", "350203", "350206", "350100"):
        staff[region] = StaffFactory()
        RoleAssignment.objects.create(
            user=staff[region],
            role=role,
            department=birth.department,
            region=Region.objects.get(code=region),
        )
    with transaction.atomic():
        publish("case.deadline", case=birth.pk, department=birth.department_id, state=state)

    # Xiamen and 思明区 hold the 思明区 family's application; 湖里区 and Fuzhou do not.
    told = set(Notification.objects.values_list("recipient", flat=True))
    assert told == {staff["350200"].pk, staff["350203"].pk}


def test_a_case_on_time_tells_nobody(newborn, people):
    birth = case(newborn, "birth_medical_certificate")
    with transaction.atomic():
        publish("case.deadline", case=birth.pk, department=birth.department_id, state="on_time")
    assert not Notification.objects.exists()
