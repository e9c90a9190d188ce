"""Reads of the platform's own registers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count

from onething.catalog.models import DataElement, DataSource, Grant, in_language
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


def sharing_sources() -> list[prefill.Source]:
    """Every data source of the catalog, as the prefill planner reads them."""
    return [
        prefill.Source(
            code=source.code,
            connector=source.connector,
            department=source.department.code,
            authoritative=source.authoritative,
            options=dict(source.options),
            serves=tuple(prefill.Served(**served) for served in source.serves),
        )
        for source in DataSource.objects.select_related("department")
    ]


def sharing_grants() -> list[prefill.Grant]:
    return [
        prefill.Grant(
            code=grant.code,
            source=grant.source.code,
            elements=frozenset(grant.elements),
            purpose=grant.purpose,
            legal_basis=in_language(grant.legal_basis_zh, grant.legal_basis_en),
            service=grant.service.code if grant.service else None,
            thing=grant.thing.code if grant.thing else None,
        )
        for grant in Grant.objects.select_related("source", "service", "thing")
    ]


def source_names() -> dict[str, tuple[str, str]]:
    """Source code -> (its name, its department's name), in the active language."""
    return {
        s.code: (s.name, s.department.name) for s in DataSource.objects.select_related("department")
    }


def data_uses_about(user, *, limit: int = 200) -> list[DataUse]:
    """Every recorded use of the user's own data, newest first (their resident ID number)."""
    if not getattr(user, "id_number", ""):
        return []
    return list(DataUse.objects.filter(subject=user.id_number)[:limit])


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
                    whose=resolve_role(lookup.of, request.applicant_id_number) or "",
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


def resolve_role(of: str, applicant_id_number: str) -> str | None:
    """applicant, spouse or enterprise: whose record a source's `of` means for this applicant.

    A child's mother or father is the applicant or the spouse by the applicant's sex in the
    population register; unknown when the applicant is not in it."""
    if of == "deceased":
        return "deceased" if deceased_relative(applicant_id_number) else None
    if of not in PARENT_SEX:
        return of
    resident = register_record("population", applicant_id_number) or {}
    if resident.get("sex") not in ("female", "male"):
        return None
    return "applicant" if resident["sex"] == PARENT_SEX[of] else "spouse"


def deceased_relative(applicant_id_number: str) -> str | None:
    """The ID number of the applicant's parent or spouse the population register records as
    deceased (the most recent death), for the after-death matters; None if there is none."""
    resident = register_record("population", applicant_id_number) or {}
    candidates = [
        resident.get(key) for key in ("father_id_number", "mother_id_number", "spouse_id_number")
    ]
    dead = [
        (record.get("death_date", ""), number)
        for number in candidates
        if number
        and (record := register_record("population", number) or {})
        and record.get("status") == "deceased"
    ]
    return max(dead)[1] if dead else None
