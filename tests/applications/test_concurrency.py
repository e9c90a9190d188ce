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

pytestmark = pytest.mark.django_db(transaction=True)

ANSWERS = {
    "mother_insured": "no",
    "vaccination_certificate_issued": "yes",
    "apply_social_security_card": "no",
}


def test_concurrent_duplicates_with_one_key_make_one_application(loaded_catalog):
    applicant = PersonFactory()
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
