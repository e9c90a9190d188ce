"""The demo's ratings: a bad one with its rectification open, a good one on a closed complaint."""

from __future__ import annotations

import pytest

from onething.demo import demo_prepare
from onething.ratings.models import Rating, Rectification


@pytest.mark.django_db
def test_the_demo_has_a_bad_rating_with_an_open_rectification_and_a_good_one(loaded_catalog):
    demo_prepare()
    bad = Rating.objects.get(application__isnull=False)
    assert bad.rater.username == "wangxiuying" and bad.stars == 2
    assert bad.application.status == "rejected"
    (rectification,) = Rectification.objects.all()
    assert (rectification.department.code, rectification.status) == ("fj_hrss", "open")
    good = Rating.objects.get(ticket__isnull=False)
    assert good.stars == 5 and good.rater == good.ticket.citizen
    assert good.rater.username == "linxiaoyan" and good.ticket.status == "closed"
    demo_prepare()
    assert Rating.objects.count() == 2, "seeded once"
