"""Verification codes: short, human-typable, hard to guess, and checked before any look-up.

A code is 11 random Crockford base32 characters (55 bits) and one check character (Luhn mod 32),
written in groups of four: `7K3Q-XZ0M-PA4N`. The check character catches every single mistyped
character and every swap of two neighbouring characters but `0Z`/`Z0` (Luhn's blind spot), so a
typo is reported as a typo rather than as an unknown certificate. Reading is forgiving, as
Crockford intends: case, spaces and hyphens do not matter, and O reads as 0, I and L as 1.
No Django import here.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE = len(ALPHABET)
RANDOM_LENGTH = 11
LENGTH = RANDOM_LENGTH + 1
GROUP = 4
# The grouped form, as stored and shown: 14 characters.
DISPLAY_LENGTH = LENGTH + (LENGTH - 1) // GROUP
PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
_VALUE = {char: index for index, char in enumerate(ALPHABET)}
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-‐-―－]+")


class CodeError(ValueError):
    """Why text is not a verification code; `reason` is `length`, `character` or `check`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_character(body: str) -> str:
    """The Luhn mod 32 check character of `body` (characters of ALPHABET)."""
    total = 0
    factor = 2
    for char in reversed(body):
        addend = factor * _VALUE[char]
        total += addend // BASE + addend % BASE
        factor = 1 if factor == 2 else 2
    return ALPHABET[(BASE - total % BASE) % BASE]


def group(code: str) -> str:
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def new_code() -> str:
    """A fresh random code in its grouped form."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return group(body + check_character(body))


def normalize(text: str) -> str:
    """The grouped form of a typed code; CodeError saying what is wrong with it."""
    compact = _SEPARATORS.sub("", str(text)).upper().translate(_READ_AS)
    if len(compact) != LENGTH:
        raise CodeError("length", f"a verification code has {LENGTH} characters")
    wrong = sorted({char for char in compact if char not in _VALUE})
    if wrong:
        raise CodeError("character", f"not used in verification codes: {' '.join(wrong)}")
    if check_character(compact[:-1]) != compact[-1]:
        raise CodeError("check", "the code is mistyped (its check character does not match)")
    return group(compact)


def is_code(text: str) -> bool:
    try:
        normalize(text)
    except CodeError:
        return False
    return True
