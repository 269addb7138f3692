"""ADAE, ADVS, ADCM: hand-checked rows on a small trial, and write_adam on the factorial
sample (CSV, XPORT, define)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.io.adam import DEFINE_COLUMNS, write_adam
from ketex.io.adam_safety import ADAE_COLUMNS, ADCM_COLUMNS, ADVS_COLUMNS, adae, adcm, advs
from ketex.study.protocol import Arm, Protocol, Visit
from ketex.study.validation import build_trial

NA = pd.NA


@pytest.fixture(scope="module")
def hand():
    """P1 (arm A): infusions on days 1 and 3, a session on day 5; P2 (arm B): untreated."""
    protocol = Protocol(study_id="HAND", arms=(Arm("A"), Arm("B")),
                        visits=(Visit("BL", 0, (-7, 0)),))
    events = pd.DataFrame([
        # participant, term, pt, soc, start, end, severity, serious, related, action
        ("P1", "nausea", "Nausea", "Gastrointestinal disorders", 1, 2, "mild", False,
         "drug", "none"),
        ("P1", "queasy", "Nausea", "Gastrointestinal disorders", 3, 3, "moderate", False,
         "drug", "drug_interrupted"),
        ("P1", "insomnia", "Insomnia", "Psychiatric disorders", -3, 5, "mild", False,
         "none", "none"),
        ("P1", "knee pain", "Arthralgia", "Musculoskeletal and connective tissue disorders",
         None, None, "severe", True, "exercise", "exercise_paused"),
        ("P1", "vomiting", "Vomiting", "Gastrointestinal disorders", 5, None, "mild", False,
         "both", "none"),
        ("P2", "headache", "Headache", "Nervous system disorders", 2, 2, "mild", False,
         "none", "none"),
    ], columns=["participant_id", "term", "pt", "soc", "start_day", "end_day", "severity",
                "serious", "related", "action"])
    vitals = pd.DataFrame([
        ("P1", 1, -10, "SBP", 120, "mmHg"), ("P1", 1, -5, "SBP", 124, "mmHg"),
        ("P1", 1, 40, "SBP", 150, "mmHg"), ("P1", 1, 80, "SBP", 130, "mmHg"),
        ("P1", 1, -5, "HR", 70, "beats/min"), ("P1", 1, 40, "HR", 80, "beats/min"),
        ("P1", 2, None, "WEIGHT", 80, "kg"),
        ("P1", 3, 40, "SBP", 140, "mmHg"),
        ("P1", 5, 0, "HR", 90, "beats/min"),
    ], columns=["participant_id", "day", "time_min", "test", "value", "unit"])
    medications = pd.DataFrame([
        ("P1", "sertraline", -90, None), ("P1", "zopiclone", -30, -1),
        ("P1", "lorazepam", 2, 2), ("P1", "ibuprofen", 10, 12),
        ("P1", "paracetamol", None, None), ("P1", "cetirizine", None, -5),
        ("P2", "lorazepam", 0, 1),
    ], columns=["participant_id", "name", "start_day", "end_day"])
    return build_trial(protocol, {
        "participants": pd.DataFrame({"participant_id": ["P1", "P2"], "arm": ["A", "B"]}),
        "assessments": pd.DataFrame({"participant_id": ["P1"], "day": [0], "visit": ["BL"],
                                     "instrument": ["MADRS"], "total": [30]}),
        "infusions": pd.DataFrame({"participant_id": "P1", "day": [1, 3],
                                   "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg"}),
        "exercise": pd.DataFrame({"participant_id": ["P1"], "day": [5],
                                  "duration_min": [30.0]}),
        "adverse_events": events, "vitals": vitals, "medications": medications,
    })


def _row(frame, **where):
    mask = np.ones(len(frame), bool)
    for column, value in where.items():
        mask &= (frame[column] == value).fillna(False).to_numpy(bool)
    assert mask.sum() == 1, where
    return frame[mask].iloc[0]


def test_adae_columns_and_order(hand):
    table = adae(hand)
    assert list(table.columns) == [c for c in ADAE_COLUMNS if c not in ("ASTDT", "AENDT")]
    # the table's order: participant, start_day (missing last), term
    assert table["AETERM"].tolist() == ["insomnia", "nausea", "queasy", "vomiting",
                                        "knee pain", "headache"]
    assert table["AESEQ"].tolist() == [1, 2, 3, 4, 5, 1]


def test_adae_hand_checked_rows(hand):
    table = adae(hand)
    nausea = _row(table, AETERM="nausea")
    assert (nausea["ASTDY"], nausea["AENDY"], nausea["ADURN"], nausea["ADURU"]) == (
        1, 2, 2, "DAYS")
    assert (nausea["TRTSDY"], nausea["TRTEDY"]) == (1, 5)  # the session on day 5 counts
    assert (nausea["AESEV"], nausea["AESER"], nausea["AREL"], nausea["AERELTRT"]) == (
        "MILD", "N", "RELATED", "STUDY DRUG")
    assert nausea["AEACN"] == "DOSE NOT CHANGED" and pd.isna(nausea["AEACNOTH"])
    assert (nausea["TRTEMFL"], nausea["AOCCFL"], nausea["AOCCSFL"], nausea["AOCCPFL"]) == (
        "Y", "Y", "Y", "Y")
    assert nausea["NEARTRT"] == "infusion"
    queasy = _row(table, AETERM="queasy")  # the second Nausea, same class
    assert queasy["TRTEMFL"] == "Y" and queasy["AEACN"] == "DRUG INTERRUPTED"
    assert all(pd.isna(queasy[f]) for f in ("AOCCFL", "AOCCSFL", "AOCCPFL"))
    vomiting = _row(table, AETERM="vomiting")  # a new PT in a class already seen
    assert pd.isna(vomiting["AOCCSFL"]) and vomiting["AOCCPFL"] == "Y"
    assert pd.isna(vomiting["AENDY"]) and pd.isna(vomiting["ADURN"])
    assert vomiting["AERELTRT"] == "STUDY DRUG AND EXERCISE"
    assert vomiting["NEARTRT"] == "exercise"  # day 5: a session, no infusion since day 3
    insomnia = _row(table, AETERM="insomnia")  # onset before the first infusion
    assert pd.isna(insomnia["TRTEMFL"]) and pd.isna(insomnia["AOCCFL"])
    assert insomnia["AREL"] == "NOT RELATED" and pd.isna(insomnia["AERELTRT"])
    assert insomnia["TRTEMRSN"] == "onset day -3 before first treatment (day 1)"
    knee = _row(table, AETERM="knee pain")  # onset unknown: conservative rule
    assert knee["TRTEMFL"] == "Y" and pd.isna(knee["ASTDY"])
    assert (knee["AESER"], knee["ASEV"], knee["AEACNOTH"]) == ("Y", "SEVERE",
                                                                "EXERCISE PAUSED")
    assert knee["AOCCSFL"] == "Y" and pd.isna(knee["AOCCFL"])  # missing day sorts last
    headache = _row(table, USUBJID="P2")  # never treated
    assert pd.isna(headache["TRTEMFL"]) and pd.isna(headache["TRTSDY"])
    assert headache["TRTEMRSN"] == "no treatment received"
    assert headache["TRTA"] == "B" and headache["ARM"] == "B"  # B prescribes nothing


@pytest.fixture(scope="module")
def factorial():
    return ketex.load_trial(ketex.sample_study_path(study="factorial"))


def test_adae_trtemfl_matches_treatment_emergent(factorial):
    trial = factorial
    # exercise events after the last infusion fall outside
    rule = ketex.TreatmentEmergence(treatment="infusion", end_window_days=0)
    flags = ketex.treatment_emergent(trial, rule)["treatment_emergent"].to_numpy(bool)
    table = adae(trial, rule)
    assert (table["TRTEMFL"] == "Y").fillna(False).to_numpy(bool).tolist() == flags.tolist()
    assert 0 < flags.sum() < len(flags)
    # one first-occurrence flag per participant with a TEAE, per participant and PT
    teae = table[table["TRTEMFL"] == "Y"]
    assert (table["AOCCFL"] == "Y").sum() == teae["USUBJID"].nunique()
    assert (table["AOCCPFL"] == "Y").sum() == len(
        teae[["USUBJID", "AEBODSYS", "AEDECOD"]].drop_duplicates())


def test_advs_baseline_per_infusion(hand):
    table = advs(hand)
    assert list(table.columns) == list(ADVS_COLUMNS)
    sbp = table[(table["PARAMCD"] == "SYSBP") & (table["ADY"] == 1)]
    assert sbp["ATPTN"].tolist() == [-10, -5, 40, 80]
    assert sbp["BASE"].tolist() == [124] * 4  # the last value at or before minute 0
    assert sbp["ABLFL"].tolist() == [NA, "Y", NA, NA]
    np.testing.assert_allclose(sbp["CHG"], [np.nan, np.nan, 26, 6])
    np.testing.assert_allclose(sbp["PCHG"], [np.nan, np.nan, 2600 / 124, 600 / 124])
    assert set(sbp["ATPTREF"]) == {"INFUSION 1"} and set(sbp["ATPTREFN"]) == {1}
    assert _row(table, PARAMCD="SYSBP", ATPTN=40, ADY=1)["ATPT"] == (
        "40 MIN AFTER INFUSION START")
    assert _row(table, PARAMCD="SYSBP", ADY=1, ATPTN=40)["PARAM"] == (
        "Systolic Blood Pressure (mmHg)")
    hr = _row(table, PARAMCD="HR", ADY=1, ATPTN=40)
    assert (hr["BASE"], hr["CHG"]) == (70, 10)
    second = _row(table, ADY=3)  # infusion 2 without a pre-infusion value
    assert second["ATPTREF"] == "INFUSION 2" and pd.isna(second["BASE"])
    assert pd.isna(second["CHG"]) and pd.isna(second["ABLFL"])
    weight = _row(table, PARAMCD="WEIGHT")  # not an infusion or session day
    assert pd.isna(weight["ATPTREF"]) and pd.isna(weight["ATPT"]) and pd.isna(weight["BASE"])
    session = _row(table, ADY=5)
    assert (session["ATPTREF"], session["ATPT"]) == ("EXERCISE SESSION", "SESSION START")
    assert pd.isna(session["BASE"])


def test_advs_base_is_infusion_vitals_baseline(factorial):
    vitals = factorial.vitals
    first = vitals["participant_id"].isin(factorial.participants["participant_id"][:30])
    trial = dataclasses.replace(factorial, vitals=vitals[first])
    table = advs(trial)
    per = ketex.infusion_vitals(trial).assign(
        PARAMCD=lambda f: f["test"].map({"SBP": "SYSBP", "DBP": "DIASBP", "HR": "HR"}))
    base = table[table["ABLFL"] == "Y"].set_index(["USUBJID", "ADY", "PARAMCD"])["BASE"]
    expected = per.set_index(["participant_id", "day", "PARAMCD"])["baseline"]
    expected.index.names = base.index.names
    pd.testing.assert_series_equal(base.sort_index(), expected.sort_index(),
                                   check_names=False, check_index_type=False)
    assert (table["ABLFL"] == "Y").sum() == len(per)


def test_adcm_on_treatment_prior_follow_up(hand):
    table = adcm(hand)
    assert list(table.columns) == [c for c in ADCM_COLUMNS if c not in ("ASTDT", "AENDT")]
    flags = table.set_index(["USUBJID", "CMTRT"])[["ONTRTFL", "PREFL", "FUPFL"]]
    expected = {
        ("P1", "sertraline"): ("Y", "Y", NA),  # before, ongoing: spans the first treatment
        ("P1", "zopiclone"): (NA, "Y", NA),  # ended the day before the first treatment
        ("P1", "lorazepam"): ("Y", NA, NA),  # started between the first and last
        ("P1", "ibuprofen"): (NA, NA, "Y"),  # after the last treatment (day 5)
        ("P1", "paracetamol"): ("Y", NA, NA),  # start unknown, not ended before
        ("P1", "cetirizine"): (NA, NA, NA),  # start unknown, ended before treatment
        ("P2", "lorazepam"): (NA, NA, NA),  # never treated
    }
    for key, values in expected.items():
        got = tuple(flags.loc[key])
        assert [pd.isna(g) if pd.isna(v) else g == v for g, v in zip(got, values,
                                                                        strict=True)] == [
            True] * 3, (key, got)
    assert _row(table, CMTRT="sertraline")["CMSEQ"] == 1


@pytest.fixture(scope="module")
def factorial_adam(tmp_path_factory, factorial):
    pytest.importorskip("pyreadstat")
    trial = factorial
    folder = tmp_path_factory.mktemp("adam_safety")
    return folder, write_adam(trial, folder, xpt=True)


def test_write_adam_writes_the_safety_datasets(factorial_adam):
    import pyreadstat

    folder, written = factorial_adam
    assert {"adae.csv", "adae.xpt", "advs.csv", "advs.xpt", "adcm.csv",
            "adcm.xpt"} <= set(written)
    define = pd.read_csv(folder / "define.csv")
    assert list(define.columns) == list(DEFINE_COLUMNS)
    for name in ("adae", "advs", "adcm"):
        csv = pd.read_csv(folder / f"{name}.csv")
        rows = define[define["dataset"] == name.upper()]
        assert rows["variable"].tolist() == csv.columns.tolist()
        assert rows["description"].notna().all() and (rows["label"].str.len() <= 40).all()
        xpt, meta = pyreadstat.read_xport(str(folder / f"{name}.xpt"))
        assert list(xpt.columns) == rows["xpt_name"].tolist()
        assert meta.column_labels == rows["label"].tolist()
        assert len(xpt) == len(csv)
    assert _row(define, dataset="ADAE", variable="TRTEMFL")["label"] == (
        "Treatment Emergent Analysis Flag")


def test_write_adam_without_safety_data(tmp_path):
    from tests.conftest import MINI

    written = write_adam(ketex.load_trial(MINI), tmp_path)
    assert not {"adae.csv", "advs.csv", "adcm.csv"} & set(written)
