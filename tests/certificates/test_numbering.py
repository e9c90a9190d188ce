"""Certificate numbers: per type and year, unique and increasing; on PostgreSQL from a sequence
that never makes one approval wait for another's commit."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from onething.certificates.models import CertificateSequence
from tests.threads import errors_of, run_in_threads


def _serial(certificate) -> int:
    return int(certificate.number.rsplit("-", 1)[1])


@pytest.mark.django_db
def test_numbering_continues_from_the_last_number_kept_for_the_type_and_year(
    issue, holder, birth_type
):
    from django.utils import timezone

    CertificateSequence.objects.create(type=birth_type, year=timezone.localdate().year, last=41)
    assert _serial(issue(holder)) == 42
    assert _serial(issue(holder)) == 43


@pytest.mark.django_db
def test_a_rolled_back_issue_leaves_a_gap_on_postgresql_and_none_on_sqlite(issue, holder):
    assert _serial(issue(holder)) == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        issue(holder)
        raise RuntimeError("the approval failed after numbering")
    following = _serial(issue(holder))
    assert following == (3 if connection.vendor == "postgresql" else 2)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite lets one writer at a time anyway"
)
def test_an_open_approval_does_not_hold_up_another_issuing_the_same_type(issue, holder):
    """The first approval has numbered its certificate and not committed yet; a second
    approval of the same certificate type numbers and commits meanwhile, with no waiting."""
    assert _serial(issue(holder)) == 1  # the sequence exists, committed
    numbered, second_done = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            serial = _serial(issue(holder))
            numbered.set()
            return serial, second_done.wait(timeout=20)

    def second():
        numbered.wait(timeout=20)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '5s'")
            return _serial(issue(holder))

    outcome = run_in_threads(
        {"first": first, "second": second},
        when_ended={"first": numbered, "second": second_done},
    )
    assert errors_of(outcome) == {}, outcome
    (first_serial, second_finished_while_open), second_serial = outcome["first"], outcome["second"]
    assert second_finished_while_open is True
    assert (first_serial, second_serial) == (2, 3)
