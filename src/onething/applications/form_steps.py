"""Splitting a plan's merged form into steps ("step 2 of 4"). Pure: no Django import.

Fields are grouped by the subject of their data element (`mother.*`, `child.*`), in the order the
plan lists them; neighbouring groups share a step until it holds about `per_step` fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    number: int
    groups: tuple[str, ...]
    keys: tuple[str, ...]


def subject_of(key: str) -> str:
    return key.split(".", 1)[0]


def form_steps(keys: Sequence[str], per_step: int = 8) -> list[Step]:
    """Steps covering every key exactly once, never splitting a subject across steps."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(subject_of(key), []).append(key)
    steps: list[tuple[list[str], list[str]]] = []
    for subject, members in groups.items():
        if steps and len(steps[-1][1]) + len(members) <= per_step:
            steps[-1][0].append(subject)
            steps[-1][1].extend(members)
        else:
            steps.append(([subject], list(members)))
    return [
        Step(number=i, groups=tuple(subjects), keys=tuple(members))
        for i, (subjects, members) in enumerate(steps, start=1)
    ]
