"""Applicants sign in through a pluggable identity provider (the demo real-name stand-in)."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.factories import PersonFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def realname(settings):
    settings.ONETHING_IDENTITY_PROVIDERS = ["demo_realname"]


def test_a_person_signs_in_with_name_and_id_number(client, realname, loaded_catalog):
    person = PersonFactory(real_name="林晓燕")
    page = client.get("/accounts/login/")
    assert b"provider-demo_realname" in page.content
    response = client.post(
        "/accounts/login/demo_realname/",
        {"real_name": "林晓燕", "id_number": person.id_number.lower(), "next": "/applications/"},
    )
    assert response.status_code == 302 and response["Location"] == "/applications/"
    assert client.get("/applications/").status_code == 200
    person.refresh_from_db()
    assert person.id_verified_at is not None
    from onething.audit.models import AuditRecord

    assert AuditRecord.objects.filter(action="user.real_name_verified").count() == 1


def test_a_wrong_check_digit_is_named_and_an_unknown_person_refused(client, realname):
    person = PersonFactory(real_name="陈建国")
    wrong = person.id_number[:-1] + ("0" if person.id_number[-1] != "0" else "1")
    with translation.override("en"):
        bad = client.post(
            "/accounts/login/demo_realname/",
            {"real_name": "陈建国", "id_number": wrong},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert b"not a valid resident ID number" in bad.content
    unknown = client.post(
        "/accounts/login/demo_realname/",
        {"real_name": "别人", "id_number": person.id_number},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert unknown.status_code == 401
    assert b"identity-error" in unknown.content


def test_staff_cannot_use_the_applicant_provider(client, realname):
    staff = StaffFactory(real_name="审核员", id_number="")
    response = client.post(
        "/accounts/login/demo_realname/",
        {"real_name": staff.real_name, "id_number": "350203199003071231"},
    )
    assert response.status_code in (200, 401)
    assert "_auth_user_id" not in client.session


def test_a_provider_that_is_not_switched_on_does_not_exist(client, settings):
    settings.ONETHING_IDENTITY_PROVIDERS = []
    assert client.get("/accounts/login/demo_realname/").status_code == 404
