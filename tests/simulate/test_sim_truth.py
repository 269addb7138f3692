"""The simulated data agree with the design and with the recorded truth.

Every expectation is worked out from the design's parameters (formulas in each test),
with a tolerance of four standard errors unless stated: a correct simulator fails such a
test about once in 16,000 runs, and the seeds are fixed, so the tests are deterministic.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy.stats import norm

from ketex.simulate import (
    BaselineDesign,
    CourseDesign,
    DropoutDesign,
    ExerciseDesign,
    HospitalisationDesign,
    KetamineDesign,
    RelapseDesign,
    TrialDesign,
    simulate_trial,
)

SAMPLE = TrialDesign()
NO_DROPOUT = DropoutDesign(mcar_probability=0.0, mar_probability=0.0, mnar_probability=0.0)
NO_BLANKS = dataclasses.replace(SAMPLE.measurement, missing_item_probability=0.0)
Z = 4.0  # tolerance in standard errors


def replace(design, **parts):
    return dataclasses.replace(design, **parts)


def madrs_with_truth(trial):
    """Observed MADRS rows with the true score on the same day and the arm."""
    a = trial.assessments
    madrs = a[a["instrument"] == "MADRS"][["participant_id", "day", "visit", "total"]]
    truth = trial.truth.set_index("participant_id")
    true_columns = {f"true_madrs_{v}": v for v in trial.protocol.visit_names}
    long = (truth[list(true_columns)].rename(columns=true_columns)
            .stack().rename("true").reset_index().rename(columns={"level_1": "visit"}))
    out = madrs.merge(long, on=["participant_id", "visit"], how="left")
    out["arm"] = out["participant_id"].map(truth["arm"])
    out["residual"] = out["total"] - out["true"]
    return out


@pytest.fixture(scope="module")
def big():
    """600 participants of the sample design, nobody drops out, no blank items."""
    return simulate_trial(replace(SAMPLE, n_per_arm=300, dropout=NO_DROPOUT,
                                  measurement=NO_BLANKS), seed=101)


def test_observed_totals_equal_true_scores_up_to_the_stated_noise(big):
    sigma = SAMPLE.measurement.residual_sd_madrs
    rho = SAMPLE.measurement.residual_ar1_per_week
    rows = madrs_with_truth(big)
    # baseline ratings were selected on eligibility; scores near 0 or 60 are clipped
    rows = rows[(rows["visit"] != "BASELINE") & rows["true"].between(3 * sigma, 60 - 3 * sigma)]
    n = len(rows)
    # residual = AR(1) noise (corr rho ** (gap / 7)) + rounding to whole points (var 1/12)
    sum_corr = sum_corr_sq = 0.0
    for _, days in rows.groupby("participant_id")["day"]:
        gaps = np.abs(days.to_numpy()[:, None] - days.to_numpy()[None, :])
        corr = rho ** (gaps / 7.0)
        sum_corr += corr.sum()
        sum_corr_sq += (corr**2).sum()
    variance = sigma**2 + 1 / 12
    se_mean = np.sqrt(sigma**2 * sum_corr + n / 12) / n
    assert abs(rows["residual"].mean()) < Z * se_mean
    # variance of the residuals: SE of a sample variance of correlated normals
    se_var = np.sqrt(2 * sigma**4 * sum_corr_sq) / n
    assert abs(rows["residual"].var() - variance) < Z * se_var + 0.05  # + rounding's shape


def test_residuals_are_ar1_across_visits(big):
    sigma = SAMPLE.measurement.residual_sd_madrs
    rho = SAMPLE.measurement.residual_ar1_per_week
    rows = madrs_with_truth(big).set_index(["participant_id", "visit"])
    wide = rows["residual"].unstack()
    days = rows["day"].unstack()
    pair = wide[["WEEK10", "WEEK12"]].dropna()
    gap = (days.loc[pair.index, "WEEK12"] - days.loc[pair.index, "WEEK10"]).astype(float)
    expected = np.mean(rho ** (gap / 7.0)) * sigma**2 / (sigma**2 + 1 / 12)
    r = np.corrcoef(pair["WEEK10"], pair["WEEK12"])[0, 1]
    assert abs(r - expected) < Z * (1 - expected**2) / np.sqrt(len(pair))


def test_baseline_madrs_distribution(big):
    base = SAMPLE.baseline
    sigma = SAMPLE.measurement.residual_sd_madrs
    rows = madrs_with_truth(big)
    observed = rows.loc[rows["visit"] == "BASELINE", "total"]
    assert observed.min() >= base.eligibility_min_madrs
    # observed = latent + noise ~ N(32, sqrt(4^2 + 3^2)), kept when it rounds to >= 22
    sd = np.hypot(base.sd_madrs, sigma)
    alpha = (base.eligibility_min_madrs - 0.5 - base.mean_madrs) / sd
    expected = base.mean_madrs + sd * norm.pdf(alpha) / norm.sf(alpha)
    assert abs(observed.mean() - expected) < Z * sd / np.sqrt(len(observed))
    assert abs(big.truth["baseline_madrs"].std() - base.sd_madrs) < 0.5


def test_adherence_and_completed_sessions_match_the_design(big):
    ex = SAMPLE.exercise
    a, b = ex.adherence_alpha, ex.adherence_beta
    mean = a / (a + b)
    var_adherence = a * b / ((a + b) ** 2 * (a + b + 1))
    within = a * b / ((a + b) * (a + b + 1))  # E[p(1-p)] under Beta(a, b)
    prescribed = len(ex.session_days)
    attended = big.exercise.groupby("participant_id").size().reindex(
        big.participants["participant_id"], fill_value=0) / prescribed
    n = len(attended)
    assert abs(attended.mean() - mean) < Z * np.sqrt((var_adherence + within / prescribed) / n)
    completed = big.exercise["completed"].mean()
    p = ex.completion_probability
    assert abs(completed - p) < Z * np.sqrt(p * (1 - p) / len(big.exercise))
    # some sessions are missed by most participants
    assert (attended < 1).mean() > 0.9


def test_relapse_times_follow_the_exercise_dependent_hazard(big):
    """P(relapse within k days of response) = 1 - exp(-rate_i k).

    rate_i = log 2 / median x HR^KKW_i (geometric in whole days: P(ceil(T) <= k) = P(T <= k)).
    """
    relapse = SAMPLE.relapse
    truth = big.truth[big.truth["response_day"].notna()]
    assert len(truth) > 200
    rate = np.log(2) / relapse.median_days * relapse.hazard_ratio_per_kkw ** truth[
        "kkw_full_course"]
    followed = 175 - truth["response_day"]  # the grid ends with the last visit window
    waited = truth["relapse_day"] - truth["response_day"]
    for k in (7, 21, 42):
        within = np.minimum(k, followed)
        p = 1 - np.exp(-rate * within)
        observed = (waited <= within).sum()
        assert abs(observed - p.sum()) < Z * np.sqrt((p * (1 - p)).sum()), k
    # and exercise matters: high exercisers relapse later
    high = truth["kkw_full_course"] > truth["kkw_full_course"].median()
    assert waited[high].median() > waited[~high].median()


def test_true_response_and_remission_at_the_primary_visit(big):
    truth = big.truth
    week12 = truth["true_madrs_WEEK12"]
    assert (truth["true_response"] == (week12 <= 0.5 * truth["baseline_madrs"])).all()
    assert (truth["true_remission"] == (week12 <= 10)).all()
    assert 0.05 < truth["true_response"].mean() < 0.6  # plausible for the field


@pytest.fixture(scope="module")
def clean():
    """Only ketamine acts: no nonspecific, site or exercise effect, no relapse, no dropout."""
    design = replace(
        SAMPLE,
        n_per_arm=300,
        baseline=BaselineDesign(mean_madrs=40.0, sd_madrs=4.0, eligibility_min_madrs=0.0),
        course=CourseDesign(nonspecific_improvement_madrs=0.0, site_sd_madrs=0.0),
        ketamine=KetamineDesign(acute_effect_madrs=8.0, half_life_days=4.0,
                                max_total_effect_madrs=100.0),
        exercise=ExerciseDesign(half_life_days_per_kkw=0.0, effect_madrs_per_kkw=0.0),
        relapse=RelapseDesign(median_days=1e9),
        dropout=NO_DROPOUT,
        measurement=NO_BLANKS,
    )
    return design, simulate_trial(design, seed=202)


@pytest.mark.parametrize("visit", ["INF1_24H", "INF2_24H", "INF3_24H", "INF6_24H"])
def test_acute_effect_and_accumulation_recovered_from_24h_visits(clean, visit):
    """Change from baseline at the 24 h visits is -A x sum of 2^(-(t - d - 1) / h)."""
    design, trial = clean
    k = design.ketamine
    sigma = design.measurement.residual_sd_madrs
    rho = design.measurement.residual_ar1_per_week
    rows = madrs_with_truth(trial).set_index(["participant_id", "visit"])
    wide = rows["total"].unstack()
    days = rows["day"].unstack().astype(float)
    change = (wide[visit] - wide["BASELINE"]).dropna()
    day = trial.protocol.visit(visit).day
    doses = [d for d in (1, 3, 5, 8, 10, 12) if d < day]
    expected = -k.acute_effect_madrs * sum(2.0 ** (-(day - d - 1) / k.half_life_days)
                                           for d in doses)
    # change = intercept + (e_visit - e_baseline) - effect; var from the design
    gap = day - days.loc[change.index, "BASELINE"]
    var = (design.course.intercept_sd_madrs**2
           + 2 * sigma**2 * (1 - rho ** (gap / 7.0)) + 2 / 12)
    se = np.sqrt(var.sum()) / len(change)
    assert abs(change.mean() - expected) < Z * se, (change.mean(), expected, se)


def test_ketamine_cap_limits_the_summed_effect():
    design = replace(
        SAMPLE,
        n_per_arm=150,
        baseline=BaselineDesign(mean_madrs=40.0, sd_madrs=4.0, eligibility_min_madrs=0.0),
        course=CourseDesign(nonspecific_improvement_madrs=0.0, site_sd_madrs=0.0),
        ketamine=KetamineDesign(acute_effect_madrs=14.0, half_life_days=4.0,
                                max_total_effect_madrs=20.0),
        exercise=ExerciseDesign(half_life_days_per_kkw=0.0, effect_madrs_per_kkw=0.0),
        relapse=RelapseDesign(median_days=1e9),
        dropout=NO_DROPOUT,
    )
    truth = simulate_trial(design, seed=303).truth
    series = truth[truth["arm"] == "SERIES"]
    untreated = series["untreated_madrs"]
    # uncapped, infusions 1-2 would give 14 x (1 + 2^(-1/2)) = 23.9 points; capped at 20
    assert np.allclose(series["true_madrs_INF2_24H"], untreated - 20.0)
    assert np.allclose(series["true_madrs_INF1_24H"], untreated - 14.0)


def test_dropout_probabilities_are_calibrated():
    """MCAR, MAR and MNAR with zero slope: P(dropout by the last visit) = 1 - 0.9^3."""
    design = replace(
        SAMPLE,
        n_per_arm=400,
        dropout=DropoutDesign(mcar_probability=0.1, mar_probability=0.1,
                              mnar_probability=0.1, log_hazard_per_madrs=0.0),
        measurement=dataclasses.replace(SAMPLE.measurement, visit_jitter_sd_days=0.0),
    )
    truth = simulate_trial(design, seed=404).truth
    n = len(truth)
    for by_day, expected in ((168, 1 - 0.9**3), (84, 1 - 0.9 ** (3 * 84 / 168))):
        share = (truth["dropout_day"] <= by_day).mean()
        assert abs(share - expected) < Z * np.sqrt(expected * (1 - expected) / n), by_day


def test_mar_dropout_slope_is_recovered_from_the_observed_data():
    """Poisson fit of daily dropout on the last observed MADRS recovers the design's slope."""
    slope = 0.15
    design = replace(
        SAMPLE,
        n_per_arm=300,
        dropout=DropoutDesign(mcar_probability=0.0, mar_probability=0.3,
                              log_hazard_per_madrs=slope),
        measurement=NO_BLANKS,
    )
    trial = simulate_trial(design, seed=505)
    a = trial.assessments
    madrs = a[a["instrument"] == "MADRS"].sort_values(["participant_id", "day"])
    stop = trial.events[trial.events["event"] == "discontinuation"].set_index(
        "participant_id")["day"]
    covariate, exposure_rows, events = [], [], []
    for pid, rows in madrs.groupby("participant_id"):
        days = rows["day"].to_numpy(dtype=float)
        totals = rows["total"].to_numpy()
        end = float(stop[pid]) if pid in stop.index else days[-1]
        at_risk = np.arange(1, end + 1)
        last = totals[np.searchsorted(days, at_risk, side="left") - 1]  # last visit before
        covariate.append(last)
        events.append(np.where(at_risk == end, float(pid in stop.index), 0.0))
        exposure_rows.append(at_risk)
    x = np.concatenate(covariate)
    event = np.concatenate(events)

    def negative_profile_loglik(gamma):
        baseline_rate = event.sum() / np.exp(gamma * x).sum()
        return -(np.sum(event * (np.log(baseline_rate) + gamma * x))
                 - baseline_rate * np.exp(gamma * x).sum())

    fit = optimize.minimize_scalar(negative_profile_loglik, bounds=(-1, 1), method="bounded")
    gamma = fit.x
    weights = np.exp(gamma * x)
    rate = event.sum() / weights.sum()
    mean_x = (weights * x).sum() / weights.sum()
    information = rate * (weights * (x - mean_x) ** 2).sum()
    assert event.sum() > 50
    assert abs(gamma - slope) < Z / np.sqrt(information), (gamma, 1 / np.sqrt(information))


def test_hospitalisation_rate_is_calibrated_and_rises_with_the_score():
    jitter_free = dataclasses.replace(SAMPLE.measurement, visit_jitter_sd_days=0.0)
    flat = replace(SAMPLE, n_per_arm=400, dropout=NO_DROPOUT, measurement=jitter_free,
                   hospitalisation=HospitalisationDesign(rate_per_year_at_reference=1.0,
                                                         log_hazard_per_madrs=0.0))
    truth = simulate_trial(flat, seed=606).truth
    expected = 1 - np.exp(-168 / 365.25)  # at risk from day 1 to the last visit, day 168
    share = truth["hospitalisation_day"].notna().mean()
    assert abs(share - expected) < Z * np.sqrt(expected * (1 - expected) / len(truth))

    steep = replace(flat, hospitalisation=HospitalisationDesign(rate_per_year_at_reference=1.0,
                                                                log_hazard_per_madrs=0.15))
    truth = simulate_trial(steep, seed=607).truth
    scores = truth.filter(like="true_madrs_WEEK").mean(axis=1)
    admitted = truth["hospitalisation_day"].notna()
    # with no slope the difference is 0 +- 0.6; exponential tilting by 0.15 makes it ~5
    assert scores[admitted].mean() - scores[~admitted].mean() > 2.5


def test_observed_events_match_truth_in_the_sample_design():
    trial = simulate_trial(seed=7)
    truth = trial.truth.set_index("participant_id")
    events = trial.events
    admitted = events[events["event"] == "hospitalisation"].set_index("participant_id")["day"]
    assert admitted.astype(float).sort_index().equals(
        truth["hospitalisation_day"].dropna().sort_index())
    assert pd.Series(truth.index).is_unique
