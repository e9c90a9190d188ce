"""The JSON API under concurrent load, against the framework's ceiling on the same server.

    uv run python bench/http.py --clients 1,8,32,128 --seconds 10
    uv run python bench/http.py --tiny    # CI: 1 and 4 clients, 0.5 s a step, 200 mixed requests

A scratch PostgreSQL database gets the demo catalog and registers, with as many copies of the
demo newborn's family as clients (so that submits come from many applicants); the server is
`onething serve` (gunicorn, gthread; --workers and --threads as its defaults, 2 and 4); the load
comes from a separate process (asyncio and httpx), so that it does not share the server's
interpreter. At each number of concurrent clients, for `--seconds` each:
- ceiling: GET /healthz, a trivial Django JSON view through the same middleware and server;
- plan: POST /api/v1/things/<code>/plan with random answers, over every demo thing (public);
- submit: POST /api/v1/applications, the newborn's one-call submit, the mothers in turn;
- status: GET /api/v1/applications/<reference> of the submitted applications;
- approve: the health commission's reviewer accepts, then approves, the first case of a
  submitted application (the approval request is timed; the accept before it is not).
Then `--memory-requests` mixed requests at 8 clients, reading every web worker's resident memory
(VmRSS) after the first tenth (the warm-up) and at the end, and its peak (VmHWM).
Prints throughput and p50/p95/p99 per step and, LAST, the ratios to the ceiling and the targets.
Not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# Python puts this folder first on the path, where bench/http.py would stand in for the standard
# library's http (which Django and httpx import): look here last.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH] + [str(BENCH)]
sys.path.append(str(BENCH.parent))  # tests.applications.conftest.valid_value

from procmem import memory_kb  # noqa: E402 - after the path is set

OPERATIONS = ("ceiling", "plan", "submit", "status", "approve")
DEMO_FAMILY_MOTHER = "350203199406121242"  # 林晓燕, the newborn's mother in the demo registers
DEMO_FAMILY_FATHER = "35020319920203135X"  # 陈建国, her husband
DEMO_FAMILY = {DEMO_FAMILY_MOTHER, DEMO_FAMILY_FATHER}
NEWBORN_ANSWERS = {
    "mother_insured": False,
    "vaccination_certificate_issued": True,
    "apply_social_security_card": False,
}
FIRST_SERVICE = "birth_medical_certificate"  # the health commission's case, ready at once


# --- the load generator (a separate process) ---------------------------------------------------


def _percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _summary(latencies: list[float], errors: int, seconds: float) -> dict:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": errors,
        "per_second": len(ordered) / seconds,
        "p50_ms": _percentile(ordered, 0.50) * 1000,
        "p95_ms": _percentile(ordered, 0.95) * 1000,
        "p99_ms": _percentile(ordered, 0.99) * 1000,
    }


class Load:
    """The requests of each step, sharing what earlier steps created (references, cases)."""

    def __init__(self, client, config: dict) -> None:
        self.client = client
        self.config = config
        self.rng = random.Random(1)
        self.references: list[tuple[str, dict]] = []
        self.cases: list[int] = []
        self.submitted = 0

    def _plan_request(self):
        code, questions = self.rng.choice(self.config["things"])
        answers = {}
        for key, kind, options in questions:
            answers[key] = self.rng.choice(options) if kind == "choice" else self.rng.random() < 0.5
            if kind == "number":
                answers[key] = self.rng.choice(options)
        return self.client.post(f"/api/v1/things/{code}/plan", json={"answers": answers})

    async def ceiling(self):
        return await self.client.get("/healthz")

    async def plan(self):
        return await self._plan_request()

    async def submit(self):
        self.submitted += 1
        mothers = self.config["mothers"]
        headers, body = mothers[self.submitted % len(mothers)]
        response = await self.client.post(
            "/api/v1/applications",
            json=body,
            headers={
                **headers,
                "Idempotency-Key": f"bench-{os.getpid()}-{self.submitted}-{secrets.token_hex(4)}",
            },
        )
        if response.status_code == 201:
            body = response.json()
            self.references.append((body["reference"], headers))
            self.cases.extend(c["id"] for c in body["cases"] if c["service"] == FIRST_SERVICE)
        return response

    async def status(self):
        reference, headers = self.rng.choice(self.references)
        return await self.client.get(f"/api/v1/applications/{reference}", headers=headers)

    async def approve(self):
        if not self.cases:
            return None  # every submitted case approved: the step ends early
        case = self.cases.pop()
        headers = self.config["reviewer"]
        await self.client.post(f"/api/v1/workbench/cases/{case}/accept", headers=headers)
        started = time.perf_counter()
        response = await self.client.post(
            f"/api/v1/workbench/cases/{case}/approve",
            json={"outputs": {"child.birth_certificate_number": f"Q{case:09d}"}},
            headers=headers,
        )
        return response, started

    async def mixed(self):
        choice = self.rng.random()
        if choice < 0.3:
            return await self.plan()
        if choice < 0.6 and self.references:
            return await self.status()
        if choice < 0.7:
            return await self.submit()
        if choice < 0.8:
            return await self.client.get("/api/v1/things")
        return await self.ceiling()


async def _step(operation, clients: int, seconds: float, limit: int | None = None) -> dict:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    done = 0

    async def one_client() -> None:
        nonlocal errors, done
        while time.perf_counter() < deadline and (limit is None or done < limit):
            done += 1
            started = time.perf_counter()
            try:
                result = await operation()
            except Exception:
                errors += 1
                continue
            if result is None:
                return
            if isinstance(result, tuple):
                result, started = result
            if result.status_code >= 400:
                errors += 1
            else:
                latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return _summary(latencies, errors, time.perf_counter() - began)


async def _load(config: dict) -> dict:
    import httpx

    limits = httpx.Limits(max_connections=max(config["clients"]) + 8)
    async with httpx.AsyncClient(
        base_url=config["base_url"], limits=limits, timeout=120, headers=config["language"]
    ) as client:
        load = Load(client, config)
        await _step(load.ceiling, 4, min(2.0, config["seconds"]))  # warm every worker
        results: dict = {}
        for clients in config["clients"]:
            for name in OPERATIONS:
                results[f"{name}@{clients}"] = await _step(
                    getattr(load, name), clients, config["seconds"]
                )
                print(name, clients, json.dumps(results[f"{name}@{clients}"]), file=sys.stderr)
        total = config["memory_requests"]
        warm = await _step(load.mixed, 8, 3600, limit=total // 10)
        after_warm_up = memory_kb(config["worker_pids"])
        rest = await _step(load.mixed, 8, 3600, limit=total - total // 10)
        memory = {
            "requests": warm["requests"] + rest["requests"],
            "errors": warm["errors"] + rest["errors"],
            "after_warm_up": after_warm_up,
            "at_end": memory_kb(config["worker_pids"]),
        }
        return {"steps": results, "memory": memory}


# --- the conductor: database, server, load process, report ------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _families(registers, count: int) -> list[tuple[str, str]]:
    """`count` copies of the demo's newborn family (林晓燕 and her husband) in the registers,
    each with new ID numbers: submits by different applicants do not wait on one person's
    records (the audit trail chains each person's data uses on their own stream)."""
    from tests.factories import make_ric

    families = [
        (
            make_ric(birth=dt.date(1994, 6, 12), serial=i),
            make_ric(birth=dt.date(1992, 2, 3), serial=i),
        )
        for i in range(200, 200 + count)
    ]
    for code, definition in registers.registers.items():
        records = registers.records[code]
        originals = [r for r in records if DEMO_FAMILY & {str(v) for v in r.values()}]
        for number, (mother, father) in enumerate(families):
            swap = {DEMO_FAMILY_MOTHER: mother, DEMO_FAMILY_FATHER: father}
            for record in originals:
                copy = {k: swap.get(v, v) if isinstance(v, str) else v for k, v in record.items()}
                if copy[definition.key] == record[definition.key]:
                    if definition.fields[definition.key].type != "text":
                        continue  # another person's record that only names the family
                    copy[definition.key] = f"{record[definition.key]}-B{number}"
                records.append(copy)
    return families


def _prepare(families: int) -> dict:
    """The demo catalog and registers with `families` copies of the newborn's family, each
    mother with her ID card e-certificate (as the tests' `resident_mother`), and a health
    reviewer; what the load needs: tokens, one-call submit bodies, every thing's questions."""
    from scratch import setup_django_with_catalog

    setup_django_with_catalog()
    from django.conf import settings
    from django.db import connections
    from tests.applications.conftest import valid_value
    from tests.factories import PersonFactory, id_card_issue, reviewer

    from onething.accounts.auth import token_issue
    from onething.applications import services
    from onething.catalog.models import Thing
    from onething.catalog.selectors import thing_bundle
    from onething.sharing.registers import read_registers
    from onething.sharing.services import register_load

    registers = read_registers([settings.DEMO_REGISTERS_DIR])
    couples = _families(registers, families)
    register_load(actor="bench", registers=registers)
    mothers = []
    for mother_id, _father_id in couples:
        # An unusable password ("!"): these mothers call the API with tokens, and hashing a
        # password hundreds of times would slow the set-up.
        mother = PersonFactory(id_number=mother_id, real_name="林晓燕", password="!")  # noqa: S106
        id_card_issue(mother, {"name": "林晓燕", "id_number": mother_id}, actor="bench")
        mothers.append(mother)
    draft = services.application_start(
        actor=mothers[0], thing_code="newborn", answers=NEWBORN_ANSWERS
    )
    plan = services.application_plan(draft)
    form = {f.element.key: valid_value(f.element, mothers[0]) for f in plan.form if f.asked}
    things = []
    for code in Thing.objects.order_by("code").values_list("code", flat=True):
        questions = []
        for question in thing_bundle(code).thing.questions:
            if question.type == "choice":
                questions.append((question.key, "choice", [o.value for o in question.options]))
            elif question.type == "number":
                low = int(question.min or 0)
                questions.append((question.key, "number", [low, low + 1, low + 100]))
            else:
                questions.append((question.key, "yes_no", [True, False]))
        things.append((code, questions))

    def bearer(user) -> dict:
        return {"Authorization": f"Bearer {token_issue(user=user, name='bench')}"}

    def submit_body(mother) -> dict:
        own = {k: mother.id_number if v == mothers[0].id_number else v for k, v in form.items()}
        return {
            "thing": "newborn",
            "answers": NEWBORN_ANSWERS,
            "form": own,
            "consent": True,
            "share_data": True,
            "share_sensitive": True,
        }

    config = {
        "things": things,
        "mothers": [(bearer(mother), submit_body(mother)) for mother in mothers],
        "reviewer": bearer(reviewer("fj_health")),
        "language": {"Accept-Language": "zh-Hans"},
    }
    connections.close_all()
    return config


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
            if int(fields["PPid"]) == pid:
                found.append(int(status.parent.name))
    return sorted(found)


@contextlib.contextmanager
def _server(port: int, workers: int, threads: int):
    import httpx

    command = [sys.executable, "-m", "onething.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers), "--threads", str(threads)]
    environment = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(50), "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(  # noqa: S603 - our own command
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise SystemExit("the server did not answer /healthz within 30 s")
        while len(_children(server.pid)) < workers:
            time.sleep(0.1)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


def _report(config: dict, result: dict) -> None:
    steps = result["steps"]
    print(
        f"server: onething serve, {config['workers']} workers × {config['threads']} threads "
        f"(gthread); {config['seconds']} s a step; load from a separate process"
    )
    print(f"{'step':<16} {'req/s':>9} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'errors':>7}")
    for key, row in steps.items():
        print(
            f"{key:<16} {row['per_second']:>9.1f} {row['p50_ms']:>9.1f} {row['p95_ms']:>9.1f} "
            f"{row['p99_ms']:>9.1f} {row['errors']:>7}"
        )
    memory = result["memory"]
    print(f"memory: {memory['requests']} mixed requests at 8 clients ({memory['errors']} errors)")
    for pid, end in memory["at_end"].items():
        warm = memory["after_warm_up"].get(pid, {}).get("VmRSS", 0)
        print(
            f"  web worker {pid}: RSS after warm-up {warm / 1024:.0f} MB, at the end "
            f"{end['VmRSS'] / 1024:.0f} MB (growth {(end['VmRSS'] - warm) / 1024:+.1f} MB), "
            f"peak {end['VmHWM'] / 1024:.0f} MB; target < 200 MB"
        )
    print("ratios to the ceiling (GET /healthz at the same number of clients), req/s:")
    for clients in config["clients"]:
        ceiling = steps[f"ceiling@{clients}"]["per_second"] or float("nan")
        parts = [
            f"{name} {steps[f'{name}@{clients}']['per_second'] / ceiling:.2f}"
            for name in OPERATIONS[1:]
        ]
        print(f"  {clients:>3} clients: " + ", ".join(parts))
    if 32 in config["clients"]:
        ceiling = steps["ceiling@32"]["per_second"] or float("nan")
        print(
            "targets at 32 clients: status ÷ ceiling "
            f"{steps['status@32']['per_second'] / ceiling:.2f} (≥ 0.5), plan ÷ ceiling "
            f"{steps['plan@32']['per_second'] / ceiling:.2f} (≥ 0.5), p99 of submit "
            f"{steps['submit@32']['p99_ms']:.0f} ms (< 250 ms)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,8,32,128", help="concurrent clients, by commas")
    parser.add_argument("--seconds", type=float, default=10, help="length of each step")
    parser.add_argument("--memory-requests", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="as `onething serve`")
    parser.add_argument("--threads", type=int, default=4, help="as `onething serve`")
    parser.add_argument("--tiny", action="store_true", help="CI: 1 and 4 clients, 0.5 s, 200")
    parser.add_argument("--load", help=argparse.SUPPRESS)  # the load process's own entry
    args = parser.parse_args()
    if args.load:
        config = json.loads(Path(args.load).read_text())
        print(json.dumps(asyncio.run(_load(config))))
        return 0
    if args.tiny:
        args.clients, args.seconds, args.memory_requests = "1,4", 0.5, 200
    from scratch import scratch_database

    clients = [int(n) for n in args.clients.split(",")]
    with scratch_database("bench_http"):
        config = _prepare(families=max(8, max(clients)))
        port = _free_port()
        config.update(
            base_url=f"http://127.0.0.1:{port}",
            clients=clients,
            seconds=args.seconds,
            memory_requests=args.memory_requests,
            workers=args.workers,
            threads=args.threads,
        )
        with _server(port, args.workers, args.threads) as server:
            config["worker_pids"] = _children(server.pid)
            config_file = Path(f"/tmp/bench-http-{os.getpid()}.json")  # noqa: S108
            config_file.write_text(json.dumps(config))
            try:
                load = subprocess.run(  # noqa: S603 - this script, in its load role
                    [sys.executable, __file__, "--load", str(config_file)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
            finally:
                config_file.unlink(missing_ok=True)
    _report(config, json.loads(load.stdout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
