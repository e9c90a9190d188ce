"""Reference numbers: a clash with a reference already taken is drawn again, inside the caller's
transaction, for applications and hotline tickets alike."""

from __future__ import annotations

import re

import pytest
from django.db import IntegrityError, transaction

from onething.applications import services as applications
from onething.applications.models import Application
from onething.complaints.models import Ticket
from onething.core import references
from tests.applications.conftest import applicant as applicant  # the fixture, re-exported
from tests.complaints.conftest import hotline as hotline  # the fixture, re-exported
from tests.complaints.test_services import call

pytestmark = pytest.mark.django_db

NEWBORN = {
    "mother_insured": "yes",
    "vaccination_certificate_issued": "no",
    "apply_social_security_card": "no",
}


def _draws(monkeypatch, *suffixes: str) -> list[str]:
    """Make the random part come out as `suffixes`, in order; the references drawn."""
    drawn: list[str] = []
    upcoming = iter(suffixes)
    real = references.new_reference

    def drawing(prefix: str, *, separator: str = "") -> str:
        reference = real(prefix, separator=separator)[:-6] + next(upcoming)
        drawn.append(reference)
        return reference

    monkeypatch.setattr(references, "new_reference", drawing)
    return drawn


def test_an_application_whose_reference_is_taken_gets_the_next_one_drawn(
    loaded_catalog, applicant, monkeypatch
):
    first = applications.application_start(actor=applicant, thing_code="newborn", answers=NEWBORN)
    drawn = _draws(monkeypatch, first.reference[-6:], first.reference[-6:], "ZZZZZZ")

    with transaction.atomic():
        second = applications.application_start(
            actor=applicant, thing_code="newborn", answers=NEWBORN
        )
        # The clashes did not spoil the transaction: its later statements still run.
        assert Application.objects.filter(applicant=applicant).count() == 2

    assert drawn == [first.reference, first.reference, second.reference]
    assert second.reference.endswith("-ZZZZZZ")
    assert re.fullmatch(r"OT\d{8}-[A-Z2-9]{6}", second.reference)
    assert Application.objects.get(pk=second.pk).reference == second.reference


def test_a_ticket_whose_reference_is_taken_gets_the_next_one_drawn(hotline, monkeypatch):
    first = call(hotline)
    _draws(monkeypatch, first.reference[-6:], "YYYYYY")
    second = call(hotline)

    assert second.reference.startswith("12345-") and second.reference.endswith("-YYYYYY")
    assert Ticket.objects.count() == 2


def test_references_taken_draw_after_draw_are_an_error_not_a_loop(
    loaded_catalog, applicant, monkeypatch
):
    first = applications.application_start(actor=applicant, thing_code="newborn", answers=NEWBORN)
    _draws(monkeypatch, *[first.reference[-6:]] * references.DRAWS)

    with pytest.raises(IntegrityError, match="all taken"):
        applications.application_start(actor=applicant, thing_code="newborn", answers=NEWBORN)


def test_another_constraint_broken_is_not_retried(loaded_catalog, applicant):
    taken = applications.application_start(actor=applicant, thing_code="newborn", answers=NEWBORN)
    # The same public id (also unique) with a fresh reference: not a reference clash.
    clone = Application(
        public_id=taken.public_id,
        thing=taken.thing,
        applicant=applicant,
        region_id=taken.region_id,
        channel=taken.channel,
        status=taken.status,
    )
    with pytest.raises(IntegrityError):
        references.save_with_new_reference(clone, "OT")
