"""The verdict (pure): genuine, unaltered, revoked, unknown — and the masked holder's name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from onething.certificates import jws
from onething.certificates.payload import certificate_payload
from onething.certificates.verification import (
    Reason,
    Registered,
    Status,
    judge,
    mask_name,
    signed_code,
)

KEY = Ed25519PrivateKey.generate()
KID = jws.thumbprint(KEY)
KEYS = {KID: KEY.public_key()}


def payload(**changes):
    values = {
        "code": "7K3Q-XZ0M-PA4N",
        "type_code": "birth_medical_certificate",
        "type_name": {"zh": "出生医学证明", "en": "Birth medical certificate"},
        "number": "BIRTH-MEDICAL-CERTIFICATE-2026-000001",
        "issuer_code": "fj_health",
        "issuer_name": {"zh": "福建省卫生健康委员会", "en": "Health Commission"},
        "holder_kind": "person",
        "holder_name": "林小燕",
        "holder_id_number": "350203199205170021",
        "data": {"child.name": "林小满"},
        "issued_at": datetime(2026, 11, 27, 8, 30, tzinfo=UTC),
        "application_reference": "OT20261127-ABCDEF",
    }
    values.update(changes)
    return certificate_payload(**values)


def registered(*, revoked=False, row=None, token=None, kid=KID):
    signed = payload()
    return Registered(
        jws=token or jws.sign(signed, KEY, kid=KID),
        kid=kid,
        payload=row or signed,
        revoked=revoked,
    )


def test_a_registered_certificate_as_signed_is_valid():
    verdict = judge(keys=KEYS, registered=registered())
    assert (verdict.status, verdict.genuine, verdict.unaltered, verdict.revoked) == (
        Status.VALID,
        True,
        True,
        False,
    )
    assert verdict.reasons == ()
    assert verdict.known


def test_a_revoked_certificate_is_genuine_but_revoked():
    verdict = judge(keys=KEYS, registered=registered(revoked=True))
    assert verdict.status == Status.REVOKED
    assert verdict.genuine and verdict.unaltered and verdict.revoked
    assert verdict.reasons == (Reason.REVOKED,)


def test_no_registered_certificate_is_unknown():
    verdict = judge(keys=KEYS, registered=None)
    assert verdict.status == Status.UNKNOWN
    assert verdict.reasons == (Reason.NO_SUCH_CERTIFICATE,)
    assert not verdict.known


@pytest.mark.parametrize(
    "change",
    [
        {"holder_name": "林大燕"},
        {"holder_id_number": "350203199205170013"},
        {"data": {"child.name": "林小满", "extra": 1}},
        {"number": "BIRTH-MEDICAL-CERTIFICATE-2026-000002"},
        {"issued_at": datetime(2026, 11, 27, 8, 31, tzinfo=UTC)},
    ],
)
def test_a_row_changed_after_signing_is_invalid(change):
    verdict = judge(keys=KEYS, registered=registered(row=payload(**change)))
    assert verdict.status == Status.INVALID
    assert verdict.genuine and not verdict.unaltered
    assert Reason.REGISTER_CHANGED in verdict.reasons


def test_renaming_a_department_later_does_not_invalidate_its_certificates():
    renamed = payload(issuer_name={"zh": "新名称", "en": "New name"})
    assert judge(keys=KEYS, registered=registered(row=renamed)).status == Status.VALID


def test_a_stored_token_signed_by_an_unknown_key_is_not_genuine():
    other = Ed25519PrivateKey.generate()
    token = jws.sign(payload(), other)
    verdict = judge(keys=KEYS, registered=registered(token=token, kid=jws.thumbprint(other)))
    assert verdict.status == Status.INVALID
    assert not verdict.genuine
    assert verdict.reasons == (Reason.UNKNOWN_KEY,)


def test_a_presented_token_must_be_the_one_issued():
    stored = registered()
    assert judge(keys=KEYS, registered=stored, presented=stored.jws).status == Status.VALID
    changed = stored.jws[:-3] + ("AAA" if stored.jws[-3:] != "AAA" else "BBB")
    verdict = judge(keys=KEYS, registered=stored, presented=changed)
    assert verdict.status == Status.INVALID and not verdict.genuine
    resigned = jws.sign(payload(), KEY, kid=KID, typ="other")
    verdict = judge(keys=KEYS, registered=stored, presented=resigned)
    assert verdict.status == Status.INVALID and verdict.reasons == (Reason.NOT_AS_ISSUED,)


def test_a_genuine_token_without_a_registered_certificate_is_unknown():
    token = jws.sign(payload(), KEY, kid=KID)
    verdict = judge(keys=KEYS, registered=None, presented=token)
    assert verdict.status == Status.UNKNOWN and verdict.genuine
    assert verdict.reasons == (Reason.NOT_REGISTERED,)


def test_signed_code_reads_the_code_only_from_a_genuine_token():
    token = jws.sign(payload(), KEY, kid=KID)
    assert signed_code(token, KEYS) == "7K3Q-XZ0M-PA4N"
    assert signed_code(jws.sign(payload(), Ed25519PrivateKey.generate()), KEYS) is None
    assert signed_code("not a token", KEYS) is None


@pytest.mark.parametrize(
    ("name", "enterprise", "masked"),
    [
        ("林小燕", False, "林*燕"),
        ("林燕", False, "林*"),
        ("燕", False, "*"),
        ("", False, ""),
        ("欧阳小燕", False, "欧**燕"),
        ("Lin Xiaoyan", False, "L*********n"),
        ("厦门鹭味餐饮有限公司", True, "厦门****有限公司"),
        ("鹭味公司", True, "鹭**司"),
    ],
)
def test_names_are_shown_partly_masked(name, enterprise, masked):
    assert mask_name(name, enterprise=enterprise) == masked
