"""Time every supervision view a user can open, against the database in DATABASE_URL.

Fill the database first (`onething generate --applications 1000000 --tickets 1000000`), then:

    DATABASE_URL=postgres://… uv run python bench/supervision_dashboard.py [--rebuild] [--repeat 3]

Each view is requested through Django's whole stack (URL routing, middleware, session, the view,
its queries, template rendering or JSON/CSV/xlsx serialisation, audit records of exports), as
an administrator, a city's region supervisor and department supervisors would, for the last
twelve months, one city and two years. A streamed download is read to its last byte. A view's
time is the median of `--repeat` requests after one warm-up request (the first request of a
process also loads the catalog and templates). Prints one line per view and, last, the slowest
views and how many answered within 1 s.
Not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
# Python puts this folder first on the path, where bench/http.py would stand in for the standard
# library's http (which Django imports): look here last.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH] + [str(BENCH)]

LIMIT = 1.0  # seconds: the bound for every dashboard view
RECTIFICATION_PAGE = 20  # the API's page of rectifications: page 2 and page 101 are timed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebuild", action="store_true", help="time a full rebuild first")
    parser.add_argument("--repeat", type=int, default=3, help="timed requests per view")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onething.settings")
    import django

    django.setup()
    from django.core.cache import cache
    from django.test import Client
    from django.utils import timezone

    from onething.accounts.models import Role, RoleAssignment, User
    from onething.applications.models import Application, Case
    from onething.catalog.models import Department, Region, Service, Thing
    from onething.complaints.models import Ticket
    from onething.core.actors import SystemActor
    from onething.core.regions import region_contains
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
    province = Region.objects.filter(level="province").order_by("code").first()
    county = (
        Region.objects.filter(level="county", code__startswith=city.code[:4])
        .order_by("code")
        .first()
    )
    readers[f"region supervisor {province.code} (province)"] = supervisor(
        "bench-province", role=Role.SUPERVISOR, region=province
    )
    readers[f"region supervisor {county.code} (county)"] = supervisor(
        "bench-county", role=Role.SUPERVISOR, region=county
    )
    readers[f"department supervisor {department.code} in {city.code}"] = supervisor(
        "bench-dept-city", role=Role.SUPERVISOR, department=department, region=city
    )
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
    current = {"reader": ""}  # whose views the indented lines are

    def request(client: Client, label: str, url: str, *, fresh: bool = False) -> None:
        """Median of --repeat timed GETs after a warm-up; with `fresh`, every request starts
        with an empty cache (the public page keeps its figures for minutes). A refusal (an
        export over its row limit: 422) is a user's path too and is timed like an answer."""
        key = f"{current['reader']}: {label.strip()}" if label.startswith(" ") else label
        if fresh:
            cache.clear()
        response = client.get(url)  # warm-up, and the status check
        if getattr(response, "streaming", False):
            for _chunk in response.streaming_content:
                pass
        if response.status_code not in (200, 422):
            print(f"{label:<80} HTTP {response.status_code}", flush=True)
            return
        status = "" if response.status_code == 200 else f" (HTTP {response.status_code})"
        taken = []
        for _ in range(max(args.repeat, 1)):
            if fresh:
                cache.clear()
            start = time.perf_counter()
            response = client.get(url)
            if getattr(response, "streaming", False):
                for _chunk in response.streaming_content:
                    pass
            taken.append(time.perf_counter() - start)
        times[key + status] = statistics.median(taken)
        print(f"{label + status:<80} {times[key + status]:8.3f} s", flush=True)

    today = timezone.localdate()
    this_month = today.strftime("%Y-%m")
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    two_years = {"from": f"{today.year - 1}-01", "to": f"{today.year}-12"}
    thing = Thing.objects.order_by("code").first()
    service = Service.objects.filter(department=department).order_by("code").first()
    periods = {
        "last 12 months": {},
        f"city {city.code}": {"region": city.code},
        "two years": two_years,
        f"thing {thing.code}": {"thing": thing.code},
        f"department {department.code}": {"department": department.code},
        **({f"service {service.code}": {"service": service.code}} if service else {}),
        "channel window": {"channel": "window"},
    }
    lists = (dashboard.OVERDUE_TABLE, dashboard.DUE_SOON_TABLE, dashboard.HOTLINE_TABLE)
    for who, user in readers.items():
        current["reader"] = who
        client = Client()
        client.force_login(user)
        for label, query in periods.items():
            q = f"?{urlencode(query)}" if query else ""
            request(client, f"{who}: dashboard page, {label}", f"/supervision/{q}")
            request(client, f"  dashboard API, {label}", f"/api/v1/supervision/dashboard{q}")
            if label not in ("last 12 months", "two years"):
                continue  # every chart and list download, for the widest periods
            for key in (*dashboard.DASHBOARD_CHARTS, *lists):
                request(client, f"  {key}.csv, {label}", f"/supervision/charts/{key}.csv{q}")
            for key in (*dashboard.DASHBOARD_CHARTS, *lists):
                request(client, f"  {key}.xlsx, {label}", f"/supervision/charts/{key}.xlsx{q}")
            for page in (2, 50):
                paged = urlencode(query | {"page": page})
                request(client, f"  dashboard page, red list page {page}, {label}",
                        f"/supervision/?{paged}")  # fmt: skip
                request(client, f"  dashboard API, red list page {page}, {label}",
                        f"/api/v1/supervision/dashboard?{paged}")  # fmt: skip
        # The province's and the city's reports, or the reader's own region's where they may
        # open neither.
        own = [
            r.region.code for r in RoleAssignment.objects.filter(user=user, region__isnull=False)
        ]
        for code in dict.fromkeys([province.code, city.code, *own]):
            if own and not any(region_contains(o, code) for o in own):
                continue
            for month in (last_month, this_month):
                request(
                    client,
                    f"{who}: monthly report {code} {month}",
                    f"/supervision/reports/{code}/{month}/",
                )
        request(client, f"{who}: escalated rectifications", "/supervision/rectifications/")
        for offset in (RECTIFICATION_PAGE, 100 * RECTIFICATION_PAGE):
            request(
                client,
                f"{who}: API rectifications, offset {offset}",
                f"/api/v1/ratings/rectifications?limit={RECTIFICATION_PAGE}&offset={offset}",
            )
        request(client, f"{who}: exports page", "/supervision/exports/")
        recent = {"since": (today - dt.timedelta(days=30)).isoformat()}
        for name in ("cases", "data-uses"):
            request(client, f"{who}: {name}.csv, all", f"/supervision/exports/{name}.csv")
            request(
                client,
                f"{who}: {name}.csv, last 30 days",
                f"/supervision/exports/{name}.csv?{urlencode(recent)}",
            )
            # A region-level reader's 30 days are refused at 1,000,000 (over the row limit):
            # the narrower periods such a reader then chooses are timed as files.
            for days in (7, 1):
                narrower = {"since": (today - dt.timedelta(days=days)).isoformat()}
                request(
                    client,
                    f"{who}: {name}.csv, last {days} days",
                    f"/supervision/exports/{name}.csv?{urlencode(narrower)}",
                )
            request(
                client, f"{who}: API export {name}", f"/api/v1/exports/{name}?{urlencode(recent)}"
            )
    public = Client()
    request(public, "public: service-quality page", "/service-quality/", fresh=True)
    request(public, "public: service-quality API", "/api/v1/public/service-quality", fresh=True)
    request(public, "public: service-quality page (cached)", "/service-quality/")

    print("\nslowest:")
    for label, taken in sorted(times.items(), key=lambda item: -item[1])[:12]:
        print(f"  {label:<78} {taken:8.3f} s")

    def is_download(label: str) -> bool:
        return any(word in label for word in (".csv", ".xlsx", "API export"))

    for kind, chosen in (
        ("pages and API answers", {k: t for k, t in times.items() if not is_download(k)}),
        ("downloads (CSV, xlsx, exports)", {k: t for k, t in times.items() if is_download(k)}),
    ):
        within = sum(1 for t in chosen.values() if t < LIMIT)
        print(
            f"{kind}: {within} of {len(chosen)} within {LIMIT:.0f} s, "
            f"slowest {max(chosen.values(), default=0):.3f} s (median of {args.repeat})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
