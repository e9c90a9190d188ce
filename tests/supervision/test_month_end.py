"""The month-end snapshot and the monthly report's overdue section, on the data set of
conftest.data_set plus three applications at the end of October 2025.

At the end of October 2025 (Friday 31st): A6's birth certificate (Siming, ready 20 October,
due 21 October) is overdue by more than the escalation limit (escalated); A7's (Siming, ready
30 October, due 31 October) is due soon; A8's (Gulou, Fuzhou, ready 29 October, due 30
October) is overdue. A9 (Siming) comes in on 3 November: not late at October's end.
"""

from __future__ import annotations

import datetime as dt
from datetime import date

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from onething.accounts.models import Role
from onething.applications.models import Case
from onething.audit.models import AuditRecord
from onething.core.actors import WORKER
from onething.outbox.models import OutboxMessage
from onething.supervision import dashboard, reports, services
from onething.supervision.models import MonthEndLateCase, MonthEndSnapshot
from onething.supervision.tasks import (
    SNAPSHOT_TOPIC,
    snapshot_schedule_check,
    take_month_end_snapshot,
)
from tests.supervision.conftest import BEIJING, BIRTH, approve, staff_with, submit

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def moment(day: date, hour: int = 0, minute: int = 5) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)


def on(day: date, hour: int = 0, minute: int = 5):
    """The clock pinned at `hour`:`minute` on `day`, Beijing time."""
    return time_machine.travel(moment(day, hour, minute), tick=False)


@pytest.fixture
def month_end(data_set):
    a7 = submit(date(2025, 10, 30))
    a8 = submit(date(2025, 10, 29), region="350102")
    a9 = submit(date(2025, 11, 3))
    return data_set | {"a7": a7, "a8": a8, "a9": a9}


def kept(month: date) -> dict[str, str]:
    snapshot = MonthEndSnapshot.objects.get(month=month)
    return dict(snapshot.late_cases.values_list("application_reference", "mark"))


def test_the_first_run_after_october_keeps_octobers_late_cases_as_of_its_last_day(month_end):
    with on(date(2025, 11, 1)):
        snapshot = services.month_end_snapshot_take(actor=WORKER)
    assert (snapshot.month, snapshot.as_of) == (date(2025, 10, 1), date(2025, 10, 31))
    assert kept(date(2025, 10, 1)) == {
        month_end["a6"].reference: "escalated",
        month_end["a7"].reference: "due_soon",
        month_end["a8"].reference: "overdue",
    }
    row = MonthEndLateCase.objects.get(application_reference=month_end["a8"].reference)
    assert (row.thing, row.service, row.department, row.region, row.due_date) == (
        "newborn",
        BIRTH,
        "fj_health",
        "350102",
        date(2025, 10, 30),
    )
    record = AuditRecord.objects.get(action="supervision.month_end_snapshot")
    assert record.data == {"month": "2025-10", "as_of": "2025-10-31", "cases": 3}


def test_taking_the_snapshot_again_changes_nothing(month_end):
    with on(date(2025, 11, 1)):
        first = services.month_end_snapshot_take(actor=WORKER)
    approve(month_end["a7"], BIRTH, date(2025, 11, 3))
    with on(date(2025, 11, 20)):
        again = services.month_end_snapshot_take(actor=WORKER)
    assert again.pk == first.pk and again.taken_at == first.taken_at
    assert MonthEndSnapshot.objects.count() == 1
    assert len(kept(date(2025, 10, 1))) == 3
    assert AuditRecord.objects.filter(action="supervision.month_end_snapshot").count() == 1


def test_a_late_run_still_sees_a_case_decided_after_the_month_ended(month_end):
    approve(month_end["a6"], BIRTH, date(2025, 11, 3))
    with on(date(2025, 11, 5)):
        services.month_end_snapshot_take(actor=WORKER)
    assert kept(date(2025, 10, 1))[month_end["a6"].reference] == "escalated"
    assert month_end["a9"].reference not in kept(date(2025, 10, 1))  # came in after it


def test_a_case_waiting_for_the_applicant_keeps_the_mark_it_had_when_its_clock_stopped(
    month_end,
):
    a7_birth = Case.objects.get(application=month_end["a7"], service__code=BIRTH)
    Case.objects.filter(pk=a7_birth.pk).update(
        status="supplement", paused_since=date(2025, 10, 30), deadline_state=""
    )
    with on(date(2025, 11, 1)):
        services.month_end_snapshot_take(actor=WORKER)
    assert month_end["a7"].reference not in kept(date(2025, 10, 1))


def test_the_worker_task_books_its_next_check_and_keeps_the_month_once(month_end):
    with on(date(2025, 10, 31), 23, 52):
        snapshot_schedule_check()
        snapshot_schedule_check()
    message = OutboxMessage.objects.get(topic=SNAPSHOT_TOPIC)
    assert message.available_at == moment(date(2025, 11, 1), 0, 0)
    with on(date(2025, 11, 1), 0, 0):
        take_month_end_snapshot(message)
        take_month_end_snapshot(message)
    assert list(MonthEndSnapshot.objects.values_list("month", flat=True)) == [date(2025, 10, 1)]
    booked = OutboxMessage.objects.filter(topic=SNAPSHOT_TOPIC).order_by("available_at")
    assert booked.last().available_at == moment(date(2025, 11, 1), 0, 10)


# --- the report ------------------------------------------------------------------------------


def report_page(user, region: str, month: str, *, printed: date, headers=EN) -> str:
    client = Client()
    client.force_login(user)
    with on(printed, 9, 30):
        response = client.get(f"/supervision/reports/{region}/{month}/", **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_a_past_months_report_prints_its_end_not_the_day_it_is_printed(month_end):
    with on(date(2025, 11, 1)):
        services.month_end_snapshot_take(actor=WORKER)
    approve(month_end["a6"], BIRTH, date(2025, 11, 3))
    approve(month_end["a7"], BIRTH, date(2025, 11, 3))
    administrator = staff_with(Role.ADMINISTRATOR)
    # Today nothing in Xiamen is overdue any more; at the end of October two cases were late.
    now = dashboard.filters_parse({"region": "350200"}, today=date(2026, 3, 2))
    assert dashboard.dashboard_for(administrator, now).overdue_total == 0
    with on(date(2026, 3, 2), 9, 30), translation.override("en"):
        late = reports.monthly_report(administrator, "350200", "2025-10").late
    assert (late.source, late.as_of) == ("snapshot", date(2025, 10, 31))
    assert (late.overdue_total, late.due_soon_total) == (1, 1)
    assert [row[0] for row in late.overdue.rows] == [month_end["a6"].reference]
    assert late.overdue.rows[0][-1] == "red: overdue, escalated"
    page = report_page(administrator, "350200", "2025-10", printed=date(2026, 3, 2))
    section = page.split('data-testid="report-overdue"')[1].split("</section>")[0]
    assert "As of 2025-10-31, the end of the month." in section
    assert month_end["a6"].reference in section
    assert month_end["a8"].reference not in section  # Fuzhou's


def test_a_past_month_without_a_snapshot_says_so_and_shows_no_live_figure(month_end):
    administrator = staff_with(Role.ADMINISTRATOR)
    page = report_page(administrator, "350200", "2025-10", printed=date(2026, 3, 2))
    section = page.split('data-testid="report-overdue"')[1].split("</section>")[0]
    assert "No month-end record was kept for 2025-10" in section
    assert 'data-late="overdue"' not in section
    assert month_end["a6"].reference not in section
    chinese = report_page(administrator, "350200", "2025-10", printed=date(2026, 3, 2), headers=ZH)
    assert "2025-10 没有留存月末记录" in chinese


def test_the_current_months_report_reads_the_cases_late_now(month_end):
    Case.objects.filter(application=month_end["a6"], service__code=BIRTH).update(
        deadline_state="overdue"
    )
    administrator = staff_with(Role.ADMINISTRATOR)
    with on(date(2025, 11, 20), 9, 30):
        late = reports.monthly_report(administrator, "350200", "2025-11").late
    assert (late.source, late.as_of, late.overdue_total) == ("live", None, 1)
    page = report_page(administrator, "350200", "2025-11", printed=date(2025, 11, 20))
    assert "At the time of printing: the month is not over." in page


def test_the_snapshot_is_read_within_what_the_reader_oversees(month_end):
    with on(date(2025, 11, 1)):
        services.month_end_snapshot_take(actor=WORKER)
    fuzhou = staff_with(Role.SUPERVISOR, region="350100")
    police = staff_with(Role.SUPERVISOR, department="fj_public_security")
    with on(date(2026, 3, 2), 9, 30):
        in_fuzhou = reports.monthly_report(fuzhou, "350100", "2025-10").late
        of_police = reports.monthly_report(police, "350000", "2025-10").late
    assert (in_fuzhou.overdue_total, in_fuzhou.due_soon_total) == (1, 0)
    assert [row[0] for row in in_fuzhou.overdue.rows] == [month_end["a8"].reference]
    assert (of_police.overdue_total, of_police.due_soon_total) == (0, 0)  # health's cases
