"""person_period: intervals by hand, censoring inside an interval, events on a boundary,
covariates as of the start of each interval, and a recovery test through ketex.glmm."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import ketex
from ketex.derive.person_period import PERSON_PERIOD_COLUMNS, person_period
from ketex.errors import ConvergenceWarning
from ketex.models.glmm import glmm
from ketex.simulate.design import RelapseDesign


def _tte(rows):
    return pd.DataFrame(rows, columns=["USUBJID", "STARTDY", "AVAL", "event"])


def test_intervals_by_hand():
    pp = person_period(_tte([("A", 2, 14.0, True), ("B", 5, 10.0, False),
                             ("C", 1, 3.0, True), ("D", 0, 21.0, False)]), 7)
    assert list(pp.columns) == [c for c in PERSON_PERIOD_COLUMNS if c != "ARM"]
    expected = pd.DataFrame({
        "USUBJID": ["A", "A", "B", "B", "C", "D", "D", "D"],
        "interval": [1, 2, 1, 2, 1, 1, 2, 3],
        "start": [0, 7, 0, 7, 0, 0, 7, 14],
        "stop": [7, 14, 7, 14, 7, 7, 14, 21],
        "start_day": [2, 9, 5, 12, 1, 0, 7, 14],
        "end_day": [9, 16, 12, 19, 8, 7, 14, 21],
        "exposure_days": [7, 7, 7, 3, 7, 7, 7, 7],
        "event": [0, 1, 0, 0, 1, 0, 0, 0],
    })
    for column in expected.columns:
        assert pp[column].tolist() == expected[column].tolist(), column
    np.testing.assert_allclose(pp["log_exposure"], np.log(pp["exposure_days"] / 7))


def test_event_on_a_boundary_is_in_the_interval_it_closes():
    pp = person_period(_tte([("A", 0, 7.0, True), ("B", 0, 8.0, True)]), 7)
    assert pp.groupby("USUBJID")["interval"].max().tolist() == [1, 2]
    assert pp.loc[pp["event"] == 1, "interval"].tolist() == [1, 2]
    # an event interval counts in full even when the event comes early in it
    assert pp["exposure_days"].tolist() == [7, 7, 7]


def test_partial_last_interval_kept_or_dropped():
    tte = _tte([("A", 0, 10.0, False), ("B", 0, 10.0, True), ("C", 0, 14.0, False)])
    kept = person_period(tte, 7)
    dropped = person_period(tte, 7, partial="drop")
    assert kept.groupby("USUBJID").size().tolist() == [2, 2, 2]
    assert dropped.groupby("USUBJID").size().tolist() == [1, 2, 2]  # events stay
    assert dropped["exposure_days"].tolist() == [7] * 5


def test_origin_day_cases():
    with pytest.warns(UserWarning, match=r"AVAL = 0.*\['B'\]"):
        pp = person_period(_tte([("A", 3, 0.0, False), ("B", 3, 0.0, True),
                                 ("C", 3, 1.0, True)]), 7)
    assert pp["USUBJID"].tolist() == ["C"]  # A censored at 0 has no time at risk


def test_cnsr_instead_of_event_and_arm_kept():
    table = pd.DataFrame({"USUBJID": ["A"], "ARM": ["SINGLE"], "STARTDY": [0],
                          "AVAL": [9.0], "CNSR": [0]})
    pp = person_period(table, 3)
    assert pp["ARM"].tolist() == ["SINGLE"] * 3
    assert pp["event"].tolist() == [0, 0, 1]


def test_covariates_as_of_the_start_of_each_interval():
    tte = _tte([("A", 10, 21.0, False), ("B", 0, 7.0, True)])
    dose = pd.DataFrame({"participant_id": ["A", "A", "A", "B"],
                         "day": [5, 17, 24, 3], "dose": [1.0, 2.0, 3.0, 9.0]})
    fixed = pd.DataFrame({"participant_id": ["A", "B"], "age": [30, 40]})
    pp = person_period(tte, 7, covariates=[dose, fixed])
    # A's intervals start after days 10, 17, 24: the dose recorded on day 17 already holds
    assert pp["dose"].iloc[:3].tolist() == [1.0, 2.0, 3.0]
    assert np.isnan(pp["dose"].iloc[3])  # B's only interval starts after day 0 < 3
    assert pp["age"].tolist() == [30, 30, 30, 40]


def test_input_errors():
    tte = _tte([("A", 0, 7.0, True)])
    with pytest.raises(ValueError, match="width_days"):
        person_period(tte, 0)
    with pytest.raises(ValueError, match="width_days"):
        person_period(tte, 3.5)
    with pytest.raises(ValueError, match="partial"):
        person_period(tte, 7, partial="half")
    with pytest.raises(ValueError, match="lacks the columns"):
        person_period(tte.drop(columns="STARTDY"), 7)
    with pytest.raises(ValueError, match="participant_id"):
        person_period(tte, 7, covariates=pd.DataFrame({"id": ["A"], "x": [1]}))
    with pytest.raises(ValueError, match="already in the person-period table"):
        person_period(tte, 7, covariates=pd.DataFrame({"USUBJID": ["A"], "event": [1]}))


@pytest.fixture(scope="module")
def sample():
    trial = ketex.load_trial(ketex.sample_study_path())
    return trial, ketex.time_to_event(trial, "SUSTAIN-1")


def test_trial_covariates_by_hand(sample):
    """P002 (SERIES: infusions on days 1, 3, 5, 8, 10, 12; origin day 2): the KKW of the
    programme week each interval starts in, the week that ended just before, and the
    days since the last infusion, against the weekly table and the infusions."""
    trial, tte = sample
    pp = person_period(tte, 7, trial=trial)
    assert pp["event"].sum() == tte.table["event"].sum()
    assert len(pp) == np.ceil(tte.table["AVAL"] / 7).sum()
    rows = pp[pp["USUBJID"] == "P002"].set_index("interval")
    weeks = ketex.exercise_dose(trial, by="week")
    kkw = weeks[weeks["participant_id"] == "P002"].set_index("week")["kkw"]
    infusions = sorted(trial.infusions.loc[trial.infusions["participant_id"] == "P002", "day"])
    assert infusions == [1, 3, 5, 8, 10, 12]
    # interval 2 starts after day 9: day 10 is in programme week 2 (days 8-14); week 1
    # ended on day 7; the last infusion by day 9 was on day 8
    assert rows.loc[2, "kkw"] == kkw[2]
    assert rows.loc[2, "kkw_previous_week"] == kkw[1]
    assert rows.loc[2, "days_since_last_infusion"] == 1
    assert rows.loc[1, "days_since_last_infusion"] == 1  # after day 2: infusion on day 1
    assert np.isnan(rows.loc[1, "kkw_previous_week"])  # no programme week ended by day 2
    assert rows.loc[13, "kkw_previous_week"] == kkw[12]  # week 12 ended on day 84
    assert np.isnan(rows.loc[13, "kkw"]) and np.isnan(rows.loc[14, "kkw_previous_week"])
    assert (rows["site"] == "SITE1").all()
    assert rows["kkw_mean"].nunique() == 1


def test_recovers_the_exercise_effect_on_relapse_hazard():
    """The simulator's relapse: from the day of true response, exponential with rate
    log 2 / 18 days x HR^KKW (KKW: the participant's full-course weekly dose). Grouped
    into weeks, that is exactly a cloglog model with intercept log(7 log 2 / 18) and
    slope log(HR) per KKW (partial last weeks through the log_exposure offset). With
    HR = 0.90 and 800 participants, both within 3 SE of the truth; the site random
    intercept (true SD 0) may end on the boundary, so that warning is not an error here.
    """
    design = dataclasses.replace(ketex.TrialDesign(), n_per_arm=400, n_sites=6,
                                 relapse=RelapseDesign(hazard_ratio_per_kkw=0.90))
    truth = ketex.simulate_trial(design, seed=3).truth
    responders = truth[truth["response_day"].notna()]
    end_of_follow_up = 175  # last day of the simulated grid (WEEK24 window)
    tte = pd.DataFrame({
        "USUBJID": responders["participant_id"],
        "STARTDY": responders["response_day"].astype(int),
        "AVAL": np.where(responders["relapsed"], responders["relapse_day"],
                         end_of_follow_up) - responders["response_day"],
        "event": responders["relapsed"].to_numpy(),
    })
    pp = person_period(tte, 7, covariates=truth[["participant_id", "kkw_full_course", "site"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = glmm(pp, "event ~ kkw_full_course", subject="site", link="cloglog",
                   offset="log_exposure")
    coef = fit.coef.set_index("term")
    truth_values = pd.Series({"Intercept": np.log(7 * np.log(2) / 18),
                              "kkw_full_course": np.log(0.90)})
    deviation = (coef["estimate"] - truth_values) / coef["se"]
    assert deviation.abs().max() < 3
    assert coef.loc["kkw_full_course", "hr_ci_high"] < 1
