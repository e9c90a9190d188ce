"""Writing many rows at once without the ORM: COPY (binary where the columns allow) on
PostgreSQL, executemany INSERT elsewhere. Used where the ORM's per-value adaptation would cost
more than the work itself: the synthetic history and the roll-up rebuild."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model
from psycopg import postgres
from psycopg.adapt import Dumper
from psycopg.pq import Format


class BulkWriter:
    """Writes rows without the ORM: COPY on PostgreSQL, INSERT elsewhere; counts them by label.

    Only writes: no checks are switched off and no ids reserved here (the generator, which
    alone may, does that itself)."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self._types: dict[tuple[str, tuple[str, ...]], list[str] | None] = {}
        self.rows: dict[str, int] = {}

    def _copy_types(self, cursor: Any, table: str, columns: Sequence[str]) -> list[str] | None:
        """The binary COPY type of each column as the table declares it, or None (text COPY)
        when a column is of a type the rows do not bring in binary form."""
        key = (table, tuple(columns))
        if key not in self._types:
            cursor.execute(
                "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                [table],
            )
            declared = {name: BINARY_COPY_TYPES.get(kind) for name, kind in cursor.fetchall()}
            types = [declared.get(column) for column in columns]
            self._types[key] = None if None in types else types
        return self._types[key]

    def write(
        self, label: str, model: type[Model], names: Sequence[str], rows: list[tuple]
    ) -> None:
        """Write `rows` (values in the order of the fields `names`) into `model`'s table."""
        self.rows[label] = self.rows.get(label, 0) + len(rows)
        if not rows:
            return
        meta = model._meta
        columns = ", ".join(connection.ops.quote_name(meta.get_field(n).column) for n in names)
        table = connection.ops.quote_name(meta.db_table)
        with connection.cursor() as cursor:
            if self.postgres:
                names_in_table = [meta.get_field(n).column for n in names]
                types = self._copy_types(cursor, meta.db_table, names_in_table)
                raw = cursor.cursor
                binary = " (FORMAT BINARY)" if types is not None else ""
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN{binary}") as copy:
                    if types is not None:
                        _binary_dumpers(raw)
                        copy.set_types(types)
                    write_row = copy.write_row
                    for row in rows:
                        write_row(row)
                return
            adapt = connection.ops.adapt_datetimefield_value
            marks = ", ".join(["%s"] * len(names))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - our names
            cursor.executemany(sql, [tuple(_sqlite_value(v, adapt) for v in row) for row in rows])


# Binary COPY (PostgreSQL reads it without parsing text: a third faster for rows full of moments)
# by the type each column is declared with. The rows carry ids and numbers as int, texts as str,
# moments as aware datetimes, days as dates, and UUIDs (32 hex digits) and JSON as ready-made str,
# which the two dumpers below put in binary form.
BINARY_COPY_TYPES = {
    "bigint": "int8",
    "integer": "int4",
    "smallint": "int2",
    "boolean": "bool",
    "text": "text",
    "character varying": "text",  # binary varchar is binary text
    "timestamp with time zone": "timestamptz",
    "date": "date",
    "uuid": "uuid",
    "jsonb": "jsonb",
}


class _HexUuidBinaryDumper(Dumper):
    format = Format.BINARY
    oid = postgres.types["uuid"].oid

    def dump(self, obj: str) -> bytes:
        return bytes.fromhex(obj)


class _JsonTextBinaryDumper(Dumper):
    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: str) -> bytes:
        return b"\x01" + obj.encode()  # jsonb's binary form: version 1, then the text


def _binary_dumpers(cursor: Any) -> None:
    """Dump ready-made UUID and JSON strings for binary COPY on this cursor only (registered by
    type, not by Python class, so the connection's other queries are untouched)."""
    for dumper in (_HexUuidBinaryDumper, _JsonTextBinaryDumper):
        cursor.adapters.register_dumper(None, dumper)


def _sqlite_value(value: Any, adapt: Callable) -> Any:
    if isinstance(value, dt.datetime):
        return adapt(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, bool):
        return int(value)
    return value
