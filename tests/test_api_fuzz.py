"""Schemathesis over our own OpenAPI: no generated request gets a 5xx or breaks the schema.

Driven from a plain test (schemathesis' pytest plugin does not support pytest 9 yet): each API
operation gets its own hypothesis run through the in-process WSGI application.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from onething.wsgi import application

pytestmark = pytest.mark.django_db


def operations():
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_api_operation_is_covered():
    labels = {op.label for op in operations()}
    assert "POST /api/v1/things/{code}/plan" in labels


@pytest.mark.parametrize("label", sorted(op.label for op in operations()))
def test_the_api_answers_generated_requests_within_its_schema(loaded_catalog, label):
    operation = next(op for op in operations() if op.label == label)

    @given(case=operation.as_strategy())
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def check(case):
        case.call_and_validate()

    check()
