"""Outbox topics of notifications: thin — load by id, call the service."""

from __future__ import annotations

from onething.notifications import services
from onething.outbox.registry import topic


def _email_gave_up(message) -> None:
    services.notification_email_failed(
        notification_id=message.payload["notification"], error=message.last_error
    )


@topic(services.EMAIL_TOPIC, max_attempts=6, base_delay_seconds=30, on_dead=_email_gave_up)
def send_email(message) -> None:
    services.notification_email_send(notification_id=message.payload["notification"])
