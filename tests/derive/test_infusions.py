"""Infusion exposure on hand-made participants, the mini study and the sample."""

import numpy as np
import pandas as pd
import pytest

from ketex.datasets import sample_study_path
from ketex.derive.infusions import ASSESSMENT_COLUMNS, PARTICIPANT_COLUMNS, infusion_exposure
from ketex.io.folder import load_trial
from ketex.study.protocol import Arm, InfusionPlan, Protocol, Visit
from ketex.study.validation import build_trial
from tests.conftest import MINI

PROTOCOL = Protocol(
    study_id="HAND",
    arms=(
        Arm("SINGLE", infusions=InfusionPlan("ketamine", "IV", 0.5, "mg/kg", 40.0, (1,))),
        Arm("SERIES", infusions=InfusionPlan("ketamine", "IV", 0.5, "mg/kg", 40.0, (1, 3, 5))),
        Arm("ESK", infusions=InfusionPlan("esketamine", "intranasal", 56.0, "mg", None, (1, 4))),
    ),
    visits=(Visit("BASELINE", 0, (-14, 0)), Visit("FU", 10, (1, 30))),
)

PARTICIPANTS = [
    ("S1", "SINGLE", 80.0),
    ("S2", "SINGLE", None),
    ("R1", "SERIES", 70.0),
    ("R2", "SERIES", 90.0),
    ("E1", "ESK", None),
    ("N1", "SINGLE", 60.0),
]

INFUSIONS = [
    ("S1", 1, "ketamine", 0.5, "mg/kg"),
    ("S2", 1, "ketamine", 0.5, "mg/kg"),
    ("R1", 1, "ketamine", 0.5, "mg/kg"),
    ("R1", 3, "ketamine", 0.5, "mg/kg"),
    ("R1", 8, "ketamine", 0.5, "mg/kg"),  # day 5 missed, day 8 not in the plan
    ("R2", 1, "ketamine", 0.5, "mg/kg"),
    ("R2", 3, "ketamine", 45.0, "mg"),
    ("R2", 5, "ketamine", 36.0, "mg"),
    ("E1", 1, "esketamine", 56.0, "mg"),
    ("E1", 4, "esketamine", 84.0, "mg"),
]


def make_trial(assessment_days=None):
    people = pd.DataFrame(PARTICIPANTS, columns=["participant_id", "arm", "weight_kg"])
    infusions = pd.DataFrame(
        INFUSIONS, columns=["participant_id", "day", "drug", "dose", "dose_unit"]
    )
    assessment_days = assessment_days or {pid: [0] for pid, _, _ in PARTICIPANTS}
    assessments = pd.DataFrame(
        [
            {
                "participant_id": pid,
                "day": day,
                "visit": "BASELINE" if day <= 0 else "FU",
                "instrument": "MADRS",
                "total": 30,
            }
            for pid, days in assessment_days.items()
            for day in days
        ]
    )
    raw = {"participants": people, "infusions": infusions, "assessments": assessments}
    return build_trial(PROTOCOL, raw)


@pytest.fixture(scope="module")
def exposure():
    return infusion_exposure(make_trial()).set_index(["participant_id", "drug"])


def test_every_participant_has_a_row_per_drug(exposure):
    # in the participants table's order (sorted by participant_id when loaded)
    assert list(exposure.index.get_level_values("participant_id").unique()) == [
        "E1",
        "N1",
        "R1",
        "R2",
        "S1",
        "S2",
    ]
    assert sorted(exposure.index.get_level_values("drug").unique()) == ["esketamine", "ketamine"]
    assert len(exposure) == 12
    only = infusion_exposure(make_trial(), drug="Ketamine")
    assert only["drug"].unique().tolist() == ["ketamine"] and len(only) == 6


def test_mg_per_kg_doses_with_and_without_weight(exposure):
    s1 = exposure.loc[("S1", "ketamine")]
    assert (s1["dose_mg_per_kg"], s1["dose_mg"]) == (0.5, 40.0)  # 0.5 x 80 kg
    s2 = exposure.loc[("S2", "ketamine")]
    assert s2["dose_mg_per_kg"] == 0.5 and np.isnan(s2["dose_mg"])
    assert s2["note"] == "no weight_kg: mg/kg doses cannot be expressed in mg"
    assert np.isnan(s2["planned_dose_mg"]) and s2["planned_dose_mg_per_kg"] == 0.5


def test_mixed_units_are_converted_with_weight(exposure):
    # R2, 90 kg: 0.5 mg/kg = 45 mg; 45 mg = 0.5 mg/kg; 36 mg = 0.4 mg/kg
    r2 = exposure.loc[("R2", "ketamine")]
    assert r2["dose_mg_per_kg"] == pytest.approx(0.5 + 0.5 + 0.4)
    assert r2["dose_mg"] == pytest.approx(45 + 45 + 36)
    assert r2["note"] == ""


def test_mg_doses_without_weight(exposure):
    e1 = exposure.loc[("E1", "esketamine")]
    assert e1["dose_mg"] == 140.0 and np.isnan(e1["dose_mg_per_kg"])  # 56 + 84 mg
    assert e1["note"] == "no weight_kg: mg doses cannot be expressed in mg/kg"
    # planned: 56 mg on days 1 and 4
    assert (e1["infusions_planned"], e1["infusions_received"]) == (2, 2)
    assert e1["planned_dose_mg"] == 112.0 and np.isnan(e1["planned_dose_mg_per_kg"])


def test_planned_vs_received(exposure):
    # R1: plan days 1, 3, 5; received 1, 3, 8
    r1 = exposure.loc[("R1", "ketamine")]
    counts = [
        "infusions_planned",
        "infusions_received",
        "infusions_on_planned_days",
        "planned_days_missed",
        "unplanned_infusions",
    ]
    assert r1[counts].tolist() == [3, 3, 2, 1, 1]
    assert (r1["first_day"], r1["last_day"]) == (1, 8)
    assert r1["note"] == "missed planned day(s) 5; 1 infusion(s) on days not in the plan"
    # 3 x 0.5 mg/kg at 70 kg, received and planned alike
    assert r1["dose_mg_per_kg"] == pytest.approx(1.5) and r1["dose_mg"] == pytest.approx(105)
    assert r1["planned_dose_mg_per_kg"] == pytest.approx(1.5)
    assert r1["planned_dose_mg"] == pytest.approx(105)


def test_participant_without_infusions(exposure):
    n1 = exposure.loc[("N1", "ketamine")]
    assert (n1["infusions_received"], n1["planned_days_missed"]) == (0, 1)
    assert (n1["dose_mg_per_kg"], n1["dose_mg"]) == (0.0, 0.0)
    assert pd.isna(n1["first_day"]) and pd.isna(n1["last_day"])
    assert n1["note"] == "missed planned day(s) 1"


def test_drugs_outside_the_arms_plan(exposure):
    # S1 had no esketamine and none planned: a row of zeros without a note
    s1 = exposure.loc[("S1", "esketamine")]
    assert (s1["infusions_planned"], s1["infusions_received"], s1["dose_mg"]) == (0, 0, 0.0)
    assert s1["note"] == ""


def test_participant_columns_and_dtypes(exposure):
    frame = infusion_exposure(make_trial())
    assert tuple(frame.columns) == PARTICIPANT_COLUMNS
    assert frame["first_day"].dtype == "Int64"
    assert frame["infusions_received"].dtype == "int64"


# -- per assessment -----------------------------------------------------------------------

# R1's infusions: days 1, 3, 8. Assessments before, on and after them.
R1_DAYS = [-2, 1, 2, 3, 4, 10]


def test_days_since_the_last_infusion_same_day_taken_before():
    trial = make_trial({"R1": R1_DAYS, "N1": [0, 5]})
    out = infusion_exposure(trial, per="assessment")
    r1 = out[out["participant_id"] == "R1"]
    # day -2: none yet; day 1: the day-1 infusion comes after the rating
    assert r1["infusions_so_far"].tolist() == [0, 0, 1, 1, 2, 3]
    np.testing.assert_array_equal(
        r1["days_since_last_infusion"], [np.nan, np.nan, 1, 2, 1, 2]
    )  # 2-1, 3-1, 4-3, 10-8
    np.testing.assert_array_equal(r1["days_since_first_infusion"], [np.nan, np.nan, 1, 2, 3, 9])
    assert r1["last_infusion_day"].tolist()[2:] == [1, 1, 3, 8]
    n1 = out[out["participant_id"] == "N1"]
    assert n1["infusions_so_far"].tolist() == [0, 0]
    assert n1["days_since_last_infusion"].isna().all()


def test_days_since_the_last_infusion_same_day_taken_after():
    trial = make_trial({"R1": R1_DAYS})
    r1 = infusion_exposure(trial, per="assessment", same_day="after")
    assert r1["infusions_so_far"].tolist() == [0, 1, 1, 2, 2, 3]
    np.testing.assert_array_equal(r1["days_since_last_infusion"], [np.nan, 0, 1, 0, 1, 2])


def test_per_assessment_keeps_the_assessments_index_and_order():
    trial = make_trial({"R1": R1_DAYS, "E1": [0, 2]})
    out = infusion_exposure(trial, per="assessment")
    assert tuple(out.columns) == ASSESSMENT_COLUMNS
    assert out.index.equals(trial.assessments.index)
    assert out["participant_id"].tolist() == trial.assessments["participant_id"].tolist()
    # a drug filter: E1 had esketamine only, so no ketamine so far
    ketamine = infusion_exposure(trial, per="assessment", drug="ketamine")
    assert ketamine.loc[ketamine["participant_id"] == "E1", "infusions_so_far"].tolist() == [0, 0]
    esk = infusion_exposure(trial, per="assessment", drug="esketamine")
    assert esk.loc[esk["participant_id"] == "E1", "infusions_so_far"].tolist() == [0, 1]


def test_bad_arguments():
    trial = make_trial()
    with pytest.raises(ValueError, match="per must be one of"):
        infusion_exposure(trial, per="visit")
    with pytest.raises(ValueError, match="same_day must be one of"):
        infusion_exposure(trial, per="assessment", same_day="during")


# -- the mini study and the sample --------------------------------------------------------


def test_mini_study():
    mini = load_trial(MINI)
    out = infusion_exposure(mini).set_index("participant_id")
    # M02 (88 kg): 0.5 mg/kg on days 1, 3, 5 of the planned 1, 3, 5, 8, 10, 12
    assert out.loc["M02", "dose_mg"] == pytest.approx(3 * 0.5 * 88)
    assert out.loc["M02", "planned_days_missed"] == 3
    # M04 (92.3 kg): 46 mg twice = 92 mg = 92 / 92.3 mg/kg
    assert out.loc["M04", "dose_mg"] == 92.0
    assert out.loc["M04", "dose_mg_per_kg"] == pytest.approx(92 / 92.3)
    covariates = infusion_exposure(mini, per="assessment")
    m02 = covariates[covariates["participant_id"] == "M02"]
    # M02 rated on days 0, 2, 4, 15: infusions 1, 3, 5
    assert m02["infusions_so_far"].tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(m02["days_since_last_infusion"], [np.nan, 1, 1, 10])


def test_sample_follows_the_simulated_design():
    """The simulator gives every participant the arm's infusions until dropout, at
    0.5 mg/kg (ketex/simulate/trial.py _infusions): received = planned days before the
    dropout day, none unplanned, cumulative dose 0.5 mg/kg x infusions."""
    sample = load_trial(sample_study_path())
    truth = pd.read_csv(sample_study_path() / "truth.csv", dtype={"participant_id": "string"})
    out = infusion_exposure(sample).merge(truth[["participant_id", "dropout_day"]])
    plans = {arm.code: arm.infusions.days for arm in sample.protocol.arms}
    expected = [
        sum(1 for d in plans[arm] if np.isnan(drop) or d < drop)
        for arm, drop in zip(out["arm"], out["dropout_day"], strict=True)
    ]
    assert out["infusions_received"].tolist() == expected
    assert (out["unplanned_infusions"] == 0).all()
    np.testing.assert_allclose(out["dose_mg_per_kg"], 0.5 * out["infusions_received"])
    np.testing.assert_allclose(out["dose_mg"], out["dose_mg_per_kg"] * out["weight_kg"])


def test_each_treatment_of_an_arm_is_its_own_plan():
    # COMBO gives ketamine (days 1, 3) and midazolam (day 2); TITR esketamine 56, 56, 84, 84
    # mg on days 1, 4, 8, 11; PBO saline dose 0 on days 1, 3
    from ketex.study.protocol import Treatment

    arms = (
        Arm("COMBO", treatments=(Treatment("ketamine", 0.5, "mg/kg", (1, 3), duration_min=40.0),
                                 Treatment("midazolam", 0.045, "mg/kg", (2,),
                                           role="active_placebo", duration_min=40.0))),
        Arm("TITR", treatments=(Treatment("esketamine", 56.0, "mg", (1, 4, 8, 11),
                                          route="intranasal", doses=(56.0, 56.0, 84.0, 84.0)),)),
        Arm("PBO", treatments=(Treatment("saline", 0.0, "mg/kg", (1, 3), role="placebo",
                                         duration_min=40.0),)),
    )
    protocol = Protocol("HAND", arms, (Visit("BASELINE", 0, (-14, 0)),))
    people = pd.DataFrame({"participant_id": ["C1", "T1", "P1"], "arm": ["COMBO", "TITR", "PBO"],
                           "weight_kg": [80.0, 70.0, 60.0]})
    infusions = pd.DataFrame(
        [("C1", 1, "ketamine", 0.5, "mg/kg"), ("C1", 2, "midazolam", 0.045, "mg/kg"),
         ("C1", 3, "ketamine", 0.5, "mg/kg"), ("T1", 1, "esketamine", 56.0, "mg"),
         ("T1", 4, "esketamine", 56.0, "mg"), ("T1", 8, "esketamine", 84.0, "mg"),
         ("P1", 1, "saline", 0.0, "mg/kg")],
        columns=["participant_id", "day", "drug", "dose", "dose_unit"])
    assessments = pd.DataFrame({"participant_id": ["C1", "T1", "P1"], "day": 0,
                                "visit": "BASELINE", "instrument": "MADRS", "total": 30})
    trial = build_trial(protocol, {"participants": people, "infusions": infusions,
                                   "assessments": assessments})
    exposure = infusion_exposure(trial).set_index(["participant_id", "drug"])
    counts = ["infusions_planned", "infusions_received", "planned_days_missed",
              "unplanned_infusions"]
    # both of COMBO's drugs are planned, neither counts the other's days as unplanned
    assert exposure.loc[("C1", "ketamine"), counts].tolist() == [2, 2, 0, 0]
    assert exposure.loc[("C1", "midazolam"), counts].tolist() == [1, 1, 0, 0]
    assert exposure.loc[("C1", "midazolam"), "planned_dose_mg"] == pytest.approx(0.045 * 80)
    assert exposure.loc[("C1", "midazolam"), "note"] == ""
    # titration: planned 56 + 56 + 84 + 84 = 280 mg (= 4 mg/kg at 70 kg); received 196 mg
    t1 = exposure.loc[("T1", "esketamine")]
    assert t1[counts].tolist() == [4, 3, 1, 0]
    assert t1["planned_dose_mg"] == pytest.approx(280.0)
    assert t1["planned_dose_mg_per_kg"] == pytest.approx(4.0)
    assert t1["dose_mg"] == pytest.approx(196.0)
    assert t1["note"] == "missed planned day(s) 11"
    # placebo: planned 0, received 0 mg, one of two planned days
    p1 = exposure.loc[("P1", "saline")]
    assert p1[counts].tolist() == [2, 1, 1, 0]
    assert (p1["planned_dose_mg"], p1["dose_mg"]) == (0.0, 0.0)
    # a drug the arm does not give is planned 0 for it
    assert exposure.loc[("P1", "ketamine"), "infusions_planned"] == 0
