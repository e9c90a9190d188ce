"""Tables written for spreadsheets: CSV that Excel opens with Chinese intact, and cells that a
spreadsheet can never run as a formula.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
Excel, LibreOffice and WPS (CSV injection: `=HYPERLINK(...)` in a purpose a department's system
typed would run on a supervisor's desk). Such a cell gets a leading apostrophe, which the
spreadsheet shows as text and does not display. Pure: no Django.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Excel reads a CSV as the system's legacy code page (GBK on Chinese Windows) unless the file
# starts with the UTF-8 byte order mark.
UTF8_BOM = "\ufeff"


def spreadsheet_cell(value: object) -> str:
    """The text of one cell, with a leading apostrophe if a spreadsheet would run it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_document(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A CSV file (UTF-8 with a byte order mark, CRLF line ends) with every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([spreadsheet_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([spreadsheet_cell(cell) for cell in row])
    return (UTF8_BOM + buffer.getvalue()).encode("utf-8")
