"""`python -m onething.simulator` runs the simulator standalone."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
from urllib.parse import urlsplit

import pytest


def test_the_command_serves_until_terminated():
    env = {**os.environ, "ONETHING_SIMULATOR_SECRET": "from-the-environment"}
    process = subprocess.Popen(
        [sys.executable, "-m", "onething.simulator", "--port", "0", "--delay", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("department simulator listening on http://127.0.0.1:")
        url = urlsplit(line.rsplit(" ", 1)[1].strip())
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()
    assert returncode == 0


@pytest.mark.parametrize(
    "arguments",
    [["--failure-rate", "2"], ["--department-delay", "tax"]],
)
def test_the_command_refuses_bad_arguments(arguments):
    env = {k: v for k, v in os.environ.items() if k != "ONETHING_SIMULATOR_SECRET"}
    result = subprocess.run(
        [sys.executable, "-m", "onething.simulator", "--secret", "s", *arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr


def test_the_command_requires_a_secret():
    env = {k: v for k, v in os.environ.items() if k != "ONETHING_SIMULATOR_SECRET"}
    result = subprocess.run(
        [sys.executable, "-m", "onething.simulator", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )

    assert result.returncode == 2
    assert "secret" in result.stderr
