"""Issuing and revoking through the services: numbering, signing, audit, access, rotation."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import transaction

from onething.audit.models import AuditRecord
from onething.certificates import jws, selectors, services
from onething.certificates.models import Certificate
from onething.certificates.payload import protected_value
from onething.certificates.signing import platform_keys
from onething.core.actors import SystemActor
from onething.core.errors import Conflict, InvalidInput, NotAllowed
from tests.factories import PersonFactory, enterprise_with_agent

pytestmark = pytest.mark.django_db


def test_an_issued_certificate_is_numbered_signed_and_audited(issue, holder, birth_type):
    case = uuid.uuid4()
    certificate = issue(holder, case_public_id=case)
    certificate.refresh_from_db()
    year = certificate.issued_at.astimezone().year
    assert certificate.number == f"BIRTH-MEDICAL-CERTIFICATE-{year}-000001"
    assert certificate.holder_name == "林小燕"
    assert certificate.holder_id_number == holder.id_number
    assert certificate.issuer == birth_type.issuer
    assert certificate.case_public_id == case
    assert certificate.status == Certificate.Status.VALID
    verified = jws.verify(certificate.jws, platform_keys().public_keys())
    assert verified.kid == certificate.kid
    assert verified.payload["number"] == certificate.number
    # The signed text may be handed to anyone: the resident ID number is only a digest in it,
    # which someone shown the ID card can check.
    assert verified.payload["holder"] == {
        "kind": "person",
        "name": "林小燕",
        "id": protected_value(certificate.verification_code, "holder.id_number", holder.id_number),
    }
    assert holder.id_number not in json.dumps(verified.payload)
    assert verified.payload["data"] == {"child.name": "林小满", "child.birth_date": "2026-11-20"}
    record = AuditRecord.objects.get(action="certificate.issue")
    assert record.subject == certificate.number
    assert holder.id_number not in str(record.data)


def test_numbers_follow_each_other_per_type(issue, holder, loaded_catalog):
    from onething.catalog.models import CertificateType

    first, second = issue(holder), issue(holder)
    other_type = CertificateType.objects.get(code="vaccination_certificate")
    other = issue(holder, certificate_type=other_type)
    assert first.number.endswith("-000001") and second.number.endswith("-000002")
    assert other.number.startswith("VACCINATION-CERTIFICATE-") and other.number.endswith("-000001")
    assert len({first.verification_code, second.verification_code, other.verification_code}) == 3


def test_a_hundred_certificates_issued_by_the_service_verify(issue, holder):
    issued = [issue(holder, data={"index": index}) for index in range(100)]
    for certificate in issued:
        result = selectors.certificate_verify(code=certificate.verification_code)
        assert result.verdict.status == "valid", result.verdict
        assert result.certificate == certificate
        by_token = selectors.certificate_verify(token=certificate.jws)
        assert by_token.verdict.status == "valid"


def test_issue_takes_part_in_the_callers_transaction(issue, holder):
    with pytest.raises(RuntimeError), transaction.atomic():
        issue(holder)
        raise RuntimeError("the approval failed")
    assert not Certificate.objects.exists()
    assert not AuditRecord.objects.filter(action="certificate.issue").exists()


def test_a_verification_code_already_taken_is_drawn_again_and_signed(issue, holder, monkeypatch):
    first = issue(holder)
    drawn = iter([first.verification_code, "7K3Q-XZ0M-PA4N"])
    monkeypatch.setattr(services.codes, "new_code", lambda: next(drawn))
    with transaction.atomic():
        second = issue(holder)
        # The clash did not spoil the caller's transaction.
        assert Certificate.objects.count() == 2
    assert second.verification_code == "7K3Q-XZ0M-PA4N"
    result = selectors.certificate_verify(code=second.verification_code)
    assert result.verdict.status == "valid" and result.certificate == second


def test_verification_codes_taken_draw_after_draw_are_a_conflict(issue, holder, monkeypatch):
    first = issue(holder)
    monkeypatch.setattr(services.codes, "new_code", lambda: first.verification_code)
    with pytest.raises(Conflict), transaction.atomic():
        issue(holder)
    assert Certificate.objects.count() == 1


def test_an_enterprise_holds_what_is_issued_to_it(issue, holder, loaded_catalog):
    enterprise = enterprise_with_agent(holder)
    certificate = issue(holder, holder_enterprise=enterprise, actor=SystemActor("worker"))
    assert certificate.holder_name == enterprise.name
    assert certificate.holder_id_number == enterprise.uscc
    payload = jws.verify(certificate.jws, platform_keys().public_keys()).payload
    assert payload["holder"]["kind"] == "enterprise"


def test_issue_names_what_is_wrong(issue, holder):
    with pytest.raises(InvalidInput) as caught:
        issue(None)
    assert "holder" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:
        issue(holder, data={"when": object()})
    assert "data" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:
        issue(holder, case_public_id="not-a-uuid")
    assert "case_public_id" in caught.value.fields


def test_a_certificate_changed_in_the_database_no_longer_verifies(issue, holder):
    certificate = issue(holder)
    Certificate.objects.filter(pk=certificate.pk).update(holder_name="王小燕")
    result = selectors.certificate_verify(code=certificate.verification_code)
    assert result.verdict.status == "invalid"
    assert not result.verdict.unaltered
    assert result.certificate is None


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("health_reviewer", True),
        ("administrator", True),
        ("police_reviewer", False),
        ("clerk", False),
        ("applicant", False),
    ],
)
def test_only_the_issuing_department_or_an_administrator_may_revoke(
    issue, holder, people, who, allowed
):
    certificate = issue(holder)
    actor = people[who]
    if not allowed:
        with pytest.raises(NotAllowed):
            services.certificate_revoke(actor=actor, certificate=certificate, reason="error")
        assert Certificate.objects.get(pk=certificate.pk).status == "valid"
        return
    services.certificate_revoke(actor=actor, certificate=certificate, reason="issued in error")
    certificate.refresh_from_db()
    assert certificate.status == "revoked"
    assert certificate.revoked_by == actor
    assert certificate.revocation_reason == "issued in error"
    assert AuditRecord.objects.filter(action="certificate.revoke", subject=certificate.number)


def test_the_holder_cannot_revoke_their_own_certificate(issue, holder):
    certificate = issue(holder)
    with pytest.raises(NotAllowed):
        services.certificate_revoke(actor=holder, certificate=certificate, reason="mine")


def test_a_revoked_certificate_reports_revoked_at_once(issue, holder, people):
    certificate = issue(holder)
    services.certificate_revoke(
        actor=people["health_reviewer"], certificate=certificate, reason="wrong weight"
    )
    result = selectors.certificate_verify(code=certificate.verification_code)
    assert result.verdict.status == "revoked"
    assert result.verdict.genuine and result.verdict.unaltered and result.verdict.revoked
    assert selectors.certificate_verify(token=certificate.jws).verdict.status == "revoked"


def test_revocation_needs_a_reason_and_happens_once(issue, holder, people):
    certificate = issue(holder)
    reviewer = people["health_reviewer"]
    with pytest.raises(InvalidInput) as caught:
        services.certificate_revoke(actor=reviewer, certificate=certificate, reason="  ")
    assert "reason" in caught.value.fields
    with pytest.raises(InvalidInput):
        services.certificate_revoke(actor=reviewer, certificate=certificate, reason="x" * 2001)
    services.certificate_revoke(actor=reviewer, certificate=certificate, reason="error")
    with pytest.raises(Conflict):
        services.certificate_revoke(actor=reviewer, certificate=certificate, reason="again")


def test_after_rotation_old_certificates_verify_and_new_ones_carry_the_new_kid(issue, holder):
    old = issue(holder)
    new_kid = services.signing_key_rotate(actor=SystemActor("cli"))
    assert new_kid != old.kid
    new = issue(holder)
    assert new.kid == new_kid
    assert jws.parse(new.jws).kid == new_kid
    for certificate in (old, new):
        assert selectors.certificate_verify(code=certificate.verification_code).verdict.status == (
            "valid"
        )
    published = {key["kid"] for key in selectors.jwks()["keys"]}
    assert published == {old.kid, new_kid}
    assert AuditRecord.objects.filter(action="signing_key.rotate", subject=new_kid).exists()


def test_the_wallet_holds_ones_own_and_ones_enterprises_certificates(issue, holder):
    stranger = PersonFactory()
    own = issue(holder)
    theirs = issue(stranger)
    enterprise = enterprise_with_agent(holder)
    company = issue(stranger, holder_enterprise=enterprise)
    assert set(selectors.wallet_for(holder)) == {own, company}
    assert set(selectors.wallet_for(stranger)) == {theirs}
    enterprise.enterpriseagent_set.all().delete()
    assert set(selectors.wallet_for(holder)) == {own}


def test_personal_numbers_in_a_certificates_data_are_signed_as_digests(issue, holder):
    certificate = issue(holder, data={"child.name": "林小满", "mother.id_number": holder.id_number})
    verified = jws.verify(certificate.jws, platform_keys().public_keys())
    assert holder.id_number not in certificate.jws
    assert verified.payload["data"]["mother.id_number"] == protected_value(
        certificate.verification_code, "mother.id_number", holder.id_number
    )
    assert verified.payload["data"]["child.name"] == "林小满"
