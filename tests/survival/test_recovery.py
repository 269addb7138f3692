"""Recovery of known effects from simulated trials (fixed seeds).

Each estimate must lie within 4 standard errors of the truth: for a correct estimator
the chance of a miss is 6e-5 per check, so a failure points at a bug, not bad luck.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketex.survival import cox, kaplan_meier, logrank_test

LOG_HR_ARM = np.log(0.5)
LOG_HR_AGE = 0.03
LOG_HR_KKW = -0.08  # per KKW of weekly exercise dose


def _fixed_covariates(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, n)
    age = rng.uniform(20, 65, n)
    rate = 0.02 * np.exp(LOG_HR_ARM * arm + LOG_HR_AGE * (age - 40))
    relapse = rng.exponential(1 / rate)
    censor = rng.uniform(30, 120, n)
    return pd.DataFrame(
        {
            "arm": np.where(arm == 1, "series", "single"),
            "age": age,
            "days": np.minimum(relapse, censor),
            "relapsed": (relapse <= censor).astype(int),
        }
    ).assign(arm=lambda d: pd.Categorical(d["arm"], categories=["single", "series"]))


def _weekly_dose(n: int, seed: int) -> pd.DataFrame:
    """Counting-process weeks; the hazard is constant within a week, so (start, stop]
    rows with the week's dose are the exact model."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        series = rng.random() < 0.5
        habit = rng.normal(12, 4)
        weeks = 12 if rng.random() > 0.2 else int(rng.integers(2, 12))
        for week in range(weeks):
            kkw = max(0.0, habit + rng.normal(0, 3))
            rate = 0.01 * np.exp(-0.5 * series + LOG_HR_KKW * (kkw - 12))
            day = rng.exponential(1 / rate)
            event = day <= 7
            rows.append((i, "series" if series else "single", 7 * week,
                         7 * week + (day if event else 7), kkw, int(event)))  # fmt: skip
            if event:
                break
    frame = pd.DataFrame(rows, columns=["id", "arm", "start", "stop", "kkw", "relapsed"])
    frame["arm"] = pd.Categorical(frame["arm"], categories=["single", "series"])
    return frame


def _within(fit, term: str, truth: float, k: float = 4.0) -> None:
    row = fit.coef.set_index("term").loc[term]
    assert abs(row["estimate"] - truth) < k * row["se"], (term, row["estimate"], truth, row["se"])


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    return _fixed_covariates(4000, seed=11)


def test_cox_recovers_hazard_ratios(trial):
    fit = cox(trial, "arm + age", time="days", event="relapsed", concordance=False)
    _within(fit, "arm[T.series]", LOG_HR_ARM)
    _within(fit, "age", LOG_HR_AGE)
    # the model is correct: robust and model-based SEs estimate the same thing
    robust = cox(trial, "arm + age", time="days", event="relapsed", robust=True,
                 concordance=False)  # fmt: skip
    np.testing.assert_allclose(robust.coef["se"], fit.coef["se"], rtol=0.1)


def test_kaplan_meier_recovers_survival(trial):
    """Single arm, exponential with age averaged over: S(30) = mean exp(-30 rate)."""
    single = trial[trial["arm"] == "single"]
    age = np.linspace(20, 65, 100001)
    truth = np.mean(np.exp(-30 * 0.02 * np.exp(LOG_HR_AGE * (age - 40))))
    at = kaplan_meier(single, time="days", event="relapsed").survival_at([30]).iloc[0]
    assert abs(at["survival"] - truth) < 4 * at["se"]


def test_logrank_detects_the_difference(trial):
    test = logrank_test(trial, time="days", event="relapsed", group="arm")
    assert test.p_value < 1e-10
    single = test.table.set_index("group").loc["single"]
    assert single["observed"] > single["expected"]


def test_cox_recovers_time_varying_dose_effect():
    weekly = _weekly_dose(1500, seed=5)
    fit = cox(weekly, "arm + kkw", time="stop", event="relapsed", start="start",
              cluster="id", concordance=False)  # fmt: skip
    _within(fit, "kkw", LOG_HR_KKW)
    _within(fit, "arm[T.series]", -0.5)
    assert fit.n_clusters == 1500


def test_efron_handles_grouped_times_better_than_breslow(trial):
    """Times rounded up to whole weeks make heavy ties; Breslow's approximation shrinks
    the log hazard ratio towards 0 more than Efron's (Hertz-Picciotto & Rockhill 1997)."""
    exact = cox(trial, "arm", time="days", event="relapsed", concordance=False)
    weeks = trial.assign(weeks=np.ceil(trial["days"] / 7))
    efron = cox(weeks, "arm", time="weeks", event="relapsed", concordance=False)
    breslow = cox(weeks, "arm", time="weeks", event="relapsed", ties="breslow",
                  concordance=False)  # fmt: skip
    target = exact.coef["estimate"].iloc[0]
    e, b = efron.coef["estimate"].iloc[0], breslow.coef["estimate"].iloc[0]
    assert abs(e - target) < abs(b - target)
    assert abs(b) < abs(e)


def test_ph_test_flags_an_effect_that_wears_off():
    """Hazard ratio 0.3 in the first 14 days, 1 afterwards: cox.zph must flag the arm."""
    rng = np.random.default_rng(3)
    n = 2000
    arm = rng.integers(0, 2, n)
    rate = 0.03
    early = rng.exponential(1 / (rate * np.where(arm == 1, 0.3, 1.0)))
    late = 14 + rng.exponential(1 / rate, n)
    relapse = np.where(early <= 14, early, late)
    censor = rng.uniform(40, 90, n)
    data = pd.DataFrame({"arm": arm, "days": np.minimum(relapse, censor),
                         "relapsed": (relapse <= censor).astype(int)})  # fmt: skip
    fit = cox(data, "arm", time="days", event="relapsed", concordance=False)
    assert fit.ph_test().table.set_index("term").loc["arm", "p_value"] < 1e-6


def test_ph_test_quiet_under_proportional_hazards(trial):
    fit = cox(trial, "arm + age", time="days", event="relapsed", concordance=False)
    assert fit.ph_test().table.set_index("term").loc["GLOBAL", "p_value"] > 1e-3
