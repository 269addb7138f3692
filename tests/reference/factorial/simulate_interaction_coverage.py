"""Recovery of the factorial interaction: 95% CI coverage over 200 simulated 2 x 2 trials.

Run from the repository root:
    python tests/reference/factorial/simulate_interaction_coverage.py
Writes ``interaction_coverage_trials.csv`` (one row per trial) and
``interaction_coverage.csv`` (the summary: coverage, its exact binomial 95% interval, the
range of coverage a correct 95% interval gives in 200 trials, the seed) beside this file.

Design: the bundled factorial sample's (``FACTORIAL_DESIGN`` of ``data/make_sample.py``:
ketamine vs midazolam x aerobic cycling vs stretching, 40 per cell, six infusions, an
added -2 MADRS on ketamine + aerobic exercise from day 28). Trial ``i`` is
``ketex.simulate.fast.simulate_changes(design, seed=SEED + i)`` (the analysed rows of
``simulate_trial(design, SEED + i)``) at the visits WEEK2 ... WEEK24, fitted as the sample
is analysed, ``CHG ~ BASE + DRUG * EXERCISE * AVISIT``, unstructured covariance, REML,
Satterthwaite df, and ``ketex.factorial_contrasts`` gives the interaction
``ketamine:aerobic - ketamine:stretching - midazolam:aerobic + midazolam:stretching`` at
the primary visit WEEK12 with its 95% CI.

Truth: the true interaction at WEEK12 is ``true_difference(KET_AEX, KET_STR) -
true_difference(MID_AEX, MID_STR)`` (``ketex.simulate.fast.true_difference``:
counterfactual twins, Monte Carlo SE below 0.005 each, seed ``TRUTH_SEED``), the
hypothetical estimand an MMRM estimates under missing at random.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))  # this checkout's ketex

import ketex  # noqa: E402
from ketex.simulate.fast import simulate_changes, true_difference  # noqa: E402

SEED = 20_260_400
TRUTH_SEED = 1
N_TRIALS = 200
LEVEL = 0.95
VISITS = ("WEEK2", "WEEK3", "WEEK4", "WEEK6", "WEEK8", "WEEK10", "WEEK12", "WEEK16", "WEEK24")
PRIMARY = "WEEK12"
FORMULA = "CHG ~ BASE + DRUG * EXERCISE * AVISIT"
TRIALS_CSV = HERE / "interaction_coverage_trials.csv"
SUMMARY_CSV = HERE / "interaction_coverage.csv"


def factorial_design():
    """``FACTORIAL_DESIGN`` of ``data/make_sample.py`` (the bundled factorial sample's)."""
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "data" / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FACTORIAL_DESIGN


def true_interaction(design) -> tuple[float, float]:
    """The true interaction contrast at the primary visit and its Monte Carlo SE."""
    aerobic_on_ketamine = true_difference(design, "KET_AEX", "KET_STR", PRIMARY, seed=TRUTH_SEED)
    aerobic_on_midazolam = true_difference(design, "MID_AEX", "MID_STR", PRIMARY,
                                           seed=TRUTH_SEED)
    estimate = aerobic_on_ketamine.estimate - aerobic_on_midazolam.estimate
    mcse = float(np.hypot(aerobic_on_ketamine.mcse, aerobic_on_midazolam.mcse))
    return float(estimate), mcse


def one_trial(design, index: int) -> dict:
    """Simulate and analyse trial ``index``; its interaction estimate and 95% CI."""
    seed = SEED + index
    rows = simulate_changes(design, seed=seed, visits=VISITS)
    factors = {arm.code: dict(arm.factors) for arm in design.arms}
    arm = rows["ARM"].astype(str)
    rows["DRUG"] = pd.Categorical(arm.map(lambda a: factors[a]["drug"]),
                                  categories=["midazolam", "ketamine"])
    rows["EXERCISE"] = pd.Categorical(arm.map(lambda a: factors[a]["exercise"]),
                                      categories=["stretching", "aerobic"])
    fit = ketex.mmrm(rows, FORMULA, subject="USUBJID", visit="AVISIT", covariance="us",
                     method="reml", df="satterthwaite")
    table = ketex.factorial_contrasts(fit, "DRUG", "EXERCISE", by="AVISIT",
                                      reference_a="midazolam", reference_b="stretching")
    row = table[(table["AVISIT"] == PRIMARY) & (table["effect"] == "interaction")].iloc[0]
    return {"trial": index, "seed": seed, "converged": bool(fit.converged),
            "n_obs": int(fit.n_obs), "estimate": float(row["estimate"]),
            "se": float(row["se"]), "df": float(row["df"]), "ci_low": float(row["ci_low"]),
            "ci_high": float(row["ci_high"])}


def trials(design, indices) -> pd.DataFrame:
    return pd.DataFrame([one_trial(design, i) for i in indices])


def binomial_bounds(n: int, p: float = LEVEL, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` range of the observed coverage of ``n`` trials at true ``p``.

    ``[lo, hi]`` with ``P(X < lo n) <= (1 - level) / 2`` and ``P(X > hi n) <= (1 - level) / 2``
    for ``X ~ Binomial(n, p)`` (n = 200, p = 0.95: 184 to 196 trials, 0.92 to 0.98).
    """
    tail = (1.0 - level) / 2.0
    low = stats.binom.ppf(tail, n, p)
    high = stats.binom.isf(tail, n, p)
    return float(low / n), float(high / n)


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    alpha = 1.0 - level
    low = stats.beta.ppf(alpha / 2, k, n - k + 1) if k > 0 else 0.0
    high = stats.beta.isf(alpha / 2, k + 1, n - k) if k < n else 1.0
    return float(low), float(high)


def summarise(table: pd.DataFrame, truth: float, mcse: float) -> pd.DataFrame:
    covered = (table["ci_low"] <= truth) & (truth <= table["ci_high"])
    k, n = int(covered.sum()), len(table)
    low, high = binomial_bounds(n)
    ci_low, ci_high = clopper_pearson(k, n)
    return pd.DataFrame([{
        "n_trials": n, "covered": k, "coverage": k / n,
        "coverage_ci_low": ci_low, "coverage_ci_high": ci_high,
        "expected_low": low, "expected_high": high, "nominal": LEVEL,
        "true_interaction": truth, "true_interaction_mcse": mcse,
        "mean_estimate": float(table["estimate"].mean()),
        "bias": float(table["estimate"].mean() - truth),
        "mean_se": float(table["se"].mean()), "sd_estimate": float(table["estimate"].std()),
        "all_converged": bool(table["converged"].all()), "seed": SEED,
        "truth_seed": TRUTH_SEED, "visit": PRIMARY,
    }])


def main() -> None:
    design = factorial_design()
    truth, mcse = true_interaction(design)
    table = trials(design, range(N_TRIALS))
    table["true_interaction"] = truth
    table["covered"] = (table["ci_low"] <= truth) & (truth <= table["ci_high"])
    table.to_csv(TRIALS_CSV, index=False, float_format="%.12g", lineterminator="\n")
    summary = summarise(table, truth, mcse)
    summary.to_csv(SUMMARY_CSV, index=False, float_format="%.12g", lineterminator="\n")
    print(summary.T.to_string())


if __name__ == "__main__":
    main()
