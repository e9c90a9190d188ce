"""Every write to e-certificates: issuing, revoking, and rotating the signing key.

Each writes its audit record in the caller's transaction. Issuing signs with the platform's
active key (keys.py); the private keys never leave the data folder.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onething.accounts.models import Enterprise, User
from onething.audit.services import audit_record
from onething.catalog.models import CertificateType, Department
from onething.certificates import codes, jws
from onething.certificates.models import Certificate, CertificateSequence
from onething.certificates.signing import payload_of, platform_keys
from onething.core.actors import actor_label, actor_user
from onething.core.errors import Conflict, InvalidInput, NotAllowed
from onething.core.references import save_redrawing

MAX_REASON_LENGTH = 2000
KEYS_STREAM = "certificates:signing-keys"


def _stream(certificate: Certificate) -> str:
    return f"certificate:{certificate.type.code}/{certificate.number}"


def _json_data(data: Any) -> dict[str, Any]:
    """`data` as the plain JSON it reads back as (dates and decimals become text)."""
    if not isinstance(data, Mapping) or not all(isinstance(k, str) for k in data):
        raise InvalidInput(
            _("The certificate data is not valid."),
            fields={"data": _("Must be an object (a mapping of names to values).")},
        )
    try:
        return json.loads(json.dumps(dict(data), cls=DjangoJSONEncoder, ensure_ascii=False))
    except (TypeError, ValueError):
        raise InvalidInput(
            _("The certificate data is not valid."),
            fields={"data": _("Every value must be text, a number, true/false or a list.")},
        ) from None


def _next_number(certificate_type: CertificateType, year: int) -> str:
    """`FOOD-BUSINESS-LICENCE-2026-000042`: type, year, and the type's next number that year."""
    if connection.vendor == "postgresql":
        serial = _sequence_next(certificate_type, year)
    else:
        serial = _locked_row_next(certificate_type, year)
    prefix = certificate_type.code.upper().replace("_", "-")
    return f"{prefix}-{year}-{serial:06d}"


def _locked_row_next(certificate_type: CertificateType, year: int) -> int:
    """The next number from the type's row for the year, locked until the transaction ends.

    For SQLite, which lets one writer at a time anyway: the lock costs no concurrency there, and
    the numbers have no gaps."""
    CertificateSequence.objects.get_or_create(type=certificate_type, year=year)
    sequence = CertificateSequence.objects.select_for_update().get(type=certificate_type, year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return sequence.last


# The PostgreSQL sequences known to exist, by (database, name): added only once the transaction
# that saw or created one has committed, so a name here never refers to a sequence rolled back.
_committed_sequences: set[tuple[str, str]] = set()


def _sequence_next(certificate_type: CertificateType, year: int) -> int:
    """The next number from a PostgreSQL sequence per type and year.

    A locked row would make every approval issuing this type in the province wait for the one
    before it to commit (a launch peak issues one type by the thousand). `nextval` never waits;
    the price is a gap in the numbers when an approval rolls back after numbering. Numbers stay
    unique and increasing, and the audit trail, not the numbers, shows that nothing is missing.
    The sequence is made on the type's first number of the year, continuing from the row the
    locked numbering kept before (databases numbered before this change)."""
    name = f"certificate_number_{certificate_type.pk}_{year}"
    known = (connection.settings_dict["NAME"], name)
    with connection.cursor() as cursor:
        if known not in _committed_sequences:
            # Two first numberings of a type at once: the second waits here until the first
            # commits, then finds the sequence, instead of failing on a duplicate name.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])
            before = (
                CertificateSequence.objects.filter(type=certificate_type, year=year)
                .values_list("last", flat=True)
                .first()
            )
            # The name and the start are integers: nothing to quote.
            cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {name} START WITH {(before or 0) + 1}")
            transaction.on_commit(lambda: _committed_sequences.add(known))
        cursor.execute("SELECT nextval(%s)", [name])
        return cursor.fetchone()[0]


def certificate_issue(
    *,
    actor: Any,
    certificate_type: CertificateType,
    holder: User | None,
    holder_enterprise: Enterprise | None = None,
    issuer: Department,
    data: Mapping[str, Any],
    application_reference: str = "",
    case_public_id: uuid.UUID | str | None = None,
) -> Certificate:
    """Number, sign and register an e-certificate for `holder` (or `holder_enterprise`).

    Runs inside the caller's transaction (a case approval): if that rolls back, no certificate
    exists. An enterprise, when given, holds the certificate (its name and credit code are
    signed); `holder` is then the person who applied. The caller decides who may issue.
    """
    if holder is None and holder_enterprise is None:
        raise InvalidInput(
            _("A certificate needs a holder."),
            fields={"holder": _("Give the person or the enterprise that holds it.")},
        )
    clean = _json_data(data)
    if case_public_id is not None and not isinstance(case_public_id, uuid.UUID):
        try:
            case_public_id = uuid.UUID(str(case_public_id))
        except ValueError:
            raise InvalidInput(
                _("The case is not valid."), fields={"case_public_id": _("Must be a UUID.")}
            ) from None
    if holder_enterprise is not None:
        holder_name, holder_id_number = holder_enterprise.name, holder_enterprise.uscc
    else:
        holder_name = holder.real_name or holder.get_username()
        holder_id_number = holder.id_number
    return _issue(
        actor=actor,
        certificate=Certificate(
            type=certificate_type,
            holder=holder,
            holder_enterprise=holder_enterprise,
            holder_name=holder_name,
            holder_id_number=holder_id_number,
            issuer=issuer,
            data=clean,
            application_reference=application_reference[:40],
            case_public_id=case_public_id,
        ),
    )


# Without a savepoint of its own (two round trips for each certificate of an approval): checked
# above, what is left can only fail as the caller's transaction would anyway.
@transaction.atomic(savepoint=False)
def _issue(*, actor: Any, certificate: Certificate) -> Certificate:
    issued_at = timezone.now().replace(microsecond=0)
    key = platform_keys().active()
    certificate.number = _next_number(certificate.type, timezone.localtime(issued_at).year)
    certificate.kid, certificate.issued_at = key.kid, issued_at

    def draw() -> None:
        certificate.verification_code = codes.new_code()
        certificate.jws = jws.sign(payload_of(certificate), key.private_key, kid=key.kid)

    # 55 random bits: a repeated code is all but impossible, but cheap to survive.
    save_redrawing(
        certificate,
        "verification_code",
        draw,
        exhausted=lambda: Conflict(_("No free verification code was found; try again.")),
    )
    audit_record(
        actor=actor_label(actor),
        action="certificate.issue",
        stream=_stream(certificate),
        subject=certificate.number,
        purpose="certificate issue",
        data={
            "type": certificate.type.code,
            "number": certificate.number,
            "verification_code": certificate.verification_code,
            "issuer": certificate.issuer.code,
            "holder_id_number": certificate.holder_id_number,
            "kid": key.kid,
            "application": certificate.application_reference,
            "case": str(certificate.case_public_id) if certificate.case_public_id else "",
        },
    )
    return certificate


def may_revoke(user: Any, certificate: Certificate) -> bool:
    """A reviewer of the issuing department (within their region, if limited), or an
    administrator."""
    if not getattr(user, "pk", None) or not getattr(user, "is_active", False):
        return False
    from onething.certificates.selectors import certificates_for_staff

    # The same scope as the staff list: the issuing department, within the reviewer's region.
    return certificates_for_staff(user).filter(pk=certificate.pk).exists()


@transaction.atomic
def certificate_revoke(*, actor: Any, certificate: Certificate, reason: str) -> Certificate:
    """Revoke a certificate at once, with a reason; only its issuer's reviewers or an
    administrator may, and only once."""
    if not may_revoke(actor, certificate):
        raise NotAllowed(_("Only the issuing department or an administrator may revoke it."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("Say why the certificate is revoked."), fields={"reason": _("A reason is required.")}
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput(
            _("The reason is too long."),
            fields={
                "reason": _("At most %(max)s characters.") % {"max": MAX_REASON_LENGTH},
            },
        )
    locked = (
        Certificate.objects.select_for_update(of=("self",))
        .select_related("type", "issuer")
        .get(pk=certificate.pk)
    )
    if locked.status == Certificate.Status.REVOKED:
        raise Conflict(_("This certificate is already revoked."))
    locked.status = Certificate.Status.REVOKED
    locked.revoked_at = timezone.now()
    locked.revoked_by = actor_user(actor)
    locked.revocation_reason = reason
    locked.save(update_fields=["status", "revoked_at", "revoked_by", "revocation_reason"])
    audit_record(
        actor=actor_label(actor),
        action="certificate.revoke",
        stream=_stream(locked),
        subject=locked.number,
        purpose="certificate revocation",
        data={"verification_code": locked.verification_code, "reason": reason},
    )
    return locked


STAFF_VIEW_PURPOSE = "certificate management"


@transaction.atomic
def certificate_view_record(
    *, actor: Any, certificate: Certificate, purpose: str = STAFF_VIEW_PURPOSE
) -> None:
    """Record that a member of staff opened a certificate's page: who looks at whose
    certificate stays answerable, as a reveal on the workbench does."""
    audit_record(
        actor=actor_label(actor),
        action="certificate.viewed",
        stream=_stream(certificate),
        subject=certificate.number,
        purpose=purpose,
        data={"verification_code": certificate.verification_code},
    )


@transaction.atomic
def signing_key_rotate(*, actor: Any) -> str:
    """Sign new certificates with a new key; return its kid. Earlier keys keep verifying."""
    store = platform_keys()
    previous = store.kids()[:1]
    kid = store.rotate()
    audit_record(
        actor=actor_label(actor),
        action="signing_key.rotate",
        stream=KEYS_STREAM,
        subject=kid,
        purpose="key rotation",
        data={"kid": kid, "previous": previous[0] if previous else ""},
    )
    return kid
