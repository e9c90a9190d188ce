"""Applications, their cases, the timeline and the materials, as stored.

Only `applications.services` writes these rows; statuses change through `lifecycle`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onething.applications.lifecycle import ApplicationStatus, CaseStatus

CASE_STATUS_LABELS = {
    CaseStatus.WAITING: _("waiting for an earlier step"),
    CaseStatus.READY: _("received by the department"),
    CaseStatus.ACCEPTED: _("being handled"),
    CaseStatus.SUPPLEMENT: _("waiting for you to supplement or correct it"),
    CaseStatus.APPROVED: _("approved"),
    CaseStatus.REJECTED: _("rejected"),
    CaseStatus.CANCELLED: _("cancelled"),
}
APPLICATION_STATUS_LABELS = {
    ApplicationStatus.DRAFT: _("draft"),
    ApplicationStatus.SUBMITTED: _("submitted"),
    ApplicationStatus.IN_PROGRESS: _("in progress"),
    ApplicationStatus.AWAITING_SUPPLEMENT: _("waiting for your supplement"),
    ApplicationStatus.COMPLETED: _("completed"),
    ApplicationStatus.PARTLY_COMPLETED: _("partly completed"),
    ApplicationStatus.REJECTED: _("rejected"),
    ApplicationStatus.WITHDRAWN: _("withdrawn"),
}


class Channel(models.TextChoices):
    WEB = "web", _("online")
    WINDOW = "window", _("one-stop window")
    API = "api", _("API")
    FEDERATED = "federated", _("another platform")


class Application(models.Model):
    """申请 / 办件: one application for a thing, which fans out into one case per service."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(_("reference number"), max_length=32, unique=True)
    thing = models.ForeignKey("catalog.Thing", on_delete=models.PROTECT, related_name="+")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications"
    )
    enterprise = models.ForeignKey(
        "accounts.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    # Where the application is handled: the enterprise's registered region, or the applicant's
    # household region, when it was started. Reviewers and supervisors limited to a region see
    # the applications of that region and those inside it; NULL (not known) is in none of them.
    region = models.ForeignKey(
        "catalog.Region",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("region"),
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications_taken",
        help_text=_("the window clerk who took the application (first-question responsibility)"),
    )
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=list(APPLICATION_STATUS_LABELS.items()),
        default=ApplicationStatus.DRAFT,
    )
    answers = models.JSONField(_("situation answers"), default=dict)
    form_data = models.JSONField(_("form data"), default=dict, blank=True)
    # element key -> {"source": data source code, "authoritative": bool}: where a prefilled
    # value came from (authoritative ones cannot be changed by the applicant).
    prefilled = models.JSONField(_("prefilled from"), default=dict, blank=True)
    # material code -> {"kind": "sharing" | "certificate", "record": what stands in for it}:
    # materials this applicant need not provide (免提交), found when the form was prefilled.
    exemptions = models.JSONField(_("exempt materials"), default=dict, blank=True)
    plan_snapshot = models.JSONField(_("plan at submission"), default=dict, blank=True)
    promised_days = models.PositiveSmallIntegerField(null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    step = models.PositiveSmallIntegerField(default=0)
    consent_given_at = models.DateTimeField(null=True, blank=True)
    consent_text = models.TextField(blank=True)
    # NULL, not "", when absent: the uniqueness of (applicant, key) must ignore absent keys.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=100, null=True, blank=True
    )
    request_fingerprint = models.CharField(max_length=64, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="application_idempotency_key_once",
            )
        ]
        indexes = [
            models.Index(fields=["status", "submitted_at"]),
            # The supervision roll-ups refresh what changed since their watermark.
            models.Index(fields=["updated_at"], name="application_updated_at"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def region_code(self) -> str | None:
        return self.region.code if self.region_id else None


class Case(models.Model):
    """子办件: the part of an application that one department handles for one service."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="cases")
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        "catalog.Department", on_delete=models.PROTECT, related_name="cases"
    )
    handler = models.CharField(_("handler"), max_length=20)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=list(CASE_STATUS_LABELS.items()),
        default=CaseStatus.WAITING,
    )
    stage = models.PositiveSmallIntegerField(default=1)
    position = models.PositiveSmallIntegerField(default=0)
    prerequisites = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="dependents"
    )
    promised_days = models.PositiveSmallIntegerField(default=0)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases_assigned",
    )
    inputs = models.JSONField(_("inputs from earlier cases"), default=dict, blank=True)
    outputs = models.JSONField(_("outputs"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    decided_by_rule = models.CharField(max_length=100, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    needs_attention = models.BooleanField(default=False)
    attention_reason = models.TextField(blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # The first decision on the case (asking for supplements, approving, rejecting) or its
    # cancellation: a stage's supplement notice waits for every case of the stage to have one.
    first_reviewed_at = models.DateTimeField(null=True, blank=True)
    # Deadline in working days (core.workdays): counted from the day the case became ready,
    # with the clock stopped while it waits for the applicant (`pauses`, `paused_since`).
    due_date = models.DateField(_("due date"), null=True, blank=True, db_index=True)
    paused_since = models.DateField(null=True, blank=True)
    pauses = models.JSONField(default=list, blank=True)
    deadline_state = models.CharField(max_length=12, blank=True, default="")
    escalated_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["application", "position"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(fields=["application", "service"], name="case_per_service")
        ]
        indexes = [
            models.Index(fields=["department", "status"]),
            # The supervision dashboard's red and yellow lists: open cases marked late, by due date.
            models.Index(
                fields=["deadline_state", "due_date"],
                condition=models.Q(status__in=["ready", "accepted", "supplement"]),
                name="case_open_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference}/{self.service.code}"


class CaseEvent(models.Model):
    """办理过程: the append-only timeline of an application and its cases."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=100)
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        # The supervision roll-ups refresh the applications with events since their watermark.
        indexes = [models.Index(fields=["at"], name="case_event_at")]

    def __str__(self) -> str:
        return f"{self.action} {self.from_status}→{self.to_status}"


def material_path(instance: ApplicationMaterial, filename: str) -> str:
    # The stored name carries no personal data: the original name is kept in a column.
    return f"materials/{instance.application.public_id}/{uuid.uuid4().hex}"


class ApplicationMaterial(models.Model):
    """A material of an application: an uploaded file, or a note that sharing provides it."""

    class Provision(models.TextChoices):
        UPLOAD = "upload", _("uploaded")
        SHARING = "sharing", _("obtained by data sharing")
        CERTIFICATE = "certificate", _("e-certificate")
        RESULT = "result", _("issued by an earlier service")
        SEEN_AT_WINDOW = "window", _("seen at the window")
        PROMISED = "promised", _("promised for later (容缺)")

    class SeenAs(models.TextChoices):
        ORIGINAL = "original", _("original")
        COPY = "copy", _("copy")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="materials")
    material = models.ForeignKey("catalog.Material", on_delete=models.PROTECT, related_name="+")
    provision = models.CharField(max_length=12, choices=Provision.choices)
    file = models.FileField(upload_to=material_path, blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    # For a material nobody uploaded: the record that stands in for it (a source, a certificate).
    source_record = models.CharField(max_length=200, blank=True)
    # 容缺受理: the applicant promised to supply this deferrable material by this date.
    promised_by = models.DateField(null=True, blank=True)
    # 一窗受理: the window clerk saw the paper material (an original or a copy) instead of a file.
    seen_as = models.CharField(_("seen as"), max_length=10, choices=SeenAs.choices, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("application material")
        verbose_name_plural = _("application materials")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "material"], name="material_once_per_application"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.material_id}"


class SupplementRequest(models.Model):
    """一次性补正告知: what the departments of one stage need from the applicant, asked once.

    A `notice` collects the items reviewers raise for the cases of one stage and is sent when
    every case of the stage has had its first review, or when its hold expires; there is never a
    second notice for the same stage. A `promise` (容缺受理) holds the deferrable materials the
    applicant promised to supply later; the cases go on meanwhile.
    """

    class Kind(models.TextChoices):
        NOTICE = "notice", _("supplement notice")
        PROMISE = "promise", _("promised materials")

    class Status(models.TextChoices):
        COLLECTING = "collecting", _("collecting items")
        SENT = "sent", _("waiting for the applicant")
        ANSWERED = "answered", _("answered")
        CLOSED = "closed", _("closed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="supplement_requests"
    )
    number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    stage = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices)
    hold_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["application", "number"]
        verbose_name = _("supplement request")
        verbose_name_plural = _("supplement requests")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "number"], name="supplement_request_number"
            ),
            models.UniqueConstraint(
                fields=["application", "stage"],
                condition=models.Q(kind="notice"),
                name="one_supplement_notice_per_stage",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application.reference}#{self.number}"


class SupplementItem(models.Model):
    """One thing a case needs from the applicant: a field to correct or a material to bring."""

    class Kind(models.TextChoices):
        FIELD = "field", _("information")
        MATERIAL = "material", _("material")

    request = models.ForeignKey(SupplementRequest, on_delete=models.CASCADE, related_name="items")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supplement_items")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    target = models.CharField(_("field or material"), max_length=100)
    reason = models.TextField(_("reason"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raised_at = models.DateTimeField()
    due_date = models.DateField(_("to be supplied by"), null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # When the applicant was last reminded of a promised item (due tomorrow, then overdue).
    chased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["request", "case__position", "pk"]
        verbose_name = _("supplement item")
        verbose_name_plural = _("supplement items")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "case", "kind", "target"], name="supplement_item_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.request}:{self.kind}:{self.target}"


class DepartmentEndpoint(models.Model):
    """Where a department's own system receives cases (the `connector` handler)."""

    department = models.OneToOneField(
        "catalog.Department", on_delete=models.CASCADE, related_name="endpoint"
    )
    base_url = models.URLField(_("base URL"))
    secret = models.CharField(_("shared secret for callbacks"), max_length=200)
    timeout_seconds = models.FloatField(default=10.0)

    class Meta:
        verbose_name = _("department endpoint")
        verbose_name_plural = _("department endpoints")

    def __str__(self) -> str:
        return f"{self.department.code} → {self.base_url}"


class ConnectorCallback(models.Model):
    """A status callback already applied, so a repeated delivery changes nothing."""

    event_id = models.CharField(max_length=100, unique=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.event_id
