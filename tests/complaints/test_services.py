"""The ticket's life through the services: intake, dispatch, returns, replies, callbacks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from onething.audit.models import AuditRecord
from onething.complaints import services
from onething.complaints.models import CategoryCorrection, Channel, ExtensionRequest, Ticket
from onething.complaints.selectors import callback_queue, dispatch_queue, ticket_supervisors
from onething.complaints.services import Intake
from onething.core.actors import WORKER
from onething.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from onething.notifications.models import Notification
from tests.factories import PersonFactory
from tests.notifications.conftest import run_email_worker

pytestmark = pytest.mark.django_db

NOISE = "楼下酒吧每天晚上音乐声太大，吵到凌晨两点，孩子无法入睡"
ZHONGHUA = "厦门市思明区中华街道中山路128号"


def call(hotline, text=NOISE, address=ZHONGHUA, category="noise", **extra) -> Ticket:
    return services.ticket_receive(
        actor=hotline["agent"],
        channel=Channel.PHONE,
        intake=Intake(
            description=text,
            address=address,
            category=category,
            contact_name="王先生",
            contact_phone="13959211234",
            **extra,
        ),
    )


def test_a_call_is_classified_placed_and_dispatched_to_the_street(hotline):
    ticket = call(hotline)
    assert ticket.suggested_category == "noise"
    assert ticket.region_code == "350203" and ticket.street_code == "350203001"
    assert ticket.status == "dispatched"
    assert ticket.unit == "sm_zhonghua_police"
    assert ticket.assisting == ["sm_zhonghua_office"]
    assert ticket.sign_due_at - ticket.dispatched_at == dt.timedelta(hours=2)
    assert ticket.due_date > timezone.localdate()
    unit_member = hotline["units"]["sm_zhonghua_police"]
    assert Notification.objects.filter(recipient=unit_member, kind="ticket-dispatched").exists()
    actions = list(ticket.events.values_list("action", flat=True))
    assert actions == ["received", "dispatched"]
    assert AuditRecord.objects.filter(stream__name=f"ticket:{ticket.public_id}").count() == 2


def test_every_wrong_field_is_named_at_once_and_nothing_is_saved(hotline):
    with pytest.raises(InvalidInput) as caught:
        services.ticket_receive(
            actor=hotline["agent"],
            channel=Channel.PHONE,
            intake=Intake(
                description="  ",
                address="北京市朝阳区",
                category="unknown",
                contact_phone="12345",
                contact_email="not-an-address",
                urgency="tomorrow",
            ),
        )
    assert set(caught.value.fields) == {
        "description",
        "category",
        "address",
        "phone",
        "email",
        "urgency",
    }
    assert Ticket.objects.count() == 0


def test_only_hotline_agents_take_calls(hotline):
    with pytest.raises(NotAllowed):
        services.ticket_receive(
            actor=PersonFactory(),
            channel=Channel.PHONE,
            intake=Intake(description=NOISE, address=ZHONGHUA, category="noise"),
        )


def test_a_corrected_category_is_kept_for_retraining_and_reroutes(hotline):
    ticket = call(hotline)
    services.ticket_correct_category(actor=hotline["agent"], ticket=ticket, category="garbage")
    ticket.refresh_from_db()
    assert ticket.unit == "sm_zhonghua_office"  # garbage goes to the street office
    correction = CategoryCorrection.objects.get(ticket=ticket)
    assert (correction.suggested, correction.chosen) == ("noise", "garbage")
    assert correction.text == NOISE


def test_an_agents_choice_at_intake_that_differs_from_the_suggestion_is_a_correction(hotline):
    ticket = call(hotline, category="neighbour_disputes")
    assert ticket.unit == "sm_zhonghua_office"
    assert CategoryCorrection.objects.filter(ticket=ticket, chosen="neighbour_disputes").exists()


def test_returns_reroute_and_the_third_escalates_to_a_supervisor(hotline):
    ticket = call(hotline)
    chain = []
    for _ in range(2):
        holder = hotline["units"][ticket.unit]
        ticket = services.ticket_return(actor=holder, ticket=ticket, reason="不属于本单位职责")
        chain.append(ticket.unit)
        assert ticket.status == "dispatched" and ticket.escalated_at is None
    assert chain == ["sm_police", "sm_12345"]  # district rule, then the district desk
    holder = hotline["units"][ticket.unit]
    ticket = services.ticket_return(actor=holder, ticket=ticket, reason="不属于本单位职责")
    assert ticket.status == "returned" and ticket.escalated_at is not None
    assert ticket.handoffs == 3
    assert Notification.objects.filter(
        recipient=hotline["supervisor"], kind="ticket-escalated"
    ).exists()
    assert not Notification.objects.filter(
        recipient=hotline["fuzhou_supervisor"], kind="ticket-escalated"
    ).exists()
    # The supervisor over Xiamen decides who handles it; one over Fuzhou may not.
    with pytest.raises(NotAllowed):
        services.ticket_dispatch(
            actor=hotline["fuzhou_supervisor"], ticket=ticket, unit="sm_housing"
        )
    ticket = services.ticket_dispatch(actor=hotline["supervisor"], ticket=ticket, unit="sm_housing")
    assert (ticket.status, ticket.unit) == ("dispatched", "sm_housing")


def test_a_return_needs_a_reason_and_the_window(hotline, monkeypatch):
    ticket = call(hotline)
    holder = hotline["units"]["sm_zhonghua_police"]
    with pytest.raises(InvalidInput) as caught:
        services.ticket_return(actor=holder, ticket=ticket, reason=" ")
    assert "reason" in caught.value.fields
    later = timezone.now() + dt.timedelta(hours=25)
    monkeypatch.setattr(services, "_now", lambda: later)
    with pytest.raises(Conflict):
        services.ticket_return(actor=holder, ticket=ticket, reason="不归我们管")


def test_another_unit_cannot_touch_the_ticket(hotline):
    ticket = call(hotline)
    with pytest.raises(NotFound):
        services.ticket_accept(actor=hotline["units"]["sm_housing"], ticket=ticket)


def test_reply_callback_and_close(hotline):
    ticket = call(hotline)
    holder = hotline["units"]["sm_zhonghua_police"]
    services.ticket_accept(actor=holder, ticket=ticket)
    ticket = services.ticket_reply(
        actor=holder, ticket=ticket, reply="已上门约谈酒吧经营者，限期整改"
    )
    assert ticket.status == "replied"
    assert ticket.callback_due > timezone.localdate()
    ticket = services.ticket_callback(
        actor=hotline["agent"], ticket=ticket, reached=True, resolved=True, satisfied=True
    )
    assert ticket.status == "closed" and ticket.closed_at is not None


def test_an_unresolved_ticket_goes_back_for_rehandling(hotline):
    ticket = call(hotline)
    holder = hotline["units"]["sm_zhonghua_police"]
    services.ticket_accept(actor=holder, ticket=ticket)
    services.ticket_reply(actor=holder, ticket=ticket, reply="已处理")
    ticket = services.ticket_callback(
        actor=hotline["agent"],
        ticket=ticket,
        reached=True,
        resolved=False,
        satisfied=False,
        note="仍然很吵",
        rehandle=True,
    )
    assert ticket.status == "dispatched" and ticket.unit == "sm_zhonghua_police"
    assert ticket.rehandled == 1 and ticket.reply == ""
    with pytest.raises(InvalidInput) as caught:
        services.ticket_callback(
            actor=hotline["agent"], ticket=ticket, reached=True, resolved=None, satisfied=None
        )
    assert set(caught.value.fields) == {"resolved", "satisfied"}


def test_similar_tickets_link_to_a_lead_and_one_reply_answers_all(hotline):
    first = call(hotline, latitude="24.457000", longitude="118.082000")
    second = call(
        hotline,
        text="中山路酒吧夜里放音乐太吵了",
        latitude="24.457800",
        longitude="118.082500",
    )
    elsewhere = call(hotline, address="厦门市湖里区殿前街道", latitude=None, longitude=None)
    assert second.lead == first and second.unit == first.unit
    assert elsewhere.lead is None
    holder = hotline["units"]["sm_zhonghua_police"]
    services.ticket_accept(actor=holder, ticket=first)
    services.ticket_reply(actor=holder, ticket=first, reply="已责令酒吧降低音量")
    second.refresh_from_db()
    assert second.status == "replied" and second.reply == "已责令酒吧降低音量"


def test_an_extension_moves_the_due_date_once_approved(hotline):
    ticket = call(hotline)
    holder = hotline["units"]["sm_zhonghua_police"]
    due = ticket.due_date
    extension = services.extension_request(
        actor=holder, ticket=ticket, days=5, reason="需协调多个部门联合执法"
    )
    with pytest.raises(Conflict):
        services.extension_request(actor=holder, ticket=ticket, days=2, reason="again")
    with pytest.raises(NotAllowed):
        services.extension_decide(actor=holder, extension=extension, approve=True)
    services.extension_decide(actor=hotline["supervisor"], extension=extension, approve=True)
    ticket.refresh_from_db()
    assert ticket.due_date > due
    assert ticket.extension_days == 5
    assert ExtensionRequest.objects.get().status == "approved"


def test_a_refused_extension_leaves_the_due_date_and_a_new_one_may_be_asked(hotline):
    ticket = call(hotline)
    holder = hotline["units"]["sm_zhonghua_police"]
    due = ticket.due_date
    extension = services.extension_request(
        actor=holder, ticket=ticket, days=5, reason="需协调多个部门联合执法"
    )
    services.extension_decide(
        actor=hotline["supervisor"], extension=extension, approve=False, note="请按期办结"
    )
    ticket.refresh_from_db()
    assert (ticket.due_date, ticket.extension_days) == (due, 0)
    assert ExtensionRequest.objects.get().status == "refused"
    assert ticket.events.filter(action="extension_refused").count() == 1
    with pytest.raises(Conflict):
        services.extension_decide(actor=hotline["supervisor"], extension=extension, approve=True)
    again = services.extension_request(actor=holder, ticket=ticket, days=2, reason="设备待采购")
    assert again.status == "pending"


def test_the_sweep_marks_late_signing_and_escalates_overdue_replies_by_email(hotline, email_topics):
    ticket = call(hotline)
    later = ticket.sign_due_at + dt.timedelta(minutes=1)
    counts = services.ticket_sweep(actor=WORKER, now=later)
    assert counts["sign_overdue"] == 1
    ticket.refresh_from_db()
    assert ticket.sign_overdue
    much_later = timezone.make_aware(
        dt.datetime.combine(ticket.due_date + dt.timedelta(days=1), dt.time(10))
    )
    counts = services.ticket_sweep(actor=WORKER, now=much_later)
    assert counts["overdue"] == 1
    ticket.refresh_from_db()
    assert ticket.deadline_state == "overdue" and ticket.escalated_at is not None
    mail.outbox.clear()
    run_email_worker(email_topics)
    by_recipient = {(m.to[0], m.subject) for m in mail.outbox}
    unit = "sm_zhonghua_police@example.test"
    assert (unit, f"答复已逾期：{ticket.reference}") in by_recipient or (
        unit,
        f"Reply overdue: {ticket.reference}",
    ) in by_recipient
    supervisor_mail = [m for m in mail.outbox if m.to == ["supervisor@example.test"]]
    assert supervisor_mail, by_recipient
    assert all("13959211234" not in m.body for m in mail.outbox)


def test_three_transfers_by_hand_escalate_to_the_supervisors_over_the_region(hotline):
    ticket = call(hotline)
    for unit in ("sm_police", "sm_housing", "sm_urban_management"):
        ticket = services.ticket_dispatch(actor=hotline["agent"], ticket=ticket, unit=unit)
    assert ticket.unit == "sm_urban_management" and ticket.handoffs == 3
    assert ticket.escalated_at is not None and ticket.escalation_reason == "handoffs"
    assert Notification.objects.filter(
        recipient=hotline["supervisor"], kind="ticket-escalated"
    ).exists()


def test_a_closed_but_unsolved_ticket_can_be_sent_back_and_a_solved_one_cannot(hotline):
    holder = hotline["units"]["sm_zhonghua_police"]
    unsolved = call(hotline)
    services.ticket_accept(actor=holder, ticket=unsolved)
    services.ticket_reply(actor=holder, ticket=unsolved, reply="已处理")
    unsolved = services.ticket_callback(
        actor=hotline["agent"], ticket=unsolved, reached=True, resolved=False, satisfied=False
    )
    assert unsolved.status == "closed"
    unsolved = services.ticket_rehandle(actor=hotline["agent"], ticket=unsolved, reason="仍然很吵")
    assert (unsolved.status, unsolved.unit, unsolved.rehandled) == (
        "dispatched",
        "sm_zhonghua_police",
        1,
    )
    assert unsolved.due_date is not None and unsolved.closed_at is None

    solved = call(hotline, address="厦门市思明区中华街道大同路5号")
    services.ticket_accept(actor=holder, ticket=solved)
    services.ticket_reply(actor=holder, ticket=solved, reply="已处理")
    solved = services.ticket_callback(
        actor=hotline["agent"], ticket=solved, reached=True, resolved=True, satisfied=True
    )
    with pytest.raises(Conflict):
        services.ticket_rehandle(actor=hotline["agent"], ticket=solved, reason="再看看")


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def test_a_reply_coming_due_is_told_to_the_unit_by_email_and_not_escalated(hotline, email_topics):
    ticket = call(hotline)
    holder = hotline["units"]["sm_zhonghua_police"]
    services.ticket_accept(actor=holder, ticket=ticket)
    Notification.objects.all().delete()
    mail.outbox.clear()
    counts = services.ticket_sweep(actor=WORKER, now=_at(ticket.due_date))
    assert counts["due_soon"] == 1 and counts["overdue"] == 0
    ticket.refresh_from_db()
    assert ticket.deadline_state == "due_soon"
    assert ticket.escalated_at is None and ticket.escalation_reason == ""
    assert not ticket.events.filter(action="escalated").exists()
    run_email_worker(email_topics)
    told = Notification.objects.get(kind="ticket-due-soon")
    assert told.recipient == holder
    assert [m.to for m in mail.outbox] == [["sm_zhonghua_police@example.test"]]
    assert mail.outbox[0].subject == told.subject and ticket.reference in told.subject
    assert ticket.due_date.isoformat() in mail.outbox[0].body
    # The next sweep on the same day has nothing new to say.
    mail.outbox.clear()
    assert services.ticket_sweep(actor=WORKER, now=_at(ticket.due_date, 11))["due_soon"] == 0
    run_email_worker(email_topics)
    assert mail.outbox == []


def _replied(hotline) -> Ticket:
    ticket = call(hotline)
    holder = hotline["units"]["sm_zhonghua_police"]
    services.ticket_accept(actor=holder, ticket=ticket)
    return services.ticket_reply(actor=holder, ticket=ticket, reply="已处理")


def test_a_callback_past_its_day_is_marked_and_told_to_the_agents_once(hotline, email_topics):
    ticket = _replied(hotline)
    on_the_day = services.ticket_sweep(actor=WORKER, now=_at(ticket.callback_due))
    assert on_the_day["callback_overdue"] == 0
    ticket.refresh_from_db()
    assert not ticket.callback_overdue
    mail.outbox.clear()
    day_after = ticket.callback_due + dt.timedelta(days=1)
    assert services.ticket_sweep(actor=WORKER, now=_at(day_after))["callback_overdue"] == 1
    ticket.refresh_from_db()
    assert ticket.callback_overdue
    assert ticket.events.filter(action="callback_overdue").count() == 1
    told = Notification.objects.filter(kind="ticket-callback-overdue")
    assert [n.recipient for n in told] == [hotline["agent"]]
    run_email_worker(email_topics)
    agent_mail = [m for m in mail.outbox if m.to == ["agent@example.test"]]
    assert len(agent_mail) == 1 and ticket.reference in agent_mail[0].subject
    assert ticket.callback_due.isoformat() in agent_mail[0].body
    assert "13959211234" not in agent_mail[0].body
    # The sweep runs every five minutes: the agents are not told again.
    mail.outbox.clear()
    again = services.ticket_sweep(actor=WORKER, now=_at(day_after + dt.timedelta(days=1)))
    assert again["callback_overdue"] == 0
    run_email_worker(email_topics)
    assert mail.outbox == []
    assert Notification.objects.filter(kind="ticket-callback-overdue").count() == 1
    assert ticket.events.filter(action="callback_overdue").count() == 1


def _rehandled(ticket: Ticket, hotline, times: int) -> Ticket:
    holder = hotline["units"]["sm_zhonghua_police"]
    for _ in range(times):
        ticket = services.ticket_accept(actor=holder, ticket=ticket)
        ticket = services.ticket_reply(actor=holder, ticket=ticket, reply="已处理")
        ticket = services.ticket_callback(
            actor=hotline["agent"],
            ticket=ticket,
            reached=True,
            resolved=False,
            satisfied=False,
            note="仍然很吵",
            rehandle=True,
        )
    return ticket


def test_re_handlings_do_not_count_as_returns_or_transfers(hotline):
    ticket = _rehandled(call(hotline), hotline, 3)
    assert ticket.rehandled == 3
    assert ticket.handoffs == 0 and ticket.returned_by == []
    assert ticket.escalation_reason == "rehandled"
    # After three re-handlings a unit may still return the ticket twice before it escalates
    # for returns: the re-handlings left the return count where it was.
    ticket = services.ticket_return(
        actor=hotline["units"]["sm_zhonghua_police"], ticket=ticket, reason="不属于本单位"
    )
    assert ticket.handoffs == 1 and ticket.status == "dispatched"


def test_the_second_re_handling_escalates_to_the_supervisors(hotline):
    ticket = _rehandled(call(hotline), hotline, 1)
    assert ticket.escalated_at is None
    assert not Notification.objects.filter(kind="ticket-escalated").exists()
    ticket = _rehandled(ticket, hotline, 1)
    assert ticket.rehandled == 2 and ticket.status == "dispatched"
    assert ticket.escalated_at is not None and ticket.escalation_reason == "rehandled"
    escalated = ticket.events.get(action="escalated")
    assert escalated.data["reason"] == "rehandled" and escalated.data["rehandled"] == 2
    told = Notification.objects.get(recipient=hotline["supervisor"], kind="ticket-escalated")
    assert ticket.reference in told.subject
    assert not Notification.objects.filter(
        recipient=hotline["fuzhou_supervisor"], kind="ticket-escalated"
    ).exists()
    first_escalation = ticket.escalated_at
    ticket = _rehandled(ticket, hotline, 1)
    assert ticket.escalated_at == first_escalation
    assert Notification.objects.filter(kind="ticket-escalated").count() == 1


def test_the_supervisors_over_a_place_are_those_of_its_regions_and_those_of_none(hotline):
    from onething.accounts.models import Role, RoleAssignment
    from onething.catalog.models import Region
    from tests.factories import StaffFactory

    everywhere = StaffFactory()
    RoleAssignment.objects.create(user=everywhere, role=Role.SUPERVISOR, region=None)
    siming, _ = Region.objects.get_or_create(
        code="350203", defaults={"name_zh": "思明区", "name_en": "Siming", "level": "county"}
    )
    retired = StaffFactory(is_active=False)
    RoleAssignment.objects.create(user=retired, role=Role.SUPERVISOR, region=siming)
    xiamen, fuzhou = hotline["supervisor"], hotline["fuzhou_supervisor"]
    assert list(ticket_supervisors("350203", "sm_zhonghua_police")) == sorted(
        [xiamen, everywhere], key=lambda u: u.pk
    )
    assert list(ticket_supervisors("350203001", "sm_zhonghua_police")) == sorted(
        [xiamen, everywhere], key=lambda u: u.pk
    )
    assert list(ticket_supervisors("350102", "sm_zhonghua_police")) == sorted(
        [fuzhou, everywhere], key=lambda u: u.pk
    )


def test_a_callback_that_reaches_nobody_is_tried_again_and_the_third_closes_the_ticket(hotline):
    ticket = _replied(hotline)
    replied_on = timezone.localdate(ticket.replied_at)
    for attempt in (1, 2):
        ticket = services.ticket_callback(
            actor=hotline["agent"],
            ticket=ticket,
            reached=False,
            resolved=None,
            satisfied=None,
            rehandle=True,  # nobody was asked: nothing to re-handle yet
        )
        ticket.refresh_from_db()
        assert ticket.status == "replied" and ticket.closed_at is None
        assert ticket.rehandled == 0
        assert ticket.callback_due > replied_on  # the next working day
        assert ticket in callback_queue()
        assert ticket.events.filter(action="callback").count() == attempt
    ticket = services.ticket_callback(
        actor=hotline["agent"], ticket=ticket, reached=False, resolved=None, satisfied=None
    )
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.callback_reached is False
    assert ticket.events.filter(action="callback").last().data["unreached_calls"] == 3


def test_a_place_the_dispatch_catalogue_does_not_know_waits_for_the_agent_instead_of_failing(
    hotline, monkeypatch
):
    class Unroutable:
        def route(self, category, region_code, street=None):
            raise ValueError(f"region_code: {region_code!r} is not a known district or city")

    monkeypatch.setattr(services, "dispatch_catalogue", Unroutable)
    ticket = call(hotline)
    ticket.refresh_from_db()
    assert ticket.status == "received" and ticket.unit == ""
    assert ticket in dispatch_queue()
    assert "not a known district" in ticket.events.get(action="not_routed").data["reason"]


def test_every_district_and_street_the_hotline_can_place_a_ticket_in_has_a_route(hotline):
    from onething.complaints.locate import areas
    from onething.complaints.runtime import categories, dispatch_catalogue

    catalogue = dispatch_catalogue()
    for district in areas().districts:
        for category in categories():
            assert catalogue.route(category, district.code).responsible
    for street in areas().streets:
        for category in categories():
            assert catalogue.route(category, street.code[:6], street=street.code).responsible
