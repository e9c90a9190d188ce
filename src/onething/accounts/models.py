"""Users, their roles and scopes, enterprises they act for, and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """用户: a real-name applicant (a person) or a member of staff."""

    class Kind(models.TextChoices):
        PERSON = "person", _("person (applicant)")
        STAFF = "staff", _("staff")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    real_name = models.CharField(_("real name"), max_length=100, blank=True)
    # Resident ID number (居民身份证号码), verified at real-name registration; masked wherever
    # it is shown (see core.masking) and never logged.
    id_number = models.CharField(_("resident ID number"), max_length=18, blank=True)
    id_verified_at = models.DateTimeField(_("real name verified at"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # 户籍所在地: the region of the person's registered household, as the real-name platform
    # vouches for it; an application is handled in this region (a reviewer's region scope).
    region = models.ForeignKey(
        "catalog.Region",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registered household region"),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"],
                condition=~models.Q(id_number=""),
                name="one_account_per_id_number",
            )
        ]

    def __str__(self) -> str:
        return self.real_name or self.username


class Enterprise(models.Model):
    """企业: an enterprise identified by its unified social credit code (统一社会信用代码)."""

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=200)
    region = models.ForeignKey(
        "catalog.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agents = models.ManyToManyField(User, through="EnterpriseAgent", related_name="enterprises")

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"


class EnterpriseAgent(models.Model):
    """A person who may act for an enterprise (legal representative or authorised agent)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE)
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE)
    is_legal_representative = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "enterprise"], name="agent_once")]

    def __str__(self) -> str:
        return f"{self.user} → {self.enterprise}"


class Role(models.TextChoices):
    APPLICANT = "applicant", _("applicant")
    WINDOW_CLERK = "window_clerk", _("window clerk")
    REVIEWER = "reviewer", _("department reviewer")
    SUPERVISOR = "supervisor", _("supervisor")
    HOTLINE_AGENT = "hotline_agent", _("12345 hotline agent")
    ADMINISTRATOR = "administrator", _("administrator")


class RoleAssignment(models.Model):
    """A role of a user, scoped to a department and optionally a region."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    department = models.ForeignKey(
        "catalog.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        "catalog.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "department", "region"], name="role_once"
            ),
            models.CheckConstraint(
                condition=~models.Q(role="reviewer") | models.Q(department__isnull=False),
                name="reviewer_has_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.role}"


class ApiToken(models.Model):
    """A personal access token for systems; only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
