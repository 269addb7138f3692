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


@pytest.mark.parametrize(("line", "day", "what"), [
    (2, "3000", "2999 days after its last, day 1"),  # M01, SINGLE: day 1 only
    (4, "30", "18 days after its last, day 12"),  # M02, SERIES: days 1-12
])
def test_an_infusion_off_its_arms_schedule_is_a_warning(mini_folder, line, day, what):
    edit_cell(mini_folder / "infusions.csv", line, "day", day)
    trial = ketex.load_trial(mini_folder)  # a warning: a deviation may have happened
    who = "M01" if line == 2 else "M02"
    assert _rows(trial.report) == [
        ("infusions", "infusions.csv", line, who, "day", day, "infusion_off_schedule",
         "warning")]
    message = trial.report["message"].iloc[0]
    assert what in message and "study.toml" in message and "Kept as written" in message
    assert float(day) in set(trial.infusions["day"])


def test_an_infusion_within_the_window_of_a_planned_day_is_fine(mini_folder):
    window = PLAUSIBLE["infusion_window_days"]
    edit_cell(mini_folder / "infusions.csv", 2, "day", str(1 + window))  # M01: day 1 planned
    edit_cell(mini_folder / "infusions.csv", 4, "day", str(12 + window))  # M02: day 12 last
    assert ketex.load_trial(mini_folder).report.empty
    edit_cell(mini_folder / "infusions.csv", 2, "day", str(1 + window + 1))
    assert ketex.load_trial(mini_folder).report["rule"].tolist() == ["infusion_off_schedule"]


def test_the_schedule_is_the_drugs_own(mini_folder):
    """Another drug's days do not count: an arm giving ketamine on day 1 and midazolam on
    day 20 plans no ketamine on day 20."""
    toml = mini_folder / "study.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('days = [1]\n', 'days = [1]\n\n[[arms.treatments]]\ndrug = "midazolam"\n'
                        'dose = 0.045\ndose_unit = "mg/kg"\ndays = [20]\nrole = "active_placebo"'
                        '\n', 1)
    toml.write_text(text, encoding="utf-8")
    edit_cell(mini_folder / "infusions.csv", 2, "day", "20")
    assert ketex.load_trial(mini_folder).report["rule"].tolist() == ["infusion_off_schedule"]
    edit_cell(mini_folder / "infusions.csv", 2, "drug", "midazolam")
    edit_cell(mini_folder / "infusions.csv", 2, "dose", "0.045")
    assert ketex.load_trial(mini_folder).report.empty
    edit_cell(mini_folder / "infusions.csv", 2, "day", "5")
    report = ketex.load_trial(mini_folder).report
    assert report["rule"].tolist() == ["infusion_off_schedule"]
    assert "15 days from the nearest" in report["message"].iloc[0]


def _load_redcap(p):
    return ketex.load_redcap(p / "records.csv", p / "dictionary.csv", p / "mapping.toml")


@pytest.mark.parametrize(("load", "where"), [
    (ketex.load_trial, "sample"),
    (ketex.load_trial, "sample_factorial"),
    (_load_redcap, "sample_redcap"),
    (_load_redcap, "sample_factorial_redcap"),
    (ketex.load_sdtm, "sample_sdtm"),
    (ketex.load_sdtm, "sample_factorial_sdtm"),
])
def test_the_samples_keep_to_their_infusion_schedules(load, where):
    trial = load(ketex.sample_study_path().parent / where)
    assert "infusion_off_schedule" not in set(trial.report["rule"])
    assert len(trial.infusions) > 0
