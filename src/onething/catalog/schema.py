"""The shape of catalog definition files (YAML), checked field by field.

A definition file is a mapping whose top-level keys name kinds of record; any file may hold any
kinds, so a province can keep one file per thing or one file per kind:

    regions: [...]
    departments: [...]
    certificate_types: [...]
    data_elements: [...]
    materials: [...]
    services: [...]
    things: [...]
    calendar: [...]
    sources: [...]
    grants: [...]

These models check one record at a time. Cross-references between records (a service naming an
unknown department, a cycle in `after`, a condition naming an unknown question) are checked by
`catalog.validation` once every file has been read. No Django import here.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from onething.catalog import conditions
from onething.core.workdays import DayKind

CODE_PATTERN = r"^[a-z][a-z0-9_]*$"
ELEMENT_KEY_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"

Code = Annotated[str, Field(pattern=CODE_PATTERN, max_length=64)]
ElementKey = Annotated[str, Field(pattern=ELEMENT_KEY_PATTERN, max_length=100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Text(Strict):
    """A text in both languages of the platform."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class RegionLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    STREET = "street"


REGION_CODE_PATTERN = r"^\d{6}(\d{3}|\d{6})?$"


class RegionDef(Strict):
    code: str = Field(pattern=REGION_CODE_PATTERN, description="GB/T 2260 code")
    name: Text
    level: RegionLevel
    parent: str | None = None


class DepartmentDef(Strict):
    code: Code
    name: Text
    region: str
    kind: Literal["government", "public_institution", "enterprise"] = "government"


class CertificateTypeDef(Strict):
    code: Code
    name: Text
    issuer: Code = Field(description="department code")


class ElementType(StrEnum):
    STRING = "string"
    TEXT = "text"
    DATE = "date"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    CHOICE = "choice"


class Validator(StrEnum):
    CN_RIC = "cn_ric"
    CN_USCC = "cn_uscc"
    PHONE = "phone"
    EMAIL = "email"
    BANK_CARD = "bank_card"
    POSTCODE = "postcode"


class Sensitivity(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    PERSONAL = "personal"
    SENSITIVE = "sensitive"


class Option(Strict):
    value: str = Field(min_length=1, max_length=64)
    label: Text


class DataElementDef(Strict):
    key: ElementKey
    label: Text
    type: ElementType
    validator: Validator | None = None
    sensitivity: Sensitivity = Sensitivity.INTERNAL
    options: list[Option] = Field(default_factory=list)
    min: Decimal | None = None
    max: Decimal | None = None
    help: Text | None = None
    past_only: bool = Field(default=False, description="a date that cannot be in the future")

    @model_validator(mode="after")
    def _options_only_for_choices(self) -> DataElementDef:
        if self.type == ElementType.CHOICE and not self.options:
            raise ValueError("a choice element needs options")
        if self.type != ElementType.CHOICE and self.options:
            raise ValueError("only a choice element may have options")
        return self


class MaterialKind(StrEnum):
    ORIGINAL = "original"
    COPY = "copy"
    ELECTRONIC = "electronic"


class MaterialSource(StrEnum):
    """Where the applicant's copy comes from when nobody else holds it."""

    APPLICANT = "applicant"
    SHARING = "sharing"
    CERTIFICATE = "certificate"


class MaterialDef(Strict):
    code: Code
    name: Text
    kind: MaterialKind
    carries: list[ElementKey] = Field(default_factory=list)
    source: MaterialSource = MaterialSource.APPLICANT
    certificate_type: Code | None = Field(
        default=None, description="the e-certificate type that can replace the paper"
    )
    shared_by: Code | None = Field(
        default=None, description="the department whose data replaces the material"
    )
    copies: int = Field(default=1, ge=1, le=20)

    @model_validator(mode="after")
    def _source_needs_its_reference(self) -> MaterialDef:
        if self.source == MaterialSource.CERTIFICATE and not self.certificate_type:
            raise ValueError("source 'certificate' needs certificate_type")
        if self.source == MaterialSource.SHARING and not self.shared_by:
            raise ValueError("source 'sharing' needs shared_by")
        return self


class ServiceKind(StrEnum):
    LICENCE = "licence"  # 行政许可
    CONFIRMATION = "confirmation"  # 行政确认
    PAYMENT = "payment"  # 行政给付
    REGISTRATION = "registration"  # 登记
    PUBLIC_SERVICE = "public_service"  # 公共服务
    OTHER = "other"  # 其他行政权力


class Handler(StrEnum):
    WORKBENCH = "workbench"
    CONNECTOR = "connector"
    AUTOMATIC = "automatic"


class ServiceField(Strict):
    element: ElementKey
    required: bool = True


class ServiceMaterial(Strict):
    material: Code
    required: bool = True
    deferrable: bool = False


class ServiceOutput(Strict):
    """A value the department produces on approval that later members can use."""

    element: ElementKey


# Rules an automatic handler may apply (秒批); implemented in applications.handlers.
AUTOMATIC_RULES = ("complete_inputs", "registered_enterprise", "authoritative_inputs")


class ServiceDef(Strict):
    code: Code
    name: Text
    department: Code
    kind: ServiceKind
    legal_basis: Text
    fields: list[ServiceField] = Field(default_factory=list)
    materials: list[ServiceMaterial] = Field(default_factory=list)
    outputs: list[ServiceOutput] = Field(default_factory=list)
    statutory_days: int = Field(ge=0, le=365)
    promised_days: int = Field(ge=0, le=365)
    fee: Decimal = Field(default=Decimal("0"), ge=0, max_digits=12, decimal_places=2)
    fee_note: Text | None = None
    result_certificate_type: Code | None = None
    handler: Handler = Handler.WORKBENCH
    rule: Literal[AUTOMATIC_RULES] | None = Field(  # type: ignore[valid-type]
        default=None, description="the rule that decides an automatic service"
    )
    cross_region: bool = False
    counter_visits: int = Field(default=1, ge=0, le=10)
    description: Text | None = None
    rule_inputs: list[ElementKey] = Field(
        default_factory=list,
        description="authoritative_inputs: the inputs that must come from an authoritative "
        "source or an earlier result (default: every required field)",
    )
    rule_condition: dict[str, Any] | None = Field(
        default=None, description="authoritative_inputs: a JsonLogic condition on the values"
    )

    @model_validator(mode="after")
    def _promise_within_statute(self) -> ServiceDef:
        fields = {f.element for f in self.fields}
        for key in self.rule_inputs:
            if key not in fields:
                raise ValueError(f"rule_inputs: {key!r} is not one of the service's fields")
        if (self.rule_inputs or self.rule_condition) and self.rule != "authoritative_inputs":
            raise ValueError("rule_inputs and rule_condition belong to rule authoritative_inputs")
        if self.rule_condition is not None:
            conditions.check(self.rule_condition, "rule_condition")
        if self.handler == Handler.AUTOMATIC and self.rule is None:
            raise ValueError("an automatic service needs a rule: " + ", ".join(AUTOMATIC_RULES))
        if self.handler != Handler.AUTOMATIC and self.rule is not None:
            raise ValueError("only an automatic service has a rule")
        if self.promised_days > self.statutory_days:
            raise ValueError(
                f"promised_days ({self.promised_days}) exceeds statutory_days "
                f"({self.statutory_days})"
            )
        return self


class QuestionType(StrEnum):
    YES_NO = "yes_no"
    CHOICE = "choice"
    NUMBER = "number"


class QuestionDef(Strict):
    key: Code
    type: QuestionType
    label: Text
    help: Text | None = None
    options: list[Option] = Field(default_factory=list)
    min: Decimal | None = None
    max: Decimal | None = None
    default: bool | str | Decimal | None = None

    @model_validator(mode="after")
    def _options_only_for_choices(self) -> QuestionDef:
        if self.type == QuestionType.CHOICE and len(self.options) < 2:
            raise ValueError("a choice question needs at least two options")
        if self.type != QuestionType.CHOICE and self.options:
            raise ValueError("only a choice question may have options")
        return self


class MemberDef(Strict):
    service: Code
    when: Any = Field(
        default=True, description="a JsonLogic condition over the answers; true = always"
    )
    after: list[Code] = Field(default_factory=list)
    note: Text | None = None


class Audience(StrEnum):
    PERSON = "person"
    ENTERPRISE = "enterprise"


class ThingDef(Strict):
    code: Code
    name: Text
    audience: Audience
    category: Text = Field(description="life stage (persons) or business stage (enterprises)")
    lead_department: Code
    summary: Text
    questions: list[QuestionDef] = Field(default_factory=list)
    members: list[MemberDef] = Field(min_length=1)
    form_rules: list[Code] = Field(
        default_factory=list, description="named cross-field rules (catalog.fields.FORM_RULES)"
    )


class CalendarDayDef(Strict):
    """A date declared working or a holiday, over the State Council schedule (调休 and the like).

    Without a region it applies to the whole country; with one, to that region and every region
    inside it. Identified by date and region: the same pair twice is an error.
    """

    date: dt.date
    kind: DayKind
    region: str | None = Field(default=None, pattern=REGION_CODE_PATTERN)
    name: Text

    @field_validator("date", mode="before")
    @classmethod
    def _a_date_only(cls, value: Any) -> Any:
        # YAML reads 2027-01-01 as a date; refuse numbers (timestamps) and datetimes.
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
            raise ValueError("expected a date written as YYYY-MM-DD")
        return value

    @property
    def key(self) -> str:
        return f"{self.date.isoformat()}@{self.region or 'national'}"


class ConnectorKind(StrEnum):
    TABLE = "table"  # a register the platform holds (sharing.registers)
    HTTP_JSON = "http-json"  # a department's REST service
    CERTIFICATES = "certificates"  # the platform's e-certificate library


class SubjectRole(StrEnum):
    """Whose record a value is read from, seen from the application."""

    APPLICANT = "applicant"  # the person applying
    SPOUSE = "spouse"  # the applicant's spouse (needs the spouse's own consent)
    ENTERPRISE = "enterprise"  # the enterprise the applicant acts for
    # The mother or the father of a child: the applicant or the spouse, by the population
    # register's sex of the applicant (the spouse's data only with the spouse's consent).
    MOTHER = "mother"
    FATHER = "father"
    # The person who died, for the after-death matters: the applicant's parent or spouse the
    # population register records as deceased (their data are read under the grant's legal
    # basis and the applicant's consent).
    DECEASED = "deceased"


FIELD_NAME = r"^[a-z][a-z0-9_.]*$"


class ServedElement(Strict):
    element: ElementKey
    field: str = Field(pattern=FIELD_NAME, max_length=100, description="the source's field")
    of: SubjectRole = SubjectRole.APPLICANT


class SourceDef(Strict):
    """数据资源: where the platform can read data elements, for which subject, through which
    connector. Nothing is read from it without a grant."""

    code: Code
    name: Text
    department: Code
    connector: ConnectorKind
    authoritative: bool = Field(
        default=True, description="its values are shown read-only and count for instant approval"
    )
    options: dict[str, str] = Field(default_factory=dict)
    serves: list[ServedElement] = Field(min_length=1)

    @model_validator(mode="after")
    def _options_for_the_connector(self) -> SourceDef:
        needed = {
            ConnectorKind.TABLE: "register",
            ConnectorKind.HTTP_JSON: "path",
            ConnectorKind.CERTIFICATES: "certificate_type",
        }[self.connector]
        if not self.options.get(needed):
            raise ValueError(f"a {self.connector} source needs options.{needed}")
        if self.connector == ConnectorKind.HTTP_JSON and "{subject}" not in self.options["path"]:
            raise ValueError("options.path must contain {subject}")
        seen = set()
        for served in self.serves:
            if served.element in seen:
                raise ValueError(f"element {served.element!r} is served twice")
            seen.add(served.element)
        return self


class GrantDef(Strict):
    """共享授权: a service (or every member of a thing) may read these elements from this source,
    for this purpose, on this legal basis. Without a grant, nothing is read."""

    code: Code
    service: Code | None = None
    thing: Code | None = None
    source: Code
    elements: list[ElementKey] = Field(min_length=1)
    purpose: Text
    legal_basis: Text

    @model_validator(mode="after")
    def _service_or_thing(self) -> GrantDef:
        if (self.service is None) == (self.thing is None):
            raise ValueError("a grant names exactly one of service or thing")
        return self


class DefinitionFile(Strict):
    regions: list[RegionDef] = Field(default_factory=list)
    departments: list[DepartmentDef] = Field(default_factory=list)
    certificate_types: list[CertificateTypeDef] = Field(default_factory=list)
    data_elements: list[DataElementDef] = Field(default_factory=list)
    materials: list[MaterialDef] = Field(default_factory=list)
    services: list[ServiceDef] = Field(default_factory=list)
    things: list[ThingDef] = Field(default_factory=list)
    calendar: list[CalendarDayDef] = Field(default_factory=list)
    sources: list[SourceDef] = Field(default_factory=list)
    grants: list[GrantDef] = Field(default_factory=list)

    @field_validator("*", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


KINDS = tuple(DefinitionFile.model_fields)
KIND_MODELS: dict[str, type[Strict]] = {
    "regions": RegionDef,
    "departments": DepartmentDef,
    "certificate_types": CertificateTypeDef,
    "data_elements": DataElementDef,
    "materials": MaterialDef,
    "services": ServiceDef,
    "things": ThingDef,
    "calendar": CalendarDayDef,
    "sources": SourceDef,
    "grants": GrantDef,
}


def element_key_is_valid(key: str) -> bool:
    return re.fullmatch(ELEMENT_KEY_PATTERN, key) is not None
