"""Each arm is measured against its own exercise prescription (or none).

A three-arm protocol built by hand: LOW (cycling 2 x 30 min a week for 2 weeks from day 1,
target 7.0 KKW, zone 40-59 % of heart-rate reserve), HIGH (resistance 4 x 50 min a week for
3 weeks from day 8, target 17.5 KKW, zone 60-80 %) and NOEX (``exercise = false``, while the
study-level ``[exercise]`` prescribes cycling 3 x 45 min for 4 weeks to any other arm).
Every expected value is worked out in the comments: MET-min = MET x min, KKW = 0.0175 x
MET-min per week, Karvonen zone HRrest + p x (HRmax - HRrest), Tanaka HRmax 208 - 0.7 x age.
"""

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.derive.exercise import ExerciseDoseOptions, exercise_dose
from ketex.derive.heart_rate import heart_rate_zones
from ketex.study.protocol import Arm, ExercisePrescription, Protocol, Visit
from ketex.study.validation import build_trial

LOW = ExercisePrescription(modality="cycling", sessions_per_week=2, duration_min=30.0,
                           hrr_fraction=(0.40, 0.59), start_day=1, weeks=2, target_kkw=7.0)
HIGH = ExercisePrescription(modality="resistance", sessions_per_week=4, duration_min=50.0,
                            hrr_fraction=(0.60, 0.80), start_day=8, weeks=3, target_kkw=17.5)
STUDY = ExercisePrescription(modality="cycling", sessions_per_week=3, duration_min=45.0,
                             weeks=4, target_kkw=16.1)

PEOPLE = [
    # all age 40, resting 60: HRmax 208 - 28 = 180, reserve 120
    {"participant_id": "L1", "arm": "LOW", "age": 40, "resting_hr": 60, "weight_kg": 80.0},
    {"participant_id": "H1", "arm": "HIGH", "age": 40, "resting_hr": 60, "weight_kg": 100.0},
    {"participant_id": "N1", "arm": "NOEX", "age": 40, "resting_hr": 60, "weight_kg": 70.0},
]
NAN = float("nan")
SESSIONS = [
    # L1, programme days 1-14
    ("L1", 1, 30.0, 7.0, 120.0),  # in zone 108-130.8
    ("L1", 3, 30.0, 7.0, 140.0),  # above the zone
    ("L1", 9, 20.0, NAN, NAN),  # no MET: the arm's modality, cycling: Compendium 7.0
    ("L1", 15, 30.0, 7.0, NAN),  # after the programme (day 14): not counted
    # H1, programme days 8-28
    ("H1", 5, 40.0, 5.0, NAN),  # before the programme starts (day 8): not counted
    ("H1", 8, 50.0, 5.0, 140.0),  # in zone 132-156
    ("H1", 10, 50.0, NAN, NAN),  # no MET: resistance has no Compendium entry here
    ("H1", 22, 25.0, 5.0, 120.0),  # below the zone
    # N1: the arm prescribes no exercise; a session recorded anyway counts for nothing
    ("N1", 3, 30.0, 6.0, 110.0),
]


@pytest.fixture(scope="module")
def trial():
    protocol = Protocol(
        study_id="ARMS",
        arms=(Arm("LOW", exercise=LOW), Arm("HIGH", exercise=HIGH),
              Arm("NOEX", exercise=False)),
        visits=(Visit("BASELINE", 0, (-14, 0)), Visit("WEEK2", 14, (8, 20))),
        exercise=STUDY,
    )
    raw = {
        "participants": pd.DataFrame(PEOPLE),
        "exercise": pd.DataFrame(SESSIONS, columns=["participant_id", "day", "duration_min",
                                                    "met", "avg_hr"]),
        "assessments": pd.DataFrame(
            [{"participant_id": p["participant_id"], "day": 0, "visit": "BASELINE",
              "instrument": "MADRS", "total": 30} for p in PEOPLE]
        ),
    }
    return build_trial(protocol, raw)


def test_each_arm_gets_its_own_zone(trial):
    zones = heart_rate_zones(trial).set_index("participant_id")
    # LOW: 60 + 0.40 x 120 = 108, 60 + 0.59 x 120 = 130.8; HIGH: 60 + 72 = 132, 60 + 96 = 156
    assert zones.loc["L1", ["zone_low_bpm", "zone_high_bpm"]].tolist() == pytest.approx(
        [108.0, 130.8])
    assert zones.loc["H1", ["zone_low_bpm", "zone_high_bpm"]].tolist() == pytest.approx(
        [132.0, 156.0])
    assert zones.loc["H1", "hrr_fraction_low"] == 0.60
    assert np.isnan(zones.loc["N1", "zone_low_bpm"])
    assert np.isnan(zones.loc["N1", "hrr_fraction_high"])
    assert zones.loc["N1", "note"] == "arm NOEX prescribes no exercise: no zone"
    assert zones.loc["L1", "note"] == ""


def test_sessions_use_their_arms_start_end_modality_and_zone(trial):
    s = exercise_dose(trial, by="session")
    keys = [(pid, day) for pid, day, *_ in SESSIONS]
    s = s.set_index(["participant_id", "day"]).loc[keys]
    assert s["counted"].tolist() == [True, True, True, False, False, True, True, True, False]
    # weeks from each arm's start day: LOW day 1, HIGH day 8; NOEX has no weeks
    assert s["week"].tolist()[:8] == [1, 1, 2, 3, 0, 1, 1, 3]
    assert s["week"].isna().tolist() == [False] * 8 + [True]
    note = s["note"].tolist()
    assert "after the programme ends (day 14)" in note[3]
    assert "before the programme starts (day 8)" in note[4]
    assert note[8].startswith("arm NOEX prescribes no exercise")
    # L1's day-9 session takes its arm's modality (cycling): Compendium general, 7.0 METs
    assert (s["met"].iloc[2], s["met_source"].iloc[2]) == (7.0, "compendium_2011")
    # H1's day-10 session is resistance training: no MET from the cycling sources
    assert np.isnan(s["met"].iloc[6]) and s["met_source"].iloc[6] == "none"
    assert "no Compendium 2011 entry for resistance" in s["met_reference"].iloc[6]
    # completed (no completed column): duration reached the arm's own duration_min
    # L1: 30, 30, 20 of 30 min; H1: 50, 50, 25 of 50 min
    assert s["completed"].tolist()[:8] == [True, True, False, True, False, True, True, False]
    assert s["zone_low_bpm"].iloc[5] == pytest.approx(132.0)
    assert s["in_zone"].tolist()[:8] == [True, False, pd.NA, pd.NA, pd.NA, True, pd.NA, False]


def _order(frame, ids):
    return frame.set_index("participant_id").loc[[i for i in ids if i in
                                                  set(frame["participant_id"])]]


def test_weeks_against_each_arms_prescription(trial):
    w = _order(exercise_dose(trial, by="week"), ("L1", "H1", "N1"))
    assert w.index.tolist() == ["L1", "L1", "H1", "H1", "H1"]  # none for N1
    assert w["first_day"].tolist() == [1, 8, 8, 15, 22]
    assert w["last_day"].tolist() == [7, 14, 14, 21, 28]
    assert w["sessions_prescribed"].tolist() == [2, 2, 4, 4, 4]
    assert w["sessions_attended"].tolist() == [2, 1, 2, 0, 1]
    assert w["attendance"].tolist() == [1.0, 0.5, 0.5, 0.0, 0.25]
    assert w["target_kkw"].tolist() == [7.0, 7.0, 17.5, 17.5, 17.5]
    # L1 week 1: 7 x 30 x 2 = 420 MET-min = 7.35 KKW, 7.35 / 7.0 = 1.05 of target
    # L1 week 2: 7 x 20 = 140 MET-min = 2.45 KKW = 0.35 of target
    # H1 week 1: one session without a MET: unknown; week 2: 0; week 3: 5 x 25 = 125 MET-min
    #            = 2.1875 KKW = 0.125 of 17.5
    np.testing.assert_allclose(w["met_minutes"], [420.0, 140.0, NAN, 0.0, 125.0])
    np.testing.assert_allclose(w["kkw"], [7.35, 2.45, NAN, 0.0, 2.1875])
    np.testing.assert_allclose(w["dose_adherence"], [1.05, 0.35, NAN, 0.0, 0.125])
    # fidelity: L1 week 1 30 of 60 monitored minutes in zone; H1 week 1 50 of 50, week 3 0/25
    np.testing.assert_allclose(w["intensity_fidelity"], [0.5, NAN, 1.0, NAN, 0.0])


def test_participants_against_each_arms_prescription(trial):
    t = exercise_dose(trial, by="participant").set_index("participant_id")
    # L1: 2 weeks x 2 = 4 prescribed, 3 counted (day 15 is not), 560 MET-min over 2 weeks
    #     = 0.0175 x 560 / 2 = 4.9 KKW = 0.7 of 7.0
    low = t.loc["L1"]
    assert (low["sessions_prescribed"], low["sessions_attended"], low["sessions_completed"],
            low["sessions_not_counted"]) == (4, 3, 2, 1)
    assert (low["start_day"], low["end_day"], low["weeks_on_programme"]) == (1, 14, 2)
    assert low["attendance"] == 0.75
    assert low["kkw"] == pytest.approx(4.9)
    assert low["kkw_programme"] == pytest.approx(4.9)
    assert low["dose_adherence"] == pytest.approx(0.7)
    assert low["intensity_fidelity"] == pytest.approx(0.5)  # 30 of 60 monitored minutes
    # H1: 3 weeks x 4 = 12 prescribed, 3 counted: 0.25; dose unknown (one session without
    #     a MET); fidelity 50 in zone of 75 monitored minutes
    high = t.loc["H1"]
    assert (high["sessions_prescribed"], high["sessions_attended"], high["sessions_completed"],
            high["sessions_not_counted"]) == (12, 3, 2, 1)
    assert (high["start_day"], high["end_day"], high["weeks_on_programme"]) == (8, 28, 3)
    assert high["attendance"] == 0.25
    assert np.isnan(high["kkw"]) and np.isnan(high["dose_adherence"])
    assert high["target_kkw"] == 17.5
    assert high["intensity_fidelity"] == pytest.approx(50 / 75)
    assert "1 session(s) without a MET value" in high["note"]
    # N1: nothing prescribed, nothing applies: not 0 %, but missing with the reason
    none = t.loc["N1"]
    assert (none["sessions_prescribed"], none["sessions_attended"], none["weeks_on_programme"],
            none["sessions_not_counted"]) == (0, 0, 0, 1)
    for name in ("attendance", "dose_adherence", "intensity_fidelity", "target_kkw",
                 "kkw", "kkw_programme", "zone_low_bpm"):
        assert np.isnan(none[name]), name
    assert none["start_day"] is pd.NA and none["end_day"] is pd.NA
    assert "arm NOEX prescribes no exercise: no sessions prescribed" in none["note"]
    assert "1 session(s) not counted" in none["note"]
    assert "no zone" not in none["note"]  # said once


def test_options_target_applies_to_arms_with_exercise_only(trial):
    t = exercise_dose(trial, by="participant", options=ExerciseDoseOptions(target_kkw=9.8))
    t = t.set_index("participant_id")
    assert t.loc["L1", "dose_adherence"] == pytest.approx(4.9 / 9.8)
    assert np.isnan(t.loc["N1", "target_kkw"])


def test_one_prescription_for_all_overrides_the_arms(trial):
    # STUDY for everyone: days 1-28, 3 a week, zone 40-59 %
    options = ExerciseDoseOptions(prescription=STUDY)
    t = exercise_dose(trial, by="participant", options=options).set_index("participant_id")
    assert t["sessions_prescribed"].tolist() == [12, 12, 12]
    assert t.loc["N1", "sessions_attended"] == 1
    assert t.loc["H1", "zone_high_bpm"] == pytest.approx(130.8)


def test_no_arm_with_exercise_is_an_error():
    protocol = Protocol("X", (Arm("A", exercise=False),), (Visit("BASELINE", 0, (-7, 0)),),
                        exercise=STUDY)
    raw = {"participants": pd.DataFrame({"participant_id": ["A1"], "arm": ["A"]}),
           "assessments": pd.DataFrame({"participant_id": ["A1"], "day": [0],
                                        "visit": ["BASELINE"], "instrument": ["MADRS"],
                                        "total": [30]})}
    trial = build_trial(protocol, raw)
    with pytest.raises(ValueError, match="no arm of study.toml prescribes exercise"):
        exercise_dose(trial)
    with pytest.raises(ValueError, match="no arm of study.toml prescribes exercise"):
        heart_rate_zones(trial)


def test_summary_counts_each_arms_own_prescription(trial):
    by_arm = ketex.summarize(trial).by_arm.set_index("arm")
    # LOW 2 x 2 = 4, HIGH 4 x 3 = 12, NOEX 0; all 16
    assert by_arm["sessions_prescribed"].tolist() == [4, 12, 0, 16]
    assert by_arm["sessions_attended"].tolist() == [4, 4, 1, 9]
    # LOW 4/4; HIGH 4/12 = 33.3 %; NOEX does not apply; all: 8 of 16 in arms with exercise
    np.testing.assert_allclose(by_arm["attendance_pct"], [100.0, 33.3, NAN, 50.0])
    # minutes per programme week: LOW 110 / 2, HIGH 165 / 3, all 275 / 5
    np.testing.assert_allclose(by_arm["exercise_min_per_week"], [55.0, 55.0, NAN, 55.0])
    assert by_arm.loc["HIGH", "exercise"] == "resistance 4 x 50 min/week, 3 weeks"
    assert by_arm.loc["NOEX", "exercise"] == "none prescribed"
