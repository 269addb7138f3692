"""Writers escape hostile text: formulas in CSV and xlsx, markup in Markdown and HTML.

Issue 18: ``write_excel`` wrote text starting with "=" as a live formula (lost on read
back); CSV outputs kept leading ``=``, ``+``, ``-``, ``@`` (formula injection); Markdown
tables copied ``<img onerror=...>`` from labels as raw HTML.
"""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ketex
from ketex.io.escape import escape_formula, markdown_text, unescape_formula
from ketex.report._table import ManuscriptTable
from tests.conftest import edit_cell

HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "'=already escaped",
]


def _cells(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_formula_prefixes_an_apostrophe(text):
    escaped = escape_formula(text)
    assert escaped == "'" + text
    assert unescape_formula(escaped) == text


@pytest.mark.parametrize("text", ["-3", "+1.5", "-0.52 (-1.10, 0.06)", "12.5%", "M01",
                                  "a=b", "", "caf\u00e9", "- 3"])
def test_numbers_and_plain_text_are_written_as_they_are(text):
    expected = text if text != "- 3" else "'- 3"
    assert escape_formula(text) == expected


@given(st.text(max_size=12))
def test_escaping_is_undone_exactly(text):
    escaped = escape_formula(text)
    assert unescape_formula(escaped) == text
    if escaped[:1] in ("=", "+", "-", "@", "\t", "\r"):
        assert escaped == text and text[0] in "+-"  # only numbers keep a leading sign


@pytest.fixture
def hostile_folder(mini_folder):
    edit_cell(mini_folder / "participants.csv", 2, "site", HOSTILE[0])
    edit_cell(mini_folder / "participants.csv", 3, "site", HOSTILE[2])
    edit_cell(mini_folder / "events.csv", 2, "description", HOSTILE[1])
    edit_cell(mini_folder / "events.csv", 3, "description", HOSTILE[6])
    return mini_folder


def test_write_trial_escapes_formulas_and_reads_them_back(hostile_folder, tmp_path):
    trial = ketex.load_trial(hostile_folder)
    out = ketex.write_trial(trial, tmp_path / "out")
    sites = [row[2] for row in _cells(out / "participants.csv")[1:]]
    assert sites[:2] == ["'" + HOSTILE[0], "'" + HOSTILE[2]]
    days = [row[1] for row in _cells(out / "assessments.csv")[1:]]
    assert "-3" in days  # numbers are not escaped
    again = ketex.load_trial(out)
    assert again.differences(trial) == []
    assert trial.participants["site"].iloc[0] == HOSTILE[0]


def test_write_excel_writes_text_cells_as_text(hostile_folder, tmp_path):
    import openpyxl

    trial = ketex.load_trial(hostile_folder)
    path = ketex.write_excel(trial, tmp_path / "hostile.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["participants"]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("site") + 1)
    assert (cell.value, cell.data_type) == (HOSTILE[0], "s")
    formulas = [c.coordinate for ws in book for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas == []
    again = ketex.load_trial(path)
    assert again.differences(trial) == []


def test_write_adam_escapes_text(hostile_folder, tmp_path):
    trial = ketex.load_trial(hostile_folder)
    written = ketex.write_adam(trial, tmp_path / "adam")
    rows = _cells(written["adsl.csv"])
    column = rows[0].index("SITEID")
    assert rows[1][column] == "'" + HOSTILE[0]
    every = [cell for name, path in written.items() if name.endswith(".csv")
             for row in _cells(path) for cell in row]
    assert not [c for c in every if c[:1] in ("=", "+", "@")]


def test_validation_report_csv_escapes_values(mini_folder, tmp_path):
    from ketex.cli import main

    edit_cell(mini_folder / "participants.csv", 2, "arm", "=1+1")
    out = tmp_path / "problems.csv"
    assert main(["validate", str(mini_folder), "--out", str(out)]) == 1
    values = [row[5] for row in _cells(out)[1:]]
    assert "'=1+1" in values and "=1+1" not in values


def _table(label: str) -> ManuscriptTable:
    display = pd.DataFrame({"": [label, "    " + label], "Arm <b>A</b>": ["-0.52 (-1.10, 0.06)",
                                                                        "=1+1"]})
    return ManuscriptTable(pd.DataFrame({"label": [label]}), display, f"Title {label}",
                           (f"Note {label}",), "t")


def test_manuscript_csv_escapes_formulas_not_estimates(tmp_path):
    path = _table("@SUM(A1)").to_csv(tmp_path / "t.csv")
    rows = _cells(path)
    assert rows[1] == ["'@SUM(A1)", "-0.52 (-1.10, 0.06)"]
    assert rows[2][1] == "'=1+1"
    data = _cells(_table("@SUM(A1)").to_csv(tmp_path / "d.csv", which="data"))
    assert data[1] == ["'@SUM(A1)"]


def test_markdown_escapes_html_and_markup():
    hostile = '<img src=x onerror="alert(1)"> *P_01* | [x](javascript:1)'
    text = _table(hostile).to_markdown()
    assert "<img" not in text and "<b>" not in text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in text
    assert "\\*P\\_01\\*" in text and "\\[x\\]" in text and " \\| " in text
    assert text.count("&emsp;") == 1  # the level row keeps its indent


def test_markdown_text_examples():
    assert markdown_text("a <b> & *c*") == "a &lt;b&gt; &amp; \\*c\\*"
    assert markdown_text("plain 1.5 (0.2, 3)") == "plain 1.5 (0.2, 3)"


def test_html_table_escapes_labels():
    text = _table("<script>alert(1)</script>").to_html()
    assert "<script>" not in text and "&lt;script&gt;" in text


@pytest.mark.parametrize("text", ["=1+1", "-2+3", "@SUM(A1)", "+1+1", "-5.6 (-7.1 to -4.0)",
                                  "-1.3 (-4.2 to 1.5)", "-5.6 (-7.1 to -4.0) =1"])
def test_formulas_and_printed_intervals_with_words_keep_the_apostrophe(text):
    """OWASP: no cell may begin with a formula character. A printed interval with "to"
    is text a spreadsheet would parse as a formula (docs/report.md, Table CSVs)."""
    assert escape_formula(text) == "'" + text


def test_report_table_csv_marks_printed_intervals_and_data_csv_keeps_numbers(tmp_path):
    display = pd.DataFrame({"Visit": ["WEEK2"], "LS mean (SE)": ["-8.7 (1.20)"],
                            "Difference (95% CI)": ["-14.5 (-17.9 to -11.1)"]})  # fmt: skip
    data = pd.DataFrame({"visit": ["WEEK2"], "estimate": [-14.5], "ci_low": [-17.9],
                         "ci_high": [-11.1]})  # fmt: skip
    table = ManuscriptTable(data, display, "Table 2", (), "t2")
    assert _cells(table.to_csv(tmp_path / "t2.csv"))[1] == [
        "WEEK2", "-8.7 (1.20)", "'-14.5 (-17.9 to -11.1)"]
    rows = _cells(table.to_csv(tmp_path / "t2_data.csv", which="data"))
    assert rows[1] == ["WEEK2", "-14.5", "-17.9", "-11.1"]
    assert pd.read_csv(tmp_path / "t2_data.csv")["estimate"].iloc[0] == -14.5


@pytest.mark.parametrize(("value", "escaped"), [
    ("-1 +2", True), ("-1 -2", True), ("+3 -1", True),        # operators between numbers
    ("-0.52 (-1.10, 0.06)", False), ("-13.4 (1.00)", False), ("-1; -2", False),
    ("1 2", False), ("-3", False),
])
def test_a_sign_after_a_space_is_an_operator(value, escaped):
    from ketex.io.escape import escape_formula, unescape_formula

    out = escape_formula(value)
    assert (out == "'" + value) if escaped else (out == value)
    assert unescape_formula(out) == value
