"""The pages of 好差评, and the rectification flow end to end through them: a one-star rating,
the department's task and answer, the applicant told by e-mail, not settled, escalated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from onething.outbox.registry import topics
from onething.ratings import services
from onething.ratings.models import Rectification
from onething.ratings.tasks import SWEEP_TOPIC, ratings_schedule_sweep
from tests.notifications.conftest import run_email_worker

pytestmark = pytest.mark.django_db


def as_user(client, user):
    client.force_login(user)
    return client


def test_the_rectification_flow_end_to_end(client, people, finished, email_topics):
    applicant, health = people["applicant"], people["health"]
    run_email_worker(email_topics)  # what making the application sent is not under test
    detail = f"/applications/{finished.reference}/"
    page = as_user(client, applicant).get(detail).content.decode()
    assert 'data-testid="rating-form"' in page and 'name="dept-fj_health-stars"' in page
    assert 'name="dept-fj_hrss-stars"' not in page  # its case was cancelled: it handled nothing

    # 1. The applicant gives one star, and one to the health commission.
    response = client.post(
        f"/applications/{finished.reference}/rating/",
        {
            "stars": "1",
            "reasons": ["repeated_trips", "too_slow"],
            "dept-fj_health-stars": "1",
            "dept-fj_health-reasons": ["poor_attitude"],
            "comment": "跑了三次",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"{detail}#rating"
    page = client.get(detail).content.decode()
    assert 'data-testid="rating-given"' in page and "跑了三次" in page
    assert 'data-testid="rating-edit"' in page and 'data-testid="rating-form"' not in page
    # The health commission was rated one star: it alone is asked to rectify.
    assert list(Rectification.objects.values_list("department__code", flat=True)) == ["fj_health"]

    # 2. The health commission sees its task on the workbench and answers it.
    page = as_user(client, health).get("/workbench/rectifications/").content.decode()
    assert finished.reference in page
    rectification = Rectification.objects.get(department__code="fj_health")
    assert str(rectification.public_id) in page
    assert (
        "rectification-list-empty"
        in as_user(client, people["cdc"]).get("/workbench/rectifications/").content.decode()
    )
    as_user(client, health)
    staff_page = f"/workbench/rectifications/{rectification.public_id}/"
    assert 'data-testid="answer-form"' in client.get(staff_page).content.decode()
    response = client.post(staff_page, {"answer": "已安排专人值守窗口，出生证明当场核对"})
    assert response.status_code == 302

    # 3. The applicant is told by e-mail, with the link to the answer.
    mail.outbox.clear()
    run_email_worker(email_topics)
    (told,) = [m for m in mail.outbox if m.to == ["lin@example.cn"]]
    assert finished.reference in told.subject
    assert f"/my/rectifications/{rectification.public_id}/" in told.body

    # 4. The applicant reads the answer and says it does not settle the matter.
    mine = f"/my/rectifications/{rectification.public_id}/"
    page = as_user(client, applicant).get(mine).content.decode()
    assert "出生证明当场核对" in page and 'data-testid="settle-form"' in page
    response = client.post(mine, {"settled": "no", "note": "今天去还是没人"})
    assert response.status_code == 302
    assert "今天去还是没人" in client.get(mine).content.decode()

    # 5. The worker's sweep escalates it; the supervisor over Xiamen sees it and is told.
    due = timezone.now() - dt.timedelta(minutes=20)
    ratings_schedule_sweep(now=due)
    email_topics.register(SWEEP_TOPIC)(topics[SWEEP_TOPIC])
    mail.outbox.clear()
    run_email_worker(email_topics)  # the sweep, which queues the supervisors' e-mail
    run_email_worker(email_topics)  # the e-mail
    rectification.refresh_from_db()
    assert (rectification.status, rectification.escalation_reason) == ("escalated", "unsettled")
    page = as_user(client, people["xiamen_supervisor"]).get("/supervision/rectifications/")
    page = page.content.decode()
    assert str(rectification.public_id) in page and finished.reference in page
    # Why, in the language of the page (Chinese): in its row, and among the reasons above.
    assert page.count("评价人对整改答复不满意") == 2 and "逾期未答复" in page
    (supervisor_told,) = [m for m in mail.outbox if m.to == ["supervisor-all-350200@example.test"]]
    assert "评价人表示整改答复未解决问题" in supervisor_told.body
    fuzhou = as_user(client, people["fuzhou_supervisor"]).get("/supervision/rectifications/")
    assert str(rectification.public_id) not in fuzhou.content.decode()


def test_a_wrong_rating_is_shown_next_to_its_field_in_the_users_language(client, people, finished):
    as_user(client, people["applicant"])
    url = f"/applications/{finished.reference}/rating/"
    english = client.post(url, {"reasons": ["too_slow"]}, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 422
    assert "Choose from 1 to 5 stars." in english.content.decode()
    chinese = client.post(
        url, {"stars": "5", "reasons": ["too_slow"]}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert chinese.status_code == 422
    assert "“办理时间长”是差评的理由" in chinese.content.decode()
    # A superscript two is a "digit" to Python's isdigit() but not a number int() reads.
    superscript = client.post(url, {"stars": "²"}, HTTP_ACCEPT_LANGUAGE="en")
    assert superscript.status_code == 422
    assert "Choose from 1 to 5 stars." in superscript.content.decode()
    assert not finished.ratings.exists()


def test_the_card_swaps_itself_with_htmx_and_offers_a_change_while_editable(
    client, people, finished
):
    as_user(client, people["applicant"])
    url = f"/applications/{finished.reference}/rating/"
    response = client.post(url, {"stars": "4", "reasons": ["friendly"]}, HTTP_HX_REQUEST="true")
    fragment = response.content.decode()
    assert response.status_code == 200 and "<html" not in fragment
    assert 'data-testid="rating-given"' in fragment and 'data-testid="rating-edit"' in fragment
    editing = client.get(f"{url}?edit=1", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="rating-form"' in editing and 'value="friendly" checked' in editing
    rating = finished.ratings.get()
    rating.editable_until = timezone.now() - dt.timedelta(seconds=1)
    rating.save(update_fields=["editable_until"])
    page = client.get(f"/applications/{finished.reference}/").content.decode()
    assert 'data-testid="rating-given"' in page and 'data-testid="rating-edit"' not in page


def test_a_closed_complaint_is_rated_on_its_page(client, people, closed_ticket, unit_member):
    as_user(client, people["applicant"])
    page = client.get(f"/hotline/my/{closed_ticket.reference}/").content.decode()
    assert 'data-testid="rating-form"' in page
    response = client.post(
        f"/hotline/my/{closed_ticket.reference}/rating/", {"stars": "2", "reasons": ["not_solved"]}
    )
    assert response.status_code == 302
    (rectification,) = closed_ticket.ratings.get().rectifications.all()
    page = as_user(client, unit_member).get("/workbench/rectifications/").content.decode()
    assert closed_ticket.reference in page and str(rectification.public_id) in page


def test_outsiders_find_nothing(client, people, finished):
    rating = services.rating_submit(
        actor=people["applicant"], application=finished, stars=1, comment="电话13959211234"
    )
    rectification = rating.rectifications.get(department__code="fj_health")
    as_user(client, people["other"])
    assert client.get(f"/applications/{finished.reference}/rating/").status_code == 404
    assert client.get(f"/my/rectifications/{rectification.public_id}/").status_code == 404
    assert client.get(f"/workbench/rectifications/{rectification.public_id}/").status_code == 404
    assert client.get("/workbench/rectifications/").status_code == 403
    assert client.get("/supervision/rectifications/").status_code == 403
    as_user(client, people["cdc"])
    assert client.get(f"/workbench/rectifications/{rectification.public_id}/").status_code == 404
    as_user(client, people["fuzhou_health"])
    assert client.get(f"/workbench/rectifications/{rectification.public_id}/").status_code == 404
    # The department reads the rating with the rater's numbers masked, and no name.
    as_user(client, people["health"])
    page = client.get(f"/workbench/rectifications/{rectification.public_id}/").content.decode()
    assert (
        "13959211234" not in page
        and people["applicant"].real_name
        not in page.split('data-testid="the-rating"')[1].split("</section>")[0]
    )


def test_nobody_rates_an_unfinished_application_on_its_page(client, people, finished):
    as_user(client, people["health"])
    page = client.get("/workbench/rectifications/").status_code
    assert page == 200  # a reviewer has the list, empty
    as_user(client, people["applicant"])
    finished.status = "in_progress"  # as if it were not finished yet
    finished.save(update_fields=["status"])
    page = client.get(f"/applications/{finished.reference}/").content.decode()
    assert 'data-testid="rating-card"' not in page
    assert (
        client.post(f"/applications/{finished.reference}/rating/", {"stars": "5"}).status_code
        == 409
    )
