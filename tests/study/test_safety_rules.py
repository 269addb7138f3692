"""The safety tables: reading, every rule on one corrupted cell, row accounting."""

from __future__ import annotations

import pandas as pd
import pytest

import ketex
from tests.conftest import edit_cell

KEY = ["table", "source_file", "line", "participant_id", "column", "value", "rule", "severity"]

ADVERSE_EVENTS = """\
participant_id,term,pt,soc,start_day,end_day,severity,grade,serious,related,action,outcome
M01,feeling spaced out,Dissociation,Psychiatric disorders,1,1,mild,1,no,drug,none,recovered
M01,sore knee,Arthralgia,Musculoskeletal and connective tissue disorders,3,10,moderate,2,no,\
exercise,exercise_paused,recovered
M02,nausea,Nausea,Gastrointestinal disorders,1,1,mild,1,no,drug,none,RECOVERED/RESOLVED
M03,headache,Headache,Nervous system disorders,,,mild,,no,none,,unknown
M04,high blood pressure,Blood pressure increased,Investigations,3,3,severe,3,yes,drug,\
drug_withdrawn,recovered
"""

VITALS = """\
participant_id,day,time_min,test,value,unit
M01,1,-10,SBP,122,mmHg
M01,1,40,SBP,150,mmHg
M01,1,-10,DBP,78,mmHg
M01,1,40,HR,88,bpm
M02,1,-5,TEMP,36.8,C
M02,1,-5,WEIGHT,88,kg
"""

MEDICATIONS = """\
participant_id,name,class,start_day,end_day,indication,rescue
M01,sertraline,SSRI,-100,,depression,false
M02,lorazepam,benzodiazepine,5,6,anxiety,true
"""

# (file, line, column, new value) -> expected (table, line, participant, column, value, rule,
# severity)
CASES = {
    "unknown participant": (
        ("adverse_events", 2, "participant_id", "M99"),
        ("adverse_events", 2, "M99", "participant_id", "M99", "unknown_participant", "error"),
    ),
    "severity code": (
        ("adverse_events", 3, "severity", "very bad"),
        ("adverse_events", 3, "M01", "severity", "very_bad", "unknown_code", "error"),
    ),
    "relation code": (
        ("adverse_events", 4, "related", "ketamine"),
        ("adverse_events", 4, "M02", "related", "ketamine", "unknown_code", "error"),
    ),
    "action code": (
        ("adverse_events", 6, "action", "stopped"),
        ("adverse_events", 6, "M04", "action", "stopped", "unknown_code", "error"),
    ),
    "grade": (
        ("adverse_events", 6, "grade", "6"),
        ("adverse_events", 6, "M04", "grade", "6", "out_of_range", "error"),
    ),
    "serious not boolean": (
        ("adverse_events", 6, "serious", "maybe"),
        ("adverse_events", 6, "M04", "serious", "maybe", "not_boolean", "error"),
    ),
    "end before start": (
        ("adverse_events", 3, "end_day", "2"),
        ("adverse_events", 3, "M01", "end_day", "2", "end_before_start", "error"),
    ),
    "onset day impossible": (
        ("adverse_events", 2, "start_day", "4000"),
        ("adverse_events", 2, "M01", "start_day", "4000", "impossible_day", "error"),
    ),
    "onset date disagrees with day": (
        ("adverse_events", 2, "start_date", "2024-01-20"),
        ("adverse_events", 2, "M01", "start_day", "1", "day_date_mismatch", "error"),
    ),
    "verbatim term empty": (
        ("adverse_events", 2, "term", ""),
        ("adverse_events", 2, "M01", "term", None, "missing_value", "error"),
    ),
    "soc misspelled": (
        ("adverse_events", 4, "soc", "Gastrointestinal Disorders"),
        ("adverse_events", 4, "M02", "soc", "Gastrointestinal Disorders", "unknown_soc",
         "warning"),
    ),
    "pt uncoded": (
        ("adverse_events", 5, "pt", ""),
        ("adverse_events", 5, "M03", "pt", None, "uncoded_event", "warning"),
    ),
    "pt spelled two ways": (
        ("adverse_events", 4, "pt", "dissociation"),
        ("adverse_events", 4, "M02", "pt", "dissociation", "pt_spelling", "warning"),
    ),
    "vital test unknown": (
        ("vitals", 2, "test", "MAP"),
        ("vitals", 2, "M01", "test", "MAP", "unknown_vital_test", "error"),
    ),
    "vital unit not of its test": (
        ("vitals", 2, "unit", "kg"),
        ("vitals", 2, "M01", "unit", "kg", "unknown_unit", "error"),
    ),
    "systolic too high": (
        ("vitals", 3, "value", "320"),
        ("vitals", 3, "M01", "value", "320", "vital_out_of_range", "error"),
    ),
    "temperature in F out of range": (
        ("vitals", 6, "unit", "F"),
        ("vitals", 6, "M02", "value", "36.8", "vital_out_of_range", "error"),
    ),
    "time far from infusion": (
        ("vitals", 2, "time_min", "2000"),
        ("vitals", 2, "M01", "time_min", "2000", "out_of_range", "error"),
    ),
    "vital duplicated": (
        ("vitals", 3, "time_min", "-10"),
        ("vitals", 3, "M01", "test", "SBP", "duplicate_vital", "error"),
    ),
    "vital value missing": (
        ("vitals", 7, "value", ""),
        ("vitals", 7, "M02", "value", None, "missing_value", "error"),
    ),
    "medication ends before it starts": (
        ("medications", 3, "end_day", "4"),
        ("medications", 3, "M02", "end_day", "4", "end_before_start", "error"),
    ),
    "rescue not boolean": (
        ("medications", 3, "rescue", "sometimes"),
        ("medications", 3, "M02", "rescue", "sometimes", "not_boolean", "error"),
    ),
}


@pytest.fixture
def safety_folder(mini_folder):
    for name, text in (("adverse_events", ADVERSE_EVENTS), ("vitals", VITALS),
                       ("medications", MEDICATIONS)):
        (mini_folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return mini_folder


def _rows(report: pd.DataFrame) -> list[tuple]:
    return [
        tuple(None if pd.isna(v) else v for v in row)
        for row in report[KEY].itertuples(index=False)
    ]


def test_clean_safety_tables_load_with_codes_normalised(safety_folder):
    trial = ketex.load_trial(safety_folder)
    assert trial.has_safety_data
    assert trial.report.empty, trial.report.to_string()
    ae = trial.adverse_events
    assert len(ae) == 5 and len(trial.vitals) == 6 and len(trial.medications) == 2
    assert ae["participant_id"].tolist() == ["M01", "M01", "M02", "M03", "M04"]
    assert ae["outcome"].tolist() == ["recovered"] * 3 + ["unknown", "recovered"]
    assert trial.vitals.loc[trial.vitals["test"] == "HR", "unit"].tolist() == ["beats/min"]
    assert str(ae["start_day"].dtype) == "Int64" and ae["start_day"].isna().sum() == 1
    assert ae["serious"].dtype == "boolean"
    assert "adverse_events=5" in repr(trial)


def test_trial_without_safety_tables_has_them_empty(mini_folder):
    trial = ketex.load_trial(mini_folder)
    assert not trial.has_safety_data
    assert list(trial.vitals.columns) == ["participant_id", "day", "test", "value", "unit"]
    assert "vitals" not in repr(trial)


@pytest.mark.parametrize("case", list(CASES))
def test_rule_reports_the_exact_row(safety_folder, case):
    (table, line, column, value), expected = CASES[case]
    path = safety_folder / f"{table}.csv"
    edit_cell(path, line, column, value)
    trial = ketex.load_trial(safety_folder, on_error="drop")
    row = (expected[0], path.name, *expected[1:])
    assert row in _rows(trial.report), trial.report[KEY].to_string()
    message = trial.report.loc[
        (trial.report["line"] == line) & (trial.report["rule"] == expected[5]), "message"
    ].iloc[0]
    assert message.startswith(f"{path.name} line {line}: ")
    loaded = len(getattr(trial, table))
    total = len(pd.read_csv(path))
    # an error rejects exactly its row; a warning keeps it
    assert loaded == total - (expected[6] == "error")


def test_errors_raise_under_the_default(safety_folder):
    edit_cell(safety_folder / "vitals.csv", 2, "value", "12")
    with pytest.raises(ketex.DataValidationError, match="vitals.csv line 2: SBP 12 mmHg"):
        ketex.load_trial(safety_folder)


def test_pt_under_two_socs_is_a_warning(safety_folder):
    edit_cell(safety_folder / "adverse_events.csv", 4, "pt", "Headache")
    trial = ketex.load_trial(safety_folder)
    rows = trial.report[trial.report["rule"] == "pt_in_two_socs"]
    assert sorted(rows["line"].tolist()) == [4, 5]


def test_onset_from_date(safety_folder):
    edit_cell(safety_folder / "adverse_events.csv", 5, "start_date", "2024-02-04")
    trial = ketex.load_trial(safety_folder)
    headache = trial.adverse_events.set_index("term").loc["headache"]
    assert headache["start_day"] == 3  # M03 randomised 2024-02-01


def test_round_trip_through_folder_and_workbook(safety_folder, tmp_path):
    trial = ketex.load_trial(safety_folder)
    again = ketex.load_trial(ketex.write_trial(trial, tmp_path / "copy"))
    assert trial.differences(again) == []
    book = ketex.load_trial(ketex.write_excel(trial, safety_folder / "trial.xlsx"))
    assert trial.differences(book) == []


def test_empty_safety_tables_are_not_written(mini_folder, tmp_path):
    trial = ketex.load_trial(mini_folder)
    written = ketex.write_trial(trial, tmp_path / "copy")
    assert not (written / "adverse_events.csv").exists()


def test_none_is_a_code_of_relation_and_action(safety_folder):
    # "none" is also a missing-value token; in these two columns it is a code
    events = ketex.load_trial(safety_folder).adverse_events.set_index("term")
    assert events.loc["headache", "related"] == "none"
    assert events.loc["feeling spaced out", "action"] == "none"
