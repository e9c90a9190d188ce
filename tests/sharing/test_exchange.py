"""The exchange: departments' systems query sources through the platform, deny by default,
every exchange recorded (after X-Road)."""

from __future__ import annotations

import pytest

from onething.accounts.auth import token_issue
from onething.catalog.models import DataSource, Department, Grant, Service, ThingMember
from onething.cli import main
from onething.core.registry import Registry
from onething.sharing.connectors import SourceUnavailable
from onething.sharing.connectors.table import TableConnector
from onething.sharing.exchange import (
    client_for_token,
    exchange_client_ensure,
    exchange_client_issue_token,
    exchange_query,
    exchange_token_revoke,
    service_grants,
)
from onething.sharing.models import DataUse, ExchangeToken
from onething.sharing.selectors import sharing_grants
from onething.sharing.services import register_load
from tests.factories import PersonFactory, StaffFactory

pytestmark = pytest.mark.django_db

LIN = "350203199406121242"  # the newborn's mother in the demo population
LUWEI = "91350206MA8RW2Q3XY"  # a restaurant company in the demo enterprise register
QUERY = "/api/v1/exchange/query"


@pytest.fixture
def registers(loaded_catalog, demo_registers):
    register_load(actor="test", registers=demo_registers)


def system_token(department: str, name: str = "default") -> str:
    client = exchange_client_ensure(actor="test", department_code=department, name=name)
    return exchange_client_issue_token(actor="test", client=client, name="test")


def ask(client, token: str, **body):
    payload = {
        "service": "birth_medical_certificate",
        "subject": LIN,
        "elements": ["mother.name"],
        "purpose": "checking the mother for the birth certificate",
        **body,
    }
    return client.post(
        QUERY,
        payload,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def granted_triples() -> set[tuple[str, str, str]]:
    """(service, source, element) that some grant of the catalog allows."""
    members: dict[str, set[str]] = {}
    for thing, service in ThingMember.objects.values_list("thing__code", "service__code"):
        members.setdefault(thing, set()).add(service)
    triples = set()
    for grant in Grant.objects.select_related("service", "thing", "source"):
        services = {grant.service.code} if grant.service else members.get(grant.thing.code, set())
        triples |= {(s, grant.source.code, e) for s in services for e in grant.elements}
    return triples


def test_every_element_no_grant_allows_is_refused_and_the_refusal_recorded(client, registers):
    served = [
        (source.code, item["element"], item.get("of", "applicant"))
        for source in DataSource.objects.all()
        for item in source.serves
    ]
    # One source per element in the demo, so a refused triple is a refused element.
    assert len({element for _s, element, _of in served}) == len(served)
    granted = granted_triples()
    services = dict(Service.objects.values_list("code", "department__code"))
    matrix = {
        (service, source, element)
        for service in services
        for source, element, _of in served
        if (service, source, element) not in granted
    }
    assert len(matrix) > len(services)  # every service is refused something
    tokens = {department: system_token(department) for department in set(services.values())}
    kind = {element: of for _s, element, of in served}
    for service in services:
        refused = {e for s, _src, e in matrix if s == service}
        for subject, elements in (
            (LUWEI, sorted(e for e in refused if kind[e] == "enterprise")),
            (LIN, sorted(e for e in refused if kind[e] != "enterprise")),
        ):
            if not elements:
                continue
            body = ask(
                client,
                tokens[services[service]],
                service=service,
                subject=subject,
                elements=elements,
                purpose="probing",
            ).json()
            assert body["values"] == {}, service
            assert sorted(d["element"] for d in body["denied"]) == elements, service
    uses = DataUse.objects.filter(use="exchange")
    assert set(uses.values_list("outcome", flat=True)) == {"denied"}  # nothing was read
    logged = {(u.service, u.source, e) for u in uses for e in u.elements}
    assert logged == matrix
    assert uses.count() == len(matrix)  # one refusal, one record


def test_a_granted_query_returns_the_register_values_and_the_person_sees_it(client, registers):
    token = system_token("fj_health", name="birth records system")
    response = ask(
        client,
        token,
        elements=["mother.name", "household.address", "child.birth_weight", "father.name"],
        purpose="issuing birth certificate 2026-0042",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["values"] == {
        "mother.name": {"value": "林晓燕", "source": "population_register", "authoritative": True},
        "household.address": {
            "value": "福建省厦门市思明区湖滨南路 388 号 3 单元 1201 室",
            "source": "population_register",
            "authoritative": True,
        },
        "child.birth_weight": {"value": 3250, "source": "hospital_births", "authoritative": True},
    }
    # The father is a related person: granted for the newborn thing, but not read this way.
    [denied] = body["denied"]
    assert denied["element"] == "father.name" and "related person" in denied["reason"]
    assert body["unavailable"] == {}

    mother = PersonFactory(id_number=LIN)
    mine = client.get(
        "/api/v1/me/data-uses",
        HTTP_AUTHORIZATION=f"Bearer {token_issue(user=mother, name='phone')}",
    ).json()["items"]
    exchanged = {(u["source"], u["outcome"]): u for u in mine if u["use"] == "exchange"}
    assert set(exchanged) == {
        ("population_register", "provided"),
        ("hospital_births", "provided"),
        ("resident_id_certificates", "denied"),
    }
    provided = exchanged["population_register", "provided"]
    assert provided["actor"] == "system:exchange:fj_health/birth records system"
    assert provided["service"] == "birth_medical_certificate"
    assert provided["elements"] == ["household.address", "mother.name"]
    # The caller's purpose and the grant's, both.
    assert provided["purpose"].startswith("issuing birth certificate 2026-0042 — ")
    assert "household registration" in provided["purpose"]
    assert exchanged["resident_id_certificates", "denied"]["elements"] == ["father.name"]
    # Whether she is the child's mother was read from her population record: recorded too.
    [relation] = [u for u in mine if u["use"] == "relation"]
    assert relation["source"] == "population_register" and relation["elements"] == ["sex"]
    assert relation["actor"] == "system:exchange:fj_health/birth records system"
    assert relation["service"] == "birth_medical_certificate"


def test_without_a_population_grant_the_exchange_does_not_read_the_persons_sex(registers):
    service = "business_licence_check"
    grants = service_grants(service, sharing_grants())
    assert grants and not any(g.source == "population_register" for g in grants)
    market = exchange_client_ensure(
        actor="test", department_code="fj_market_regulation", name="licensing"
    )
    result = exchange_query(
        client=market,
        service=service,
        subject=LIN,
        elements=["mother.name"],
        purpose="probing",
    )
    assert result.values == {}
    assert not DataUse.objects.filter(subject=LIN, use="relation").exists()
    assert set(DataUse.objects.filter(subject=LIN).values_list("outcome", flat=True)) == {"denied"}


def test_an_enterprise_is_queried_by_its_credit_code(client, registers):
    response = ask(
        client,
        system_token("fj_market_regulation"),
        service="business_licence_check",
        subject=LUWEI.lower(),
        elements=["enterprise.name", "mother.name"],
    )
    body = response.json()
    assert body["values"]["enterprise.name"]["value"] == "厦门鹭味餐饮有限公司"
    assert [d["element"] for d in body["denied"]] == ["mother.name"]


def test_an_unanswering_source_is_reported_and_recorded_unavailable(registers):
    class Failing:
        local = False

        def fetch(self, lookup, *, timeout):
            raise SourceUnavailable("HTTP 503")

    registry = Registry("test connector")
    registry.register("table")(TableConnector())
    registry.register("http-json")(Failing())
    hrss = exchange_client_ensure(actor="test", department_code="fj_hrss", name="pensions")
    result = exchange_query(
        client=hrss,
        service="pension_retirement_standard",
        subject=LIN,
        elements=["retiree.name", "retiree.contribution_years"],
        purpose="pension amount",
        endpoints={},
        registry=registry,
        budget=1,
    )
    assert {k: v.value for k, v in result.values.items()} == {"retiree.name": "林晓燕"}
    assert result.unavailable == {"social_insurance": "HTTP 503"}
    outcomes = dict(
        DataUse.objects.filter(use="exchange", subject=LIN).values_list("source", "outcome")
    )
    assert outcomes == {"population_register": "provided", "social_insurance": "unavailable"}


def test_a_wrong_or_revoked_token_is_refused(client, registers):
    assert ask(client, "ox_00000000.not-the-secret").status_code == 401
    token = system_token("fj_health")
    assert ask(client, token).status_code == 200
    assert ask(client, token[:-2] + "xx").status_code == 401
    exchange_token_revoke(actor="test", token=ExchangeToken.objects.get())
    response = ask(client, token)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_personal_token_cannot_call_the_exchange(client, registers):
    personal = token_issue(user=PersonFactory(), name="mine")
    assert ask(client, personal).status_code == 401
    assert not DataUse.objects.exists()


def test_a_system_queries_only_for_its_own_departments_services(client, registers):
    response = ask(client, system_token("fj_health"), service="birth_hukou_registration")
    assert response.status_code == 403
    assert response.json()["fields"] == {"service": "a service of another department"}
    assert not DataUse.objects.exists()


def test_a_bad_resident_id_number_is_refused_naming_the_subject(client, registers):
    response = ask(client, system_token("fj_health"), subject="350203199406121243")
    assert response.status_code == 422
    assert response.json()["fields"] == {"subject": "check digit does not match"}
    blank = ask(client, system_token("fj_health", "other"), purpose="  ", service="nope")
    assert blank.status_code == 422
    assert set(blank.json()["fields"]) == {"purpose", "service"}
    assert not DataUse.objects.exists()


def test_the_command_registers_the_system_once_and_prints_a_working_token(
    capsys, monkeypatch, tmp_path, loaded_catalog
):
    monkeypatch.setenv("ONETHING_DATA_DIR", str(tmp_path))
    assert main(["exchange", "token", "fj_health", "--name", "HIS"]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["exchange", "token", "fj_health", "--name", "HIS"]) == 0
    second = capsys.readouterr().out.strip()
    assert first.startswith("ox_") and first != second
    assert len(first.removeprefix("ox_").partition(".")[0]) == 12  # a 48-bit prefix
    assert client_for_token(first) == client_for_token(second)
    assert str(client_for_token(first)) == "fj_health/HIS"
    assert Department.objects.get(code="fj_health").exchange_clients.count() == 1
    assert main(["exchange", "token", "no_such_department"]) == 1
    assert "no department" in capsys.readouterr().err


def test_an_administrator_sees_only_the_hash_and_can_revoke_a_token(client, registers):
    token = system_token("fj_health")
    stored = ExchangeToken.objects.get()
    client.force_login(StaffFactory(is_staff=True, is_superuser=True))
    page = client.get(f"/admin/sharing/exchangetoken/{stored.pk}/change/")
    assert page.status_code == 200
    assert stored.key_hash in page.text and token.partition(".")[2] not in page.text
    assert client.get("/admin/sharing/exchangeclient/").status_code == 200
    client.post(
        "/admin/sharing/exchangetoken/",
        {"action": "revoke", "_selected_action": [stored.pk]},
    )
    stored.refresh_from_db()
    assert stored.revoked_at is not None
    client.logout()
    assert ask(client, token).status_code == 401
