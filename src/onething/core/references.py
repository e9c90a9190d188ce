"""Reference numbers people read out and type: a prefix, the day, and a part nobody can guess."""

from __future__ import annotations

import secrets

from django.utils import timezone

# No 0/O, 1/I/L: read aloud over the phone or copied from paper, nothing is mistaken.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference(prefix: str, *, separator: str = "") -> str:
    """`OT20261127-7K3QXZ` (prefix "OT") or `12345-20261127-7K3QXZ` (prefix "12345", "-")."""
    suffix = "".join(secrets.choice(ALPHABET) for _ in range(6))
    return f"{prefix}{separator}{timezone.localdate():%Y%m%d}-{suffix}"
