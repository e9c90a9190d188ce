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
import math
import numbers
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Excel reads a CSV as the system's legacy code page (GBK on Chinese Windows) unless the file
# starts with the UTF-8 byte order mark.
UTF8_BOM = "\ufeff"


def spreadsheet_cell(value: object) -> str:
    """The text of one cell, with a leading apostrophe if a spreadsheet would run it."""
    # Most cells are text: tested first, since the check for a number (an abstract class)
    # costs more than the rest of a cell; a large export writes a million of them.
    if type(value) is str:
        return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
    if _is_number(value):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_document(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A CSV file (UTF-8 with a byte order mark, CRLF line ends) with every cell made safe."""
    return b"".join(csv_chunks(header, rows))


# Rows of a CSV sent at a time when it is streamed: a few tens of kilobytes a chunk.
CSV_ROWS_PER_CHUNK = 500


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """The CSV of `csv_document`, in pieces as the rows come: the header first, then a piece
    every CSV_ROWS_PER_CHUNK rows, so that a download starts before its last row is read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(UTF8_BOM)
    writer.writerow([spreadsheet_cell(cell) for cell in header])
    for number, row in enumerate(rows, start=1):
        writer.writerow([spreadsheet_cell(cell) for cell in row])
        if number % CSV_ROWS_PER_CHUNK == 0:
            yield _taken(buffer)
    yield _taken(buffer)


def _taken(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real | Decimal) and not isinstance(value, bool)


# Excel's limit on a sheet's name, and the characters a name may not hold.
SHEET_TITLE_LENGTH = 31
SHEET_TITLE_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", " "))
# Characters XML 1.0 cannot hold (control characters other than tab and line ends, lone
# surrogates, U+FFFE and U+FFFF): dropped from a cell's text.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"})
# Rows written to the sheet's stream at a time: few large writes instead of many small ones.
XLSX_ROWS_PER_WRITE = 1000

_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    # Style 0 is plain, style 1 bold (the header row).
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{title}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
# The header row stays in view while scrolling (frozen above row 2).
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    "</sheetView></sheetViews><sheetData>"
)
_SHEET_END = "</sheetData></worksheet>"


def xlsx_document(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, title: str = ""
) -> bytes:
    """An Excel workbook of one sheet: a bold header row, then the rows; numbers as numbers,
    everything else as text neutralised like the CSV (a string cell is never a formula).

    Written as SpreadsheetML straight into the zip, text as inline strings: a tenth of the
    time a general workbook library spends per cell, which bounds a list of ten thousand rows.
    """
    name = (title.translate(SHEET_TITLE_FORBIDDEN).strip(" '") or "Sheet1")[:SHEET_TITLE_LENGTH]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for part, text in _XLSX_PARTS.items():
            archive.writestr(part, text)
        archive.writestr("xl/workbook.xml", _WORKBOOK.format(title=_xml_text(name)))
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_SHEET_START.encode())
            columns: list[str] = []
            # A list repeats its names (thing, service, department, region) on every row: each
            # distinct text is escaped once.
            texts: dict[str, str] = {}
            chunk = [_xlsx_row(1, header, columns, texts, style=' s="1"', numbers=False)]
            for number, row in enumerate(rows, start=2):
                chunk.append(_xlsx_row(number, row, columns, texts))
                if len(chunk) >= XLSX_ROWS_PER_WRITE:
                    sheet.write("".join(chunk).encode())
                    chunk = []
            sheet.write(("".join(chunk) + _SHEET_END).encode())
    return buffer.getvalue()


def _xlsx_row(
    number: int,
    row: Sequence[object],
    columns: list[str],
    texts: dict[str, str],
    *,
    style: str = "",
    numbers: bool = True,
) -> str:
    while len(columns) < len(row):
        columns.append(_column_letters(len(columns) + 1))
    cells = []
    for column, value in zip(columns, row, strict=False):
        if numbers and _is_number(value) and math.isfinite(value):
            cells.append(f'<c r="{column}{number}"{style}><v>{value}</v></c>')
            continue
        if value is None or value == "":
            continue
        key = value if isinstance(value, str) else str(value)
        inline = texts.get(key)
        if inline is None:
            text = _text_cell(key)
            inline = f'<is><t xml:space="preserve">{_xml_text(text)}</t></is>' if text else ""
            texts[key] = inline
        if inline:
            cells.append(f'<c r="{column}{number}"{style} t="inlineStr">{inline}</c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


def _column_letters(index: int) -> str:
    letters = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _xml_text(text: str) -> str:
    return text.translate(XML_ESCAPES)


def _text_cell(value: object) -> str:
    # Characters XML cannot hold are removed before neutralising, so that what they hid at the
    # start is neutralised too.
    text = "" if value is None else str(value)
    return spreadsheet_cell(XML_ILLEGAL.sub("", text))
