"""The demo catalog's one things plan as their local service guides say (table-driven)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from onething.catalog.planning import Source, plan

CASES = [
    # (thing, answers, members in order, stages, promised working days)
    (
        "newborn",
        {"mother_insured": True},
        [
            "birth_medical_certificate",
            "vaccination_certificate",
            "birth_hukou_registration",
            "maternity_benefit",
            "newborn_medical_insurance",
            "newborn_social_security_card",
        ],
        [
            ["birth_medical_certificate", "vaccination_certificate"],
            ["birth_hukou_registration", "maternity_benefit"],
            ["newborn_medical_insurance", "newborn_social_security_card"],
        ],
        5,
    ),
    (
        "newborn",
        {
            "mother_insured": False,
            "vaccination_certificate_issued": True,
            "apply_social_security_card": False,
        },
        ["birth_medical_certificate", "birth_hukou_registration", "newborn_medical_insurance"],
        [
            ["birth_medical_certificate"],
            ["birth_hukou_registration"],
            ["newborn_medical_insurance"],
        ],
        2,
    ),
    (
        "open_restaurant",
        {"floor_area": 30, "has_signboard": False},
        ["business_licence_check", "food_business_licence"],
        [["business_licence_check"], ["food_business_licence"]],
        3,
    ),
    (
        # 50 m² is not above the fire-inspection threshold; 50.5 is.
        "open_restaurant",
        {"floor_area": 50, "has_signboard": False},
        ["business_licence_check", "food_business_licence"],
        [["business_licence_check"], ["food_business_licence"]],
        3,
    ),
    (
        "open_restaurant",
        {"floor_area": "50.5", "has_signboard": False},
        ["business_licence_check", "food_business_licence", "fire_safety_inspection"],
        [["business_licence_check"], ["food_business_licence", "fire_safety_inspection"]],
        3,
    ),
    (
        "open_restaurant",
        {"floor_area": 600, "has_signboard": True, "sells_tobacco": True},
        [
            "business_licence_check",
            "food_business_licence",
            "outdoor_signboard_permit",
            "fire_safety_inspection",
            "tobacco_retail_licence",
            "public_place_hygiene_licence",
        ],
        [
            ["business_licence_check"],
            [
                "food_business_licence",
                "outdoor_signboard_permit",
                "fire_safety_inspection",
                "tobacco_retail_licence",
                "public_place_hygiene_licence",
            ],
        ],
        5,
    ),
    (
        "retirement",
        {},
        [
            "pension_retirement_standard",
            "retiree_medical_insurance",
            "housing_fund_retirement_withdrawal",
        ],
        [
            ["pension_retirement_standard"],
            ["retiree_medical_insurance", "housing_fund_retirement_withdrawal"],
        ],
        4,
    ),
    (
        "retirement",
        {"retirement_type": "normal", "file_review_needed": True, "has_housing_fund": False},
        ["pension_retirement_file_review", "retiree_medical_insurance"],
        [["pension_retirement_file_review"], ["retiree_medical_insurance"]],
        12,
    ),
    (
        "retirement",
        {"retirement_type": "disability"},
        [
            "work_capacity_appraisal",
            "pension_retirement_file_review",
            "retiree_medical_insurance",
            "housing_fund_retirement_withdrawal",
        ],
        [
            ["work_capacity_appraisal"],
            ["pension_retirement_file_review"],
            ["retiree_medical_insurance", "housing_fund_retirement_withdrawal"],
        ],
        42,
    ),
    (
        "after_death",
        {"death_cause": "natural"},
        [
            "medical_death_certificate",
            "cremation",
            "hukou_cancellation",
            "pension_survivor_benefits",
        ],
        [
            ["medical_death_certificate"],
            ["cremation", "hukou_cancellation"],
            ["pension_survivor_benefits"],
        ],
        7,
    ),
    (
        "after_death",
        {
            "death_cause": "unnatural",
            "held_driving_licence": True,
            "has_housing_fund_balance": True,
            "had_employee_medical_insurance": True,
        },
        [
            "police_death_certificate",
            "cremation",
            "hukou_cancellation",
            "pension_survivor_benefits",
            "medical_account_payout",
            "driving_licence_cancellation",
            "deceased_housing_fund_withdrawal",
        ],
        [
            ["police_death_certificate"],
            ["cremation", "hukou_cancellation"],
            [
                "pension_survivor_benefits",
                "medical_account_payout",
                "driving_licence_cancellation",
                "deceased_housing_fund_withdrawal",
            ],
        ],
        11,
    ),
    (
        "home_transfer",
        {},
        [
            "home_transfer_tax",
            "real_estate_transfer_registration",
            "water_transfer",
            "electricity_transfer",
            "gas_transfer",
        ],
        [
            ["home_transfer_tax"],
            ["real_estate_transfer_registration"],
            ["water_transfer", "electricity_transfer", "gas_transfer"],
        ],
        4,
    ),
    (
        "home_transfer",
        {
            "has_existing_mortgage": True,
            "buyer_takes_mortgage": True,
            "transfer_water": False,
            "transfer_electricity": False,
            "transfer_gas": False,
            "transfer_broadband": True,
        },
        [
            "home_transfer_tax",
            "mortgage_cancellation",
            "real_estate_transfer_registration",
            "mortgage_registration",
            "broadband_transfer",
        ],
        [
            ["home_transfer_tax", "mortgage_cancellation"],
            ["real_estate_transfer_registration"],
            ["mortgage_registration", "broadband_transfer"],
        ],
        4,
    ),
    (
        "enterprise_change",
        {"change_scope": True},
        ["business_licence_change", "tax_registration_change"],
        [["business_licence_change"], ["tax_registration_change"]],
        1,
    ),
    (
        "enterprise_change",
        {
            "change_name": True,
            "has_food_licence": True,
            "has_tobacco_licence": True,
            "customs_registered": True,
        },
        [
            "business_licence_change",
            "tax_registration_change",
            "social_insurance_unit_change",
            "medical_insurance_unit_change",
            "housing_fund_unit_change",
            "seal_engraving_filing",
            "bank_account_info_change",
            "food_licence_change",
            "tobacco_licence_change",
            "customs_registration_change",
        ],
        [
            ["business_licence_change"],
            [
                "tax_registration_change",
                "social_insurance_unit_change",
                "medical_insurance_unit_change",
                "housing_fund_unit_change",
                "seal_engraving_filing",
                "bank_account_info_change",
                "food_licence_change",
                "tobacco_licence_change",
                "customs_registration_change",
            ],
        ],
        4,
    ),
]


@pytest.mark.parametrize(("thing", "answers", "members", "stages", "days"), CASES)
def test_demo_thing_plans(demo_catalog, thing, answers, members, stages, days):
    result = plan(demo_catalog.bundle(thing), answers)
    assert [m.code for m in result.members] == members
    assert [list(stage) for stage in result.stages] == stages
    assert result.promised_days == days
    assert result.reductions.days.together == days
    assert (result.trips.online, result.trips.window) == (0, 1)
    # Applying as one thing never asks for more than applying service by service.
    for figure in ("materials", "fields", "days", "trips"):
        assert getattr(result.reductions, figure).saved >= 0


def test_the_newborn_hukou_step_takes_the_birth_certificate_from_the_first_step(demo_catalog):
    result = plan(demo_catalog.bundle("newborn"), {"mother_insured": True})
    from_results = {f.element.key: f.produced_by for f in result.form if f.source == Source.RESULT}
    assert "birth_medical_certificate" in from_results.values()
    birth_paper = [m for m in result.materials if m.produced_by == "birth_medical_certificate"]
    assert birth_paper, "the birth medical certificate is not asked of the applicant"
    assert result.reductions.fields.together < result.reductions.fields.separately
    assert result.reductions.materials.together < result.reductions.materials.separately


def test_only_the_home_transfer_costs_money(demo_catalog):
    assert plan(demo_catalog.bundle("home_transfer"), {}).fee_total == Decimal("80")
    assert plan(demo_catalog.bundle("newborn"), {"mother_insured": True}).fee_total == 0


def test_the_cremation_waits_for_whichever_death_certificate_applies(demo_catalog):
    natural = plan(demo_catalog.bundle("after_death"), {"death_cause": "natural"})
    assert natural.member("cremation").after == ("medical_death_certificate",)
    assert natural.member("cremation").dropped_after == ("police_death_certificate",)
