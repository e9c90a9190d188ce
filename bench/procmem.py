"""Resident memory of processes, read from /proc (Linux): what the memory figures report."""

from __future__ import annotations

import contextlib
from pathlib import Path


def memory_kb(pids: list[int]) -> dict[int, dict[str, int]]:
    """Resident (VmRSS) and peak resident (VmHWM) memory of each live process, in kB."""
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = dict(
                line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            )
            found[pid] = {k: int(fields[k].split()[0]) for k in ("VmRSS", "VmHWM")}
    return found
