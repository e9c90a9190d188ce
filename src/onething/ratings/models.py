"""好差评: what applicants think of a finished application or a closed hotline ticket, and the
rectification every bad rating opens.

One rating per subject per person: an application (overall stars, plus stars for each department
that handled one of its cases) or a hotline ticket (the responsible unit). A rating of 1 or 2
opens a rectification task for the department or unit, with a deadline; the applicant says
whether its answer settles the matter; unsettled or overdue ones escalate to a supervisor.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

STARS = [MinValueValidator(1), MaxValueValidator(5)]


class SubjectKind(models.TextChoices):
    APPLICATION = "application", _("application")
    TICKET = "ticket", _("hotline ticket")


class Rating(models.Model):
    """One person's rating of one application or one ticket (editable until `editable_until`)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subject_kind = models.CharField(_("rated"), max_length=12, choices=SubjectKind.choices)
    application = models.ForeignKey(
        "applications.Application",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="ratings",
    )
    ticket = models.ForeignKey(
        "complaints.Ticket", on_delete=models.CASCADE, null=True, blank=True, related_name="ratings"
    )
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ratings_given"
    )
    stars = models.PositiveSmallIntegerField(_("overall stars"), validators=STARS)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)  # codes of REASONS
    comment = models.TextField(_("comment"), blank=True)
    # Copied from the subject so that supervision reads ratings by region without a join.
    region_code = models.CharField(_("region"), max_length=12, db_index=True)
    created_at = models.DateTimeField(_("rated"))
    updated_at = models.DateTimeField(_("last changed"))
    editable_until = models.DateTimeField(_("can be changed until"))

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        # The supervision roll-ups refresh the subjects of ratings changed since their watermark.
        indexes = [models.Index(fields=["updated_at"], name="rating_updated_at")]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "rater"],
                condition=Q(application__isnull=False),
                name="one_rating_per_application_and_person",
            ),
            models.UniqueConstraint(
                fields=["ticket", "rater"],
                condition=Q(ticket__isnull=False),
                name="one_rating_per_ticket_and_person",
            ),
            models.CheckConstraint(
                condition=(
                    Q(subject_kind="application", application__isnull=False, ticket__isnull=True)
                    | Q(subject_kind="ticket", ticket__isnull=False, application__isnull=True)
                ),
                name="rating_has_exactly_its_subject",
            ),
            models.CheckConstraint(
                condition=Q(stars__gte=1, stars__lte=5), name="rating_stars_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind} {self.stars}★"


class DepartmentRating(models.Model):
    """The stars one rating gives one department that handled a case of the application."""

    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="departments")
    department = models.ForeignKey(
        "catalog.Department", on_delete=models.PROTECT, related_name="ratings"
    )
    stars = models.PositiveSmallIntegerField(_("stars"), validators=STARS)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)

    class Meta:
        verbose_name = _("department rating")
        verbose_name_plural = _("department ratings")
        constraints = [
            models.UniqueConstraint(
                fields=["rating", "department"], name="one_department_rating_per_rating"
            ),
            models.CheckConstraint(
                condition=Q(stars__gte=1, stars__lte=5), name="department_rating_stars_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department_id} {self.stars}★"


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("awaiting answer")
    ANSWERED = "answered", _("answered")
    SETTLED = "settled", _("settled")
    UNSETTLED = "unsettled", _("not settled")
    ESCALATED = "escalated", _("escalated")
    CLOSED = "closed", _("closed by the supervisor")


class Rectification(models.Model):
    """整改: a bad rating (1 or 2 stars) asks the department or hotline unit to fix the cause."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="rectifications")
    # Either a department of the catalogue (applications) or a unit of the hotline's dispatch
    # catalogue (tickets).
    department = models.ForeignKey(
        "catalog.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rectifications",
    )
    unit = models.CharField(_("hotline unit"), max_length=60, blank=True)
    region_code = models.CharField(_("region"), max_length=12, db_index=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=RectificationStatus.choices,
        default=RectificationStatus.OPEN,
        db_index=True,
    )
    due_date = models.DateField(_("answer due"))
    answer = models.TextField(_("what was changed"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    applicant_note = models.TextField(_("applicant's note"), blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalation_reason = models.CharField(max_length=20, blank=True)  # "overdue" | "unsettled"
    # The supervisor's last word: an instruction when sending it back, a conclusion when closing.
    # Defaults in the database too: the history generator writes rows without these columns.
    instruction = models.TextField(
        _("the supervisor's instruction"), blank=True, default="", db_default=""
    )
    sent_back_at = models.DateTimeField(null=True, blank=True)
    conclusion = models.TextField(
        _("the supervisor's conclusion"), blank=True, default="", db_default=""
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["due_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(department__isnull=False, unit="") | Q(department__isnull=True, unit__gt="")
                ),
                name="rectification_has_department_or_unit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.department_id or self.unit} {self.status}"


class RectificationEvent(models.Model):
    """What happened to a rectification, for its timeline."""

    rectification = models.ForeignKey(
        Rectification, on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.at:%Y-%m-%d}"
