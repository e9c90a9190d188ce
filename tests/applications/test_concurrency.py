"""Two identical submissions at the same moment make one application (real threads, real
transactions; the database's unique constraint decides, so this is meaningful on PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from onething.applications import services
from onething.applications.models import Application
from tests.applications.conftest import valid_value
from tests.factories import PersonFactory
from tests.threads import errors_of, run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)

ANSWERS = {
    "mother_insured": "no",
    "vaccination_certificate_issued": "yes",
    "apply_social_security_card": "no",
}


def test_concurrent_duplicates_with_one_key_make_one_application(resident_mother):
    applicant = resident_mother
    draft = services.application_start(actor=applicant, thing_code="newborn", answers=ANSWERS)
    plan = services.application_plan(draft)
    form = {f.element.key: valid_value(f.element, applicant) for f in plan.form if f.asked}
    draft.delete()

    barrier = threading.Barrier(4)
    results, errors = [], []

    def submit():
        try:
            barrier.wait(timeout=10)
            results.append(
                services.application_create_and_submit(
                    actor=applicant,
                    thing_code="newborn",
                    answers=ANSWERS,
                    form=form,
                    consent=True,
                    idempotency_key="same-moment",
                    share_data=True,
                    share_sensitive=True,
                )
            )
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(results) == 4
    assert len({r.application.pk for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert Application.objects.filter(applicant=applicant).count() == 1
    assert Application.objects.get(applicant=applicant).cases.count() == 3


def test_two_departments_acting_at_once_on_one_application_queue_instead_of_deadlocking(
    loaded_catalog, monkeypatch
):
    """The health commission approves while the CDC asks for a supplement on the sibling case.
    Every service locks the application before its cases; the window between the two locks is
    widened on purpose so that a wrong lock order would deadlock (PostgreSQL reports it)."""
    import time

    from onething.applications.lifecycle import CaseStatus
    from tests.applications.conftest import fill_and_attach
    from tests.factories import reviewer

    applicant = PersonFactory()
    draft = services.application_start(
        actor=applicant, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    fill_and_attach(draft, applicant)
    application = services.application_submit(actor=applicant, application=draft, consent=True)
    health, cdc = reviewer("fj_health"), reviewer("fj_cdc")
    birth = services.case_accept(
        actor=health, case=application.cases.get(service__code="birth_medical_certificate")
    )
    vaccination = services.case_accept(
        actor=cdc, case=application.cases.get(service__code="vaccination_certificate")
    )
    locked_application = services._lock_application

    def slow_lock(application):
        locked = locked_application(application)
        time.sleep(0.3)
        return locked

    monkeypatch.setattr(services, "_lock_application", slow_lock)
    barrier = threading.Barrier(2)
    errors = []

    def run(action, delay=0.0):
        try:
            barrier.wait(timeout=10)
            time.sleep(delay)  # the approval takes the application lock first
            action()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    approve = threading.Thread(
        target=run,
        args=(
            lambda: services.case_approve(
                actor=health, case=birth, outputs={"child.birth_certificate_number": "Q35"}
            ),
        ),
    )
    ask = threading.Thread(
        target=run,
        args=(
            lambda: services.case_ask_supplement(
                actor=cdc,
                case=vaccination,
                items=[{"kind": "material", "target": "delivery_record", "reason": "缺页"}],
            ),
            0.1,
        ),
    )
    for thread in (approve, ask):
        thread.start()
    for thread in (approve, ask):
        thread.join(timeout=60)
    assert errors == []
    statuses = dict(application.cases.values_list("service__code", "status"))
    assert statuses["birth_medical_certificate"] == CaseStatus.APPROVED
    assert statuses["vaccination_certificate"] == CaseStatus.SUPPLEMENT


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite lets one writer at a time")
def test_the_deadline_sweep_passes_over_an_application_being_changed_instead_of_deadlocking(
    loaded_catalog, monkeypatch
):
    """A reviewer approves one case (the application, the case and its audit stream held) and
    then locks the sibling cases to release those waiting; the sweep meanwhile marks an overdue
    sibling. Locking that case before its application deadlocked on PostgreSQL; the sweep now
    passes over the application and marks the case on its next run."""
    from datetime import timedelta

    from django.utils import timezone

    from onething.applications.lifecycle import CaseStatus
    from onething.applications.models import Case
    from onething.core.actors import SystemActor
    from tests.applications.conftest import fill_and_attach
    from tests.factories import reviewer

    applicant = PersonFactory()
    draft = services.application_start(
        actor=applicant, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    fill_and_attach(draft, applicant)
    application = services.application_submit(actor=applicant, application=draft, consent=True)
    health = reviewer("fj_health")
    birth = services.case_accept(
        actor=health, case=application.cases.get(service__code="birth_medical_certificate")
    )
    today = timezone.localdate()
    Case.objects.filter(application=application, service__code="vaccination_certificate").update(
        due_date=today - timedelta(days=5)
    )
    graph, holding, swept = services._case_graph, threading.Event(), threading.Event()

    def graph_after_the_sweep(locked):
        holding.set()
        swept.wait(timeout=3)
        return graph(locked)

    monkeypatch.setattr(services, "_case_graph", graph_after_the_sweep)

    def approve():
        return services.case_approve(
            actor=health, case=birth, outputs={"child.birth_certificate_number": "Q35"}
        )

    def sweep():
        holding.wait(timeout=20)
        return services.deadline_sweep(actor=SystemActor("t"), today=today)

    outcome = run_in_threads(
        {"approve": approve, "first sweep": sweep},
        when_ended={"approve": holding, "first sweep": swept},
    )
    assert errors_of(outcome) == {}, outcome
    marked = ("due_soon", "overdue", "escalated")
    # Passed over while the approval held the application; marked on the next sweep.
    assert sum(outcome["first sweep"][state] for state in marked) == 0
    services.deadline_sweep(actor=SystemActor("t"), today=today)
    vaccination = application.cases.get(service__code="vaccination_certificate")
    assert vaccination.deadline_state in marked
    statuses = dict(application.cases.values_list("service__code", "status"))
    assert statuses["birth_medical_certificate"] == CaseStatus.APPROVED
