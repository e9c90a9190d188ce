"""Reads of the platform's own registers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Count, Max
from django.utils.translation import gettext as _

from onething.catalog.models import DataElement, DataSource, Department, Grant, in_language
from onething.catalog.selectors import catalog_revision
from onething.sharing import prefill
from onething.sharing.models import (
    Consent,
    DataUse,
    Register,
    RegisterRecord,
    RelatedConsentRequest,
)


def register_records_about(subject: str, *, register: str | None = None) -> list[RegisterRecord]:
    """Every record that names `subject` (a resident ID number or credit code), oldest register
    first. Callers that show or use the values must be authorised for them and record the use."""
    records = RegisterRecord.objects.filter(subjects__subject=subject).select_related("register")
    if register is not None:
        records = records.filter(register__code=register)
    return list(records.distinct().order_by("register__code", "key"))


def register_record(register: str, key: str) -> dict[str, Any] | None:
    """The values of one record, or None."""
    record = RegisterRecord.objects.filter(register__code=register, key=key).first()
    return None if record is None else dict(record.data)


def register_sizes() -> dict[str, int]:
    """Records per register, by register code."""
    return dict(
        Register.objects.annotate(size=Count("records"))
        .order_by("code")
        .values_list("code", "size")
    )


@dataclass(frozen=True)
class _SharingCatalog:
    """The catalog's sources and grants as the prefill reads them, in both languages."""

    sources: tuple[prefill.Source, ...]
    # Each grant with its purpose and legal basis as (zh, en), put in the caller's language.
    grants: tuple[tuple[prefill.Grant, tuple[str, str], tuple[str, str]], ...]
    # Source code -> its name and its department's name, each as (zh, en).
    names: dict[str, tuple[tuple[str, str], tuple[str, str]]]


# (the catalog revision, or a fingerprint of the tables without one) -> what was built from them.
_catalog_cache: tuple[object, _SharingCatalog] | None = None


def _sharing_catalog() -> _SharingCatalog:
    """The catalog's sources and grants, rebuilt only when they change.

    Every prefill, consent page and exchange query needs them (a submit asked eleven times).
    They are read once per catalog revision, as the plans and the work calendar are: only a
    catalog load writes sources and grants, and a load or an admin edit of a department bumps
    the revision. Without a revision row one aggregate query per call tells whether they, or
    their departments, changed."""
    global _catalog_cache
    fingerprint: object = catalog_revision()
    if fingerprint is None:
        stamp = DataSource.objects.aggregate(
            source_count=Count("pk", distinct=True),
            sources_changed=Max("updated_at"),
            grant_count=Count("grants", distinct=True),
            grants_changed=Max("grants__updated_at"),
            departments_changed=Max("department__updated_at"),
        )
        fingerprint = ("tables", *sorted(stamp.items()))
    cached = _catalog_cache
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    rows = list(DataSource.objects.select_related("department"))
    built = _SharingCatalog(
        sources=tuple(
            prefill.Source(
                code=source.code,
                connector=source.connector,
                department=source.department.code,
                authoritative=source.authoritative,
                options=dict(source.options),
                serves=tuple(prefill.Served(**served) for served in source.serves),
            )
            for source in rows
        ),
        grants=tuple(
            (
                prefill.Grant(
                    code=grant.code,
                    source=grant.source.code,
                    elements=frozenset(grant.elements),
                    purpose="",
                    legal_basis="",
                    service=grant.service.code if grant.service else None,
                    thing=grant.thing.code if grant.thing else None,
                ),
                (grant.purpose_zh, grant.purpose_en),
                (grant.legal_basis_zh, grant.legal_basis_en),
            )
            for grant in Grant.objects.select_related("source", "service", "thing")
        ),
        names={
            s.code: ((s.name_zh, s.name_en), (s.department.name_zh, s.department.name_en))
            for s in rows
        },
    )
    _catalog_cache = (fingerprint, built)
    return built


def sharing_sources() -> list[prefill.Source]:
    """Every data source of the catalog, as the prefill planner reads them."""
    return list(_sharing_catalog().sources)


def sharing_grants() -> list[prefill.Grant]:
    """Every grant of the catalog, its purpose and legal basis in the active language."""
    return [
        replace(grant, purpose=in_language(*purpose), legal_basis=in_language(*legal_basis))
        for grant, purpose, legal_basis in _sharing_catalog().grants
    ]


def source_names() -> dict[str, tuple[str, str]]:
    """Source code -> (its name, its department's name), in the active language."""
    return {
        code: (in_language(*name), in_language(*department))
        for code, (name, department) in _sharing_catalog().names.items()
    }


def department_endpoints() -> dict[str, tuple[str, str]]:
    """Department code -> (base URL, shared secret) of its own system, for `http-json` sources.
    Callers ask only when a remote source is to be read."""
    # The endpoints live with the applications (they also receive cases); read them here only.
    from onething.applications.models import DepartmentEndpoint

    return {
        e.department.code: (e.base_url, e.secret)
        for e in DepartmentEndpoint.objects.select_related("department")
    }


DATA_USES_PER_PAGE = 200


@dataclass(frozen=True)
class DataUseRow:
    """One use as the person reads it: who, from where and which data, by name."""

    use: DataUse
    who: str
    source_name: str
    department_name: str
    element_labels: tuple[str, ...]


@dataclass(frozen=True)
class DataUsePage:
    rows: tuple[DataUseRow, ...]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """The position of the first row shown (1-based; 0 when none)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def data_uses_page(user, *, page: int = 1, per_page: int = DATA_USES_PER_PAGE) -> DataUsePage:
    """One page of the uses of the user's own data, newest first, with the reader, the source,
    its department and the data elements named in the active language (never `user:42`)."""
    page = max(1, page)
    if not getattr(user, "id_number", ""):
        return DataUsePage(rows=(), page=page, per_page=per_page, total=0)
    uses = DataUse.objects.filter(subject=user.id_number)
    total = uses.count()
    chosen = list(uses[(page - 1) * per_page : page * per_page])
    sources = source_names()
    departments = {
        d.code: d.name
        for d in Department.objects.filter(code__in={u.department for u in chosen} - {""})
    }
    labels = {
        e.key: e.label
        for e in DataElement.objects.filter(key__in={k for u in chosen for k in u.elements})
    }
    readers = _reader_names(user, {u.actor for u in chosen})
    rows = tuple(
        DataUseRow(
            use=use,
            who=readers.get(use.actor, use.actor),
            source_name=sources.get(use.source, (use.source, ""))[0],
            department_name=(
                departments.get(use.department) or sources.get(use.source, ("", use.department))[1]
            ),
            element_labels=tuple(labels.get(key, key) for key in use.elements),
        )
        for use in chosen
    )
    return DataUsePage(rows=rows, page=page, per_page=per_page, total=total)


# Which of a reader's roles names them best: the one a department's reading is done under.
_ROLE_ORDER = ("reviewer", "window_clerk", "hotline_agent", "supervisor", "administrator")


def _reader_names(viewer, labels: set[str]) -> dict[str, str]:
    """Actor label (`user:42`, `system:exchange:fj_health/...`) -> how the person whose data
    were read sees the reader: a member of staff by department and role, another applicant by
    name, a department's system by its department, the platform's own jobs as the platform."""
    from onething.accounts.models import Role, User

    user_ids = {int(label[5:]) for label in labels if label[5:].isdigit() and label[:5] == "user:"}
    users = {
        u.pk: u for u in User.objects.filter(pk__in=user_ids).prefetch_related("roles__department")
    }
    systems = {
        label: label.split(":", 2)[2].split("/", 1)[0]
        for label in labels
        if label.startswith(("system:exchange:", "system:connector:"))
    }
    department_names = {
        d.code: d.name for d in Department.objects.filter(code__in=set(systems.values()))
    }
    out: dict[str, str] = {}
    for label in labels:
        if label.startswith("user:") and label[5:].isdigit():
            reader = users.get(int(label[5:]))
            if reader is None:
                out[label] = _("a user who no longer has an account")
            elif reader.pk == viewer.pk:
                out[label] = _("you")
            elif roles := sorted(
                reader.roles.all(),
                key=lambda r: _ROLE_ORDER.index(r.role) if r.role in _ROLE_ORDER else 99,
            ):
                role = roles[0]
                title = Role(role.role).label if role.role in Role.values else role.role
                out[label] = f"{role.department.name} {title}" if role.department else str(title)
            else:
                out[label] = _("applicant %(name)s") % {"name": reader.real_name or reader.username}
        elif label in systems:
            department = department_names.get(systems[label], systems[label])
            out[label] = _("the system of %(department)s (data exchange)") % {
                "department": department
            }
        elif label.startswith("system:"):
            out[label] = _("the platform (automatic)")
        else:
            out[label] = _("unknown")
    return out


@dataclass(frozen=True)
class ConsentRow:
    source: str
    source_name: str
    department_name: str
    of: str  # as the source declares it: applicant | spouse | enterprise | mother | father
    whose: str  # for this applicant: applicant | spouse | enterprise ("" when unknown)
    elements: tuple[tuple[str, str], ...]  # (key, label)
    purposes: tuple[str, ...]
    legal_bases: tuple[str, ...]


@dataclass(frozen=True)
class ConsentOverview:
    rows: tuple[ConsentRow, ...]  # what will be read (sensitive elements left out)
    sensitive: tuple[ConsentRow, ...]  # the sensitive elements, each needing its own tick

    @property
    def empty(self) -> bool:
        return not self.rows and not self.sensitive


def consent_overview(request) -> ConsentOverview:
    """What a prefill for `request` would read, from where, about whom and why — for the page
    the applicant consents on. Only granted elements appear (the rest is never read)."""
    grants = prefill.applicable_grants(
        sharing_grants(), thing=request.thing, services=request.services
    )
    plan = prefill.fetch_plan(request.wanted, sharing_sources(), grants)
    names = source_names()
    labels = {
        e.key: e.label
        for e in DataElement.objects.filter(key__in=[k for lk in plan.lookups for k in lk.elements])
    }

    def rows(pick_sensitive: bool) -> tuple[ConsentRow, ...]:
        out = []
        for lookup in plan.lookups:
            keys = [k for k in lookup.elements if (k in request.sensitive) == pick_sensitive]
            if not keys:
                continue
            name, department = names.get(lookup.source.code, (lookup.source.code, ""))
            out.append(
                ConsentRow(
                    source=lookup.source.code,
                    source_name=name,
                    department_name=department,
                    of=lookup.of,
                    whose=request.relatives.role(lookup.of) or "",
                    elements=tuple((k, labels.get(k, k)) for k in keys),
                    purposes=lookup.purposes,
                    legal_bases=tuple(dict.fromkeys(g.legal_basis for g in lookup.grants)),
                )
            )
        return tuple(out)

    return ConsentOverview(rows=rows(False), sensitive=rows(True))


def approved_related_subjects(application_reference: str) -> dict[str, str]:
    """Relation -> ID number of the related persons who let this application read their data."""
    return dict(
        RelatedConsentRequest.objects.filter(
            application_reference=application_reference,
            status=RelatedConsentRequest.Status.APPROVED,
        ).values_list("relation", "subject")
    )


def related_requests_of(application_reference: str) -> dict[str, RelatedConsentRequest]:
    return {
        r.relation: r
        for r in RelatedConsentRequest.objects.filter(application_reference=application_reference)
    }


def related_requests_to(user) -> list[RelatedConsentRequest]:
    """What others asked of this person, pending first, then newest."""
    if not getattr(user, "id_number", ""):
        return []
    requests = RelatedConsentRequest.objects.filter(subject=user.id_number).select_related(
        "requested_by"
    )
    return sorted(requests, key=lambda r: (r.status != "pending", -r.created_at.timestamp()))


def latest_consent(application_reference: str) -> Consent | None:
    """What the applicant last consented to for this application, if anything."""
    return Consent.objects.filter(application_reference=application_reference).first()


PARENT_SEX = {"mother": "female", "father": "male"}
POPULATION_REGISTER = "population"
# What working out who is who reads of a person's population record: of the applicant their sex
# and family links, of a relative whether (and when) they died.
APPLICANT_RELATION_FIELDS = ("sex", "spouse_id_number", "father_id_number", "mother_id_number")
RELATIVE_RELATION_FIELDS = ("status", "death_date")

# Called once for each person whose population record was read: their ID number, whether the
# register holds them, and the fields read. The caller records the use (selectors write nothing).
RelationReadRecorder = Callable[[str, bool, tuple[str, ...]], None]


def population_source() -> prefill.Source | None:
    """The catalog's data source that serves the population register, if one does."""
    return next(
        (
            source
            for source in sharing_sources()
            if source.connector == "table" and source.options.get("register") == POPULATION_REGISTER
        ),
        None,
    )


class Relatives:
    """Who is who around one applicant, as the population register records it: what a
    source's `of` means for them, their spouse, the relative who died.

    Made once per request (a prefill resolves a role for every source and lookup): each
    person's record is read at most once, and only when first needed; `on_read` hears of each
    read so that it can be recorded as a use of that person's data."""

    def __init__(
        self, applicant_id_number: str, *, on_read: RelationReadRecorder | None = None
    ) -> None:
        self.applicant_id_number = applicant_id_number
        self.on_read = on_read
        self._residents: dict[str, dict[str, Any]] = {}
        self._deceased: tuple[str | None] | None = None

    def resident(self, id_number: str) -> dict[str, Any]:
        """The person's population record ({} when they are not in it)."""
        if id_number not in self._residents:
            record = register_record(POPULATION_REGISTER, id_number) or {}
            self._residents[id_number] = record
            if self.on_read is not None:
                fields = (
                    APPLICANT_RELATION_FIELDS
                    if id_number == self.applicant_id_number
                    else RELATIVE_RELATION_FIELDS
                )
                self.on_read(id_number, bool(record), fields)
        return self._residents[id_number]

    def role(self, of: str) -> str | None:
        """applicant, spouse, enterprise or deceased: whose record `of` means for the applicant.

        A child's mother or father is the applicant or the spouse by the applicant's sex in the
        population register; unknown when the applicant is not in it."""
        if of == "deceased":
            return "deceased" if self.deceased() else None
        if of not in PARENT_SEX:
            return of
        sex = self.resident(self.applicant_id_number).get("sex")
        if sex not in ("female", "male"):
            return None
        return "applicant" if sex == PARENT_SEX[of] else "spouse"

    def spouse(self) -> str | None:
        """The ID number of the applicant's spouse, or None."""
        return self.resident(self.applicant_id_number).get("spouse_id_number") or None

    def deceased(self) -> str | None:
        """The ID number of the applicant's parent or spouse the population register records
        as deceased (the most recent death), for the after-death matters; None if there is
        none."""
        if self._deceased is None:
            resident = self.resident(self.applicant_id_number)
            candidates = [
                resident.get(key)
                for key in ("father_id_number", "mother_id_number", "spouse_id_number")
            ]
            dead = [
                (record.get("death_date", ""), number)
                for number in candidates
                if number
                and (record := self.resident(number))
                and record.get("status") == "deceased"
            ]
            self._deceased = (max(dead)[1] if dead else None,)
        return self._deceased[0]
