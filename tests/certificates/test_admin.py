"""The admin shows certificates read-only, with the holder's ID number masked."""

from __future__ import annotations

import pytest

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_the_admin_lists_and_shows_certificates_without_full_id_numbers(client, issue, holder):
    certificate = issue(holder)
    client.force_login(StaffFactory(is_staff=True, is_superuser=True))
    listing = client.get("/admin/certificates/certificate/")
    assert listing.status_code == 200
    assert certificate.number in listing.content.decode()
    page = client.get(f"/admin/certificates/certificate/{certificate.pk}/change/")
    assert page.status_code == 200
    assert holder.id_number not in page.content.decode()
    assert client.get("/admin/certificates/certificate/add/").status_code == 403
