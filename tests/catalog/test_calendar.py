"""The catalog's `calendar:` kind: checked like any record, loaded idempotently, read as a
WorkCalendar that follows every change."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from onething.catalog import models as m
from onething.catalog import selectors
from onething.catalog.services import catalog_load, catalog_revision_bump
from onething.catalog.validation import CatalogInvalid, read_catalog
from onething.core.workdays import DayKind, Override

REGIONS = {
    "regions": [
        {"code": "350000", "name": {"zh": "福建省", "en": "Fujian"}, "level": "province"},
        {
            "code": "350200",
            "name": {"zh": "厦门市", "en": "Xiamen"},
            "level": "city",
            "parent": "350000",
        },
    ]
}

VALID = """
calendar:
  - date: 2027-01-01
    kind: holiday
    name: {zh: 元旦, en: "New Year's Day"}
  - date: 2027-01-01
    kind: working
    region: "350200"
    name: {zh: 示例, en: Example}
  - date: "2027-02-20"
    kind: working
    name: {zh: 调休上班, en: Make-up working day}
"""


def read(tmp_path: Path, calendar: str):
    (tmp_path / "regions.yaml").write_text(yaml.safe_dump(REGIONS, allow_unicode=True))
    (tmp_path / "calendar.yaml").write_text(calendar)
    return read_catalog([tmp_path])


def errors(tmp_path: Path, calendar: str) -> list[str]:
    with pytest.raises(CatalogInvalid) as caught:
        read(tmp_path, calendar)
    return [str(issue) for issue in caught.value.issues]


def test_calendar_days_are_read_as_overrides(tmp_path):
    catalog = read(tmp_path, VALID)
    assert set(catalog.calendar) == {
        "2027-01-01@national",
        "2027-01-01@350200",
        "2027-02-20@national",
    }
    assert sorted(catalog.overrides(), key=lambda o: (o.day, o.region or "")) == [
        Override(date(2027, 1, 1), DayKind.HOLIDAY, None, "元旦"),
        Override(date(2027, 1, 1), DayKind.WORKING, "350200", "示例"),
        Override(date(2027, 2, 20), DayKind.WORKING, None, "调休上班"),
    ]
    assert catalog.counts()["calendar"] == 3


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            "{date: 2027-02-30, kind: holiday, name: {zh: 甲, en: A}}",
            "calendar[0](2027-02-30).date: Input should be a valid date",
        ),
        (
            "{date: 27/01/2027, kind: holiday, name: {zh: 甲, en: A}}",
            "calendar[0](27/01/2027).date: Input should be a valid date",
        ),
        (
            "{date: 20270101, kind: holiday, name: {zh: 甲, en: A}}",
            "calendar[0](20270101).date: expected a date written as YYYY-MM-DD",
        ),
        (
            "{date: 2027-01-01, kind: day_off, name: {zh: 甲, en: A}}",
            "calendar[0](2027-01-01).kind: Input should be 'working' or 'holiday'",
        ),
        (
            '{date: 2027-01-01, kind: holiday, region: "3502", name: {zh: 甲, en: A}}',
            "calendar[0](2027-01-01).region: String should match pattern",
        ),
        ("{date: 2027-01-01, kind: holiday}", "calendar[0](2027-01-01).name: field required"),
    ],
)
def test_a_malformed_calendar_record_is_reported_at_its_field(tmp_path, record, expected):
    found = errors(tmp_path, f"calendar:\n  - {record}\n")
    assert any(expected in e for e in found), found


def test_a_calendar_day_in_an_unknown_region_is_an_error(tmp_path):
    found = errors(
        tmp_path,
        'calendar:\n  - {date: 2027-01-04, kind: holiday, region: "350100", '
        "name: {zh: 甲, en: A}}\n",
    )
    assert found == [
        f"{tmp_path / 'calendar.yaml'}: calendar[0](2027-01-04@350100).region: "
        "unknown region '350100'"
    ]


@pytest.mark.parametrize("region", [None, "350200"])
def test_the_same_date_and_region_twice_is_an_error(tmp_path, region):
    where = f', region: "{region}"' if region else ""
    record = f"{{date: 2027-01-04, kind: holiday{where}, name: {{zh: 甲, en: A}}}}"
    found = errors(tmp_path, f"calendar:\n  - {record}\n  - {record}\n")
    assert len(found) == 1
    assert "calendar[1]" in found[0]
    assert "2027-01-04 declared twice for " + (region or "the whole country") in found[0]


def test_the_same_date_in_different_regions_is_fine(tmp_path):
    catalog = read(tmp_path, VALID)
    assert len([d for d in catalog.calendar.values() if d.date == date(2027, 1, 1)]) == 2


def test_the_demo_calendar_holds_only_2027_statutory_holidays(demo_catalog):
    days = list(demo_catalog.calendar.values())
    assert days
    assert {d.date.year for d in days} == {2027}
    assert {d.kind for d in days} == {DayKind.HOLIDAY}
    assert all(d.region is None for d in days)
    assert {d.date for d in days} >= {date(2027, 1, 1), date(2027, 5, 1), date(2027, 10, 1)}


@pytest.mark.django_db
def test_loading_the_calendar_twice_changes_nothing(tmp_path):
    m.CalendarDay.objects.all().delete()
    catalog = read(tmp_path, VALID)
    first = catalog_load(actor="test", catalog=catalog)
    assert first.created["calendar"] == 3
    rows = list(m.CalendarDay.objects.values("date", "kind", "region__code", "name_zh", "name_en"))
    second = catalog_load(actor="test", catalog=catalog)
    assert (second.created["calendar"], second.updated["calendar"]) == (0, 3)
    after = list(m.CalendarDay.objects.values("date", "kind", "region__code", "name_zh", "name_en"))
    assert after == rows


@pytest.mark.django_db
def test_the_demo_calendar_is_in_the_test_database(demo_catalog):
    assert m.CalendarDay.objects.count() == len(demo_catalog.calendar)


@pytest.mark.django_db
def test_the_work_calendar_follows_loads_and_admin_edits(tmp_path):
    # Each direct change is followed by the revision bump an admin edit makes in its transaction.
    m.CalendarDay.objects.all().delete()
    catalog_revision_bump()
    saturday = date(2027, 2, 20)
    assert not selectors.work_calendar().is_working_day(saturday)

    catalog_load(actor="test", catalog=read(tmp_path, VALID))
    calendar = selectors.work_calendar()
    assert calendar.is_working_day(saturday)
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 1), "350200")
    assert selectors.work_calendar() is calendar  # unchanged table: the same object

    row = m.CalendarDay.objects.get(date=saturday)
    row.kind = DayKind.HOLIDAY
    row.save()
    catalog_revision_bump()
    assert not selectors.work_calendar().is_working_day(saturday)

    row.delete()
    m.CalendarDay.objects.filter(date=date(2027, 1, 1), region=None).delete()
    catalog_revision_bump()
    assert selectors.work_calendar().is_working_day(date(2027, 1, 1))


@pytest.mark.django_db
def test_the_work_calendar_costs_no_query_while_the_catalog_revision_is_trusted(
    loaded_catalog, django_assert_num_queries
):
    calendar = selectors.work_calendar()

    with django_assert_num_queries(0):
        assert selectors.work_calendar() is calendar


@pytest.mark.django_db
def test_without_a_catalog_revision_the_work_calendar_follows_the_table_itself(tmp_path):
    m.CatalogRevision.objects.all().delete()
    selectors.catalog_revision_forget()
    saturday = date(2027, 2, 20)
    m.CalendarDay.objects.all().delete()
    assert not selectors.work_calendar().is_working_day(saturday)

    m.CalendarDay.objects.create(date=saturday, kind=DayKind.WORKING, name_zh="调休")

    assert selectors.work_calendar().is_working_day(saturday)
