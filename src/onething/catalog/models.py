"""Catalog records as stored. The YAML definitions are the reviewed source; `catalog.services`
upserts them here, and Django admin may edit them. Planning reads them back through
`catalog.selectors` as the same definition models the YAML produced."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from onething.catalog import schema
from onething.core.workdays import DayKind


def _choices(enum) -> list[tuple[str, str]]:
    # Admin offers exactly the values the YAML schema allows, so an edit cannot break planning.
    return [(member.value, member.value) for member in enum]


def in_language(zh: str, en: str, language: str | None = None) -> str:
    """The text for `language` (default: the active one); Chinese unless English is asked."""
    language = (language or get_language() or "zh-hans").lower()
    return en if language.startswith("en") and en else zh


class Bilingual(models.Model):
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        code = getattr(self, "code", None) or getattr(self, "key", "")
        return f"{self.name} ({code})"

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)


class Region(Bilingual):
    """行政区划: an administrative division with its GB/T 2260 code."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("province")
        CITY = "city", _("city")
        COUNTY = "county", _("county")
        STREET = "street", _("street")

    code = models.CharField(_("code"), max_length=12, unique=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")


class Department(Bilingual):
    """部门: a department (or a public utility) that owns services."""

    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("government department")
        PUBLIC_INSTITUTION = "public_institution", _("public institution")
        ENTERPRISE = "enterprise", _("enterprise")

    code = models.CharField(_("code"), max_length=64, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="departments")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # Touched by every load and admin edit: the sharing context's cached catalog notices it.
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")


class CertificateType(Bilingual):
    """电子证照类型: a kind of e-certificate a department issues."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    issuer = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["code"]
        verbose_name = _("certificate type")
        verbose_name_plural = _("certificate types")


class DataElement(models.Model):
    """数据元: one piece of data with a canonical key, asked for at most once."""

    key = models.CharField(_("key"), max_length=100, unique=True)
    label_zh = models.CharField(_("label (Chinese)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=_choices(schema.ElementType))
    validator = models.CharField(
        _("validator"), max_length=20, blank=True, choices=_choices(schema.Validator)
    )
    sensitivity = models.CharField(
        _("sensitivity"), max_length=20, choices=_choices(schema.Sensitivity)
    )
    options = models.JSONField(_("options"), default=list, blank=True)
    min_value = models.DecimalField(
        _("minimum"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("maximum"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    help_zh = models.TextField(_("help (Chinese)"), blank=True)
    help_en = models.TextField(_("help (English)"), blank=True)
    past_only = models.BooleanField(_("cannot be in the future"), default=False)

    class Meta:
        ordering = ["key"]
        verbose_name = _("data element")
        verbose_name_plural = _("data elements")

    def __str__(self) -> str:
        return f"{self.label} ({self.key})"

    @property
    def label(self) -> str:
        return in_language(self.label_zh, self.label_en)


class Material(Bilingual):
    """申请材料: a document an application may need, and where it can come from."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=_choices(schema.MaterialKind))
    source = models.CharField(_("source"), max_length=20, choices=_choices(schema.MaterialSource))
    certificate_type = models.ForeignKey(
        CertificateType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shared_by = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    carries = models.ManyToManyField(DataElement, blank=True, related_name="+")
    copies = models.PositiveSmallIntegerField(_("copies"), default=1)

    class Meta:
        ordering = ["code"]
        verbose_name = _("material")
        verbose_name_plural = _("materials")


class Service(Bilingual):
    """政务服务事项: one service of one department, with its limits, form and materials."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="services")
    kind = models.CharField(_("kind"), max_length=20, choices=_choices(schema.ServiceKind))
    legal_basis_zh = models.TextField(_("legal basis (Chinese)"))
    legal_basis_en = models.TextField(_("legal basis (English)"))
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    statutory_days = models.PositiveSmallIntegerField(_("statutory limit (working days)"))
    promised_days = models.PositiveSmallIntegerField(_("promised limit (working days)"))
    fee = models.DecimalField(_("fee (yuan)"), max_digits=12, decimal_places=2, default=Decimal(0))
    fee_note_zh = models.CharField(_("fee note (Chinese)"), max_length=300, blank=True)
    fee_note_en = models.CharField(_("fee note (English)"), max_length=300, blank=True)
    result_certificate_type = models.ForeignKey(
        CertificateType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handler = models.CharField(_("handler"), max_length=20, choices=_choices(schema.Handler))
    rule = models.CharField(
        _("automatic rule"),
        max_length=40,
        blank=True,
        choices=[(rule, rule) for rule in schema.AUTOMATIC_RULES],
    )
    cross_region = models.BooleanField(_("cross-region handling"), default=False)
    counter_visits = models.PositiveSmallIntegerField(_("counter visits on its own"), default=1)
    rule_inputs = models.JSONField(
        _("inputs the rule needs authoritative"), default=list, blank=True
    )
    rule_condition = models.JSONField(_("rule condition"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(promised_days__lte=models.F("statutory_days")),
                name="promise_within_statute",
                violation_error_message=_("The promised limit cannot exceed the statutory limit."),
            )
        ]

    @property
    def legal_basis(self) -> str:
        return in_language(self.legal_basis_zh, self.legal_basis_en)


class ServiceField(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="fields")
    element = models.ForeignKey(DataElement, on_delete=models.PROTECT, related_name="+")
    required = models.BooleanField(_("required"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["service", "position"]
        constraints = [
            models.UniqueConstraint(fields=["service", "element"], name="service_field_once")
        ]

    def __str__(self) -> str:
        return f"{self.service_id}:{self.element_id}"


class ServiceMaterial(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="materials")
    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="+")
    required = models.BooleanField(_("required"), default=True)
    deferrable = models.BooleanField(_("may be supplied later"), default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["service", "position"]
        constraints = [
            models.UniqueConstraint(fields=["service", "material"], name="service_material_once")
        ]

    def __str__(self) -> str:
        return f"{self.service_id}:{self.material_id}"


class ServiceOutput(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="outputs")
    element = models.ForeignKey(DataElement, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["service", "position"]

    def __str__(self) -> str:
        return f"{self.service_id}:{self.element_id}"


class Thing(Bilingual):
    """一件事: a life or business event composed of member services of several departments."""

    class Audience(models.TextChoices):
        PERSON = "person", _("persons")
        ENTERPRISE = "enterprise", _("enterprises")

    code = models.CharField(_("code"), max_length=64, unique=True)
    audience = models.CharField(_("audience"), max_length=20, choices=Audience.choices)
    category_zh = models.CharField(_("category (Chinese)"), max_length=100)
    category_en = models.CharField(_("category (English)"), max_length=100)
    summary_zh = models.TextField(_("summary (Chinese)"))
    summary_en = models.TextField(_("summary (English)"))
    lead_department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    form_rules = models.JSONField(_("cross-field rules"), default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("one thing")
        verbose_name_plural = _("one things")

    @property
    def category(self) -> str:
        return in_language(self.category_zh, self.category_en)

    @property
    def summary(self) -> str:
        return in_language(self.summary_zh, self.summary_en)


class Question(models.Model):
    """情形: a situation question whose answer decides which members apply."""

    thing = models.ForeignKey(Thing, on_delete=models.CASCADE, related_name="questions")
    key = models.CharField(_("key"), max_length=64)
    type = models.CharField(_("type"), max_length=20, choices=_choices(schema.QuestionType))
    label_zh = models.CharField(_("label (Chinese)"), max_length=300)
    label_en = models.CharField(_("label (English)"), max_length=300)
    help_zh = models.TextField(_("help (Chinese)"), blank=True)
    help_en = models.TextField(_("help (English)"), blank=True)
    options = models.JSONField(_("options"), default=list, blank=True)
    min_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    default = models.JSONField(_("default"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["thing", "position"]
        constraints = [models.UniqueConstraint(fields=["thing", "key"], name="question_key_once")]

    def __str__(self) -> str:
        return self.key


def always() -> bool:
    """The condition of a member that always applies."""
    return True


class ThingMember(models.Model):
    """A member service of a thing, with its condition and the members it waits for."""

    thing = models.ForeignKey(Thing, on_delete=models.CASCADE, related_name="members")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="memberships")
    when = models.JSONField(_("condition (JsonLogic)"), default=always, blank=True)
    after = models.JSONField(_("after (service codes)"), default=list, blank=True)
    note_zh = models.TextField(blank=True)
    note_en = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["thing", "position"]
        constraints = [
            models.UniqueConstraint(fields=["thing", "service"], name="member_service_once")
        ]

    def __str__(self) -> str:
        return f"{self.thing.code}/{self.service.code}"


class CatalogRevision(models.Model):
    """The catalog's revision (one row): a new number and time on every load and admin edit.

    Planning reads each thing's bundle once per revision (`selectors.thing_bundle`); one tiny
    query per plan tells every process whether the catalog changed since."""

    number = models.PositiveBigIntegerField(_("number"), default=0)
    changed_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("catalog revision")
        verbose_name_plural = _("catalog revisions")

    def __str__(self) -> str:
        return f"{self.number} ({self.changed_at:%Y-%m-%d %H:%M:%S})"


class CalendarDay(models.Model):
    """调休/节假日: a date declared working or a holiday over the State Council schedule.

    Without a region it applies to the whole country; with one, to that region and the regions
    inside it. `core.workdays.WorkCalendar` reads these through `catalog.selectors.work_calendar`.
    """

    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=_choices(DayKind))
    region = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("region"),
        help_text=_("Empty for the whole country."),
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["date", "region__code"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        constraints = [
            models.UniqueConstraint(fields=["date", "region"], name="calendar_day_once"),
            # NULLs are distinct in a unique constraint: the national row needs its own.
            models.UniqueConstraint(
                fields=["date"],
                condition=models.Q(region__isnull=True),
                name="calendar_day_once_nationally",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.kind} ({self.name})"

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)


class DataSource(Bilingual):
    """数据资源: where data elements can be read, for which subject, through which connector.

    `serves` lists {element, field, of}: which data element comes from which field of the
    source's record of whom (the applicant, the applicant's spouse, the enterprise). Nothing is
    read without a `Grant`. The sharing app reads and uses these; the catalog only keeps them.
    """

    code = models.SlugField(_("code"), max_length=64, unique=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="data_sources", verbose_name=_("holder")
    )
    connector = models.CharField(
        _("connector"), max_length=20, choices=_choices(schema.ConnectorKind)
    )
    authoritative = models.BooleanField(_("authoritative"), default=True)
    options = models.JSONField(_("connector options"), default=dict, blank=True)
    serves = models.JSONField(_("elements served"), default=list)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("data source")
        verbose_name_plural = _("data sources")


class Grant(models.Model):
    """共享授权: a service (or every member of a thing) may read these elements from a source,
    for a purpose, on a legal basis. Deny by default: what no grant names is never read."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="grants"
    )
    thing = models.ForeignKey(
        Thing, null=True, blank=True, on_delete=models.CASCADE, related_name="grants"
    )
    source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="grants")
    elements = models.JSONField(_("data elements"), default=list)
    purpose_zh = models.CharField(_("purpose (Chinese)"), max_length=300)
    purpose_en = models.CharField(_("purpose (English)"), max_length=300)
    legal_basis_zh = models.CharField(_("legal basis (Chinese)"), max_length=500)
    legal_basis_en = models.CharField(_("legal basis (English)"), max_length=500)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(service__isnull=True) ^ models.Q(thing__isnull=True),
                name="grant_for_service_or_thing",
            )
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def purpose(self) -> str:
        return in_language(self.purpose_zh, self.purpose_en)
