"""Tables written for spreadsheets: CSV that Excel opens with Chinese intact, and cells that a
spreadsheet can never run as a formula.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
Excel, LibreOffice and WPS (CSV injection: `=HYPERLINK(...)` in a purpose a department's system
typed would run on a supervisor's desk). Such a cell gets a leading apostrophe, which the
spreadsheet shows as text and does not display. A number is a number, not text somebody typed:
`-3` stays `-3`. The xlsx workbook writes the same neutralised text as string cells, and numbers
as numbers. Pure: no Django.
"""

from __future__ import annotations

import csv
import io
import numbers
from collections.abc import Iterable, Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Excel reads a CSV as the system's legacy code page (GBK on Chinese Windows) unless the file
# starts with the UTF-8 byte order mark.
UTF8_BOM = "\ufeff"


def spreadsheet_cell(value: object) -> str:
    """The text of one cell, with a leading apostrophe if a spreadsheet would run it."""
    if _is_number(value):
        return str(value)
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


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real | Decimal) and not isinstance(value, bool)


# Excel's limit on a sheet's name, and the characters a name may not hold.
SHEET_TITLE_LENGTH = 31
SHEET_TITLE_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


def xlsx_document(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, title: str = ""
) -> bytes:
    """An Excel workbook of one sheet: a bold header row, then the rows; numbers as numbers,
    everything else as text neutralised like the CSV (a string cell is never a formula)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = (title.translate(SHEET_TITLE_FORBIDDEN).strip() or "Sheet1")[:SHEET_TITLE_LENGTH]
    sheet.append([_text_cell(cell) for cell in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([cell if _is_number(cell) else _text_cell(cell) for cell in row])
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                # openpyxl would store a text starting with "=" as a formula; say it is text.
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text_cell(value: object) -> str:
    # Control characters other than tab and line ends are not allowed in the XML of a sheet.
    # Removed before neutralising, so that what they hid at the start is neutralised too.
    text = "" if value is None else str(value)
    return spreadsheet_cell(ILLEGAL_CHARACTERS_RE.sub("", text))
