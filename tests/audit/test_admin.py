"""Staff read the audit trail in Django admin; nobody can add, change or delete a record there."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from onething.audit.services import audit_anchor
from onething.audit.verification import audit_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-1234")
    client.force_login(user)
    return client


def test_a_superuser_reads_records_but_cannot_add_change_or_delete_them(superuser_client, trail):
    record = trail["application:a"][0]
    listing = superuser_client.get("/admin/audit/auditrecord/")
    assert listing.status_code == 200
    assert "application:a" in listing.text
    page = superuser_client.get(f"/admin/audit/auditrecord/{record.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert superuser_client.get("/admin/audit/auditrecord/add/").status_code == 403
    assert superuser_client.get(f"/admin/audit/auditrecord/{record.pk}/delete/").status_code == 403
    change = {"actor": "user:7", "action": "x"}
    assert (
        superuser_client.post(f"/admin/audit/auditrecord/{record.pk}/change/", change).status_code
        == 403
    )
    assert (
        superuser_client.post(
            f"/admin/audit/auditrecord/{record.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert audit_verify().ok


def test_anchors_open_read_only_in_admin(superuser_client, trail):
    anchor = audit_anchor()
    assert superuser_client.get("/admin/audit/auditanchor/").status_code == 200
    assert superuser_client.get(f"/admin/audit/auditanchor/{anchor.pk}/change/").status_code == 200
    assert superuser_client.get("/admin/audit/auditanchor/add/").status_code == 403
