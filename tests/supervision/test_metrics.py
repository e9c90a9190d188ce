"""The contributions of one application to the roll-ups, from plain facts: no database.

Working days come from the platform's one calendar (core.workdays) with the State Council's
schedule: National Day 2025 (1–8 October off, Sunday 28 September and Saturday 11 October
worked) and the Spring Festival 2026 (15–23 February off, Saturday 14 and 28 February worked).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.complaints import rates
from onething.core.workdays import WorkCalendar
from onething.supervision import metrics
from onething.supervision.metrics import ApplicationFacts, CaseFacts, Key, RatingFacts

CALENDAR = WorkCalendar()
D = dt.date


def working_days(start, end, region):
    return CALENDAR.working_days_between(start, end, region)


def app_key(month, metric, bucket=0, region="350203", thing="newborn", channel="web"):
    return Key("application", month, region, thing, "", "", channel, metric, bucket)


@pytest.mark.parametrize(
    ("submitted", "finished", "days", "from_catalog"),
    [
        # Across National Day: only 9 October counts.
        (D(2025, 9, 30), D(2025, 10, 9), 1, False),
        # The adjusted Sunday and Saturday count, the holiday does not.
        (D(2025, 9, 26), D(2025, 10, 11), 6, False),
        # Across the Spring Festival: Saturday 14 February is worked, then 24 February.
        (D(2026, 2, 13), D(2026, 2, 24), 2, False),
        # Finished the day it was submitted.
        (D(2026, 3, 2), D(2026, 3, 2), 0, False),
        # An ordinary week: Monday to the next Monday.
        (D(2026, 3, 2), D(2026, 3, 9), 5, False),
        # The Spring Festival 2027 (5–8 February) is known from calendar.yaml only: Friday 5
        # and Monday 8 are off, so Tuesday 9 is the first working day after Thursday 4.
        (D(2027, 2, 4), D(2027, 2, 9), 1, True),
        (D(2027, 2, 4), D(2027, 2, 10), 2, True),
        # New Year's Day 2027 (a Friday) from calendar.yaml: Monday 4 January is the first.
        (D(2026, 12, 31), D(2027, 1, 4), 1, True),
        # National Day 2027 falls on Friday to Sunday: Monday 4 October counts.
        (D(2027, 9, 30), D(2027, 10, 4), 1, True),
    ],
)
def test_handling_days_are_working_days_after_submission(
    demo_catalog, submitted, finished, days, from_catalog
):
    calendar = WorkCalendar(demo_catalog.overrides()) if from_catalog else CALENDAR
    # One case, ready when the application was submitted and decided when it finished.
    case = CaseFacts(
        "birth_medical_certificate", "fj_health", "approved", ready_on=submitted,
        decided_on=finished,
    )  # fmt: skip
    facts = ApplicationFacts(
        region="350203",
        thing="newborn",
        channel="web",
        status="completed",
        submitted_on=submitted,
        finished_on=finished,
        due_date=finished,
        cases=(case,),
    )
    got = metrics.contributions(facts, calendar.working_days_between)
    assert got[app_key(metrics.month_of(finished), "handling_days", days)] == (1, days)
    assert got[app_key(metrics.month_of(submitted), "received")] == (1, 0)
    assert got[app_key(metrics.month_of(finished), "days_together")] == (1, days)
    # Alone, the one case took the same days, counted by the same rule.
    assert got[app_key(metrics.month_of(finished), "days_separately")] == (1, days)
    if from_catalog:
        # Without the catalog's days (Monday to Friday only) the figure would be larger.
        assert working_days(submitted, finished, None) > days


@pytest.mark.parametrize(
    ("finished", "due", "on_time"),
    [(D(2025, 10, 9), D(2025, 10, 9), 1), (D(2025, 10, 10), D(2025, 10, 9), 0)],
)
def test_on_time_means_decided_on_or_before_the_due_date(finished, due, on_time):
    facts = ApplicationFacts(
        region="350203",
        thing="newborn",
        channel="web",
        status="rejected",
        submitted_on=D(2025, 9, 30),
        finished_on=finished,
        due_date=due,
    )
    got = metrics.contributions(facts, working_days)
    assert got[app_key(D(2025, 10, 1), "on_time")] == (1, on_time)
    assert got[app_key(D(2025, 10, 1), "rejected")] == (1, 0)
    # A rejected application saved nothing: no reductions.
    assert not any(k.metric.endswith("_together") for k in got)


def test_a_completed_window_application_with_cases_and_ratings():
    cases = (
        CaseFacts(
            service="birth_medical_certificate",
            department="fj_health",
            status="approved",
            ready_on=D(2026, 2, 13),
            decided_on=D(2026, 2, 14),
            due_date=D(2026, 2, 24),
            supplemented=True,
        ),
        CaseFacts(
            service="newborn_medical_insurance",
            department="fj_medical_security",
            status="approved",
            ready_on=D(2026, 2, 14),
            decided_on=D(2026, 3, 2),
            due_date=D(2026, 2, 27),
            decided_by_rule=True,
        ),
    )
    facts = ApplicationFacts(
        region="350203",
        thing="newborn",
        channel="window",
        status="completed",
        submitted_on=D(2026, 2, 13),
        finished_on=D(2026, 3, 2),
        due_date=D(2026, 3, 5),
        cases=cases,
        separately={"materials": 9, "fields": 40, "days": 35, "trips": 6},
        materials_provided=2,
        fields_typed=11,
        ratings=(RatingFacts(stars=4, rated_on=D(2026, 3, 3), departments={"fj_health": 2}),),
    )
    got = metrics.contributions(facts, working_days)
    march, feb = D(2026, 3, 1), D(2026, 2, 1)
    a = lambda metric, bucket=0: got[app_key(march, metric, bucket, channel="window")]  # noqa: E731
    # 14 Feb (worked Saturday), 24, 25, 26, 27 Feb, 28 Feb (worked Saturday), 2 March.
    assert a("handling_days", 7) == (1, 7)
    assert a("on_time") == (1, 1)
    assert a("supplemented") == (1, 1)
    assert a("instant") == (2, 1)
    assert a("materials_separately") == (1, 9)
    assert a("materials_together") == (1, 2)
    assert a("fields_together") == (1, 11)
    # Alone, measured from the cases, not the 35 days the plan claimed: the birth certificate
    # 1 (13 → 14 Feb, a worked Saturday) + the insurance 6 (14 Feb → 2 March: 24–28 Feb and
    # 2 March) = 7, the application's own 7 (its cases ran one after the other).
    assert a("days_separately") == (1, 7)
    assert a("days_together") == (1, 7)
    assert a("trips_separately") == (1, 6)
    assert a("trips_together") == (1, 1)
    assert a("satisfaction", 4) == (1, 4)

    def c(department, service, month, metric, bucket=0):
        key = Key("case", month, "350203", "newborn", department, service, "window", metric, bucket)
        return got.get(key)

    birth = ("fj_health", "birth_medical_certificate")
    insurance = ("fj_medical_security", "newborn_medical_insurance")
    assert c(*birth, feb, "received") == (1, 0)
    assert c(*birth, feb, "handling_days", 1) == (1, 1)
    assert c(*birth, feb, "on_time") == (1, 1)
    assert c(*birth, feb, "supplemented") == (1, 1)
    assert c(*insurance, feb, "received") == (1, 0)
    # From the worked Saturday to 2 March: 24–28 February and 2 March.
    assert c(*insurance, march, "handling_days", 6) == (1, 6)
    assert c(*insurance, march, "on_time") == (1, 0)
    assert c(*insurance, march, "instant") == (1, 1)
    assert c("fj_health", "", march, "satisfaction", 2) == (1, 2)


case_spans = st.lists(
    st.tuples(st.integers(0, 10), st.integers(0, 25)), min_size=1, max_size=5
)  # (ready, days from ready to decided), days after the submission


@given(
    submitted=st.dates(min_value=D(2025, 1, 1), max_value=D(2026, 10, 1)),
    spans=case_spans,
    status=st.sampled_from(["completed", "partly_completed", "rejected"]),
)
def test_the_days_alone_are_the_cases_own_handling_days_added_up(submitted, spans, status):
    after = lambda n: submitted + dt.timedelta(days=n)  # noqa: E731
    cases = tuple(
        CaseFacts(
            f"s{i}",
            "fj_health",
            "approved" if status == "completed" or i else "rejected",
            ready_on=after(ready),
            decided_on=after(ready + length),
        )
        for i, (ready, length) in enumerate(spans)
    )
    finished = max(c.decided_on for c in cases)
    facts = ApplicationFacts(
        "350203", "newborn", "web", status, submitted, finished_on=finished, cases=cases
    )
    got = metrics.contributions(facts, working_days)
    alone = got.get(app_key(metrics.month_of(finished), "days_separately"))
    if status != "completed":
        # Not every service approved: not measured, neither side.
        assert alone is None
        assert app_key(metrics.month_of(finished), "days_together") not in got
        return
    by_case = sum(
        total
        for key, (_count, total) in got.items()
        if key.level == "case" and key.metric == "handling_days"
    )
    assert alone == (1, by_case)


def test_a_draft_contributes_nothing_and_a_withdrawal_only_its_count():
    draft = ApplicationFacts("350203", "newborn", "web", "draft", submitted_on=None)
    assert metrics.contributions(draft, working_days) == {}
    withdrawn = ApplicationFacts(
        "350203",
        "newborn",
        "web",
        "withdrawn",
        submitted_on=D(2026, 3, 2),
        finished_on=D(2026, 4, 1),
        cases=(CaseFacts("s", "d", "cancelled", decided_on=D(2026, 4, 1)),),
    )
    got = metrics.contributions(withdrawn, working_days)
    assert {k.metric for k in got} == {"received", "withdrawn", "cancelled"}


@pytest.mark.parametrize(
    ("histogram", "median", "p90"),
    [
        ({}, None, None),
        ({3: 1}, 3, 3),
        ({1: 1, 2: 1, 3: 1, 4: 1}, 2, 4),
        ({1: 5, 10: 5}, 1, 10),
        ({0: 9, 20: 1}, 0, 0),
        ({0: 8, 20: 2}, 0, 20),
    ],
)
def test_median_and_90th_percentile_by_nearest_rank(histogram, median, p90):
    assert metrics.percentile(histogram, 0.5) == median
    assert metrics.percentile(histogram, 0.9) == p90


@given(st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=200))
def test_the_histogram_percentile_is_the_sorted_lists_nearest_rank(values):
    histogram: dict[int, int] = {}
    for v in values:
        histogram[v] = histogram.get(v, 0) + 1
    ordered = sorted(values)
    for fraction in (0.5, 0.9):
        rank = -(-len(values) * int(fraction * 10) // 10)
        assert metrics.percentile(histogram, fraction) == ordered[rank - 1]


keys = st.builds(
    Key,
    st.sampled_from(["application", "case"]),
    st.dates(min_value=D(2024, 1, 1), max_value=D(2026, 12, 1)).map(metrics.month_of),
    st.sampled_from(["350203", ""]),
    st.just("newborn"),
    st.sampled_from(["", "fj_health"]),
    st.just(""),
    st.sampled_from(["web", "window"]),
    st.sampled_from(metrics.METRICS),
    st.integers(0, 5),
)
contribution_maps = st.dictionaries(keys, st.tuples(st.integers(1, 9), st.integers(0, 99)))


@given(contribution_maps, contribution_maps)
def test_adding_the_difference_to_the_old_gives_the_new(old, new):
    delta = metrics.difference(new, old)
    result = metrics.merge(dict(old), delta)
    assert {k: v for k, v in result.items() if v != (0, 0)} == new


@given(contribution_maps)
def test_the_ledger_encoding_reads_back_the_same(contributions):
    assert metrics.decode(metrics.encode(contributions)) == contributions
    assert len({metrics.key_text(k) for k in contributions}) == len(contributions)


# --- hotline tickets -------------------------------------------------------------------------

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)
moments = st.integers(0, 4 * 24 * 60).map(
    lambda minutes: dt.datetime(2026, 11, 18, tzinfo=SHANGHAI) + dt.timedelta(minutes=minutes)
)
days = st.dates(min_value=D(2026, 11, 18), max_value=D(2026, 11, 22))
units = ["sm_zhonghua_police", "sm_police", "sm_12345"]
ticket_facts = st.builds(
    metrics.TicketFacts,
    ticket=st.builds(
        rates.TicketFacts,
        region_code=st.sampled_from(["350203", "350206"]),
        unit=st.sampled_from(["", *units]),
        returned_by=st.lists(st.sampled_from(units), max_size=3).map(tuple),
        sign_due_at=st.none() | moments,
        accepted_at=st.none() | moments,
        due_date=st.none() | days,
        replied_on=st.none() | days,
        reached=st.none() | st.booleans(),
        resolved=st.none() | st.booleans(),
        satisfied=st.none() | st.booleans(),
    ),
    channel=st.sampled_from(["phone", "web"]),
    received_on=st.dates(min_value=D(2026, 10, 30), max_value=D(2026, 11, 2)),
)


def summed_by(contributions: metrics.Contributions, by: str) -> dict[str, dict[str, list[int]]]:
    out: dict = {}
    for key, (count, total) in contributions.items():
        group = key.region if by == "region" else key.department
        entry = out.setdefault(group, {}).setdefault(key.metric, [0, 0])
        entry[0] += count
        entry[1] += total
    return out


@given(st.lists(ticket_facts, max_size=12), st.sampled_from(["region", "unit"]))
def test_summed_ticket_contributions_give_the_hotlines_own_rates(tickets, by):
    summed: metrics.Contributions = {}
    for facts in tickets:
        metrics.merge(summed, metrics.ticket_contributions(facts, NOW))
    groups = summed_by(summed, by)
    expected = rates.compute_rates([f.ticket for f in tickets], by=by, now=NOW)
    returns = "returned" if by == "region" else "unit_returned"
    assert {k for k in groups if k or by == "region"} == set(expected)
    for key, entry in expected.items():
        got = groups[key]

        def read(metric, got=got):
            return tuple(got.get(metric, (0, 0)))

        assert read("received")[0] == entry.tickets
        assert read("signed_on_time") == (entry.sign_counted, entry.signed_on_time)
        assert read("closed_on_time") == (entry.close_counted, entry.closed_on_time)
        assert read("resolved") == (entry.callbacks, entry.resolved)
        assert read("satisfied") == (entry.callbacks, entry.satisfied)
        assert read(returns) == (entry.reached_unit, entry.returned)


def test_a_tickets_contributions_counted_by_hand():
    due = dt.datetime(2026, 11, 19, 12, tzinfo=SHANGHAI)
    facts = metrics.TicketFacts(
        ticket=rates.TicketFacts(
            region_code="350203",
            unit="sm_police",
            returned_by=("sm_zhonghua_police", "sm_zhonghua_police"),
            sign_due_at=due,
            due_date=D(2026, 11, 19),
        ),
        channel="phone",
        received_on=D(2026, 10, 31),
        ratings=(RatingFacts(stars=2, rated_on=D(2026, 11, 20)),),
    )
    october, november = D(2026, 10, 1), D(2026, 11, 1)

    def key(metric, unit="sm_police", month=october, bucket=0):
        return Key("ticket", month, "350203", "", unit, "", "phone", metric, bucket)

    assert metrics.ticket_contributions(facts, NOW) == {
        key("received"): (1, 0),
        key("signed_on_time"): (1, 0),  # not signed for, and the deadline has passed
        key("closed_on_time"): (1, 0),  # not replied, and its due day was yesterday
        key("returned"): (1, 1),
        key("unit_returned", "sm_zhonghua_police"): (2, 2),  # returned twice by the station
        key("unit_returned"): (1, 0),
        key("satisfaction", month=november, bucket=2): (1, 2),  # rated in November
    }
    # The moment before both deadlines, neither counts yet.
    before = metrics.ticket_contributions(facts, due - dt.timedelta(days=1))
    assert key("signed_on_time") not in before and key("closed_on_time") not in before


@pytest.mark.parametrize(
    ("day", "month", "following", "preceding"),
    [
        (D(2026, 1, 1), D(2026, 1, 1), D(2026, 2, 1), D(2025, 12, 1)),
        (D(2026, 1, 31), D(2026, 1, 1), D(2026, 2, 1), D(2025, 12, 1)),
        (D(2026, 2, 28), D(2026, 2, 1), D(2026, 3, 1), D(2026, 1, 1)),
        (D(2024, 2, 29), D(2024, 2, 1), D(2024, 3, 1), D(2024, 1, 1)),
        (D(2026, 12, 31), D(2026, 12, 1), D(2027, 1, 1), D(2026, 11, 1)),
    ],
)
def test_months_are_named_by_their_first_day_and_step_across_years(
    day, month, following, preceding
):
    assert metrics.month_of(day) == month
    assert metrics.next_month(day) == following
    assert metrics.previous_month(day) == preceding
    assert metrics.last_ended_month(day) == preceding


@given(st.dates(min_value=D(2000, 2, 1), max_value=D(2099, 11, 30)))
def test_the_next_and_previous_months_undo_each_other(day):
    month = metrics.month_of(day)
    assert metrics.previous_month(metrics.next_month(month)) == month
    assert metrics.next_month(metrics.previous_month(month)) == month
    assert metrics.next_month(month) > day >= month
