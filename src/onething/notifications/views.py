"""The inbox pages: the signed-in user's notifications, opening one, marking them all read.

Thin: call a selector or a service, render. Another user's notification does not exist for the
caller (404): the selectors decide.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from onething.notifications import selectors, services

PAGE_SIZE = 50


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first, unread ones marked."""
    page = Paginator(selectors.notifications_for(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "unread": selectors.unread_count(request.user)},
    )


@login_required
@require_GET
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark the notification read and go where it points (the inbox if it points nowhere)."""
    notification = selectors.notification_for(request.user, notification_id)
    services.notification_mark_read(actor=request.user, notification=notification)
    link = notification.link
    if link and services.is_local_path(link) and url_has_allowed_host_and_scheme(link, None):
        return redirect(link)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.notification_mark_all_read(actor=request.user)
    return redirect("notifications:inbox")
