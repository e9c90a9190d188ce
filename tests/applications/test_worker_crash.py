"""A worker process killed (SIGKILL) while it dispatches real cases to a department's system
loses no case, and the department applies none twice."""

from __future__ import annotations

import signal

import pytest

from onething.applications.lifecycle import CaseStatus
from onething.applications.models import Case, DepartmentEndpoint
from onething.catalog.models import Department
from onething.outbox.models import OutboxMessage
from onething.simulator import DepartmentSimulator, SimulatorConfig
from tests.applications.test_connector import restaurant
from tests.factories import PersonFactory
from tests.outbox.test_worker_process import Workers

pytestmark = [pytest.mark.django_db(transaction=True)]

SECRET = "crash-test-secret"
APPLICATIONS = 6


def test_a_worker_killed_while_dispatching_loses_no_case_and_applies_none_twice(
    live_server, loaded_catalog, tmp_path
):
    simulator = DepartmentSimulator(SimulatorConfig(secret=SECRET, delay_seconds=0.05, seed=3))
    base_url = simulator.start(host="127.0.0.1", port=0)
    DepartmentEndpoint.objects.create(
        department=Department.objects.get(code="fj_tobacco"), base_url=base_url, secret=SECRET
    )
    applications = [restaurant(PersonFactory()) for _ in range(APPLICATIONS)]
    workers = Workers(tmp_path)
    workers.env.update(
        ONETHING_PUBLIC_URL=live_server.url,
        ONETHING_DISPATCH_LEASE_SECONDS="2",
        ONETHING_EXTRA_TASK_MODULES="",
    )
    tobacco = Case.objects.filter(service__code="tobacco_retail_licence")
    try:
        first = workers.start("w1")
        # Kill it as soon as the bureau has seen a case, in the middle of the dispatching.
        workers.wait_until(lambda: simulator.stats()["received"] >= 1, "a first dispatch")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        unfinished = OutboxMessage.objects.filter(topic="case.dispatch").exclude(status="done")
        assert unfinished.exists(), "the kill must leave dispatches for the next worker"
        workers.start("w2")
        # The dispatch the killed worker held is redone once its lease runs out, even when the
        # bureau already applied it (the idempotency key makes the redo a no-op).
        workers.wait_until(
            lambda: (
                tobacco.filter(status=CaseStatus.APPROVED).count() == APPLICATIONS
                and not unfinished.exists()
            ),
            "every tobacco case approved and every dispatch done",
            timeout=60,
        )
    finally:
        for process in workers.processes:
            if process.poll() is None:
                process.kill()
        simulator.stop()

    stats = simulator.stats()
    assert stats["applied"] == APPLICATIONS  # each case applied exactly once
    for case in tobacco:
        assert case.events.filter(action="accepted").count() == 1
        assert case.events.filter(action="approved").count() == 1
    assert not OutboxMessage.objects.filter(topic="case.dispatch").exclude(status="done").exists()
    assert all(a.cases.count() == 3 for a in applications)
