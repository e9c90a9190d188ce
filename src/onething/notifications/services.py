"""Writes to the inbox: notifying a user, marking notifications read, and the e-mail copy.

`notify` runs inside the caller's transaction: the inbox row and the queued e-mail commit or roll
back with the change they tell about. The e-mail itself leaves only when the outbox worker runs
(`notifications.tasks`), after commit; a failing mail server is retried there and, in the end,
marked failed on the notification, never undoing anything.
"""

from __future__ import annotations

import logging
from urllib.parse import urljoin

from django.conf import settings
from django.core.mail import send_mail
from django.core.validators import validate_slug
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from onething.accounts.models import User
from onething.core.errors import NotFound
from onething.core.masking import mask_personal_text
from onething.notifications.models import Notification
from onething.outbox.services import outbox_enqueue

logger = logging.getLogger("onething.notifications")

EMAIL_TOPIC = "notification.email"
ERROR_TEXT_LIMIT = 500


class EmailNotSent(Exception):
    """The mail backend failed; the message says how, with personal data masked."""


SUBJECT_LIMIT = 200
LINK_LIMIT = 200

EmailStatus = Notification.EmailStatus


def recipient_language(user: User) -> str:
    """The language to write to `user` in; accounts keep no preference yet, so Chinese."""
    return settings.LANGUAGE_CODE


def is_local_path(link: str) -> bool:
    """Whether `link` is a path on this site ("/applications/…"), never another host."""
    return link.startswith("/") and not link.startswith("//") and "\\" not in link


def notify(
    *,
    recipient: User,
    kind: str,
    subject: str,
    body: str,
    link: str = "",
    application_reference: str = "",
) -> Notification:
    """Put a message in the recipient's inbox and, if they have an e-mail address, queue a copy.

    Call it inside the transaction of the change it tells about. Subject and body are already
    in the recipient's language and hold only what the recipient may see.
    """
    validate_slug(kind)
    if link and (not is_local_path(link) or len(link) > LINK_LIMIT):
        raise ValueError(f"a notification links to a path on this site, not {link!r}")
    # One line: an e-mail subject is a header, and a header cannot hold a line break.
    subject = " ".join(str(subject).split())[:SUBJECT_LIMIT]
    return _deliver(
        recipient=recipient,
        kind=kind,
        subject=subject,
        body=str(body),
        link=link,
        application_reference=application_reference,
    )


# Without a savepoint of its own (two round trips for each of the eight notices of an
# application's life): checked above, what is left can only fail as the caller's transaction
# would anyway.
@transaction.atomic(savepoint=False)
def _deliver(*, recipient: User, **message: str) -> Notification:
    notification = Notification.objects.create(
        recipient=recipient,
        email_status=EmailStatus.QUEUED if recipient.email else EmailStatus.NOT_SENT,
        **message,
    )
    if recipient.email:
        outbox_enqueue(
            topic=EMAIL_TOPIC,
            payload={"notification": notification.pk},
            key=f"{EMAIL_TOPIC}:{notification.pk}",
        )
    return notification


@transaction.atomic
def notification_mark_read(*, actor: User, notification: Notification) -> Notification:
    """Mark one of the actor's notifications read; reading it again keeps the first time."""
    if notification.recipient_id != actor.pk:
        raise NotFound(_("This notification does not exist."))
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.refresh_from_db(fields=["read_at"])
    return notification


@transaction.atomic
def notification_mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read; returns how many were unread."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def _email_text(notification: Notification) -> str:
    text = notification.body
    if notification.link:
        with translation.override(recipient_language(notification.recipient)):
            text += "\n\n" + _("Open it on OneThing: %(url)s") % {
                "url": urljoin(settings.ONETHING_PUBLIC_URL, notification.link)
            }
    return text


def notification_email_send(*, notification_id: int) -> None:
    """Send the e-mail copy of a notification (the outbox worker calls this, after commit).

    A failing backend raises, so the outbox retries with backoff. A copy already sent is not
    sent again; a recipient who has no address any more gets none.
    """
    notification = (
        Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    )
    if notification is None or notification.email_status == EmailStatus.SENT:
        return
    address = notification.recipient.email
    if not address:
        Notification.objects.filter(pk=notification.pk).update(email_status=EmailStatus.NOT_SENT)
        return
    # Counted before sending, so an attempt that fails (or kills the worker) is counted too.
    Notification.objects.filter(pk=notification.pk).update(email_attempts=F("email_attempts") + 1)
    try:
        send_mail(
            notification.subject,
            _email_text(notification),
            settings.DEFAULT_FROM_EMAIL,
            [address],
            fail_silently=False,
        )
    except Exception as exc:
        # A mail server's refusal quotes the recipient's address; the outbox keeps and logs the
        # error text, so it gets the class and a masked message only (and no chained original).
        raise EmailNotSent(
            mask_personal_text(f"{type(exc).__name__}: {exc}")[:ERROR_TEXT_LIMIT]
        ) from None
    Notification.objects.filter(pk=notification.pk).update(
        email_status=EmailStatus.SENT, emailed_at=timezone.now()
    )


def notification_email_failed(*, notification_id: int, error: str) -> None:
    """The e-mail copy could not be sent after every attempt: say so on the notification.

    The inbox row itself stays as it is; the recipient still reads it in the inbox.
    """
    updated = (
        Notification.objects.filter(pk=notification_id)
        .exclude(email_status=EmailStatus.SENT)
        .update(email_status=EmailStatus.FAILED)
    )
    if updated:
        logger.warning(
            "e-mail copy of notification %s failed: %s",
            notification_id,
            mask_personal_text(error),
        )
