"""The exchange: departments' systems read data sources through the platform (after X-Road).

The platform is the exchange, not a side door. A department's system (an `ExchangeClient`)
holds its own tokens (`ox_<prefix>.<secret>`; only a hash is kept) and may ask for data
elements about one subject only

- for a service of its own department,
- where a grant lets that service — or a thing the service is a member of — read the element
  from a source (deny by default), and
- about the subject itself: related persons (the applicant's spouse) are read only with their
  own consent inside an application, never through the exchange.

Granted elements are read through the same connectors as the prefill, under one time budget.
Every refusal and every lookup is recorded as a `DataUse` (use "exchange", the caller's purpose
and the grant's), so the person finds it among the uses of their data.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

from onething.accounts.auth import new_token_parts, token_hash, token_mark_used
from onething.audit.services import audit_record
from onething.catalog.models import Department, Service, ThingMember
from onething.core.actors import SystemActor, actor_label
from onething.core.errors import InvalidInput, NotAllowed, NotFound
from onething.sharing import prefill, selectors
from onething.sharing.connectors import Lookup, connectors
from onething.sharing.fetching import fetch_lookups, is_local
from onething.sharing.models import DataUse, ExchangeClient, ExchangeToken
from onething.sharing.services import record_data_use, record_relation_read

TOKEN_PREFIX = "ox_"  # noqa: S105 - a public marker, not a secret
USE = "exchange"
# The subject's own role in the catalog's `serves` entries, by the kind of number given.
PERSON, ENTERPRISE = "applicant", "enterprise"


# --- clients and their tokens --------------------------------------------------------------------


def _label(actor: Any) -> str:
    return actor if isinstance(actor, str) and actor else actor_label(actor)


def _client_stream(client: ExchangeClient) -> str:
    return f"exchange-client:{client.pk}"


@transaction.atomic
def exchange_client_ensure(*, actor: Any, department_code: str, name: str) -> ExchangeClient:
    """The department's system called `name`, registered on first use."""
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        raise NotFound(
            _("No such department."), fields={"department": _("unknown department code")}
        )
    client, created = ExchangeClient.objects.get_or_create(department=department, name=name[:100])
    if created:
        audit_record(
            actor=_label(actor),
            action="exchange.client_register",
            stream=_client_stream(client),
            subject=str(client),
            purpose="data exchange",
        )
    return client


@transaction.atomic
def exchange_client_issue_token(*, actor: Any, client: ExchangeClient, name: str) -> str:
    """Create a token for the client and return it once; only its hash is kept."""
    prefix, secret = new_token_parts()
    token = ExchangeToken.objects.create(
        client=client, name=name[:100], prefix=prefix, key_hash=token_hash(secret)
    )
    audit_record(
        actor=_label(actor),
        action="exchange.token_issue",
        stream=_client_stream(client),
        subject=str(client),
        purpose="data exchange",
        data={"token": token.prefix, "name": token.name},
    )
    return f"{TOKEN_PREFIX}{prefix}.{secret}"


@transaction.atomic
def exchange_token_revoke(*, actor: Any, token: ExchangeToken) -> ExchangeToken:
    """Revoke a token at once; revoking it again changes nothing."""
    token = ExchangeToken.objects.select_for_update().select_related("client").get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        actor=_label(actor),
        action="exchange.token_revoke",
        stream=_client_stream(token.client),
        subject=str(token.client),
        purpose="data exchange",
        data={"token": token.prefix},
    )
    return token


@transaction.atomic
def exchange_client_deactivate(*, actor: Any, client: ExchangeClient) -> ExchangeClient:
    """Stop the client's every token at once (its tokens are kept for the record)."""
    client = ExchangeClient.objects.select_for_update().get(pk=client.pk)
    if not client.active:
        return client
    client.active = False
    client.save(update_fields=["active"])
    audit_record(
        actor=_label(actor),
        action="exchange.client_deactivate",
        stream=_client_stream(client),
        subject=str(client),
        purpose="data exchange",
    )
    return client


def client_for_token(token: str) -> ExchangeClient | None:
    """The active client whose unrevoked token this is, or None."""
    if not token.startswith(TOKEN_PREFIX) or "." not in token:
        return None
    prefix, _dot, secret = token[len(TOKEN_PREFIX) :].partition(".")
    row = (
        ExchangeToken.objects.select_related("client__department")
        .filter(prefix=prefix, revoked_at=None)
        .first()
    )
    if row is None or not hmac.compare_digest(row.key_hash, token_hash(secret)):
        return None
    if not row.client.active:
        return None
    token_mark_used(row)
    return row.client


def exchange_actor(client: ExchangeClient) -> SystemActor:
    """How the client is named in data uses and the audit trail: `system:exchange:<dept>/<name>`."""
    return SystemActor(f"exchange:{client.department.code}/{client.name}"[:90])


# --- queries -------------------------------------------------------------------------------------


@dataclass
class ExchangeResult:
    values: dict[str, prefill.Prefilled] = field(default_factory=dict)
    denied: dict[str, str] = field(default_factory=dict)  # element -> why it was refused
    unavailable: dict[str, str] = field(default_factory=dict)  # source -> why


def subject_role(subject: str) -> tuple[str, str]:
    """The checked number and whose it is: (`applicant`, a resident ID number) or (`enterprise`,
    a unified social credit code); InvalidInput naming `subject` otherwise."""
    value = subject.strip().upper()
    try:
        return ric.validate(value), PERSON
    except StdnumError as error:
        person_error = error
    try:
        return uscc.validate(value), ENTERPRISE
    except StdnumError:
        pass
    if isinstance(person_error, InvalidLength):
        rule = _("must be 18 characters")
    elif isinstance(person_error, InvalidChecksum):
        rule = _("check digit does not match")
    else:
        rule = _("not a resident ID number or a unified social credit code")
    raise InvalidInput(_("The request is not valid."), fields={"subject": rule})


def service_grants(service: str, grants: Iterable[prefill.Grant]) -> list[prefill.Grant]:
    """Grants for the service itself or for a thing that has it as a member (whatever the
    member's condition: the exchange asks about a case, not about situation answers)."""
    things = set(
        ThingMember.objects.filter(service__code=service).values_list("thing__code", flat=True)
    )
    return [
        g for g in grants if g.service == service or (g.thing is not None and g.thing in things)
    ]


def _role_refusal(of: str, role: str) -> str:
    if of not in (PERSON, ENTERPRISE):
        return _(
            "about a related person (%(of)s): read only with their own consent in an "
            "application, never through the exchange"
        ) % {"of": of}
    if of == ENTERPRISE:
        return _("about an enterprise; the subject is a person")
    return _("about a person; the subject is an enterprise")


def exchange_query(
    *,
    client: ExchangeClient,
    service: str,
    subject: str,
    elements: Iterable[str],
    purpose: str,
    endpoints: Mapping[str, tuple[str, str]] | None = None,
    budget: float | None = None,
    registry=connectors,
) -> ExchangeResult:
    """Read `elements` about `subject` for the client's `service`, deny by default.

    The service must be one of the client's department's (NotAllowed otherwise). An element
    is read only under a grant for the service or one of its things, and only about the subject
    itself; every refusal and every lookup is recorded as a data use with `purpose`.
    """
    purpose = purpose.strip()
    problems = {}
    if not purpose:
        problems["purpose"] = _("Say why the data is needed.")
    try:
        subject, role = subject_role(subject)
    except InvalidInput as error:
        problems.update(error.fields)
    wanted = list(dict.fromkeys(e.strip() for e in elements if e.strip()))
    if not wanted:
        problems["elements"] = _("Name at least one data element.")
    found = Service.objects.select_related("department").filter(code=service).first()
    if found is None:
        problems["service"] = _("unknown service code")
    if problems:
        raise InvalidInput(_("The request is not valid."), fields=problems)
    actor = exchange_actor(client)
    if not client.active or found.department_id != client.department_id:
        audit_record(
            actor=actor_label(actor),
            action="exchange.refused",
            stream=_client_stream(client),
            subject=service,
            purpose=purpose[:300],
            data={"reason": "service of another department", "elements": sorted(wanted)},
        )
        raise NotAllowed(
            _("This system may query only for its own department's services."),
            fields={"service": _("a service of another department")},
        )

    sources = selectors.sharing_sources()
    grants = service_grants(service, selectors.sharing_grants())
    # Plan over what the sources hold about the subject itself, so a related person's record
    # is never chosen; what they hold only about others is refused below.
    # A child's mother or father is the subject itself when the subject is of that sex.
    # The sex is itself personal data: it is read only when the service may read the
    # population register at all, and the read is recorded like any other.
    own_roles = {role}
    population = selectors.population_source()
    if role == PERSON and population and any(g.source == population.code for g in grants):
        resident = selectors.register_record(selectors.POPULATION_REGISTER, subject) or {}
        record_relation_read(
            actor=actor, subject=subject, found=bool(resident), fields=("sex",), service=service
        )
        sex = resident.get("sex")
        own_roles |= {of for of, wanted_sex in selectors.PARENT_SEX.items() if sex == wanted_sex}
    own = [
        replace(s, serves=tuple(replace(x, of=role) for x in s.serves if x.of in own_roles))
        for s in sources
    ]
    plan = prefill.fetch_plan(wanted, own, grants)
    by_code = {s.code: s for s in sources}
    result = ExchangeResult()

    def refuse(element: str, source: prefill.Source, reason: str) -> None:
        result.denied[element] = reason
        record_data_use(
            actor=actor,
            subject=subject,
            source=source.code,
            department=source.department,
            elements=[element],
            purpose=purpose,
            use=USE,
            outcome=DataUse.Outcome.DENIED,
            service=service,
        )

    for element, codes in plan.denied.items():
        for code in codes:
            refuse(element, by_code[code], _("no grant lets this service read it"))
    for element in plan.unserved:
        elsewhere = [(s, x) for s in sources for x in s.serves if x.element == element]
        if not elsewhere:
            result.denied[element] = _("no data source serves this element")
        for source, served in elsewhere:
            refuse(element, source, _role_refusal(served.of, role))

    if endpoints is None and any(
        not is_local(registry, planned.source.connector) for planned in plan.lookups
    ):
        endpoints = selectors.department_endpoints()
    lookups = []
    for planned in plan.lookups:
        base_url, secret = (endpoints or {}).get(planned.source.department, ("", ""))
        lookups.append(
            (
                planned,
                Lookup(
                    source=planned.source.code,
                    connector=planned.source.connector,
                    options=dict(planned.source.options),
                    subject=subject,
                    fields=planned.fields,
                    department=planned.source.department,
                    extra={
                        "base_url": base_url,
                        "secret": secret,
                        "purpose": _lookup_purpose(purpose, planned),
                    },
                ),
            )
        )
    budget = settings.SHARING_PREFILL_BUDGET_SECONDS if budget is None else budget
    answers = fetch_lookups(
        [lookup for _planned, lookup in lookups],
        registry=registry,
        budget=budget,
        thread_name="exchange",
    )
    outcome = prefill.Outcome()
    for (planned, _lookup), answer in zip(lookups, answers, strict=True):
        key = (planned.source.code, planned.of)
        if answer.unavailable:
            outcome.unavailable[key] = answer.unavailable
            state = DataUse.Outcome.UNAVAILABLE
            result.unavailable[planned.source.code] = answer.unavailable
        else:
            outcome.records[key] = answer.record
            state = DataUse.Outcome.PROVIDED if answer.record else DataUse.Outcome.NO_RECORD
        record_data_use(
            actor=actor,
            subject=subject,
            source=planned.source.code,
            department=planned.source.department,
            elements=list(planned.elements),
            purpose=_lookup_purpose(purpose, planned),
            use=USE,
            outcome=state,
            service=service,
        )
    result.values = prefill.assign(plan, outcome)
    return result


def _lookup_purpose(purpose: str, planned: prefill.PlannedLookup) -> str:
    return f"{purpose} — {'; '.join(planned.purposes)}"
