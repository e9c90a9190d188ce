"""The registers the simulated departments answer registry reads from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Registers:
    """Records by register code, then by the value of the register's key field."""

    records: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @classmethod
    def load(cls, paths: Sequence[str]) -> Registers:
        """Read register files and folders; RegistersInvalid (a ValueError) lists every problem."""
        if not paths:
            return cls()
        # Pure (pydantic and YAML, no Django); imported here so a simulator without registers
        # needs only the standard library.
        from onething.sharing.registers import read_registers

        found = read_registers(paths)
        return cls(
            MappingProxyType(
                {
                    code: MappingProxyType(
                        {
                            str(row[definition.key]): MappingProxyType(row)
                            for row in found.records[code]
                            if definition.key in row
                        }
                    )
                    for code, definition in found.registers.items()
                }
            )
        )

    def __contains__(self, register: object) -> bool:
        return register in self.records

    def record(self, register: str, key: str) -> dict[str, Any] | None:
        """A copy of the record whose key is `key`, or None."""
        row = self.records.get(register, {}).get(key)
        return dict(row) if row is not None else None
