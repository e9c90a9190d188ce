"""12345 tickets (工单), their timeline, and who may send and handle them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onething.complaints.deadlines import Urgency
from onething.complaints.lifecycle import TicketStatus


class Channel(models.TextChoices):
    PHONE = "phone", _("hotline call")
    WEB = "web", _("web form")
    OPEN311 = "open311", _("Open311 client")


class Ticket(models.Model):
    """工单: one complaint or request, from intake to the citizen's callback."""

    Status = models.TextChoices("Status", [(s.name, s.value) for s in TicketStatus])
    UrgencyChoices = models.TextChoices(
        "UrgencyChoices",
        [
            (Urgency.NORMAL.name, (Urgency.NORMAL.value, _("normal"))),
            (Urgency.URGENT.name, (Urgency.URGENT.value, _("urgent"))),
            (Urgency.VERY_URGENT.name, (Urgency.VERY_URGENT.value, _("very urgent"))),
        ],
    )

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # `12345-20261127-7K3QXZ`; the Open311 service_request_id.
    reference = models.CharField(_("reference"), max_length=32, unique=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=TicketStatus.RECEIVED.value
    )
    description = models.TextField(_("description"))
    # The category the ticket is handled under; the classifier's suggestion is kept beside it.
    category = models.CharField(_("category"), max_length=40)
    suggested_category = models.CharField(max_length=40, blank=True)
    suggestion_confidence = models.FloatField(null=True, blank=True)
    suggestion_rule = models.CharField(max_length=100, blank=True)  # the keyword, when a rule won
    category_confirmed = models.BooleanField(default=False)
    urgency = models.CharField(
        _("urgency"), max_length=12, choices=UrgencyChoices.choices, default=Urgency.NORMAL.value
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    region_code = models.CharField(_("region"), max_length=6, db_index=True)
    street_code = models.CharField(_("street"), max_length=9, blank=True)
    # Contact details: masked for units unless `contact_needed` (the unit must call back itself).
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_needed = models.BooleanField(default=False)
    # A link to a photo an Open311 client hosts itself (the spec's media_url); never fetched.
    media_url = models.URLField(_("media URL"), max_length=1000, blank=True)
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    taken_by = models.ForeignKey(  # the hotline agent who took the call
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client = models.ForeignKey(
        "complaints.Open311Client", null=True, blank=True, on_delete=models.PROTECT
    )
    # Who handles it now: a unit of the dispatch catalogue, with assisting units.
    unit = models.CharField(_("responsible unit"), max_length=60, blank=True, db_index=True)
    assisting = models.JSONField(default=list, blank=True)
    routed_by = models.CharField(max_length=120, blank=True)  # the rule or desk that chose it
    returned_by = models.JSONField(default=list, blank=True)  # units that sent it back
    handoffs = models.PositiveSmallIntegerField(default=0)  # returns plus transfers
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalation_reason = models.CharField(max_length=200, blank=True)
    lead = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="linked"
    )
    dispatched_at = models.DateTimeField(null=True, blank=True)
    sign_due_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField(default=0)
    deadline_state = models.CharField(max_length=12, default="on_time")
    sign_overdue = models.BooleanField(default=False)
    replied_at = models.DateTimeField(null=True, blank=True)
    reply = models.TextField(_("reply"), blank=True)
    callback_due = models.DateField(null=True, blank=True)
    # Set by the sweep once the callback is past due (the agents are told then, once).
    callback_overdue = models.BooleanField(default=False)
    callback_at = models.DateTimeField(null=True, blank=True)
    callback_reached = models.BooleanField(null=True)
    resolved = models.BooleanField(null=True)
    satisfied = models.BooleanField(null=True)
    rehandled = models.PositiveSmallIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["category", "region_code", "created_at"]),
            # The supervision roll-ups look again at tickets changed since their last refresh,
            # and at those whose sign-for deadline or due day passed with nothing done.
            models.Index(fields=["updated_at"], name="ticket_updated_at"),
            models.Index(
                fields=["sign_due_at"],
                condition=models.Q(accepted_at__isnull=True),
                name="ticket_unsigned_sign_due",
            ),
            models.Index(
                fields=["due_date"],
                condition=models.Q(replied_at__isnull=True),
                name="ticket_unreplied_due",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class TicketEvent(models.Model):
    """The ticket's timeline: append-only."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=60)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    unit = models.CharField(max_length=60, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.action}"


def _attachment_path(instance: TicketAttachment, filename: str) -> str:
    return f"tickets/{instance.ticket.public_id}/{uuid.uuid4().hex}"


class TicketAttachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class CategoryCorrection(models.Model):
    """An agent's correction of the suggested category: kept for retraining."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="corrections")
    text = models.TextField()
    suggested = models.CharField(max_length=40, blank=True)
    chosen = models.CharField(max_length=40)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.suggested} → {self.chosen}"


class ExtensionRequest(models.Model):
    """延期申请: a unit asks for more working days; a supervisor decides."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="extensions")
    unit = models.CharField(max_length=60)
    days = models.PositiveSmallIntegerField()
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=models.Q(status="pending"),
                name="one_pending_extension",
            )
        ]

    def __str__(self) -> str:
        return f"+{self.days} ({self.status})"


class UnitMember(models.Model):
    """A member of staff who handles the tickets of a unit of the dispatch catalogue."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hotline_units"
    )
    unit = models.CharField(max_length=60)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "unit"], name="unit_member_once")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.unit}"


class Open311Client(models.Model):
    """A client application of the Open311 API, identified by its api_key (only a hash kept)."""

    name = models.CharField(_("name"), max_length=100)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    key_prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class HotSpot(models.Model):
    """未诉先办: a category in a region drew more tickets in a week than its baseline."""

    category = models.CharField(max_length=40)
    region_code = models.CharField(max_length=9)
    week = models.DateField()  # the Monday
    count = models.PositiveIntegerField()
    baseline = models.FloatField()
    unit = models.CharField(max_length=60, blank=True)
    flagged_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-week", "-count"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "region_code", "week"], name="hot_spot_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.region_code} {self.week}"
