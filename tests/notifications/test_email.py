"""The e-mail copy: queued with the change, sent only by the outbox worker, retried, then failed
without touching anything else; a rolled-back change leaves nothing behind."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone

from onething.applications import services
from onething.applications.lifecycle import ApplicationStatus
from onething.catalog.selectors import work_calendar
from onething.core.events import publish
from onething.notifications.models import Notification
from onething.notifications.services import EMAIL_TOPIC, notify
from onething.outbox.models import OutboxMessage
from tests.factories import PersonFactory
from tests.notifications.conftest import run_email_worker

pytestmark = pytest.mark.django_db

EmailStatus = Notification.EmailStatus


def submitted(application) -> None:
    with transaction.atomic():
        publish(
            "application.submitted",
            application=application.pk,
            applicant=application.applicant_id,
        )


def test_the_email_goes_out_only_when_the_worker_runs(newborn, applicant, email_topics):
    submitted(newborn)
    notification = Notification.objects.get()
    assert notification.email_status == EmailStatus.QUEUED
    message = OutboxMessage.objects.get(topic=EMAIL_TOPIC)
    assert message.key == f"notification.email:{notification.pk}"
    assert mail.outbox == []

    assert run_email_worker(email_topics) == 1

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [applicant.email]
    assert sent.subject == notification.subject
    assert notification.body in sent.body
    assert f"/applications/{newborn.reference}/" in sent.body
    notification.refresh_from_db()
    assert notification.email_status == EmailStatus.SENT
    assert notification.email_attempts == 1
    assert notification.emailed_at is not None
    # Delivered once: running again sends nothing more.
    run_email_worker(email_topics, now=timezone.now() + timedelta(days=1))
    assert len(mail.outbox) == 1


def test_a_user_without_an_email_address_gets_the_inbox_message_only(db, email_topics):
    person = PersonFactory(email="")
    with transaction.atomic():
        notification = notify(recipient=person, kind="test", subject="Hello", body="Text")
    assert notification.email_status == EmailStatus.NOT_SENT
    assert not OutboxMessage.objects.filter(topic=EMAIL_TOPIC).exists()
    run_email_worker(email_topics)
    assert mail.outbox == []


def test_a_failing_mail_server_is_retried_then_marked_failed_and_nothing_else_changes(
    newborn, email_topics, settings
):
    settings.EMAIL_BACKEND = "tests.notifications.backends.FailingBackend"
    submitted(newborn)
    notification = Notification.objects.get()
    before = (notification.subject, notification.body, notification.read_at)
    attempts = email_topics[EMAIL_TOPIC].max_attempts

    later = timezone.now()
    for attempt in range(1, attempts + 1):
        later += timedelta(days=1)  # past any backoff
        assert run_email_worker(email_topics, now=later) == 1
        notification.refresh_from_db()
        assert notification.email_attempts == attempt
        expected = EmailStatus.FAILED if attempt == attempts else EmailStatus.QUEUED
        assert notification.email_status == expected

    message = OutboxMessage.objects.get(topic=EMAIL_TOPIC)
    assert message.status == OutboxMessage.Status.DEAD
    assert "MailServerDown" in message.last_error
    assert (notification.subject, notification.body, notification.read_at) == before
    newborn.refresh_from_db()
    assert newborn.status == ApplicationStatus.SUBMITTED
    assert mail.outbox == []


def test_a_refused_recipient_is_logged_and_kept_with_the_address_masked(
    newborn, applicant, email_topics, settings, caplog
):
    settings.EMAIL_BACKEND = "tests.notifications.backends.RefusingBackend"
    submitted(newborn)
    later = timezone.now()
    with caplog.at_level("WARNING"):
        for _attempt in range(email_topics[EMAIL_TOPIC].max_attempts):
            later += timedelta(days=1)  # past any backoff
            run_email_worker(email_topics, now=later)
    assert Notification.objects.get().email_status == EmailStatus.FAILED
    failed = [r.getMessage() for r in caplog.records if "e-mail copy" in r.getMessage()]
    assert len(failed) == 1
    assert "SMTPRecipientsRefused" in failed[0] and "l***@example.cn" in failed[0]
    assert applicant.email not in caplog.text
    message = OutboxMessage.objects.get(topic=EMAIL_TOPIC)
    assert "SMTPRecipientsRefused" in message.last_error
    assert applicant.email not in message.last_error


def test_a_rolled_back_change_leaves_neither_inbox_message_nor_email(newborn, email_topics):
    class Undone(Exception):
        pass

    with pytest.raises(Undone), transaction.atomic():
        submitted(newborn)
        assert Notification.objects.count() == 1
        raise Undone

    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.filter(topic=EMAIL_TOPIC).exists()
    assert run_email_worker(email_topics) == 0
    assert mail.outbox == []


def test_notify_refuses_a_link_to_another_site(db):
    person = PersonFactory()
    for link in ("https://evil.example/", "//evil.example/x", "relative/path"):
        with pytest.raises(ValueError, match="path on this site"):
            notify(recipient=person, kind="test", subject="s", body="b", link=link)
    assert not Notification.objects.exists()


RESIDENT_ID = re.compile(r"\d{17}[\dXx]")


def test_the_deadline_sweep_emails_the_reviewers_then_the_supervisor_without_personal_data(
    newborn, people, email_topics
):
    birth = newborn.cases.select_related("service").get(service__code="birth_medical_certificate")
    supervisor = people["supervisor"]
    supervisor.email = "supervisor@example.cn"
    supervisor.save(update_fields=["email"])
    calendar = work_calendar()

    # The day after the due date the case is overdue: its department's reviewers are written to.
    services.deadline_sweep(actor="test", today=calendar.add_working_days(birth.due_date, 1))
    assert mail.outbox == [], "sent by the outbox worker after commit, not by the sweep"
    run_email_worker(email_topics)
    assert [m.to for m in mail.outbox] == [["health@example.cn"]]
    overdue = mail.outbox[0]
    assert overdue.subject == f"已超期：{newborn.reference}，“{birth.service.name_zh}”"
    assert f"/workbench/cases/{birth.pk}/" in overdue.body

    # Past the escalation limit the supervisor (over every department) is written to, once
    # for each of the two stage-1 cases, the hospital's and the CDC's; a second sweep adds none.
    mail.outbox.clear()
    escalation_day = calendar.add_working_days(birth.due_date, settings.DEADLINE_ESCALATE_DAYS)
    services.deadline_sweep(actor="test", today=escalation_day)
    services.deadline_sweep(actor="test", today=escalation_day)
    run_email_worker(email_topics)
    assert [m.to for m in mail.outbox] == [["supervisor@example.cn"]] * 2
    escalated = list(mail.outbox)
    stage_one = newborn.cases.filter(stage=1).select_related("service")
    assert sorted(m.subject for m in escalated) == sorted(
        f"升级督办：{newborn.reference}，“{case.service.name_zh}”" for case in stage_one
    )

    applicant = people["applicant"]
    for sent in [overdue, *escalated]:
        text = sent.subject + sent.body
        assert applicant.id_number not in text
        assert newborn.form_data["mother.id_number"] not in text
        assert RESIDENT_ID.search(text) is None, text
        assert applicant.phone not in text
