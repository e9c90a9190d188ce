"""Staff exports: the record of data uses and the case list as CSV, masked in every row, safe to
open in a spreadsheet, within the exporter's scope, and each one recorded in the audit trail."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from onething.accounts.models import Role
from onething.applications import services
from onething.applications.models import Case
from onething.audit.models import AuditRecord
from onething.core.actors import SystemActor
from onething.core.masking import mask
from onething.sharing.models import DataUse
from onething.sharing.services import record_data_use
from onething.supervision import charts, exports
from onething.supervision.selectors import case_export_order_key
from tests.applications.conftest import fill_and_attach
from tests.downloads import downloaded
from tests.factories import PersonFactory, make_ric, make_uscc, reviewer, staff_with

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
NEWBORN_ANSWERS = {
    "mother_insured": False,
    "vaccination_certificate_issued": True,
    "apply_social_security_card": False,
}
MOTHER = make_ric(region="350203", birth=date(1994, 6, 12), serial=124)
HOME_BUYER = make_ric(region="350206", birth=date(1990, 7, 22), serial=683)
FATHER = make_ric(region="350211", birth=date(1983, 11, 2), serial=555)
ENTERPRISE = make_uscc(4242)
FORMULA = '=HYPERLINK("http://evil.example","点此核对")'


def signed_in(user) -> Client:
    client = Client()
    if user is not None:
        user.save(update_fields=["password"])
        client.force_login(user)
    return client


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, downloaded(response)[:500]
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert downloaded(response).startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(downloaded(response).decode("utf-8-sig"), newline="")))


@pytest.fixture
def uses(loaded_catalog):
    """Four uses of data, by four departments' services, of four subjects."""
    health = reviewer("fj_health", real_name="王审核")
    mother = PersonFactory(id_number=MOTHER, real_name="林晓燕")
    recorded = {
        "reveal": record_data_use(
            actor=health,
            subject=FATHER,
            source="hospital_births",
            department="fj_health",
            elements=["father.id_number"],
            purpose="reviewing the birth certificate",
            use="reveal",
            outcome="provided",
            service="birth_medical_certificate",
            application_reference="NB-0001",
        ),
        "prefill": record_data_use(
            actor=mother,
            subject=MOTHER,
            source="population_register",
            department="fj_public_security",
            elements=["mother.name", "mother.id_number"],
            purpose="filling in the newborn form",
            use="prefill",
            outcome="provided",
            service="newborn",
            application_reference="NB-0001",
        ),
        # A department's system wrote a formula and somebody's number into its purpose.
        "exchange": record_data_use(
            actor=SystemActor("exchange:xm_tax/契税系统"),
            subject=HOME_BUYER,
            source="real_estate_register",
            department="xm_real_estate_registration",
            elements=["property.certificate_number"],
            purpose=f"{FORMULA} for {FATHER}",
            use="exchange",
            outcome="provided",
            service="home_transfer_tax",
        ),
        "enterprise": record_data_use(
            actor=SystemActor("exchange:fj_market_regulation/登记系统"),
            subject=ENTERPRISE,
            source="enterprise_register",
            department="fj_market_regulation",
            elements=["enterprise.name"],
            purpose="licence check",
            use="exchange",
            outcome="denied",
            service="business_licence_check",
        ),
    }
    return {"health": health, "mother": mother, **recorded}


def exported_uses(user, **query) -> list[dict[str, str]]:
    return read_csv(signed_in(user).get("/supervision/exports/data-uses.csv", query, **EN))


def test_a_supervisor_exports_every_use_with_every_personal_number_masked(uses):
    supervisor = staff_with(Role.SUPERVISOR)
    response = signed_in(supervisor).get("/supervision/exports/data-uses.csv", **EN)
    rows = read_csv(response)
    assert len(rows) == 4
    text = downloaded(response).decode("utf-8-sig")
    for raw in (MOTHER, FATHER, HOME_BUYER):
        assert raw not in text
    by_use = {(row["Use"], row["Outcome"]): row for row in rows}
    reveal = by_use["reveal by a reviewer", "provided"]
    assert reveal["Whose data"] == mask(FATHER)
    assert reveal["Who"] == f"user:{uses['health'].pk}"
    assert reveal["Name"] == "王审核"  # staff by name
    assert reveal["Service or one thing"] == "birth_medical_certificate"
    assert reveal["Data elements"] == "father.id_number"
    prefill = by_use["prefill", "provided"]
    assert prefill["Whose data"] == mask(MOTHER)
    assert prefill["Name"] == "林*燕"  # a member of the public: masked
    exchange = by_use["exchange query", "provided"]
    assert exchange["Name"] == "exchange:xm_tax/契税系统"
    assert exchange["Purpose"] == f"'{FORMULA} for {mask(FATHER)}"
    # A credit code names an enterprise and is public.
    assert by_use["exchange query", "refused: no grant"]["Whose data"] == ENTERPRISE


def test_the_export_is_recorded_with_its_filters_and_row_count(uses):
    supervisor = staff_with(Role.SUPERVISOR)
    today = timezone.localdate().isoformat()
    rows = exported_uses(supervisor, since="2020-01-01", until=today)
    record = AuditRecord.objects.get(action="export.data_uses")
    assert record.actor == f"user:{supervisor.pk}"
    assert record.stream.name == f"user:{supervisor.pk}"
    assert record.data == {
        "filters": {"since": "2020-01-01", "until": today},
        "rows": len(rows),
        "format": "csv",
    }


def test_the_date_range_is_of_beijing_days(uses):
    supervisor = staff_with(Role.SUPERVISOR)
    # 23:30 on 1 March in Beijing is 15:30 UTC; 00:10 on 2 March is 16:10 UTC on 1 March.
    DataUse.objects.filter(pk=uses["reveal"].pk).update(at=datetime(2026, 3, 1, 15, 30, tzinfo=UTC))
    DataUse.objects.filter(pk=uses["prefill"].pk).update(
        at=datetime(2026, 3, 1, 16, 10, tzinfo=UTC)
    )
    DataUse.objects.filter(pk=uses["exchange"].pk).update(
        at=datetime(2026, 2, 28, 15, 59, tzinfo=UTC)
    )
    first_of_march = exported_uses(supervisor, since="2026-03-01", until="2026-03-01")
    assert [row["Use"] for row in first_of_march] == ["reveal by a reviewer"]
    assert first_of_march[0]["When"] == "2026-03-01 23:30:00"
    from_march = exported_uses(supervisor, since="2026-03-01")
    assert [row["Use"] for row in from_march] == [
        "reveal by a reviewer",
        "prefill",
        "exchange query",
    ]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({}, ("enterprise", "exchange", "prefill", "reveal")),
        ({"region": "350000"}, ("enterprise", "exchange", "prefill", "reveal")),
        # Xiamen's tax office used the Xiamen real-estate register.
        ({"region": "350200"}, ("exchange",)),
        ({"region": "350203"}, ()),
        # The health commission's own service, the newborn thing it is a member of, and the
        # hospital records it holds.
        ({"department": "fj_health"}, ("prefill", "reveal")),
        ({"department": "fj_public_security"}, ("prefill",)),
        ({"department": "fj_health", "region": "350200"}, ()),
    ],
    ids=lambda value: ("-".join(value.values()) or "all") if isinstance(value, dict) else None,
)
def test_a_supervisor_exports_only_the_uses_of_what_they_oversee(uses, scope, expected):
    supervisor = staff_with(Role.SUPERVISOR, **scope)
    rows = exported_uses(supervisor)
    assert {row["Service or one thing"] for row in rows} == {uses[n].service for n in expected}


def test_an_administrator_exports_every_use(uses):
    administrator = staff_with(Role.ADMINISTRATOR)
    assert len(exported_uses(administrator)) == 4


PAGES = (
    "/supervision/exports/",
    "/supervision/exports/cases.csv",
    "/supervision/exports/data-uses.csv",
)


@pytest.fixture
def people(uses):
    return {
        "anonymous": None,
        "applicant": uses["mother"],
        "clerk": staff_with(Role.WINDOW_CLERK),
        "health_reviewer": uses["health"],
        "supervisor": staff_with(Role.SUPERVISOR),
        "administrator": staff_with(Role.ADMINISTRATOR),
    }


# page -> status per person, in the order of the `people` fixture.
PAGE_ACCESS = {
    "/supervision/exports/": [302, 403, 403, 200, 200, 200],
    # An administrator reads every case (as on the workbench), so may export them too.
    "/supervision/exports/cases.csv": [302, 403, 403, 200, 200, 200],
    "/supervision/exports/data-uses.csv": [302, 403, 403, 403, 200, 200],
}


@pytest.mark.parametrize(("path", "expected"), list(PAGE_ACCESS.items()), ids=list(PAGE_ACCESS))
def test_who_may_open_which_export(people, path, expected):
    observed = {who: signed_in(user).get(path, **EN).status_code for who, user in people.items()}
    assert observed == dict(zip(people, expected, strict=True))
    assert not AuditRecord.objects.filter(
        action__startswith="export.",
        actor__in=[f"user:{people[w].pk}" for w in ("applicant", "clerk")],
    ).exists()


def test_an_unprivileged_export_refused_shows_no_data(people):
    for who in ("applicant", "clerk", "health_reviewer"):
        response = signed_in(people[who]).get("/supervision/exports/data-uses.csv", **EN)
        assert response.status_code == 403
        assert not response["Content-Type"].startswith("text/csv")
        for raw in (MOTHER, FATHER, HOME_BUYER, mask(FATHER)):
            assert raw not in downloaded(response).decode()


def test_the_exports_page_offers_only_what_the_user_may_export(people):
    reviewer_page = signed_in(people["health_reviewer"]).get("/supervision/exports/", **EN)
    assert 'data-testid="export-cases"' in reviewer_page.text
    assert 'data-testid="export-data-uses"' not in reviewer_page.text
    administrator_page = signed_in(people["administrator"]).get("/supervision/exports/", **EN)
    assert 'data-testid="export-cases"' in administrator_page.text
    assert 'data-testid="export-data-uses"' in administrator_page.text
    supervisor_page = signed_in(people["supervisor"]).get("/", **EN)
    assert 'data-testid="nav-exports"' in supervisor_page.text
    applicant_page = signed_in(people["applicant"]).get("/", **EN)
    assert 'data-testid="nav-exports"' not in applicant_page.text


def test_wrong_filters_are_named_and_nothing_is_exported(people):
    client = signed_in(people["supervisor"])
    response = client.get(
        "/supervision/exports/data-uses.csv",
        {"since": "2026-03-05", "until": "2026-03-01"},
        **EN,
    )
    assert response.status_code == 422
    assert "The end date is before the start date." in response.text
    bad = client.get(
        "/supervision/exports/cases.csv", {"since": MOTHER, "status": "nonsense"}, **EN
    )
    assert bad.status_code == 422
    assert "Enter a date as YYYY-MM-DD." in bad.text and "Unknown status." in bad.text
    assert MOTHER not in bad.text  # what was typed is not shown again unless it is a date
    assert not AuditRecord.objects.filter(action__startswith="export.").exists()


OUT_OF_RANGE = "Enter a date from 1900-01-01 to 2999-12-31."


@pytest.mark.parametrize(
    "path", ["/supervision/exports/cases.csv", "/supervision/exports/data-uses.csv"]
)
@pytest.mark.parametrize(("name", "day"), [("until", "9999-12-31"), ("since", "0001-01-01")])
def test_a_day_beyond_the_calendar_is_named_on_the_page_not_a_server_error(people, path, name, day):
    response = signed_in(people["supervisor"]).get(path, {name: day}, **EN)
    assert response.status_code == 422
    assert OUT_OF_RANGE in response.text
    assert not AuditRecord.objects.filter(action__startswith="export.").exists()


def test_an_export_over_the_row_limit_asks_for_a_shorter_period(people, monkeypatch):
    monkeypatch.setattr(charts, "EXPORT_ROW_LIMIT", 3)
    response = signed_in(people["supervisor"]).get("/supervision/exports/data-uses.csv", **EN)
    assert response.status_code == 422
    assert "Choose a shorter period." in response.text
    assert not AuditRecord.objects.filter(action__startswith="export.").exists()


# --- the case list -------------------------------------------------------------------------------


@pytest.fixture
def cases(loaded_catalog):
    """A submitted newborn application by an applicant whose name is a formula."""
    applicant = PersonFactory(id_number=MOTHER, real_name="=林晓燕", phone="13912345678")
    application = services.application_start(
        actor=applicant, thing_code="newborn", answers=NEWBORN_ANSWERS
    )
    fill_and_attach(application, applicant, overrides={"father.id_number": FATHER})
    application = services.application_submit(
        actor=applicant, application=application, consent=True
    )
    return {"applicant": applicant, "application": application}


def exported_cases(user, **query):
    response = signed_in(user).get("/supervision/exports/cases.csv", query, **EN)
    return read_csv(response), downloaded(response).decode("utf-8-sig")


def test_a_reviewer_exports_their_queue_with_the_applicant_masked(cases):
    rows, text = exported_cases(reviewer("fj_health"))
    birth = cases["application"].cases.get(service__code="birth_medical_certificate")
    assert [row["Reference"] for row in rows] == [cases["application"].reference]
    [row] = rows
    assert row["Service"] == birth.service.name_en
    assert row["Status"] == "new, to be accepted"
    assert row["Due"] == birth.due_date.isoformat()
    assert row["Applicant"] == "'=**燕"  # masked, and not a formula
    assert row["Applicant's ID number"] == mask(MOTHER)
    assert row["Submitted"].startswith(str(cases["application"].submitted_at.year))
    for raw in (MOTHER, FATHER, "13912345678", "林晓燕"):
        assert raw not in text


def test_another_departments_reviewer_exports_none_of_these_cases(cases):
    # The hukou case waits for the birth certificate: not in the police's queue yet.
    rows, _text = exported_cases(reviewer("fj_public_security"))
    assert rows == []
    rows, _text = exported_cases(reviewer("xm_tax"))
    assert rows == []


def test_a_supervisor_exports_the_cases_of_their_departments_by_status(cases):
    everything, _text = exported_cases(staff_with(Role.SUPERVISOR))
    services_of = {row["Service"] for row in everything}
    # A supervisor sees waiting cases too, which no reviewer's queue shows yet.
    assert len(everything) == cases["application"].cases.count()
    health, _text = exported_cases(staff_with(Role.SUPERVISOR, department="fj_health"))
    assert {row["Department"] for row in health} == {"Fujian Provincial Health Commission"}
    assert {row["Service"] for row in health} < services_of
    xiamen, _text = exported_cases(staff_with(Role.SUPERVISOR, region="350200"))
    assert xiamen == []
    waiting, _text = exported_cases(staff_with(Role.SUPERVISOR), status="waiting")
    assert {row["Status"] for row in waiting} == {"waiting for an earlier case"}
    submitted = cases["application"].submitted_at.date()
    later, _text = exported_cases(staff_with(Role.SUPERVISOR), since=submitted.replace(year=2099))
    assert later == []
    record = AuditRecord.objects.filter(action="export.cases").order_by("recorded_at", "pk").last()
    assert record.data["filters"]["status"] == "all" and record.data["rows"] == 0


def test_the_workbench_links_to_the_export_of_the_queue_shown(cases):
    client = signed_in(reviewer("fj_health"))
    page = client.get("/workbench/?status=ready", **EN).text
    assert 'href="/supervision/exports/cases.csv?status=ready"' in page
    rows = read_csv(client.get("/supervision/exports/cases.csv?status=ready", **EN))
    assert len(rows) == 1


def _another_application(birth: date, serial: int):
    applicant = PersonFactory(id_number=make_ric(region="350203", birth=birth, serial=serial))
    application = services.application_start(
        actor=applicant, thing_code="newborn", answers=NEWBORN_ANSWERS
    )
    fill_and_attach(application, applicant)
    return services.application_submit(actor=applicant, application=application, consent=True)


def _queries_of_a_case_export(client) -> tuple[int, int]:
    """(queries, rows) of one case export, read to its end."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/supervision/exports/cases.csv", **EN)
        assert response.streaming  # written while the rows are read
        rows = read_csv(response)
    return len(queries), len(rows)


def test_a_case_export_reads_its_rows_without_a_query_per_row(cases):
    client = signed_in(staff_with(Role.SUPERVISOR))
    _queries_of_a_case_export(client)  # the exporter's first audit record opens their stream
    few_queries, few_rows = _queries_of_a_case_export(client)
    for serial in (211, 312, 413):
        _another_application(date(1992, 3, 4), serial)
    more_queries, more_rows = _queries_of_a_case_export(client)
    assert more_rows > few_rows > 0
    assert more_queries == few_queries
    record = AuditRecord.objects.filter(action="export.cases").order_by("recorded_at", "pk").last()
    assert record.data["rows"] == more_rows  # recorded before streaming: what the file holds


# --- the same through the API --------------------------------------------------------------------


def bearer(user) -> dict[str, str]:
    from onething.accounts.auth import token_issue

    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, name='export')}"}


def test_the_api_exports_the_same_masked_csv_and_records_it(uses):
    supervisor = staff_with(Role.SUPERVISOR)
    response = Client().get("/api/v1/exports/data-uses", **bearer(supervisor))
    rows = read_csv(response)
    assert len(rows) == 4
    assert MOTHER not in downloaded(response).decode("utf-8-sig")
    assert AuditRecord.objects.filter(action="export.data_uses").count() == 1


@pytest.mark.parametrize("path", ["/api/v1/exports/cases", "/api/v1/exports/data-uses"])
@pytest.mark.parametrize(("name", "day"), [("until", "9999-12-31"), ("since", "0001-01-01")])
def test_the_api_names_a_day_beyond_the_calendar_in_the_users_language(uses, path, name, day):
    supervisor = staff_with(Role.SUPERVISOR)
    english = Client().get(path, {name: day}, **bearer(supervisor), **EN)
    assert english.status_code == 422
    assert english.json()["fields"] == {name: OUT_OF_RANGE}
    chinese = Client().get(path, {name: day}, **bearer(supervisor), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 422
    assert "1900-01-01" in chinese.json()["fields"][name]
    assert chinese.json()["fields"][name] != OUT_OF_RANGE
    assert not AuditRecord.objects.filter(action__startswith="export.").exists()


def test_the_api_names_a_wrong_filter_and_refuses_the_unprivileged(uses):
    supervisor = staff_with(Role.SUPERVISOR)
    wrong = Client().get(
        "/api/v1/exports/cases",
        {"since": "2026-03-05", "until": "2026-03-01"},
        **bearer(supervisor),
        **EN,
    )
    assert wrong.status_code == 422
    assert wrong.json()["fields"] == {"until": "The end date is before the start date."}
    not_a_date = Client().get(
        "/api/v1/exports/data-uses", {"since": "yesterday"}, **bearer(supervisor)
    )
    assert not_a_date.status_code == 422 and "since" in not_a_date.json()["fields"]
    refused = Client().get("/api/v1/exports/data-uses", **bearer(uses["health"]), **EN)
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_allowed"


def test_the_case_exports_order_puts_the_earliest_due_first_and_the_undated_last():
    march = datetime(2026, 3, 1, 9, tzinfo=UTC)
    april = datetime(2026, 4, 1, 9, tzinfo=UTC)
    rows = [
        (1, None, march),
        (2, date(2026, 3, 9), april),
        (3, date(2026, 3, 9), march),
        (4, date(2026, 3, 2), None),
        (5, date(2026, 3, 2), april),
        (6, None, None),
        (7, date(2026, 3, 9), march),
    ]
    assert [pk for pk, *_ in sorted(rows, key=case_export_order_key)] == [5, 4, 3, 7, 2, 1, 6]


def test_case_rows_are_written_in_the_language_they_were_asked_in(cases):
    ids = list(Case.objects.values_list("pk", flat=True))
    with translation.override("en"):
        english = list(exports.case_rows(ids))
        asked_in_english = exports.case_rows(ids)
    with translation.override("zh-hans"):
        chinese = list(exports.case_rows(ids))
        written_later = list(asked_in_english)  # as a response streams, the request gone
    assert english != chinese
    assert written_later == english
