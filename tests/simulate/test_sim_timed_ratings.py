"""Simulated CADSS and BPRS positive ratings around infusions (SafetyDesign.timed_ratings):
peak at the end of the infusion, larger on ketamine than on midazolam, smaller at later
infusions; valid, round-tripping, and changing nothing else in the trial."""

from __future__ import annotations

import dataclasses

import pytest

from ketex.derive.analysis import analysis_dataset
from ketex.derive.peri_infusion import peri_infusion_summary, timed_ratings
from ketex.io.folder import load_trial, write_trial
from ketex.io.sdtm import load_sdtm, write_sdtm
from ketex.simulate import ArmDesign, SafetyDesign, TrialDesign, simulate_trial

SERIES = (1, 3, 5, 8, 10, 12)
DESIGN = TrialDesign(
    study_id="TIMED",
    arms=(ArmDesign("KET", "Ketamine", SERIES),
          ArmDesign("MID", "Midazolam", SERIES, dose_mg_per_kg=0.045, drug="midazolam",
                    role="active_placebo")),
    n_per_arm=10,
    safety=SafetyDesign(timed_ratings=True),
)
SEED = 5


@pytest.fixture(scope="module")
def trial():
    return simulate_trial(DESIGN, seed=SEED)


@pytest.fixture(scope="module")
def ratings(trial):
    return timed_ratings(trial)


def test_off_by_default_and_nothing_else_changes(trial):
    assert not SafetyDesign().timed_ratings
    without = simulate_trial(dataclasses.replace(
        DESIGN, safety=dataclasses.replace(DESIGN.safety, timed_ratings=False)), seed=SEED)
    assert "time_min" not in without.assessments.columns
    untimed = trial.assessments[trial.assessments["time_min"].isna()]
    untimed = untimed.dropna(axis=1, how="all").reset_index(drop=True)
    assert without.differences(dataclasses.replace(trial, assessments=untimed)) == []


def test_loads_without_problems_one_rating_per_infusion_and_minute(trial, ratings):
    assert set(trial.report["rule"]) <= {"total_not_scorable"}  # no window warnings
    minutes = DESIGN.safety.rating_times_min
    assert len(ratings) == 2 * len(minutes) * len(trial.infusions)
    cadss = ratings[ratings["instrument"] == "CADSS"]["total"]
    bprs = ratings[ratings["instrument"] == "BPRS-POSITIVE"]["total"]
    assert cadss.between(0, 92).all() and bprs.between(4, 28).all()


def _mean(ratings, instrument, arm, **where):
    r = ratings[(ratings["instrument"] == instrument) & (ratings["arm"] == arm)]
    for column, value in where.items():
        r = r[r[column] == value]
    return r["total"].mean()


@pytest.mark.parametrize("instrument", ["CADSS", "BPRS-POSITIVE"])
def test_peak_at_40_minutes_back_to_baseline_later(ratings, instrument):
    at = {t: _mean(ratings, instrument, "KET", time_min=t, infusion_number=1)
          for t in (0.0, 40.0, 120.0, 240.0)}
    assert at[40.0] > at[0.0] and at[40.0] > at[240.0] and at[40.0] > at[120.0]
    rise = at[40.0] - at[0.0]
    assert abs(at[240.0] - at[0.0]) < 0.25 * rise


def test_first_ketamine_infusion_dissociates_as_in_the_literature(trial):
    summary = peri_infusion_summary(trial).set_index(["instrument", "infusion_number", "arm"])
    first = summary.loc[("CADSS", 1, "KET")]
    assert 10 <= first["peak_change_mean"] <= 20  # 10-20 CADSS points (Luckenbaugh 2014)


def test_ketamine_above_midazolam_and_first_above_last(trial):
    summary = peri_infusion_summary(trial).set_index(["instrument", "infusion_number", "arm"])
    for instrument in ("CADSS", "BPRS-POSITIVE"):
        assert (summary.loc[(instrument, 1, "KET"), "peak_mean"]
                > summary.loc[(instrument, 1, "MID"), "peak_mean"])
    ket = summary.xs(("CADSS", "KET"), level=("instrument", "arm"))
    assert ket.loc[1, "peak_change_mean"] > ket.loc[6, "peak_change_mean"]


def test_summary_rows(trial):
    summary = peri_infusion_summary(trial)
    assert len(summary) == 2 * len(SERIES) * 2  # instruments x infusion numbers x arms
    given = trial.infusions.assign(arm=trial.infusions["participant_id"].map(trial.arms))
    given["number"] = given.sort_values("day").groupby("participant_id").cumcount() + 1
    expected = given.groupby(["number", "arm"]).size()
    cadss = summary[summary["instrument"] == "CADSS"].set_index(["infusion_number", "arm"])
    for (number, arm), n in expected.items():
        assert cadss.loc[(number, arm), "n_participants"] == n
    assert (summary["N"] == DESIGN.n_per_arm).all()


def test_timed_ratings_stay_out_of_the_analysis_dataset(trial):
    ds = analysis_dataset(trial)
    assert len(ds) == len(analysis_dataset(dataclasses.replace(
        trial, assessments=trial.assessments[trial.assessments["time_min"].isna()])))


def test_round_trip_through_folder_and_sdtm(trial, tmp_path):
    assert load_trial(write_trial(trial, tmp_path / "folder")).differences(trial) == []
    assert load_sdtm(write_sdtm(trial, tmp_path / "sdtm")).differences(trial) == []
