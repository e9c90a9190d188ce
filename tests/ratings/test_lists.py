"""The lists of rectifications (the unit's workbench, the supervisors', the rater's, the API's):
paged, and as many queries for many rows as for one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onething.accounts.auth import token_issue
from onething.core.actors import WORKER
from onething.ratings import services, views
from onething.ratings.models import Rectification
from tests.ratings.conftest import closed_complaint

pytestmark = pytest.mark.django_db


def badly_rated_complaint(people, unit_member):
    """Another noise complaint of the applicant, closed and rated one star: the police station's
    unit is asked to rectify."""
    ticket = closed_complaint(people, unit_member)
    rating = services.rating_submit(
        actor=people["applicant"], ticket=ticket, stars=1, reasons=["not_solved"]
    )
    return rating.rectifications.get()


def escalate_all() -> None:
    latest = max(Rectification.objects.values_list("due_date", flat=True))
    services.rectification_sweep(
        actor=WORKER,
        now=timezone.make_aware(dt.datetime.combine(latest + dt.timedelta(days=1), dt.time(12))),
    )


def queries(client, path: str, **headers) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
    assert response.status_code == 200, path
    return len(captured), response.content.decode()


def test_the_number_of_queries_does_not_grow_with_the_rows(client, people, unit_member):
    badly_rated_complaint(people, unit_member)
    escalate_all()
    token = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=unit_member, name='t')}"}
    readers = {
        "/workbench/rectifications/": unit_member,
        "/supervision/rectifications/": people["xiamen_supervisor"],
        "/my/rectifications/": people["applicant"],
    }

    def count_all() -> dict[str, int]:
        counted = {}
        for path, user in readers.items():
            client.force_login(user)
            counted[path], _page = queries(client, path)
        counted["api"], _body = queries(client, "/api/v1/ratings/rectifications", **token)
        return counted

    # The token's first use is recorded (a write), later ones within the minute are not.
    client.get("/api/v1/ratings/rectifications", **token)
    with_one = count_all()
    for _ in range(3):
        badly_rated_complaint(people, unit_member)
    escalate_all()
    client.force_login(unit_member)
    _count, page = queries(client, "/workbench/rectifications/")
    assert page.count("data-rectification=") == 4
    assert count_all() == with_one


def test_a_long_list_comes_in_pages(client, people, unit_member, monkeypatch):
    first = badly_rated_complaint(people, unit_member)
    second = badly_rated_complaint(people, unit_member)
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    client.force_login(people["applicant"])
    _count, newest = queries(client, "/my/rectifications/")
    assert str(second.public_id) in newest and str(first.public_id) not in newest
    assert 'data-testid="rectification-pages"' in newest and "?page=2" in newest
    _count, older = queries(client, "/my/rectifications/?page=2")
    assert str(first.public_id) in older and str(second.public_id) not in older
    # A page number nobody can have is the last page, not an error.
    _count, last = queries(client, "/my/rectifications/?page=99")
    assert str(first.public_id) in last
