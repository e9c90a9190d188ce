"""The four reductions measured on applications made through the real services, some helped by
data sharing and e-certificates, one taken at the window — counted here by hand.

Every application is of the newborn thing with the small answers (three cases, one after the
other: the birth certificate, then the hukou, then the newborn's medical insurance). Handled
each on its own, the three services ask 11 materials and 31 form fields and cost 2 trips (the
catalog's count, the same for every application; they promise 1 + 1 + 0 = 2 working days, which
no figure here uses). Working days alone are measured: each case's own days from the day it
became ready to its decision, added up (the day a period starts is not counted). As one thing
the form asks 14 fields; the materials a department can read elsewhere are asked only when it
cannot:

  S1  web     林晓燕, who let the application read the registers, sensitive data included,
              and whose resident ID card e-certificate is in her wallet. The registers fill 9
              of the 14 fields (the child's sex, birth date, place and weight, the household's
              address and number, the marriage certificate's number, her name and ID number):
              she types 5. Her ID card (e-certificate), the delivery record and the household
              book (sharing) need not be provided; she uploads the father's ID card and the
              marriage certificate, and not the power of attorney (optional: she is no proxy):
              2 materials. Submitted Thu 4 Feb 2027, completed Tue 9 Feb 2027, across the
              Spring Festival of calendar.yaml (5–8 Feb): 1 working day (9 Feb). 0 trips.
              Alone: birth 4 → 4 Feb 0, hukou 4 → 9 Feb 1 (5–8 Feb off), insurance 9 → 9 Feb
              0: 1.
  S2  web     林晓燕 again, reading the registers without her sensitive data: they fill 4
              fields (the household's address and number, the marriage certificate's number,
              her name), she types 10. Only her ID card (e-certificate) and the household book
              (sharing) are exempt; she uploads the other four, power of attorney included: 4
              materials. Submitted Mon 30 Nov 2026, completed Wed 2 Dec 2026: 2 working days
              (1, 2 Dec). Alone: birth 30 Nov → 30 Nov 0, hukou 30 Nov → 2 Dec 2, insurance
              2 → 2 Dec 0: 2.
  W1  window  a clerk takes it for another mother, without sharing: all 14 fields typed, five
              papers seen at the counter (not the power of attorney): 5 materials, 1 trip.
              Submitted Wed 30 Sep 2026, completed Sat 10 Oct 2026 (a worked Saturday) across
              National Day (1–7 Oct off; 8, 9, 10 Oct worked): 3 working days. Alone: birth
              30 Sep → 30 Sep 0, hukou 30 Sep → 10 Oct 3 (8, 9, 10 Oct), insurance 10 → 10
              Oct 0: 3.
  R1  web     rejected: saves nothing, counts in no reduction; its days are not measured.
  P1  web     still open: its days are not measured yet.

Together, over the three completed applications:
  materials  separately 3 × 11 = 33   together 2 + 4 + 5 = 11   saved 22 (66.7 %)
  fields     separately 3 × 31 = 93   together 5 + 10 + 14 = 29  saved 64 (68.8 %)
  days       separately 1 + 2 + 3 = 6 together 1 + 2 + 3 = 6     saved 0 (0.0 %): one case
             after the other, each ready the day the one before it was decided, takes as long
             alone as together
  trips      separately 3 × 2 = 6     together 0 + 0 + 1 = 1     saved 5 (83.3 %)

Side by side (test_cases_handled_side_by_side_save_working_days): answers asking for the
vaccination certificate too, which runs beside the birth certificate.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.test import Client

from onething.accounts.models import Role, RoleAssignment
from onething.applications import services, window
from onething.applications.models import Application, ApplicationMaterial
from onething.supervision import dashboard, reports, rollups
from tests.applications.conftest import PNG, valid_value
from tests.factories import PersonFactory, StaffFactory, make_ric
from tests.supervision.conftest import (
    BIRTH,
    HUKOU,
    INSURANCE,
    SMALL_NEWBORN,
    approve,
    at,
    reject,
    staff_with,
    submit,
)

pytestmark = pytest.mark.django_db

CHEN = "35020319920203135X"  # the husband of 林晓燕 (resident_mother)
HER_PAPERS = {"father.name": "陈建国", "father.id_number": CHEN}

SEPARATELY = {"materials": 33, "fields": 93, "days": 6, "trips": 6}
TOGETHER = {"materials": 11, "fields": 29, "days": 6, "trips": 1}
PERCENT = {"materials": 66.7, "fields": 68.8, "days": 0.0, "trips": 83.3}


def type_the_rest(application: Application, actor, values=None) -> None:
    """Type every asked field that is still empty, as the applicant (or the clerk) would."""
    plan = services.application_plan(application)
    typed = {
        f.element.key: valid_value(f.element, application.applicant)
        for f in plan.form
        if f.asked and application.form_data.get(f.element.key) in (None, "")
    }
    typed.update({k: v for k, v in (values or {}).items() if k in typed})
    problems = services.application_save_form(actor=actor, application=application, values=typed)
    assert problems == {}, problems
    application.refresh_from_db()


def upload(application: Application, actor, codes) -> None:
    for code in codes:
        services.application_attach_material(
            actor=actor, application=application, material_code=code, name="p.png", content=PNG
        )


def complete(application: Application, submitted: date, finished: date) -> None:
    approve(application, BIRTH, submitted)
    approve(application, HUKOU, finished)
    approve(application, INSURANCE, finished)
    application.refresh_from_db()
    assert (application.status, application.finished_at.date()) == ("completed", finished)


def with_sharing(mother, day: date, *, sensitive: bool, uploads) -> Application:
    with at(day):
        draft = services.application_start(
            actor=mother, thing_code="newborn", answers=SMALL_NEWBORN
        )
        services.application_prefill(
            actor=mother, application=draft, consent=True, sensitive=sensitive
        )
        draft.refresh_from_db()
        type_the_rest(draft, mother, HER_PAPERS)
        upload(draft, mother, uploads)
        return services.application_submit(actor=mother, application=draft, consent=True)


def at_the_window(day: date, seen) -> Application:
    clerk = StaffFactory()
    RoleAssignment.objects.create(user=clerk, role=Role.WINDOW_CLERK)
    mother = PersonFactory(id_number=make_ric(birth=date(1993, 3, 8)))
    with at(day):
        draft = window.application_start_at_window(
            actor=clerk, applicant=mother, thing_code="newborn", answers=SMALL_NEWBORN
        )
        type_the_rest(draft, clerk)
        for code in seen:
            window.application_material_seen(
                actor=clerk, application=draft, material_code=code, seen_as="original"
            )
        return services.application_submit(actor=clerk, application=draft, consent=True)


@pytest.fixture
def measured(resident_mother):
    s1 = with_sharing(
        resident_mother,
        date(2027, 2, 4),
        sensitive=True,
        uploads=["father_id_card", "parents_marriage_certificate"],
    )
    complete(s1, date(2027, 2, 4), date(2027, 2, 9))
    s2 = with_sharing(
        resident_mother,
        date(2026, 11, 30),
        sensitive=False,
        uploads=[
            "father_id_card",
            "delivery_record",
            "parents_marriage_certificate",
            "power_of_attorney",
        ],
    )
    complete(s2, date(2026, 11, 30), date(2026, 12, 2))
    w1 = at_the_window(
        date(2026, 9, 30),
        seen=[
            "mother_id_card",
            "father_id_card",
            "delivery_record",
            "hukou_book",
            "parents_marriage_certificate",
        ],
    )
    complete(w1, date(2026, 9, 30), date(2026, 10, 10))
    r1 = submit(date(2026, 10, 12))
    reject(r1, BIRTH, date(2026, 10, 13))
    p1 = submit(date(2027, 1, 11))
    with at(date(2027, 2, 20)):
        rollups.refresh()
    r1.refresh_from_db()
    return {"s1": s1, "s2": s2, "w1": w1, "r1": r1, "p1": p1}


def provisions(application: Application) -> dict[str, int]:
    out: dict[str, int] = {}
    for provision in application.materials.values_list("provision", flat=True):
        out[provision] = out.get(provision, 0) + 1
    return out


def test_each_application_is_what_the_services_made_of_it(measured):
    s1, s2, w1 = measured["s1"], measured["s2"], measured["w1"]
    assert len(s1.prefilled) == 9 and len(s2.prefilled) == 4 and w1.prefilled == {}
    assert {code: e["kind"] for code, e in s1.exemptions.items()} == {
        "mother_id_card": "certificate",
        "delivery_record": "sharing",
        "hukou_book": "sharing",
    }
    assert {code: e["kind"] for code, e in s2.exemptions.items()} == {
        "mother_id_card": "certificate",
        "hukou_book": "sharing",
    }
    # The birth medical certificate is the first case's result in every one of them.
    assert provisions(s1) == {"upload": 2, "certificate": 1, "sharing": 2, "result": 1}
    assert provisions(s2) == {"upload": 4, "certificate": 1, "sharing": 1, "result": 1}
    assert provisions(w1) == {"window": 5, "result": 1}
    assert w1.channel == "window"
    assert not ApplicationMaterial.objects.filter(
        application=s1, material__code="power_of_attorney"
    ).exists()


def test_the_applicants_own_page_counts_as_the_roll_ups_do(measured):
    by_hand = {
        "s1": {"materials": 2, "fields": 5, "days": 1, "trips": 0},
        "s2": {"materials": 4, "fields": 10, "days": 2, "trips": 0},
        "w1": {"materials": 5, "fields": 14, "days": 3, "trips": 1},
    }
    for name, expected in by_hand.items():
        figures = services.application_reductions(measured[name])
        assert {k: figures[k]["together"] for k in expected} == expected, name
        assert (figures["materials"]["separately"], figures["fields"]["separately"]) == (11, 31)
        # The cases' own days added up: as long as together (one after the other).
        assert figures["days"]["separately"] == expected["days"], name
        assert figures["days"]["measured"] is True


def test_the_applicant_is_told_plainly_when_the_days_are_not_measured(measured):
    rejected = services.application_reductions(measured["r1"])["days"]
    assert rejected == {"measured": False, "finished": True, "promised": 2}
    pending = services.application_reductions(measured["p1"])["days"]
    assert pending == {"measured": False, "finished": False, "promised": 2}
    cache.clear()
    for name, said in [
        ("p1", "Not measured yet: the days are measured once every service has been approved"),
        ("r1", "Not measured: the days are measured only for applications in which every"),
        ("w1", "own handling time, from the day it could start to its decision, added up"),
    ]:
        application = measured[name]
        client = Client()
        with at(date(2027, 2, 20)):
            client.force_login(application.applicant)
            page = client.get(
                f"/applications/{application.reference}/notice/", HTTP_ACCEPT_LANGUAGE="en"
            )
        assert page.status_code == 200, name
        table = page.content.decode().split('data-testid="reductions"')[1]
        assert said in table, name
        row = table.split('data-reduction="days"')[1].split("</tr>")[0]
        if name == "w1":
            assert "<td>3</td><td>3</td><td>0 (0%)</td>" in row
        else:
            assert "<td>" not in row.replace('<td colspan="3"', ""), name


def test_the_dashboard_shows_the_reductions_counted_by_hand(measured):
    administrator = staff_with(Role.ADMINISTRATOR)
    filters = dashboard.filters_parse({"from": "2026-09", "to": "2027-02"})
    board = dashboard.dashboard_for(administrator, filters)
    got = {r.name: (r.applications, r.separately, r.together, r.percent) for r in board.reductions}
    assert got == {
        name: (3, SEPARATELY[name], TOGETHER[name], PERCENT[name]) for name in SEPARATELY
    }
    assert {t.key: t.value for t in board.tiles}["completed"] == 3
    chart = dashboard.chart_reductions(administrator, filters)
    assert chart.key == "dashboard-reductions"
    # Per completed application: 33/3, 93/3, 6/3, 6/3 alone; 11/3, 29/3, 6/3, 1/3 really.
    assert [row[1:] for row in chart.rows()] == [
        [11.0, 3.67, 66.7],
        [31.0, 9.67, 68.8],
        [2.0, 2.0, 0.0],
        [2.0, 0.33, 83.3],
    ]


def test_each_month_holds_the_applications_completed_in_it(measured):
    administrator = staff_with(Role.ADMINISTRATOR)
    for month, materials, fields, days, trips, median, p90 in [
        # W1 across National Day (3 working days) and R1, rejected the next working day.
        ("2026-10", 5, 14, 3, 1, 1, 3),
        ("2026-12", 4, 10, 2, 0, 2, 2),  # S2
        ("2027-02", 2, 5, 1, 0, 1, 1),  # S1, across the Spring Festival of calendar.yaml
        ("2027-01", None, None, None, None, None, None),  # nothing decided
    ]:
        filters = dashboard.filters_parse({"from": month, "to": month})
        board = dashboard.dashboard_for(administrator, filters)
        together = {r.name: r.together for r in board.reductions if r.applications}
        expected = (
            {}
            if materials is None
            else {"materials": materials, "fields": fields, "days": days, "trips": trips}
        )
        assert together == expected, month
        tiles = {t.key: t.value for t in board.tiles}
        assert (tiles["median_days"], tiles["p90_days"]) == (median, p90), month


def test_the_public_page_shows_the_same_reductions(measured):
    cache.clear()
    quality = reports.service_quality(today=date(2027, 2, 20))
    newborn = next(t for t in quality.things if t.code == "newborn")
    assert (newborn.applications, newborn.too_few) == (5, False)
    # Handling days {3, 1 (R1 rejected the next day), 2, 1}: the median is 1.
    assert newborn.median_days == 1
    got = {
        r.name: (r.applications, r.separately, r.together, r.percent) for r in newborn.reductions
    }
    assert got == {
        name: (3, SEPARATELY[name], TOGETHER[name], PERCENT[name]) for name in SEPARATELY
    }
    # What anybody reads on the public page and its JSON twin.
    with at(date(2027, 2, 20)):
        page = Client().get("/service-quality/", HTTP_ACCEPT_LANGUAGE="en")
        api = Client().get("/api/v1/public/service-quality", HTTP_ACCEPT_LANGUAGE="en")
    cache.clear()
    row = page.content.decode().split('data-thing="newborn"')[1].split("</tr>")[0]
    assert "Trips: 83.3 % fewer (1 instead of 6)" in row
    public = next(t for t in api.json()["things"] if t["code"] == "newborn")
    assert {r["name"]: r for r in public["reductions"]}["fields"] == {
        "name": "fields",
        "applications": 3,
        "separately": 93,
        "together": 29,
        "percent": 68.8,
    }


VACCINATION = "vaccination_certificate"
# The small answers, and the vaccination certificate still to issue: it runs beside the birth
# certificate (stage 1), then the hukou after the birth certificate, then the insurance.
SIDE_BY_SIDE = {**SMALL_NEWBORN, "vaccination_certificate_issued": "no"}


def test_cases_handled_side_by_side_save_working_days(loaded_catalog):
    """Submitted Mon 28 Sep 2026, around National Day 2026 (1–7 Oct off; Sat 10 Oct worked):

    vaccination  ready 28 Sep, approved Tue 29 Sep   1 (29 Sep)
    birth        ready 28 Sep, approved Wed 30 Sep   2 (29, 30 Sep)
    hukou        ready 30 Sep, approved Fri 9 Oct    2 (8, 9 Oct; 1–7 Oct off)
    insurance    ready 9 Oct,  approved Sat 10 Oct   1 (10 Oct, worked)

    Alone 1 + 2 + 2 + 1 = 6; as one thing 28 Sep → 10 Oct: 29, 30 Sep, 8, 9, 10 Oct = 5. Saved
    1 (16.7 %; the applicant's page rounds to 17 %). The catalog promises 1 + 1 + 1 + 0 = 3
    alone: a figure built on the promise would say 3.
    """
    application = submit(date(2026, 9, 28), answers=SIDE_BY_SIDE)
    assert [c.service.code for c in application.cases.order_by("position")] == [
        BIRTH,
        VACCINATION,
        HUKOU,
        INSURANCE,
    ]
    approve(application, VACCINATION, date(2026, 9, 29))
    approve(application, BIRTH, date(2026, 9, 30))
    approve(application, HUKOU, date(2026, 10, 9))
    approve(application, INSURANCE, date(2026, 10, 10))
    application.refresh_from_db()
    assert (application.status, application.finished_at.date()) == ("completed", date(2026, 10, 10))
    with at(date(2026, 10, 12)):
        rollups.refresh()

    days = services.application_reductions(application)["days"]
    assert days == {"separately": 6, "together": 5, "saved": 1, "percent": 17, "measured": True}
    administrator = staff_with(Role.ADMINISTRATOR)
    board = dashboard.dashboard_for(
        administrator, dashboard.filters_parse({"from": "2026-09", "to": "2026-10"})
    )
    got = {r.name: (r.applications, r.separately, r.together, r.percent) for r in board.reductions}
    assert got["days"] == (1, 6, 5, 16.7)
