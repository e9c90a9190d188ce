"""Time the supervision dashboard's views against the database in DATABASE_URL.

Fill the database first (e.g. `onething generate --applications 1000000 --tickets 1000000`),
then: `DATABASE_URL=postgres://… uv run python bench/supervision_dashboard.py [--rebuild]`.
Prints the time of a full roll-up rebuild (with --rebuild), of an incremental refresh, and of
each dashboard view, the hotline table and the monthly report for an administrator, a region
supervisor and department supervisors (one whose department has hotline units, when there is).
Not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time


def timed(label: str, call, *args) -> object:
    start = time.perf_counter()
    result = call(*args)
    print(f"{label:<60} {time.perf_counter() - start:8.3f} s", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebuild", action="store_true", help="time a full rebuild first")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onething.settings")
    import django

    django.setup()
    from django.utils import timezone

    from onething.accounts.models import Role, RoleAssignment, User
    from onething.applications.models import Application, Case
    from onething.catalog.models import Department, Region
    from onething.complaints.models import Ticket
    from onething.core.actors import SystemActor
    from onething.supervision import dashboard, reports, services
    from onething.supervision.charts import CHART_BUILDERS
    from onething.supervision.models import Rollup

    print(
        f"applications {Application.objects.count():,}, cases {Case.objects.count():,}, "
        f"tickets {Ticket.objects.count():,}"
    )
    actor = SystemActor("bench")
    if args.rebuild:
        timed("rollups rebuild", lambda: services.rollups_rebuild(actor=actor))
    timed("rollups refresh (incremental)", lambda: services.rollups_refresh(actor=actor))
    print(f"roll-up rows {Rollup.objects.count():,}")

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
    last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    for who, user in readers.items():
        for label, query in (
            ("last 12 months", {}),
            ("by city", {"region": city.code}),
            ("two years", {"from": "2025-01", "to": "2026-12"}),
        ):
            filters = dashboard.filters_parse(query)
            timed(f"{who}: dashboard, {label}", dashboard.dashboard_for, user, filters)
            for key in dashboard.DASHBOARD_CHARTS:
                timed(f"  {key}", CHART_BUILDERS[key], user, filters)
            timed("  hotline table", dashboard.hotline_rows, user, filters)
        timed(
            f"{who}: monthly report {city.code} {last_month}",
            reports.monthly_report,
            user,
            city.code,
            last_month,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
