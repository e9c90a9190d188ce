""" "Who used my data": the person reads who read what, by name — a department and role, a
source, the data elements' labels — never `user:42` or element keys; a long record is paged."""

from __future__ import annotations

import pytest
from django.utils import timezone

from onething.sharing.models import DataUse
from onething.sharing.services import record_data_use
from tests.factories import PersonFactory, reviewer

pytestmark = pytest.mark.django_db
CHEN = "35020319920203135X"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def father(loaded_catalog):
    return PersonFactory(id_number=CHEN, real_name="陈建国")


def a_reviewer_reveals_his_number(father):
    health = reviewer("fj_health")
    record_data_use(
        actor=health,
        subject=father.id_number,
        source="population_register",
        department="fj_public_security",
        elements=["father.id_number", "father.name"],
        purpose="核对出生医学证明",
        use="reveal",
        outcome=DataUse.Outcome.PROVIDED,
        service="birth_medical_certificate",
        application_reference="OT20261127-REVEAL",
    )
    return health


def test_the_reader_source_and_data_are_named_not_coded(client, father):
    health = a_reviewer_reveals_his_number(father)
    client.force_login(father)
    page = client.get("/my-data/", **ZH).content.decode()
    assert "福建省卫生健康委员会 部门审核人员" in page
    assert f"user:{health.pk}" not in page
    assert "户籍人口信息" in page and "福建省公安厅" in page
    assert "父亲姓名" in page and ">father.id_number<" not in page

    english = client.get("/my-data/", **EN).content.decode()
    assert "Fujian Provincial Health Commission department reviewer" in english
    assert "Population register" in english

    [item] = client.get("/api/v1/me/data-uses", **EN).json()["items"]
    assert item["actor_name"] == "Fujian Provincial Health Commission department reviewer"
    assert item["source_name"] == "Population register"
    assert item["elements"] == ["father.id_number", "father.name"]
    assert len(item["element_labels"]) == 2 and "Father's name" in item["element_labels"]
    assert "father.name" not in item["element_labels"]


def test_a_department_system_and_the_person_themself_are_named(client, father):
    from onething.core.actors import SystemActor

    for actor in (SystemActor("exchange:fj_health/出生医学证明系统"), father):
        record_data_use(
            actor=actor,
            subject=CHEN,
            source="population_register",
            department="fj_public_security",
            elements=["father.name"],
            purpose="数据交换",
            use="exchange",
            outcome=DataUse.Outcome.PROVIDED,
        )
    client.force_login(father)
    who = [item["actor_name"] for item in client.get("/api/v1/me/data-uses", **EN).json()["items"]]
    assert who == ["you", "the system of Fujian Provincial Health Commission (data exchange)"]


def test_a_long_record_says_it_is_paged_and_pages(client, father):
    now = timezone.now()
    DataUse.objects.bulk_create(
        DataUse(
            at=now - timezone.timedelta(minutes=n),
            actor="system:worker",
            subject=CHEN,
            source="population_register",
            department="fj_public_security",
            elements=["father.name"],
            purpose=f"use {n}",
            use="prefill",
            outcome="provided",
        )
        for n in range(201)
    )
    client.force_login(father)
    first = client.get("/my-data/", **EN).content.decode()
    assert first.count("<tr data-source=") == 200
    assert "Showing uses 1–200 of 201" in first and 'href="?page=2"' in first
    second = client.get("/my-data/?page=2", **EN).content.decode()
    assert second.count("<tr data-source=") == 1 and ">use 200<" in second
    assert 'href="?page=1"' in second
    assert client.get("/my-data/?page=abc").status_code == 200

    body = client.get("/api/v1/me/data-uses?page=2").json()
    assert (body["page"], body["pages"], body["total"]) == (2, 2, 201)
    assert [item["purpose"] for item in body["items"]] == ["use 200"]
