"""One-window acceptance (一窗受理): what the window clerk does for a person at the counter.

The clerk identifies the person by the resident ID card (registering an account from the
population register if they have none) or the enterprise by its credit code and the person acting
for it, starts the application on their behalf — the clerk then owns it (首问负责) — fills it in
with them, and records the paper materials seen at the window. Every step leaves an audit record
(and, once there is an application, a timeline event).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, NoReturn

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

from onething.accounts.models import Enterprise, EnterpriseAgent, Role, RoleAssignment, User
from onething.accounts.selectors import has_role
from onething.applications import services
from onething.applications.lifecycle import ApplicationStatus
from onething.applications.models import Application, ApplicationMaterial, Channel
from onething.applications.services import _lock_application, _record, _replace_material
from onething.audit.services import audit_record
from onething.catalog import models as catalog_models
from onething.catalog.fields import FieldProblem
from onething.catalog.plan_output import pick
from onething.core.actors import actor_label
from onething.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from onething.core.masking import mask
from onething.sharing.selectors import register_record

ENTERPRISE_ACTIVE = "active"
RESIDENT_REGISTERED = "registered"


def _require_clerk(actor: Any) -> None:
    if not has_role(actor, Role.WINDOW_CLERK):
        raise NotAllowed(_("Only a window clerk may do this."))


def _identifier(module, value: str, *, field: str, label: str) -> str:
    """The compact identifier, or InvalidInput naming the field and the rule it breaks."""
    try:
        compact = module.validate((value or "").strip().upper())
    except InvalidChecksum:
        problem = FieldProblem("check_digit")
    except InvalidLength:
        problem = FieldProblem("wrong_length", {"length": 18})
    except StdnumError:
        problem = FieldProblem("bad_format")
    else:
        return compact
    message = services.field_problem_message(problem, label)
    raise InvalidInput(message, fields={field: message})


def resident_id_number(value: str, *, field: str = "id_number") -> str:
    """A resident ID number as typed at the window, checked (cn.ric) and compacted."""
    return _identifier(ric, value, field=field, label=_("Resident ID number"))


def credit_code(value: str, *, field: str = "uscc") -> str:
    """A unified social credit code as typed at the window, checked (cn.uscc) and compacted."""
    return _identifier(uscc, value, field=field, label=_("Unified social credit code"))


def _audit(actor: Any, action: str, *, stream: str, subject: str, data: Mapping) -> None:
    audit_record(
        actor=actor_label(actor),
        action=action,
        stream=stream,
        subject=subject,
        purpose="window acceptance",
        data=dict(data),
    )


# --- who is at the window ------------------------------------------------------------------------
#
# A refusal tells the clerk something about a person (not in the register, deceased, not the
# legal representative), so it is recorded like a success. Raised inside a transaction, its record
# would roll back with it: these functions therefore check everything before they write, hold no
# transaction while checking, and record a refusal in a transaction of its own before raising.

IDENTIFY_REFUSED = "user.identify_refused"
REFUSALS_STREAM = "window:refused-identifications"


def _refuse(
    actor: Any, *, field: str, reason: str, message: str, subject: str, data: Mapping
) -> NoReturn:
    """Record (committed now) that the window refused to identify someone, then refuse."""
    with transaction.atomic():
        audit_record(
            actor=actor_label(actor),
            action=IDENTIFY_REFUSED,
            stream=REFUSALS_STREAM,
            subject=mask(subject),
            purpose="window acceptance",
            data={"reason": reason, **data},  # personal numbers masked by audit_record
        )
    raise InvalidInput(message, fields={field: message})


def _person_at_window(
    actor: Any, id_number: str, *, field: str = "id_number"
) -> tuple[User | None, Mapping | None]:
    """The person's account, or (None, their population-register record) when they have
    none yet; refused (and recorded) when neither can apply."""
    person = User.objects.filter(id_number=id_number).first()
    refused = {"actor": actor, "field": field, "subject": id_number, "data": {field: id_number}}
    if person is not None:
        if person.kind != User.Kind.PERSON or not person.is_active:
            _refuse(
                reason="account_disabled",
                message=_(
                    "The account with this resident ID number cannot apply (it is disabled)."
                ),
                **refused,
            )
        return person, None
    resident = register_record("population", id_number)
    if resident is None:
        _refuse(
            reason="not_in_register",
            message=_("Nobody with this resident ID number is in the population register."),
            **refused,
        )
    if resident.get("status") != RESIDENT_REGISTERED:
        _refuse(
            reason="not_living",
            message=_(
                "The population register does not list this person as a living resident; "
                "no account can be created."
            ),
            **refused,
        )
    return None, resident


def _register(actor: Any, id_number: str, resident: Mapping) -> User:
    """The account of a living resident, from their population-register record. Runs in the
    caller's transaction."""
    person = User(
        username=f"window-{secrets.token_hex(6)}",
        kind=User.Kind.PERSON,
        real_name=resident["name"],
        id_number=id_number,
        id_verified_at=timezone.now(),
    )
    person.set_unusable_password()
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        # Another window registered the same person a moment ago.
        raise Conflict(_("This person already has an account.")) from None
    RoleAssignment.objects.create(user=person, role=Role.APPLICANT)
    _audit(
        actor,
        "user.registered_at_window",
        stream=f"user:{person.pk}",
        subject=f"user:{person.pk}",
        data={"id_number": id_number, "source": "population"},
    )
    return person


def _identified(
    actor: Any, id_number: str, person: User | None, resident: Mapping | None
) -> tuple[User, bool]:
    """Register the person if `_person_at_window` found none, and record the identification.
    Runs in the caller's transaction."""
    registered = person is None
    if person is None:
        person = _register(actor, id_number, resident or {})
    _audit(
        actor,
        "user.identified_at_window",
        stream=f"user:{person.pk}",
        subject=f"user:{person.pk}",
        data={"registered": registered},
    )
    return person, registered


def person_register_at_window(*, actor: User, id_number: str) -> User:
    """Create the account of a person the population register knows as living, who has none.

    The clerk saw the ID card, so the real name is verified now; the account has no password
    (the person signs in through the real-name platform) and the applicant role.
    """
    _require_clerk(actor)
    id_number = resident_id_number(id_number)
    person, resident = _person_at_window(actor, id_number)
    if person is not None:
        raise Conflict(_("This person already has an account."))
    with transaction.atomic():
        return _register(actor, id_number, resident or {})


def window_person_identify(*, actor: User, id_number: str) -> tuple[User, bool]:
    """The person with this resident ID number, registered from the population register if
    they have no account yet; and whether they were just registered."""
    _require_clerk(actor)
    id_number = resident_id_number(id_number)
    person, resident = _person_at_window(actor, id_number)
    with transaction.atomic():
        return _identified(actor, id_number, person, resident)


def window_enterprise_identify(
    *, actor: User, uscc: str, agent_id_number: str
) -> tuple[User, Enterprise]:
    """The enterprise (from the enterprise register if not yet known here) and the person
    acting for it.

    The person must already be an agent of the enterprise, or be its legal representative in
    the enterprise register (then they become its agent now); anybody else is refused.
    """
    _require_clerk(actor)
    clean: dict[str, str] = {}
    problems: dict[str, str] = {}
    for field, check, value in (
        ("uscc", credit_code, uscc),
        ("agent_id_number", resident_id_number, agent_id_number),
    ):
        try:
            clean[field] = check(value, field=field)
        except InvalidInput as exc:
            problems |= exc.fields
    if problems:
        raise InvalidInput(_("Some information is missing or wrong."), fields=problems)
    uscc, agent_id_number = clean["uscc"], clean["agent_id_number"]
    refused = {
        "actor": actor,
        "subject": agent_id_number,
        "data": {"uscc": uscc, "agent_id_number": agent_id_number},
    }
    record = register_record("enterprises", uscc)
    enterprise = Enterprise.objects.filter(uscc=uscc).first()
    if enterprise is None and record is None:
        _refuse(
            field="uscc",
            reason="enterprise_not_in_register",
            message=_("No enterprise with this unified social credit code is in the register."),
            **refused,
        )
    if record is not None and record.get("status") != ENTERPRISE_ACTIVE:
        _refuse(
            field="uscc",
            reason="enterprise_not_active",
            message=_("The enterprise register lists this enterprise as no longer active."),
            **refused,
        )
    is_agent = (
        enterprise is not None
        and (
            EnterpriseAgent.objects.filter(enterprise=enterprise, user__id_number=agent_id_number)
        ).exists()
    )
    is_legal_representative = (
        record is not None and record.get("legal_rep_id_number") == agent_id_number
    )
    if not (is_agent or is_legal_representative):
        _refuse(
            field="agent_id_number",
            reason="not_an_agent",
            message=_(
                "This person is neither the enterprise's legal representative in the enterprise "
                "register nor a registered agent of it, so they cannot act for it."
            ),
            **refused,
        )
    person, resident = _person_at_window(actor, agent_id_number, field="agent_id_number")
    with transaction.atomic():
        if enterprise is None:
            region = catalog_models.Region.objects.filter(code=record.get("region", "")).first()
            enterprise, _created = Enterprise.objects.get_or_create(
                uscc=uscc, defaults={"name": record["name"], "region": region}
            )
        agent, _registered = _identified(actor, agent_id_number, person, resident)
        if not is_agent:
            EnterpriseAgent.objects.get_or_create(
                user=agent, enterprise=enterprise, defaults={"is_legal_representative": True}
            )
            _audit(
                actor,
                "enterprise.agent_linked_at_window",
                stream=f"enterprise:{enterprise.uscc}",
                subject=f"enterprise:{enterprise.uscc}",
                data={"agent": f"user:{agent.pk}", "legal_representative": True},
            )
        return agent, enterprise


# --- the application -----------------------------------------------------------------------------


def application_start_at_window(
    *,
    actor: User,
    applicant: User,
    thing_code: str,
    answers: Mapping[str, Any],
    enterprise_uscc: str | None = None,
) -> Application:
    """Start a draft on the applicant's behalf; the clerk takes it (channel `window`)."""
    _require_clerk(actor)
    if applicant.pk == actor.pk:
        raise NotAllowed(_("A window clerk cannot take an application for themselves."))
    return services.application_start(
        actor=actor,
        applicant=applicant,
        thing_code=thing_code,
        answers=answers,
        enterprise_uscc=enterprise_uscc,
        channel=Channel.WINDOW,
    )


def took(actor: Any, application: Application) -> bool:
    """Whether the actor is the window clerk who took the application."""
    return (
        application.channel == Channel.WINDOW
        and application.taken_by_id is not None
        and application.taken_by_id == getattr(actor, "pk", None)
        and has_role(actor, Role.WINDOW_CLERK)
    )


@transaction.atomic
def application_material_seen(
    *, actor: User, application: Application, material_code: str, seen_as: str
) -> ApplicationMaterial:
    """The clerk who took a draft saw the paper material (original or copy) at the window; it
    counts as provided, like an upload."""
    application = _lock_application(application)
    if not took(actor, application):
        raise NotFound(_("This application does not exist."))
    if application.status != ApplicationStatus.DRAFT:
        raise Conflict(_("This application was already submitted."))
    item = services.asked_material(application, material_code)
    if seen_as not in ApplicationMaterial.SeenAs.values:
        message = _("%(name)s: say whether you saw the original or a copy.") % {
            "name": pick(item.material.name)
        }
        raise InvalidInput(message, fields={f"materials.{material_code}": message})
    seen = _replace_material(
        application,
        material_code,
        provision=ApplicationMaterial.Provision.SEEN_AT_WINDOW,
        seen_as=seen_as,
    )
    _record(
        application,
        actor=actor,
        action="material_seen",
        data={"material": material_code, "seen_as": seen_as},
    )
    return seen
