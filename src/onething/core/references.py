"""Reference numbers people read out and type: a prefix, the day, and a part nobody can guess."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, models, transaction
from django.utils import timezone

# No 0/O, 1/I/L: read aloud over the phone or copied from paper, nothing is mistaken.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# Draws before giving up. A reference is taken with a chance of (references that day) ÷ 32⁶, so
# even at a million a day five in a row would be taken about once in a million years.
DRAWS = 5

M = TypeVar("M", bound=models.Model)


def new_reference(prefix: str, *, separator: str = "") -> str:
    """`OT20261127-7K3QXZ` (prefix "OT") or `12345-20261127-7K3QXZ` (prefix "12345", "-")."""
    suffix = "".join(secrets.choice(ALPHABET) for _ in range(6))
    return f"{prefix}{separator}{timezone.localdate():%Y%m%d}-{suffix}"


def save_redrawing(
    instance: M, field: str, draw: Callable[[], None], *, exhausted: Callable[[], Exception]
) -> M:
    """Insert `instance`, its unique `field` drawn at random by `draw` (which sets the field and
    whatever depends on it), drawn again while the value drawn is taken; `exhausted()` is raised
    after DRAWS taken values in a row.

    A clash must not become an error for the user, nor abort the caller's transaction: the
    insert runs in a savepoint. An IntegrityError of another constraint is raised as it is.
    """
    manager = type(instance)._default_manager
    for _ in range(DRAWS):
        draw()
        value = getattr(instance, field)
        try:
            with transaction.atomic():
                instance.save(force_insert=True)
        except IntegrityError:
            if not manager.filter(**{field: value}).exists():
                raise  # another constraint: not ours to retry
            instance.pk = None
            continue
        return instance
    raise exhausted()


def save_with_new_reference(instance: M, prefix: str, *, separator: str = "") -> M:
    """Insert `instance` (a model with a unique `reference`) under a new reference.

    The random part has 32⁶ (about 10⁹) values a day, so two of a day's references clash by
    chance: about one day in twenty at 10,000 a day, dozens of times a day at a province's
    300,000. A reference already taken is drawn again (`save_redrawing`).
    """

    def draw() -> None:
        instance.reference = new_reference(prefix, separator=separator)

    return save_redrawing(
        instance,
        "reference",
        draw,
        exhausted=lambda: IntegrityError(f"{DRAWS} references drawn in a row were all taken"),
    )
