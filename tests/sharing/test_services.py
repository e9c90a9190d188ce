"""Loading registers into the database: record by record, idempotent, recorded, indexed."""

from __future__ import annotations

import dataclasses

import pytest
from django.contrib.auth import get_user_model

from onething.audit.models import AuditRecord
from onething.core.errors import InvalidInput
from onething.sharing.models import DataUse, Register, RegisterRecord
from onething.sharing.selectors import register_record, register_records_about, register_sizes
from onething.sharing.services import register_load, subject_stream

pytestmark = pytest.mark.django_db

LIN = "350203199406121242"
CHEN = "35020319920203135X"


def test_loading_stores_every_record_and_indexes_who_it_is_about(loaded_catalog, demo_registers):
    report = register_load(actor="test", registers=demo_registers)
    assert report.created == demo_registers.counts()
    assert register_sizes() == demo_registers.counts()
    about_lin = {(r.register.code, r.key) for r in register_records_about(LIN)}
    assert about_lin == {
        ("population", LIN),
        ("marriages", "J350203-2021-004512"),
        ("births", "CS350203-2026-018342"),
        ("housing_fund", LIN),
    }
    # A marriage is about both spouses.
    assert [r.key for r in register_records_about(CHEN, register="marriages")] == [
        "J350203-2021-004512"
    ]
    assert register_record("population", LIN)["name"] == "林晓燕"
    assert register_record("population", "350203199406121243") is None


def test_loading_the_same_files_again_changes_nothing(loaded_catalog, demo_registers):
    register_load(actor="test", registers=demo_registers)
    ids = set(RegisterRecord.objects.values_list("pk", flat=True))
    audits = AuditRecord.objects.count()
    report = register_load(actor="test", registers=demo_registers)
    assert set(report.created.values()) == set(report.updated.values()) == {0}
    assert set(RegisterRecord.objects.values_list("pk", flat=True)) == ids
    assert AuditRecord.objects.count() == audits


def test_a_changed_record_is_updated_and_a_missing_one_removed(loaded_catalog, demo_registers):
    register_load(actor="test", registers=demo_registers)
    population = [
        {**row, "address": "新地址"} if row["id_number"] == LIN else row
        for row in demo_registers.records["population"]
    ]
    marriages = demo_registers.records["marriages"][1:]
    changed = dataclasses.replace(
        demo_registers,
        records={**demo_registers.records, "population": population, "marriages": marriages},
    )
    report = register_load(actor="test", registers=changed)
    assert report.updated["population"] == 1
    assert report.removed["marriages"] == 1
    assert register_record("population", LIN)["address"] == "新地址"
    assert register_records_about(CHEN, register="marriages") == []
    record = AuditRecord.objects.filter(action="register.load", subject="marriages").last()
    assert record.data == {"created": 0, "updated": 0, "removed": 1}


def test_a_register_of_an_unknown_department_loads_nothing(loaded_catalog, demo_registers):
    wrong = demo_registers.registers["deaths"].model_copy(update={"department": "nobody"})
    registers = dataclasses.replace(
        demo_registers, registers={**demo_registers.registers, "deaths": wrong}
    )
    with pytest.raises(InvalidInput) as error:
        register_load(actor="test", registers=registers)
    assert error.value.fields == {"deaths.department": "unknown department 'nobody'"}
    assert not Register.objects.exists()


def test_admin_lists_records_without_contents_and_records_opening_one(
    client, loaded_catalog, demo_registers
):
    register_load(actor="test", registers=demo_registers)
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-1234")
    client.force_login(admin)
    assert client.get("/admin/sharing/register/").status_code == 200
    page = client.get("/admin/sharing/registerrecord/").content.decode()
    # The list names registers and masked keys only: no names, no addresses, nothing read.
    assert "林晓燕" not in page and "湖滨南路" not in page
    assert LIN not in page and "3502************42" in page
    assert not DataUse.objects.exists()

    births = RegisterRecord.objects.get(key="CS350203-2026-018342")
    detail = client.get(f"/admin/sharing/registerrecord/{births.pk}/change/").content.decode()
    assert "3250" not in detail, "a child's birth weight is health data"
    # Opening the record is a use of the data of each person it names, recorded for them.
    named = set(births.subjects.values_list("subject", flat=True))
    assert named and LIN in named
    uses = DataUse.objects.filter(use="admin_view")
    assert set(uses.values_list("subject", flat=True)) == named
    assert {(u.actor, u.source, u.outcome) for u in uses} == {
        (f"user:{admin.pk}", "hospital_births", "provided")
    }
    assert AuditRecord.objects.filter(
        stream__name=subject_stream(LIN), action="data.admin_view"
    ).exists()
    assert client.get("/admin/sharing/registerrecord/add/").status_code == 403
