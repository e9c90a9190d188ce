"""Rating and rectifying through the services: who may rate, once, within the window; bad
ratings open rectifications; answers, settling and the sweep."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from onething.audit.models import AuditRecord
from onething.complaints import services as hotline
from onething.complaints.models import Channel
from onething.complaints.services import Intake
from onething.core.actors import WORKER
from onething.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from onething.notifications.models import Notification
from onething.ratings import services
from onething.ratings.models import Rating, Rectification
from onething.ratings.services import DepartmentStars
from tests.ratings.conftest import NOISE, ZHONGHUA, finish_newborn

pytestmark = pytest.mark.django_db


def rate(people, application, stars=5, **extra):
    return services.rating_submit(
        actor=people["applicant"], application=application, stars=stars, **extra
    )


def test_the_applicant_rates_a_finished_application_with_reasons_and_department_stars(
    people, finished
):
    rating = rate(
        people,
        finished,
        stars=4,
        reasons=["efficient", "one_trip"],
        comment="很方便",
        departments=[DepartmentStars("fj_cdc", 5, ["friendly"]), DepartmentStars("fj_health", 3)],
    )
    assert rating.stars == 4 and rating.reasons == ["efficient", "one_trip"]
    assert rating.region_code == "350203" and rating.subject_kind == "application"
    assert dict(rating.departments.values_list("department__code", "stars")) == {
        "fj_cdc": 5,
        "fj_health": 3,
    }
    assert not Rectification.objects.exists()
    assert AuditRecord.objects.filter(
        stream__name=f"rating:{rating.public_id}", action="rating.given"
    ).exists()


def test_nobody_else_rates_it_and_an_unfinished_one_waits(people, finished):
    with pytest.raises(NotFound):
        services.rating_submit(actor=people["other"], application=finished, stars=5)
    with pytest.raises(NotFound):
        services.rating_submit(actor=people["health"], application=finished, stars=1)
    other_people = {**people, "applicant": people["other"]}
    from onething.applications import services as applications
    from tests.applications.conftest import fill_and_attach
    from tests.ratings.conftest import NEWBORN_ANSWERS

    running = applications.application_start(
        actor=people["other"], thing_code="newborn", answers=NEWBORN_ANSWERS
    )
    fill_and_attach(running, people["other"])
    running = applications.application_submit(
        actor=people["other"], application=running, consent=True
    )
    with pytest.raises(Conflict):
        rate(other_people, running, stars=5)
    assert not Rating.objects.exists()


def test_one_rating_per_application_and_person_changed_within_seven_days(people, finished):
    first = rate(people, finished, stars=3)
    again = rate(people, finished, stars=4, reasons=["friendly"])
    assert again.pk == first.pk and Rating.objects.count() == 1
    assert again.stars == 4 and again.editable_until == first.editable_until
    later = timezone.now() + dt.timedelta(days=7, minutes=1)
    with pytest.raises(Conflict) as caught:
        rate(people, finished, stars=5, now=later)
    assert "已不能修改" in caught.value.message  # the default language: Chinese
    assert Rating.objects.get().stars == 4
    assert AuditRecord.objects.filter(action="rating.changed").count() == 1


def test_every_wrong_field_is_named(people, finished):
    with pytest.raises(InvalidInput) as caught:
        rate(
            people,
            finished,
            stars=5,
            reasons=["too_slow", "nonsense"],
            comment="x" * 1001,
            departments=[
                DepartmentStars("fj_public_security", 1),  # its case was cancelled
                DepartmentStars("fj_cdc", 9),
            ],
        )
    assert set(caught.value.fields) == {
        "reasons",
        "comment",
        "departments.fj_public_security",
        "departments.fj_cdc.stars",
    }
    assert "“办理时间长”是差评的理由" in caught.value.fields["reasons"]
    with pytest.raises(InvalidInput) as caught:
        rate(people, finished, stars=0)
    assert caught.value.fields == {"stars": "请选择 1 到 5 颗星。"}
    assert not Rating.objects.exists()


def test_a_bad_department_rating_opens_a_rectification_for_that_department_only(people, finished):
    rating = rate(
        people,
        finished,
        stars=3,
        departments=[
            DepartmentStars("fj_health", 1, ["repeated_trips"]),
            DepartmentStars("fj_cdc", 4),
        ],
    )
    (rectification,) = rating.rectifications.all()
    assert rectification.department.code == "fj_health" and rectification.status == "open"
    assert rectification.region_code == "350203"
    assert rectification.due_date > timezone.localdate()
    assert list(rectification.events.values_list("action", flat=True)) == ["opened"]
    told = Notification.objects.filter(kind="rectification-opened")
    assert set(told.values_list("recipient__email", flat=True)) == {"health@example.test"}


def test_bad_overall_stars_open_one_for_every_department_that_handled_a_case(people, finished):
    rating = rate(people, finished, stars=1, reasons=["too_slow"])
    codes = set(rating.rectifications.values_list("department__code", flat=True))
    assert codes == {"fj_health", "fj_cdc"}  # not the departments whose cases were cancelled


def test_changing_a_rating_to_bad_opens_them_and_back_to_good_closes_nothing(people, finished):
    rate(people, finished, stars=4)
    assert not Rectification.objects.exists()
    rate(people, finished, stars=2, departments=[DepartmentStars("fj_cdc", 2)])
    assert list(Rectification.objects.values_list("department__code", flat=True)) == ["fj_cdc"]
    rate(people, finished, stars=1, departments=[DepartmentStars("fj_cdc", 1)])
    assert Rectification.objects.count() == 1  # one per department and rating
    rate(people, finished, stars=5)
    assert Rectification.objects.get().status == "open"


def test_a_closed_ticket_is_rated_by_its_citizen_and_a_bad_rating_goes_to_the_unit(
    people, closed_ticket, unit_member
):
    with pytest.raises(NotFound):
        services.rating_submit(actor=people["other"], ticket=closed_ticket, stars=1)
    rating = services.rating_submit(
        actor=people["applicant"], ticket=closed_ticket, stars=2, reasons=["not_solved"]
    )
    assert rating.subject_kind == "ticket" and rating.region_code == "350203"
    (rectification,) = rating.rectifications.all()
    assert rectification.unit == "sm_zhonghua_police" and rectification.department is None
    assert Notification.objects.filter(recipient=unit_member, kind="rectification-opened").exists()
    with pytest.raises(InvalidInput):
        services.rating_submit(
            actor=people["applicant"],
            ticket=closed_ticket,
            stars=2,
            departments=[DepartmentStars("fj_health", 1)],
        )


def test_a_bad_rating_of_a_ticket_linked_to_a_lead_goes_to_the_unit_that_answered_it(
    people, unit_member
):
    def web_ticket():
        return hotline.ticket_receive(
            actor=people["applicant"],
            channel=Channel.WEB,
            intake=Intake(
                description=NOISE,
                address=ZHONGHUA,
                category="road_damage",
                latitude="24.457000",
                longitude="118.082000",
            ),
        )

    lead = web_ticket()
    linked = web_ticket()  # the same trouble nearby: linked to the lead before its dispatch
    assert linked.lead_id == lead.pk and not linked.unit
    hotline.ticket_dispatch(actor=people["agent"], ticket=lead, unit="sm_zhonghua_police")
    lead.refresh_from_db()
    hotline.ticket_accept(actor=unit_member, ticket=lead)
    hotline.ticket_reply(actor=unit_member, ticket=lead, reply="已处理")
    linked.refresh_from_db()
    assert linked.unit == "sm_zhonghua_police"  # answered by the lead's unit
    linked = hotline.ticket_callback(
        actor=people["agent"], ticket=linked, reached=True, resolved=True, satisfied=False
    )
    rating = services.rating_submit(
        actor=people["applicant"], ticket=linked, stars=1, reasons=["not_solved"]
    )
    (rectification,) = rating.rectifications.all()
    assert rectification.unit == "sm_zhonghua_police"
    assert Notification.objects.filter(recipient=unit_member, kind="rectification-opened").exists()


def bad_rectification(people, finished, code="fj_health"):
    rating = rate(people, finished, stars=2, departments=[DepartmentStars(code, 1)])
    return rating.rectifications.get()


def test_the_department_answers_and_the_applicant_is_told(people, finished):
    rectification = bad_rectification(people, finished)
    with pytest.raises(NotFound):
        services.rectification_answer(actor=people["cdc"], rectification=rectification, answer="x")
    with pytest.raises(NotFound):  # the health commission's reviewers in Fuzhou: not their region
        services.rectification_answer(
            actor=people["fuzhou_health"], rectification=rectification, answer="x"
        )
    with pytest.raises(NotAllowed):
        services.rectification_answer(
            actor=people["xiamen_supervisor"], rectification=rectification, answer="x"
        )
    with pytest.raises(InvalidInput) as caught:
        services.rectification_answer(
            actor=people["health"], rectification=rectification, answer="  "
        )
    assert set(caught.value.fields) == {"answer"}
    answered = services.rectification_answer(
        actor=people["health"], rectification=rectification, answer="已简化出生证明核对流程"
    )
    assert answered.status == "answered" and answered.answered_by == people["health"]
    told = Notification.objects.get(kind="rectification-answered")
    assert told.recipient == people["applicant"]
    assert told.link == f"/my/rectifications/{rectification.public_id}/"
    with pytest.raises(Conflict):
        services.rectification_answer(
            actor=people["health"], rectification=rectification, answer="again"
        )
    actions = AuditRecord.objects.filter(
        stream__name=f"rectification:{rectification.public_id}"
    ).values_list("action", flat=True)
    assert list(actions) == ["rectification.opened", "rectification.answered"]


def test_the_rater_settles_it_or_says_what_is_still_wrong(people, finished):
    rectification = bad_rectification(people, finished)
    with pytest.raises(Conflict):  # nothing answered yet
        services.rectification_settle(
            actor=people["applicant"], rectification=rectification, settled=True
        )
    services.rectification_answer(
        actor=people["health"], rectification=rectification, answer="已整改"
    )
    with pytest.raises(NotFound):
        services.rectification_settle(
            actor=people["other"], rectification=rectification, settled=True
        )
    with pytest.raises(InvalidInput) as caught:
        services.rectification_settle(
            actor=people["applicant"], rectification=rectification, settled=False
        )
    assert set(caught.value.fields) == {"note"}
    done = services.rectification_settle(
        actor=people["applicant"], rectification=rectification, settled=False, note="还是要跑两次"
    )
    assert done.status == "unsettled" and done.applicant_note == "还是要跑两次"
    assert list(done.events.values_list("action", flat=True)) == ["opened", "answered", "unsettled"]


def test_the_sweep_escalates_overdue_and_unsettled_ones_once_to_the_supervisors_over_them(
    people, finished
):
    late = bad_rectification(people, finished, "fj_health")
    second = finish_newborn(people["applicant"], people)
    refused = rate(people, second, stars=2, departments=[DepartmentStars("fj_cdc", 1)])
    refused = refused.rectifications.get()
    services.rectification_answer(actor=people["cdc"], rectification=refused, answer="已整改")
    services.rectification_settle(
        actor=people["applicant"], rectification=refused, settled=False, note="没有变化"
    )
    on_the_due_day = timezone.make_aware(
        dt.datetime.combine(late.due_date, dt.time(12)), timezone.get_current_timezone()
    )
    assert services.rectification_sweep(actor=WORKER, now=on_the_due_day) == {
        "overdue": 0,
        "unsettled": 1,
        "settled_by_silence": 0,
    }
    next_day = on_the_due_day + dt.timedelta(days=1)
    assert services.rectification_sweep(actor=WORKER, now=next_day) == {
        "overdue": 1,
        "unsettled": 0,
        "settled_by_silence": 0,
    }
    assert services.rectification_sweep(actor=WORKER, now=next_day) == {
        "overdue": 0,
        "unsettled": 0,
        "settled_by_silence": 0,
    }
    late.refresh_from_db()
    refused.refresh_from_db()
    assert (late.status, late.escalation_reason) == ("escalated", "overdue")
    assert (refused.status, refused.escalation_reason) == ("escalated", "unsettled")
    told = Notification.objects.filter(kind="rectification-escalated")
    by_whom = {(n.recipient.email, n.link.split("/")[3]) for n in told}
    assert by_whom == {
        ("supervisor-all-350200@example.test", str(late.public_id)),
        ("supervisor-all-350200@example.test", str(refused.public_id)),
        # The CDC's supervisor watches only the CDC's.
        ("supervisor-fj_cdc-all@example.test", str(refused.public_id)),
    }
    # The department still answers an overdue one; it is not escalated a second time.
    services.rectification_answer(actor=people["health"], rectification=late, answer="已整改")
    services.rectification_settle(
        actor=people["applicant"], rectification=late, settled=False, note="没有变化"
    )
    assert services.rectification_sweep(actor=WORKER, now=next_day)["unsettled"] == 0
    assert told.count() == 3


def test_every_step_is_recorded_at_the_clock_the_service_was_given(people, finished):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)

    def at(days: float) -> dt.datetime:
        return start + dt.timedelta(days=days)

    rating = rate(
        people,
        finished,
        stars=1,
        departments=[DepartmentStars("fj_health", 1), DepartmentStars("fj_cdc", 1)],
        now=at(0),
    )
    health = rating.rectifications.get(department__code="fj_health")
    cdc = rating.rectifications.get(department__code="fj_cdc")
    for rectification, answerer in ((health, people["health"]), (cdc, people["cdc"])):
        services.rectification_answer(
            actor=answerer, rectification=rectification, answer="已整改", now=at(1)
        )
        services.rectification_settle(
            actor=people["applicant"],
            rectification=rectification,
            settled=False,
            note="没有变化",
            now=at(2),
        )
    services.rectification_sweep(actor=WORKER, now=at(2.1))
    supervisor = people["xiamen_supervisor"]
    services.rectification_send_back(
        actor=supervisor, rectification=health, instruction="再查", now=at(3)
    )
    services.rectification_close(actor=supervisor, rectification=cdc, conclusion="结", now=at(3))
    services.rectification_answer(
        actor=people["health"], rectification=health, answer="又改了", now=at(4)
    )
    services.rectification_sweep(actor=WORKER, now=at(12))
    assert list(health.events.values_list("action", "at")) == [
        ("opened", at(0)),
        ("answered", at(1)),
        ("unsettled", at(2)),
        ("escalated", at(2.1)),
        ("sent_back", at(3)),
        ("answered", at(4)),
        ("settled_by_silence", at(12)),
    ]
    assert list(cdc.events.values_list("action", "at")) == [
        ("opened", at(0)),
        ("answered", at(1)),
        ("unsettled", at(2)),
        ("escalated", at(2.1)),
        ("closed", at(3)),
    ]
    health.refresh_from_db()
    assert (health.answered_at, health.settled_at) == (at(4), at(12))
