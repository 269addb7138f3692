"""ketex.power: type I error, power against an analytic approximation, bias and coverage,
the summary's arithmetic, failures, arguments and the figure.

The two statistical tests run a few hundred simulated trials each (about 10-15 s on a
2-core machine); every statistical check is made at level 0.001, so an honest
implementation fails one by chance less than once in a few hundred runs. The heavier
check, 2,000 trials under the null at 50 per arm, is in benchmarks/bench_power.py and
its figures in docs/benchmarks.md.
"""

import dataclasses

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ketex.simulate import (
    AddedEffectDesign,
    ArmDesign,
    DropoutDesign,
    EndpointDesign,
    KetamineDesign,
    MeasurementDesign,
    TrialDesign,
)
from ketex.simulate.analyses import MMRMAnalysis, RelapseAnalysis
from ketex.simulate.power import (
    PowerResult,
    _summarise,
    null_design,
    power,
    simulation_seed,
    wilson_interval,
)
from ketex.study.protocol import Visit

matplotlib.use("Agg")

LEVEL = 0.001  # of every statistical check below
FOUR_VISITS = MMRMAnalysis(visits=("WEEK2", "WEEK4", "WEEK8", "WEEK12"))


def _inside(successes: int, trials: int, share: float) -> bool:
    """Is ``share`` inside the Wilson interval of level 1 - LEVEL?"""
    low, high = wilson_interval(successes, trials, 1 - LEVEL)
    return low <= share <= high


def test_type_one_error_of_the_primary_mmrm_is_nominal_under_the_null_design():
    """300 trials of the sample design made null (both arms one infusion), with its
    MCAR and MAR dropout (about 15 %) and prorated or missing totals, 20 per arm.

    At 300 trials the Monte Carlo SE of a 5 % rate is 1.3 points: the test catches a
    type I error above about 10 %, SEs off by more than 15 % and p-values that are not
    uniform, not the small excess of a normal instead of a t reference distribution.
    """
    design = null_design(TrialDesign())
    result = power(design, n_per_arm=20, n_sims=300, analysis=FOUR_VISITS, seed=20240,
                   null=False, backend="serial", progress=False)
    row = result.summary.iloc[0]
    sims = result.simulations[result.simulations["error"] == ""]
    assert row["n_failed"] == 0 and row["n_sims"] == 300
    assert row["true_effect"] == 0.0  # twins on each arm of a null design never differ
    rejected = int((sims["p_value"] < 0.05).sum())
    assert stats.binomtest(rejected, 300, 0.05).pvalue > LEVEL, rejected
    assert stats.kstest(sims["p_value"], "uniform").pvalue > LEVEL
    assert 0.85 < row["empirical_se"] / row["mean_se"] < 1.15
    assert _inside(round(row["coverage"] * 300), 300, 0.95)
    assert sims["warning"].eq("").all()


def _plain_design(effect: float) -> TrialDesign:
    """Arms that differ only by an added effect, no dropout, no blank items, one site,
    no ketamine or exercise effect, visits at weeks 4, 8, 12."""
    base = TrialDesign()
    visits = (Visit("BASELINE", 0, (-7, 0), ("MADRS",)), Visit("WEEK4", 28, (25, 31), ("MADRS",)),
              Visit("WEEK8", 56, (53, 59), ("MADRS",)), Visit("WEEK12", 84, (81, 87), ("MADRS",)))
    return dataclasses.replace(
        base, n_sites=1, arms=(ArmDesign("CONTROL"), ArmDesign("ACTIVE")),
        ketamine=KetamineDesign(acute_effect_madrs=0.0),
        exercise=dataclasses.replace(base.exercise, effect_madrs_per_kkw=0.0),
        course=dataclasses.replace(base.course, site_sd_madrs=0.0),
        dropout=DropoutDesign(mcar_probability=0.0, mar_probability=0.0),
        measurement=MeasurementDesign(visits=visits, post_infusion_visits=False,
                                      missing_item_probability=0.0),
        endpoints=EndpointDesign(sustained_through_visit=""),
        added_effects=(AddedEffectDesign("ACTIVE", effect),),
    )


def _analytic_power(design: TrialDesign, effect: float, n: int, alpha: float = 0.05) -> float:
    """Two-sample t test on the change at week 12 adjusted for baseline (ANCOVA).

    With complete data and an unstructured covariance the MMRM's week-12 difference is
    the ANCOVA estimate. Change = u + e12 - e0 - nonspecific + effect (the latent
    baseline cancels); baseline = b + e0. Rounding to whole points adds 1/12 to e12 and
    e0; e0 and e12 are 12 weeks apart (AR(1) correlation 0.5^12, ignored). The
    residual variance of change given baseline is then
    var(u) + var(e12) + var(e0) - var(e0)^2 / (var(b) + var(e0)).
    """
    u = design.course.intercept_sd_madrs**2
    e = design.measurement.residual_sd_madrs**2 + 1 / 12
    b = design.baseline.sd_madrs**2
    sigma = np.sqrt(u + e + e - e**2 / (b + e))
    df = 2 * n - 3
    ncp = abs(effect) / (sigma * np.sqrt(2 / n))
    critical = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(critical, df, ncp) + stats.nct.cdf(-critical, df, ncp))


def test_power_at_a_known_effect_matches_the_analytic_approximation():
    """300 trials at 25 per arm and a 4-point difference: analytic power 0.59, Monte
    Carlo SE 0.028. Tolerance: 3.3 Monte Carlo SEs (level 0.001) plus 0.01 for the
    approximation (Satterthwaite df and REML variance vs the ANCOVA's). A 15 % error in
    the standard errors moves power by 0.1 and fails; a wrong sign fails the bias check.
    """
    effect, n, sims = -4.0, 25, 300
    design = _plain_design(effect)
    result = power(design, n_per_arm=n, n_sims=sims, seed=7, null=False,
                   backend="serial", progress=False)
    row = result.summary.iloc[0]
    expected = _analytic_power(design, effect, n)
    assert 0.55 < expected < 0.65
    monte_carlo_se = np.sqrt(expected * (1 - expected) / sims)
    assert abs(row["rejection_rate"] - expected) < 3.3 * monte_carlo_se + 0.01
    # the truth from twins: -4 except where the 0-60 clip bites, very rarely
    assert row["true_effect"] == pytest.approx(effect, abs=0.01)
    assert abs(row["bias"]) < 3.3 * row["bias_mcse"]
    assert _inside(round(row["coverage"] * sims), sims, 0.95)


def test_relapse_analysis_runs_on_simulated_trials():
    analysis = RelapseAnalysis(test="cox")
    result = power(dataclasses.replace(TrialDesign(), n_per_arm=25), n_per_arm=25, n_sims=2,
                   analysis=analysis, seed=3, null=False, backend="serial", progress=False)
    sims = result.simulations
    assert list(sims.columns[9:11]) == ["events", "participants"]
    assert (sims["events"] > 0).all() and (sims["participants"] <= 50).all()
    assert sims["p_value"].between(0, 1).all()
    z = stats.norm.ppf(0.975)
    assert np.allclose(sims["ci_high"] - sims["estimate"], z * sims["se"])
    row = result.summary.iloc[0]
    assert np.isnan(row["true_effect"]) and np.isnan(row["coverage"])  # no known truth


def test_summary_arithmetic_on_known_simulations():
    sims = pd.DataFrame({
        "scenario": ["design"] * 5 + ["null"] * 4,
        "n_per_arm": [30] * 9,
        "sim": [0, 1, 2, 3, 4, 0, 1, 2, 3],
        "seed": range(9),
        "estimate": [-3.0, -1.0, -2.0, np.nan, -4.0, 0.5, -0.5, 1.0, 0.0],
        "se": [1.0, 1.0, 1.0, np.nan, 1.0, 1.0, 1.0, 1.0, 1.0],
        "p_value": [0.01, 0.3, 0.04, np.nan, 0.001, 0.6, 0.6, 0.3, 1.0],
        "ci_low": [-5.0, -3.0, -4.0, np.nan, -6.0, np.nan, np.nan, np.nan, np.nan],
        "ci_high": [-1.0, 1.0, -0.5, np.nan, -2.5, np.nan, np.nan, np.nan, np.nan],
        "error": ["", "", "", "ConvergenceError: no", "", "", "", "", ""],
        "warning": [""] * 9,
    })
    summary = _summarise(sims, {"design": (-2.0, 0.01), "null": (0.0, 0.0)}, 0.05, 0.95)
    design, null = summary.iloc[0], summary.iloc[1]
    assert (design["n_sims"], design["n_failed"], design["n_estimated"]) == (4, 1, 4)
    assert design["rejection_rate"] == 0.75  # 0.01, 0.04, 0.001 < 0.05
    assert (design["rejection_ci_low"], design["rejection_ci_high"]) == wilson_interval(3, 4)
    assert design["mean_estimate"] == -2.5 and design["bias"] == -0.5
    assert design["empirical_se"] == pytest.approx(np.std([-3, -1, -2, -4], ddof=1))
    assert design["bias_mcse"] == pytest.approx(design["empirical_se"] / 2)
    assert design["coverage"] == 0.75  # -2 is outside [-6, -2.5] only
    assert design["true_effect_mcse"] == 0.01
    # no interval given: estimate +- 1.96 se, and all four contain 0
    assert null["coverage"] == 1.0 and null["rejection_rate"] == 0.0


def test_summary_counts_a_test_without_an_estimate():
    # a log-rank test with no relapse in one arm: a p-value, no finite hazard ratio
    sims = pd.DataFrame({
        "scenario": ["null"] * 3, "n_per_arm": [20] * 3, "sim": [0, 1, 2], "seed": [0, 1, 2],
        "estimate": [0.2, np.nan, -0.1], "se": [0.5, np.nan, 0.4],
        "p_value": [0.7, 0.01, 0.8], "ci_low": [-0.8, np.nan, -0.9],
        "ci_high": [1.2, np.nan, 0.7], "error": [""] * 3, "warning": [""] * 3})
    row = _summarise(sims, {"null": (0.0, 0.0)}, 0.05, 0.95).iloc[0]
    assert (row["n_sims"], row["n_estimated"]) == (3, 2)
    assert row["rejection_rate"] == pytest.approx(1 / 3)
    assert row["mean_estimate"] == pytest.approx(0.05) and row["coverage"] == 1.0


def test_failed_analyses_are_counted_and_other_errors_stop_the_run():
    design = dataclasses.replace(TrialDesign(), n_per_arm=4)
    result = power(design, n_per_arm=4, n_sims=6, analysis=_fails_when_first_is_single,
                   seed=5, null=False, backend="serial", progress=False)
    sims = result.simulations
    failed = sims["error"] != ""
    assert 0 < failed.sum() < 6
    assert sims.loc[failed, "error"].str.startswith("ValueError: P001 is in SINGLE").all()
    assert result.summary.loc[0, "n_failed"] == failed.sum()
    assert result.summary.loc[0, "n_sims"] == 6 - failed.sum()
    assert np.isnan(result.summary.loc[0, "true_effect"])  # a callable has no truth
    with pytest.raises(TypeError, match="must return a mapping"):
        power(design, n_per_arm=4, n_sims=1, analysis=lambda trial: 1.0, null=False,
              backend="serial", progress=False)


def _fails_when_first_is_single(trial):
    if trial.participants["arm"].iloc[0] == "SINGLE":
        raise ValueError("P001 is in SINGLE")
    return {"estimate": 1.0, "se": 0.5, "p_value": 0.04}


def test_seeds_depend_on_the_size_and_number_only():
    result = power(dataclasses.replace(TrialDesign(), n_per_arm=4), n_per_arm=[5, 4],
                   n_sims=2, analysis=_fails_when_first_is_single, seed=11,
                   backend="serial", progress=False)
    sims = result.simulations
    assert sims[["scenario", "n_per_arm", "sim"]].values.tolist() == [
        ["design", 4, 0], ["design", 4, 1], ["design", 5, 0], ["design", 5, 1],
        ["null", 4, 0], ["null", 4, 1], ["null", 5, 0], ["null", 5, 1]]
    expected = [simulation_seed(11, n, k) for n, k in zip(sims["n_per_arm"], sims["sim"],
                                                          strict=True)]
    assert sims["seed"].tolist() == expected
    assert len(set(expected)) == 4  # design and null share seeds


def test_power_checks_its_arguments():
    design = TrialDesign()
    with pytest.raises(ValueError) as error:
        power(design, n_per_arm=[0, 20], n_sims=0, alpha=5, backend="gpu", seed=-1)
    message = str(error.value)
    for part in ("n_per_arm must be a positive whole number", "n_sims must be",
                 "alpha must lie in (0, 1)", "backend must be one of processes, serial, dask",
                 "seed must be a non-negative"):
        assert part in message
    with pytest.raises(ValueError, match="design must be a TrialDesign"):
        power("design.toml", n_per_arm=20)
    three = dataclasses.replace(design, arms=(*design.arms, ArmDesign("THIRD")))
    with pytest.raises(ValueError, match="name the two to compare with treatment="):
        power(three, n_per_arm=20)


def test_power_curve_figure():
    summary = pd.DataFrame({
        "scenario": ["design", "design", "null", "null"], "n_per_arm": [30, 50, 30, 50],
        "rejection_rate": [0.5, 0.8, 0.06, 0.04], "rejection_ci_low": [0.45, 0.75, 0.04, 0.03],
        "rejection_ci_high": [0.55, 0.85, 0.08, 0.06]})
    result = PowerResult(summary, pd.DataFrame(), 0.05, 0.95, "example")
    ax = result.plot(label="MMRM")
    assert ax.get_ylim() == (0, 1)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "MMRM", "type I error (MMRM)"]
    lines = [line.get_ydata() for line in ax.get_lines()]
    assert any(np.array_equal(y, [0.5, 0.8]) for y in lines)
    assert any(np.array_equal(y, [0.8, 0.8]) for y in lines)  # the target
    assert result.plot(ax=ax, show_null=False, target=None) is ax


def test_power_curve_with_no_rejection_at_all():
    # the Wilson limit at 0 rejections is 0 up to rounding: error bars must not go negative
    low, high = wilson_interval(0, 100)
    summary = pd.DataFrame({"scenario": ["design", "null"], "n_per_arm": [30, 30],
                            "rejection_rate": [0.0, 0.0], "rejection_ci_low": [low, low],
                            "rejection_ci_high": [high, high]})
    ax = PowerResult(summary, pd.DataFrame(), 0.05, 0.95, "example").plot()
    assert low == 0.0 and len(ax.get_lines()) >= 2
