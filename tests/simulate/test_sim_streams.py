"""Simulated device streams agree with their session summaries and are reproducible."""

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.errors import KetexError
from ketex.simulate.streams import StreamDesign, simulate_session_stream, simulate_streams


@pytest.fixture(scope="module")
def trial():
    return ketex.load_trial(ketex.sample_study_path())


@pytest.fixture(scope="module")
def streams(trial):
    return simulate_streams(trial, ["P001", "P002"], seed=5)


def test_each_stream_has_its_sessions_duration_mean_hr_and_power(trial, streams):
    summary = trial.exercise.set_index(["participant_id", "day"])
    load = ketex.training_load(streams, hr_rest=60, hr_max=220, sex="female")
    days = streams.groupby("session_id")["day"].first()
    assert len(load) == len(trial.exercise[trial.exercise["participant_id"].isin(["P001", "P002"])])
    for _, row in load.iterrows():
        s = summary.loc[(row["participant_id"], int(days[row["session_id"]]))]
        assert row["duration_min"] == s["duration_min"]
        # rounding to whole beats and watts moves the mean by less than half a unit
        assert abs(row["mean_hr_bpm"] - s["avg_hr"]) < 0.5
        assert abs(row["mean_power_w"] - s["watts"]) < 0.5
        assert row["n_gap_s"] == 0 and row["n_dropout_s"] == 0


def test_stream_warms_up_and_cools_down():
    s = simulate_session_stream(duration_min=45, avg_hr=140, resting_hr=70, watts=120,
                                rng=np.random.default_rng(3))
    hr, power = s["heart_rate_bpm"].to_numpy(), s["power_w"].to_numpy()
    first, middle, last = hr[1:61].mean(), hr[1200:1500].mean(), hr[-60:].mean()
    assert first < middle - 15 and last < middle - 10
    assert power[1:61].mean() < power[1200:1500].mean() - 20
    assert hr.std() > 5 and np.all(hr == np.round(hr)) and np.all(power >= 0)


def test_short_session_ramps_shrink_and_mean_still_holds():
    s = simulate_session_stream(duration_min=10, avg_hr=125, resting_hr=80, watts=None,
                                rng=np.random.default_rng(4))
    assert len(s) == 601 and s["power_w"].isna().all()
    assert abs(s["heart_rate_bpm"].iloc[1:].mean() - 125) < 0.5


def test_streams_are_reproducible_and_do_not_depend_on_the_others(trial, streams):
    again = simulate_streams(trial, ["P002"], seed=5)
    p002 = streams[streams["participant_id"] == "P002"].reset_index(drop=True)
    pd.testing.assert_frame_equal(again, p002)
    other = simulate_streams(trial, ["P002"], seed=6)
    assert not np.array_equal(other["heart_rate_bpm"], again["heart_rate_bpm"])


def test_clock_times_are_on_the_session_day(trial, streams):
    rand = trial.participants.set_index("participant_id")["randomization_date"]
    first = streams.groupby(["participant_id", "session_id"]).first().reset_index()
    days = (first["timestamp"].dt.normalize()
            - rand.loc[first["participant_id"]].to_numpy()).dt.days
    assert (days == first["day"]).all()
    hours = first["timestamp"].dt.hour
    assert hours.between(8, 18).all()


def test_bad_input_is_a_ketex_error(trial):
    with pytest.raises(KetexError, match="not in the trial"):
        simulate_streams(trial, ["NOPE"])
    with pytest.raises(KetexError, match="duration_min"):
        simulate_session_stream(duration_min=0, avg_hr=120, resting_hr=70,
                                rng=np.random.default_rng(0))
    with pytest.raises(KetexError, match="start_hours"):
        StreamDesign(start_hours=(20, 10))


def test_sessions_without_power_get_heart_rate_only():
    factorial = ketex.load_trial(ketex.sample_study_path(study="factorial"))
    stretching = factorial.participants.loc[factorial.participants["arm"] == "KET_STR",
                                            "participant_id"].iloc[0]
    s = simulate_streams(factorial, [stretching], seed=2)
    rows = factorial.exercise[factorial.exercise["participant_id"] == stretching]
    assert s["power_w"].isna().all() and rows["watts"].isna().all()
    assert s["session_id"].nunique() == len(rows)
