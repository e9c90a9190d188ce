"""The supplement pages: a reviewer asks, the applicant answers once on the timeline page."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from onething.applications import services
from onething.applications.lifecycle import ApplicationStatus, CaseStatus
from onething.applications.models import SupplementRequest
from tests.applications.conftest import PNG, fill_and_attach
from tests.factories import reviewer

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def submitted(loaded_catalog, applicant):
    application = services.application_start(
        actor=applicant, thing_code="newborn", answers={"mother_insured": "yes"}
    )
    fill_and_attach(application, applicant)
    return services.application_submit(actor=applicant, application=application, consent=True)


def accepted_case(application, code, department):
    staff = reviewer(department)
    case = application.cases.get(service__code=code)
    return staff, services.case_accept(actor=staff, case=case)


def test_two_departments_ask_and_the_applicant_answers_once(client, submitted, applicant):
    health, birth = accepted_case(submitted, "birth_medical_certificate", "fj_health")
    cdc, vaccination = accepted_case(submitted, "vaccination_certificate", "fj_cdc")

    client.force_login(health)
    page = client.get(f"/workbench/cases/{birth.pk}/", **EN).content.decode()
    assert 'data-testid="ask-supplement"' in page
    # Ticked without a reason: the page says which item needs one and keeps the tick.
    response = client.post(
        f"/workbench/cases/{birth.pk}/supplement/",
        {"item": "field:child.birth_weight", "reason:field:child.birth_weight": ""},
        **EN,
    )
    assert response.status_code == 422
    assert "Say what is missing or wrong" in response.content.decode()
    response = client.post(
        f"/workbench/cases/{birth.pk}/supplement/",
        {"item": "field:child.birth_weight", "reason:field:child.birth_weight": "与记录不符"},
    )
    assert response.status_code == 302
    client.force_login(cdc)
    client.post(
        f"/workbench/cases/{vaccination.pk}/supplement/",
        {"item": "material:delivery_record", "reason:material:delivery_record": "缺第二页"},
    )
    notice = SupplementRequest.objects.get(application=submitted)
    assert notice.status == SupplementRequest.Status.SENT

    client.force_login(applicant)
    url = f"/applications/{submitted.reference}/"
    page = client.get(url, **EN).content.decode()
    assert "One-time supplement notice" in page
    assert "与记录不符" in page and "缺第二页" in page
    answer_url = f"/applications/{submitted.reference}/supplements/{notice.number}/"
    wrong = client.post(answer_url, {"child.birth_weight": "-5"}, **EN)
    assert wrong.status_code == 422
    body = wrong.content.decode()
    assert 'value="-5"' in body, "what the applicant typed is shown again"
    assert "Hospital delivery record must be uploaded." in body, "the material in English"
    answered = client.post(
        answer_url,
        {
            "child.birth_weight": "3250",
            "material-delivery_record": SimpleUploadedFile("record.png", PNG, "image/png"),
        },
    )
    assert answered.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == ApplicationStatus.IN_PROGRESS
    assert set(submitted.cases.filter(stage=1).values_list("status", flat=True)) == {
        CaseStatus.ACCEPTED
    }
    assert client.post(answer_url, {}).status_code == 404  # answered: nothing left to answer


def test_another_applicant_cannot_see_or_answer_a_notice(client, submitted):
    from tests.factories import PersonFactory

    health, birth = accepted_case(submitted, "birth_medical_certificate", "fj_health")
    services.case_ask_supplement(
        actor=health,
        case=birth,
        items=[{"kind": "field", "target": "child.birth_weight", "reason": "x"}],
    )
    client.force_login(PersonFactory())
    url = f"/applications/{submitted.reference}/supplements/1/"
    assert client.post(url, {"child.birth_weight": "3000"}).status_code == 404


def test_the_applicant_answers_a_notice_once_through_the_api(client, submitted, applicant):
    import json

    from onething.accounts.auth import token_issue

    health, birth = accepted_case(submitted, "birth_medical_certificate", "fj_health")
    cdc, vaccination = accepted_case(submitted, "vaccination_certificate", "fj_cdc")
    services.case_ask_supplement(
        actor=health,
        case=birth,
        items=[{"kind": "field", "target": "child.birth_weight", "reason": "与记录不符"}],
    )
    services.case_ask_supplement(
        actor=cdc,
        case=vaccination,
        items=[{"kind": "material", "target": "delivery_record", "reason": "缺第二页"}],
    )
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=applicant, name='app')}"}
    listed = client.get(f"/api/v1/applications/{submitted.reference}/supplements", **headers)
    [notice] = listed.json()["items"]
    assert notice["status"] == "sent" and len(notice["items"]) == 2
    url = f"/api/v1/applications/{submitted.reference}/supplements/{notice['number']}/answer"
    incomplete = client.post(url, {"values": json.dumps({"child.birth_weight": "3250"})}, **headers)
    assert incomplete.status_code == 422
    assert "materials.delivery_record" in incomplete.json()["fields"]
    answered = client.post(
        url,
        {
            "values": json.dumps({"child.birth_weight": "3250"}),
            "material-delivery_record": SimpleUploadedFile("record.png", PNG, "image/png"),
        },
        **headers,
    )
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == "answered"
    statuses = set(submitted.cases.filter(stage=1).values_list("status", flat=True))
    assert statuses == {CaseStatus.ACCEPTED}
