"""Canary: a resident ID number seeded into the journeys reaches no log line, no page or JSON
shown to somebody not entitled to it, no error page, no audit record and no export (it is
masked in the exports of those entitled to them; nobody gets an unmasked export).

The log lines are written by the project's own configured handlers (their stream redirected
for the test), so the test checks the filters settings.LOGGING installs, not a copy of them.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import date

import pytest
from django.test import Client
from django.urls import path

from onething.accounts.auth import token_issue
from onething.applications import services
from onething.applications.models import CaseEvent
from onething.audit.models import AuditRecord
from onething.audit.services import audit_record
from onething.core.logging import MaskPersonalNumbers
from onething.core.masking import mask
from onething.outbox.registry import autodiscover
from onething.outbox.worker import outbox_run_once
from onething.urls import urlpatterns as project_urlpatterns
from tests.applications.conftest import fill_and_attach, valid_value
from tests.downloads import downloaded
from tests.factories import PersonFactory, id_card_issue, make_ric, reviewer

pytestmark = pytest.mark.django_db

# The mother (the applicant) and the father, whose number she types into the form.
CANARY = make_ric(region="110105", birth=date(1985, 4, 23), serial=917)
FATHER_CANARY = make_ric(region="350211", birth=date(1983, 11, 2), serial=555)
# The data-sharing journey's couple: the demo's 林晓燕 and 陈建国 under canary numbers (same
# birth dates, so their register records stay consistent).
SHARING_CANARY = make_ric(region="350203", birth=date(1994, 6, 12), serial=917)
SHARING_FATHER_CANARY = make_ric(region="350203", birth=date(1992, 2, 3), serial=555)
DEMO_NUMBERS = {
    "350203199406121242": SHARING_CANARY,  # 林晓燕
    "35020319920203135X": SHARING_FATHER_CANARY,  # 陈建国
}
CANARIES = (CANARY, FATHER_CANARY, SHARING_CANARY, SHARING_FATHER_CANARY)
# The father's number typed with a wrong check digit.
MISTYPED = FATHER_CANARY[:-1] + ("1" if FATHER_CANARY[-1] != "1" else "2")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


# A test-only URL that fails, so a 500 goes through the whole stack: middleware, handler500,
# django.request's log line and the request id's.
def _boom(request, value):
    raise RuntimeError(f"cannot handle {value}")


urlpatterns = [
    path("canary-boom/<str:value>/", _boom),
    path("api/canary-boom/<str:value>", _boom),
    *project_urlpatterns,
]
handler404 = "onething.core.views.not_found"
handler500 = "onething.core.views.server_error"


@pytest.fixture
def log_lines():
    """Everything logged during the test, at DEBUG, as the configured handlers write it."""
    root = logging.getLogger()
    configured = [h for h in root.handlers if not type(h).__module__.startswith("_pytest")]
    assert configured and all(isinstance(h, logging.StreamHandler) for h in configured)
    # The project puts the masking filter on every handler it configures.
    assert all(any(isinstance(f, MaskPersonalNumbers) for f in h.filters) for h in configured)
    buffer = io.StringIO()
    # Not setStream: it flushes the old stream, which an earlier test's capture may have closed.
    streams = [h.stream for h in configured]
    for handler in configured:
        handler.stream = buffer
    # Every logger at DEBUG, the project's and the libraries' alike; none writes anywhere
    # but through the configured (masking) handlers.
    loggers = [root] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers[1:]:
        for handler in logger.handlers:
            if isinstance(handler, logging.NullHandler):
                continue
            assert any(isinstance(f, MaskPersonalNumbers) for f in handler.filters), logger.name
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        for handler, stream in zip(configured, streams, strict=True):
            handler.stream = stream
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def bearer(user) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, name='canary')}"}


def signed_in(user) -> Client:
    user.save(update_fields=["password"])  # see tests/applications/test_views.py: sign_in
    client = Client()
    client.force_login(user)
    return client


def assert_no_canary(where: str, text: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"{where} shows the raw canary {canary}"


@pytest.fixture
def mother(loaded_catalog):
    return PersonFactory(id_number=CANARY)


def test_the_newborn_journey_leaves_the_canary_in_no_log_staff_view_or_audit_record(
    mother, log_lines, capfd
):
    owner = signed_in(mother)
    application = services.application_start(
        actor=mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    typed = fill_and_attach(application, mother, overrides={"father.id_number": FATHER_CANARY})
    assert typed["mother.id_number"] == CANARY
    # The check page may be printed: the product masks both numbers there.
    check_page = owner.get(f"/applications/{application.reference}/check/", **EN)
    assert check_page.status_code == 200
    assert_no_canary("the check page", check_page.content.decode())
    assert mask(CANARY) in check_page.content.decode()

    services.application_submit(actor=mother, application=application, consent=True)
    autodiscover()
    outbox_run_once(worker_id="canary", batch=50)

    health = reviewer("fj_health")
    case = application.cases.get(service__code="birth_medical_certificate")
    services.case_accept(actor=health, case=case)
    staff = signed_in(health)
    api_headers = bearer(health)
    shown_to_staff = {
        "the reviewer's queue": staff.get("/workbench/", **EN),
        "the reviewer's case page": staff.get(f"/workbench/cases/{case.pk}/", **EN),
        "the workbench API list": staff.get("/api/v1/workbench/cases", **api_headers),
        "the workbench API case": staff.get(f"/api/v1/workbench/cases/{case.pk}", **api_headers),
    }
    # Excluded on purpose: the reveal is the reviewer's recorded right to see one value in full.
    revealed = staff.post(
        f"/workbench/cases/{case.pk}/reveal/",
        {"field": "father.id_number"},
        HTTP_HX_REQUEST="true",
        **EN,
    )
    assert FATHER_CANARY in revealed.content.decode()  # so the masked views above are not empty
    services.case_approve(
        actor=health, case=case, outputs={"child.birth_certificate_number": "Q350203456"}
    )
    outbox_run_once(worker_id="canary", batch=50)
    shown_to_staff["the case page after approval"] = staff.get(f"/workbench/cases/{case.pk}/")

    for where, response in shown_to_staff.items():
        assert response.status_code == 200, where
        assert_no_canary(where, downloaded(response).decode())
    assert mask(CANARY) in shown_to_staff["the reviewer's case page"].content.decode()

    # The owner's timeline page masks too; the owner's API returns her own form in full (the
    # draft's editor needs it), which she is entitled to.
    timeline = owner.get(f"/applications/{application.reference}/", **EN)
    assert timeline.status_code == 200
    assert_no_canary("the applicant's timeline", timeline.content.decode())
    own = Client().get(f"/api/v1/applications/{application.reference}", **bearer(mother))
    assert own.status_code == 200

    # The journey's own records hold no numbers; one that does is stored masked, at any depth.
    audit_record(
        actor="canary",
        action="canary.seeded",
        stream=f"user:{mother.pk}",
        subject=f"user:{mother.pk}",
        data={"mother.id_number": CANARY, "father": {"id_number": FATHER_CANARY}},
    )
    seeded = AuditRecord.objects.get(action="canary.seeded")
    assert seeded.data["mother.id_number"] == mask(CANARY)
    for record in AuditRecord.objects.all():
        assert_no_canary(
            f"audit record {record.action}",
            json.dumps([record.actor, record.subject, record.purpose, record.data]),
        )
    assert AuditRecord.objects.filter(action="case.value_revealed").exists()
    for event in CaseEvent.objects.filter(application=application):
        assert_no_canary(f"case event {event.action}", json.dumps([event.note, event.data]))

    printed = capfd.readouterr()
    assert_no_canary("the log", log_lines.getvalue())
    assert_no_canary("the output", printed.out + printed.err)
    assert log_lines.getvalue(), "nothing was logged: the capture is not working"


@pytest.mark.urls(__name__)
def test_error_pages_and_their_log_lines_never_show_the_canary(mother, log_lines, capfd):
    owner = signed_in(mother)
    owner.raise_request_exception = False
    anonymous = Client(raise_request_exception=False)
    # The father's number with a wrong check digit: the message names the field and the rule.
    application = services.application_start(
        actor=mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    saved = owner.patch(
        f"/api/v1/applications/{application.reference}/form",
        {"values": {"father.id_number": MISTYPED}},
        content_type="application/json",
        **bearer(mother),
        **EN,
    )
    problem = saved.json()["problems"]["form.father.id_number"]
    assert "check digit" in problem and MISTYPED not in saved.content.decode()
    plan = services.application_plan(application)
    form = {f.element.key: valid_value(f.element, mother) for f in plan.form if f.asked}
    refused = owner.post(
        "/api/v1/applications",
        {
            "thing": "newborn",
            "answers": {"mother_insured": "yes"},
            "form": {**form, "father.id_number": MISTYPED},
            "consent": True,
        },
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="canary-0001",
        **bearer(mother),
        **EN,
    )
    assert refused.status_code == 422, refused.content
    assert "form.father.id_number" in refused.json()["fields"]
    assert MISTYPED not in refused.content.decode()

    errors = {
        "a 404 page for the owner's URL": owner.get(f"/applications/{CANARY}/", **EN),
        "a 404 page for an unknown URL": anonymous.get(f"/nowhere/{CANARY}/", **EN),
        "a 404 for an unknown service": owner.get(f"/apply/{CANARY}/", **EN),
        "a 404 JSON": owner.get(f"/api/v1/applications/{CANARY}", **bearer(mother)),
        "a 500 page": anonymous.get(f"/canary-boom/{CANARY}/", **EN),
        "a 500 JSON": anonymous.get(f"/api/canary-boom/{CANARY}", **EN),
        "a 400 for a bad host": anonymous.get("/", HTTP_HOST=f"{CANARY}.example.cn", **EN),
    }
    for where, response in errors.items():
        assert response.status_code in (400, 404, 500), (where, response.status_code)
        assert_no_canary(where, downloaded(response).decode())
    assert "Request reference" in errors["a 500 page"].content.decode()

    logged = log_lines.getvalue()
    # The canary did go through the logs (the 404, the 500 and the bad host), masked.
    for line in (
        f"Not Found: /nowhere/{mask(CANARY)}/",
        f"path=/canary-boom/{mask(CANARY)}/",
        f"RuntimeError: cannot handle {mask(CANARY)}",
        f"Invalid HTTP_HOST header: '{mask(CANARY)}.example.cn'",
    ):
        assert line in logged, line
    printed = capfd.readouterr()
    assert_no_canary("the log", logged)
    assert_no_canary("the output", printed.out + printed.err)
    assert MISTYPED not in logged + printed.out + printed.err


# --- the data-sharing journey --------------------------------------------------------------------


@pytest.fixture
def canary_couple(loaded_catalog, demo_registers, tmp_path):
    """林晓燕 and 陈建国 of the demo registers under canary numbers, each with their resident ID
    e-certificate: everything the departments hold about them is read under the canaries."""
    from django.conf import settings

    from onething.sharing.registers import read_registers
    from onething.sharing.services import register_load

    for source in settings.DEMO_REGISTERS_DIR.glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        for demo, canary in DEMO_NUMBERS.items():
            text = text.replace(demo, canary)
        (tmp_path / source.name).write_text(text, encoding="utf-8")
    register_load(actor="test", registers=read_registers([tmp_path]))
    couple = {}
    for role, number, name in (
        ("mother", SHARING_CANARY, "林晓燕"),
        ("father", SHARING_FATHER_CANARY, "陈建国"),
    ):
        person = PersonFactory(id_number=number, real_name=name)
        # As the demo issues them: the card names its holder as the applicant it was for.
        id_card_issue(person, {"applicant.name": name, "applicant.id_number": number})
        couple[role] = person
    return couple


def test_the_data_sharing_journey_leaves_the_canary_in_no_log_staff_view_export_or_audit(
    canary_couple, log_lines, capfd
):
    from onething.accounts.models import Role, RoleAssignment
    from onething.audit.models import AuditStream
    from onething.sharing.exchange import exchange_client_ensure, exchange_client_issue_token
    from onething.sharing.models import DataUse, RelatedConsentRequest
    from tests.factories import StaffFactory

    mother, father = canary_couple["mother"], canary_couple["father"]
    owner, husband = signed_in(mother), signed_in(father)
    application = services.application_start(
        actor=mother, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    data_page = f"/applications/{application.reference}/data/"
    # She asks her husband; he approves in his own portal.
    assert owner.post(data_page, {"then": "ask-spouse"}, **EN).status_code == 302
    asked = RelatedConsentRequest.objects.get(application_reference=application.reference)
    assert asked.subject == SHARING_FATHER_CANARY
    his_page = husband.get("/my-data/", **EN)
    assert application.reference in his_page.content.decode()
    husband.post(f"/my-data/requests/{asked.pk}/", {"answer": "approve"}, **EN)
    # She consents (sensitive data too) and the form fills from the registers.
    prefilled = owner.post(data_page, {"consent": "yes", "sensitive": "yes"}, **EN)
    assert prefilled.status_code == 302, prefilled.content.decode()[:300]
    application.refresh_from_db()
    assert application.form_data["mother.id_number"] == SHARING_CANARY
    assert application.form_data["father.id_number"] == SHARING_FATHER_CANARY
    fill_and_attach(
        application,
        mother,
        overrides={key: application.form_data[key] for key in application.prefilled},
    )
    application = services.application_submit(actor=mother, application=application, consent=True)
    autodiscover()
    outbox_run_once(worker_id="canary", batch=50)

    # The health commission's system asks the exchange about her; then with a mistyped number.
    system = exchange_client_ensure(actor="test", department_code="fj_health", name="HIS")
    token = exchange_client_issue_token(actor="test", client=system, name="canary")
    query = {
        "service": "birth_medical_certificate",
        "subject": SHARING_CANARY,
        "elements": ["mother.name", "household.address"],
        "purpose": "checking the mother for the birth certificate",
    }
    system_headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", **EN}
    exchanged = Client().post(
        "/api/v1/exchange/query", query, content_type="application/json", **system_headers
    )
    assert exchanged.status_code == 200, exchanged.content
    assert exchanged.json()["values"]["mother.name"]["value"] == "林晓燕"
    mistyped = SHARING_CANARY[:-1] + ("1" if SHARING_CANARY[-1] != "1" else "2")
    refused = Client().post(
        "/api/v1/exchange/query",
        {**query, "subject": mistyped},
        content_type="application/json",
        **system_headers,
    )
    assert refused.status_code == 422
    assert refused.json()["fields"] == {"subject": "check digit does not match"}
    error_pages = {
        "the exchange's 422 naming the subject": refused,
        "a 404 page for her number as a reference": owner.get(
            f"/applications/{SHARING_CANARY}/", **EN
        ),
        "a 404 for another person's consent request": signed_in(PersonFactory()).post(
            f"/my-data/requests/{asked.pk}/", {"answer": "decline"}, **EN
        ),
    }
    for where, response in error_pages.items():
        assert response.status_code in (404, 422), (where, response.status_code)
        assert_no_canary(where, downloaded(response).decode())
        assert mistyped not in downloaded(response).decode(), where

    # She sees every use of her data, on the page and through the API.
    her_page = owner.get("/my-data/", **EN)
    assert her_page.status_code == 200
    assert 'data-source="population_register" data-outcome="provided"' in her_page.text
    her_uses = Client().get("/api/v1/me/data-uses", **bearer(mother)).json()["items"]
    assert {"prefill", "exchange"} <= {use["use"] for use in her_uses}

    # A reviewer works the case and reveals the father's number (his recorded right).
    health = reviewer("fj_health")
    case = application.cases.get(service__code="birth_medical_certificate")
    services.case_accept(actor=health, case=case)
    staff = signed_in(health)
    revealed = staff.post(
        f"/workbench/cases/{case.pk}/reveal/",
        {"field": "father.id_number"},
        HTTP_HX_REQUEST="true",
        **EN,
    )
    assert SHARING_FATHER_CANARY in revealed.content.decode()
    assert DataUse.objects.filter(subject=SHARING_FATHER_CANARY, use="reveal").exists()

    supervisor, clerk = StaffFactory(), StaffFactory()
    RoleAssignment.objects.create(user=supervisor, role=Role.SUPERVISOR)
    RoleAssignment.objects.create(user=clerk, role=Role.WINDOW_CLERK)
    overseer = signed_in(supervisor)
    shown_to_staff = {
        "the reviewer's queue": staff.get("/workbench/", **EN),
        "the reviewer's case page": staff.get(f"/workbench/cases/{case.pk}/", **EN),
        "the workbench API case": staff.get(f"/api/v1/workbench/cases/{case.pk}", **bearer(health)),
        "the exports page": overseer.get("/supervision/exports/", **EN),
        # A number typed into a staff page's address is shown masked.
        "the exports page with a number in its address": overseer.get(
            "/supervision/exports/", {"since": SHARING_CANARY}, **EN
        ),
    }
    for where, response in shown_to_staff.items():
        assert response.status_code == 200, where
        assert_no_canary(where, downloaded(response).decode())
    assert mask(SHARING_CANARY) in shown_to_staff["the reviewer's case page"].content.decode()

    # Exports: refused to those not entitled, masked for those who are.
    refused_exports = {
        "the applicant's data-use export": owner.get("/supervision/exports/data-uses.csv", **EN),
        "the applicant's case export": owner.get("/supervision/exports/cases.csv", **EN),
        "the husband's data-use export through the API": Client().get(
            "/api/v1/exports/data-uses", **bearer(father), **EN
        ),
        "the reviewer's data-use export": staff.get("/supervision/exports/data-uses.csv", **EN),
        "the clerk's case export": signed_in(clerk).get("/supervision/exports/cases.csv", **EN),
        "an anonymous export through the API": Client().get("/api/v1/exports/cases", **EN),
    }
    for where, response in refused_exports.items():
        assert response.status_code in (401, 403), (where, response.status_code)
        assert not response["Content-Type"].startswith("text/csv"), where
        assert_no_canary(where, downloaded(response).decode())
    entitled_exports = {
        "the supervisor's data-use export": overseer.get(
            "/supervision/exports/data-uses.csv", **EN
        ),
        "the supervisor's case export": overseer.get("/supervision/exports/cases.csv", **EN),
        "the reviewer's case export": staff.get("/supervision/exports/cases.csv", **EN),
        "the supervisor's data-use export through the API": Client().get(
            "/api/v1/exports/data-uses", **bearer(supervisor)
        ),
    }
    for where, response in entitled_exports.items():
        assert response.status_code == 200, where
        text = downloaded(response).decode("utf-8-sig")
        assert_no_canary(where, text)
        assert mask(SHARING_CANARY) in text, where
    uses_export = entitled_exports["the supervisor's data-use export"].content.decode("utf-8-sig")
    assert mask(SHARING_FATHER_CANARY) in uses_export  # the reveal and his consented reads

    # The audit trail names nobody by number: not in its records, not in its stream names.
    assert AuditRecord.objects.filter(action="export.data_uses").count() == 2
    for record in AuditRecord.objects.all():
        assert_no_canary(
            f"audit record {record.action}",
            json.dumps([record.actor, record.subject, record.purpose, record.data]),
        )
    for stream in AuditStream.objects.all():
        assert_no_canary("an audit stream's name", stream.name)
    for event in CaseEvent.objects.filter(application=application):
        assert_no_canary(f"case event {event.action}", json.dumps([event.note, event.data]))

    printed = capfd.readouterr()
    logged = log_lines.getvalue()
    assert_no_canary("the log", logged)
    assert_no_canary("the output", printed.out + printed.err)
    assert mistyped not in logged + printed.out + printed.err
    # The journey did log, at DEBUG too, and the canary went through the logs masked.
    assert " DEBUG " in logged
    assert f"Not Found: /applications/{mask(SHARING_CANARY)}/" in logged
