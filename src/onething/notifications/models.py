"""The in-app inbox as stored: one row per message to one user, with its e-mail copy's state.

Only `notifications.services` writes these rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """站内通知: a message to one user in their inbox, and perhaps by e-mail too.

    Subject and body are written once, in the recipient's language, and hold only what the
    recipient may see: applicants read about their own application; staff get the reference
    number and the service, never an applicant's personal data.
    """

    class EmailStatus(models.TextChoices):
        NOT_SENT = "not_sent", _("not sent (no e-mail address)")
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.SlugField(_("kind"), max_length=50)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    link = models.CharField(_("link"), max_length=200, blank=True)
    application_reference = models.CharField(_("application reference"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    email_status = models.CharField(
        _("e-mail status"),
        max_length=10,
        choices=EmailStatus.choices,
        default=EmailStatus.NOT_SENT,
    )
    email_attempts = models.PositiveSmallIntegerField(_("e-mail attempts"), default=0)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id} #{self.pk}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
