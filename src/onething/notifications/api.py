"""Notifications API: the caller's own inbox, for apps.

Every operation needs a signed-in user (token or session); another user's notification does not
exist for the caller (404).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from onething.accounts.auth import API_AUTH
from onething.core.schemas import ErrorOut
from onething.notifications import selectors, services
from onething.notifications.models import Notification

router = Router(tags=["notifications"], auth=API_AUTH)

PAGE_LIMIT = 200


class NotificationOut(Schema):
    id: int
    kind: str
    subject: str
    body: str
    link: str
    application_reference: str
    created_at: str
    read_at: str | None


class NotificationList(Schema):
    items: list[NotificationOut]
    count: int  # all that match, of which `items` is the page asked for
    unread: int


def _notification_out(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "subject": notification.subject,
        "body": notification.body,
        "link": notification.link,
        "application_reference": notification.application_reference,
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
    }


@router.get("", response=NotificationList, summary="My notifications, newest first")
def list_notifications(
    request: HttpRequest,
    unread_only: bool = False,
    offset: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(50, ge=1, le=PAGE_LIMIT),
):
    notifications = selectors.notifications_for(request.auth)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    items = [_notification_out(n) for n in notifications[offset : offset + limit]]
    return {
        "items": items,
        "count": notifications.count(),
        "unread": selectors.unread_count(request.auth),
    }


@router.post(
    "/{notification_id}/read",
    response={200: NotificationOut, 404: ErrorOut},
    summary="Mark one of my notifications read",
)
def read_notification(request: HttpRequest, notification_id: int):
    notification = selectors.notification_for(request.auth, notification_id)
    return _notification_out(
        services.notification_mark_read(actor=request.auth, notification=notification)
    )
