"""The consent page before the form, and the prefilled form (sources shown, authoritative
values read-only)."""

from __future__ import annotations

import pytest

from onething.applications.models import Application
from onething.sharing.models import Consent, DataUse
from onething.sharing.services import register_load
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LIN = "350203199406121242"


@pytest.fixture
def mother(client, loaded_catalog, demo_registers):
    register_load(actor="test", registers=demo_registers)
    user = PersonFactory(id_number=LIN, real_name="林晓燕")
    client.force_login(user)
    return user


def start(client) -> Application:
    response = client.post("/apply/newborn/", {"mother_insured": "yes"}, **EN)
    reference = response.url.split("/")[2]
    assert response.url == f"/applications/{reference}/data/"
    return Application.objects.get(reference=reference)


def test_the_applicant_sees_what_is_read_and_consents_before_anything_is_read(client, mother):
    application = start(client)
    page = client.get(f"/applications/{application.reference}/data/", **EN).content.decode()
    assert "Population register" in page and "Hospital birth records" in page
    assert "Sensitive data" in page  # the baby's sex and birth weight are ticked apart
    # Before consent no source is read; only her own population record, to tell her which data
    # are hers and which her spouse's (the child's mother is she) — and that read is recorded.
    source_reads = DataUse.objects.exclude(use="relation")
    assert not source_reads.exists(), "nothing is read before consent"
    assert set(DataUse.objects.values_list("subject", "use", "outcome")) == {
        (LIN, "relation", "provided")
    }

    refused = client.post(f"/applications/{application.reference}/data/", {"then": "prefill"}, **EN)
    assert refused.status_code == 422
    assert "Tick the box" in refused.content.decode()
    assert not source_reads.exists()

    response = client.post(
        f"/applications/{application.reference}/data/",
        {"then": "prefill", "consent": "yes"},
        **EN,
    )
    assert response.status_code == 302 and response.url.endswith("/step/1/")
    application.refresh_from_db()
    assert application.form_data["mother.name"] == "林晓燕"
    assert application.form_data["household.register_number"] == "350203-0012876"
    # The child's data are sensitive: not ticked, not read.
    assert "child.birth_date" not in application.form_data
    assert "child.birth_weight" not in application.form_data
    assert application.prefilled["mother.name"] == {
        "source": "population_register",
        "authoritative": True,
    }
    consent = Consent.objects.get(application_reference=application.reference)
    assert consent.given_by == mother and not consent.sensitive_consented
    assert {u.source for u in DataUse.objects.filter(subject=LIN)} >= {"population_register"}
    assert not DataUse.objects.filter(source="hospital_births").exists()


def test_a_value_from_an_authoritative_source_is_read_only(client, mother):
    application = start(client)
    client.post(
        f"/applications/{application.reference}/data/",
        {"then": "prefill", "consent": "yes", "sensitive": "yes"},
    )
    application.refresh_from_db()
    assert application.form_data["child.birth_weight"] == 3250
    assert application.form_data["child.birth_date"] == "2026-11-16"
    steps_with_mother = [
        n
        for n in range(1, 6)
        if 'data-field="mother.name"'
        in client.get(f"/applications/{application.reference}/step/{n}/", **EN).content.decode()
    ]
    [number] = steps_with_mother
    url = f"/applications/{application.reference}/step/{number}/"
    page = client.get(url, **EN).content.decode()
    assert 'data-testid="source-mother.name"' in page
    assert "readonly" in page.split('name="mother.name"')[1].split(">")[0]
    client.post(url, {"mother.name": "别人"})
    application.refresh_from_db()
    assert application.form_data["mother.name"] == "林晓燕"


def test_the_check_page_counts_what_the_records_saved_this_applicant(client, mother):
    from onething.applications import services

    application = start(client)
    before = services.application_reductions(application)
    client.post(
        f"/applications/{application.reference}/data/",
        {"then": "prefill", "consent": "yes", "sensitive": "yes"},
    )
    application.refresh_from_db()
    after = services.application_reductions(application)
    assert after["fields"]["together"] < before["fields"]["together"]
    assert after["fields"]["together"] == len(
        [s for s in services.asked_fields(services.application_plan(application))]
    ) - len(application.prefilled)
    # Before the records were read she would bring eight papers; the population register and
    # the hospital's birth record exempt three of them (her ID card, the household book, the
    # delivery record), so she brings five.
    assert before["materials"]["together"] == 8
    assert set(application.exemptions) == {"mother_id_card", "hukou_book", "delivery_record"}
    to_provide = services.applicant_materials(
        services.application_plan(application), application.exemptions
    )
    assert after["materials"]["together"] == len(to_provide) == 5
    assert after["materials"]["saved"] == before["materials"]["saved"] + 3
    page = client.get(f"/applications/{application.reference}/check/", **EN).content.decode()
    assert 'data-testid="your-reductions"' in page

    # The materials page shows each exempt paper as provided by the record that holds it.
    materials = client.get(
        f"/applications/{application.reference}/materials/", **EN
    ).content.decode()
    assert 'data-testid="record-hukou_book">Population register<' in materials
    assert 'data-testid="record-delivery_record">Hospital birth records<' in materials
    assert 'data-testid="record-bank_card"' not in materials


def test_the_one_time_notification_shows_this_applicants_exemptions(client, mother):
    application = start(client)
    client.post(
        f"/applications/{application.reference}/data/",
        {"then": "prefill", "consent": "yes", "sensitive": "yes"},
    )
    application.refresh_from_db()
    assert "hukou_book" in application.exemptions  # the household is in the register
    page = client.get(f"/applications/{application.reference}/notice/", **EN).content.decode()
    assert application.reference in page
    assert 'data-testid="record-hukou_book"' in page
    assert "Population register" in page
    other = PersonFactory()
    client.force_login(other)
    assert client.get(f"/applications/{application.reference}/notice/").status_code == 404


WANG = "350121196611202467"  # retiring this year; her contribution years are held by fj_hrss


def test_a_source_that_does_not_answer_leaves_its_fields_to_fill_in_and_says_so(
    client, loaded_catalog, demo_registers
):
    from onething.applications.models import DepartmentEndpoint
    from onething.catalog.models import Department

    register_load(actor="test", registers=demo_registers)
    retiree = PersonFactory(id_number=WANG, real_name="王秀英")
    client.force_login(retiree)
    # The social insurance system is down: nothing listens on the discard port.
    DepartmentEndpoint.objects.create(
        department=Department.objects.get(code="fj_hrss"), base_url="http://127.0.0.1:9", secret=""
    )
    started = client.post(
        "/apply/retirement/",
        {"retirement_type": "normal", "file_review_needed": "no", "has_housing_fund": "no"},
        **EN,
    )
    reference = started.url.split("/")[2]
    prefilled = client.post(
        f"/applications/{reference}/data/", {"then": "prefill", "consent": "yes"}, **EN
    )
    assert prefilled.status_code == 302 and prefilled.url.endswith("/step/1/")
    application = Application.objects.get(reference=reference)
    assert application.form_data["retiree.name"] == "王秀英"  # the population register answered
    assert "retiree.contribution_years" not in application.form_data

    pages = {
        n: response
        for n in range(1, 8)
        if (response := client.get(f"/applications/{reference}/step/{n}/", **EN)).status_code == 200
    }
    [(number, response)] = [
        (n, r) for n, r in pages.items() if 'name="retiree.contribution_years"' in r.text
    ]
    page = response.text
    assert 'data-testid="unanswered-retiree.contribution_years"' in page
    assert "did not answer in time: please fill this in." in page
    field = page.split('name="retiree.contribution_years"')[1].split(">")[0]
    assert "readonly" not in field and "disabled" not in field
    # What the population register answered carries no such note.
    assert 'data-testid="unanswered-retiree.name"' not in "".join(r.text for r in pages.values())

    # She types the years herself; the note goes once the field is filled.
    client.post(f"/applications/{reference}/step/{number}/", {"retiree.contribution_years": "31"})
    application.refresh_from_db()
    assert str(application.form_data["retiree.contribution_years"]) == "31"
    again = client.get(f"/applications/{reference}/step/{number}/", **EN).text
    assert 'data-testid="unanswered-retiree.contribution_years"' not in again
