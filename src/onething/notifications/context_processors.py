"""What every page may show of the inbox: the signed-in user's unread count, for a badge."""

from __future__ import annotations

import functools

from django.http import HttpRequest

from onething.notifications import selectors


def unread_count(request: HttpRequest) -> dict:
    """`unread_notifications`: counted only if the page shows it, and at most once per page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}

    # A callable: templates call it when they use the value, so other pages pay no query.
    @functools.cache
    def count() -> int:
        return selectors.unread_count(user)

    return {"unread_notifications": count}
