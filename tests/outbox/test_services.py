"""Enqueueing next steps, staff retries and the staff views of the outbox."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from onething.core.errors import NotAllowed, NotFound
from onething.outbox.models import OutboxMessage
from onething.outbox.registry import PermanentFailure, Topic
from onething.outbox.selectors import outbox_counts, outbox_dead_messages
from onething.outbox.services import outbox_enqueue, outbox_enqueue_periodic, outbox_retry
from onething.outbox.worker import outbox_run_once
from tests.threads import errors_of, run_in_threads

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def test_a_message_enqueued_in_a_transaction_that_rolls_back_leaves_nothing():
    with pytest.raises(Boom), transaction.atomic():
        outbox_enqueue(topic="case.dispatch", payload={"case": 1}, key="case.dispatch:1")
        raise Boom
    assert not OutboxMessage.objects.exists()


def test_a_periodic_topic_is_booked_once_for_the_next_mark_whatever_the_time_zone():
    shanghai = timezone.get_default_timezone()
    utc_moment = datetime(2026, 11, 27, 4, 2, 30, tzinfo=UTC)
    for now in (utc_moment, utc_moment.astimezone(shanghai)):
        outbox_enqueue_periodic(topic="hotline.sweep", every_seconds=300, now=now)
    # On the mark itself the next run is one period later.
    outbox_enqueue_periodic(
        topic="hotline.sweep", every_seconds=300, now=datetime(2026, 11, 27, 4, 5, tzinfo=UTC)
    )
    booked = OutboxMessage.objects.filter(topic="hotline.sweep").order_by("available_at")
    assert [(m.available_at, m.key, m.payload) for m in booked] == [
        (datetime(2026, 11, 27, 4, 5, tzinfo=UTC), f"hotline.sweep:{1795752300 // 300}", {}),
        (datetime(2026, 11, 27, 4, 10, tzinfo=UTC), f"hotline.sweep:{1795752600 // 300}", {}),
    ]


def test_a_message_enqueued_in_a_transaction_that_commits_is_pending_and_due_now():
    before = timezone.now()
    with transaction.atomic():
        message = outbox_enqueue(topic="case.dispatch", payload={"case": 1})
    stored = OutboxMessage.objects.get()
    assert stored == message
    assert (stored.topic, stored.payload, stored.status, stored.attempts) == (
        "case.dispatch",
        {"case": 1},
        "pending",
        0,
    )
    assert before <= stored.available_at <= timezone.now()
    assert stored.key is None


def test_enqueueing_the_same_key_twice_gives_one_message():
    first = outbox_enqueue(topic="case.dispatch", payload={"case": 1}, key="case.dispatch:1")
    second = outbox_enqueue(topic="case.dispatch", payload={"case": 2}, key="case.dispatch:1")
    assert second.pk == first.pk
    assert OutboxMessage.objects.get().payload == {"case": 1}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite lets one writer at a time")
def test_two_transactions_enqueueing_one_key_at_once_agree_on_one_message():
    """The second enqueue waits for the first transaction, then returns its message, and its
    own transaction goes on (no unique-key error to recover from)."""
    first_enqueued, second_ended = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            message = outbox_enqueue(topic="case.dispatch", payload={"case": 1}, key="k:1")
            first_enqueued.set()
            # Still open a second later: the second enqueue must be waiting, not finished.
            return message.pk, second_ended.wait(timeout=1)

    def second():
        first_enqueued.wait(timeout=20)
        with transaction.atomic():
            message = outbox_enqueue(topic="case.dispatch", payload={"case": 2}, key="k:1")
            return message.pk, OutboxMessage.objects.count()

    outcome = run_in_threads(
        {"first": first, "second": second}, when_ended={"second": second_ended}
    )
    assert errors_of(outcome) == {}, outcome
    (first_pk, second_ended_meanwhile), second_answer = outcome["first"], outcome["second"]
    assert second_ended_meanwhile is False, "the second enqueue did not wait for the first"
    assert second_answer == (first_pk, 1)
    assert OutboxMessage.objects.get().payload == {"case": 1}


def test_messages_without_a_key_are_never_merged():
    outbox_enqueue(topic="notify", payload={})
    outbox_enqueue(topic="notify", payload={})
    assert OutboxMessage.objects.count() == 2


def test_a_message_can_be_enqueued_for_later():
    later = timezone.now() + timedelta(hours=1)
    assert outbox_enqueue(topic="notify", payload={}, available_at=later).available_at == later


@pytest.mark.parametrize("payload", [{"when": timezone.now()}, {"x": float("nan")}, ["a list"]])
def test_a_payload_that_is_not_a_plain_json_object_is_refused(payload):
    with pytest.raises(TypeError):
        outbox_enqueue(topic="notify", payload=payload)
    assert not OutboxMessage.objects.exists()


def dead_message(registry) -> OutboxMessage:
    def refuse(message):
        raise PermanentFailure("department refused")

    registry.register("case.dispatch")(Topic(handle=refuse))
    message = outbox_enqueue(topic="case.dispatch", payload={"case": 7}, key="k7")
    outbox_run_once(worker_id="w1", registry=registry)
    message.refresh_from_db()
    assert message.status == "dead"
    return message


def test_staff_retry_puts_a_dead_message_back_in_the_queue(registry):
    message = dead_message(registry)
    retried = outbox_retry(actor="clerk", message_id=message.pk)
    message.refresh_from_db()
    assert retried.pk == message.pk
    assert (message.status, message.attempts, message.lease_until) == ("pending", 0, None)
    assert message.available_at <= timezone.now()
    assert message.last_error == "PermanentFailure: department refused"


@pytest.mark.parametrize("status", ["pending", "running", "done"])
def test_only_a_dead_message_can_be_retried(status):
    message = outbox_enqueue(topic="notify", payload={})
    OutboxMessage.objects.filter(pk=message.pk).update(status=status, attempts=3)
    with pytest.raises(NotAllowed):
        outbox_retry(actor="clerk", message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (status, 3)


def test_retrying_a_message_that_does_not_exist_is_not_found():
    with pytest.raises(NotFound):
        outbox_retry(actor="clerk", message_id=424242)


def test_staff_see_the_dead_messages_and_the_count_in_each_status(registry):
    dead = dead_message(registry)
    outbox_enqueue(topic="notify", payload={})
    outbox_enqueue(topic="notify", payload={})
    assert list(outbox_dead_messages()) == [dead]
    assert outbox_counts() == {"pending": 2, "running": 0, "done": 0, "dead": 1}


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-1234")
    client.force_login(user)
    return client


def test_the_admin_lists_messages_and_retries_the_dead_ones(admin_client, registry):
    dead = dead_message(registry)
    pending = outbox_enqueue(topic="notify", payload={})
    assert admin_client.get("/admin/outbox/outboxmessage/").status_code == 200
    assert admin_client.get(f"/admin/outbox/outboxmessage/{dead.pk}/change/").status_code == 200
    response = admin_client.post(
        "/admin/outbox/outboxmessage/",
        {"action": "retry", "_selected_action": [dead.pk, pending.pk]},
        follow=True,
    )
    assert response.status_code == 200
    dead.refresh_from_db()
    pending.refresh_from_db()
    assert (dead.status, dead.attempts) == ("pending", 0)
    assert pending.status == "pending"
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 2  # one refusal for the message that was not dead, one success
