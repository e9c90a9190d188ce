"""API tokens: a token's last use is recorded, without a write on every request."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onething.accounts.auth import token_issue
from onething.accounts.models import ApiToken
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)


def test_a_tokens_last_use_is_recorded_at_most_once_a_minute(client):
    person = PersonFactory()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=person, name='t')}"}
    token = ApiToken.objects.get(user=person)
    with time_machine.travel(START, tick=False):
        assert client.get("/api/v1/applications", **headers).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == START
    with (
        time_machine.travel(START + dt.timedelta(seconds=59), tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        assert client.get("/api/v1/applications", **headers).status_code == 200
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    token.refresh_from_db()
    assert token.last_used_at == START
    with time_machine.travel(START + dt.timedelta(seconds=61), tick=False):
        assert client.get("/api/v1/applications", **headers).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == START + dt.timedelta(seconds=61)


def test_a_tokens_prefix_has_48_random_bits_and_still_authenticates(client):
    person = PersonFactory()
    issued = token_issue(user=person, name="t")
    prefix = ApiToken.objects.get(user=person).prefix
    # 32 bits clash by chance among tens of thousands of tokens (an error at issue): 48 do not.
    assert len(prefix) == 12 and int(prefix, 16) >= 0
    assert issued.startswith(f"ot_{prefix}.")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issued}"}
    assert client.get("/api/v1/applications", **headers).status_code == 200
