"""Whole newborn applications through the service layer, against the database's limit and a peer
engine (issue 8, benchmark 1). Not a test: it prints, it asserts nothing.

    uv run python bench/lifecycle.py --n 200        # 10 minutes or more on a busy 2-vCPU machine
    uv run python bench/lifecycle.py --tiny         # CI: every part once, PostgreSQL only (~40 s)
    uv run python bench/lifecycle.py --n 20 --no-sqlite --worker-memory 10000   # about an hour

`--worker-memory N` also runs N lifecycles with a real `onething worker` process making every
outbox pass (two processes submit and review) and reports the worker's resident memory after
each tenth and its peak, and its growth after the warm-up (the first tenth or the first ten
minutes, whichever ends later: by then every periodic job has run at its full size).

One lifecycle: an applicant starts the demo catalog's newborn thing with the answers that give all
six member services, types the form, uploads the materials and submits (the services a web page
calls); the outbox worker's pass (`outbox.worker.outbox_run_once`, what `onething worker` runs)
dispatches every ready case to its handler: the automatic one (秒批 medical insurance) is
decided there; the five workbench cases wait in their department's queue, where a scripted
reviewer takes each up and approves it with valid results (accept and approve in one
transaction, as the automatic handler does). Each approval issues the service's signed
certificate, releases the cases waiting on it and queues their dispatch; the last one finishes
the application. Events and audit records are written by the services as in production. One
change to the catalog, in the scratch database only: the automatic service decides by
`complete_inputs` instead of `authoritative_inputs`, which would refer these typed (not
register-read) values to a reviewer.

Each run starts P processes (1, then 2). Each submits its share of the N applications, then
alternates outbox passes and reviews of its slice of the queue until all N are finished; the
time is from the start signal to the last finish (process start-up and Django set-up excluded).

Baselines in the same run:
- pgbench on the same PostgreSQL server, `bench/lifecycle.pgbench` (one newborn lifecycle's
  minimal SQL, 8 transactions) against the minimal-equivalent tables of
  `bench/lifecycle_pgbench_schema.sql`, with 2 clients: one pgbench "transaction" of that script
  is one lifecycle;
- SpiffWorkflow with `bench/newborn.bpmn` (a parallel split into the six services, a join, a final
  step), its state serialised to JSON after every step and read back before every task.

The scratch PostgreSQL database(s) and the temporary SQLite file and data directory are created
here and removed at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# Python puts this folder first on the path, where bench/http.py would stand in for the standard
# library's http (which Django imports): look here last.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH] + [str(BENCH)]
ROOT = BENCH.parent

from procmem import memory_kb  # noqa: E402 - after the path is set

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
# Every member service: the birth certificate, vaccination certificate, household registration,
# medical insurance, social security card and maternity benefit.
NEWBORN_ANSWERS = {
    "mother_insured": True,
    "vaccination_certificate_issued": False,
    "apply_social_security_card": True,
}
REVIEWER_NAME = "bench:reviewer"
STALL_SECONDS = 60  # no application finished for this long: something is refused, give up
# The worker's periodic jobs reach their full size within ten minutes: the roll-up refresh looks
# six minutes back (its overlap and its minute), the audit anchor and the hotline sweep come every
# five, the deadline sweep and the month-end check every ten. Memory is compared from then on.
WARM_UP_SECONDS = 600


# --- inside a child process (Django set up on the database in DATABASE_URL) ---------------------


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onething.settings")
    import django

    django.setup()


def prepare_database(prefixes: list[str], count: int) -> None:
    """Migrate, load the demo catalog, let the automatic service decide by `complete_inputs`
    and create `count` applicants for each run."""
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command

    from onething.catalog.models import Service
    from onething.catalog.services import catalog_load
    from onething.catalog.validation import read_catalog

    call_command("migrate", verbosity=0)
    catalog_load(actor="bench", catalog=read_catalog([settings.CATALOG_DEFINITIONS_DIR]))
    members = Service.objects.filter(memberships__thing__code="newborn")
    members.filter(handler="automatic").update(
        rule="complete_inputs", rule_inputs=[], rule_condition=None
    )
    for prefix in prefixes:
        create_applicants(prefix, count)


def create_applicants(prefix: str, count: int) -> None:
    """`count` mothers registered in 思明区, named `prefix-0` …, with valid ID numbers."""
    from stdnum.cn import ric

    from onething.accounts.models import User
    from onething.catalog.models import Region

    region = Region.objects.get(code="350203")
    taken = User.objects.count()  # earlier runs' people keep their numbers
    people = []
    for index in range(taken, taken + count):
        birth = date(1985, 1, 1) + timedelta(days=index // 1000)
        body = f"350203{birth:%Y%m%d}{index % 1000:03d}"
        people.append(
            User(
                username=f"{prefix}-{index - taken}",
                kind=User.Kind.PERSON,
                real_name=f"林{index}",
                id_number=body + ric.calc_check_digit(body + "0"),
                phone="13800138000",
                region=region,
            )
        )
    User.objects.bulk_create(people)


def _review(case) -> None:
    """What a department's reviewer does with a complete case in the queue: take it up and
    approve it with valid results, in one transaction as the automatic handler does."""
    from django.db import transaction

    from onething.applications import services
    from onething.catalog.selectors import element_definition
    from onething.core.actors import SystemActor
    from onething.ratings.demo import demo_typed_value

    reviewer = SystemActor(REVIEWER_NAME)
    applicant = case.application.applicant
    outputs = {
        o.element.key: demo_typed_value(element_definition(o.element), applicant)
        for o in case.service.outputs.select_related("element")
    }
    with transaction.atomic():
        services.case_accept(actor=reviewer, case=case)
        services.case_approve(actor=reviewer, case=case, outputs=outputs)


def work(prefix: str, total: int, share: int, processes: int, *, outbox: bool = True) -> None:
    """Submit this process's share of the applications, then alternate outbox passes and the
    scripted reviewer until all `total` applications of the run are finished. Waits for a line
    on stdin before starting; prints the time it finished. Without `outbox`, a separate
    `onething worker` makes the passes, and this process only submits and reviews."""
    _setup_django()
    from django.db.models import F

    from onething.accounts.models import User
    from onething.applications.lifecycle import APPLICATION_TERMINAL, CaseStatus
    from onething.applications.models import Application, Case
    from onething.catalog.selectors import thing_plan, work_calendar
    from onething.outbox.registry import autodiscover
    from onething.outbox.worker import outbox_run_once
    from onething.ratings.demo import demo_application_submit

    autodiscover()
    mine = [
        user
        for user in User.objects.filter(username__startswith=f"{prefix}-").order_by("pk")
        if int(user.username.rsplit("-", 1)[1]) % processes == share
    ]
    run = Application.objects.filter(applicant__username__startswith=f"{prefix}-")
    desks = sorted({m.department.code for m in thing_plan("newborn", NEWBORN_ANSWERS).members})
    # Each process reviews its own slice of the departments' queues, as reviewers of different
    # desks would; read as a desk reads it (by department and status, which an index serves),
    # so the bench's own query does not slow down as the database grows.
    queue = (
        Case.objects.filter(
            department__code__in=desks,
            status=CaseStatus.READY,
            handler="workbench",
            application__applicant__username__startswith=f"{prefix}-",
        )
        .alias(slot=F("pk") % processes)
        .filter(slot=share)
        .select_related("application__applicant", "service")
        .order_by("pk")
    )
    worker_id = f"bench-{prefix}-{share}"
    # Warm up what a long-running process has built already: the thing's plan, the calendar.
    thing_plan("newborn", NEWBORN_ANSWERS)
    work_calendar()
    print("ready", flush=True)
    sys.stdin.readline()
    cpu = time.process_time()
    for applicant in mine:
        demo_application_submit(applicant, "newborn", NEWBORN_ANSWERS)
        if not outbox:
            # Beside a separate worker, as desks do while applications come in: the worker's
            # memory is then sampled over the whole mix of its work, not after a burst.
            for case in queue[:10]:
                _review(case)
    finished, last_change = -1, time.monotonic()
    while True:
        handled = outbox_run_once(worker_id=worker_id) if outbox else 0
        reviewed = list(queue[:10])
        for case in reviewed:
            _review(case)
        if handled or reviewed:
            continue
        now_finished = run.filter(status__in=APPLICATION_TERMINAL).count()
        if now_finished >= total:
            break
        if now_finished != finished:
            finished, last_change = now_finished, time.monotonic()
        elif time.monotonic() - last_change > STALL_SECONDS:
            print(f"stalled at {finished} of {total} finished", file=sys.stderr, flush=True)
            break
        time.sleep(0.01)
    print(f"done {time.time()!r} {time.process_time() - cpu!r}", flush=True)


def summary(prefixes: list[str]) -> None:
    """What each run left in the database, to show that every lifecycle was whole."""
    _setup_django()
    from django.db.models import Count

    from onething.applications.models import Application, Case, CaseEvent
    from onething.audit.models import AuditRecord
    from onething.certificates.models import Certificate

    for prefix in prefixes:
        run = Application.objects.filter(applicant__username__startswith=f"{prefix}-")
        statuses = dict(
            run.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        cases = Case.objects.filter(application__in=run)
        approved = cases.filter(status="approved").count()
        events = CaseEvent.objects.filter(application__in=run).count()
        references = list(run.values_list("reference", flat=True))
        certificates = Certificate.objects.filter(application_reference__in=references).count()
        streams = [
            f"application:{public_id}" for public_id in run.values_list("public_id", flat=True)
        ]
        audit = AuditRecord.objects.filter(stream__name__in=streams).count()
        print(
            f"{prefix:<20} applications {statuses}, cases approved {approved} of {cases.count()}, "
            f"certificates {certificates}, events {events}, audit records {audit}"
        )


# --- the parent: databases, runs, baselines, figures --------------------------------------------


def _child(role: str, env: dict[str, str], *args: str, **popen) -> subprocess.Popen:
    command = [sys.executable, __file__, "--role", role, *args]
    return subprocess.Popen(command, env=env, cwd=ROOT, text=True, **popen)  # noqa: S603


def _run_child(role: str, env: dict[str, str], *args: str) -> str:
    child = _child(role, env, *args, stdout=subprocess.PIPE)
    out, _ = child.communicate()
    if child.returncode:
        raise SystemExit(f"{role} failed ({child.returncode})")
    return out


def _start_work(
    env: dict[str, str], prefix: str, n: int, processes: int, *extra: str
) -> tuple[list[subprocess.Popen], float]:
    """`processes` children sharing n lifecycles, started together once all are set up; and
    the time they were started (their set-up excluded)."""
    children = [
        _child(
            "work",
            env,
            *("--prefix", prefix, "--n", str(n), "--share", str(k), "--processes", str(processes)),
            *extra,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for k in range(processes)
    ]
    for child in children:
        assert child.stdout.readline().strip() == "ready"
    start = time.time()
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    return children, start


def lifecycles_per_second(env: dict[str, str], prefix: str, n: int, processes: int) -> float:
    """Run n lifecycles with `processes` processes; lifecycles per second of wall time."""
    children, start = _start_work(env, prefix, n, processes)
    ends, cpu = [], 0.0
    for child in children:
        out, _ = child.communicate()
        if child.returncode:
            raise SystemExit(f"worker failed ({child.returncode})")
        end, seconds = out.split("done ", 1)[1].split()
        ends.append(float(end))
        cpu += float(seconds)
    rate = n / (max(ends) - start)
    # CPU of our processes only (not the database's): what the code costs whatever the load.
    print(
        f"{prefix:<20} {n} lifecycles: {rate:8.2f} lifecycles/s, "
        f"{1000 * cpu / n:6.0f} ms of our processes' CPU per lifecycle",
        flush=True,
    )
    return rate


def _completed(database_url: str, prefix: str) -> int:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        # The run's applicants were created together, so their ids are one range: a join on
        # the username instead, planned on statistics from before they existed, took seconds
        # by the end of a long run and kept a database core busy beside the work measured.
        first, last = connection.execute(
            "SELECT min(id), max(id) FROM accounts_user WHERE username LIKE %s", [f"{prefix}-%"]
        ).fetchone()
        return connection.execute(
            "SELECT count(*) FROM applications_application"
            " WHERE applicant_id BETWEEN %s AND %s AND status = 'completed'",
            [first, last],
        ).fetchone()[0]


def worker_memory(env: dict[str, str], n: int) -> dict[str, float]:
    """Run n lifecycles with a real `onething worker` making every outbox pass (two processes
    submit and review); the worker's resident memory at each tenth and at the end, and its
    peak, in MB. The warm-up is the first tenth, or the first WARM_UP_SECONDS if the first tenth
    came sooner."""
    prefix = "memory"
    _run_child("prepare", env, "--n", str(n), prefix)
    worker = subprocess.Popen(
        [sys.executable, "-m", "onething.cli", "worker", "--poll", "0.05", "--id", "bench-memory"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    samples: list[tuple[int, float, float]] = []  # lifecycles finished, seconds, MB
    try:
        children, start = _start_work(env, prefix, n, 2, "--no-outbox")
        next_tenth = 1
        while any(child.poll() is None for child in children):
            time.sleep(1)
            done = _completed(env["DATABASE_URL"], prefix)
            if done * 10 >= next_tenth * n:
                resident = memory_kb([worker.pid])[worker.pid]["VmRSS"] / 1024
                samples.append((done, time.time() - start, resident))
                next_tenth = done * 10 // n + 1
        for child in children:
            if child.wait():
                raise SystemExit(f"work failed ({child.returncode})")
        memory = memory_kb([worker.pid])[worker.pid]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    done = _completed(env["DATABASE_URL"], prefix)
    # Warm once every periodic job has run at its full size: a run shorter than that has only
    # its first tenth to go by.
    warmed = [sample for sample in samples if sample[1] >= WARM_UP_SECONDS] or samples[:1]
    warm = warmed[0][2] if warmed else memory["VmRSS"] / 1024
    figures = {
        "lifecycles": done,
        "warm": warm,
        "end": memory["VmRSS"] / 1024,
        "peak": memory["VmHWM"] / 1024,
    }
    series = ", ".join(
        f"{count} ({seconds / 60:.1f} min): {mb:.1f}" for count, seconds, mb in samples
    )
    warm_up = f"{warmed[0][0]} lifecycles, {warmed[0][1] / 60:.1f} min" if warmed else "none"
    print(
        f"onething worker after {done} of {n} lifecycles: resident {figures['end']:.1f} MB "
        f"(after the warm-up of {warm_up}: {warm:.1f} MB, growth {figures['end'] - warm:+.1f} MB), "
        f"peak {figures['peak']:.1f} MB\n  resident MB by lifecycles finished: {series}",
        flush=True,
    )
    return figures


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(sql)


def pgbench_lifecycles_per_second(database: str, seconds: int) -> float:
    """pgbench's whole lifecycles per second (2 clients, 2 threads) on minimal tables."""
    url = f"{PG_SERVER}/{database}"
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute((BENCH / "lifecycle_pgbench_schema.sql").read_text())
    command = ["pgbench", "-n", "-f", str(BENCH / "lifecycle.pgbench")]
    command += ["-c", "2", "-j", "2", "-T", str(seconds), url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    line = next(x for x in out.splitlines() if x.startswith("tps = "))
    rate = float(line.split()[2])
    print(f"pgbench    2 clients: {rate:8.2f} lifecycles/s (8 transactions each, {seconds} s)")
    return rate


def spiff_instances_per_second(instances: int) -> float:
    """SpiffWorkflow's newborn process run to the end `instances` times, as a stateless server
    would: the state read from JSON before every task and written back after it."""
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    parser = BpmnParser()
    parser.add_bpmn_file(str(BENCH / "newborn.bpmn"))
    spec = parser.get_spec("newborn")
    serializer = BpmnWorkflowSerializer()
    start = time.perf_counter()
    for number in range(instances):
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        stored = serializer.serialize_json(workflow)
        while True:
            workflow = serializer.deserialize_json(stored)
            ready = workflow.get_tasks(state=TaskState.READY, manual=True)
            if not ready:
                break
            task = ready[0]
            task.data[task.task_spec.name] = {"approved": True, "number": f"Q{number:06d}"}
            task.run()
            workflow.do_engine_steps()
            stored = serializer.serialize_json(workflow)
        assert workflow.is_completed()
    rate = instances / (time.perf_counter() - start)
    print(f"Spiff      1 process:  {rate:8.2f} instances/s ({instances} instances, JSON each step)")
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="lifecycles per run")
    parser.add_argument(
        "--tiny", action="store_true", help="CI: 3 lifecycles, 2 s of pgbench, no SQLite"
    )
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--worker-memory",
        type=int,
        default=0,
        metavar="N",
        help="also run N lifecycles with `onething worker` and report its memory (0: skip)",
    )
    parser.add_argument("--no-outbox", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--role", default="main", help=argparse.SUPPRESS)
    parser.add_argument("prefixes", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--share", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "prepare":
        prepare_database(args.prefixes, args.n)
    elif args.role == "work":
        work(args.prefix, args.n, args.share, args.processes, outbox=not args.no_outbox)
    elif args.role == "summary":
        summary(args.prefixes)
    else:
        return bench(args)
    return 0


def bench(args: argparse.Namespace) -> int:
    n, seconds = (3, 2) if args.tiny else (args.n, args.pgbench_seconds)
    memory_lifecycles = 10 if args.tiny else args.worker_memory
    scratch = Path(tempfile.mkdtemp(prefix="onething-bench-lifecycle-"))
    tag = secrets.token_hex(3)
    ours_db, pgbench_db = f"bench_lifecycle_{tag}", f"bench_lifecycle_{tag}_pgbench"
    env = {**os.environ, "ONETHING_DATA_DIR": str(scratch / "data"), "PYTHONPATH": str(ROOT)}
    env.pop("ONETHING_TEST_DATABASE_URL", None)
    backends = {"postgresql": f"{PG_SERVER}/{ours_db}"}
    if not (args.no_sqlite or args.tiny):
        backends["sqlite"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    print(f"{n} newborn lifecycles per run (6 cases, 3 certificates each)", flush=True)
    ours: dict[tuple[str, int], float] = {}
    memory: dict[str, float] = {}
    try:
        _admin(f'CREATE DATABASE "{ours_db}"')
        _admin(f'CREATE DATABASE "{pgbench_db}"')
        for label, url in backends.items():
            backend_env = {**env, "DATABASE_URL": url}
            prefixes = {processes: f"{label}-{processes}-process" for processes in (1, 2)}
            _run_child("prepare", backend_env, "--n", str(n), *prefixes.values())
            for processes, prefix in prefixes.items():
                ours[label, processes] = lifecycles_per_second(backend_env, prefix, n, processes)
            print(_run_child("summary", backend_env, *prefixes.values()), end="", flush=True)
            if label == "postgresql" and memory_lifecycles:
                memory = worker_memory(backend_env, memory_lifecycles)
        limit = pgbench_lifecycles_per_second(pgbench_db, seconds)
        spiff = spiff_instances_per_second(max(n, 20))
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{ours_db}" WITH (FORCE)')
        _admin(f'DROP DATABASE IF EXISTS "{pgbench_db}" WITH (FORCE)')
        shutil.rmtree(scratch, ignore_errors=True)
    print("\nratios (same run, same machine)")
    for (label, processes), rate in ours.items():
        print(f"  {label:<10} {processes} process(es): {rate:8.2f} lifecycles/s")
    pg1, pg2 = ours["postgresql", 1], ours["postgresql", 2]
    print(f"  2 processes ÷ 1 process (PostgreSQL):      {pg2 / pg1:6.2f}")
    print(f"  ours, 2 processes ÷ pgbench (target ≥ 0.3): {pg2 / limit:6.3f}")
    print(f"  ours, 1 process ÷ SpiffWorkflow (target ≥ 2): {pg1 / spiff:6.3f}")
    print(f"  ours, 2 processes ÷ SpiffWorkflow:          {pg2 / spiff:6.3f}")
    if memory:
        print(
            f"  onething worker after {memory['lifecycles']:.0f} lifecycles: growth after the "
            f"warm-up {memory['end'] - memory['warm']:+.1f} MB (target: none), "
            f"peak {memory['peak']:.0f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
