"""HRmax (given, Tanaka, Fox, beta-blockers) and the Karvonen zone."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ketex.derive.heart_rate import (
    HeartRateOptions,
    heart_rate_zones,
    karvonen_zone,
    max_heart_rate,
)
from ketex.io.folder import load_trial
from tests.conftest import MINI


def test_tanaka_fox_and_beta_blocker_formulas_by_hand():
    # Tanaka 208 - 0.7 x 40 = 180; Fox 220 - 50 = 170; beta-blocker 164 - 0.7 x 40 = 136
    assert float(max_heart_rate(40)) == pytest.approx(180.0)
    assert float(max_heart_rate(50, formula="fox")) == pytest.approx(170.0)
    assert float(max_heart_rate(40, beta_blocker=True)) == pytest.approx(136.0)
    # the beta-blocker formula applies whichever formula is chosen
    assert float(max_heart_rate(40, beta_blocker=True, formula="fox")) == pytest.approx(136.0)
    assert np.isnan(max_heart_rate(np.nan))
    with pytest.raises(ValueError, match="'tanaka' or 'fox'"):
        max_heart_rate(40, formula="astrand")


def test_karvonen_zone_at_rest_60_and_age_40():
    # HRmax 180, reserve 180 - 60 = 120: 60 + 0.40 x 120 = 108; 60 + 0.59 x 120 = 130.8
    low, high = karvonen_zone(60, max_heart_rate(40), (0.40, 0.59))
    assert float(low) == pytest.approx(108.0)
    assert float(high) == pytest.approx(130.8)


def test_karvonen_zone_on_beta_blockers():
    # HRmax 164 - 0.7 x 40 = 136, reserve 76: 60 + 30.4 = 90.4; 60 + 44.84 = 104.84
    low, high = karvonen_zone(60, max_heart_rate(40, beta_blocker=True))
    assert (float(low), float(high)) == pytest.approx((90.4, 104.84))


@pytest.mark.parametrize("fraction", [(0.6, 0.4), (-0.1, 0.5), (0.4, 1.2), (0.4,), "ab"])
def test_zone_fractions_are_checked(fraction):
    with pytest.raises(ValueError, match="hrr_fraction"):
        karvonen_zone(60, 180, fraction)
    with pytest.raises(ValueError, match="hrr_fraction"):
        HeartRateOptions(hrr_fraction=fraction)


@pytest.fixture(scope="module")
def mini():
    return load_trial(MINI)


def test_zones_of_the_mini_study(mini):
    zones = heart_rate_zones(mini).set_index("participant_id")
    # M01: age 34, rest 62, no max_hr: Tanaka 208 - 23.8 = 184.2; reserve 122.2
    #      zone 62 + 48.88 = 110.88 to 62 + 72.098 = 134.098
    # M02: max_hr given 172, rest 70, reserve 102: 110.8 to 130.18
    # M03: beta-blocker, age 27: 164 - 18.9 = 145.1; rest 58, reserve 87.1: 92.84 to 109.389
    # M04: age 45, rest 75: 208 - 31.5 = 176.5; reserve 101.5: 115.6 to 134.885
    assert zones["max_hr_source"].tolist() == ["tanaka", "given", "beta_blocker", "tanaka"]
    np.testing.assert_allclose(zones["max_hr_bpm"], [184.2, 172.0, 145.1, 176.5])
    np.testing.assert_allclose(zones["zone_low_bpm"], [110.88, 110.8, 92.84, 115.6])
    np.testing.assert_allclose(zones["zone_high_bpm"], [134.098, 130.18, 109.389, 134.885])
    assert (zones["note"] == "").all()


def test_options_fox_no_measured_and_own_zone(mini):
    options = HeartRateOptions(
        max_hr_formula="fox", use_measured_max_hr=False, hrr_fraction=(0.6, 0.89)
    )
    zones = heart_rate_zones(mini, options).set_index("participant_id")
    # M02 predicted by Fox: 220 - 51 = 169; rest 70, reserve 99: 70 + 59.4 = 129.4
    assert zones.loc["M02", "max_hr_source"] == "fox"
    assert zones.loc["M02", "zone_low_bpm"] == pytest.approx(129.4)
    # M03 on beta-blockers keeps 164 - 0.7 x age
    assert zones.loc["M03", "max_hr_source"] == "beta_blocker"
    assert zones.loc["M03", "hrr_fraction_high"] == 0.89


def _with_participants(trial, **changes):
    people = trial.participants.copy()
    for column, values in changes.items():
        people[column] = values
    return dataclasses.replace(trial, participants=people)


def test_unknown_inputs_give_nan_zones_with_reasons(mini):
    trial = _with_participants(
        mini,
        resting_hr=[np.nan, 70.0, 58.0, 75.0],
        age=[34.0, 51.0, 27.0, np.nan],
        beta_blocker=pd.array([False, False, pd.NA, False], dtype="boolean"),
    )
    zones = heart_rate_zones(trial).set_index("participant_id")
    assert np.isnan(zones.loc["M01", "zone_low_bpm"])
    assert "no resting_hr" in zones.loc["M01", "note"]
    assert zones.loc["M04", "max_hr_source"] == "none"
    assert np.isnan(zones.loc["M04", "zone_high_bpm"])
    assert "no max_hr and no age" in zones.loc["M04", "note"]
    # M03's status unknown: taken as not on beta-blockers (Tanaka), and said so
    assert zones.loc["M03", "max_hr_source"] == "tanaka"
    assert "beta_blocker unknown" in zones.loc["M03", "note"]
    # M02's max_hr is measured, so the unknown status would not matter; M02 is known anyway
    assert zones.loc["M02", "note"] == ""


def test_no_zone_anywhere_is_an_error(mini):
    trial = dataclasses.replace(mini, protocol=dataclasses.replace(mini.protocol, exercise=None))
    with pytest.raises(ValueError, match="hrr_fraction"):
        heart_rate_zones(trial)
    zones = heart_rate_zones(trial, HeartRateOptions(hrr_fraction=(0.4, 0.59)))
    assert len(zones) == 4
