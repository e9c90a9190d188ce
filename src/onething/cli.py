"""The `onething` command: demo, serve, catalog, plan, and Django's management commands."""

from __future__ import annotations

import argparse
import atexit
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

DEMO_PORT = 8000


def _require_migrated() -> bool:
    """Tell the user how to set up the database instead of showing a traceback."""
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        print(f"onething: cannot reach the database: {exc}", file=sys.stderr)
        return False
    if pending:
        print(
            "onething: the database is not set up yet: run `onething manage migrate` "
            "(or `onething demo`, which also loads the demo data).",
            file=sys.stderr,
        )
        return False
    return True


def _setup_django() -> None:
    _prepare_data_dir()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onething.settings")
    import django

    django.setup()


def _demo_secret_key(data_dir: Path) -> str:
    """The demo's secret key, generated once and kept in the data folder."""
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _prepare_data_dir() -> Path:
    from onething.core.env import data_dir

    directory = data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def _start_simulator(port: int, secret: str) -> subprocess.Popen:
    """The department simulator as its own process, so departments' systems are real HTTP."""
    from django.conf import settings

    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [
            sys.executable,
            "-m",
            "onething.simulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--secret",
            secret,
            "--delay",
            "3",
            "--failure-rate",
            "0.2",
            "--reject-rate",
            "0.1",
            "--registers",
            str(settings.BASE_DIR / "demo_data" / "remote"),
        ],
        stdout=subprocess.DEVNULL,
    )
    atexit.register(process.terminate)
    return process


def cmd_demo(args: argparse.Namespace) -> int:
    directory = _prepare_data_dir()
    if not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = _demo_secret_key(directory)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]," + args.host)
    url = f"http://{args.host}:{args.port}/"
    os.environ.setdefault("ONETHING_PUBLIC_URL", url)
    os.environ.setdefault("ONETHING_IDENTITY_PROVIDERS", "demo_realname")
    _setup_django()
    from django.conf import settings

    print(f"OneThing demo — data folder {directory}")
    print(f"database: {settings.DATABASES['default']['NAME']}")
    _migrate()
    print("migrations applied")
    from onething.demo import demo_prepare

    simulator_port = args.simulator_port or args.port + 100
    simulator_url = f"http://127.0.0.1:{simulator_port}"
    simulator_secret = _demo_secret_key(directory)[:32]
    report, logins = demo_prepare(simulator_url=simulator_url, simulator_secret=simulator_secret)
    from onething.demo import demo_open311_key

    open311_key = demo_open311_key(directory / "open311-demo-key")
    print("demo catalog loaded:", report.summary())
    from onething.sharing.selectors import register_sizes

    sizes = ", ".join(f"{code} {n}" for code, n in register_sizes().items())
    print(f"demo registers (synthetic people and companies): {sizes}")
    print()
    print(f"  Portal:     {url}")
    print(f"  Workbench:  {url}workbench/")
    print(f"  API docs:   {url}api/docs")
    print(f"  Department simulator (connector services): {simulator_url}/stats")
    print(f"  12345 hotline rates: {url}hotline/rates/   hot spots: {url}hotline/hot-spots/")
    print(f"  Open311 GeoReport v2: {url}open311/v2/   demo api_key: {open311_key}")
    print()
    print("  Demo logins (demo only, never in production):")
    for login in logins:
        print(f"    {login.role:<34} {login.username} / {login.password}")
    print("    (every department has a reviewer: reviewer_<department code>)")
    print("    (more hotline units have staff: unit_<unit code>, e.g. unit_sm_police)")
    print()
    if args.no_serve:
        return 0
    from onething.server import run_server

    _start_simulator(simulator_port, simulator_secret)
    return run_server(
        host=args.host, port=args.port, workers=1, threads=args.threads, with_worker=True
    )


def cmd_serve(args: argparse.Namespace) -> int:
    if not os.environ.get("SECRET_KEY"):
        print(
            "onething serve: SECRET_KEY is not set. Set it in the environment to a long random "
            "value (for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'). "
            "`onething demo` generates one for local use.",
            file=sys.stderr,
        )
        return 2
    _setup_django()
    from onething.server import run_server

    return run_server(host=args.host, port=args.port, workers=args.workers, threads=args.threads)


def cmd_worker(args: argparse.Namespace) -> int:
    if args.poll <= 0:
        print("onething worker: --poll must be a positive number of seconds", file=sys.stderr)
        return 2
    _setup_django()
    import signal
    import threading

    from onething.outbox.registry import autodiscover, topics
    from onething.outbox.worker import Worker

    autodiscover()
    from onething.applications.services import deadline_schedule_sweep
    from onething.audit.tasks import audit_schedule_anchor
    from onething.complaints.tasks import hotline_schedule_sweep
    from onething.ratings.tasks import ratings_schedule_sweep
    from onething.supervision.tasks import rollups_schedule_refresh, snapshot_schedule_check

    # The periodic jobs book their next run themselves; this books the first.
    audit_schedule_anchor()
    deadline_schedule_sweep()
    hotline_schedule_sweep()
    ratings_schedule_sweep()
    rollups_schedule_refresh()
    snapshot_schedule_check()
    worker = Worker(args.worker_id, poll_seconds=args.poll)
    if args.once:
        handled = worker.run_until_idle()
        print(f"outbox worker {worker.worker_id}: {handled} message(s) handled")
        return 0
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(
        f"outbox worker {worker.worker_id} started; topics: {', '.join(topics) or 'none'}; "
        "stop with SIGTERM or Ctrl-C (the message in hand is finished first)",
        flush=True,
    )
    worker.run(stop)
    print(f"outbox worker {worker.worker_id} stopped", flush=True)
    return 0


def _read_definitions(paths: Sequence[str]):
    """The checked catalog, or None after printing every problem (file, path, reason)."""
    from onething.catalog.validation import CatalogInvalid, read_catalog

    try:
        return read_catalog(paths)
    except CatalogInvalid as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print(f"{len(exc.issues)} error(s); nothing loaded.", file=sys.stderr)
        return None


def cmd_catalog_check(args: argparse.Namespace) -> int:
    catalog = _read_definitions(args.paths)
    if catalog is None:
        return 1
    counts = ", ".join(f"{n} {kind}" for kind, n in catalog.counts().items())
    print(f"catalog is valid: {counts}")
    return 0


def cmd_catalog_load(args: argparse.Namespace) -> int:
    catalog = _read_definitions(args.paths)
    if catalog is None:
        return 1
    _setup_django()
    if not _require_migrated():
        return 2
    from onething.catalog.services import catalog_load

    print("loaded:", catalog_load(actor="cli", catalog=catalog).summary())
    return 0


def _read_registers(paths: Sequence[str]):
    """The checked registers, or None after printing every problem (file, record, field)."""
    from onething.sharing.registers import RegistersInvalid, read_registers

    try:
        return read_registers(paths)
    except RegistersInvalid as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print(f"{len(exc.issues)} error(s); nothing loaded.", file=sys.stderr)
        return None


def cmd_registers_check(args: argparse.Namespace) -> int:
    registers = _read_registers(args.paths)
    if registers is None:
        return 1
    counts = ", ".join(f"{code} {n}" for code, n in registers.counts().items())
    print(f"registers are valid: {counts}")
    return 0


def cmd_registers_load(args: argparse.Namespace) -> int:
    registers = _read_registers(args.paths)
    if registers is None:
        return 1
    _setup_django()
    if not _require_migrated():
        return 2
    from onething.core.errors import InvalidInput
    from onething.sharing.services import register_load

    try:
        print("loaded:", register_load(actor="cli", registers=registers).summary())
    except InvalidInput as exc:
        for where, reason in exc.fields.items():
            print(f"{where}: {reason}", file=sys.stderr)
        print("nothing loaded.", file=sys.stderr)
        return 1
    return 0


def cmd_catalog_list(args: argparse.Namespace) -> int:
    _setup_django()
    if not _require_migrated():
        return 2
    from django.utils import translation

    from onething.catalog import selectors

    with translation.override(args.lang):
        things = list(selectors.things_list())
        if not things:
            print("the catalog is empty: run `onething catalog load PATH` or `onething demo`")
        for thing in things:
            members = thing.member_count
            print(f"{thing.code:<20} {thing.audience:<10} {members:>2} services  {thing.name}")
    return 0


def _parse_answers(pairs: Sequence[str]) -> dict[str, str]:
    answers = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--answer {pair!r}: expected key=value")
        answers[key.strip()] = value.strip()
    return answers


def cmd_plan(args: argparse.Namespace) -> int:
    _setup_django()
    if not _require_migrated():
        return 2
    from django.utils import translation

    from onething.catalog import selectors
    from onething.catalog.plan_output import plan_as_dict
    from onething.core.errors import OneThingError

    with translation.override(args.lang):
        try:
            plan = plan_as_dict(selectors.thing_plan(args.thing, _parse_answers(args.answer)))
        except OneThingError as exc:
            print(exc.message, file=sys.stderr)
            for key, message in exc.fields.items():
                print(f"  {key}: {message}", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(plan, ensure_ascii=False, indent=2))
        else:
            print(_plan_text(plan))
    return 0


def _plan_text(plan: dict) -> str:
    lines = [f"{plan['thing']['name']} ({plan['thing']['code']})", ""]
    for stage in plan["stages"]:
        lines.append(f"stage {stage['number']} ({stage['days']} working days):")
        for code in stage["members"]:
            member = next(m for m in plan["members"] if m["service"] == code)
            after = f"  after {', '.join(member['after'])}" if member["after"] else ""
            lines.append(f"  - {member['name']} — {member['department']['name']}{after}")
    lines.append("")
    lines.append(f"form fields ({len(plan['form'])}):")
    for item in plan["form"]:
        flag = "*" if item["required"] else " "
        source = f"  [from {item['produced_by']}]" if item["produced_by"] else ""
        lines.append(f"  {flag} {item['key']}: {item['label']}{source}")
    lines.append(f"materials ({len(plan['materials'])}):")
    for item in plan["materials"]:
        lines.append(f"  - {item['name']} [{item['source']}]")
    r = plan["reductions"]
    lines += [
        "",
        f"fees: {plan['fees']['total']} {plan['fees']['currency']}",
        f"promised: {plan['promised_days']} working days",
        f"trips: {plan['trips']['online']} online, {plan['trips']['window']} at one window",
        "reductions (separately → together, saved):",
    ]
    for name in ("materials", "fields", "days", "trips"):
        lines.append(
            f"  {name:<9} {r[name]['separately']:>3} → {r[name]['together']:>3}  "
            f"(−{r[name]['saved']}, {r[name]['percent']}%)"
        )
    return "\n".join(lines)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    _setup_django()
    from onething.audit.verification import audit_verify

    result = audit_verify()
    if not result.ok:
        print(f"audit trail broken: {result.problem}", file=sys.stderr)
        return 1
    print(
        f"audit trail intact: {result.checked} records in {result.streams} streams, "
        f"{result.anchors} anchors"
    )
    return 0


def cmd_audit_anchor(args: argparse.Namespace) -> int:
    _setup_django()
    from onething.audit.services import ANCHOR_MAX_STREAMS, audit_anchor

    written = 0
    while (anchor := audit_anchor(actor="cli")) is not None:
        written += 1
        print(f"anchor {anchor.seq}: {len(anchor.heads)} streams, hash {anchor.hash}")
        if len(anchor.heads) < ANCHOR_MAX_STREAMS:
            break
    if not written:
        print("no stream changed since the last anchor; nothing written")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    _setup_django()
    if not _require_migrated():
        return 2
    from onething.certificates.services import signing_key_rotate
    from onething.core.actors import SystemActor

    kid = signing_key_rotate(actor=SystemActor("cli"))
    print(f"new certificates are signed with key {kid}; earlier keys stay published and valid")
    return 0


def cmd_exchange_token(args: argparse.Namespace) -> int:
    _setup_django()
    if not _require_migrated():
        return 2
    from onething.core.actors import SystemActor
    from onething.core.errors import NotFound
    from onething.sharing.exchange import exchange_client_ensure, exchange_client_issue_token

    actor = SystemActor("cli")
    try:
        client = exchange_client_ensure(
            actor=actor, department_code=args.department, name=args.name
        )
    except NotFound:
        print(f"onething exchange token: no department {args.department!r}", file=sys.stderr)
        return 1
    token = exchange_client_issue_token(actor=actor, client=client, name=args.token_name)
    print(
        f"exchange client {client} — its new token (shown once, keep it secret):", file=sys.stderr
    )
    print(token)
    return 0


def cmd_hotline_train(args: argparse.Namespace) -> int:
    import time

    from onething.complaints import classifier

    data = Path(args.data) if args.data else classifier.DEFAULT_DATA
    if args.out:
        out = Path(args.out)
    else:
        # Where the server reads it (ONETHING_HOTLINE_MODEL, by default in the data folder).
        _prepare_data_dir()
        _setup_django()
        from onething.complaints.runtime import model_path

        out = model_path()
    started = time.monotonic()
    corrections: list[classifier.Sample] = []
    if args.with_corrections:
        _setup_django()
        if not _require_migrated():
            return 2
        from onething.complaints.services import category_corrections_for_training
        from onething.core.actors import SystemActor

        corrections = [
            classifier.Sample(text, category)
            for text, category in category_corrections_for_training(actor=SystemActor("cli"))
        ]
    try:
        dataset = classifier.read_samples(data)
        model = classifier.train(
            dataset.samples, corrections=corrections, data_sha256=dataset.sha256
        )
    except (OSError, ValueError) as exc:
        print(f"onething: {exc}", file=sys.stderr)
        return 1
    evaluation = model.evaluation
    print(f"data: {data} ({len(dataset.samples)} samples, sha256 {dataset.sha256[:12]}…)")
    if args.with_corrections:
        corrected = classifier.latest_by_text(corrections)
        overriding = sum(1 for sample in dataset.samples if sample.text in corrected)
        print(
            f"corrections used: {model.corrections} corrected texts "
            f"(from {len(corrections)} corrected tickets; {overriding} override a label of "
            "the data; the held-out split is drawn from the data alone)"
        )
    print(f"held-out: {evaluation.test_size} samples, trained on {evaluation.train_size}")
    print(f"{'category':<24} {'precision':>9} {'recall':>7} {'support':>8}")
    for category, score in evaluation.per_category.items():
        print(f"{category:<24} {score.precision:>9.3f} {score.recall:>7.3f} {score.support:>8}")
    print(f"majority-class rate: {evaluation.majority_rate:.3f}")
    print(f"held-out accuracy: {evaluation.accuracy:.3f}")
    classifier.save(model, out)
    print(f"model: {out} ({time.monotonic() - started:.1f}s)")
    return 0


def cmd_hotline_corrections(args: argparse.Namespace) -> int:
    _setup_django()
    if not _require_migrated():
        return 2
    from onething.complaints.services import category_corrections_export
    from onething.core.actors import SystemActor

    document, rows = category_corrections_export(actor=SystemActor("cli"))
    try:
        Path(args.csv).write_bytes(document)
    except OSError as exc:
        print(f"onething hotline corrections: {exc}", file=sys.stderr)
        return 1
    print(f"{rows} category corrections written to {args.csv} (numbers masked)")
    return 0


def cmd_hotline_key(args: argparse.Namespace) -> int:
    _setup_django()
    if not _require_migrated():
        return 2
    from onething.complaints.services import open311_client_create
    from onething.core.actors import SystemActor
    from onething.core.errors import InvalidInput

    try:
        client, key = open311_client_create(
            actor=SystemActor("cli"), name=args.name, contact=args.contact
        )
    except InvalidInput as exc:
        print(f"onething hotline key: {exc.fields.get('name', exc)}", file=sys.stderr)
        return 1
    print(
        f"Open311 client {client.name} — its api_key (shown once, keep it secret; "
        "revoke it in the admin):",
        file=sys.stderr,
    )
    print(key)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    if args.applications < 0 or args.tickets < 0 or args.batch_size < 1:
        print(
            "onething generate: --applications and --tickets must be 0 or more, "
            "--batch-size at least 1",
            file=sys.stderr,
        )
        return 2
    _setup_django()
    if not _require_migrated():
        return 2
    from onething.core.actors import SystemActor
    from onething.supervision.generate import GenerateRefused, history_generate

    try:
        report = history_generate(
            actor=SystemActor("cli"),
            applications=args.applications,
            tickets=args.tickets,
            seed=args.seed,
            yes=args.yes,
            batch_size=args.batch_size,
            out=lambda line: print(line, flush=True),
        )
    except GenerateRefused as exc:
        print(f"onething generate: {exc.message}", file=sys.stderr)
        return 1
    for table, count in report.rows.items():
        print(f"  {table:<24} {count:>12,}")
    print(f"{report.total:,} rows in {report.seconds:.1f}s ({report.rows_per_second:,.0f} rows/s)")
    return 0


def cmd_rollups(args: argparse.Namespace) -> int:
    _setup_django()
    from onething.core.actors import SystemActor
    from onething.supervision import rollups, services
    from onething.supervision.metrics import key_text

    actor = SystemActor("cli")
    if args.rollups_command == "rebuild":
        rows = services.rollups_rebuild(actor=actor)
        print(f"supervision roll-ups rebuilt: {rows} row(s)")
        return 0
    if args.rollups_command == "refresh":
        result = services.rollups_refresh(actor=actor)
        print(
            f"supervision roll-ups refreshed: {result.applications} application(s) and "
            f"{result.tickets} ticket(s) looked at, {result.changed} changed"
        )
        return 0
    differences = rollups.differences()
    if not differences:
        print("supervision roll-ups: equal to a direct recomputation")
        return 0
    for key, stored, expected in differences[:20]:
        print(f"{key_text(key)}: stored {stored}, recomputed {expected}", file=sys.stderr)
    print(
        f"supervision roll-ups: {len(differences)} key(s) differ; "
        "run `onething rollups rebuild` to repair",
        file=sys.stderr,
    )
    return 1


def cmd_manage(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["onething manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onething", description="OneThing: apply once for a life or business event."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the whole platform on SQLite with demo data")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=DEMO_PORT)
    demo.add_argument("--threads", type=int, default=8)
    demo.add_argument("--simulator-port", type=int, default=0, help="default: the web port + 100")
    demo.add_argument("--no-serve", action="store_true", help="prepare the data folder and exit")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="production server (gunicorn); no demo data")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--threads", type=int, default=4)
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser(
        "worker", help="work off the outbox (dispatches, callbacks) until stopped"
    )
    worker.add_argument(
        "--id", dest="worker_id", metavar="NAME", help="worker name (default: host-pid-random)"
    )
    worker.add_argument("--poll", type=float, default=1.0, metavar="SECONDS", help="idle wait")
    worker.add_argument("--once", action="store_true", help="handle what is due, then exit")
    worker.set_defaults(func=cmd_worker)

    catalog = sub.add_parser("catalog", help="check, load and list catalog definitions")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True)
    check = catalog_sub.add_parser("check", help="validate definition files; load nothing")
    check.add_argument("paths", nargs="+", metavar="PATH")
    check.set_defaults(func=cmd_catalog_check)
    load = catalog_sub.add_parser("load", help="validate, then upsert (idempotent)")
    load.add_argument("paths", nargs="+", metavar="PATH")
    load.set_defaults(func=cmd_catalog_load)
    listing = catalog_sub.add_parser("list", help="the things in the database")
    listing.add_argument("--lang", default="zh-hans", choices=["zh-hans", "en"])
    listing.set_defaults(func=cmd_catalog_list)

    registers = sub.add_parser(
        "registers", help="check and load the platform's own registers (population, births …)"
    )
    registers_sub = registers.add_subparsers(dest="registers_command", required=True)
    check = registers_sub.add_parser("check", help="validate register files; load nothing")
    check.add_argument("paths", nargs="+", metavar="PATH")
    check.set_defaults(func=cmd_registers_check)
    load = registers_sub.add_parser("load", help="validate, then make the stored records match")
    load.add_argument("paths", nargs="+", metavar="PATH")
    load.set_defaults(func=cmd_registers_load)

    plan = sub.add_parser("plan", help="print the plan of a thing for some answers")
    plan.add_argument("thing", metavar="THING_CODE")
    plan.add_argument("--answer", action="append", default=[], metavar="KEY=VALUE")
    plan.add_argument("--json", action="store_true")
    plan.add_argument("--lang", default="zh-hans", choices=["zh-hans", "en"])
    plan.set_defaults(func=cmd_plan)

    audit = sub.add_parser("audit", help="check and anchor the hash-chained audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify", help="check every record; exit 1 naming the first broken one"
    )
    verify.set_defaults(func=cmd_audit_verify)
    anchor = audit_sub.add_parser("anchor", help="anchor the heads of changed streams now")
    anchor.set_defaults(func=cmd_audit_anchor)

    keys = sub.add_parser("keys", help="the platform's certificate signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    rotate = keys_sub.add_parser(
        "rotate", help="sign new certificates with a new key (old ones keep verifying)"
    )
    rotate.set_defaults(func=cmd_keys_rotate)

    exchange = sub.add_parser(
        "exchange", help="department systems that query data sources through the platform"
    )
    exchange_sub = exchange.add_subparsers(dest="exchange_command", required=True)
    token = exchange_sub.add_parser(
        "token", help="register a department's system if needed and print a new token for it"
    )
    token.add_argument("department", metavar="DEPARTMENT_CODE")
    token.add_argument("--name", default="default", help="the system's name (default: default)")
    token.add_argument("--token-name", default="cli", help="what the token is for")
    token.set_defaults(func=cmd_exchange_token)

    hotline = sub.add_parser(
        "hotline", help="the 12345 hotline: its complaint classifier and Open311 clients"
    )
    hotline_sub = hotline.add_subparsers(dest="hotline_command", required=True)
    hotline_train = hotline_sub.add_parser(
        "train", help="train the category classifier, print its held-out accuracy, save it"
    )
    hotline_train.add_argument(
        "--data", metavar="PATH", help="text,category CSV (default: shipped)"
    )
    hotline_train.add_argument(
        "--out", metavar="PATH", help="model file (default: in the data folder)"
    )
    hotline_train.add_argument(
        "--with-corrections",
        action="store_true",
        help="also train on the agents' category corrections (held-out split: the data only)",
    )
    hotline_train.set_defaults(func=cmd_hotline_train)
    hotline_corrections = hotline_sub.add_parser(
        "corrections", help="export the agents' category corrections (numbers masked)"
    )
    hotline_corrections.add_argument(
        "--csv", required=True, metavar="PATH", help="the CSV file to write"
    )
    hotline_corrections.set_defaults(func=cmd_hotline_corrections)
    hotline_key = hotline_sub.add_parser(
        "key", help="register an Open311 client application and print its api_key"
    )
    hotline_key.add_argument("name", metavar="NAME", help="the client application's name")
    hotline_key.add_argument("--contact", default="", help="who runs it (e-mail, phone …)")
    hotline_key.set_defaults(func=cmd_hotline_key)

    generate = sub.add_parser(
        "generate",
        help="write a synthetic two-year history (applications, tickets, ratings) for dashboards",
    )
    generate.add_argument("--applications", type=int, default=1000, metavar="N")
    generate.add_argument("--tickets", type=int, default=1000, metavar="M")
    generate.add_argument("--seed", type=int, default=0, help="the same seed, the same history")
    generate.add_argument(
        "--batch-size",
        type=int,
        default=2_000,
        metavar="N",
        help="applications or tickets per batch (each about 50,000 rows), one commit each",
    )
    generate.add_argument(
        "--yes", action="store_true", help="add to a database that already holds applications"
    )
    generate.set_defaults(func=cmd_generate)
    rollups = sub.add_parser("rollups", help="the supervision dashboards' roll-up tables")
    rollups_sub = rollups.add_subparsers(dest="rollups_command", required=True)
    rollups_sub.add_parser(
        "rebuild", help="recompute every roll-up from the applications (streamed, in chunks)"
    ).set_defaults(func=cmd_rollups)
    rollups_sub.add_parser(
        "refresh", help="fold the applications changed since the last refresh in now"
    ).set_defaults(func=cmd_rollups)
    rollups_sub.add_parser(
        "check", help="compare with a direct recomputation; exit 1 naming the differences"
    ).set_defaults(func=cmd_rollups)

    manage = sub.add_parser("manage", help="Django's management commands", add_help=False)
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
