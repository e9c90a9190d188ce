"""Planning every demo thing with random answers: microseconds per plan.

    uv run python bench/plan.py [--plans 2000] [--seed 1]

Two figures per thing, measured in one run:
- pure: `catalog.planning.plan` on a bundle read once from the definition files (the planning
  itself, no database);
- stored: `catalog.selectors.thing_plan`, what the API and the pages call per request, on a scratch
  PostgreSQL database holding the demo catalog (the bundle's catalog reads included, or the cached
  bundle when the catalog has not changed).
Answers are drawn at random (seeded) from each question's options, yes/no and number range.
Prints one line per thing, then the largest thing's figures and the target (< 1 ms) LAST.
Not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# Python puts this folder first on the path, where bench/http.py would stand in for the standard
# library's http (which Django and httpx import): look here last.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH] + [str(BENCH)]

from scratch import scratch_database, setup_django_with_catalog  # noqa: E402

TARGET_MICROSECONDS = 1000  # issue 8: planning the largest demo thing in under 1 ms


def random_answers(questions, rng: random.Random) -> dict:
    """One valid answer per question: a random option, yes or no, or a number in range."""
    answers = {}
    for question in questions:
        if question.type == "yes_no":
            answers[question.key] = rng.random() < 0.5
        elif question.type == "choice":
            answers[question.key] = rng.choice(question.options).value
        else:
            low = int(question.min if question.min is not None else 0)
            high = int(question.max if question.max is not None else low + 10)
            answers[question.key] = rng.randint(low, high)
    return answers


def microseconds_per_call(call, answer_sets: list[dict]) -> float:
    """The median over five rounds of the mean time per call (the machine is shared)."""
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for answers in answer_sets:
            call(answers)
        rounds.append((time.perf_counter() - start) / len(answer_sets) * 1e6)
    return statistics.median(rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=2000, help="random answer sets per thing")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with scratch_database("bench_plan"):
        setup_django_with_catalog()
        from django.conf import settings
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from onething.catalog import selectors
        from onething.catalog.plan_output import plan_as_dict
        from onething.catalog.planning import plan
        from onething.catalog.validation import read_catalog

        catalog = read_catalog([settings.CATALOG_DEFINITIONS_DIR])
        rng = random.Random(args.seed)
        rows = []
        for code in sorted(catalog.things):
            bundle = catalog.bundle(code)
            answer_sets = [random_answers(bundle.thing.questions, rng) for _ in range(args.plans)]
            stored_sets = answer_sets[: max(1, args.plans // 10)]
            selectors.thing_plan(code, answer_sets[0])  # warm: imports, first queries
            with CaptureQueriesContext(connection) as queries:
                selectors.thing_plan(code, answer_sets[0])
            rows.append(
                {
                    "code": code,
                    "members": len(bundle.thing.members),
                    "questions": len(bundle.thing.questions),
                    "pure": microseconds_per_call(lambda a, b=bundle: plan(b, a), answer_sets),
                    "pure_json": microseconds_per_call(
                        lambda a, b=bundle: plan_as_dict(plan(b, a)), answer_sets
                    ),
                    "stored": microseconds_per_call(
                        lambda a, c=code: selectors.thing_plan(c, a), stored_sets
                    ),
                    "queries": len(queries),
                }
            )

    print(f"{args.plans} random answer sets per thing, seed {args.seed}; µs per plan")
    print(
        f"{'thing':<20} {'members':>7} {'questions':>9} {'pure':>9} {'+as JSON':>9} "
        f"{'stored':>9} {'queries':>7}"
    )
    for row in rows:
        print(
            f"{row['code']:<20} {row['members']:>7} {row['questions']:>9} {row['pure']:>9.1f} "
            f"{row['pure_json']:>9.1f} {row['stored']:>9.1f} {row['queries']:>7}"
        )
    largest = max(rows, key=lambda row: (row["members"], row["questions"]))
    print(
        f"largest thing {largest['code']} ({largest['members']} members): "
        f"pure {largest['pure']:.1f} µs, as stored {largest['stored']:.1f} µs "
        f"({largest['queries']} queries a plan); target < {TARGET_MICROSECONDS} µs: "
        f"pure {largest['pure'] / TARGET_MICROSECONDS:.2f} × target, "
        f"stored {largest['stored'] / TARGET_MICROSECONDS:.2f} × target; "
        f"stored ÷ pure {largest['stored'] / largest['pure']:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
