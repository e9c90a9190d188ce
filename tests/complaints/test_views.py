"""The hotline's pages through Django's client: the citizen's form and complaints, the agent's,
the unit's and the supervisor's workbenches, and who may see what."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from onething.audit.models import AuditRecord
from onething.complaints import services
from onething.complaints.models import Channel, ExtensionRequest, Ticket
from onething.complaints.services import Intake
from onething.core.actors import WORKER
from tests.applications.conftest import PNG
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
NOISE = "楼下酒吧每天晚上音乐声太大，吵到凌晨两点，孩子无法入睡"
ZHONGHUA = "厦门市思明区中华街道中山路128号"
PHONE = "13959211234"
# So vague that the classifier is unsure: the ticket waits for an agent to confirm its category.
VAGUE = "小区门口那个东西一直这样，希望有人管管"


def text(response) -> str:
    """The page with HTML entities resolved, as a reader sees it."""
    return html.unescape(response.content.decode())


def error_of(response, key: str) -> str:
    """The message shown next to the input `key`."""
    found = re.search(rf'<p class="error" id="f-{re.escape(key)}-error">(.*?)</p>', text(response))
    return found.group(1) if found else ""


def file_on_the_web(client, **values):
    form = {
        "description": NOISE,
        "address": ZHONGHUA,
        "urgency": "normal",
        "contact_name": "王女士",
        "contact_phone": PHONE,
        **values,
    }
    return client.post("/hotline/new/", form, **EN)


def call(hotline, text=NOISE, address=ZHONGHUA, category="noise", **extra) -> Ticket:
    return services.ticket_receive(
        actor=hotline["agent"],
        channel=Channel.PHONE,
        intake=Intake(
            description=text,
            address=address,
            category=category,
            contact_name="王先生",
            contact_phone=PHONE,
            **extra,
        ),
    )


def reply_section(page: str) -> str:
    """The reply card of a ticket page (the timeline below repeats some of it)."""
    found = re.search(r'data-testid="reply">(.*?)</section>', page, re.S)
    return found.group(1) if found else ""


def signed_in(client, user):
    client.force_login(user)
    return client


# --- the citizen ---------------------------------------------------------------------------------


def test_anyone_files_a_complaint_with_a_photo_and_only_their_browser_sees_the_confirmation(
    client, hotline
):
    photo = SimpleUploadedFile("pothole.png", PNG, content_type="image/png")
    response = file_on_the_web(client, photo=photo)
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert response.url == f"/hotline/filed/{ticket.reference}/"
    assert ticket.channel == "web" and ticket.citizen is None
    assert ticket.attachments.get().content_type == "image/png"

    confirmation = client.get(response.url, **EN)
    assert confirmation.status_code == 200
    assert ticket.reference in text(confirmation)
    assert "should answer by" in text(confirmation)  # it went straight to the unit

    other_browser = client.__class__()
    assert other_browser.get(response.url, **EN).status_code == 404


def test_every_wrong_field_is_named_next_to_it_and_what_was_typed_is_kept(client, hotline):
    response = file_on_the_web(
        client,
        description=" ",
        address="北京市朝阳区某某路",
        contact_phone="12345",
        contact_email="not-an-address",
        latitude="north",
    )
    assert response.status_code == 422
    assert error_of(response, "description") == "Describe the problem."
    assert error_of(response, "contact_phone").startswith("Give a mobile number")
    assert error_of(response, "contact_email") == "Give a valid e-mail address."
    assert error_of(response, "latitude") == "Give a number of degrees, like 24.4798."
    page = text(response)
    assert 'value="12345"' in page and 'value="not-an-address"' in page
    assert 'value="北京市朝阳区某某路"' in page and 'value="north"' in page
    assert "There is a problem" in page  # the summary, linking to each field
    assert Ticket.objects.count() == 0

    unplaceable = file_on_the_web(client, address="北京市朝阳区某某路")
    assert "not in a district the hotline serves" in error_of(unplaceable, "address")
    assert NOISE in text(unplaceable)


def test_a_citizen_follows_their_complaint_and_reads_the_reply_but_not_the_internal_steps(
    client, hotline
):
    citizen = PersonFactory(real_name="王女士", phone=PHONE)
    signed_in(client, citizen)
    form = client.get("/hotline/new/", **EN)
    assert f'value="{PHONE}"' in text(form)  # the contact details come from the account
    reference = file_on_the_web(client).url.split("/")[3]
    ticket = Ticket.objects.get(reference=reference)
    assert ticket.citizen == citizen and ticket.unit == "sm_zhonghua_police"

    ticket = services.ticket_return(
        actor=hotline["units"]["sm_zhonghua_police"], ticket=ticket, reason="内部原因：不归派出所"
    )
    unit = hotline["units"][ticket.unit]
    services.ticket_accept(actor=unit, ticket=ticket)
    services.ticket_reply(actor=unit, ticket=ticket, reply="已约谈酒吧经营者，十点后停止外放。")

    listing = client.get("/hotline/my/", **EN)
    assert reference in text(listing) and "answered" in text(listing)
    page = text(client.get(f"/hotline/my/{reference}/", **EN))
    assert "已约谈酒吧经营者" in reply_section(page)
    assert "The unit answered" in page and "We received your complaint" in page
    assert "内部原因" not in page and "Returned by the unit" not in page


def test_a_reply_to_a_lead_ticket_shows_its_numbers_masked_to_the_citizens_of_linked_tickets(
    client, hotline
):
    lead = call(hotline, latitude="24.457000", longitude="118.082000")
    neighbour = PersonFactory(real_name="李女士", phone="13800138000")
    signed_in(client, neighbour)
    reference = file_on_the_web(
        client, contact_phone="13800138000", latitude="24.457800", longitude="118.082500"
    ).url.split("/")[3]
    linked = Ticket.objects.get(reference=reference)
    assert linked.lead == lead
    holder = hotline["units"]["sm_zhonghua_police"]
    services.ticket_accept(actor=holder, ticket=lead)
    services.ticket_reply(actor=holder, ticket=lead, reply=f"已回电王先生{PHONE}，酒吧已整改。")

    page = text(client.get(f"/hotline/my/{reference}/", **EN))
    assert "酒吧已整改" in reply_section(page)
    assert PHONE not in page and f"{PHONE[:3]}****{PHONE[-4:]}" in reply_section(page)
    # Staff read it masked too, on the page and in the API.
    staff_page = text(signed_in(client, holder).get(f"/hotline/tickets/{lead.reference}/", **EN))
    assert "酒吧已整改" in staff_page and PHONE not in staff_page


def test_a_citizen_sees_only_their_own_complaints(client, hotline):
    owner = PersonFactory()
    signed_in(client, owner)
    reference = file_on_the_web(client).url.split("/")[3]
    attachment_free = Ticket.objects.get(reference=reference)

    signed_in(client, PersonFactory())
    assert reference not in text(client.get("/hotline/my/", **EN))
    assert client.get(f"/hotline/my/{reference}/", **EN).status_code == 404
    assert client.get(f"/hotline/filed/{reference}/", **EN).status_code == 404
    assert client.get(f"/hotline/tickets/{reference}/", **EN).status_code == 403
    assert attachment_free.attachments.count() == 0


def test_staff_pages_need_a_sign_in_and_the_role(client, hotline):
    assert client.get("/hotline/agent/").status_code == 302  # to the sign-in page
    signed_in(client, PersonFactory())
    for url in ("/hotline/agent/", "/hotline/unit/", "/hotline/supervise/"):
        assert client.get(url, **EN).status_code == 403, url
    signed_in(client, hotline["units"]["sm_police"])
    assert client.get("/hotline/agent/", **EN).status_code == 403
    assert client.get("/hotline/supervise/", **EN).status_code == 403
    signed_in(client, hotline["agent"])
    assert client.get("/hotline/unit/", **EN).status_code == 403


def test_the_navigation_leads_everyone_to_the_hotline_and_staff_to_their_workbench(client, hotline):
    home = text(client.get("/", **EN))
    assert 'href="/hotline/"' in home
    assert 'href="/hotline/new/"' in text(client.get("/hotline/", **EN))
    signed_in(client, hotline["agent"])
    assert 'href="/hotline/agent/"' in text(client.get("/hotline/", **EN))
    signed_in(client, hotline["units"]["sm_police"])
    hub = text(client.get("/hotline/", **EN))
    assert 'href="/hotline/unit/"' in hub and 'href="/hotline/agent/"' not in hub
    signed_in(client, hotline["supervisor"])
    assert 'href="/hotline/supervise/"' in text(client.get("/hotline/", **EN))


# --- the unit ------------------------------------------------------------------------------------


def test_a_unit_sees_only_its_tickets(client, hotline):
    ours = call(hotline)
    theirs = call(hotline, text="中山路路灯坏了好几天，晚上一片漆黑", category="street_lights")
    assert ours.unit == "sm_zhonghua_police" and theirs.unit != ours.unit
    signed_in(client, hotline["units"]["sm_zhonghua_police"])
    queue = text(client.get("/hotline/unit/", **EN))
    assert ours.reference in queue and theirs.reference not in queue
    assert client.get(f"/hotline/tickets/{ours.reference}/", **EN).status_code == 200
    assert client.get(f"/hotline/tickets/{theirs.reference}/", **EN).status_code == 404
    accept_theirs = client.post(f"/hotline/tickets/{theirs.reference}/accept/", **EN)
    assert accept_theirs.status_code == 404
    assert Ticket.objects.get(pk=theirs.pk).status == "dispatched"


def contact_reveals():
    return AuditRecord.objects.filter(action="ticket.contact_revealed")


def test_contact_details_are_masked_on_every_staff_page_until_revealed(client, hotline):
    ticket = call(hotline, text=f"楼下酒吧太吵，我的电话{PHONE}，身份证350203199406121242")
    unit = hotline["units"]["sm_zhonghua_police"]
    for reader in (hotline["agent"], hotline["supervisor"], unit):
        signed_in(client, reader)
        page = text(client.get(f"/hotline/tickets/{ticket.reference}/", **EN))
        assert PHONE not in page and "350203199406121242" not in page, reader
        assert "王先生" not in page and "139****1234" in page, reader
    # In the lists too: the unit's queue, and the agent's queue of tickets to dispatch.
    waiting = services.ticket_receive(
        actor=PersonFactory(),
        channel=Channel.WEB,
        intake=Intake(description=f"{VAGUE}，电话{PHONE}", address=ZHONGHUA, contact_phone=PHONE),
    )
    assert waiting.status == "received"
    for path, user in (("/hotline/agent/", hotline["agent"]), ("/hotline/unit/", unit)):
        signed_in(client, user)
        listed = text(client.get(path, **EN))
        assert "139****1234" in listed, path  # the ticket is listed, its numbers masked
        assert PHONE not in listed and "350203199406121242" not in listed, path
    assert not contact_reveals().exists()


def test_the_agent_reveals_the_contact_and_the_reveal_is_recorded(client, hotline):
    ticket = call(hotline, text=f"楼下酒吧太吵，我的电话{PHONE}")
    agent = hotline["agent"]
    signed_in(client, agent)
    page = text(client.get(f"/hotline/tickets/{ticket.reference}/", **EN))
    assert 'data-testid="reveal-contact"' in page
    shown = client.post(
        f"/hotline/tickets/{ticket.reference}/contact/", {"purpose": "callback"}, **EN
    )
    assert shown.status_code == 200
    page = text(shown)
    assert PHONE in page and "王先生" in page and "revealed (logged)" in page
    assert f"我的电话{PHONE}" in page
    (record,) = contact_reveals()
    assert record.actor == f"user:{agent.pk}"
    assert (record.subject, record.purpose) == (ticket.reference, "callback")
    # The next visit is masked again: a reveal is for that one reading.
    assert PHONE not in text(client.get(f"/hotline/tickets/{ticket.reference}/", **EN))


def test_the_supervisor_reveals_with_htmx_and_only_the_card_and_text_come_back(client, hotline):
    ticket = call(hotline)
    signed_in(client, hotline["supervisor"])
    shown = client.post(
        f"/hotline/tickets/{ticket.reference}/contact/", {}, HTTP_HX_REQUEST="true", **EN
    )
    assert shown.status_code == 200
    fragment = text(shown)
    assert PHONE in fragment and "<html" not in fragment
    assert 'id="contact-card"' in fragment and 'hx-swap-oob="true"' in fragment
    assert [r.purpose for r in contact_reveals()] == ["supervision"]


def test_a_unit_without_contact_needed_gets_no_reveal_and_a_403(client, hotline):
    ticket = call(hotline)
    signed_in(client, hotline["units"]["sm_zhonghua_police"])
    page = text(client.get(f"/hotline/tickets/{ticket.reference}/", **EN))
    assert 'data-testid="reveal-contact"' not in page
    refused = client.post(f"/hotline/tickets/{ticket.reference}/contact/", **EN)
    assert refused.status_code == 403 and PHONE not in text(refused)
    assert not contact_reveals().exists()


def test_a_unit_reveals_the_contact_when_it_must_call_the_citizen_itself(client, hotline):
    ticket = call(hotline, contact_needed=True)
    member = hotline["units"]["sm_zhonghua_police"]
    signed_in(client, member)
    page = text(client.get(f"/hotline/tickets/{ticket.reference}/", **EN))
    assert PHONE not in page and 'data-testid="reveal-contact"' in page
    shown = client.post(f"/hotline/tickets/{ticket.reference}/contact/", **EN)
    assert shown.status_code == 200 and PHONE in text(shown) and "王先生" in text(shown)
    (record,) = contact_reveals()
    assert (record.actor, record.purpose) == (f"user:{member.pk}", "handling")


def test_a_wrong_purpose_is_named_next_to_its_field(client, hotline):
    ticket = call(hotline)
    signed_in(client, hotline["agent"])
    wrong = client.post(f"/hotline/tickets/{ticket.reference}/contact/", {"purpose": "x"}, **EN)
    assert wrong.status_code == 422
    assert error_of(wrong, "purpose") == "Choose callback, handling or supervision."
    assert PHONE not in text(wrong) and not contact_reveals().exists()


def test_a_units_download_of_an_attachment_is_recorded(client, hotline):
    photo = SimpleUploadedFile("pothole.png", PNG, content_type="image/png")
    reference = file_on_the_web(client, photo=photo).url.rstrip("/").rsplit("/", 1)[-1]
    ticket = Ticket.objects.get(reference=reference)
    if ticket.unit != "sm_zhonghua_police":
        services.ticket_dispatch(actor=hotline["agent"], ticket=ticket, unit="sm_zhonghua_police")
    attachment = ticket.attachments.get()
    member = hotline["units"]["sm_zhonghua_police"]
    signed_in(client, member)
    path = f"/hotline/tickets/{reference}/files/{attachment.pk}/"
    downloaded = client.get(path, **EN)
    assert downloaded.status_code == 200 and b"".join(downloaded.streaming_content) == PNG
    (record,) = AuditRecord.objects.filter(action="ticket.attachment_opened")
    assert (record.actor, record.subject) == (f"user:{member.pk}", reference)
    assert record.data["sha256"] == attachment.sha256
    # Outside the unit's scope the file does not exist, and nothing is recorded.
    signed_in(client, hotline["units"]["sm_housing"])
    assert client.get(path, **EN).status_code == 404
    assert AuditRecord.objects.filter(action="ticket.attachment_opened").count() == 1


def test_the_unit_signs_for_and_replies_and_an_empty_reply_is_named(client, hotline):
    ticket = call(hotline)
    signed_in(client, hotline["units"]["sm_zhonghua_police"])
    page = client.get(f"/hotline/tickets/{ticket.reference}/", **EN)
    assert 'data-testid="accept"' in text(page) and 'data-testid="send-reply"' not in text(page)

    signed = client.post(f"/hotline/tickets/{ticket.reference}/accept/", **EN)
    assert signed.status_code == 302
    again = client.post(f"/hotline/tickets/{ticket.reference}/accept/", **EN)
    assert again.status_code == 409 and "cannot be changed this way" in text(again)

    empty = client.post(f"/hotline/tickets/{ticket.reference}/reply/", {"reply": "  "}, **EN)
    assert empty.status_code == 422
    assert error_of(empty, "reply") == "Say what your unit did about the problem."
    replied = client.post(
        f"/hotline/tickets/{ticket.reference}/reply/", {"reply": "已处理，噪音已停止。"}, **EN
    )
    assert replied.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "replied" and ticket.reply == "已处理，噪音已停止。"


def test_a_return_needs_its_reason_and_leaves_the_units_queue(client, hotline):
    ticket = call(hotline)
    signed_in(client, hotline["units"]["sm_zhonghua_police"])
    url = f"/hotline/tickets/{ticket.reference}/return/"
    missing = client.post(url, {"reason": ""}, **EN)
    assert missing.status_code == 422
    assert error_of(missing, "return-reason") == "Say why this ticket is not your unit's."
    returned = client.post(url, {"reason": "属于物业管理范畴"}, **EN)
    assert returned.status_code == 302 and returned.url == "/hotline/unit/"
    assert ticket.reference not in text(client.get("/hotline/unit/", **EN))
    ticket.refresh_from_db()
    assert ticket.returned_by == ["sm_zhonghua_police"] and ticket.unit != "sm_zhonghua_police"


def test_the_queue_marks_a_late_sign_for_red(client, hotline):
    ticket = call(hotline)
    Ticket.objects.filter(pk=ticket.pk).update(sign_due_at=ticket.dispatched_at.replace(year=2020))
    signed_in(client, hotline["units"]["sm_zhonghua_police"])
    queue = text(client.get("/hotline/unit/", **EN))
    row = re.search(rf'<tr data-reference="{ticket.reference}".*?</tr>', queue, re.S).group(0)
    assert 'class="row-overdue"' in row and 'data-deadline="overdue"' in row


def test_an_extension_asked_by_the_unit_is_decided_by_the_supervisor(client, hotline):
    ticket = call(hotline)
    due = ticket.due_date
    signed_in(client, hotline["units"]["sm_zhonghua_police"])
    url = f"/hotline/tickets/{ticket.reference}/extend/"
    wrong = client.post(url, {"days": "abc", "reason": ""}, **EN)
    assert wrong.status_code == 422
    assert error_of(wrong, "days").startswith("Between 1 and 30")
    assert error_of(wrong, "extend-reason") == "Say why more time is needed."
    assert client.post(url, {"days": "3", "reason": "需协调多个部门"}, **EN).status_code == 302

    signed_in(client, hotline["fuzhou_supervisor"])
    assert ticket.reference not in text(client.get("/hotline/supervise/", **EN))
    extension = ExtensionRequest.objects.get()
    decide = f"/hotline/extensions/{extension.pk}/decide/"
    assert client.post(decide, {"decision": "approve"}, **EN).status_code == 404

    signed_in(client, hotline["supervisor"])
    assert "需协调多个部门" in text(client.get("/hotline/supervise/", **EN))
    decided = client.post(decide, {"decision": "approve", "back": "supervise"}, **EN)
    assert decided.status_code == 302 and decided.url == "/hotline/supervise/"
    ticket.refresh_from_db()
    assert ticket.due_date > due and ticket.extension_days == 3
    twice = client.post(decide, {"decision": "refuse", "back": "supervise"}, **EN)
    assert twice.status_code == 409 and "already decided" in text(twice)


# --- the hotline agent ---------------------------------------------------------------------------


def test_the_agent_takes_a_call_with_the_suggested_category(client, hotline):
    signed_in(client, hotline["agent"])
    assert client.get("/hotline/agent/call/", **EN).status_code == 200
    suggested = client.post(
        "/hotline/agent/suggest/", {"description": NOISE}, HTTP_HX_REQUEST="true", **EN
    )
    assert suggested.status_code == 200
    choices = text(suggested)
    assert choices.count('type="radio" name="category"') == 4  # three suggestions and "another"
    assert re.search(r'value="noise" checked', choices)

    response = client.post(
        "/hotline/agent/call/",
        {
            "contact_phone": PHONE,
            "description": NOISE,
            "address": ZHONGHUA,
            "urgency": "urgent",
            "category": "other",
            "category_other": "neighbour_disputes",
        },
        **EN,
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == f"/hotline/tickets/{ticket.reference}/"
    assert ticket.channel == "phone" and ticket.taken_by == hotline["agent"]
    assert ticket.category == "neighbour_disputes" and ticket.urgency == "urgent"
    assert ticket.corrections.get().suggested == "noise"  # kept for retraining


def test_a_call_without_number_text_or_category_names_each_and_keeps_the_rest(client, hotline):
    signed_in(client, hotline["agent"])
    response = client.post(
        "/hotline/agent/call/",
        {"contact_phone": "", "description": "", "address": ZHONGHUA, "category": "other"},
        **EN,
    )
    assert response.status_code == 422
    assert error_of(response, "contact_phone") == "Take down the caller's number."
    assert error_of(response, "description") == "Describe the problem."
    assert error_of(response, "category") == "Confirm or correct the suggested category."
    assert f'value="{ZHONGHUA}"' in text(response)
    assert Ticket.objects.count() == 0


def test_the_agent_confirms_an_unsure_category_from_the_dispatch_queue(client, hotline):
    ticket = services.ticket_receive(
        actor=PersonFactory(),
        channel=Channel.WEB,
        intake=Intake(description=VAGUE, address=ZHONGHUA),
    )
    assert ticket.status == "received", ticket.suggestion_confidence
    signed_in(client, hotline["agent"])
    queue = text(client.get("/hotline/agent/", **EN))
    assert ticket.reference in queue
    confirmed = client.post(
        f"/hotline/tickets/{ticket.reference}/category/",
        {"category": "noise", "back": "agent"},
        **EN,
    )
    assert confirmed.status_code == 302 and confirmed.url == "/hotline/agent/"
    ticket.refresh_from_db()
    assert ticket.status == "dispatched" and ticket.unit == "sm_zhonghua_police"
    assert ticket.reference not in text(client.get("/hotline/agent/", **EN))


def test_the_agent_dispatches_by_hand_and_an_unknown_unit_is_named(client, hotline):
    ticket = call(hotline)
    signed_in(client, hotline["agent"])
    url = f"/hotline/tickets/{ticket.reference}/dispatch/"
    wrong = client.post(url, {"unit": "nobody"}, **EN)
    assert wrong.status_code == 422
    assert error_of(wrong, "unit") == "Choose a unit of the dispatch catalogue."
    assert client.post(url, {"unit": "sm_housing"}, **EN).status_code == 302
    ticket.refresh_from_db()
    assert ticket.unit == "sm_housing" and ticket.handoffs == 1


def test_the_callback_is_recorded_and_an_unsolved_ticket_goes_back_to_the_unit(client, hotline):
    ticket = call(hotline)
    unit = hotline["units"]["sm_zhonghua_police"]
    services.ticket_accept(actor=unit, ticket=ticket)
    services.ticket_reply(actor=unit, ticket=ticket, reply="已劝导。")
    signed_in(client, hotline["agent"])
    assert ticket.reference in text(client.get("/hotline/agent/?queue=callbacks", **EN))
    assert PHONE not in text(client.get("/hotline/agent/?queue=callbacks", **EN))  # masked list

    url = f"/hotline/tickets/{ticket.reference}/callback/"
    incomplete = client.post(url, {"reached": "yes", "then": "close"}, **EN)
    assert incomplete.status_code == 422
    assert error_of(incomplete, "resolved") == "Say whether the problem was resolved."
    assert error_of(incomplete, "satisfied") == "Say whether the citizen is satisfied."

    answer = {"reached": "yes", "resolved": "no", "satisfied": "no", "then": "rehandle"}
    assert client.post(url, {**answer, "note": "仍然很吵"}, **EN).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "dispatched" and ticket.rehandled == 1
    assert ticket.unit == "sm_zhonghua_police"


def test_escalated_tickets_show_to_agents_and_the_supervisor_over_the_region(client, hotline):
    ticket = call(hotline)
    for _ in range(3):
        ticket = services.ticket_return(
            actor=hotline["units"].get(ticket.unit) or _member(ticket.unit),
            ticket=ticket,
            reason="不是本单位职责",
        )
    assert ticket.escalated_at is not None
    signed_in(client, hotline["agent"])
    assert ticket.reference in text(client.get("/hotline/agent/?queue=escalated", **EN))
    signed_in(client, hotline["supervisor"])
    supervision = text(client.get("/hotline/supervise/", **EN))
    assert ticket.reference in supervision and "returned or transferred three times" in supervision
    signed_in(client, hotline["fuzhou_supervisor"])
    assert ticket.reference not in text(client.get("/hotline/supervise/", **EN))


def _member(unit: str):
    from onething.complaints.models import UnitMember
    from tests.factories import StaffFactory

    user = StaffFactory()
    UnitMember.objects.create(user=user, unit=unit)
    return user


def test_a_callback_the_sweep_marked_overdue_is_red_in_the_agents_queue(client, hotline):
    ticket = call(hotline)
    holder = hotline["units"]["sm_zhonghua_police"]
    services.ticket_accept(actor=holder, ticket=ticket)
    ticket = services.ticket_reply(actor=holder, ticket=ticket, reply="已处理")
    signed_in(client, hotline["agent"])

    def row() -> str:
        queue = text(client.get("/hotline/agent/?queue=callbacks", **EN))
        return re.search(rf'<tr data-reference="{ticket.reference}".*?</tr>', queue, re.S)[0]

    assert 'data-deadline="overdue"' not in row()
    late = ticket.callback_due + dt.timedelta(days=1)
    services.ticket_sweep(
        actor=WORKER, now=timezone.make_aware(dt.datetime.combine(late, dt.time(9)))
    )
    marked = row()
    assert 'class="row-overdue"' in marked and 'data-deadline="overdue"' in marked
    assert ">overdue<" in marked
