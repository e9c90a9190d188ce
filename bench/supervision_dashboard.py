"""Time every supervision view a user can open, against the database in DATABASE_URL.

Fill the database first (`onething generate --applications 1000000 --tickets 1000000`), then:

    DATABASE_URL=postgres://… uv run python bench/supervision_dashboard.py [--rebuild] [--repeat 3]

Each view is requested through Django's whole stack (URL routing, middleware, session, the view,
its queries, template rendering or JSON/CSV/xlsx serialisation, audit records of exports), as
an administrator, a city's region supervisor and department supervisors would, for the last
twelve months, one city and two years. A view's time is the median of `--repeat` requests after
one warm-up request (the first request of a process also loads the catalog and templates).
Prints one line per view and, last, the slowest views and how many answered within 1 s.
Not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from urllib.parse import urlencode

LIMIT = 1.0  # seconds: the bound for every dashboard view


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebuild", action="store_true", help="time a full rebuild first")
    parser.add_argument("--repeat", type=int, default=3, help="timed requests per view")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onething.settings")
    import django

    django.setup()
    from django.test import Client
    from django.utils import timezone

    from onething.accounts.models import Role, RoleAssignment, User
    from onething.applications.models import Application, Case
    from onething.catalog.models import Department, Region
    from onething.complaints.models import Ticket
    from onething.core.actors import SystemActor
    from onething.ratings.models import Rating
    from onething.supervision import dashboard, services
    from onething.supervision.models import Rollup

    print(
        f"applications {Application.objects.count():,}, cases {Case.objects.count():,}, "
        f"tickets {Ticket.objects.count():,}, ratings {Rating.objects.count():,}",
        flush=True,
    )
    actor = SystemActor("bench")

    def once(label: str, call) -> None:
        start = time.perf_counter()
        call()
        print(f"{label:<80} {time.perf_counter() - start:8.3f} s", flush=True)

    if args.rebuild:
        once("rollups rebuild", lambda: services.rollups_rebuild(actor=actor))
    once("rollups refresh (incremental)", lambda: services.rollups_refresh(actor=actor))
    print(f"roll-up rows {Rollup.objects.count():,}", flush=True)

    def supervisor(name: str, **scope) -> User:
        user, _ = User.objects.get_or_create(username=name, defaults={"kind": User.Kind.STAFF})
        RoleAssignment.objects.get_or_create(user=user, role=scope.pop("role"), **scope)
        return user

    city = Region.objects.filter(level="city").order_by("code").first()
    department = Department.objects.order_by("code").first()
    readers = {
        "administrator": supervisor("bench-admin", role=Role.ADMINISTRATOR),
        f"region supervisor {city.code}": supervisor(
            "bench-city", role=Role.SUPERVISOR, region=city
        ),
        f"department supervisor {department.code}": supervisor(
            "bench-dept", role=Role.SUPERVISOR, department=department
        ),
    }
    # A department with units in the hotline's dispatch catalogue reads a hotline table.
    with_units = next(
        (d for d in Department.objects.order_by("code") if dashboard.hotline_units([d.code])),
        None,
    )
    if with_units is not None and with_units != department:
        readers[f"department supervisor {with_units.code} (hotline units)"] = supervisor(
            "bench-dept-hotline", role=Role.SUPERVISOR, department=with_units
        )

    times: dict[str, float] = {}

    def request(client: Client, label: str, url: str) -> None:
        response = client.get(url)  # warm-up, and the status check
        if response.status_code != 200:
            print(f"{label:<80} HTTP {response.status_code}", flush=True)
            return
        taken = []
        for _ in range(max(args.repeat, 1)):
            start = time.perf_counter()
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                for _chunk in response.streaming_content:
                    pass
            taken.append(time.perf_counter() - start)
        times[label] = statistics.median(taken)
        print(f"{label:<80} {times[label]:8.3f} s", flush=True)

    today = timezone.localdate()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    two_years = {"from": f"{today.year - 1}-01", "to": f"{today.year}-12"}
    periods = {
        "last 12 months": {},
        f"city {city.code}": {"region": city.code},
        "two years": two_years,
    }
    for who, user in readers.items():
        client = Client()
        client.force_login(user)
        for label, query in periods.items():
            q = f"?{urlencode(query)}" if query else ""
            request(client, f"{who}: dashboard page, {label}", f"/supervision/{q}")
            request(client, f"  dashboard API, {label}", f"/api/v1/supervision/dashboard{q}")
            for key in (
                *dashboard.DASHBOARD_CHARTS,
                dashboard.OVERDUE_TABLE,
                dashboard.DUE_SOON_TABLE,
            ):
                request(client, f"  {key}.csv, {label}", f"/supervision/charts/{key}.csv{q}")
            request(
                client,
                f"  dashboard-by-region.xlsx, {label}",
                f"/supervision/charts/dashboard-by-region.xlsx{q}",
            )
            request(
                client,
                f"  dashboard page, overdue list page 2, {label}",
                f"/supervision/?{urlencode(query | {'page': 2})}",
            )
        request(
            client,
            f"{who}: monthly report {city.code} {last_month}",
            f"/supervision/reports/{city.code}/{last_month}/",
        )
        request(client, f"{who}: escalated rectifications", "/supervision/rectifications/")
    public = Client()
    request(public, "public: service-quality page", "/service-quality/")
    request(public, "public: service-quality API", "/api/v1/public/service-quality")

    slowest = sorted(times.items(), key=lambda item: -item[1])[:5]
    within = sum(1 for t in times.values() if t < LIMIT)
    print("\nslowest:")
    for label, taken in slowest:
        print(f"  {label.strip():<78} {taken:8.3f} s")
    print(f"{within} of {len(times)} views answered within {LIMIT:.0f} s (median of {args.repeat})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
