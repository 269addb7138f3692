"""stream_adherence on hand-worked streams: every expected minute is worked out below from
the participants' zones (Karvonen on the arm's own hrr_fraction)."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.derive.heart_rate import HeartRateOptions
from ketex.errors import KetexError

# P001 (arm SINGLE, study-level zone 40-59 % HRR): 27 years, resting 78, HRmax
# 208 - 0.7 x 27 = 189.1, zone 78 + 0.40 x 111.1 = 122.44 to 78 + 0.59 x 111.1 = 143.549.
# P002 (arm SERIES, given its own zone 60-80 % HRR below): 28 years, resting 71, HRmax
# 188.4, zone 71 + 0.6 x 117.4 = 141.44 to 71 + 0.8 x 117.4 = 164.92; the study-level zone
# would be 117.96 to 140.266, so 150 bpm is inside only under the arm's prescription.
SERIES_EXERCISE = """[arms.exercise]
modality = "cycling"
duration_min = 30.0
hrr_fraction = [0.6, 0.8]

"""


def csv_stream(times, hr):
    return "elapsed_s,heart_rate_bpm\n" + "".join(f"{t},{h}\n" for t, h in zip(times, hr,
                                                                                 strict=True))


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    folder = tmp_path_factory.mktemp("adherence") / "study"
    shutil.copytree(ketex.sample_study_path(), folder, ignore=shutil.ignore_patterns("streams"))
    toml = (folder / "study.toml").read_text(encoding="utf-8")
    at = toml.index("[[visits]]")
    (folder / "study.toml").write_text(toml[:at] + SERIES_EXERCISE + toml[at:], encoding="utf-8")
    streams = folder / "streams"
    streams.mkdir()
    # A: 5 min at 120 (below), 10 min at 130 (inside), 5 min at 150 (above)
    step_hr = [120] + [120] * 300 + [130] * 600 + [150] * 300
    (streams / "step.csv").write_text(csv_stream(range(1201), step_hr), encoding="utf-8")
    # B: 130 bpm throughout but records 11-20 at 0 (dropout), no record from 60 to 80 s
    # (a 20 s gap: record 80 holds nothing), record 100 at 230 (spike above 209.1)
    times = list(range(61)) + list(range(80, 121))
    hr = [0 if 11 <= t <= 20 else 230 if t == 100 else 130 for t in times]
    (streams / "holes.csv").write_text(csv_stream(times, hr), encoding="utf-8")
    # C: P002, 30 min at 150
    (streams / "p2.csv").write_text(csv_stream(range(1801), [150] * 1801), encoding="utf-8")
    (streams / "manifest.csv").write_text(
        "file,participant_id,day\nstep.csv,P001,3\nholes.csv,P001,5\np2.csv,P002,3\n",
        encoding="utf-8")
    return ketex.load_trial(folder)


def test_minutes_below_in_and_above_the_zone_per_session(trial):
    out = ketex.stream_adherence(trial)
    assert list(out.columns) == list(ketex.ADHERENCE_COLUMNS["session"])
    out = out.set_index("session_id")
    step, holes, p2 = out.loc["step.csv"], out.loc["holes.csv"], out.loc["p2.csv"]
    assert step["zone_low_bpm"] == pytest.approx(122.44)
    assert step["zone_high_bpm"] == pytest.approx(143.549)
    assert (step["minutes_below_zone"], step["minutes_in_zone"],
            step["minutes_above_zone"]) == pytest.approx((5.0, 10.0, 5.0))  # fmt: skip
    assert step["monitored_min"] == pytest.approx(20.0)
    assert step["intensity_fidelity"] == pytest.approx(0.5)
    assert step["duration_min"] == pytest.approx(20.0) and not step["meets_duration"]
    assert step["prescribed_duration_min"] == 45.0
    # holes: 60 s less 10 s dropout, then records 81-120 less the spike: 50 + 39 s
    assert holes["monitored_min"] == pytest.approx(89 / 60)
    assert holes["minutes_in_zone"] == pytest.approx(89 / 60)
    assert holes["minutes_below_zone"] == 0 and holes["minutes_above_zone"] == 0
    assert holes["intensity_fidelity"] == pytest.approx(1.0)
    assert holes["duration_min"] == pytest.approx(2.0)
    # the arm's own zone (exercise_for("SERIES")), and its own 30 prescribed minutes
    assert (p2["zone_low_bpm"], p2["zone_high_bpm"]) == pytest.approx((141.44, 164.92))
    assert p2["minutes_in_zone"] == pytest.approx(30.0) and p2["intensity_fidelity"] == 1.0
    assert p2["prescribed_duration_min"] == 30.0 and p2["meets_duration"]
    assert (out["note"] == "").all()


def test_per_participant_sums_minutes_not_shares(trial):
    out = ketex.stream_adherence(trial, by="participant").set_index("participant_id")
    assert list(out.reset_index().columns) == list(ketex.ADHERENCE_COLUMNS["participant"])
    assert len(out) == len(trial.participants)  # everyone, recorded or not
    p1 = out.loc["P001"]
    assert p1["sessions_recorded"] == 2 and p1["sessions_meeting_duration"] == 0
    assert p1["monitored_min"] == pytest.approx(20 + 89 / 60)
    assert p1["minutes_in_zone"] == pytest.approx(10 + 89 / 60)
    assert p1["intensity_fidelity"] == pytest.approx((10 + 89 / 60) / (20 + 89 / 60))
    assert p1["intensity_fidelity"] != pytest.approx((0.5 + 1.0) / 2)
    p2 = out.loc["P002"]
    assert p2["sessions_recorded"] == 1 and p2["sessions_meeting_duration"] == 1
    assert p2["intensity_fidelity"] == 1.0
    p3 = out.loc["P003"]
    assert p3["sessions_recorded"] == 0 and p3["monitored_min"] == 0
    assert np.isnan(p3["intensity_fidelity"]) and p3["note"] == "no recorded session"


def test_one_zone_for_everyone_and_an_arm_without_exercise(trial):
    same = ketex.stream_adherence(trial, heart_rate=HeartRateOptions(hrr_fraction=(0.4, 0.59)))
    p2 = same.set_index("session_id").loc["p2.csv"]
    assert p2["zone_high_bpm"] == pytest.approx(71 + 0.59 * 117.4)
    assert p2["minutes_above_zone"] == pytest.approx(30.0) and p2["intensity_fidelity"] == 0
    arms = tuple(dataclasses.replace(arm, exercise=False) if arm.code == "SINGLE" else arm
                 for arm in trial.protocol.arms)  # fmt: skip
    none = dataclasses.replace(trial, protocol=dataclasses.replace(trial.protocol, arms=arms))
    out = ketex.stream_adherence(none).set_index("session_id")
    step = out.loc["step.csv"]
    assert np.isnan(step["minutes_in_zone"]) and np.isnan(step["intensity_fidelity"])
    assert step["monitored_min"] == pytest.approx(20.0) and pd.isna(step["meets_duration"])
    assert step["note"] == "arm SINGLE prescribes no exercise: no zone"
    per = ketex.stream_adherence(none, by="participant").set_index("participant_id")
    assert np.isnan(per.loc["P001", "minutes_in_zone"])
    assert pd.isna(per.loc["P001", "sessions_meeting_duration"])


def test_a_trial_without_streams_or_a_wrong_by(trial):
    with pytest.raises(KetexError, match="has no device streams"):
        ketex.stream_adherence(ketex.load_trial(ketex.sample_study_path(study="factorial")))
    with pytest.raises(KetexError, match="by must be 'session' or 'participant'"):
        ketex.stream_adherence(trial, by="week")
