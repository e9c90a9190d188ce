"""The verdict on a certificate: genuine, unaltered, revoked — or unknown — with reasons.

- genuine: its JWS is signed by one of the platform's keys (active or retired);
- unaltered: the register's row still says what was signed, and a token someone presents is
  byte for byte the one issued;
- revoked: the issuing department withdrew it.

The verdict is `valid` only when a known certificate is genuine, unaltered and not revoked.
Also here: how a holder's name is shown to the public. No Django import here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from onething.certificates import jws
from onething.certificates.payload import register_claims


class Status(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    INVALID = "invalid"
    UNKNOWN = "unknown"


class Reason(StrEnum):
    NO_SUCH_CERTIFICATE = "no_such_certificate"
    NOT_REGISTERED = "not_registered"
    MALFORMED = "malformed"
    UNSUPPORTED = "unsupported"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    NOT_AS_ISSUED = "not_as_issued"
    REGISTER_CHANGED = "register_changed"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Registered:
    """What the register holds on one certificate: its token, and the payload rebuilt from
    the row's values."""

    jws: str
    kid: str
    payload: Mapping[str, Any]
    revoked: bool


@dataclass(frozen=True)
class Verdict:
    status: Status
    genuine: bool
    unaltered: bool
    revoked: bool
    reasons: tuple[Reason, ...] = ()

    @property
    def known(self) -> bool:
        """True when the certificate's details may be shown (it is ours and as signed)."""
        return self.status in (Status.VALID, Status.REVOKED)


def signed_code(token: str, keys: Mapping[str, Ed25519PublicKey]) -> str | None:
    """The verification code a genuine token carries, or None."""
    try:
        code = jws.verify(token, keys).payload.get("code")
    except jws.JWSError:
        return None
    return code if isinstance(code, str) else None


def judge(
    *,
    keys: Mapping[str, Ed25519PublicKey],
    registered: Registered | None,
    presented: str | None = None,
) -> Verdict:
    """The verdict on a registered certificate, or on a token someone presents."""
    if presented is not None:
        try:
            jws.verify(presented, keys)
        except jws.JWSError as exc:
            return Verdict(Status.INVALID, False, False, False, (Reason(exc.reason),))
        if registered is None:
            return Verdict(Status.UNKNOWN, True, False, False, (Reason.NOT_REGISTERED,))
    if registered is None:
        return Verdict(Status.UNKNOWN, False, False, False, (Reason.NO_SUCH_CERTIFICATE,))
    reasons: list[Reason] = []
    try:
        signed = jws.verify(registered.jws, keys)
    except jws.JWSError as exc:
        signed = None
        reasons.append(Reason(exc.reason))
    genuine = signed is not None
    unaltered = (
        signed is not None
        and signed.kid == registered.kid
        and register_claims(signed.payload) == register_claims(registered.payload)
    )
    if signed is not None and not unaltered:
        reasons.append(Reason.REGISTER_CHANGED)
    if presented is not None and presented != registered.jws:
        unaltered = False
        reasons.append(Reason.NOT_AS_ISSUED)
    if registered.revoked:
        reasons.append(Reason.REVOKED)
    if not (genuine and unaltered):
        status = Status.INVALID
    elif registered.revoked:
        status = Status.REVOKED
    else:
        status = Status.VALID
    return Verdict(status, genuine, unaltered, registered.revoked, tuple(dict.fromkeys(reasons)))


def mask_name(name: str, *, enterprise: bool = False) -> str:
    """`林*燕`: a person's name with all but its first and last character hidden.

    Two-character names keep the first (`林*`). An enterprise's name keeps its first two and last
    four characters (`厦门****有限公司`), enough to tell which one it is.
    """
    name = name.strip()
    if enterprise and len(name) > 6:
        return name[:2] + "*" * (len(name) - 6) + name[-4:]
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
