"""Administrative divisions (行政区划) by their GB/T 2260 codes: one region lies inside another
when its code starts with the other's significant digits (350203 思明区 is inside 3502 厦门市).

No Django import.
"""

from __future__ import annotations


def region_prefix(code: str) -> str:
    """The significant digits of a GB/T 2260 code: 350000 → 35, 350200 → 3502, 350203 → 350203.

    Street (9 digits) and village (12 digits) codes keep their digits past the county, less any
    trailing zero groups of three.
    """
    county, rest = code[:6], code[6:]
    while rest.endswith("000"):
        rest = rest[:-3]
    if rest:
        return county + rest
    if county.endswith("0000"):
        return county[:2]
    if county.endswith("00"):
        return county[:4]
    return county


def region_contains(outer: str, inner: str) -> bool:
    """Whether region `inner` is `outer` or lies inside it, judged by code prefix."""
    return region_prefix(inner).startswith(region_prefix(outer))
