from __future__ import annotations

import pytest
from django.core import mail

from onething.accounts.models import Role, RoleAssignment
from onething.applications import services
from onething.catalog.models import Department
from onething.core.registry import Registry
from onething.notifications.models import Notification
from onething.notifications.services import EMAIL_TOPIC
from onething.outbox.models import OutboxMessage
from onething.outbox.registry import Topic, topics
from onething.outbox.worker import outbox_run_once
from tests.applications.conftest import fill_and_attach
from tests.factories import PersonFactory, StaffFactory, reviewer


def forget_what_setting_up_sent() -> None:
    """Making the application through the services publishes events of its own; the tests
    publish theirs directly and look only at what those made."""
    Notification.objects.all().delete()
    OutboxMessage.objects.filter(topic=EMAIL_TOPIC).delete()
    mail.outbox.clear()


@pytest.fixture
def applicant(db):
    return PersonFactory(email="lin@example.cn")


@pytest.fixture
def newborn(loaded_catalog, applicant):
    """A submitted newborn application: stage 1 is with the health bureau and the CDC."""
    application = services.application_start(
        actor=applicant, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    fill_and_attach(application, applicant)
    application = services.application_submit(
        actor=applicant, application=application, consent=True
    )
    forget_what_setting_up_sent()
    return application


@pytest.fixture
def people(loaded_catalog, applicant):
    """Everyone who could wrongly get a message about the newborn application."""
    other_department = Department.objects.get(code="fj_cdc")
    supervisor, cdc_supervisor = StaffFactory(), StaffFactory()
    RoleAssignment.objects.create(user=supervisor, role=Role.SUPERVISOR)
    RoleAssignment.objects.create(
        user=cdc_supervisor, role=Role.SUPERVISOR, department=other_department
    )
    clerk = StaffFactory()
    RoleAssignment.objects.create(user=clerk, role=Role.WINDOW_CLERK)
    return {
        "applicant": applicant,
        "other_applicant": PersonFactory(email="other@example.cn"),
        "health_reviewer": reviewer("fj_health", email="health@example.cn"),
        "second_health_reviewer": reviewer("fj_health"),
        "cdc_reviewer": reviewer("fj_cdc"),
        "supervisor": supervisor,
        "cdc_supervisor": cdc_supervisor,
        "clerk": clerk,
    }


@pytest.fixture
def email_topics() -> Registry[Topic]:
    """A registry with only the e-mail topic, so the worker sends mail and nothing else."""
    from onething.notifications import tasks  # noqa: F401 - registers the topic

    registry: Registry[Topic] = Registry("outbox topic")
    registry.register(EMAIL_TOPIC)(topics[EMAIL_TOPIC])
    return registry


def run_email_worker(registry: Registry[Topic], **kwargs) -> int:
    return outbox_run_once(worker_id="test", registry=registry, batch=50, **kwargs)
