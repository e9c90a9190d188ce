from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onething.audit.models import AuditAnchor
from onething.audit.services import audit_record
from onething.audit.tasks import ANCHOR_TOPIC, audit_schedule_anchor
from onething.outbox.models import OutboxMessage
from onething.outbox.registry import autodiscover
from onething.outbox.worker import outbox_run_once

pytestmark = pytest.mark.django_db


def test_the_next_anchor_is_scheduled_once_per_five_minute_mark():
    now = datetime(2026, 11, 27, 4, 2, 30, tzinfo=UTC)
    audit_schedule_anchor(now=now)
    audit_schedule_anchor(now=now)
    (message,) = OutboxMessage.objects.filter(topic=ANCHOR_TOPIC)
    assert message.available_at == datetime(2026, 11, 27, 4, 5, tzinfo=UTC)


def test_the_worker_anchors_the_streams_and_schedules_the_next(django_capture_on_commit_callbacks):
    autodiscover()
    audit_record(actor="test", action="x", stream="application:1", subject="A1")
    past = datetime(2020, 1, 1, tzinfo=UTC)
    audit_schedule_anchor(now=past)
    outbox_run_once(worker_id="t")
    anchor = AuditAnchor.objects.get()
    assert "application:1" in anchor.heads
    assert OutboxMessage.objects.filter(topic=ANCHOR_TOPIC, status="pending").count() == 1
