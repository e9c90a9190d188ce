"""The restaurant journey end to end over real HTTP: an automatic member (秒批) and a connector
member sent to the department simulator, with failures injected, decided by a signed callback."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from onething.applications import services
from onething.applications.lifecycle import ApplicationStatus, CaseStatus
from onething.applications.models import DepartmentEndpoint
from onething.catalog.models import Department
from onething.outbox.models import OutboxMessage
from onething.outbox.registry import autodiscover
from onething.outbox.worker import outbox_run_once
from onething.simulator import DepartmentSimulator, SimulatorConfig
from tests.applications.conftest import fill_and_attach
from tests.factories import PersonFactory, enterprise_with_agent, reviewer

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "test-shared-secret"
ANSWERS = {"floor_area": "30", "has_signboard": "no", "sells_tobacco": "yes"}


@pytest.fixture
def simulator(live_server, settings, loaded_catalog):
    settings.ONETHING_PUBLIC_URL = live_server.url
    sim = DepartmentSimulator(SimulatorConfig(secret=SECRET, delay_seconds=0.05, seed=7))
    base_url = sim.start(host="127.0.0.1", port=0)
    DepartmentEndpoint.objects.create(
        department=Department.objects.get(code="fj_tobacco"),
        base_url=base_url,
        secret=SECRET,
        timeout_seconds=5,
    )
    yield sim
    sim.stop()


def work(until=None, *, later: timedelta = timedelta(0)) -> int:
    """Run the outbox as a worker would, optionally pretending time has passed."""
    autodiscover()
    return outbox_run_once(worker_id="test", now=timezone.now() + later, batch=50)


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def restaurant(applicant):
    enterprise = enterprise_with_agent(applicant)
    application = services.application_start(
        actor=applicant,
        thing_code="open_restaurant",
        answers=ANSWERS,
        enterprise_uscc=enterprise.uscc,
    )
    fill_and_attach(application, applicant, overrides={"enterprise.uscc": enterprise.uscc})
    return services.application_submit(actor=applicant, application=application, consent=True)


def test_the_restaurant_journey_through_a_rule_and_a_department_system(simulator):
    simulator.configure(fail_first_n=2)  # the bureau's system is down for the first two tries
    applicant = PersonFactory()
    application = restaurant(applicant)

    work()  # the automatic check decides at once and releases the two licences
    check = application.cases.get(service__code="business_licence_check")
    assert check.status == CaseStatus.APPROVED
    assert check.decided_by_rule == "registered_enterprise"
    tobacco = application.cases.get(service__code="tobacco_retail_licence")
    assert tobacco.status == CaseStatus.READY

    work()  # first try: 503
    message = OutboxMessage.objects.get(key=f"dispatch:{tobacco.public_id}")
    assert message.status == "pending" and message.attempts == 1
    assert "503" in message.last_error
    work(later=timedelta(minutes=10))  # second try: 503 again
    work(later=timedelta(minutes=20))  # third try: accepted
    message.refresh_from_db()
    assert message.status == "done" and message.attempts == 3
    tobacco.refresh_from_db()
    assert tobacco.status == CaseStatus.ACCEPTED
    assert not tobacco.needs_attention
    assert tobacco.external_id.startswith("fj_tobacco-")

    # The bureau decides and calls back, signed, to the platform's live server.
    wait_for(lambda: application.cases.get(pk=tobacco.pk).status == CaseStatus.APPROVED)
    tobacco.refresh_from_db()
    assert tobacco.outputs["enterprise.tobacco_licence_number"]
    stats = simulator.stats()
    assert stats["applied"] == 1 and stats["failures_injected"] == 2

    market = reviewer("fj_market_regulation")
    food = application.cases.get(service__code="food_business_licence")
    services.case_accept(actor=market, case=food)
    services.case_approve(
        actor=market, case=food, outputs={"enterprise.food_licence_number": "JY13502060001"}
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.COMPLETED


def test_a_repeated_callback_changes_nothing(simulator, client):
    applicant = PersonFactory()
    application = restaurant(applicant)
    work()
    work()
    tobacco = application.cases.get(service__code="tobacco_retail_licence")
    wait_for(lambda: application.cases.get(pk=tobacco.pk).status == CaseStatus.APPROVED)
    events_before = tobacco.events.count()
    import json

    from onething.simulator.signing import sign

    body = json.dumps(
        {"case": str(tobacco.public_id), "status": "rejected", "reason": "late duplicate"}
    ).encode()
    forged = client.post(
        "/api/v1/connector/callbacks/fj_tobacco",
        body,
        content_type="application/json",
        HTTP_X_ONETHING_SIGNATURE="sha256=" + "0" * 64,
        HTTP_X_ONETHING_EVENT_ID="e-forged",
    )
    assert forged.status_code == 403
    signed = client.post(
        "/api/v1/connector/callbacks/fj_tobacco",
        body,
        content_type="application/json",
        HTTP_X_ONETHING_SIGNATURE=sign(SECRET, body),
        HTTP_X_ONETHING_EVENT_ID="e-new",
    )
    # A decided case cannot be decided again: the late callback is refused, nothing changes.
    assert signed.status_code == 409
    tobacco.refresh_from_db()
    assert tobacco.status == CaseStatus.APPROVED
    assert tobacco.events.count() == events_before


def test_a_department_that_never_answers_puts_the_case_on_staff_attention(simulator, client):
    simulator.configure(failure_rate=1.0)
    applicant = PersonFactory()
    application = restaurant(applicant)
    work()
    tobacco = application.cases.get(service__code="tobacco_retail_licence")
    for step in range(1, 8):
        work(later=timedelta(hours=step))
    message = OutboxMessage.objects.get(key=f"dispatch:{tobacco.public_id}")
    assert message.status == "dead"
    tobacco.refresh_from_db()
    assert tobacco.needs_attention
    assert "503" in tobacco.attention_reason
    # The bureau's reviewer sees it on the workbench and sends it again once the system is back.
    simulator.configure(failure_rate=0.0)
    staff = reviewer("fj_tobacco")
    staff.save()
    client.force_login(staff)
    page = client.get(f"/workbench/cases/{tobacco.pk}/")
    assert b"retry-dispatch" in page.content
    assert client.post(f"/workbench/cases/{tobacco.pk}/retry/").status_code == 302
    assert tobacco.events.filter(action="dispatch_retried").count() == 1
    work(later=timedelta(hours=9))
    tobacco.refresh_from_db()
    assert tobacco.status == CaseStatus.ACCEPTED
    assert not tobacco.needs_attention


def test_the_same_callback_delivered_twice_is_applied_once(client, loaded_catalog):
    """A department's system retries a callback it got no answer to: the event id says it is
    the same one; both deliveries are answered alike, the second changes nothing."""
    import json

    from onething.applications.models import ConnectorCallback
    from onething.simulator.signing import sign

    DepartmentEndpoint.objects.create(
        department=Department.objects.get(code="fj_tobacco"),
        base_url="http://127.0.0.1:9/",  # never called: no worker runs here
        secret=SECRET,
    )
    application = restaurant(PersonFactory())
    work()  # the automatic check decides and releases the tobacco licence
    tobacco = application.cases.get(service__code="tobacco_retail_licence")
    assert tobacco.status == CaseStatus.READY
    body = json.dumps(
        {
            "case": str(tobacco.public_id),
            "status": "approved",
            "outputs": {"enterprise.tobacco_licence_number": "YC350206001"},
        }
    ).encode()

    def deliver():
        return client.post(
            "/api/v1/connector/callbacks/fj_tobacco",
            body,
            content_type="application/json",
            HTTP_X_ONETHING_SIGNATURE=sign(SECRET, body),
            HTTP_X_ONETHING_EVENT_ID="evt-tobacco-1",
        )

    first = deliver()
    assert first.status_code == 200
    assert first.json() == {"case": str(tobacco.public_id), "status": "approved"}
    events = list(tobacco.events.values_list("pk", flat=True))

    second = deliver()
    assert second.status_code == 200 and second.json() == first.json()
    assert ConnectorCallback.objects.filter(event_id="evt-tobacco-1").count() == 1
    assert list(tobacco.events.values_list("pk", flat=True)) == events
    tobacco.refresh_from_db()
    assert tobacco.outputs == {"enterprise.tobacco_licence_number": "YC350206001"}
