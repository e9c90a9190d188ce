"""The `certificates` connector: the newest valid certificate of a type the subject holds."""

from __future__ import annotations

import pytest

from onething.catalog.models import CertificateType
from onething.certificates.services import certificate_issue, certificate_revoke
from onething.sharing.connectors import Lookup
from onething.sharing.connectors.certificates import CertificatesConnector
from tests.factories import PersonFactory, reviewer

pytestmark = pytest.mark.django_db


def lookup(subject, fields=("marriage.certificate_number", "number")):
    return Lookup(
        source="marriage_certificates",
        connector="certificates",
        options={"certificate_type": "marriage_certificate"},
        subject=subject,
        fields=fields,
    )


def test_the_holders_valid_certificate_answers_and_a_revoked_one_does_not(loaded_catalog):
    person = PersonFactory()
    marriage = CertificateType.objects.get(code="marriage_certificate")
    certificate = certificate_issue(
        actor="test",
        certificate_type=marriage,
        holder=person,
        issuer=marriage.issuer,
        data={"marriage.certificate_number": "J350203-2021-004512"},
    )
    connector = CertificatesConnector()
    record = connector.fetch(lookup(person.id_number), timeout=1)
    assert record == {
        "marriage.certificate_number": "J350203-2021-004512",
        "number": certificate.number,
    }
    assert connector.fetch(lookup(PersonFactory().id_number), timeout=1) is None
    certificate_revoke(
        actor=reviewer(marriage.issuer.code), certificate=certificate, reason="issued in error"
    )
    assert connector.fetch(lookup(person.id_number), timeout=1) is None
