"""Every validation rule: one corrupted cell of the mini study, one exact report row."""

from __future__ import annotations

import pandas as pd
import pytest

import ketex
from ketex.study.problems import format_report
from tests.conftest import edit_cell

KEY = ["table", "source_file", "line", "participant_id", "column", "value", "rule", "severity"]

# (file, line, column, new value) -> expected report row (table, line, participant, column,
# value, rule, severity); the source file is the edited file.
CASES = {
    "participant duplicated": (
        ("participants", 5, "participant_id", "M01"),
        ("participants", 5, "M01", "participant_id", "M01", "duplicate_participant", "error"),
    ),
    "arm not in protocol": (
        ("participants", 3, "arm", "PLACEBO"),
        ("participants", 3, "M02", "arm", "PLACEBO", "unknown_arm", "error"),
    ),
    "resting heart rate too high": (
        ("participants", 2, "resting_hr", "260"),
        ("participants", 2, "M01", "resting_hr", "260", "heart_rate_out_of_range", "error"),
    ),
    "resting heart rate too low": (
        ("participants", 2, "resting_hr", "29"),
        ("participants", 2, "M01", "resting_hr", "29", "heart_rate_out_of_range", "error"),
    ),
    "age implausible": (
        ("participants", 4, "age", "270"),
        ("participants", 4, "M03", "age", "270", "out_of_range", "error"),
    ),
    "weight not a number": (
        ("participants", 4, "weight_kg", "58,2"),
        ("participants", 4, "M03", "weight_kg", "58,2", "non_numeric", "error"),
    ),
    "boolean unreadable": (
        ("participants", 4, "beta_blocker", "maybe"),
        ("participants", 4, "M03", "beta_blocker", "maybe", "not_boolean", "error"),
    ),
    "date unreadable": (
        ("participants", 2, "randomization_date", "31/02/2024"),
        ("participants", 2, "M01", "randomization_date", "31/02/2024", "bad_date", "error"),
    ),
    "required value empty": (
        ("participants", 3, "arm", ""),
        ("participants", 3, "M02", "arm", None, "missing_value", "error"),
    ),
    "infusion of unknown participant": (
        ("infusions", 6, "participant_id", "M99"),
        ("infusions", 6, "M99", "participant_id", "M99", "unknown_participant", "error"),
    ),
    "dose unit unknown": (
        ("infusions", 2, "dose_unit", "ml"),
        ("infusions", 2, "M01", "dose_unit", "ml", "unknown_dose_unit", "error"),
    ),
    "IV ketamine above 1 mg/kg": (
        ("infusions", 2, "dose", "1.5"),
        ("infusions", 2, "M01", "dose", "1.5", "implausible_dose", "error"),
    ),
    "IV ketamine in mg above 1 mg/kg of body weight": (
        ("infusions", 7, "dose", "95"),  # M04 weighs 92.3 kg
        ("infusions", 7, "M04", "dose", "95", "implausible_dose", "error"),
    ),
    "dose zero": (
        ("infusions", 3, "dose", "0"),
        ("infusions", 3, "M02", "dose", "0", "implausible_dose", "error"),
    ),
    "drug not among the arm's treatments": (
        ("infusions", 2, "drug", "midazolam"),
        ("infusions", 2, "M01", "drug", "midazolam", "drug_not_in_arm", "warning"),
    ),
    "infusion duration impossible": (
        ("infusions", 3, "duration_min", "0"),
        ("infusions", 3, "M02", "duration_min", "0", "impossible_duration", "error"),
    ),
    "infusion before randomisation": (
        ("infusions", 2, "day", "-2"),
        ("infusions", 2, "M01", "day", "-2", "impossible_day", "error"),
    ),
    "infusion twice on one day": (
        ("infusions", 4, "day", "1"),
        ("infusions", 4, "M02", "day", "1", "duplicate_infusion", "error"),
    ),
    "day not whole": (
        ("exercise", 3, "day", "3.5"),
        ("exercise", 3, "M01", "day", "3.5", "impossible_day", "error"),
    ),
    "exercise duration impossible": (
        ("exercise", 5, "duration_min", "-45"),
        ("exercise", 5, "M02", "duration_min", "-45", "impossible_duration", "error"),
    ),
    "exercise duration too long": (
        ("exercise", 5, "duration_min", "450"),
        ("exercise", 5, "M02", "duration_min", "450", "impossible_duration", "error"),
    ),
    "session heart rate too high": (
        ("exercise", 2, "avg_hr", "231"),
        ("exercise", 2, "M01", "avg_hr", "231", "heart_rate_out_of_range", "error"),
    ),
    "rpe outside Borg scale": (
        ("exercise", 2, "rpe", "21"),
        ("exercise", 2, "M01", "rpe", "21", "out_of_range", "error"),
    ),
    "negative watts": (
        ("exercise", 2, "watts", "-5"),
        ("exercise", 2, "M01", "watts", "-5", "out_of_range", "error"),
    ),
    "MET implausible": (
        ("exercise", 7, "met", "68"),
        ("exercise", 7, "M03", "met", "68", "out_of_range", "error"),
    ),
    "day far beyond follow-up": (
        ("assessments", 6, "day", "4000"),
        ("assessments", 6, "M01", "day", "4000", "impossible_day", "error"),
    ),
    "instrument unknown": (
        ("assessments", 2, "instrument", "MADRS-S"),
        ("assessments", 2, "M01", "instrument", "MADRS-S", "unknown_instrument", "error"),
    ),
    "item above the instrument range": (
        ("assessments", 7, "item_3", "7"),
        ("assessments", 7, "M02", "item_3", "7", "item_out_of_range", "error"),
    ),
    "item below the instrument range": (
        ("assessments", 7, "item_3", "-1"),
        ("assessments", 7, "M02", "item_3", "-1", "item_out_of_range", "error"),
    ),
    "QIDS item 4 in MADRS range but above QIDS range": (
        ("assessments", 3, "item_4", "4"),
        ("assessments", 3, "M01", "item_4", "4", "item_out_of_range", "error"),
    ),
    "item not numeric": (
        ("assessments", 7, "item_3", "three"),
        ("assessments", 7, "M02", "item_3", "three", "non_numeric", "error"),
    ),
    "item beyond the instrument's items": (
        ("assessments", 7, "item_12", "1"),
        ("assessments", 7, "M02", "item_12", "1", "extra_item", "error"),
    ),
    "total outside range": (
        ("assessments", 6, "total", "61"),
        ("assessments", 6, "M01", "total", "61", "total_out_of_range", "error"),
    ),
    "total disagrees with items": (
        ("assessments", 2, "total", "31"),  # items sum to 32
        ("assessments", 2, "M01", "total", "31", "total_mismatch", "error"),
    ),
    "visit not in protocol": (
        ("assessments", 4, "visit", "DAY2"),
        ("assessments", 4, "M01", "visit", "DAY2", "unknown_visit", "error"),
    ),
    "duplicate assessment": (
        ("assessments", 14, "day", "-2"),  # M04 line 14 becomes a copy of line 13's key
        None,  # checked below: visit differs, so make the whole row equal instead
    ),
    "visit outside its window": (
        ("assessments", 5, "day", "20"),
        ("assessments", 5, "M01", "day", "20", "visit_outside_window", "warning"),
    ),
    "visit not scheduled for the arm": (
        ("assessments", 4, "visit", "INF2_24H"),  # M01 is in SINGLE; day 2 also out of window
        ("assessments", 4, "M01", "visit", "INF2_24H", "visit_not_for_arm", "warning"),
    ),
    "event type unknown": (
        ("events", 2, "event", "fell off bike"),
        ("events", 2, "M03", "event", "fell_off_bike", "unknown_event", "warning"),
    ),
    "day disagrees with date": (
        ("events", 2, "date", "2024-02-01"),  # M03 randomised 2024-02-01: day 0, not 20
        ("events", 2, "M03", "day", "20", "day_date_mismatch", "error"),
    ),
}


def _load(folder, on_error="drop"):
    return ketex.load_trial(folder, on_error=on_error)


def _rows(report: pd.DataFrame) -> list[tuple]:
    return [
        tuple(None if pd.isna(v) else v for v in row)
        for row in report[KEY].itertuples(index=False)
    ]


@pytest.mark.parametrize("case", [k for k, v in CASES.items() if v[1] is not None])
def test_rule_reports_the_exact_row(mini_folder, case):
    (table, line, column, value), expected = CASES[case]
    path = mini_folder / f"{table}.csv"
    edit_cell(path, line, column, value)
    trial = _load(mini_folder)
    row = (expected[0], path.name, *expected[1:])
    assert row in _rows(trial.report), trial.report[KEY].to_string()
    message = trial.report.loc[
        (trial.report["line"] == line) & (trial.report["rule"] == expected[5]), "message"
    ].iloc[0]
    assert message.startswith(f"{path.name} line {line}: ")


@pytest.mark.parametrize("case", [k for k, v in CASES.items() if v[1] is not None])
def test_errors_raise_with_the_same_report(mini_folder, case):
    (table, line, column, value), expected = CASES[case]
    edit_cell(mini_folder / f"{table}.csv", line, column, value)
    if expected[-1] == "warning":
        trial = _load(mini_folder, on_error="raise")
        assert expected[5] in set(trial.warnings["rule"])
        return
    with pytest.raises(ketex.DataValidationError) as caught:
        _load(mini_folder, on_error="raise")
    assert expected[5] in set(caught.value.errors["rule"])
    assert f"{table}.csv:{line}" in str(caught.value)


def test_unmodified_mini_study_has_no_problem(mini_folder):
    trial = _load(mini_folder, on_error="raise")
    assert trial.report.empty


def test_duplicate_assessment_rejects_the_second_copy(mini_folder):
    path = mini_folder / "assessments.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[9]]) + "\n")  # M02 WEEK2 again, as line 15
    trial = _load(mini_folder)
    assert ("assessments", "assessments.csv", 15, "M02", "visit", "WEEK2",
            "duplicate_assessment", "error") in _rows(trial.report)
    assert "(line 10)" in trial.report["message"].iloc[0]
    assert len(trial.assessments) == 13


def test_prorating_at_the_limit_of_eight_items(mini_folder):
    edit_cell(mini_folder / "assessments.csv", 5, "item_1", "")  # item 5 already missing
    trial = _load(mini_folder, on_error="raise")
    week2 = trial.assessments.query("participant_id == 'M01' and visit == 'WEEK2'")
    assert week2["total"].iloc[0] == pytest.approx(12 / 8 * 10)  # 2,1,2,2,2,1,1,1
    assert trial.report.empty


def test_too_few_items_keeps_the_row_without_total(mini_folder):
    edit_cell(mini_folder / "assessments.csv", 5, "item_1", "")
    edit_cell(mini_folder / "assessments.csv", 5, "item_2", "")  # 7 of 10 left
    trial = _load(mini_folder, on_error="raise")
    assert _rows(trial.report) == [
        ("assessments", "assessments.csv", 5, "M01", "total", None,
         "total_not_scorable", "warning")
    ]
    week2 = trial.assessments.query("participant_id == 'M01' and visit == 'WEEK2'")
    assert week2["total"].isna().all()


def test_prorated_total_from_nine_of_ten_items(mini_folder):
    trial = _load(mini_folder, on_error="raise")
    week2 = trial.assessments.query("participant_id == 'M01' and visit == 'WEEK2'")
    # items 2,2,1,2,_,2,2,1,1,1: mean 14/9 x 10 items
    assert week2["total"].iloc[0] == pytest.approx(14 / 9 * 10)


def test_phq9_item9_is_flagged_whatever_the_total(mini_folder):
    path = mini_folder / "assessments.csv"
    with open(path, "a") as handle:
        handle.write("M01,28,WEEK4,PHQ-9,0,0,0,0,0,0,0,0,1,,,,,,,,\n")
    trial = _load(mini_folder, on_error="raise")
    assert ("assessments", "assessments.csv", 15, "M01", "item_9", "1",
            "phq9_item9_positive", "warning") in _rows(trial.report)


def test_day_from_date_and_randomisation_date(mini_folder):
    path = mini_folder / "events.csv"
    path.write_text(
        "participant_id,date,event\nM03,2024-02-21,hospitalisation\nM01,2024-01-09,other\n"
    )
    trial = _load(mini_folder, on_error="raise")
    assert list(trial.events["day"]) == [1, 20]  # sorted by participant: M01 then M03


def test_date_without_randomisation_date(mini_folder):
    edit_cell(mini_folder / "participants.csv", 4, "randomization_date", "")
    (mini_folder / "events.csv").write_text("participant_id,date,event\nM03,2024-02-21,other\n")
    trial = _load(mini_folder)
    assert ("events", "events.csv", 2, "M03", "date", "2024-02-21", "no_day",
            "error") in _rows(trial.report)


def test_rejected_participant_takes_its_records_with_it(mini_folder):
    edit_cell(mini_folder / "participants.csv", 4, "arm", "PLACEBO")
    trial = _load(mini_folder)
    rejected = trial.report[trial.report["rule"] == "unknown_participant"]
    # M03: 1 infusion, 1 exercise session, 2 assessments, 2 events
    assert sorted(rejected["table"]) == ["assessments"] * 2 + ["events"] * 2 + [
        "exercise", "infusions"]
    assert rejected["message"].str.contains("was rejected in participants").all()
    assert "M03" not in set(trial.assessments["participant_id"])


def test_lettered_bdi_options_are_scored_by_their_number(mini_folder):
    items = ["1"] * 15 + ["2b", "1", "1a", "1", "1", "1"]
    with open(mini_folder / "assessments.csv", "a") as handle:
        handle.write("M01,0,BASELINE,BDI-II," + ",".join(items[:16]) + ",\n")
    path = mini_folder / "assessments.csv"
    for k, value in enumerate(items[16:], start=17):
        edit_cell(path, 15, f"item_{k}", value)
    trial = _load(mini_folder, on_error="raise")
    bdi = trial.assessments.query("instrument == 'BDI-II'")
    assert bdi["total"].iloc[0] == 15 + 2 + 1 + 1 + 3  # 2b scores 2, 1a scores 1
    assert bdi["item_16"].iloc[0] == 2.0


def test_every_rule_is_documented():
    from pathlib import Path

    from ketex.study.problems import RULES

    guide = (Path(__file__).parents[2] / "docs" / "loading-data.md").read_text()
    documented = {
        rule.strip("` ")
        for line in guide.splitlines() if line.startswith("| `")
        for rule in line.split("|")[1].split(",")
    }
    assert set(RULES) - documented == set()


def test_unregistered_rule_is_a_programming_error():
    from ketex.study.problems import ProblemLog

    with pytest.raises(ValueError, match="not in RULES"):
        ProblemLog().add("participants", "made_up", "x")
    with pytest.raises(ValueError, match="not in RULES"):
        ProblemLog().add("participants", "unknown_arm", "x", severity="warning")


def test_a_missing_participant_is_one_line_per_table_in_the_printed_report(mini_folder):
    # every record of M03 is rejected, each keeps its row in the report table (row
    # accounting), and the printed report says the one cause once per table
    edit_cell(mini_folder / "participants.csv", 4, "participant_id", "M33")
    trial = _load(mini_folder)
    rows = trial.report[(trial.report["rule"] == "unknown_participant")]
    assert len(rows) == 6
    text = format_report(rows, limit=None)
    lines = text.splitlines()
    assert len(lines) == 4, text
    assessments = next(line for line in lines if line.split()[1] == "assessments.csv")
    assert " (2 rows) [participant_id='M03'] unknown_participant: participant M03 is not in " in (
        assessments)
    assert "assessments.csv line" not in assessments.split("unknown_participant")[1]
    infusion = next(line for line in lines if "infusions.csv" in line)
    assert infusion.split()[1].startswith("infusions.csv:")
