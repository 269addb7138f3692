"""Peri-infusion vital signs on hand-worked measurements."""

from __future__ import annotations

import pandas as pd
import pytest

from ketex.derive.vitals import InfusionVitalsOptions, infusion_vitals
from ketex.study.validation import build_trial
from tests.derive.build import protocol

VITALS = [
    # participant, day, time_min, test, value, unit
    ("P1", 1, -10, "SBP", 118, "mmHg"),
    ("P1", 1, -5, "SBP", 122, "mmHg"),    # the baseline: last at or before 0
    ("P1", 1, 0, "DBP", 80, "mmHg"),
    ("P1", 1, 20, "SBP", 150, "mmHg"),
    ("P1", 1, 40, "SBP", 165, "mmHg"),    # peak, rise 43
    ("P1", 1, 60, "SBP", 140, "mmHg"),    # 140 > 122 + 10: not back yet
    ("P1", 1, 120, "SBP", 131, "mmHg"),   # back within 10 at minute 120
    ("P1", 1, 40, "DBP", 112, "mmHg"),    # above 110
    ("P1", 1, 120, "DBP", 95, "mmHg"),    # 95 > 90: never back
    ("P1", 3, -5, "SBP", 120, "mmHg"),
    ("P1", 3, 40, "SBP", 181, "mmHg"),    # above 180 on the second infusion
    ("P1", 3, 80, "SBP", 181, "mmHg"),    # tied peak: the first counts
    ("P1", 3, 120, "SBP", 125, "mmHg"),
    ("P2", 1, 40, "HR", 90, "beats/min"),  # no baseline
    ("P2", 1, -5, "SBP", 130, "mmHg"),     # nothing after the start
    ("P1", 2, 40, "SBP", 170, "mmHg"),    # not an infusion day
]


def _trial():
    raw = {
        "participants": pd.DataFrame({"participant_id": ["P1", "P2"], "arm": ["A", "B"]}),
        "assessments": pd.DataFrame({"participant_id": ["P1"], "day": [0],
                                     "visit": ["BASELINE"], "instrument": ["MADRS"],
                                     "total": [30]}),
        "infusions": pd.DataFrame(
            [("P1", 1), ("P1", 3), ("P2", 1)], columns=["participant_id", "day"]
        ).assign(drug="ketamine", dose=0.5, dose_unit="mg/kg"),
        "vitals": pd.DataFrame(VITALS, columns=["participant_id", "day", "time_min", "test",
                                                "value", "unit"]),
    }
    return build_trial(protocol(), raw)


def test_per_infusion_summary():
    out = infusion_vitals(_trial()).set_index(["participant_id", "day", "test"])
    sbp1 = out.loc[("P1", 1, "SBP")]
    assert (sbp1["infusion_number"], sbp1["baseline"], sbp1["baseline_time_min"]) == (1, 122, -5)
    assert (sbp1["peak"], sbp1["peak_time_min"], sbp1["peak_change"]) == (165, 40, 43)
    assert sbp1["return_time_min"] == 120 and sbp1["n_after"] == 4
    assert not sbp1["above_threshold"]
    dbp1 = out.loc[("P1", 1, "DBP")]
    assert dbp1["above_threshold"] and pd.isna(dbp1["return_time_min"])
    assert dbp1["note"] == "not back within 10 mmHg of baseline by the last measurement " \
        "(minute 120)"
    sbp3 = out.loc[("P1", 3, "SBP")]
    assert sbp3["infusion_number"] == 2 and sbp3["above_threshold"]
    assert sbp3["peak_time_min"] == 40 and sbp3["return_time_min"] == 120
    hr = out.loc[("P2", 1, "HR")]
    assert pd.isna(hr["baseline"]) and pd.isna(hr["above_threshold"]) and hr["peak"] == 90
    assert hr["note"] == "no measurement at or before minute 0: no baseline"
    assert out.loc[("P2", 1, "SBP"), "note"] == "no measurement after the start of the infusion"
    assert ("P1", 2, "SBP") not in out.index
    assert len(out) == 5


def test_per_measurement_change():
    out = infusion_vitals(_trial(), per="measurement")
    assert len(out) == len(VITALS) - 1  # the day-2 reading is not on an infusion day
    sbp = out[(out["participant_id"] == "P1") & (out["day"] == 1) & (out["test"] == "SBP")]
    assert sbp["change"].tolist() == [-4, 0, 28, 43, 18, 9]
    assert set(sbp["baseline"]) == {122}


def test_thresholds_are_options():
    options = InfusionVitalsOptions(thresholds={"SBP": 160.0}, return_margin={"SBP": 0.0})
    out = infusion_vitals(_trial(), options=options).set_index(["participant_id", "day", "test"])
    assert out.loc[("P1", 1, "SBP"), "above_threshold"]
    assert pd.isna(out.loc[("P1", 1, "SBP"), "return_time_min"])
    assert pd.isna(out.loc[("P1", 1, "DBP"), "above_threshold"])


def test_bad_per():
    with pytest.raises(ValueError, match="per must be"):
        infusion_vitals(_trial(), per="visit")


def test_peak_within_margin_returns_at_once():
    raw = {k: getattr(_trial(), k) for k in ("participants", "assessments", "infusions")}
    raw["vitals"] = pd.DataFrame({"participant_id": "P1", "day": 1, "test": "SBP",
                                  "unit": "mmHg", "time_min": [-5, 40], "value": [120, 126]})
    row = infusion_vitals(build_trial(protocol(), raw)).iloc[0]
    assert row["peak_change"] == 6 and row["return_time_min"] == 0
    assert row["note"] == "never more than 10 mmHg above baseline"


@pytest.mark.parametrize("drop", ["infusions", "vitals"])
def test_no_infusions_or_no_vitals_gives_typed_empty_tables(drop):
    raw = {k: getattr(_trial(), k) for k in ("participants", "assessments", "infusions",
                                              "vitals") if k != drop}
    trial = build_trial(protocol(), raw)
    for per in ("infusion", "measurement"):
        out = infusion_vitals(trial, per=per)
        assert out.empty
        assert out["participant_id"].dtype == "string" and out["day"].dtype == "Int64"
    assert infusion_vitals(trial)["above_threshold"].dtype == "boolean"
