"""Open311 client applications: created in the admin or by `onething hotline key`, their
api_key shown once, and revoked."""

from __future__ import annotations

import re

import pytest

from onething.audit.models import AuditRecord
from onething.cli import main
from onething.complaints.models import Open311Client
from onething.complaints.services import open311_client_for_key
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

KEY = re.compile(r"o311_[A-Za-z0-9_-]{20,}")


def test_the_admin_shows_a_new_clients_key_once_and_revokes_it(client):
    client.force_login(StaffFactory(is_staff=True, is_superuser=True))
    page = client.post(
        "/admin/complaints/open311client/add/",
        {"name": "随手拍", "contact": "ops@example.test"},
        follow=True,
    )
    assert page.status_code == 200
    (key,) = KEY.findall(page.text)
    stored = Open311Client.objects.get()
    assert open311_client_for_key(key) == stored
    assert key not in (stored.key_hash, stored.key_prefix)
    assert AuditRecord.objects.filter(action="open311.client_created").exists()
    # Never again: not on the list, not on the client's page.
    listing = client.get("/admin/complaints/open311client/")
    detail = client.get(f"/admin/complaints/open311client/{stored.pk}/change/")
    assert "随手拍" in listing.text and stored.key_prefix in listing.text
    assert key not in listing.text and key not in detail.text

    client.post(
        "/admin/complaints/open311client/",
        {"action": "revoke", "_selected_action": [stored.pk]},
    )
    stored.refresh_from_db()
    assert not stored.active and stored.revoked_at is not None
    assert open311_client_for_key(key) is None
    assert AuditRecord.objects.filter(action="open311.client_revoked").exists()


def test_the_command_prints_a_working_key_for_a_named_client(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("ONETHING_DATA_DIR", str(tmp_path))
    assert main(["hotline", "key", "街道随手拍", "--contact", "ops@example.test"]) == 0
    key = capsys.readouterr().out.strip()
    assert KEY.fullmatch(key)
    client = open311_client_for_key(key)
    assert client is not None and client.name == "街道随手拍"
    assert main(["hotline", "key", "  "]) == 1
    assert capsys.readouterr().err.startswith("onething hotline key: ")
