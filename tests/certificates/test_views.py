"""The certificate pages: public verification, the wallet, the A4 view, and revocation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from onething.certificates import codes
from onething.certificates.models import Certificate
from tests.factories import PersonFactory, enterprise_with_agent

pytestmark = pytest.mark.django_db


def test_the_verify_form_renders(client, db):
    response = client.get("/verify/")
    assert response.status_code == 200
    assert b'name="q"' in response.content
    assert b"/.well-known/jwks.json" in response.content


def test_a_verify_page_shows_the_verdict_with_the_holder_masked(client, issue, holder):
    certificate = issue(holder)
    response = client.get(f"/verify/{certificate.verification_code}")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-status="valid"' in page
    assert certificate.number in page
    assert "林*燕" in page
    assert "林小燕" not in page
    assert holder.id_number not in page
    assert "林小满" not in page  # the certificate's data is not public


def test_a_code_typed_loosely_leads_to_its_page(client, issue, holder):
    certificate = issue(holder)
    loose = certificate.verification_code.lower().replace("-", " ")
    response = client.post("/verify/", {"q": loose})
    assert response.status_code == 302
    assert response["Location"] == f"/verify/{certificate.verification_code}"
    lower = client.get(f"/verify/{certificate.verification_code.lower()}")
    assert lower.status_code == 302
    assert lower["Location"] == f"/verify/{certificate.verification_code}"


def test_a_pasted_token_is_checked_on_the_page(client, issue, holder):
    certificate = issue(holder)
    assert 'data-status="valid"' in client.post("/verify/", {"q": certificate.jws}).content.decode()
    changed = certificate.jws[:-5] + ("AAAAA" if not certificate.jws.endswith("AAAAA") else "BBBBB")
    page = client.post("/verify/", {"q": changed}).content.decode()
    assert 'data-status="invalid"' in page
    assert certificate.number not in page


def test_an_unknown_or_mistyped_code_is_said_so(client, db):
    unknown = client.get(f"/verify/{codes.new_code()}")
    assert unknown.status_code == 404
    assert 'data-status="unknown"' in unknown.content.decode()
    mistyped = client.post("/verify/", {"q": "7K3Q-XZ0M-PA4M"})
    assert mistyped.status_code == 422
    assert 'data-testid="verify-error"' in mistyped.content.decode()
    assert client.post("/verify/", {"q": ""}).status_code == 422
    assert client.get("/verify/nonsense").status_code == 404


def test_a_revoked_certificate_shows_revoked(client, issue, holder, people):
    from onething.certificates import services

    certificate = issue(holder)
    services.certificate_revoke(
        actor=people["health_reviewer"], certificate=certificate, reason="error"
    )
    page = client.get(f"/verify/{certificate.verification_code}").content.decode()
    assert 'data-status="revoked"' in page


def test_the_wallet_needs_a_sign_in(client, db):
    response = client.get("/wallet/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_wallet_shows_only_ones_own_certificates(client, issue, holder):
    stranger = PersonFactory()
    own = issue(holder)
    theirs = issue(stranger)
    company = issue(stranger, holder_enterprise=enterprise_with_agent(holder))
    client.force_login(holder)
    page = client.get("/wallet/").content.decode()
    assert own.verification_code in page
    assert company.verification_code in page
    assert theirs.verification_code not in page
    assert client.get(f"/wallet/{theirs.verification_code}/").status_code == 404
    assert client.get("/wallet/nonsense/").status_code == 404


def test_an_empty_wallet_says_so(client, holder):
    client.force_login(holder)
    response = client.get("/wallet/")
    assert response.status_code == 200
    assert b'data-testid="wallet"' not in response.content


def test_the_printable_certificate_has_a_qr_code_to_its_verify_page(client, issue, holder):
    certificate = issue(holder)
    client.force_login(holder)
    response = client.get(f"/wallet/{certificate.verification_code}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page and 'class="qr"' in page
    assert f"http://testserver/verify/{certificate.verification_code}" in page
    assert "onething/print.css" in page
    assert "林小燕" in page
    assert holder.id_number not in page.replace(certificate.jws, "")
    assert "林小满" in page


def test_staff_of_the_issuing_department_revoke_on_the_staff_page(client, issue, holder, people):
    certificate = issue(holder)
    client.force_login(people["health_reviewer"])
    listing = client.get("/certificates/").content.decode()
    assert certificate.number in listing
    page = client.get(f"/certificates/{certificate.verification_code}/").content.decode()
    assert 'data-testid="revoke"' in page
    assert holder.id_number not in page
    missing = client.post(f"/certificates/{certificate.verification_code}/revoke/", {"reason": ""})
    assert missing.status_code == 422
    assert 'data-testid="revoke-error"' in missing.content.decode()
    done = client.post(
        f"/certificates/{certificate.verification_code}/revoke/", {"reason": "issued in error"}
    )
    assert done.status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED
    assert certificate.revocation_reason == "issued in error"


def test_other_departments_and_applicants_cannot_revoke_on_the_staff_page(
    client, issue, holder, people
):
    certificate = issue(holder)
    path = f"/certificates/{certificate.verification_code}/revoke/"
    client.force_login(people["police_reviewer"])
    assert client.get(f"/certificates/{certificate.verification_code}/").status_code == 404
    assert client.post(path, {"reason": "x"}).status_code == 404
    assert certificate.number not in client.get("/certificates/").content.decode()
    client.force_login(people["clerk"])
    assert client.post(path, {"reason": "x"}).status_code == 404
    client.force_login(holder)
    assert client.post(path, {"reason": "x"}).status_code == 403
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


def test_an_administrator_sees_every_certificate(client, issue, holder, people):
    certificate = issue(holder)
    client.force_login(people["administrator"])
    page = client.get(f"/certificates/{certificate.verification_code}/")
    assert page.status_code == 200
    assert b'data-testid="revoke"' in page.content


def test_id_numbers_in_the_certificates_data_are_masked_on_the_page(client, issue, holder):
    mother = "350203199001010027"
    certificate = issue(holder, data={"mother.id_number": mother, "child.name": "林小满"})
    client.force_login(holder)
    page = client.get(f"/wallet/{certificate.verification_code}/").content.decode()
    assert mother not in page.replace(certificate.jws, "")
    assert mother[:4] + "*" * 12 + mother[-2:] in page


def test_choices_in_the_certificates_data_read_as_their_labels(client, issue, holder):
    certificate = issue(holder, data={"child.sex": "female"})
    client.force_login(holder)
    page = client.get(f"/wallet/{certificate.verification_code}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert '<tr data-key="child.sex"><th scope="row">新生儿性别</th><td>女</td></tr>' in (
        page.content.decode()
    )


def test_staff_read_sensitive_values_masked_and_each_view_is_recorded(
    client, issue, holder, people
):
    from onething.audit.models import AuditRecord

    certificate = issue(
        holder,
        data={"child.name": "林小满", "child.birth_weight": 3250, "child.ethnicity": "汉族"},
    )
    client.force_login(people["health_reviewer"])
    page = client.get(f"/certificates/{certificate.verification_code}/").content.decode()
    assert "3250" not in page
    assert "汉族" not in page
    assert 'data-testid="masked-note"' in page
    viewed = AuditRecord.objects.filter(action="certificate.viewed", subject=certificate.number)
    assert viewed.count() == 1
    record = viewed.get()
    assert record.actor == f"user:{people['health_reviewer'].pk}"
    assert record.purpose == "certificate management"
    # The holder still reads their own certificate in full.
    client.force_login(holder)
    own = client.get(f"/wallet/{certificate.verification_code}/").content.decode()
    assert "3250" in own.replace(certificate.jws, "")


def test_the_staff_list_masks_holder_names(client, issue, holder, people):
    issue(holder)
    client.force_login(people["health_reviewer"])
    listing = client.get("/certificates/").content.decode()
    assert "林小燕" not in listing
    assert "林*燕" in listing
