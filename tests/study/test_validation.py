"""Whole-table checks, raise vs drop, and row accounting on corrupted inputs."""

from __future__ import annotations

import pandas as pd
import pytest

import ketex
from ketex.study.problems import REPORT_COLUMNS
from tests.accounting import check_accounting, tag_rows
from tests.conftest import edit_cell


def test_missing_required_column_rejects_the_table(mini_folder):
    path = mini_folder / "exercise.csv"
    text = path.read_text().replace("duration_min", "minutes", 1)
    path.write_text(text)
    trial = ketex.load_trial(mini_folder, on_error="drop")
    row = trial.report.iloc[0]
    assert (row["table"], row["source_file"], row["rule"], row["column"]) == (
        "exercise", "exercise.csv", "missing_column", "duration_min")
    assert pd.isna(row["line"])
    assert "none of its 7 rows were loaded" in row["message"]
    assert "minutes" in row["message"]  # the columns found are listed
    assert trial.exercise.empty


def test_missing_participants_table(mini_folder):
    (mini_folder / "participants.csv").unlink()
    with pytest.raises(ketex.DataValidationError) as caught:
        ketex.load_trial(mini_folder)
    assert "missing_table" in set(caught.value.report["rule"])


def test_optional_tables_may_be_absent(mini_folder):
    for name in ("infusions", "exercise", "events"):
        (mini_folder / f"{name}.csv").unlink()
    trial = ketex.load_trial(mini_folder)
    assert trial.infusions.empty and trial.exercise.empty and trial.events.empty
    assert list(trial.events.columns) == ["participant_id", "day", "event"]


def test_unknown_columns_are_kept(mini_folder):
    trial = ketex.load_trial(mini_folder)
    assert trial.participants["education_years"].tolist()[:3] == [16.0, 12.0, 18.0]


def test_malformed_row_is_reported_with_its_line(mini_folder):
    path = mini_folder / "events.csv"
    path.write_text(path.read_text() + "M01,5,other,a,b,c\n")
    trial = ketex.load_trial(mini_folder, on_error="drop")
    row = trial.report.iloc[0]
    assert (row["source_file"], row["line"], row["rule"]) == ("events.csv", 4, "malformed_row")
    assert "6 fields where the header has 4" in row["message"]


def test_raise_carries_every_problem_and_loads_nothing(mini_folder):
    edit_cell(mini_folder / "participants.csv", 3, "arm", "PLACEBO")
    edit_cell(mini_folder / "exercise.csv", 2, "avg_hr", "400")
    edit_cell(mini_folder / "assessments.csv", 5, "day", "20")  # a warning
    with pytest.raises(ketex.DataValidationError) as caught:
        ketex.load_trial(mini_folder)
    report = caught.value.report
    assert list(report.columns) == list(REPORT_COLUMNS)
    assert {"unknown_arm", "heart_rate_out_of_range", "visit_outside_window"} <= set(
        report["rule"])
    assert "nothing was loaded" in str(caught.value)
    assert isinstance(caught.value, ValueError)  # callers may catch ValueError


def test_drop_keeps_clean_rows_and_lists_the_rest(mini_folder):
    lines = tag_rows(mini_folder)
    edit_cell(mini_folder / "participants.csv", 3, "arm", "PLACEBO")  # M02 and its records
    edit_cell(mini_folder / "exercise.csv", 2, "avg_hr", "400")
    edit_cell(mini_folder / "infusions.csv", 6, "dose", "abc")
    edit_cell(mini_folder / "assessments.csv", 13, "item_1", "9")
    trial = ketex.load_trial(mini_folder, on_error="drop")
    check_accounting(trial, lines, mini_folder)
    assert len(trial.participants) == 3
    assert len(trial.infusions) == 7 - 3 - 1


def test_accounting_with_a_whole_table_rejected(mini_folder):
    lines = tag_rows(mini_folder)
    path = mini_folder / "infusions.csv"
    path.write_text(path.read_text().replace("dose_unit", "units", 1))
    trial = ketex.load_trial(mini_folder, on_error="drop")
    check_accounting(trial, lines, mini_folder)
    assert trial.infusions.empty


def test_on_error_must_be_known(mini_folder):
    with pytest.raises(ValueError, match="on_error must be one of"):
        ketex.load_trial(mini_folder, on_error="ignore")
