"""Reads of the inbox, always of one user's own notifications."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from onething.core.errors import NotFound
from onething.notifications.models import Notification


def notifications_for(user) -> QuerySet[Notification]:
    """The user's notifications, newest first (none for an anonymous caller)."""
    if not getattr(user, "pk", None):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def notification_for(user, notification_id: int) -> Notification:
    """One of the user's notifications; another user's does not exist for them."""
    try:
        return notifications_for(user).get(pk=notification_id)
    except Notification.DoesNotExist:
        raise NotFound(_("This notification does not exist.")) from None


def unread_count(user) -> int:
    return notifications_for(user).filter(read_at__isnull=True).count()
