"""未诉先办: which category × district counts of a week stand out against their recent weeks.

Pure: no Django. A week is flagged when its count is at least `min_count` and exceeds the mean of
the `weeks_of_baseline` weeks before it by `factor` times (a quiet category needs a real jump,
not one more call) — or by three standard deviations, whichever is higher.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping
from dataclasses import dataclass

WeekCounts = Mapping[tuple[str, str, dt.date], int]  # (category, region, monday) -> tickets


@dataclass(frozen=True)
class Spot:
    category: str
    region_code: str
    week: dt.date
    count: int
    baseline: float


def above_baseline(
    counts: WeekCounts,
    week: dt.date,
    *,
    weeks_of_baseline: int = 4,
    factor: float = 2.0,
    min_count: int = 5,
) -> list[Spot]:
    """The category × region pairs of `week` (a Monday) that stand out, biggest first."""
    if week.weekday() != 0:
        raise ValueError(f"week: {week} is not a Monday")
    if weeks_of_baseline < 1:
        raise ValueError("weeks_of_baseline: must be at least 1")
    earlier = [week - dt.timedelta(weeks=n) for n in range(1, weeks_of_baseline + 1)]
    spots = []
    for (category, region, monday), count in counts.items():
        if monday != week or count < min_count:
            continue
        history = [counts.get((category, region, w), 0) for w in earlier]
        mean = statistics.fmean(history)
        spread = statistics.pstdev(history)
        threshold = max(mean * factor, mean + 3 * spread)
        if count > threshold:
            spots.append(Spot(category, region, week, count, round(mean, 2)))
    return sorted(spots, key=lambda s: (-s.count, s.category, s.region_code))
