"""Plausibility rules: values each within range, but not together (issue 18).

Weight in pounds (170 at 169 cm), an assessment or session on day 3000 of a 31-day
schedule and 999 W on a cycle ergometer were accepted without a word.
"""

from __future__ import annotations

import pandas as pd
import pytest

import ketex
from ketex.study.plausibility import PLAUSIBLE
from tests.conftest import edit_cell

KEY = ["table", "source_file", "line", "participant_id", "column", "value", "rule", "severity"]


def _rows(report: pd.DataFrame) -> list[tuple]:
    return [tuple(None if pd.isna(v) else v for v in row)
            for row in report[KEY].itertuples(index=False)]


def _load(folder):
    return ketex.load_trial(folder, on_error="drop")


@pytest.mark.parametrize(("weight", "height", "bmi"), [("170", "169", "59.5"),
                                                       ("30", "190", "8.3")])
def test_bmi_out_of_bounds_is_a_warning(mini_folder, weight, height, bmi):
    edit_cell(mini_folder / "participants.csv", 2, "weight_kg", weight)
    edit_cell(mini_folder / "participants.csv", 2, "height_cm", height)
    trial = ketex.load_trial(mini_folder)  # a warning: such a BMI is rare, not impossible
    assert _rows(trial.report) == [
        ("participants", "participants.csv", 2, "M01", "weight_kg", weight, "implausible_bmi",
         "warning")]
    message = trial.report["message"].iloc[0]
    assert f"BMI {bmi}" in message and "pounds" in message
    assert trial.participants["weight_kg"].iloc[0] == float(weight)  # kept as written


def test_bmi_at_the_bounds_is_fine(mini_folder):
    low, high = PLAUSIBLE["bmi"]
    # 1.80 m: the weights at the bounds exactly
    for weight in (low * 1.8**2, high * 1.8**2):
        edit_cell(mini_folder / "participants.csv", 2, "weight_kg", f"{weight:.4f}")
        edit_cell(mini_folder / "participants.csv", 2, "height_cm", "180")
        assert ketex.load_trial(mini_folder).report.empty


def test_no_bmi_without_a_height(mini_folder):
    edit_cell(mini_folder / "participants.csv", 2, "weight_kg", "170")
    edit_cell(mini_folder / "participants.csv", 2, "height_cm", "")
    assert ketex.load_trial(mini_folder).report.empty


def test_assessment_far_beyond_the_schedule_is_an_error(mini_folder):
    edit_cell(mini_folder / "assessments.csv", 6, "day", "3000")
    trial = _load(mini_folder)
    errors = trial.report[trial.report["severity"] == "error"]
    assert _rows(errors) == [
        ("assessments", "assessments.csv", 6, "M01", "day", "3000", "beyond_schedule", "error")]
    message = errors["message"].iloc[0]
    assert "day 31" in message and "WEEK4" in message
    assert 3000 not in set(trial.assessments["day"])


def test_exercise_beyond_the_schedule_is_an_error(mini_folder):
    edit_cell(mini_folder / "exercise.csv", 2, "day", "3000")
    trial = _load(mini_folder)
    assert _rows(trial.report) == [
        ("exercise", "exercise.csv", 2, "M01", "day", "3000", "beyond_schedule", "error")]
    assert len(trial.exercise) == 6


def test_event_beyond_the_schedule_is_a_warning(mini_folder):
    edit_cell(mini_folder / "events.csv", 2, "day", "3000")
    trial = ketex.load_trial(mini_folder)
    assert _rows(trial.report) == [
        ("events", "events.csv", 2, "M03", "day", "3000", "event_beyond_schedule",
         "warning")]


def test_within_the_margin_is_fine(mini_folder):
    last = 31 + PLAUSIBLE["schedule_margin_days"]
    edit_cell(mini_folder / "exercise.csv", 2, "day", str(last))
    edit_cell(mini_folder / "events.csv", 2, "day", str(last))
    assert ketex.load_trial(mini_folder).report.empty
    edit_cell(mini_folder / "exercise.csv", 2, "day", str(last + 1))
    assert _load(mini_folder).report["rule"].tolist() == ["beyond_schedule"]


@pytest.mark.parametrize(("watts", "flagged"), [("999", True), ("401", True), ("400", False),
                                                ("85", False)])
def test_watts_above_a_sustainable_mean_is_a_warning(mini_folder, watts, flagged):
    edit_cell(mini_folder / "exercise.csv", 2, "watts", watts)
    trial = ketex.load_trial(mini_folder)
    expected = [("exercise", "exercise.csv", 2, "M01", "watts", watts, "implausible_watts",
                 "warning")] if flagged else []
    assert _rows(trial.report) == expected


def test_the_sample_study_is_plausible():
    trial = ketex.load_trial(ketex.sample_study_path())
    rules = set(trial.report["rule"])
    assert not rules & {"implausible_bmi", "beyond_schedule", "implausible_watts"}
