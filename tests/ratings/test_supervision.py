"""After the answer: settling by silence, the supervisors told of every change once a rectification
is escalated, and what they do with it (send it back with an instruction, close it)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from onething.audit.models import AuditRecord
from onething.core.actors import WORKER
from onething.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from onething.notifications.models import Notification
from onething.ratings import rules, services
from onething.ratings.services import DepartmentStars
from tests.notifications.conftest import run_email_worker

pytestmark = pytest.mark.django_db

XIAMEN_SUPERVISOR = "supervisor-all-350200@example.test"
CDC_SUPERVISOR = "supervisor-fj_cdc-all@example.test"
HOUR = dt.timedelta(hours=1)


def bad_rectification(people, application, code="fj_health"):
    rating = services.rating_submit(
        actor=people["applicant"],
        application=application,
        stars=2,
        departments=[DepartmentStars(code, 1)],
    )
    return rating.rectifications.get()


def noon_after(day: dt.date, days: int = 1) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day + dt.timedelta(days=days), dt.time(12)),
        timezone.get_current_timezone(),
    )


def escalated_overdue(people, application):
    rectification = bad_rectification(people, application)
    late = noon_after(rectification.due_date)
    assert services.rectification_sweep(actor=WORKER, now=late)["overdue"] == 1
    rectification.refresh_from_db()
    return rectification, late


def actions(rectification) -> list[str]:
    return list(rectification.events.values_list("action", flat=True))


# --- settled by silence --------------------------------------------------------------------------


def test_an_answer_the_rater_does_not_reply_to_within_a_week_counts_as_settled(
    client, people, finished
):
    rectification = bad_rectification(people, finished)
    services.rectification_answer(
        actor=people["health"], rectification=rectification, answer="已简化核对流程"
    )
    rectification.refresh_from_db()
    a_moment_early = rectification.answered_at + rules.SETTLE_SILENCE - dt.timedelta(minutes=1)
    assert services.rectification_sweep(actor=WORKER, now=a_moment_early)["settled_by_silence"] == 0
    rectification.refresh_from_db()
    assert rectification.status == "answered"

    a_week_on = rectification.answered_at + rules.SETTLE_SILENCE
    counts = services.rectification_sweep(actor=WORKER, now=a_week_on)
    assert counts == {"overdue": 0, "unsettled": 0, "settled_by_silence": 1}
    rectification.refresh_from_db()
    assert rectification.status == "settled" and rectification.settled_at == a_week_on
    assert actions(rectification)[-1] == "settled_by_silence"
    told = Notification.objects.get(kind="rectification-settled-by-silence")
    assert told.recipient == people["applicant"]
    assert told.link == f"/my/rectifications/{rectification.public_id}/"
    assert AuditRecord.objects.filter(
        stream__name=f"rectification:{rectification.public_id}",
        action="rectification.settled_by_silence",
    ).exists()
    client.force_login(people["applicant"])
    page = client.get(told.link).content.decode()
    assert "您一周内未回复，整改答复视为已解决。" in page
    # Settled, it is not swept again; nobody was escalated to.
    assert services.rectification_sweep(actor=WORKER, now=a_week_on)["settled_by_silence"] == 0
    assert not Notification.objects.filter(kind__startswith="rectification-escalated").exists()


def test_a_rater_who_replies_in_time_is_not_overruled_by_the_silence_rule(people, finished):
    rectification = bad_rectification(people, finished)
    services.rectification_answer(actor=people["health"], rectification=rectification, answer="改")
    services.rectification_settle(
        actor=people["applicant"], rectification=rectification, settled=False, note="没变化"
    )
    rectification.refresh_from_db()
    counts = services.rectification_sweep(
        actor=WORKER, now=rectification.answered_at + rules.SETTLE_SILENCE
    )
    assert counts == {"overdue": 0, "unsettled": 1, "settled_by_silence": 0}


# --- the supervisors hear of every change after escalation ---------------------------------------


def test_supervisors_are_told_when_an_escalated_one_is_answered_and_then_not_settled(
    people, finished, email_topics
):
    rectification, _late = escalated_overdue(people, finished)
    run_email_worker(email_topics)
    mail.outbox.clear()

    services.rectification_answer(actor=people["health"], rectification=rectification, answer="改")
    services.rectification_settle(
        actor=people["applicant"], rectification=rectification, settled=False, note="还是没人接"
    )
    run_email_worker(email_topics)

    to_supervisor = [m for m in mail.outbox if m.to == [XIAMEN_SUPERVISOR]]
    assert len(to_supervisor) == 2
    assert all(finished.reference in m.subject for m in to_supervisor)
    assert all(
        f"/workbench/rectifications/{rectification.public_id}/" in m.body for m in to_supervisor
    )
    bodies = [m.body for m in to_supervisor]
    # What changed, in the supervisor's language (Chinese).
    assert any("部门已答复" in body for body in bodies)
    assert any("评价人表示整改答复未解决问题" in body for body in bodies)
    # The CDC's supervisor does not watch the health commission's rectification.
    assert not [m for m in mail.outbox if m.to == [CDC_SUPERVISOR]]


def test_changes_before_any_escalation_are_not_sent_to_the_supervisors(people, finished):
    rectification = bad_rectification(people, finished)
    services.rectification_answer(actor=people["health"], rectification=rectification, answer="改")
    services.rectification_settle(
        actor=people["applicant"], rectification=rectification, settled=True
    )
    assert not Notification.objects.filter(recipient=people["xiamen_supervisor"]).exists()


# --- what a supervisor does with an escalated one ------------------------------------------------


def test_a_supervisor_sends_it_back_with_an_instruction_and_a_new_due_date(people, finished):
    rectification, late = escalated_overdue(people, finished)
    supervisor = people["xiamen_supervisor"]
    for outsider in (people["fuzhou_supervisor"], people["cdc_supervisor"], people["other"]):
        with pytest.raises(NotFound):
            services.rectification_send_back(
                actor=outsider, rectification=rectification, instruction="x"
            )
    for refused in (people["health"], people["applicant"]):
        with pytest.raises(NotAllowed):
            services.rectification_send_back(
                actor=refused, rectification=rectification, instruction="x"
            )
    with pytest.raises(InvalidInput) as caught:
        services.rectification_send_back(
            actor=supervisor, rectification=rectification, instruction="  "
        )
    assert set(caught.value.fields) == {"instruction"}

    sent_at = late + dt.timedelta(hours=1)
    done = services.rectification_send_back(
        actor=supervisor,
        rectification=rectification,
        instruction="请三日内恢复窗口电话值守并书面说明",
        now=sent_at,
    )
    assert done.status == "open" and done.instruction.startswith("请三日内")
    assert done.due_date > timezone.localdate(sent_at)
    assert actions(done)[-1] == "sent_back"
    told = set(
        Notification.objects.filter(kind="rectification-sent-back").values_list(
            "recipient__email", "link"
        )
    )
    assert told == {
        ("lin@example.cn", f"/my/rectifications/{done.public_id}/"),
        ("health@example.test", f"/workbench/rectifications/{done.public_id}/"),
    }
    assert AuditRecord.objects.filter(
        stream__name=f"rectification:{done.public_id}", action="rectification.sent_back"
    ).exists()
    with pytest.raises(Conflict):  # it is with the department again
        services.rectification_close(actor=supervisor, rectification=done, conclusion="结")

    # Late again: it escalates again, once.
    late_again = noon_after(done.due_date)
    assert services.rectification_sweep(actor=WORKER, now=late_again)["overdue"] == 1
    assert services.rectification_sweep(actor=WORKER, now=late_again)["overdue"] == 0
    done.refresh_from_db()
    assert done.status == "escalated" and done.escalated_at == late_again


def test_a_supervisor_closes_an_unsettled_one_with_a_conclusion(people, finished):
    rectification, late = escalated_overdue(people, finished)
    services.rectification_answer(
        actor=people["health"], rectification=rectification, answer="改", now=late + HOUR
    )
    services.rectification_settle(
        actor=people["applicant"],
        rectification=rectification,
        settled=False,
        note="没变化",
        now=late + 2 * HOUR,
    )
    with pytest.raises(NotAllowed):
        services.rectification_close(
            actor=people["health"], rectification=rectification, conclusion="结"
        )
    with pytest.raises(InvalidInput) as caught:
        services.rectification_close(
            actor=people["xiamen_supervisor"], rectification=rectification, conclusion=""
        )
    assert set(caught.value.fields) == {"conclusion"}
    done = services.rectification_close(
        actor=people["xiamen_supervisor"],
        rectification=rectification,
        conclusion="经核查，窗口已恢复值守，督办结束",
        now=late + 3 * HOUR,
    )
    assert done.status == "closed" and done.closed_by == people["xiamen_supervisor"]
    assert actions(done)[-2:] == ["unsettled", "closed"]
    told = set(
        Notification.objects.filter(kind="rectification-closed").values_list(
            "recipient__email", flat=True
        )
    )
    assert told == {"lin@example.cn", "health@example.test"}
    with pytest.raises(Conflict):
        services.rectification_send_back(
            actor=people["xiamen_supervisor"], rectification=done, instruction="再改"
        )
    # Closed is final: the sweep leaves it alone.
    assert services.rectification_sweep(actor=WORKER, now=noon_after(done.due_date, days=30)) == {
        "overdue": 0,
        "unsettled": 0,
        "settled_by_silence": 0,
    }


def test_nothing_is_done_by_a_supervisor_to_one_that_was_never_escalated(people, finished):
    rectification = bad_rectification(people, finished)
    with pytest.raises(NotFound):  # not escalated: the supervisor does not see it
        services.rectification_close(
            actor=people["xiamen_supervisor"], rectification=rectification, conclusion="结"
        )


# --- on the pages ---------------------------------------------------------------------------------


def test_the_supervisor_acts_on_the_rectification_page_and_the_rater_reads_the_outcome(
    client, people, finished
):
    rectification, _late = escalated_overdue(people, finished)
    staff_page = f"/workbench/rectifications/{rectification.public_id}/"
    client.force_login(people["health"])
    assert 'data-testid="supervisor-actions"' not in client.get(staff_page).content.decode()
    refused = client.post(staff_page, {"action": "close", "conclusion": "结"})
    assert refused.status_code == 403
    client.force_login(people["fuzhou_supervisor"])
    assert client.get(staff_page).status_code == 404
    assert client.post(staff_page, {"action": "close", "conclusion": "结"}).status_code == 404

    client.force_login(people["xiamen_supervisor"])
    page = client.get(staff_page).content.decode()
    assert 'data-testid="send-back-form"' in page and 'data-testid="close-form"' in page
    empty = client.post(staff_page, {"action": "send_back", "instruction": ""})
    assert empty.status_code == 422
    assert "请说明部门还须做什么。" in empty.content.decode()
    sent = client.post(staff_page, {"action": "send_back", "instruction": "请恢复电话值守"})
    assert sent.status_code == 302
    page = client.get(staff_page).content.decode()
    assert 'data-testid="supervisor-instruction"' in page and "请恢复电话值守" in page
    assert 'data-testid="supervisor-actions"' not in page  # with the department again
    rectification.refresh_from_db()
    assert rectification.status == "open"

    client.force_login(people["applicant"])
    mine = client.get(f"/my/rectifications/{rectification.public_id}/").content.decode()
    assert "请恢复电话值守" in mine


def test_the_rater_is_told_by_when_silence_counts_as_settled(client, people, finished):
    rectification = bad_rectification(people, finished)
    services.rectification_answer(actor=people["health"], rectification=rectification, answer="改")
    rectification.refresh_from_db()
    by = timezone.localtime(
        rules.settled_by_silence_at(rectification.answered_at),
        dt.timezone(dt.timedelta(hours=8)),
    )
    client.force_login(people["applicant"])
    page = client.get(f"/my/rectifications/{rectification.public_id}/").content.decode()
    assert f"如您在 {by:%Y-%m-%d %H:%M} 前未回复，整改答复视为已解决。" in page
