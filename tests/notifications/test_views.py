"""The inbox pages and the notifications API show each user their own messages only."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.template.loader import render_to_string

from onething.accounts.auth import token_issue
from onething.notifications.models import Notification
from onething.notifications.services import notify
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def message(user, subject, link="/applications/X/") -> Notification:
    with transaction.atomic():
        return notify(
            recipient=user, kind="test", subject=subject, body=f"{subject} body", link=link
        )


@pytest.fixture
def mine():
    return PersonFactory()


@pytest.fixture
def theirs():
    return PersonFactory()


@pytest.fixture
def inbox(mine, theirs):
    older = message(mine, "Older message")
    newer = message(mine, "Newer message")
    other = message(theirs, "Someone else's message")
    return {"older": older, "newer": newer, "other": other}


def bearer(user) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, name='test')}"}


def test_the_inbox_needs_a_signed_in_user(client, inbox):
    response = client.get("/inbox/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_inbox_lists_ones_own_messages_newest_first_unread_in_bold(client, mine, inbox):
    client.force_login(mine)
    response = client.get("/inbox/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Newer message") < page.index("Older message")
    assert "<strong>Newer message</strong>" in page
    assert "Someone else" not in page
    assert [n.pk for n in response.context["page"]] == [inbox["newer"].pk, inbox["older"].pk]
    assert response.context["unread_notifications"]() == 2


def test_opening_a_message_marks_it_read_and_follows_its_link(client, mine, inbox):
    client.force_login(mine)
    response = client.get(f"/inbox/{inbox['older'].pk}/")
    assert response.status_code == 302
    assert response["Location"] == "/applications/X/"
    inbox["older"].refresh_from_db()
    assert inbox["older"].read_at is not None
    page = client.get("/inbox/").content.decode()
    assert "<strong>Older message</strong>" not in page
    assert "<strong>Newer message</strong>" in page


def test_someone_elses_message_does_not_exist_for_you(client, mine, inbox):
    client.force_login(mine)
    response = client.get(f"/inbox/{inbox['other'].pk}/")
    assert response.status_code == 404
    inbox["other"].refresh_from_db()
    assert inbox["other"].read_at is None


def test_mark_all_read_marks_only_ones_own(client, mine, inbox):
    client.force_login(mine)
    assert client.get("/inbox/read-all/").status_code == 405
    response = client.post("/inbox/read-all/")
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=mine, read_at__isnull=True).exists()
    inbox["other"].refresh_from_db()
    assert inbox["other"].read_at is None


def test_the_api_lists_the_callers_notifications(client, mine, inbox):
    response = client.get("/api/v1/notifications", **bearer(mine))
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [inbox["newer"].pk, inbox["older"].pk]
    assert body["count"] == 2
    assert body["unread"] == 2
    assert body["items"][0]["read_at"] is None


def test_the_api_needs_authentication(client, inbox):
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post(f"/api/v1/notifications/{inbox['newer'].pk}/read").status_code == 401


def test_the_api_marks_ones_own_notification_read(client, mine, inbox):
    response = client.post(f"/api/v1/notifications/{inbox['newer'].pk}/read", **bearer(mine))
    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    listed = client.get("/api/v1/notifications?unread_only=true", **bearer(mine)).json()
    assert [item["id"] for item in listed["items"]] == [inbox["older"].pk]


def test_the_api_gives_404_for_someone_elses_notification(client, mine, inbox):
    response = client.post(f"/api/v1/notifications/{inbox['other'].pk}/read", **bearer(mine))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    inbox["other"].refresh_from_db()
    assert inbox["other"].read_at is None


def test_the_badge_shows_ones_unread_count(rf, mine, inbox):
    request = rf.get("/")
    request.user = mine
    html = render_to_string("notifications/_badge.html", request=request)
    assert 'data-testid="unread-count">2<' in html
    request.user = inbox["other"].recipient
    html = render_to_string("notifications/_badge.html", request=request)
    assert 'data-testid="unread-count">1<' in html
