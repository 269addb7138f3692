"""The safety tables in SDTM: AE, VS (vital signs over time) and CM, written and read back.

Fixture: ``tests/data/mini`` with hand-written safety tables covering every code of
``docs/safety.md`` (each severity, relation, action and outcome; vitals in lb and F, a
vital without a time point, one on an exercise day; rescue and ongoing medications).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from ketex.errors import DataValidationError
from ketex.io.folder import load_trial
from ketex.io.sdtm import load_sdtm, sdtm_datasets, write_sdtm
from ketex.io.sdtm.safety_terms import parse_elapsed

DATA = Path(__file__).resolve().parents[1] / "data"

ADVERSE_EVENTS = """\
participant_id,term,pt,soc,start_day,start_date,end_day,severity,grade,serious,related,\
action,outcome,pre_existing,baseline_severity,notes
M01,feeling spaced out,Dissociation,Psychiatric disorders,1,2024-01-09,1,mild,1,no,drug,\
none,recovered,,,
M01,sore knee,Arthralgia,Musculoskeletal and connective tissue disorders,3,,10,moderate,2,\
no,exercise,exercise_paused,recovering,,,ice
M01,knee swelling,Joint swelling,Musculoskeletal and connective tissue disorders,12,,,\
severe,3,no,exercise,exercise_stopped,not_recovered,,,
M02,nausea,Nausea,Gastrointestinal disorders,1,,1,mild,1,no,both,dose_reduced,\
recovered_with_sequelae,,,
M02,worse insomnia,Insomnia,Psychiatric disorders,2,,4,moderate,,no,none,drug_interrupted,\
recovered,true,mild,
M03,headache,Headache,Nervous system disorders,,,,mild,,no,none,,unknown,,,
M03,overdose,Suicide attempt,Psychiatric disorders,20,,20,severe,4,yes,none,\
withdrawn_from_study,fatal,,,
M04,high blood pressure,Blood pressure increased,Investigations,3,,3,severe,3,yes,drug,\
drug_withdrawn,recovered,false,,
"""

VITALS = """\
participant_id,day,time_min,test,value,unit,position
M01,1,-10,SBP,122,mmHg,sitting
M01,1,-10,DBP,78,mmHg,
M01,1,40,SBP,150,mmHg,
M01,1,40,HR,88,beats/min,
M01,3,-5,SPO2,98,%,
M02,1,-5,TEMP,98.2,F,
M02,1,-5,WEIGHT,194,lb,
M02,8,,TEMP,36.9,C,
M03,1,80.5,DBP,84,mmHg,
"""

MEDICATIONS = """\
participant_id,name,class,start_day,start_date,end_day,indication,rescue
M01,sertraline,SSRI,-100,,,depression,false
M02,lorazepam,benzodiazepine,5,2024-01-20,6,anxiety,true
M04,ibuprofen,NSAID,4,,5,knee pain,
"""


@pytest.fixture(scope="module")
def safety_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("safety") / "mini"
    shutil.copytree(DATA / "mini", folder)
    for name, text in (("adverse_events", ADVERSE_EVENTS), ("vitals", VITALS),
                       ("medications", MEDICATIONS)):
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    events = folder / "events.csv"  # the suicide attempt is an endpoint event too
    events.write_text(events.read_text() + "M03,20,suicide_attempt,overdose\n")
    return folder


@pytest.fixture(scope="module")
def trial(safety_folder):
    return load_trial(safety_folder)


def test_fixture_holds_every_code(trial):
    ae = trial.adverse_events
    assert trial.report.empty
    assert set(ae["severity"]) == {"mild", "moderate", "severe"}
    assert set(ae["related"]) == {"drug", "exercise", "both", "none"}
    assert set(ae["action"].dropna()) == {
        "none", "dose_reduced", "drug_interrupted", "drug_withdrawn", "exercise_paused",
        "exercise_stopped", "withdrawn_from_study"}
    assert set(ae["outcome"]) == {"recovered", "recovering", "not_recovered",
                                  "recovered_with_sequelae", "fatal", "unknown"}


@pytest.mark.parametrize("format", ["csv", "xpt"])
def test_round_trip_of_the_safety_tables(trial, tmp_path, format):
    folder = write_sdtm(trial, tmp_path / "sdtm", format=format)
    assert {"ae", "suppae", "vs", "suppvs", "cm"} <= {p.stem for p in folder.iterdir()}
    loaded = load_sdtm(folder)
    assert loaded.differences(trial) == []
    assert loaded.equals(trial)
    assert loaded.report.empty
    assert len(loaded.adverse_events) == 8 and len(loaded.vitals) == 9


def test_written_terms_are_cdisc_controlled_terminology(trial):
    datasets = sdtm_datasets(trial)
    ae = datasets["AE"]
    assert set(ae["AESEV"]) == {"MILD", "MODERATE", "SEVERE"}
    assert set(ae["AESER"]) == {"Y", "N"}
    assert set(ae["AEREL"]) == {"RELATED", "NOT RELATED"}
    assert set(ae["AEOUT"]) == {
        "RECOVERED/RESOLVED", "RECOVERING/RESOLVING", "NOT RECOVERED/NOT RESOLVED",
        "RECOVERED/RESOLVED WITH SEQUELAE", "FATAL", "UNKNOWN"}
    assert set(ae["AEACN"].dropna()) == {"DOSE NOT CHANGED", "DOSE REDUCED",
                                         "DRUG INTERRUPTED", "DRUG WITHDRAWN"}
    m01 = ae[ae["USUBJID"] == "M01"].set_index("AETERM")
    assert m01.loc["feeling spaced out", ["AESTDY", "AEENDY", "AESTDTC"]].tolist() == [
        2, 2, "2024-01-09"]  # ketex day 1 is SDTM day 2
    assert m01.loc["sore knee", ["AEACN", "AEACNOTH"]].tolist() == [
        "DOSE NOT CHANGED", "EXERCISE PAUSED"]
    supp = datasets["SUPPAE"]
    related = supp[supp["QNAM"] == "AERELTRT"]["QVAL"]
    assert set(related) == {"STUDY DRUG", "EXERCISE", "STUDY DRUG AND EXERCISE"}
    vs = datasets["VS"]
    timed = vs[vs["VSDY"].notna()]
    assert set(timed["VSTESTCD"]) == {"SYSBP", "DIASBP", "HR", "OXYSAT", "TEMP", "WEIGHT"}
    first = timed[(timed["USUBJID"] == "M01") & (timed["VSTESTCD"] == "SYSBP")]
    assert first[["VSTPT", "VSELTM", "VSTPTREF", "VSDY"]].values.tolist() == [
        ["10 MIN BEFORE INFUSION START", "-PT10M", "INFUSION START", 2],
        ["40 MIN AFTER INFUSION START", "PT40M", "INFUSION START", 2]]
    weight = timed[(timed["USUBJID"] == "M02") & (timed["VSTESTCD"] == "WEIGHT")].iloc[0]
    assert (weight["VSORRES"], weight["VSORRESU"], weight["VSSTRESU"]) == ("194", "LB", "kg")
    assert weight["VSSTRESN"] == pytest.approx(194 * 0.45359237)
    fever = timed[(timed["USUBJID"] == "M02") & (timed["VSTESTCD"] == "TEMP")]
    assert fever["VSSTRESN"].iloc[0] == pytest.approx((98.2 - 32) * 5 / 9)
    cm = datasets["CM"].set_index("CMTRT")
    assert cm.loc["lorazepam", ["CMCAT", "CMSTDY", "CMENDY"]].tolist() == [
        "RESCUE MEDICATION", 6, 7]
    assert cm.loc["sertraline", "CMCAT"] == "CONCOMITANT MEDICATION"
    assert pd.isna(cm.loc["ibuprofen", "CMCAT"])


def test_trial_without_safety_data_writes_no_safety_dataset():
    datasets = sdtm_datasets(load_trial(DATA / "mini"))
    assert not {"AE", "CM", "SUPPAE"} & set(datasets)
    assert datasets["VS"]["VSBLFL"].eq("Y").all()


def test_elapsed_times_are_signed_iso_durations():
    assert parse_elapsed("-PT1H5M") == -65.0
    assert parse_elapsed("PT0M") == 0.0
    assert parse_elapsed("-15") is None


# -- reading SDTM as others write it --------------------------------------------------


def _sdtm_csv(trial, tmp_path: Path) -> Path:
    return write_sdtm(trial, tmp_path / "sdtm", format="csv")


def _edit(path: Path, line: int, column: str, value: str) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if column not in frame.columns:
        frame[column] = ""
    frame.loc[line - 2, column] = value
    frame.to_csv(path, index=False)


def _problems(report: pd.DataFrame) -> list[tuple]:
    return sorted((r.source_file, r.line, r.column, r.value, r.rule, r.severity)
                  for r in report.itertuples())


@pytest.mark.parametrize(("file", "line", "variable", "value", "rule"), [
    ("ae.csv", 2, "AESEV", "VERY SEVERE", "unknown_code"),
    ("ae.csv", 3, "AEACN", "DOSE INCREASED", "unknown_code"),
    ("ae.csv", 4, "AEOUT", "RESOLVED", "unknown_code"),
    ("ae.csv", 5, "AEREL", "MAYBE", "unknown_code"),
    ("ae.csv", 6, "AESER", "SERIOUS", "unknown_code"),
    ("ae.csv", 7, "AESTDY", "0", "impossible_day"),
    ("vs.csv", 5, "VSELTM", "40 min", "bad_duration"),
    ("cm.csv", 3, "CMSTDTC", "20-01-2024", "bad_date"),
])
def test_unknown_terms_are_reported_at_their_record(trial, tmp_path, file, line, variable,
                                                    value, rule):
    folder = _sdtm_csv(trial, tmp_path)
    _edit(folder / file, line, variable, value)
    loaded = load_sdtm(folder, on_error="drop")
    errors = loaded.report[loaded.report["severity"] == "error"]
    assert _problems(errors) == [(file, line, variable, value, rule, "error")]
    table = {"ae.csv": "adverse_events", "vs.csv": "vitals", "cm.csv": "medications"}[file]
    assert len(getattr(loaded, table)) == len(getattr(trial, table)) - 1  # that record
    with pytest.raises(DataValidationError, match=f"{file} line {line}: {variable}"):
        load_sdtm(folder)


def test_value_problems_point_at_the_sdtm_record(trial, tmp_path):
    folder = _sdtm_csv(trial, tmp_path)
    _edit(folder / "vs.csv", 7, "VSORRES", "400")  # M01's systolic 40 min after
    report = load_sdtm(folder, on_error="drop").report
    assert _problems(report) == [("vs.csv", 7, "value", "400", "vital_out_of_range", "error")]


@pytest.mark.parametrize(("file", "variable"), [("ae.csv", "AETERM"), ("cm.csv", "CMTRT")])
def test_missing_required_variable_is_reported(trial, tmp_path, file, variable):
    folder = _sdtm_csv(trial, tmp_path)
    frame = pd.read_csv(folder / file, dtype=str).drop(columns=variable)
    frame.to_csv(folder / file, index=False)
    report = load_sdtm(folder, on_error="drop").report
    problem = report[report["rule"] == "missing_column"]
    assert problem[["source_file", "column"]].values.tolist() == [[file, variable]]


def test_relation_without_suppae_is_the_study_drug(trial, tmp_path):
    folder = _sdtm_csv(trial, tmp_path)
    (folder / "suppae.csv").unlink()
    _edit(folder / "ae.csv", 2, "AEREL", "POSSIBLE")
    ae = load_sdtm(folder).adverse_events
    related = ae.set_index("term")["related"]
    assert related["feeling spaced out"] == "drug" and related["sore knee"] == "drug"
    assert related["headache"] == "none"


def test_suicidal_adverse_event_is_an_event_once(trial, tmp_path):
    folder = _sdtm_csv(trial, tmp_path)
    events = load_sdtm(folder).events
    assert (events["event"] == "suicide_attempt").sum() == 1  # CE has it: not doubled
    (folder / "ce.csv").unlink()
    events = load_sdtm(folder).events
    attempt = events[events["event"] == "suicide_attempt"]
    assert attempt[["participant_id", "day", "description"]].values.tolist() == [
        ["M03", 20, "overdose"]]


def test_timed_baseline_vital_signs_fill_participants_and_vitals():
    trial = load_sdtm(DATA / "sdtm" / "basic")
    assert trial.report.empty
    vitals = trial.vitals.set_index(["participant_id", "test"])
    assert vitals.loc[("KX-001", "WEIGHT"), ["day", "value", "unit"]].tolist() == [
        -1, 143.3, "lb"]  # as collected (VSORRES); participants keep VSSTRESN in kg
    assert trial.participants.set_index("participant_id").loc["KX-001", "weight_kg"] == 65.0
    assert ("KX-001", "HEIGHT") not in vitals.index  # height is no vital sign over time


def test_every_safety_record_is_loaded_or_reported(trial, tmp_path):
    folder = _sdtm_csv(trial, tmp_path)
    _edit(folder / "ae.csv", 3, "AESEV", "EXTREME")
    _edit(folder / "vs.csv", 8, "VSTESTCD", "RESP")
    _edit(folder / "vs.csv", 9, "VSDY", "0")
    _edit(folder / "cm.csv", 2, "USUBJID", "M99")
    loaded = load_sdtm(folder, on_error="drop")
    reported = {(r.source_file, r.line) for r in loaded.report.itertuples()
                if r.rule != "parent_not_loaded"}
    assert reported == {("ae.csv", 3), ("vs.csv", 8), ("vs.csv", 9), ("cm.csv", 2)}
    written = sdtm_datasets(trial)
    timed = int(written["VS"]["VSDY"].notna().sum())
    assert len(loaded.adverse_events) == len(written["AE"]) - 1
    assert len(loaded.vitals) == timed - 2
    assert len(loaded.medications) == len(written["CM"]) - 1


def test_a_rejected_record_takes_no_other_row_with_it(tmp_path):
    # found while writing these tests: the row numbers of dataset records rejected by the
    # reader were also taken as rejected rows of the table built from them, so one bad EX
    # record silently removed a second, valid infusion or session
    mini = load_trial(DATA / "mini")
    folder = _sdtm_csv(mini, tmp_path)
    _edit(folder / "ex.csv", 2, "EXDUR", "forty")
    loaded = load_sdtm(folder, on_error="drop")
    assert loaded.report["rule"].tolist() == ["bad_duration"]
    assert len(loaded.infusions) + len(loaded.exercise) == (
        len(mini.infusions) + len(mini.exercise) - 1)
