"""Infusion rules that read the participant's arm: placebo doses of 0, drugs not of the arm."""

from __future__ import annotations

import pandas as pd
import pytest

import ketex
from ketex.study.protocol import Arm, InfusionPlan, Protocol, Treatment, Visit
from ketex.study.validation import build_trial

DAYS = (1, 3)
ARMS = (
    Arm("KET", treatments=(Treatment("ketamine", 0.5, "mg/kg", DAYS, duration_min=40.0),)),
    Arm("PBO", treatments=(Treatment("saline", 0.0, "mg/kg", DAYS, role="placebo",
                                     duration_min=40.0),)),
    Arm("MID", treatments=(Treatment("midazolam", 0.045, "mg/kg", DAYS,
                                     role="active_placebo", duration_min=40.0),)),
    Arm("EXO"),  # exercise only: gives no drug
)
PEOPLE = [("K1", "KET"), ("P1", "PBO"), ("M1", "MID"), ("E1", "EXO")]


def _trial(infusions, arms=ARMS):
    protocol = Protocol("RULES", arms, (Visit("BASELINE", 0, (-7, 0)),))
    raw = {
        "participants": pd.DataFrame(PEOPLE, columns=["participant_id", "arm"]),
        "infusions": pd.DataFrame(
            infusions, columns=["participant_id", "day", "drug", "dose", "dose_unit"]
        ).assign(duration_min=40),
        "assessments": pd.DataFrame({"participant_id": [p for p, _ in PEOPLE], "day": 0,
                                     "visit": "BASELINE", "instrument": "MADRS",
                                     "total": 30}),
    }
    return build_trial(protocol, raw, on_error="drop")


def _problems(trial, rule):
    report = trial.report
    return report[report["rule"] == rule].reset_index(drop=True)


def test_dose_0_is_valid_for_the_arms_placebo_only():
    trial = _trial([
        ("P1", 1, "saline", 0.0, "mg/kg"),  # the arm's placebo: valid
        ("P1", 3, "Saline", 0.0, "mg/kg"),  # letter case does not matter
        ("K1", 1, "ketamine", 0.0, "mg/kg"),  # an active drug at 0: error
        ("M1", 1, "midazolam", 0.0, "mg/kg"),  # an active placebo at 0: error
        ("K1", 3, "ketamine", -0.5, "mg/kg"),  # negative: error whatever the arm
    ])
    doses = _problems(trial, "implausible_dose")
    assert sorted(doses["participant_id"]) == ["K1", "K1", "M1"]
    assert set(doses["severity"]) == {"error"}
    zero_k1 = doses.loc[doses["value"] == "0", "message"].tolist()
    assert any("dose 0 is a dose only of a placebo, and arm KET does not give ketamine "
               "as one" in m for m in zero_k1)
    assert any("arm MID does not give midazolam as one" in m
               for m in doses["message"])
    assert any("dose -0.5 must be positive" in m for m in doses["message"])
    # the placebo rows load; the three bad rows do not
    kept = trial.infusions
    assert kept["participant_id"].tolist() == ["P1", "P1"]
    assert kept["dose"].tolist() == [0.0, 0.0]


def test_drug_not_among_the_arms_treatments_is_reported_and_kept():
    trial = _trial([
        ("K1", 1, "ketamine", 0.5, "mg/kg"),
        ("K1", 3, "midazolam", 0.045, "mg/kg"),  # not KET's drug
        ("P1", 1, "ketamine", 0.5, "mg/kg"),  # a placebo participant given ketamine
        ("E1", 1, "ketamine", 0.5, "mg/kg"),  # an arm without any drug
        ("M1", 1, "midazolam", 0.045, "mg/kg"),
    ])
    wrong = _problems(trial, "drug_not_in_arm")
    assert sorted(wrong["participant_id"]) == ["E1", "K1", "P1"]
    assert set(wrong["severity"]) == {"warning"}
    assert set(wrong["column"]) == {"drug"}
    k1 = wrong.set_index("participant_id").loc["K1"]
    assert k1["value"] == "midazolam"
    assert ("participant K1 of arm KET received midazolam, which arm KET does not give "
            "(its treatments: ketamine); correct the drug or the participant's arm, or add "
            "the treatment to the arm in study.toml") in k1["message"]
    assert "(its treatments: no drug)" in wrong.set_index("participant_id").loc["E1",
                                                                                 "message"]
    assert len(trial.infusions) == 5  # warnings never drop rows


def test_rows_are_named_by_file_and_line(tmp_path):
    folder = tmp_path / "study"
    ketex.write_trial(_trial([("K1", 1, "ketamine", 0.5, "mg/kg")]), folder)
    infusions = folder / "infusions.csv"
    text = infusions.read_text().replace("ketamine", "midazolam")
    infusions.write_text(text)
    report = ketex.load_trial(folder, on_error="drop").report
    row = report[report["rule"] == "drug_not_in_arm"].iloc[0]
    assert (row["source_file"], row["line"]) == ("infusions.csv", 2)
    assert row["message"].startswith("infusions.csv line 2: participant K1 of arm KET")


def test_protocol_without_treatments_checks_no_drug():
    arms = tuple(Arm(code) for code in ("KET", "PBO", "MID", "EXO"))
    trial = _trial([("E1", 1, "ketamine", 0.5, "mg/kg"), ("P1", 1, "saline", 0.0, "mg/kg")],
                   arms=arms)
    assert _problems(trial, "drug_not_in_arm").empty
    # without a declared placebo, a dose of 0 stays an error
    assert _problems(trial, "implausible_dose")["participant_id"].tolist() == ["P1"]


@pytest.mark.parametrize("plan_drug", ["ketamine", "KETAMINE"])
def test_older_infusions_plan_names_the_arms_drug(plan_drug):
    arms = (Arm("KET", infusions=InfusionPlan(drug=plan_drug, days=DAYS)), *ARMS[1:])
    trial = _trial([("K1", 1, "ketamine", 0.5, "mg/kg")], arms=arms)
    assert _problems(trial, "drug_not_in_arm").empty


def test_exercise_in_an_arm_without_exercise_is_a_warning_and_kept():
    from ketex.study.protocol import ExercisePrescription

    arms = (Arm("AEX", exercise=ExercisePrescription()), Arm("NOEX", exercise=False))
    protocol = Protocol("RULES", arms, (Visit("BASELINE", 0, (-7, 0)),))
    raw = {
        "participants": pd.DataFrame([("A1", "AEX"), ("N1", "NOEX")],
                                     columns=["participant_id", "arm"]),
        "exercise": pd.DataFrame({"participant_id": ["A1", "N1", "N1"], "day": [3, 3, 5],
                                  "duration_min": 45.0}),
        "assessments": pd.DataFrame({"participant_id": ["A1", "N1"], "day": 0,
                                     "visit": "BASELINE", "instrument": "MADRS",
                                     "total": 30}),
    }
    trial = build_trial(protocol, raw, on_error="raise")
    found = _problems(trial, "exercise_not_in_arm")
    assert list(found["line"]) == [3, 4] and set(found["severity"]) == {"warning"}
    assert found["message"][0] == (
        "exercise line 3: participant N1 of arm NOEX has an exercise session on day 3, but "
        "arm NOEX prescribes no exercise (exercise = false in study.toml); "
        "correct the participant's arm, or give the arm its [arms.exercise]. The row is kept "
        "(exercise_dose lists it by session, not counted towards a programme the arm does "
        "not have): if it happened, it is a protocol deviation")
    assert len(trial.exercise) == 3


def test_no_exercise_check_when_no_arm_prescribes_exercise():
    protocol = Protocol("RULES", (Arm("A"), Arm("B")), (Visit("BASELINE", 0, (-7, 0)),))
    raw = {
        "participants": pd.DataFrame([("A1", "A")], columns=["participant_id", "arm"]),
        "exercise": pd.DataFrame({"participant_id": ["A1"], "day": [3], "duration_min": 45.0}),
        "assessments": pd.DataFrame({"participant_id": ["A1"], "day": 0, "visit": "BASELINE",
                                     "instrument": "MADRS", "total": 30}),
    }
    assert _problems(build_trial(protocol, raw), "exercise_not_in_arm").empty
