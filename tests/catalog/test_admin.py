"""Catalog records are editable in Django admin, with the loader's checks on conditions."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from onething.catalog import models as m
from onething.catalog.admin import ThingMemberForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, loaded_catalog):
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-1234")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "region",
        "department",
        "certificatetype",
        "dataelement",
        "material",
        "service",
        "thing",
        "calendarday",
    ],
)
def test_every_catalog_list_and_record_opens_in_admin(admin_client, model):
    assert admin_client.get(f"/admin/catalog/{model}/").status_code == 200
    record = getattr(
        m,
        {
            "certificatetype": "CertificateType",
            "dataelement": "DataElement",
            "calendarday": "CalendarDay",
        }.get(model, model.capitalize()),
    ).objects.first()
    assert admin_client.get(f"/admin/catalog/{model}/{record.pk}/change/").status_code == 200


def member_form(member: m.ThingMember, **changes) -> ThingMemberForm:
    data = {
        "position": member.position,
        "service": member.service_id,
        "when": '{"var": "mother_insured"}',
        "after": '["birth_medical_certificate"]',
        **changes,
    }
    return ThingMemberForm(data=data, instance=member)


def test_an_edited_condition_is_checked_like_the_yaml(loaded_catalog):
    member = m.ThingMember.objects.get(thing__code="newborn", service__code="maternity_benefit")
    assert member_form(member).is_valid()
    wrong_question = member_form(member, when='{"var": "father_insured"}')
    assert not wrong_question.is_valid()
    assert "unknown question 'father_insured'" in wrong_question.errors["when"][0]
    wrong_operator = member_form(member, when='{"eval": "1"}')
    assert not wrong_operator.is_valid()
    assert "unknown operator 'eval'" in wrong_operator.errors["when"][0]
    wrong_after = member_form(member, after='["passport"]')
    assert not wrong_after.is_valid()
    assert "passport" in wrong_after.errors["after"][0]


def test_a_promise_beyond_the_statutory_limit_is_refused(admin_client, loaded_catalog):
    from django.core.exceptions import ValidationError

    service = m.Service.objects.get(code="birth_medical_certificate")
    service.promised_days = service.statutory_days + 1
    with (
        translation.override("en"),
        pytest.raises(ValidationError, match="cannot exceed the statutory limit"),
    ):
        service.full_clean()
    with (
        translation.override("zh-hans"),
        pytest.raises(ValidationError, match="承诺时限不能超过法定时限"),
    ):
        service.full_clean()


def test_an_admin_edit_making_a_cycle_is_refused(loaded_catalog):
    member = m.ThingMember.objects.get(
        thing__code="newborn", service__code="birth_medical_certificate"
    )
    form = ThingMemberForm(
        data={
            "position": member.position,
            "service": member.service_id,
            "when": "true",
            "after": '["birth_hukou_registration"]',
        },
        instance=member,
    )
    with translation.override("en"):
        assert not form.is_valid()
        assert "cycle" in form.errors["after"][0]


def test_admin_offers_only_the_values_the_schema_allows(loaded_catalog):
    from django.core.exceptions import ValidationError

    service = m.Service.objects.get(code="birth_medical_certificate")
    service.handler = "robot"
    with pytest.raises(ValidationError) as caught:
        service.full_clean()
    assert "handler" in caught.value.message_dict
