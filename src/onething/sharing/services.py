"""Writes of the sharing context: loading registers, reading data sources (prefill), and the
record of every use of somebody's data."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from onething.audit.services import audit_record
from onething.catalog.models import Department, Service, Thing, in_language
from onething.core.actors import actor_label
from onething.core.errors import Conflict, InvalidInput, NotFound
from onething.core.events import publish
from onething.sharing import prefill, selectors
from onething.sharing.connectors import Lookup, connectors
from onething.sharing.fetching import fetch_lookups, is_local
from onething.sharing.models import (
    Consent,
    DataUse,
    Register,
    RegisterRecord,
    RegisterSubject,
    RelatedConsentRequest,
)
from onething.sharing.registers import RegisterSet


@dataclass
class RegisterLoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = []
        for code in sorted(set(self.created) | set(self.updated) | set(self.removed)):
            parts.append(
                f"{code}: {self.created.get(code, 0)} new, {self.updated.get(code, 0)} changed, "
                f"{self.removed.get(code, 0)} removed"
            )
        return "; ".join(parts) or "no registers"


@transaction.atomic
def register_load(*, actor: str, registers: RegisterSet) -> RegisterLoadReport:
    """Make the stored registers match `registers`, record by record; all or nothing.

    Loading the same files again changes nothing. Registers not named in `registers` are kept.
    """
    departments = {
        d.code: d
        for d in Department.objects.filter(
            code__in={r.department for r in registers.registers.values()}
        )
    }
    unknown = {
        f"{code}.department": f"unknown department {definition.department!r}"
        for code, definition in registers.registers.items()
        if definition.department not in departments
    }
    if unknown:
        raise InvalidInput("registers name unknown departments", fields=unknown)
    report = RegisterLoadReport()
    now = timezone.now()
    for code, definition in registers.registers.items():
        register, _ = Register.objects.update_or_create(
            code=code,
            defaults={
                "name_zh": definition.name.zh,
                "name_en": definition.name.en,
                "department": departments[definition.department],
                "subject_kind": definition.subject.value,
                "key_field": definition.key,
                "fields": {
                    name: spec.model_dump(mode="json", exclude_defaults=True)
                    for name, spec in definition.fields.items()
                },
                "loaded_at": now,
            },
        )
        rows = {row[definition.key]: row for row in registers.records[code]}
        stored = {record.key: record for record in register.records.all()}
        fresh = [
            RegisterRecord(register=register, key=key, data=row)
            for key, row in rows.items()
            if key not in stored
        ]
        changed = [
            stored[key] for key, row in rows.items() if key in stored and stored[key].data != row
        ]
        for record in changed:
            record.data = rows[record.key]
        gone = [record.pk for key, record in stored.items() if key not in rows]
        RegisterRecord.objects.filter(pk__in=gone).delete()
        RegisterRecord.objects.bulk_update(changed, ["data"])
        RegisterRecord.objects.bulk_create(fresh)
        # bulk_create sets primary keys on PostgreSQL and SQLite; read them back to be sure.
        touched = list(
            register.records.filter(key__in=[r.key for r in fresh] + [r.key for r in changed])
        )
        RegisterSubject.objects.filter(record__in=touched).delete()
        RegisterSubject.objects.bulk_create(
            RegisterSubject(record=record, subject=record.data[name], field=name)
            for record in touched
            for name in definition.subjects
            if record.data.get(name)
        )
        report.created[code], report.updated[code], report.removed[code] = (
            len(fresh),
            len(changed),
            len(gone),
        )
        if fresh or changed or gone:
            audit_record(
                actor=actor,
                action="register.load",
                stream=f"register:{code}",
                subject=code,
                purpose="register maintenance",
                data={"created": len(fresh), "updated": len(changed), "removed": len(gone)},
            )
    return report


# --- prefill: reading what departments already hold ---------------------------------------------


@dataclass(frozen=True)
class PrefillRequest:
    """Everything the prefill needs to know, gathered by the caller (the application)."""

    actor: Any
    applicant_id_number: str
    thing: str
    services: tuple[str, ...]
    wanted: tuple[str, ...]  # the data elements the form asks for
    sensitive: frozenset[str] = frozenset()  # elements that need their own tick
    sensitive_consented: bool = False
    enterprise_uscc: str | None = None
    application_reference: str = ""
    # department code -> (base URL, shared secret) of its system, for `http-json` sources;
    # None: read from the catalog's endpoints when a remote source is asked
    endpoints: Mapping[str, tuple[str, str]] | None = None
    # who is who around the applicant, resolved once for the whole request
    relatives: selectors.Relatives | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.relatives is None:
            object.__setattr__(
                self,
                "relatives",
                selectors.Relatives(self.applicant_id_number, on_read=self._record_relation_read),
            )

    def _record_relation_read(self, subject: str, found: bool, fields: tuple[str, ...]) -> None:
        record_relation_read(
            actor=self.actor,
            subject=subject,
            found=found,
            fields=fields,
            service=self.thing,
            application_reference=self.application_reference,
        )


@dataclass
class PrefillResult:
    values: dict[str, prefill.Prefilled] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)  # source -> why
    needs_related_consent: tuple[str, ...] = ()  # elements of a related person
    denied: dict[str, tuple[str, ...]] = field(default_factory=dict)


SUBJECT_STREAM_KEY = "onething.audit.subject"


def subject_stream(subject: str) -> str:
    """The audit stream of one person's or enterprise's data, named without the number itself.

    Keyed with the server's secret: resident ID numbers are few enough (region, birth date,
    sequence) that a plain hash of them could be reversed by trying them all."""
    return (
        "subject:" + salted_hmac(SUBJECT_STREAM_KEY, subject, algorithm="sha256").hexdigest()[:24]
    )


# While a caller's transaction may still roll back (the one-call API), the uses recorded in it
# are also kept here, so that they can be written again after a rollback: a read that happened
# stays recorded even when the change that needed it is refused.
_journal: ContextVar[list[dict[str, Any]] | None] = ContextVar("data_use_journal", default=None)


@contextmanager
def data_use_journal() -> Iterator[list[dict[str, Any]]]:
    entries: list[dict[str, Any]] = []
    token = _journal.set(entries)
    try:
        yield entries
    finally:
        _journal.reset(token)


def data_use_replay(entries: list[dict[str, Any]]) -> None:
    """Write again the uses of a rolled-back transaction (in a transaction of their own)."""
    token = _journal.set(None)
    try:
        with transaction.atomic():
            for entry in entries:
                record_data_use(**entry)
    finally:
        _journal.reset(token)


def record_data_use(
    *,
    actor: Any,
    subject: str,
    source: str,
    department: str,
    elements: list[str],
    purpose: str,
    use: str,
    outcome: str,
    service: str = "",
    application_reference: str = "",
) -> DataUse:
    """One use of somebody's data: a DataUse row for them and an audit record, together."""
    journal = _journal.get()
    if journal is not None:
        journal.append(
            {
                "actor": actor,
                "subject": subject,
                "source": source,
                "department": department,
                "elements": elements,
                "purpose": purpose,
                "use": use,
                "outcome": outcome,
                "service": service,
                "application_reference": application_reference,
            }
        )
    at = timezone.now()
    data_use = DataUse.objects.create(
        at=at,
        actor=actor_label(actor),
        subject=subject,
        source=source,
        department=department,
        elements=sorted(elements),
        purpose=purpose[:300],
        use=use,
        service=service,
        application_reference=application_reference,
        outcome=outcome,
    )
    audit_record(
        actor=actor_label(actor),
        action=f"data.{use}",
        stream=subject_stream(subject),
        subject=application_reference or service or source,
        purpose=purpose[:300],
        data={
            "source": source,
            "elements": sorted(elements),
            "outcome": outcome,
            "service": service,
        },
    )
    return data_use


RELATION_USE = "relation"
ADMIN_VIEW_USE = "admin_view"


@transaction.atomic
def record_admin_view(*, actor: Any, record: RegisterRecord) -> list[DataUse]:
    """Record that an administrator opened one register record: a use of the data of everybody
    the record names (a marriage names two people)."""
    register = record.register
    source = next(
        (
            s
            for s in selectors.sharing_sources()
            if s.connector == "table" and s.options.get("register") == register.code
        ),
        None,
    )
    subjects = sorted(set(record.subjects.values_list("subject", flat=True)))
    return [
        record_data_use(
            actor=actor,
            subject=subject,
            source=source.code if source else register.code,
            department=register.department.code,
            elements=sorted(record.data),
            purpose=_("An administrator opened the record in the register's administration"),
            use=ADMIN_VIEW_USE,
            outcome=DataUse.Outcome.PROVIDED,
        )
        for subject in subjects
    ]


def _service_name(code: str) -> str:
    found = Thing.objects.filter(code=code).first() or Service.objects.filter(code=code).first()
    return in_language(found.name_zh, found.name_en) if found else code


@transaction.atomic
def record_relation_read(
    *,
    actor: Any,
    subject: str,
    found: bool,
    fields: tuple[str, ...],
    service: str,
    application_reference: str = "",
) -> DataUse:
    """Record that `subject`'s population record was read to work out who is who (the
    applicant's sex, spouse, parents; whether a relative died) for `service`."""
    source = selectors.population_source()
    return record_data_use(
        actor=actor,
        subject=subject,
        source=source.code if source else selectors.POPULATION_REGISTER,
        department=source.department if source else "",
        elements=list(fields),
        purpose=_("Working out who is who for %(service)s") % {"service": _service_name(service)},
        use=RELATION_USE,
        outcome=DataUse.Outcome.PROVIDED if found else DataUse.Outcome.NO_RECORD,
        service=service,
        application_reference=application_reference,
    )


def _subject_for(of: str, request: PrefillRequest) -> str | None:
    of = request.relatives.role(of) or ""
    if of == "deceased":
        return request.relatives.deceased()
    if of == "applicant":
        return request.applicant_id_number or None
    if of == "enterprise":
        return request.enterprise_uscc or None
    if of != "spouse":
        return None
    # A related person: only after they approved the request in their own portal.
    if not request.application_reference:
        return None
    return selectors.approved_related_subjects(request.application_reference).get(of)


@transaction.atomic
def related_consent_request(
    *, actor: Any, request: PrefillRequest, relation: str = "spouse"
) -> RelatedConsentRequest:
    """Ask the applicant's spouse to let this application read their data (the elements the
    thing's grants name about them). Asking again while it is pending changes nothing."""
    if relation != "spouse":
        raise InvalidInput(
            _("Only a spouse can be asked."), fields={"relation": _("Must be spouse.")}
        )
    overview = selectors.consent_overview(request)
    rows = [
        row
        for row in overview.rows + overview.sensitive
        if request.relatives.role(row.of) == relation
    ]
    if not rows:
        raise InvalidInput(
            _("This application reads nothing about your spouse."),
            fields={"relation": _("Nothing to ask for.")},
        )
    subject = request.relatives.spouse()
    if subject is None:
        raise Conflict(_("The population register holds no spouse for you."))
    existing = RelatedConsentRequest.objects.filter(
        application_reference=request.application_reference, relation=relation
    ).first()
    if existing is not None and existing.status in (
        RelatedConsentRequest.Status.PENDING,
        RelatedConsentRequest.Status.APPROVED,
    ):
        return existing
    values = {
        "thing": request.thing,
        "requested_by": actor,
        "subject": subject,
        "elements": sorted(key for row in rows for key, _label in row.elements),
        "purposes": sorted({p for row in rows for p in row.purposes}),
        "status": RelatedConsentRequest.Status.PENDING,
        "created_at": timezone.now(),
        "decided_at": None,
    }
    consent_request, _created = RelatedConsentRequest.objects.update_or_create(
        application_reference=request.application_reference, relation=relation, defaults=values
    )
    audit_record(
        actor=actor_label(actor),
        action="data.consent_requested",
        stream=subject_stream(subject),
        subject=request.application_reference,
        purpose="; ".join(consent_request.purposes),
        data={"relation": relation, "elements": consent_request.elements},
    )
    publish("consent.requested", request=consent_request.pk)
    return consent_request


@transaction.atomic
def related_consent_decide(
    *, actor: Any, consent_request: RelatedConsentRequest, approve: bool
) -> RelatedConsentRequest:
    """The related person answers in their own portal; only they can."""
    consent_request = RelatedConsentRequest.objects.select_for_update().get(pk=consent_request.pk)
    if getattr(actor, "id_number", None) != consent_request.subject:
        raise NotFound(_("This request does not exist."))
    if consent_request.status != RelatedConsentRequest.Status.PENDING:
        raise Conflict(_("You have already answered this request."))
    consent_request.status = (
        RelatedConsentRequest.Status.APPROVED if approve else RelatedConsentRequest.Status.DECLINED
    )
    consent_request.decided_at = timezone.now()
    consent_request.save(update_fields=["status", "decided_at"])
    audit_record(
        actor=actor_label(actor),
        action=f"data.consent_{consent_request.status}",
        stream=subject_stream(consent_request.subject),
        subject=consent_request.application_reference,
        data={"relation": consent_request.relation, "elements": consent_request.elements},
    )
    publish("consent.decided", request=consent_request.pk)
    return consent_request


def prefill_run(
    request: PrefillRequest,
    *,
    budget: float | None = None,
    registry=connectors,
    use: str = "prefill",
) -> PrefillResult:
    """Read every granted element the form asks for from every source at once, under one time
    budget; record every read and every refusal. A slow or failing source leaves its fields for
    the applicant to fill in — it never fails the form."""
    budget = settings.SHARING_PREFILL_BUDGET_SECONDS if budget is None else budget
    started = time.monotonic()
    wanted = [
        key for key in request.wanted if key not in request.sensitive or request.sensitive_consented
    ]
    grants = prefill.applicable_grants(
        selectors.sharing_grants(), thing=request.thing, services=request.services
    )
    sources = selectors.sharing_sources()
    plan = prefill.fetch_plan(wanted, sources, grants)
    result = PrefillResult(denied=dict(plan.denied))
    departments = {s.code: s.department for s in sources}
    served_as = {
        (source.code, served.element): served.of for source in sources for served in source.serves
    }
    # A refused read still says what it was for: the purposes under which this service reads
    # that source (or, without any grant on it, the purposes of its other reads).
    all_purposes = "; ".join(dict.fromkeys(g.purpose for g in grants if g.purpose))
    purposes_by_source = {
        source.code: "; ".join(
            dict.fromkeys(g.purpose for g in grants if g.source == source.code and g.purpose)
        )
        for source in sources
    }
    for element, denied_by in plan.denied.items():
        for source in denied_by:
            # The person whose data was asked for, when known (nothing was read either way).
            role = served_as.get((source, element), "applicant")
            record_data_use(
                actor=request.actor,
                subject=_subject_for(role, request) or request.applicant_id_number,
                source=source,
                department=departments.get(source, ""),
                elements=[element],
                purpose=purposes_by_source.get(source) or all_purposes,
                use=use,
                outcome=DataUse.Outcome.DENIED,
                service=request.thing,
                application_reference=request.application_reference,
            )
    # One read per source and person: the mother's and the applicant's record are the same
    # record when the applicant is the mother.
    groups: dict[tuple[str, str], list[prefill.PlannedLookup]] = {}
    related: list[str] = []
    for planned in plan.lookups:
        subject = _subject_for(planned.of, request)
        if subject is None:
            related.extend(planned.elements)
            continue
        groups.setdefault((planned.source.code, subject), []).append(planned)
    result.needs_related_consent = tuple(related)
    endpoints = request.endpoints
    if endpoints is None and any(
        not is_local(registry, members[0].source.connector) for members in groups.values()
    ):
        endpoints = selectors.department_endpoints()
    lookups: list[tuple[list[prefill.PlannedLookup], Lookup]] = []
    for (_code, subject), members in groups.items():
        source = members[0].source
        base_url, secret = (endpoints or {}).get(source.department, ("", ""))
        purposes = tuple(dict.fromkeys(p for planned in members for p in planned.purposes))
        lookups.append(
            (
                members,
                Lookup(
                    source=source.code,
                    connector=source.connector,
                    options=dict(source.options),
                    subject=subject,
                    fields=tuple(dict.fromkeys(f for planned in members for f in planned.fields)),
                    department=source.department,
                    extra={"base_url": base_url, "secret": secret, "purpose": "; ".join(purposes)},
                ),
            )
        )
    answers = fetch_lookups(
        [lookup for _members, lookup in lookups],
        registry=registry,
        budget=budget,
        started=started,
        thread_name="prefill",
    )
    outcome = prefill.Outcome()
    for (members, lookup), answer in zip(lookups, answers, strict=True):
        for planned in members:
            if answer.unavailable:
                outcome.unavailable[planned.source.code, planned.of] = answer.unavailable
            else:
                outcome.records[planned.source.code, planned.of] = answer.record
        if answer.unavailable:
            state = DataUse.Outcome.UNAVAILABLE
            result.unavailable[lookup.source] = answer.unavailable
        elif answer.record:
            state = DataUse.Outcome.PROVIDED
        else:
            state = DataUse.Outcome.NO_RECORD
        record_data_use(
            actor=request.actor,
            subject=lookup.subject,
            source=lookup.source,
            department=lookup.department,
            elements=sorted({e for planned in members for e in planned.elements}),
            purpose=str(lookup.extra.get("purpose", "")),
            use=use,
            outcome=state,
            service=request.thing,
            application_reference=request.application_reference,
        )
    result.values = prefill.assign(plan, outcome)
    return result


def consent_record(*, request: PrefillRequest, given_by) -> Consent:
    """Store what the applicant consented to, with the application (and in the audit trail)."""
    overview = selectors.consent_overview(request)
    described = [
        {
            "source": row.source,
            "of": row.of,
            "elements": [key for key, _label in row.elements],
            "purposes": list(row.purposes),
        }
        for row in overview.rows + (overview.sensitive if request.sensitive_consented else ())
    ]
    statement = "; ".join(
        f"{row.source_name} ({row.department_name}): "
        + ", ".join(str(label) for _key, label in row.elements)
        for row in overview.rows + (overview.sensitive if request.sensitive_consented else ())
    )
    consent = Consent.objects.create(
        application_reference=request.application_reference,
        given_by=given_by,
        given_at=timezone.now(),
        statement=statement,
        sources=described,
        sensitive_elements=sorted(
            key for row in overview.sensitive for key, _label in row.elements
        ),
        sensitive_consented=request.sensitive_consented,
    )
    audit_record(
        actor=actor_label(given_by),
        action="data.consent",
        stream=subject_stream(request.applicant_id_number),
        subject=request.application_reference,
        purpose="prefill",
        data={"sources": described, "sensitive": request.sensitive_consented},
    )
    return consent


def _same(typed: Any, held: Any) -> bool:
    return str(typed).strip().upper() == str(held).strip().upper()


def verify_typed(request: PrefillRequest, typed: Mapping[str, Any]) -> dict[str, str]:
    """Check values the applicant typed against the authoritative sources that hold them (under
    the same grants and consent as prefill; every read recorded as a verification). Returns the
    mismatches: element -> the source's name. A source that cannot answer checks nothing."""
    if not typed:
        return {}
    check = PrefillRequest(
        **{
            **{f.name: getattr(request, f.name) for f in dataclass_fields(PrefillRequest)},
            "wanted": tuple(typed),
        }
    )
    result = prefill_run(check, use="verification")
    names = selectors.source_names()
    return {
        key: str(names.get(found.source, (found.source, ""))[0])
        for key, found in result.values.items()
        if found.authoritative and key in typed and not _same(typed[key], found.value)
    }
