"""CSV for spreadsheets: Excel opens the Chinese, and no cell runs as a formula."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from onething.core.spreadsheets import (
    FORMULA_TRIGGERS,
    csv_document,
    spreadsheet_cell,
    xlsx_document,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x","点此")', '\'=HYPERLINK("http://x","点此")'),
        ("+86 139", "'+86 139"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        # Harmless where the trigger is not first; numbers and empty cells unchanged.
        ("林晓燕 = 母亲", "林晓燕 = 母亲"),
        ("2026-03-01", "2026-03-01"),
        ("", ""),
        (None, ""),
        (3250, "3250"),
        # A number is not text somebody typed: a negative one stays a number.
        (-3, "-3"),
        (-2.5, "-2.5"),
        (Decimal("-0.5"), "-0.5"),
    ],
)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_apostrophe(value, expected):
    assert spreadsheet_cell(value) == expected


def test_the_document_starts_with_the_byte_order_mark_and_reads_back():
    content = csv_document(
        ("姓名", "说明"), [("林*燕", "=1+2"), ("陈*国", 'a "quote", and a comma')]
    )
    assert content.startswith("\ufeff".encode())
    assert b"\r\n" in content
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows == [["姓名", "说明"], ["林*燕", "'=1+2"], ["陈*国", 'a "quote", and a comma']]


@given(st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=4), max_size=5))
def test_no_cell_of_any_document_starts_like_a_formula(rows):
    content = csv_document(("a",), rows).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(content, newline="")))
    cells = [cell for row in parsed[1:] for cell in row]
    assert not any(cell.startswith(FORMULA_TRIGGERS) for cell in cells)


def read_xlsx(content: bytes):
    sheet = load_workbook(io.BytesIO(content)).active
    return sheet, [[cell for cell in row] for row in sheet.iter_rows()]


def test_the_workbook_writes_formula_text_as_text_and_numbers_as_numbers():
    content = xlsx_document(
        ("地区", "超期 (%)"),
        [('=HYPERLINK("http://evil.example","点此")', -2.5), ("思明区", 3), ("\x01=1+2", None)],
        title="Overdue: by region?",
    )
    sheet, rows = read_xlsx(content)
    assert sheet.title == "Overdue  by region"
    assert [[c.value for c in row] for row in rows] == [
        ["地区", "超期 (%)"],
        ['\'=HYPERLINK("http://evil.example","点此")', -2.5],
        ["思明区", 3],
        ["'=1+2", None],
    ]
    text_cells = [row[0] for row in rows]
    assert all(cell.data_type == "s" for cell in text_cells)
    assert rows[1][1].data_type == "n" and rows[2][1].data_type == "n"
    assert rows[0][0].font.bold


@given(st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=4), max_size=5))
def test_no_cell_of_any_workbook_is_a_formula(rows):
    _sheet, cells = read_xlsx(xlsx_document(("a",), rows))
    for row in cells[1:]:
        for cell in row:
            assert cell.data_type != "f"
            assert not str(cell.value or "").startswith(FORMULA_TRIGGERS)


def test_the_workbook_keeps_markup_line_ends_and_wide_rows_as_typed():
    wide = [f"c{i}" for i in range(30)]
    content = xlsx_document(
        wide,
        [["a < b & c > d", '"quoted"', "line\r\nbreak", "思明区 & 湖里区", *wide[4:]]],
        title="O'Brien & <Co>",
    )
    sheet, rows = read_xlsx(content)
    assert sheet.title == "O'Brien & <Co>"
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in rows[1][:4]] == [
        "a < b & c > d",
        '"quoted"',
        "line\r\nbreak",
        "思明区 & 湖里区",
    ]
    assert rows[0][29].column_letter == "AD" and rows[1][29].value == "c29"
    assert not any(cell.font.bold for cell in rows[1])
