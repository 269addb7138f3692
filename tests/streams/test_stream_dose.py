"""stream_dose: the weekly dose with recorded sessions counted as recorded (worked by hand)."""

import shutil

import numpy as np
import pytest

import ketex
from ketex.errors import KetexError


def csv_stream(times, hr, power=None):
    head = "elapsed_s,heart_rate_bpm" + (",power_w" if power is not None else "") + "\n"
    rows = "".join(f"{t},{h}" + (f",{power[i]}" if power is not None else "") + "\n"
                   for i, (t, h) in enumerate(zip(times, hr, strict=True)))
    return head + rows


# P001 (female, 27 years, resting 78, HRmax 208 - 0.7 x 27 = 189.1): zone 40-59 % HRR is
# 78 + 0.40 x 111.1 = 122.44 to 78 + 0.59 x 111.1 = 143.549 bpm
STEP = [120] + [120] * 300 + [130] * 600 + [150] * 300  # 5 min below, 10 inside, 5 above


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dose") / "study"
    shutil.copytree(ketex.sample_study_path(), folder, ignore=shutil.ignore_patterns("streams"))
    streams = folder / "streams"
    streams.mkdir()
    (streams / "p1d3.csv").write_text(csv_stream(range(1201), STEP, [100] * 1201))
    (streams / "p1d4.csv").write_text(csv_stream(range(61), [130] * 61))
    (streams / "manifest.csv").write_text("file,participant_id,day,session_id\n"
                                          "p1d3.csv,P001,3,A\np1d4.csv,P001,4,B\n")
    return ketex.load_trial(folder)


@pytest.fixture(scope="module")
def sessions(trial):
    return ketex.stream_dose(trial, "session").set_index(["participant_id", "day"])


def test_the_stream_wins_for_its_session_and_the_difference_is_reported(sessions):
    row = sessions.loc[("P001", 3)]
    assert row["source"] == "stream" and row["stream_session_id"] == "A"
    assert row["duration_min_summary"] == 45.0 and row["duration_min"] == 20.0
    assert row["duration_difference_min"] == -25.0
    # the summary's mean, 133, is inside the zone: all 45 minutes; the stream: 10 of 20
    assert row["minutes_in_zone_summary"] == 45.0
    assert row["minutes_in_zone"] == pytest.approx(10.0)
    assert row["minutes_in_zone_difference"] == pytest.approx(-35.0)
    assert row["minutes_monitored"] == pytest.approx(20.0)
    assert row["mean_hr_bpm_stream"] == pytest.approx((5 * 120 + 10 * 130 + 5 * 150) / 20)
    # Edwards zones of HRmax 189.1: 120 and 130 in 60-70 % (x2), 150 in 70-80 % (x3)
    assert row["trimp_edwards"] == pytest.approx(2 * 5 + 2 * 10 + 3 * 5)
    hrr = (np.array([120, 130, 150]) - 78) / (189.1 - 78)
    banister = (np.array([5, 10, 5]) * hrr * 0.86 * np.exp(1.67 * hrr)).sum()  # women
    assert row["trimp_banister"] == pytest.approx(banister)
    # 100 W for 1200 s = 120 kJ; ACSM (10.8 x 100 / 77.3 kg + 7) / 3.5
    assert row["work_kj"] == pytest.approx(120.0)
    assert row["met_stream"] == pytest.approx((10.8 * 100 / 77.3 + 7) / 3.5)
    # the dose: measured-power MET x the recorded 20 minutes, beside the summary's 45 x 5.23
    assert row["met_minutes"] == pytest.approx(20 * (10.8 * 100 / 77.3 + 7) / 3.5)
    assert row["met_minutes_summary"] == pytest.approx(45 * 5.23)


def test_a_session_without_a_stream_keeps_its_summary(sessions):
    row = sessions.loc[("P001", 5)]
    assert row["source"] == "summary" and row["minutes_in_zone"] == 45.0
    assert row["duration_min"] == 45.0 and np.isnan(row["trimp_banister"])
    assert np.isnan(row["minutes_in_zone_difference"])


def test_a_recording_without_an_exercise_row_is_listed_not_counted(sessions):
    row = sessions.loc[("P001", 4)]
    assert row["source"] == "stream" and not row["counted"]
    assert "no row in the exercise table" in row["note"]
    assert row["minutes_in_zone"] == pytest.approx(1.0) and row["arm"] == "SINGLE"


def test_week_one_counts_the_recorded_minutes(trial):
    weeks = ketex.stream_dose(trial).set_index(["participant_id", "week"])
    dose = ketex.exercise_dose(trial, "week").set_index(["participant_id", "week"])
    w1 = weeks.loc[("P001", 1)]
    # days 3 (recorded: 10 of 20 monitored minutes in zone) and 5 (summary: 45 of 45)
    assert w1["sessions_attended"] == 2 and w1["sessions_streamed"] == 1
    assert w1["duration_min_streamed"] == pytest.approx(20.0)
    assert w1["minutes_in_zone"] == pytest.approx(55.0)
    assert w1["minutes_monitored"] == pytest.approx(65.0)
    assert w1["intensity_fidelity"] == pytest.approx(55 / 65)
    assert w1["minutes_in_zone_summary"] == dose.loc[("P001", 1), "minutes_in_zone"] == 90.0
    assert w1["intensity_fidelity_summary"] == 1.0
    assert w1["minutes_in_zone_difference"] == pytest.approx(-35.0)
    assert w1["trimp_edwards"] == pytest.approx(45.0)  # the day-4 recording is not counted
    met_minutes = 20 * (10.8 * 100 / 77.3 + 7) / 3.5 + 45 * 5.23  # day 5: its summary
    assert w1["met_minutes"] == pytest.approx(met_minutes)
    assert w1["kkw"] == pytest.approx(0.0175 * met_minutes)
    assert w1["kkw_summary"] == dose.loc[("P001", 1), "kkw"]
    # a week without recordings is exercise_dose's, with no stream load
    w2 = weeks.loc[("P001", 2)]
    assert w2["sessions_streamed"] == 0 and np.isnan(w2["trimp_banister"])
    assert w2["minutes_in_zone"] == dose.loc[("P001", 2), "minutes_in_zone"]
    assert w2["intensity_fidelity"] == dose.loc[("P001", 2), "intensity_fidelity"]
    assert list(ketex.stream_dose(trial).columns) == list(ketex.STREAM_DOSE_COLUMNS["week"])
    assert len(weeks) == len(dose)


def test_sample_recordings_agree_with_their_rows():
    sample = ketex.load_trial(ketex.sample_study_path())
    s = ketex.stream_dose(sample, "session")
    recorded = s[s["source"] == "stream"]
    assert len(recorded) == len(sample.streams)
    assert (recorded["duration_difference_min"] == 0).all()
    assert ((recorded["mean_hr_bpm_stream"] - recorded["avg_hr"]).abs() < 0.5).all()
    assert ((recorded["met_stream"] - recorded["met"]).abs() < 0.01).all()
    # the ramps put warm-up and cool-down below the zone: fewer minutes inside
    assert (recorded["minutes_in_zone"] <= recorded["minutes_monitored"]).all()
    assert recorded["minutes_in_zone_difference"].mean() < 0


def test_without_streams_or_with_a_wrong_by(trial):
    with pytest.raises(KetexError, match="has no device streams"):
        ketex.stream_dose(ketex.load_trial(ketex.sample_study_path(study="factorial")))
    with pytest.raises(KetexError, match="by must be"):
        ketex.stream_dose(trial, by="participant")
