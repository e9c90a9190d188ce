from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from onething.applications import services
from onething.catalog.schema import ElementType, Validator
from tests.factories import PersonFactory, make_ric, make_uscc

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def valid_value(element, applicant=None):
    """A value that passes the element's checks, as an applicant would type it."""
    if element.validator == Validator.CN_RIC:
        return applicant.id_number if applicant and "mother" in element.key else make_ric()
    if element.validator == Validator.CN_USCC:
        return make_uscc()
    if element.validator == Validator.PHONE:
        return "13912345678"
    if element.validator == Validator.BANK_CARD:
        return "6222020000000000018"
    if element.validator == Validator.POSTCODE:
        return "361000"
    if element.validator == Validator.EMAIL:
        return "lin@example.cn"
    if element.type == ElementType.DATE:
        return timezone.localdate().replace(day=1).isoformat()
    if element.type in (ElementType.INTEGER, ElementType.DECIMAL):
        return str(element.min if element.min is not None else 3200)
    if element.type == ElementType.BOOLEAN:
        return True
    if element.type == ElementType.CHOICE:
        return element.options[0].value
    return "测试"


def fill_and_attach(application, applicant, overrides=None):
    """Fill every asked field and upload every material the applicant must provide."""
    plan = services.application_plan(application)
    values = {f.element.key: valid_value(f.element, applicant) for f in plan.form if f.asked}
    # The enterprise the applicant acts for is filled in already; typing another is refused.
    values.update({k: v for k, v in application.form_data.items() if k.startswith("enterprise.")})
    values.update(overrides or {})
    problems = services.application_save_form(
        actor=applicant, application=application, values=values
    )
    assert problems == {}, problems
    application.refresh_from_db()
    for item in services.applicant_materials(plan, application.exemptions):
        services.application_attach_material(
            actor=applicant,
            application=application,
            material_code=item.material.code,
            name=f"{item.material.code}.png",
            content=PNG,
        )
    return values


@pytest.fixture
def applicant(db):
    return PersonFactory(id_number=make_ric(birth=date(1992, 5, 17)))
