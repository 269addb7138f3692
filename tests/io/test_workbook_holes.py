"""Workbooks and REDCap exports that used to be read silently wrong (issue 18).

A stale hidden sheet "Participants " overrode the visible "participants" (names folded,
the last won); a formula cell without a saved value read as empty; merged cells left
their other cells empty; a REDCap "labels" export was reported as ``duplicate_column``
without saying "export raw data".
"""

from __future__ import annotations

import re
import shutil
import zipfile

import openpyxl
import pandas as pd
import pytest

import ketex
from ketex.io.redcap import load_redcap
from tests.conftest import MINI

KEY = ["table", "source_file", "line", "participant_id", "column", "value", "rule", "severity"]
REDCAP = MINI.parent / "redcap"


def _rows(report: pd.DataFrame) -> list[tuple]:
    return [tuple(None if pd.isna(v) else v for v in row)
            for row in report[KEY].itertuples(index=False)]


@pytest.fixture
def book(tmp_path):
    return ketex.write_excel(ketex.load_trial(MINI), tmp_path / "mini.xlsx")


def _edit(path, change):
    workbook = openpyxl.load_workbook(path)
    change(workbook)
    workbook.save(path)


def _column(sheet, name: str) -> int:
    return [c.value for c in sheet[1]].index(name) + 1


# -- sheets -------------------------------------------------------------------------


def test_hidden_sheet_shadowing_a_visible_one(book):
    def change(wb):
        stale = wb.copy_worksheet(wb["participants"])
        stale.title = "Participants "
        stale.sheet_state = "hidden"
        stale.cell(row=2, column=_column(stale, "arm"), value="SERIES")
    _edit(book, change)
    trial = ketex.load_trial(book, on_error="drop")
    problems = _rows(trial.report[trial.report["table"] == "participants"])
    assert problems == [("participants", "mini.xlsx", None, None, None, None,
                         "ambiguous_sheet", "error")]
    message = trial.report["message"].iloc[0]
    assert "'participants'" in message and "'Participants ' (hidden)" in message
    assert trial.participants.empty  # neither is guessed to be the right one


def test_only_a_hidden_sheet_is_an_error(book):
    _edit(book, lambda wb: setattr(wb["events"], "sheet_state", "hidden"))
    trial = ketex.load_trial(book, on_error="drop")
    assert _rows(trial.report) == [
        ("events", "mini.xlsx", None, None, None, None, "hidden_sheet", "error")]
    assert "unhide" in trial.report["message"].iloc[0].lower()


def test_a_sheet_in_other_case_is_read(book):
    # openpyxl renames "events" to "Events" as "Events1" (its own clash check)
    _edit(book, lambda wb: setattr(wb.worksheets[wb.sheetnames.index("events")], "title",
                                   "EVENTS "))
    trial = ketex.load_trial(book)
    assert len(trial.events) == 2


def test_missing_required_sheet_names_the_sheets_found(book):
    _edit(book, lambda wb: wb.remove(wb["assessments"]))
    trial = ketex.load_trial(book, on_error="drop")
    row = trial.report[trial.report["rule"] == "missing_table"].iloc[0]
    assert row["source_file"] == "mini.xlsx"
    assert "add a sheet named assessments" in row["message"]
    assert "participants, infusions" in row["message"]


# -- formulas ------------------------------------------------------------------------


def test_formula_without_saved_value_is_an_error(book):
    def change(wb):
        sheet = wb["participants"]
        sheet.cell(row=3, column=_column(sheet, "weight_kg"), value="=80+8")
    _edit(book, change)  # openpyxl saves formulas without a result
    trial = ketex.load_trial(book, on_error="drop")
    own = trial.report[trial.report["table"] == "participants"]
    assert _rows(own) == [("participants", "mini.xlsx[participants]", 3, "M02", "weight_kg",
                           "=80+8", "formula_without_value", "error")]
    assert "save it in Excel" in own["message"].iloc[0]
    assert "M02" not in set(trial.participants["participant_id"])


def _add_cached_formula(path, sheet_number: int, cell: str, formula: str) -> None:
    """Give a cell a formula and keep its value as the saved result (as Excel saves)."""
    member = f"xl/worksheets/sheet{sheet_number}.xml"
    with zipfile.ZipFile(path) as source:
        files = {name: source.read(name) for name in source.namelist()}
    xml = files[member].decode()
    pattern = re.compile(rf'(<c r="{cell}"[^>]*>)(<v>[^<]*</v>)')
    assert pattern.search(xml), cell
    files[member] = pattern.sub(rf"\1<f>{formula}</f>\2", xml, count=1).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in files.items():
            target.writestr(name, data)


def test_formula_with_saved_value_is_read_and_flagged(book):
    sheet = openpyxl.load_workbook(book)["participants"]
    letter = openpyxl.utils.get_column_letter(_column(sheet, "weight_kg"))
    number = openpyxl.load_workbook(book).sheetnames.index("participants") + 1
    _add_cached_formula(book, number, f"{letter}2", "60+4.5")
    trial = ketex.load_trial(book)
    assert _rows(trial.report) == [
        ("participants", "mini.xlsx[participants]", 2, None, "weight_kg", "=60+4.5",
         "formula_cell", "warning")]
    assert trial.participants["weight_kg"].iloc[0] == 64.5


# -- merged cells --------------------------------------------------------------------


def test_merged_header_cells(book):
    def change(wb):
        sheet = wb["exercise"]
        sheet.merge_cells(start_row=1, start_column=3, end_row=1, end_column=4)
    _edit(book, change)
    trial = ketex.load_trial(book, on_error="drop")
    assert _rows(trial.report) == [
        ("exercise", "mini.xlsx[exercise]", 1, None, None, "C1:D1", "merged_cells", "error")]
    assert "unmerge" in trial.report["message"].iloc[0].lower()
    assert trial.exercise.empty


def test_merged_data_cells_reject_the_rows_they_span(book):
    _edit(book, lambda wb: wb["exercise"].merge_cells("A2:A3"))
    trial = ketex.load_trial(book, on_error="drop")
    assert [r[2:] for r in _rows(trial.report)] == [
        (2, "M01", "participant_id", "A2:A3", "merged_cells", "error"),
        (3, None, "participant_id", "A2:A3", "merged_cells", "error")]
    assert len(trial.exercise) == 5


# -- REDCap exports with labels ------------------------------------------------------


@pytest.fixture
def export(tmp_path):
    for name in ("records.csv", "dictionary.csv", "mapping.toml", "study.toml"):
        shutil.copy(REDCAP / name, tmp_path / name)
    return tmp_path


def _load_redcap(folder, **kwargs):
    return load_redcap(folder / "records.csv", folder / "dictionary.csv",
                       folder / "mapping.toml", **kwargs)


def test_labels_export_says_export_raw_data(export):
    dictionary = pd.read_csv(export / "dictionary.csv", dtype=str)
    labels = dict(zip(dictionary.iloc[:, 0], dictionary["Field Label"], strict=True))
    lines = (export / "records.csv").read_text().splitlines()
    header = [labels.get(name, name) for name in lines[0].split(",")]
    (export / "records.csv").write_text("\n".join([",".join(header), *lines[1:]]) + "\n")
    with pytest.raises(ketex.DataValidationError) as caught:
        _load_redcap(export)
    rules = caught.value.report["rule"].tolist()
    assert rules == ["labels_export"]
    message = caught.value.report["message"].iloc[0]
    assert "Record ID" in message and "raw data" in message


def test_a_choice_label_instead_of_its_code(export):
    from tests.io.test_redcap import set_cell

    set_cell(export / "records.csv", 2, "sex", "Female")
    trial = _load_redcap(export, on_error="drop")
    row = trial.report[trial.report["rule"] == "invalid_choice"].iloc[0]
    assert row["value"] == "Female"
    assert "label of choice 1" in row["message"] and "raw data" in row["message"]
