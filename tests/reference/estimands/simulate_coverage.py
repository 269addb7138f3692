"""Type I error and coverage of ketex's random reference-based MI methods, by simulation.

Run from the repository root (about 20 minutes on 2 busy cores)::

    python tests/reference/estimands/simulate_coverage.py            # writes the CSVs
    python tests/reference/estimands/simulate_coverage.py --trials 40 --out /tmp  # smaller

Each simulated trial has known truth (the generator below). Every trial is analysed by
``ketex.reference_based_mi`` with approximate Bayesian MI (``approx_bayes``, Rubin's rules,
Barnard-Rubin df) and with conditional mean imputation + bootstrap
(``condmean_bootstrap``, percentile and normal intervals from the same replicates), each
under MAR and under jump to reference (JR; the same fit, re-imputed with ``with_ice``:
dropout is monotone, so no observed outcome follows an ICE and the imputation model is the
same). Recorded at the last visit: rejection of "no difference" at the two-sided 5 %
level and whether the 95 % interval covers the true estimand of the strategy, with exact
(Clopper-Pearson) binomial 95 % bounds.

Generator (two arms, 4 visits after baseline, MMRM-shaped):

- ``base ~ N(20, 4^2)``; ``y_ij = mu_pbo_j + effect * f_j * [arm = ACT] + 0.4 (base - 20)
  + e_ij``, ``mu_pbo = (-2, -4, -5.5, -6.5)``, ``f = (0.25, 0.5, 0.75, 1)``, ``e_i ~
  N(0, Sigma)`` with SDs ``(4, 4.5, 5, 5.5)`` and correlations ``0.7^|j-k|``;
- monotone dropout, MAR: after each visit ``j = 1, 2, 3`` a participant still in the
  trial leaves with probability ``logistic(-2.6 + 0.15 (y_ij - mu_pbo_j))`` (depends only
  on the observed outcome); the first unobserved visit is the ICE. About 20 % of the
  placebo arm have dropped out by the last visit.

True estimands at the last visit (difference ACT - PBO):

- MAR (hypothetical: had everyone stayed on their arm): ``effect`` (the generator's
  complete data have this mean difference; dropout is MAR given the observed outcomes).
- JR: ``(1 - pi) * effect``, ``pi`` the probability that an ACT participant has dropped
  out by the last visit. Why: with one covariance matrix ``Sigma`` for both arms, JR
  imputes an ACT dropout's last visit by ``mu_pbo_T + Sigma_To Sigma_oo^-1 (y_o - mu_act_o)``
  while MAR imputes ``mu_act_T + Sigma_To Sigma_oo^-1 (y_o - mu_act_o)``: they differ by
  ``-(mu_act_T - mu_pbo_T) = -effect`` whatever ``y_o``, and MAR's imputations average to
  the ACT mean. Placebo participants are their own reference (JR = MAR). So the ACT mean
  moves by ``-pi * effect``. ``pi`` is computed from the generator by Monte Carlo with
  ``PI_PARTICIPANTS`` (2 million) simulated ACT participants (its MC SE, about 3e-4,
  moves the estimand by about 1e-3: negligible). The ANCOVA's arm coefficient (with
  ``base`` as covariate) estimates this difference of means because ``base`` is
  randomised (it has the same distribution in both arms).

Outputs (in ``--out``, default beside this script): ``coverage_trials.csv`` (one row per
trial, effect, method and strategy) and ``coverage_summary.csv`` (:data:`SUMMARY_COLUMNS`).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VISITS = ("W1", "W2", "W3", "W4")
PBO_MEAN = np.array([-2.0, -4.0, -5.5, -6.5])
EFFECT_SHAPE = np.array([0.25, 0.5, 0.75, 1.0])
SD = np.array([4.0, 4.5, 5.0, 5.5])
CORRELATION = 0.7
BASE_SLOPE = 0.4
DROPOUT = (-2.6, 0.15)  # logistic intercept and slope on y - mu_pbo
PI_PARTICIPANTS = 2_000_000
FORMULA = "y ~ base * visit + arm * visit"
REFERENCES = {"ACT": "PBO", "PBO": "PBO"}
STRATEGIES = ("MAR", "JR")
METHODS = ("approx_bayes", "condmean_bootstrap_percentile", "condmean_bootstrap_normal")
TRIAL_COLUMNS = ("effect", "trial", "method", "strategy", "estimand", "estimate", "se",
                 "ci_low", "ci_high", "p_value", "reject", "covered", "dropout_act",
                 "dropout_pbo")
SUMMARY_COLUMNS = ("effect", "method", "strategy", "estimand", "n_trials", "n_failed",
                   "n_per_arm", "n_samples", "rejection_rate", "rejection_low",
                   "rejection_high", "coverage", "coverage_low", "coverage_high",
                   "mean_estimate", "bias", "sd_estimate", "mean_se")


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one run simulates (the committed CSVs: the defaults)."""

    trials: int = 200
    n_per_arm: int = 80
    n_bayes: int = 20  # approx_bayes imputations
    n_boot: int = 50  # bootstrap replicates
    effects: tuple[float, ...] = (0.0, -3.0)
    seed: int = 12
    alpha: float = 0.05


def _covariance() -> np.ndarray:
    lag = np.abs(np.subtract.outer(np.arange(4), np.arange(4)))
    return np.outer(SD, SD) * CORRELATION**lag


def complete_outcomes(n: int, act: np.ndarray, effect: float, rng: np.random.Generator):
    """Baseline and the complete outcomes (n, 4) of ``n`` participants."""
    base = rng.normal(20.0, 4.0, n)
    mean = PBO_MEAN + effect * np.outer(act, EFFECT_SHAPE) + BASE_SLOPE * (base - 20.0)[:, None]
    errors = rng.standard_normal((n, 4)) @ np.linalg.cholesky(_covariance()).T
    return base, mean + errors


def dropout_visit(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Index of the first unobserved visit (4: completed), monotone MAR dropout."""
    first = np.full(y.shape[0], 4)
    for j in range(3):
        still = first == 4
        hazard = 1.0 / (1.0 + np.exp(-(DROPOUT[0] + DROPOUT[1] * (y[:, j] - PBO_MEAN[j]))))
        leaves = still & (rng.random(y.shape[0]) < hazard)
        first[leaves] = j + 1
    return first


def simulate_trial(n_per_arm: int, effect: float, rng: np.random.Generator):
    """Long data (``id, arm, visit, base, y``; missing after dropout) and the ICE table."""
    n = 2 * n_per_arm
    act = np.repeat([0, 1], n_per_arm)
    base, y = complete_outcomes(n, act, effect, rng)
    first = dropout_visit(y, rng)
    y = np.where(np.arange(4)[None, :] >= first[:, None], np.nan, y)
    ids = np.array([f"S{i:03d}" for i in range(n)])
    data = pd.DataFrame({
        "id": np.repeat(ids, 4),
        "arm": pd.Categorical(np.repeat(np.where(act == 1, "ACT", "PBO"), 4), ["PBO", "ACT"]),
        "visit": np.tile(VISITS, n),
        "base": np.repeat(base, 4),
        "y": y.ravel(),
    })  # fmt: skip
    dropped = first < 4
    ice = pd.DataFrame({"id": ids[dropped], "visit": np.asarray(VISITS)[first[dropped]],
                        "strategy": "MAR"})
    return data, ice, float(np.mean(first[act == 1] < 4)), float(np.mean(first[act == 0] < 4))


@functools.lru_cache(maxsize=8)
def act_dropout_probability(effect: float, seed: int) -> float:
    """``pi``: probability that an ACT participant has dropped out by the last visit."""
    rng = np.random.default_rng([seed, 999])
    total = 0
    chunk = 500_000
    for _ in range(PI_PARTICIPANTS // chunk):
        _, y = complete_outcomes(chunk, np.ones(chunk, dtype=int), effect, rng)
        total += int(np.sum(dropout_visit(y, rng) < 4))
    return total / PI_PARTICIPANTS


def true_estimands(effect: float, seed: int) -> dict[str, float]:
    """The true difference at the last visit under each strategy (see the module notes)."""
    if effect == 0:
        return {"MAR": 0.0, "JR": 0.0}
    return {"MAR": effect, "JR": (1.0 - act_dropout_probability(effect, seed)) * effect}


def analyse_trial(settings: Settings, effect: float, trial: int,
                  estimands: dict[str, float]) -> list[dict]:
    """Simulate trial ``trial`` and analyse it by every method and strategy."""
    from ketex import reference_based_mi
    from ketex.errors import ConvergenceError, DataValidationError

    code = settings.effects.index(effect)
    rng = np.random.default_rng([settings.seed, code, trial])
    data, ice, dropout_act, dropout_pbo = simulate_trial(settings.n_per_arm, effect, rng)
    rows = []
    for method, n_samples in [("approx_bayes", settings.n_bayes),
                              ("condmean_bootstrap", settings.n_boot)]:
        try:
            fit = reference_based_mi(
                data, FORMULA, subject="id", visit="visit", group="arm",
                references=REFERENCES, ice=ice, method=method, n_samples=n_samples,
                seed=int(rng.integers(2**31)), analysis_covariates=["base"])
            fits = {"MAR": fit, "JR": fit.with_ice(ice.assign(strategy="JR"))}
        except (ConvergenceError, DataValidationError, np.linalg.LinAlgError):
            fits = None
        variants = ([("approx_bayes", None)] if method == "approx_bayes" else
                    [("condmean_bootstrap_percentile", "percentile"),
                     ("condmean_bootstrap_normal", "normal")])
        for label, interval in variants:
            for strategy in STRATEGIES:
                row = {"effect": effect, "trial": trial, "method": label, "strategy": strategy,
                       "estimand": estimands[strategy], "dropout_act": dropout_act,
                       "dropout_pbo": dropout_pbo}
                if fits is None:
                    rows.append(row | {"estimate": np.nan, "se": np.nan, "ci_low": np.nan,
                                       "ci_high": np.nan, "p_value": np.nan,
                                       "reject": np.nan, "covered": np.nan})
                    continue
                result = fits[strategy]
                if interval is not None:
                    result = dataclasses.replace(result, bootstrap_interval=interval)
                    result = result.with_delta(None)
                last = result.data[result.data["visit"] == VISITS[-1]].iloc[0]
                rows.append(row | {
                    "estimate": last["estimate"], "se": last["se"], "ci_low": last["ci_low"],
                    "ci_high": last["ci_high"], "p_value": last["p_value"],
                    "reject": float(last["p_value"] < settings.alpha),
                    "covered": float(last["ci_low"] <= estimands[strategy] <= last["ci_high"]),
                })  # fmt: skip
    return rows


def _batch(settings: Settings, jobs: list[tuple[float, int]],
           estimands: dict[float, dict[str, float]]) -> list[dict]:
    from ketex.simulate.backends import one_blas_thread

    with one_blas_thread():
        return [row for effect, trial in jobs
                for row in analyse_trial(settings, effect, trial, estimands[effect])]


def run_trials(settings: Settings, backend: str = "processes", n_jobs: int | None = None,
               progress: bool = True) -> pd.DataFrame:
    """Every trial's results (:data:`TRIAL_COLUMNS`), sorted."""
    from ketex.simulate.backends import Progress, run_tasks

    estimands = {effect: true_estimands(effect, settings.seed) for effect in settings.effects}
    jobs = [(effect, trial) for effect in settings.effects for trial in range(settings.trials)]
    size = max(1, min(10, len(jobs) // 16))
    batches = [jobs[k:k + size] for k in range(0, len(jobs), size)]
    rows: list[dict] = []
    bar = Progress(len(jobs), enabled=progress, label="trials")

    def collect(batch_rows: list[dict]) -> None:
        rows.extend(batch_rows)
        bar.update(len(batch_rows) // (len(METHODS) * len(STRATEGIES)))

    try:
        run_tasks(_batch, [(settings, batch, estimands) for batch in batches], collect,
                  backend=backend, n_jobs=n_jobs)
    finally:
        bar.close()
    frame = pd.DataFrame(rows, columns=list(TRIAL_COLUMNS))
    order = {m: i for i, m in enumerate(METHODS)}
    frame = frame.sort_values(["effect", "trial", "method", "strategy"],
                              key=lambda c: c.map(order) if c.name == "method" else c,
                              ascending=[False, True, True, True], kind="stable")
    return frame.reset_index(drop=True)


def clopper_pearson(successes: int, trials: int) -> tuple[float, float]:
    """Exact binomial 95 % interval of a proportion."""
    if trials == 0:
        return float("nan"), float("nan")
    ci = stats.binomtest(int(successes), int(trials)).proportion_ci(0.95, method="exact")
    return float(ci.low), float(ci.high)


def summarise(trials: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Rejection rate and coverage per effect, method and strategy (:data:`SUMMARY_COLUMNS`)."""
    rows = []
    for (effect, method, strategy), group in trials.groupby(
            ["effect", "method", "strategy"], sort=False):
        done = group.dropna(subset=["estimate"])
        n = len(done)
        rejections, covered = int(done["reject"].sum()), int(done["covered"].sum())
        estimand = float(group["estimand"].iloc[0])
        rows.append({
            "effect": effect, "method": method, "strategy": strategy, "estimand": estimand,
            "n_trials": n, "n_failed": len(group) - n, "n_per_arm": settings.n_per_arm,
            "n_samples": settings.n_bayes if method == "approx_bayes" else settings.n_boot,
            "rejection_rate": rejections / n if n else np.nan,
            "rejection_low": clopper_pearson(rejections, n)[0],
            "rejection_high": clopper_pearson(rejections, n)[1],
            "coverage": covered / n if n else np.nan,
            "coverage_low": clopper_pearson(covered, n)[0],
            "coverage_high": clopper_pearson(covered, n)[1],
            "mean_estimate": done["estimate"].mean(),
            "bias": done["estimate"].mean() - estimand,
            "sd_estimate": done["estimate"].std(ddof=1),
            "mean_se": done["se"].mean(),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = Settings()
    parser.add_argument("--trials", type=int, default=defaults.trials)
    parser.add_argument("--n-per-arm", type=int, default=defaults.n_per_arm)
    parser.add_argument("--n-bayes", type=int, default=defaults.n_bayes)
    parser.add_argument("--n-boot", type=int, default=defaults.n_boot)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    settings = Settings(trials=args.trials, n_per_arm=args.n_per_arm, n_bayes=args.n_bayes,
                        n_boot=args.n_boot)
    start = time.perf_counter()
    trials = run_trials(settings, n_jobs=args.jobs)
    summary = summarise(trials, settings)
    trials.to_csv(args.out / "coverage_trials.csv", index=False, float_format="%.8g")
    summary.to_csv(args.out / "coverage_summary.csv", index=False, float_format="%.6g")
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(summary)
    print(f"{time.perf_counter() - start:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
