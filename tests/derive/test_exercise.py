"""Exercise dose and adherence on hand-made participants, the mini study and the sample.

Every expected value is worked out by hand in the test from domain.md section 4:
MET-min = MET x min; kcal = MET x 3.5 x kg / 200 x min; KKW = 0.0175 x sum(MET x min)
per week; Karvonen zone HRrest + p x (HRmax - HRrest), HRmax Tanaka 208 - 0.7 x age.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketex.datasets import sample_study_path
from ketex.derive.exercise import (
    PARTICIPANT_COLUMNS,
    SESSION_COLUMNS,
    WEEK_COLUMNS,
    ExerciseDoseOptions,
    exercise_dose,
)
from ketex.derive.heart_rate import HeartRateOptions
from ketex.derive.mets import MetOptions
from ketex.io.folder import load_trial
from ketex.study.protocol import Arm, ExercisePrescription, Protocol, Visit
from ketex.study.validation import build_trial
from tests.conftest import MINI

PRESCRIPTION = ExercisePrescription(
    modality="cycling",
    sessions_per_week=3,
    duration_min=45.0,
    intensity="moderate",
    hrr_fraction=(0.40, 0.59),
    start_day=1,
    weeks=4,
    target_kkw=16.1,
)


def make_trial(participants, exercise, events=None, assessments=None, prescription=PRESCRIPTION):
    """A one-arm trial from hand-made rows (dicts); missing columns are left out."""
    protocol = Protocol(
        study_id="HAND",
        arms=(Arm("A"),),
        visits=(Visit("BASELINE", 0, (-14, 0)), Visit("WEEK2", 14, (8, 20))),
        exercise=prescription,
    )
    people = pd.DataFrame(participants)
    people.insert(1, "arm", "A")
    if assessments is None:
        assessments = [
            {"participant_id": p, "day": 0, "visit": "BASELINE", "instrument": "MADRS", "total": 30}
            for p in people["participant_id"]
        ]
    raw = {
        "participants": people,
        "exercise": pd.DataFrame(exercise) if exercise else None,
        "events": pd.DataFrame(events) if events else None,
        "assessments": pd.DataFrame(assessments),
    }
    return build_trial(protocol, raw)


# A: age 40, rest 60, 80 kg: Tanaka HRmax 180, zone 60 + 0.40 x 120 = 108 to 60 + 0.59 x 120
# = 130.8 beats/min.
A = {"participant_id": "A", "age": 40, "weight_kg": 80.0, "resting_hr": 60}


def session(day, duration=45.0, **values):
    return {
        "participant_id": values.pop("participant_id", "A"),
        "day": day,
        "duration_min": duration,
        **values,
    }


def test_worked_example_918_met_min_is_16_1_kkw():
    # 45 min x 3 sessions at 6.8 METs in week 1 (days 1, 3, 5)
    trial = make_trial([A], [session(d, met=6.8, avg_hr=120) for d in (1, 3, 5)])
    week1 = exercise_dose(trial, by="week").iloc[0]
    assert week1["met_minutes"] == pytest.approx(918.0)  # 6.8 x 45 x 3
    assert week1["kkw"] == pytest.approx(16.065)  # 0.0175 x 918
    assert round(week1["kkw"], 1) == 16.1
    # kcal = 6.8 x 3.5 x 80 / 200 = 9.52 kcal/min; x 135 min = 1285.2
    assert week1["kcal"] == pytest.approx(1285.2)
    assert week1["kcal"] / 80 == pytest.approx(week1["kkw"])  # KKW is kcal per kg
    assert week1["mean_met"] == pytest.approx(6.8)
    assert week1["met_source"] == "given"
    assert (week1["sessions_prescribed"], week1["sessions_attended"]) == (3, 3)
    assert week1["attendance"] == 1.0
    assert week1["dose_adherence"] == pytest.approx(16.065 / 16.1)
    assert (week1["first_day"], week1["last_day"]) == (1, 7)


def test_weeks_start_at_the_prescription_start_day():
    # week 1 = days 1-7, week 2 = days 8-14, ..., week 4 = days 22-28 (programme end)
    days = [0, 1, 7, 8, 14, 15, 28, 29]
    trial = make_trial([A], [session(d, met=5.0) for d in days])
    sessions = exercise_dose(trial, by="session")
    assert sessions["week"].tolist() == [0, 1, 1, 2, 2, 3, 4, 5]
    assert sessions["counted"].tolist() == [False, True, True, True, True, True, True, False]
    assert "before the programme starts (day 1)" in sessions["note"][0]
    assert "after the programme ends (day 28)" in sessions["note"][7]
    weeks = exercise_dose(trial, by="week")
    assert weeks["week"].tolist() == [1, 2, 3, 4]
    assert weeks["sessions_attended"].tolist() == [2, 2, 1, 1]
    total = exercise_dose(trial, by="participant").iloc[0]
    assert total["sessions_not_counted"] == 2
    assert total["sessions_attended"] == 6


def test_weeks_without_sessions_are_rows_with_zero_dose():
    trial = make_trial([A], [session(3, met=6.8)])
    weeks = exercise_dose(trial, by="week")
    assert weeks["week"].tolist() == [1, 2, 3, 4]
    assert weeks["sessions_prescribed"].tolist() == [3, 3, 3, 3]
    assert weeks["sessions_attended"].tolist() == [1, 0, 0, 0]
    assert weeks["met_minutes"].tolist() == [306.0, 0.0, 0.0, 0.0]  # 6.8 x 45
    assert weeks["kkw"].tolist() == pytest.approx([5.355, 0, 0, 0])  # 0.0175 x 306
    # no minutes in a week: no fidelity (0/0), zone minutes are a known 0
    assert weeks["minutes_in_zone"].tolist()[1:] == [0.0, 0.0, 0.0]
    assert weeks["intensity_fidelity"].isna().tolist()[1:] == [True, True, True]


def test_completed_false_is_attended_not_completed():
    trial = make_trial(
        [A],
        [
            session(1, 45.0, completed=True, met=6.0),
            session(3, 30.0, completed=False, met=6.0),
            session(5, 0.0, completed=False),  # attended, did not exercise
            session(8, 45.0, met=6.0),  # completed missing: 45 >= 45 min
            session(10, 44.0, met=6.0),  # completed missing: 44 < 45 min
        ],
    )
    weeks = exercise_dose(trial, by="week")
    assert weeks["sessions_attended"].tolist()[:2] == [3, 2]
    assert weeks["sessions_completed"].tolist()[:2] == [1, 1]
    # the 0-minute session has no MET, yet adds 0 MET-min: week 1 = 6 x (45 + 30) = 450
    assert weeks["met_minutes"].tolist()[0] == 450.0
    assert weeks["sessions_without_met"].tolist()[0] == 0
    assert weeks["attendance"].tolist()[:2] == [1.0, pytest.approx(2 / 3)]


def test_met_sources_per_session():
    trial = make_trial(
        [A],
        [
            session(1, met=6.8),  # given
            session(3, watts=100.0),  # ACSM: (10.8 x 100 / 80 + 7) / 3.5 = 5.857
            session(5, watts=100.0, modality="walking"),  # no source for walking
        ],
    )
    sessions = exercise_dose(trial, by="session")
    assert sessions["met_source"].tolist() == ["given", "acsm_cycling", "none"]
    assert sessions["met"].tolist()[:2] == [6.8, pytest.approx(20.5 / 3.5)]
    assert "no MET value" in sessions["note"][2]
    week1 = exercise_dose(trial, by="week").iloc[0]
    # one session without a MET value: the week's dose is unknown, and said so
    assert np.isnan(week1["met_minutes"]) and np.isnan(week1["kkw"])
    assert week1["sessions_without_met"] == 1
    assert "1 session(s) without a MET value" in week1["note"]
    assert week1["met_source"] == "acsm_cycling+given+none"


def test_compendium_when_no_weight_and_the_source_is_recorded():
    # B has no weight: 95 W falls back to the Compendium (90-100 W: 6.8 METs)
    person = {**A, "participant_id": "B", "weight_kg": None}
    trial = make_trial(
        [person], [session(1, watts=95.0, participant_id="B"), session(3, participant_id="B")]
    )
    sessions = exercise_dose(trial, by="session")
    assert sessions["met"].tolist() == [6.8, 7.0]  # 90-100 W band; "general" without watts
    assert sessions["met_source"].tolist() == ["compendium_2011", "compendium_2011"]
    assert sessions["met_reference"][0] == (
        "Compendium 2011 02012: bicycling, stationary, 90-100 watts, moderate to vigorous effort"
    )


def test_no_weight_gives_kcal_nan_with_the_reason_but_kkw_known():
    person = {**A, "weight_kg": None}
    trial = make_trial([person], [session(d, met=6.8) for d in (1, 3, 5)])
    week1 = exercise_dose(trial, by="week").iloc[0]
    assert np.isnan(week1["kcal"])
    assert week1["kkw"] == pytest.approx(16.065)
    assert "no weight_kg: kcal unknown" in week1["note"]
    total = exercise_dose(trial, by="participant").iloc[0]
    assert np.isnan(total["kcal"]) and "no weight_kg" in total["note"]


@pytest.mark.parametrize(
    ("avg_hr", "in_zone", "minutes"),
    [
        (108.0, True, 45.0),
        (130.8, True, 45.0),
        (120.0, True, 45.0),
        (107.9, False, 0.0),
        (131.0, False, 0.0),
        (None, None, None),
    ],
)
def test_session_minutes_in_the_karvonen_zone(avg_hr, in_zone, minutes):
    trial = make_trial([A], [session(1, met=6.0, avg_hr=avg_hr)])
    row = exercise_dose(trial, by="session").iloc[0]
    assert (row["zone_low_bpm"], row["zone_high_bpm"]) == pytest.approx((108.0, 130.8))
    if in_zone is None:
        assert pd.isna(row["in_zone"]) and np.isnan(row["minutes_in_zone"])
        assert "no avg_hr" in row["note"]
    else:
        assert row["in_zone"] == in_zone and row["minutes_in_zone"] == minutes


def test_no_heart_rate_gives_nan_zone_minutes_not_zero():
    trial = make_trial(
        [A],
        [
            session(1, 45.0, met=6.0, avg_hr=120),  # in zone
            session(3, 30.0, met=6.0, avg_hr=140),  # above the zone
            session(5, 40.0, met=6.0),  # no heart rate
            session(8, 45.0, met=6.0),  # no heart rate, week 2
        ],
    )
    weeks = exercise_dose(trial, by="week")
    week1, week2 = weeks.iloc[0], weeks.iloc[1]
    assert np.isnan(week1["minutes_in_zone"])  # 40 minutes of unknown verdict
    assert week1["minutes_monitored"] == 75.0  # 45 + 30
    assert week1["intensity_fidelity"] == pytest.approx(45 / 75)
    assert "heart-rate zone unknown for 1 session(s)" in week1["note"]
    assert np.isnan(week2["minutes_in_zone"]) and week2["minutes_monitored"] == 0.0
    assert np.isnan(week2["intensity_fidelity"])


def test_no_resting_heart_rate_means_no_zone():
    person = {**A, "resting_hr": None}
    trial = make_trial([person], [session(1, met=6.0, avg_hr=120)])
    row = exercise_dose(trial, by="session").iloc[0]
    assert np.isnan(row["zone_low_bpm"]) and np.isnan(row["minutes_in_zone"])
    assert row["note"] == "heart-rate zone unknown"
    total = exercise_dose(trial, by="participant").iloc[0]
    assert "no resting_hr" in total["note"]


def test_sessions_after_dropout_are_not_counted_and_prescription_stops():
    # discontinuation on day 10: on the programme days 1-9, weeks 1 and 2 (days 8-14 in full)
    trial = make_trial(
        [A],
        [session(d, met=6.0) for d in (1, 3, 5, 8, 10, 12)],
        events=[{"participant_id": "A", "day": 10, "event": "discontinuation"}],
    )
    sessions = exercise_dose(trial, by="session")
    assert sessions["counted"].tolist() == [True, True, True, True, False, False]
    assert sessions["note"][4].startswith("on or after discontinuation (day 10)")
    weeks = exercise_dose(trial, by="week")
    assert weeks["week"].tolist() == [1, 2]
    assert weeks["sessions_prescribed"].tolist() == [3, 3]
    assert weeks["sessions_attended"].tolist() == [3, 1]
    total = exercise_dose(trial, by="participant").iloc[0]
    assert (total["end_day"], total["weeks_on_programme"]) == (9, 2)
    assert total["sessions_prescribed"] == 6 and total["sessions_attended"] == 4
    assert total["attendance"] == pytest.approx(4 / 6)
    # 4 x 45 x 6 = 1080 MET-min over 2 weeks on the programme; 4 programme weeks
    assert total["kkw"] == pytest.approx(0.0175 * 1080 / 2)
    assert total["kkw_programme"] == pytest.approx(0.0175 * 1080 / 4)
    assert total["dose_adherence"] == pytest.approx(0.0175 * 1080 / 2 / 16.1)
    assert "discontinued on day 10" in total["note"]
    assert "2 session(s) not counted" in total["note"]


def test_dropout_before_the_programme_and_participants_without_sessions():
    other = {**A, "participant_id": "B"}
    never = {**A, "participant_id": "C"}
    trial = make_trial(
        [A, other, never],
        [session(1, met=6.0)],
        events=[{"participant_id": "C", "day": 1, "event": "discontinuation"}],
    )
    weeks = exercise_dose(trial, by="week")
    assert weeks.groupby("participant_id")["week"].count().to_dict() == {"A": 4, "B": 4}
    total = exercise_dose(trial, by="participant").set_index("participant_id")
    assert total.loc["B", ["sessions_prescribed", "sessions_attended"]].tolist() == [12, 0]
    assert total.loc["B", "kkw"] == 0.0 and total.loc["B", "attendance"] == 0.0
    assert total.loc["B", "minutes_in_zone"] == 0.0
    assert np.isnan(total.loc["B", "intensity_fidelity"])
    assert total.loc["C", "weeks_on_programme"] == 0
    assert total.loc["C", "sessions_prescribed"] == 0
    assert np.isnan(total.loc["C", "attendance"]) and np.isnan(total.loc["C", "kkw"])
    assert "no programme week on study" in total.loc["C", "note"]
    assert total.index.tolist() == ["A", "B", "C"]


def test_last_contact_ends_the_programme_of_participants_lost_without_an_event():
    # A's last record is an assessment on day 15 (week 3): weeks 1-3 prescribed
    assessments = [
        {"participant_id": "A", "day": 0, "visit": "BASELINE", "instrument": "MADRS", "total": 30},
        {"participant_id": "A", "day": 15, "visit": "WEEK2", "instrument": "MADRS", "total": 20},
    ]
    trial = make_trial([A], [session(1, met=6.0)], assessments=assessments)
    default = exercise_dose(trial, by="participant").iloc[0]
    assert default["weeks_on_programme"] == 4
    lost = exercise_dose(
        trial, by="participant", options=ExerciseDoseOptions(end_of_participation="last_contact")
    ).iloc[0]
    assert (lost["end_day"], lost["weeks_on_programme"], lost["sessions_prescribed"]) == (15, 3, 9)


def test_target_from_options_or_missing():
    trial = make_trial([A], [session(d, met=6.8) for d in (1, 3, 5)])
    own = exercise_dose(trial, options=ExerciseDoseOptions(target_kkw=7.0)).iloc[0]
    assert own["dose_adherence"] == pytest.approx(16.065 / 7.0)
    untargeted = dataclasses.replace(PRESCRIPTION, target_kkw=None)
    none = exercise_dose(trial, options=ExerciseDoseOptions(prescription=untargeted)).iloc[0]
    assert np.isnan(none["dose_adherence"]) and np.isnan(none["target_kkw"])
    assert "no target_kkw" in none["note"]


def test_zone_from_options_overrides_the_prescription():
    trial = make_trial([A], [session(1, met=6.0, avg_hr=140)])
    # vigorous 60-89 %: 60 + 0.6 x 120 = 132 to 60 + 0.89 x 120 = 166.8
    options = ExerciseDoseOptions(heart_rate=HeartRateOptions(hrr_fraction=(0.6, 0.89)))
    row = exercise_dose(trial, by="session", options=options).iloc[0]
    assert (row["zone_low_bpm"], row["zone_high_bpm"]) == pytest.approx((132.0, 166.8))
    assert bool(row["in_zone"]) is True


@pytest.mark.parametrize("by", ["session", "week", "participant"])
def test_columns_are_fixed(by):
    trial = make_trial([A], [session(1, met=6.0)])
    expected = {
        "session": SESSION_COLUMNS,
        "week": WEEK_COLUMNS,
        "participant": PARTICIPANT_COLUMNS,
    }[by]
    assert tuple(exercise_dose(trial, by=by).columns) == expected


def test_a_trial_without_exercise_rows():
    trial = make_trial([A], [])
    assert len(exercise_dose(trial, by="session")) == 0
    total = exercise_dose(trial, by="participant").iloc[0]
    assert total["sessions_prescribed"] == 12 and total["kkw"] == 0.0


def test_bad_arguments():
    trial = make_trial([A], [session(1, met=6.0)])
    with pytest.raises(ValueError, match="by must be one of"):
        exercise_dose(trial, by="day")
    no_exercise = dataclasses.replace(
        trial, protocol=dataclasses.replace(trial.protocol, exercise=None)
    )
    with pytest.raises(ValueError, match=r"add an \[exercise\] table"):
        exercise_dose(no_exercise)
    assert len(exercise_dose(no_exercise, options=ExerciseDoseOptions(prescription=PRESCRIPTION)))
    with pytest.raises(ValueError, match="end_of_participation"):
        ExerciseDoseOptions(end_of_participation="last_visit")
    with pytest.raises(ValueError, match="target_kkw"):
        ExerciseDoseOptions(target_kkw=0.0)


# -- the mini study ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def mini():
    return load_trial(MINI)


def test_mini_sessions(mini):
    sessions = exercise_dose(mini, by="session").set_index(["participant_id", "day"])
    # M01 (64.5 kg, rest 62, age 34: zone 110.88-134.098), day 1: 85 W by ACSM
    #   (10.8 x 85 / 64.5 + 7) / 3.5 = (14.232558 + 7) / 3.5 = 6.066445
    m01 = sessions.loc[("M01", 1)]
    assert m01["met"] == pytest.approx((10.8 * 85 / 64.5 + 7) / 3.5)
    assert m01["met_source"] == "acsm_cycling"
    assert m01["kcal"] == pytest.approx(m01["met"] * 3.5 * 64.5 / 200 * 45)
    # M01 day 5 completed=false, 30 minutes: attended, not completed
    assert not sessions.loc[("M01", 5), "completed"]
    # M03 day 3: met given 6.8 for 50 minutes = 340 MET-min; avg_hr 140 above the
    # beta-blocker zone 92.84-109.389
    m03 = sessions.loc[("M03", 3)]
    assert (m03["met"], m03["met_source"], m03["met_minutes"]) == (6.8, "given", 340.0)
    assert bool(m03["in_zone"]) is False and m03["minutes_in_zone"] == 0.0


def test_mini_totals(mini):
    total = exercise_dose(mini, by="participant").set_index("participant_id")
    # programme 4 weeks from day 1; M03 discontinued on day 21: days 1-20, weeks 1-3
    assert total["weeks_on_programme"].tolist() == [4, 4, 3, 4]
    assert total["sessions_prescribed"].tolist() == [12, 12, 9, 12]
    assert total["sessions_attended"].tolist() == [3, 2, 1, 1]
    assert total["sessions_completed"].tolist() == [2, 2, 1, 1]
    # M01 avg_hr 128, 131, 125 all inside 110.88-134.098: 45 + 45 + 30 = 120 minutes
    assert total.loc["M01", "minutes_in_zone"] == 120.0
    assert total.loc["M01", "intensity_fidelity"] == 1.0
    # M02 (max_hr 172 given, rest 70: zone 110.8-130.18): 118 and 121 in zone
    assert total.loc["M02", "max_hr_source"] == "given"
    assert total.loc["M02", "intensity_fidelity"] == 1.0
    # M03: 340 MET-min over 3 weeks on the programme
    assert total.loc["M03", "kkw"] == pytest.approx(0.0175 * 340 / 3)
    assert total.loc["M03", "kkw_programme"] == pytest.approx(0.0175 * 340 / 4)


# -- agreement with the simulator's truth on the bundled sample --------------------------


@pytest.fixture(scope="module")
def sample():
    return load_trial(sample_study_path())


@pytest.fixture(scope="module")
def truth():
    return pd.read_csv(sample_study_path() / "truth.csv", dtype={"participant_id": "string"})


@pytest.fixture(scope="module")
def totals(sample):
    return exercise_dose(sample, by="participant")


def test_sample_kkw_programme_equals_the_simulators_truth(totals, truth):
    """The simulator's ``kkw`` is 0.0175 x sum(met x min) over the sessions held before
    dropout, divided by the 12 programme weeks (ketex/simulate/exercise.py exercise_kkw):
    our ``kkw_programme``, to rounding. Its met is the ACSM equation on the recorded watts,
    rounded to 2 decimals and written to exercise.met, which we read as given."""
    assert totals["participant_id"].tolist() == truth["participant_id"].tolist()
    np.testing.assert_allclose(totals["kkw_programme"], truth["kkw"], rtol=1e-12, atol=1e-12)
    assert set(totals["met_source"]) == {"given"}
    assert (totals["sessions_not_counted"] == 0).all()


def test_sample_kkw_per_week_on_the_programme(totals, truth):
    """``kkw`` divides by the weeks each participant was on the programme, not the 12 of
    the programme: equal to the truth for those who did not drop out before its end, higher
    for those who did, by exactly 12 / weeks on the programme."""
    merged = totals.merge(
        truth[["participant_id", "kkw", "dropout_day"]],
        on="participant_id",
        suffixes=("", "_truth"),
    )
    early = merged["dropout_day"] <= 84
    assert early.sum() >= 3  # the sample has early dropouts to test this on
    stayed = merged[~early]
    np.testing.assert_allclose(stayed["kkw"], stayed["kkw_truth"], rtol=1e-12)
    left = merged[early]
    # the week of the day before dropout: (dropout - 1 - 1) // 7 + 1
    weeks = (left["dropout_day"] - 2) // 7 + 1
    np.testing.assert_array_equal(left["weeks_on_programme"], weeks.astype(int))
    np.testing.assert_allclose(left["kkw"], left["kkw_truth"] * 12 / weeks, rtol=1e-12)


def test_sample_acsm_from_watts_reproduces_the_recorded_met(sample, totals):
    """Recomputing every MET from watts and weight by the ACSM equation gives the sample's
    met to its 2-decimal rounding, so KKW agrees within 0.005 MET x minutes."""
    options = ExerciseDoseOptions(mets=MetOptions(sources=("acsm_cycling",)))
    sessions = exercise_dose(sample, by="session", options=options)
    assert set(sessions["met_source"]) == {"acsm_cycling"}
    given = sample.exercise["met"].to_numpy()
    assert np.abs(sessions["met"].to_numpy() - given).max() <= 0.005 + 1e-12
    recomputed = exercise_dose(sample, by="participant", options=options)
    minutes = totals["duration_min"].to_numpy()
    bound = 0.0175 * 0.005 * minutes / 12 + 1e-12
    assert np.all(np.abs(recomputed["kkw_programme"] - totals["kkw_programme"]) <= bound)


def test_sample_attendance_follows_the_simulated_adherence(totals, truth):
    """Each participant attends each session with probability ``adherence`` (truth);
    over 80 participants x up to 36 sessions, the mean attendance is within 0.03 of the
    mean probability (binomial SD of the mean about 0.01)."""
    merged = totals.merge(truth[["participant_id", "adherence"]], on="participant_id")
    assert abs(merged["attendance"].mean() - merged["adherence"].mean()) < 0.03
    assert np.corrcoef(merged["attendance"], merged["adherence"])[0, 1] > 0.8


def test_sample_weeks_add_up_to_the_totals(sample, totals):
    weeks = exercise_dose(sample, by="week")
    summed = weeks.groupby("participant_id", sort=False)[
        ["sessions_prescribed", "sessions_attended", "met_minutes", "duration_min"]
    ].sum()
    np.testing.assert_allclose(
        summed.to_numpy(dtype=float), totals[summed.columns].to_numpy(dtype=float)
    )
    assert (weeks["week"].between(1, 12)).all()
    assert totals["intensity_fidelity"].between(0, 1).all()


def test_minimal_tables_give_known_and_unknown_parts():
    # participants with no optional column, sessions with only the required ones: the
    # modality is the prescription's (cycling), so without watts the Compendium "general"
    # value, 7.0 METs; no weight: kcal unknown; no heart rate: zone unknown
    trial = make_trial([{"participant_id": "A"}], [session(1), session(3, 30.0)])
    total = exercise_dose(trial, by="participant").iloc[0]
    assert total["met_minutes"] == 7.0 * 75
    assert total["met_source"] == "compendium_2011"
    assert np.isnan(total["kcal"]) and np.isnan(total["minutes_in_zone"])
    assert total["max_hr_source"] == "none"
    assert total["sessions_completed"] == 1  # 45 >= 45 min; 30 < 45 min
    assert "no resting_hr" in total["note"] and "no weight_kg" in total["note"]


@settings(max_examples=40, deadline=None)
@given(
    sessions=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=35),  # day
            st.sampled_from([0.0, 20.0, 45.0, 60.0]),  # minutes
            st.one_of(st.none(), st.floats(min_value=2.0, max_value=12.0)),  # met
            st.one_of(st.none(), st.integers(min_value=90, max_value=150)),  # avg_hr
        ),
        max_size=15,
        unique_by=lambda s: s[0],
    ),
    stop=st.one_of(st.none(), st.integers(min_value=1, max_value=30)),
)
def test_weeks_add_up_to_the_participant_totals(sessions, stop):
    rows = [
        session(day, minutes, **({"met": met} if met else {}), **({"avg_hr": hr} if hr else {}))
        for day, minutes, met, hr in sessions
    ]
    events = [{"participant_id": "A", "day": stop, "event": "discontinuation"}] if stop else None
    person = {**A, "weight_kg": None} if len(sessions) % 2 else A
    trial = make_trial([person], rows, events=events)
    table = exercise_dose(trial, by="session")
    weeks = exercise_dose(trial, by="week")
    total = exercise_dose(trial, by="participant").iloc[0]
    assert len(table) == len(rows)
    assert table["counted"].sum() + total["sessions_not_counted"] == len(rows)
    assert weeks["sessions_attended"].sum() == total["sessions_attended"]
    assert weeks["sessions_prescribed"].sum() == total["sessions_prescribed"]
    assert len(weeks) == total["weeks_on_programme"]
    for column in ("met_minutes", "kcal", "minutes_in_zone"):
        # NaN in a week <=> NaN in the total (a dose with an unknown part is unknown)
        assert np.isnan(total[column]) == weeks[column].isna().any()
        if not np.isnan(total[column]):
            assert weeks[column].sum() == pytest.approx(total[column])
    if total["weeks_on_programme"] and not np.isnan(total["met_minutes"]):
        assert total["kkw"] * total["weeks_on_programme"] == pytest.approx(
            total["kkw_programme"] * 4
        )
    fidelity = total["intensity_fidelity"]
    assert np.isnan(fidelity) or 0 <= fidelity <= 1
