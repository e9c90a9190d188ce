"""CSV for spreadsheets: Excel opens the Chinese, and no cell runs as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onething.core.spreadsheets import FORMULA_TRIGGERS, csv_document, spreadsheet_cell


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
