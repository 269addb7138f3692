"""Inputs that used to be accepted silently or to crash: each one now has a report row."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

import ketex
from ketex.study.validation import parse_dates
from tests.conftest import edit_cell

KEY = ["table", "source_file", "line", "participant_id", "column", "value", "rule", "severity"]


def _rows(report: pd.DataFrame) -> list[tuple]:
    return [
        tuple(None if pd.isna(v) else v for v in row)
        for row in report[KEY].itertuples(index=False)
    ]


def _load(folder, on_error="drop"):
    return ketex.load_trial(folder, on_error=on_error)


# -- 1. dates with a time zone --------------------------------------------------------


def test_utc_dates_are_read_as_written(mini_folder):
    # M03 randomised 2024-02-01; 2024-02-21 is day 20, 2024-02-22 day 21
    (mini_folder / "events.csv").write_text(
        "participant_id,date,event\n"
        "M03,2024-02-21T00:00:00Z,hospitalisation\n"
        "M03,2024-02-22T23:30:00Z,discontinuation\n"
    )
    trial = _load(mini_folder, on_error="raise")
    assert trial.report.empty
    assert trial.events["day"].tolist() == [20, 21]


def test_mixed_offsets_keep_the_written_calendar_date(mini_folder):
    # one +01:00 among dates without offset: pandas raised "Mixed timezones detected"
    (mini_folder / "events.csv").write_text(
        "participant_id,date,event\n"
        "M03,2024-02-21,hospitalisation\n"
        "M03,2024-02-22T23:30:00-05:00,discontinuation\n"
        "M01,2024-01-09T08:00+01:00,other\n"
    )
    trial = _load(mini_folder, on_error="raise")
    assert trial.report.empty
    # 23:30 at -05:00 is 04:30 UTC on the 23rd; the written date, the 22nd, is kept
    assert trial.events["day"].tolist() == [1, 20, 21]
    assert trial.events["date"].tolist() == [
        pd.Timestamp("2024-01-09 08:00"), pd.Timestamp("2024-02-21"),
        pd.Timestamp("2024-02-22 23:30")]


def test_randomisation_date_with_offset(mini_folder):
    edit_cell(mini_folder / "participants.csv", 4, "randomization_date",
              "2024-02-01T10:00:00+02:00")
    (mini_folder / "events.csv").write_text("participant_id,date,event\nM03,2024-02-21,other\n")
    trial = _load(mini_folder, on_error="raise")
    assert trial.events["day"].tolist() == [19]  # 10:00 on the 1st to midnight on the 21st


def test_an_unknown_zone_name_is_a_bad_date_row(mini_folder):
    (mini_folder / "events.csv").write_text(
        "participant_id,date,event\nM03,2024-02-21 10:00 CET,other\n")
    trial = _load(mini_folder)
    assert _rows(trial.report) == [
        ("events", "events.csv", 2, "M03", "date", "2024-02-21 10:00 CET", "bad_date", "error")]


def test_parse_dates_forms():
    values = pd.Series(["2024-01-14", "20240114", "2024-01-14 10:30", "2024-01-14T10:30:15.5Z",
                        "2024-01-14T10:30+0100", "2024-02-30", "2024-01-14T25:00", "2101-01-01",
                        None])
    dates, partial = parse_dates(values)
    assert dates.tolist()[:5] == [pd.Timestamp("2024-01-14"), pd.Timestamp("2024-01-14"),
                                  pd.Timestamp("2024-01-14 10:30"),
                                  pd.Timestamp("2024-01-14 10:30:15.5"),
                                  pd.Timestamp("2024-01-14 10:30")]
    assert dates.iloc[5:].isna().all()
    assert not partial.any()


# -- 2. partial dates ---------------------------------------------------------------


def test_partial_date_is_reported_not_guessed(mini_folder):
    (mini_folder / "events.csv").write_text(
        "participant_id,day,date,event\nM03,20,2024-02,hospitalisation\n")
    trial = _load(mini_folder, on_error="raise")  # a warning: the day is given
    assert _rows(trial.report) == [
        ("events", "events.csv", 2, "M03", "date", "2024-02", "partial_date", "warning")]
    assert "date" not in trial.events.columns  # left empty, not 2024-02-01
    assert trial.events["day"].tolist() == [20]


def test_partial_date_without_day_is_an_error(mini_folder):
    (mini_folder / "events.csv").write_text(
        "participant_id,date,event\nM03,2024,hospitalisation\nM03,2024-02-21,other\n")
    trial = _load(mini_folder)
    assert _rows(trial.report) == [
        ("events", "events.csv", 2, "M03", "date", None, "no_day", "error"),
        ("events", "events.csv", 2, "M03", "date", "2024", "partial_date", "warning")]
    assert trial.events["day"].tolist() == [20]


def test_no_day_and_no_date_is_an_error(mini_folder):
    # an empty date with no day column used to load a row without a study day
    (mini_folder / "events.csv").write_text("participant_id,date,event\nM03,,other\n")
    trial = _load(mini_folder)
    assert [r[6] for r in _rows(trial.report)] == ["no_day"]
    assert trial.events.empty


# -- 3. duplicate exercise sessions -------------------------------------------------


def test_exact_duplicate_session_is_rejected(mini_folder):
    path = mini_folder / "exercise.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n")  # M01 day 1 again, as line 9
    trial = _load(mini_folder)
    assert _rows(trial.report) == [
        ("exercise", "exercise.csv", 9, "M01", "day", "1", "duplicate_session", "error")]
    assert "(line 2)" in trial.report["message"].iloc[0]
    assert len(trial.exercise) == 7  # the seven sessions of the file, each once


def test_two_different_sessions_on_one_day_are_kept(mini_folder):
    path = mini_folder / "exercise.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1].replace(",45,", ",20,", 1)]) + "\n")
    trial = _load(mini_folder, on_error="raise")
    assert trial.report.empty and len(trial.exercise) == 8


# -- 4. header-only required tables -------------------------------------------------


def test_header_only_participants_is_an_error(mini_folder):
    path = mini_folder / "participants.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    trial = _load(mini_folder)
    assert ("participants", "participants.csv", None, None, None, None, "empty_table",
            "error") in _rows(trial.report)


# -- 7. the ambiguous event "suicide" -----------------------------------------------


def test_suicide_is_not_guessed_to_be_completed(mini_folder):
    edit_cell(mini_folder / "events.csv", 2, "event", "Suicide")
    trial = _load(mini_folder, on_error="raise")
    assert _rows(trial.report) == [
        ("events", "events.csv", 2, "M03", "event", "suicide", "unknown_event", "warning")]
    assert "suicide_attempt or completed_suicide" in trial.report["message"].iloc[0]
    assert "completed_suicide" not in set(trial.events["event"])


# -- 6. participant ids differing only in case --------------------------------------


def test_case_only_participant_ids_collide(mini_folder):
    path = mini_folder / "participants.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1].replace("M01", "m01", 1)]) + "\n")
    trial = _load(mini_folder)
    assert ("participants", "participants.csv", len(lines) + 1, "m01", "participant_id",
            "m01", "participant_id_case_collision", "error") in _rows(trial.report)
    assert "M01 on line 2" in trial.report["message"].iloc[0]
    assert "m01" not in set(trial.participants["participant_id"])


@pytest.mark.parametrize("code", ["NONE", "NA", "None"])
def test_an_arm_code_that_spells_missing_is_a_code(tmp_path, code):
    """An arm coded NONE (no exercise, say) is the arm, not a missing value."""
    folder = tmp_path / "study"
    shutil.copytree(ketex.sample_study_path(), folder)
    for name in ("study.toml", "participants.csv"):
        path = folder / name
        text = path.read_text(encoding="utf-8")
        text = text.replace('code = "SINGLE"', f'code = "{code}"').replace(",SINGLE,", f",{code},")
        path.write_text(text, encoding="utf-8")
    trial = ketex.load_trial(folder)
    assert not (trial.report["severity"] == "error").any()
    assert trial.participants["arm"].eq(code).sum() == 40
    assert trial.participants["arm"].notna().all()


def test_a_missing_spelling_that_is_not_a_code_is_still_missing(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(ketex.sample_study_path(), folder)
    path = folder / "participants.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",SINGLE,", ",NA,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ketex.DataValidationError) as caught:
        ketex.load_trial(folder)
    report = caught.value.report
    assert ((report["rule"] == "missing_value") & (report["column"] == "arm")).any()
