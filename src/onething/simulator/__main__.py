"""``python -m onething.simulator``: run the department simulator until interrupted."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from onething.simulator.config import SimulatorConfig
from onething.simulator.server import DepartmentSimulator

SECRET_ENV = "ONETHING_SIMULATOR_SECRET"  # noqa: S105 - a variable name, not a secret


def _department_delay(text: str) -> tuple[str, float]:
    code, sep, seconds = text.partition("=")
    try:
        if not sep or not code:
            raise ValueError
        return code, float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected CODE=SECONDS, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m onething.simulator",
        description=(
            "Simulated department systems: accept cases, call back with decisions, "
            "answer registry reads."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8100, help="port (0 picks a free one)")
    parser.add_argument("--secret", help=f"callback signing secret (default ${SECRET_ENV})")
    parser.add_argument("--delay", type=float, default=2.0, help="seconds until a decision")
    parser.add_argument(
        "--department-delay",
        type=_department_delay,
        action="append",
        default=[],
        metavar="CODE=SECONDS",
        help="delay for one department (repeatable)",
    )
    parser.add_argument("--failure-rate", type=float, default=0.0, help="chance of a 503")
    parser.add_argument("--reject-rate", type=float, default=0.0, help="chance of a rejection")
    parser.add_argument(
        "--fail-first-n", type=int, default=0, help="503 for the first N requests of each key"
    )
    parser.add_argument("--callback-attempts", type=int, default=8)
    parser.add_argument(
        "--registers",
        action="append",
        default=[],
        metavar="DIR",
        help="register files or folder answering GET /registry/... (repeatable)",
    )
    parser.add_argument(
        "--registry-delay", type=float, default=0.0, help="seconds before a registry read answers"
    )
    parser.add_argument(
        "--registry-failure-rate", type=float, default=0.0, help="chance of a 503 to a read"
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--log-level", default="INFO")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    secret = args.secret or os.environ.get(SECRET_ENV, "")
    if not secret:
        parser.error(f"a secret is required: --secret or ${SECRET_ENV}")
    try:
        config = SimulatorConfig(
            secret=secret,
            delay_seconds=args.delay,
            department_delays=dict(args.department_delay),
            failure_rate=args.failure_rate,
            reject_rate=args.reject_rate,
            fail_first_n=args.fail_first_n,
            callback_attempts=args.callback_attempts,
            seed=args.seed,
            registers=args.registers,
            registry_delay_seconds=args.registry_delay,
            registry_failure_rate=args.registry_failure_rate,
        )
        # Reads the registers: a mistake in them is reported before anything listens.
        simulator = DepartmentSimulator(config)
    except ValueError as error:
        parser.error(str(error))
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        base_url = simulator.start(host=args.host, port=args.port)
    except OSError as error:
        print(f"cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    print(f"department simulator listening on {base_url}", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
