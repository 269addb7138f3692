"""Files that are not what a table needs: each gives one report row, never a traceback.

Issue 18: a directory where a CSV is expected raised IsADirectoryError; a dangling link
or a link loop made the table silently absent; a header-only optional table loaded as
"no rows" without a word; decimal commas gave ``non_numeric`` rows without a hint; an
empty participants table buried its one real error under a row per dependent record.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

import ketex

KEY = ["table", "source_file", "line", "participant_id", "column", "value", "rule", "severity"]


def _rows(report: pd.DataFrame) -> list[tuple]:
    return [
        tuple(None if pd.isna(v) else v for v in row)
        for row in report[KEY].itertuples(index=False)
    ]


def _load(folder):
    return ketex.load_trial(folder, on_error="drop")


# -- what stands where a file should be ----------------------------------------------


def test_a_directory_named_like_a_table(mini_folder):
    (mini_folder / "exercise.csv").unlink()
    (mini_folder / "exercise.csv").mkdir()
    trial = _load(mini_folder)
    assert _rows(trial.report) == [
        ("exercise", "exercise.csv", None, None, None, None, "unreadable_file", "error")]
    assert "is a directory" in trial.report["message"].iloc[0]
    assert trial.exercise.empty


def test_a_dangling_link_is_reported_not_absent(mini_folder):
    (mini_folder / "exercise.csv").unlink()
    os.symlink(mini_folder / "gone.csv", mini_folder / "exercise.csv")
    with pytest.raises(ketex.DataValidationError) as caught:
        ketex.load_trial(mini_folder)
    assert _rows(caught.value.report) == [
        ("exercise", "exercise.csv", None, None, None, None, "unreadable_file", "error")]
    message = caught.value.report["message"].iloc[0]
    assert "link to" in message and "gone.csv" in message and "does not exist" in message


def test_a_link_loop_is_reported_not_absent(mini_folder):
    (mini_folder / "exercise.csv").unlink()
    os.symlink(mini_folder / "exercise.csv", mini_folder / "exercise.csv")
    trial = _load(mini_folder)
    assert [r[6] for r in _rows(trial.report)] == ["unreadable_file"]
    assert "loop" in trial.report["message"].iloc[0]


def test_a_link_to_a_file_is_read(mini_folder, tmp_path):
    target = tmp_path / "elsewhere.csv"
    (mini_folder / "exercise.csv").rename(target)
    os.symlink(target, mini_folder / "exercise.csv")
    trial = ketex.load_trial(mini_folder)
    assert len(trial.exercise) == 7 and trial.report.empty


def test_a_directory_parquet_beside_nothing(mini_folder):
    (mini_folder / "events.csv").unlink()
    (mini_folder / "events.parquet").mkdir()
    trial = _load(mini_folder)
    assert [r[:2] + r[6:] for r in _rows(trial.report)] == [
        ("events", "events.parquet", "unreadable_file", "error")]


def test_study_toml_that_is_a_directory(mini_folder):
    (mini_folder / "study.toml").unlink()
    (mini_folder / "study.toml").mkdir()
    with pytest.raises(ketex.DataValidationError) as caught:
        ketex.load_trial(mini_folder)
    assert _rows(caught.value.report) == [
        ("study", "study.toml", None, None, None, None, "unreadable_file", "error")]


def test_study_toml_not_utf8(mini_folder):
    path = mini_folder / "study.toml"
    path.write_bytes("# café\n".encode("latin-1") + path.read_bytes())
    with pytest.raises(ketex.DataValidationError) as caught:
        ketex.load_trial(mini_folder)
    assert _rows(caught.value.report) == [
        ("study", "study.toml", 1, None, None, "# caf\\xe9", "bad_encoding", "error")]


def test_cli_validate_on_a_directory_table(mini_folder, capsys):
    from ketex.cli import main

    (mini_folder / "events.csv").unlink()
    (mini_folder / "events.csv").mkdir()
    assert main(["validate", str(mini_folder)]) == 1
    assert "unreadable_file" in capsys.readouterr().out


# -- text that is not UTF-8 ----------------------------------------------------------


def test_not_utf8_names_line_column_and_value(mini_folder):
    text = "participant_id,day,event,description\nM03,20,other,ok\nM03,21,other,café au lait\n"
    (mini_folder / "events.csv").write_bytes(text.encode("latin-1"))
    trial = _load(mini_folder)
    assert _rows(trial.report) == [
        ("events", "events.csv", 3, None, "description", "caf\\xe9 au lait", "bad_encoding",
         "error")]
    message = trial.report["message"].iloc[0]
    assert "events.csv line 3" in message and "0xE9" in message
    assert "Latin-1" in message and "CSV UTF-8" in message
    assert trial.events.empty  # none of its rows: the file was not read


# -- decimal commas ------------------------------------------------------------------


def test_decimal_comma_gets_a_hint(mini_folder):
    path = mini_folder / "participants.csv"
    path.write_text(path.read_text().replace("64.5", '"64,5"'))
    report = _load(mini_folder).report
    first = report[report["rule"] == "non_numeric"].iloc[0]
    assert (first["source_file"], first["line"], first["column"], first["value"],
            first["rule"]) == ("participants.csv", 2, "weight_kg", "64,5", "non_numeric")
    assert "decimal comma? use a point: 64.5" in first["message"]


def test_decimal_comma_in_a_semicolon_file(mini_folder):
    path = mini_folder / "exercise.csv"
    path.write_text(path.read_text().replace(",", ";").replace("6.8", "6,8"))
    trial = _load(mini_folder)
    assert _rows(trial.report) == [
        ("exercise", "exercise.csv", 7, "M03", "met", "6,8", "non_numeric", "error")]
    assert "decimal comma? use a point: 6.8" in trial.report["message"].iloc[0]


def test_a_thousands_separator_is_not_called_a_decimal_comma(mini_folder):
    path = mini_folder / "exercise.csv"
    path.write_text(path.read_text().replace(",85,", ',"1,085",', 1))
    message = _load(mini_folder).report["message"].iloc[0]
    assert "1085" in message and "1.085" in message  # both readings offered, none chosen


def test_decimal_comma_in_an_item_score(mini_folder):
    from tests.conftest import edit_cell

    edit_cell(mini_folder / "assessments.csv", 2, "item_1", "2,5")
    report = _load(mini_folder).report
    row = report[report["column"] == "item_1"].iloc[0]
    assert row["value"] == "2,5" and "decimal comma?" in row["message"]


# -- header-only and empty tables ------------------------------------------------------


@pytest.mark.parametrize("name", ["exercise", "events", "infusions"])
def test_header_only_optional_table_is_reported(mini_folder, name):
    path = mini_folder / f"{name}.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    trial = ketex.load_trial(mini_folder)  # a warning: a trial may have no events
    assert _rows(trial.report) == [
        (name, f"{name}.csv", None, None, None, None, "no_rows", "warning")]
    assert "header but no rows" in trial.report["message"].iloc[0]


def test_header_only_required_table_names_its_file(mini_folder):
    path = mini_folder / "assessments.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    trial = _load(mini_folder)
    assert ("assessments", "assessments.csv", None, None, None, None, "empty_table",
            "error") in _rows(trial.report)


@pytest.mark.parametrize("content", [b"", b"participant_id,arm\n",
                                     "participant_id,arm\nM0\xc4,SINGLE\n".encode("latin-1")],
                         ids=["empty", "header only", "latin-1"])
def test_no_participants_is_one_problem_per_dependent_table(mini_folder, content):
    (mini_folder / "participants.csv").write_bytes(content)
    trial = _load(mini_folder)
    cascade = trial.report[trial.report["rule"] == "unknown_participant"]
    # one row per table that depends on participants, not one per record (30 before)
    assert sorted(cascade["table"]) == ["assessments", "events", "exercise", "infusions"]
    assert cascade["line"].isna().all()
    row = cascade[cascade["table"] == "assessments"].iloc[0]
    assert row["source_file"] == "assessments.csv"
    assert "none of the 13 rows" in row["message"] and "participants" in row["message"]
    assert trial.assessments.empty and trial.infusions.empty
