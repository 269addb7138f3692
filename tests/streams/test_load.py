"""training_load on hand-worked streams: every expected value is computed here from the
formulas of docs/exercise-dose.md ("Devices and training load"), not by ketex."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.errors import DataValidationError

REST, TOP = 60.0, 190.0


def stream(hr, *, t=None, power=None, pid="P01", sid="S1"):
    hr = np.asarray(hr, dtype=float)
    t = np.arange(hr.size, dtype=float) if t is None else np.asarray(t, dtype=float)
    frame = pd.DataFrame({"participant_id": pid, "session_id": sid, "elapsed_s": t,
                          "heart_rate_bpm": hr})  # fmt: skip
    if power is not None:
        frame["power_w"] = np.asarray(power, dtype=float)
    return frame


def banister_per_min(hr, a=0.64, k=1.92):
    x = (hr - REST) / (TOP - REST)
    return x * a * math.exp(k * x)


def load(frame, **kwargs):
    kwargs = {"hr_rest": REST, "hr_max": TOP, "sex": "male", **kwargs}
    out = ketex.training_load(frame, **kwargs)
    assert list(out.columns) == list(ketex.LOAD_COLUMNS)
    return out.iloc[0]


def test_constant_heart_rate():
    # 601 records at 1 Hz: records 1..600 each hold 1 s at 152 bpm (80 % HRmax: zone 4)
    row = load(stream(np.full(601, 152.0)), rpe=6)
    assert row["duration_min"] == 10.0 and row["recorded_min"] == 10.0
    assert row["minutes_zone_4"] == pytest.approx(10.0, abs=1e-12)
    for zone in (1, 2, 3, 5):
        assert row[f"minutes_zone_{zone}"] == 0.0
    assert row["trimp_edwards"] == pytest.approx(40.0)
    assert row["trimp_banister"] == pytest.approx(10 * banister_per_min(152.0), rel=1e-12)
    assert row["mean_hr_bpm"] == pytest.approx(152.0)
    assert row["session_rpe_load"] == pytest.approx(60.0)
    assert np.isnan(row["trimp_lucia"]) and np.isnan(row["work_kj"])
    assert row[["n_gap_s", "n_dropout_s", "n_spike_s"]].sum() == 0


def test_women_use_banisters_female_weighting():
    row = load(stream(np.full(601, 152.0)), sex="F")
    assert row["trimp_banister"] == pytest.approx(
        10 * banister_per_min(152.0, a=0.86, k=1.67), rel=1e-12
    )


def test_step_change_is_summed_second_by_second():
    # records 1..300 at 114 bpm (60 %: zone 2), records 301..600 at 171 bpm (90 %: zone 5)
    hr = np.r_[np.full(301, 114.0), np.full(300, 171.0)]
    row = load(stream(hr), thresholds_bpm=(130, 160))
    assert row["minutes_zone_2"] == pytest.approx(5.0)
    assert row["minutes_zone_5"] == pytest.approx(5.0)
    assert row["trimp_edwards"] == pytest.approx(2 * 5 + 5 * 5)
    expected = 5 * banister_per_min(114.0) + 5 * banister_per_min(171.0)
    assert row["trimp_banister"] == pytest.approx(expected, rel=1e-12)
    from_mean = 10 * banister_per_min((114.0 + 171.0) / 2)
    assert abs(row["trimp_banister"] - from_mean) > 1.0  # not computed from the mean HR
    assert row["trimp_lucia"] == pytest.approx(5 * 1 + 5 * 3)
    assert row["mean_hr_bpm"] == pytest.approx(142.5)


def test_a_ramp_across_zones_and_the_zone_boundaries():
    # hr = 120 + t/10: record t (1..600) holds 1 s. Bounds 114, 133, 152, 171 bpm.
    t = np.arange(601.0)
    row = load(stream(120 + t / 10), thresholds_bpm=(133, 152))
    # zone 2: 120.1..132.9 (t 1..129); zone 3: 133..151.9 (t 130..319);
    # zone 4: 152..170.9 (t 320..509); zone 5: 171..180 (t 510..600)
    assert row["minutes_zone_2"] == pytest.approx(129 / 60)
    assert row["minutes_zone_3"] == pytest.approx(190 / 60)
    assert row["minutes_zone_4"] == pytest.approx(190 / 60)
    assert row["minutes_zone_5"] == pytest.approx(91 / 60)
    # Lucia: below VT1 = t 1..129 (x1); VT1 <= HR <= VT2 = t 130..320 (x2); above (x3)
    assert row["trimp_lucia"] == pytest.approx((129 * 1 + 191 * 2 + 280 * 3) / 60)
    expected = sum(banister_per_min(120 + s / 10) for s in range(1, 601)) / 60
    assert row["trimp_banister"] == pytest.approx(expected, rel=1e-12)


def test_missing_seconds_short_ones_held_long_ones_a_gap():
    t = np.setdiff1d(np.arange(601.0), np.r_[101:110, 201:203])  # a 10-s and a 3-s hole
    row = load(stream(np.full(t.size, 152.0), t=t))
    assert row["duration_min"] == 10.0
    assert row["n_gap_s"] == 10.0  # the interval 100 -> 110 s: > 5 s, missing
    assert row["recorded_min"] == pytest.approx(590 / 60)
    # the 3-s interval 200 -> 203 counts as load, held at the value of record 203
    assert row["minutes_zone_4"] == pytest.approx(590 / 60)
    assert row["trimp_banister"] == pytest.approx(590 / 60 * banister_per_min(152.0))


def test_max_gap_is_configurable():
    t = np.setdiff1d(np.arange(601.0), np.r_[201:203])
    row = load(stream(np.full(t.size, 152.0), t=t), max_gap_s=2)
    assert row["n_gap_s"] == 3.0 and row["minutes_zone_4"] == pytest.approx(597 / 60)


def test_dropouts_and_spikes_are_excluded_and_counted():
    hr = np.full(601, 152.0)
    hr[1:21] = 0.0  # strap lost: 20 s
    hr[21:26] = np.nan  # no value: 5 s
    hr[26:31] = 250.0  # above 190 + 20: 5 s
    hr[31:36] = 205.0  # above HRmax but within the margin: zone 5, kept
    row = load(stream(hr))
    assert row["n_dropout_s"] == 25.0 and row["n_spike_s"] == 5.0
    assert row["minutes_zone_4"] == pytest.approx(565 / 60)
    assert row["minutes_zone_5"] == pytest.approx(5 / 60)
    assert row["mean_hr_bpm"] == pytest.approx((565 * 152 + 5 * 205) / 570)
    expected = (565 * banister_per_min(152.0) + 5 * banister_per_min(205.0)) / 60
    assert row["trimp_banister"] == pytest.approx(expected, rel=1e-12)


def test_heart_rate_below_rest_adds_no_banister_load():
    row = load(stream(np.full(61, 50.0)))
    assert row["trimp_banister"] == 0.0 and row["trimp_edwards"] == 0.0


def test_power_work_mean_and_normalized_power():
    # records 1..60 at 0 W, 61..120 at 400 W (1 Hz)
    power = np.r_[np.zeros(61), np.full(60, 400.0)]
    row = load(stream(np.full(121, 152.0), power=power), ftp_w=250)
    assert row["work_kj"] == pytest.approx(400 * 60 / 1000)
    assert row["mean_power_w"] == pytest.approx(200.0)
    seconds = [0.0] * 60 + [400.0] * 60  # the 1-s grid, seconds 1..120
    windows = [sum(seconds[j - 30:j]) / 30 for j in range(30, 121)]
    normalized = (sum(w**4 for w in windows) / len(windows)) ** 0.25
    assert row["normalized_power_w"] == pytest.approx(normalized, rel=1e-12)
    assert row["intensity_factor"] == pytest.approx(normalized / 250)
    tss = 120 * normalized * (normalized / 250) / (250 * 3600) * 100
    assert row["training_stress_score"] == pytest.approx(tss, rel=1e-12)


def test_normalized_power_of_constant_power_and_short_sessions():
    row = load(stream(np.full(301, 150.0), power=np.full(301, 180.0)))
    assert row["normalized_power_w"] == pytest.approx(180.0)
    short = load(stream(np.full(20, 150.0), power=np.full(20, 180.0)))
    assert np.isnan(short["normalized_power_w"]) and short["work_kj"] == pytest.approx(3.42)


def test_per_participant_values_and_per_session_rpe():
    frame = pd.concat([stream(np.full(61, 152.0), pid="A", sid="A1"),
                       stream(np.full(61, 152.0), pid="B", sid="B1"),
                       stream(np.full(121, 152.0), pid="B", sid="B2")])  # fmt: skip
    out = ketex.training_load(frame, hr_rest={"A": 60, "B": 60},
                              hr_max=pd.Series({"A": 190.0, "B": 160.0}),
                              sex={"A": "male", "B": "female"}, rpe={"A1": 4, "B2": 7})
    assert list(out["session_id"]) == ["A1", "B1", "B2"]
    assert list(out["minutes_zone_4"]) == pytest.approx([1.0, 0.0, 0.0])
    assert list(out["minutes_zone_5"]) == pytest.approx([0.0, 1.0, 2.0])  # 152/160 = 95 %
    x = (152 - 60) / (160 - 60)
    assert out.loc[2, "trimp_banister"] == pytest.approx(2 * x * 0.86 * math.exp(1.67 * x))
    assert out.loc[0, "session_rpe_load"] == 4.0 and out.loc[2, "session_rpe_load"] == 14.0
    assert np.isnan(out.loc[1, "session_rpe_load"])


def test_a_participant_without_a_value_is_named():
    frame = pd.concat([stream([150, 150], pid="A"), stream([150, 150], pid="B", sid="S2")])
    with pytest.raises(DataValidationError, match="hr_max has no value for participant 'B'"):
        ketex.training_load(frame, hr_rest=60, hr_max={"A": 190}, sex="m")


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (lambda f: f.drop(columns="elapsed_s"), {}, "no column 'elapsed_s'"),
        (lambda f: f.assign(elapsed_s=[0.0, 0.0, 1.0]), {}, "repeats in session 'S1'"),
        (lambda f: f.assign(power_w=[0.0, -5.0, 1.0]), {}, "power_w at row 1 is negative"),
        (lambda f: f.assign(heart_rate_bpm=["150", "x", "150"]), {}, "is not a number: 'x'"),
        (lambda f: f, {"sex": "x"}, "sex 'x' is not"),
        (lambda f: f, {"hr_max": 50}, "need 0 < hr_rest < hr_max"),
        (lambda f: f, {"thresholds_bpm": (160, 130)}, "VT1 <= VT2"),
        (lambda f: f, {"rpe": 12}, "CR-10"),
    ],
)
def test_bad_input_raises_a_data_validation_error(change, kwargs, message):
    frame = change(stream([150.0, 150.0, 150.0]))
    with pytest.raises(DataValidationError, match=message) as caught:
        load(frame, **kwargs)
    assert caught.value.report is not None and len(caught.value.report) >= 1
