"""Make the small simulated repeated-outcome data set the GEE references are computed on.

Run from the repository root:  python tests/reference/gee/make_gee_data.py
Deterministic (fixed seed); the CSV it writes is committed beside it.

``remission.csv``: 48 participants (24 per arm) of a two-arm trial, visits at weeks
2, 4, 8 and 12, long format with one row per participant and planned visit:

- ``remission`` (0/1): correlated binary outcome with known marginal log-odds
  ``-1.0 + 0.9 exercise + 0.15 (week - 2) / 2 - 0.08 (madrs_baseline - 31)``, latent
  Gaussian correlation ``0.7 ** |lag|`` (a Gaussian copula, so the marginal model holds
  exactly); missing (empty) at missed visits: 15% drop out after a random visit, 6%
  of the remaining visits are missed at random;
- ``madrs`` (continuous, for the Gaussian family) and ``sessions`` (count of supervised
  exercise sessions in the two weeks before the visit, for the Poisson family), missing
  with the remission status;
- ``madrs_baseline`` and ``site`` (two sites).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HERE = Path(__file__).resolve().parent
WEEKS = np.array([2, 4, 8, 12])


def remission(n: int = 48, seed: int = 20250611) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.permutation(np.repeat(["control", "exercise"], n // 2))
    site = rng.choice(["Yale", "Site B"], n, p=[0.6, 0.4])
    baseline = rng.normal(31, 5, n).round()
    exercise = (arm == "exercise").astype(float)[:, None]
    lag = np.abs(np.subtract.outer(np.arange(4), np.arange(4)))
    latent = rng.multivariate_normal(np.zeros(4), 0.7**lag, n)
    log_odds = -1.0 + 0.9 * exercise + 0.15 * (WEEKS - 2) / 2 - 0.08 * (baseline[:, None] - 31)
    probability = 1 / (1 + np.exp(-log_odds))
    remitted = (latent < stats.norm.ppf(probability)).astype(float)
    madrs = (
        24
        - 1.2 * (WEEKS - 2) / 2
        - 3.0 * exercise
        + 0.5 * (baseline[:, None] - 31)
        + 4.0 * latent
        + rng.normal(0, 3, (n, 4))
    ).round(1)
    sessions = rng.poisson(np.exp(1.2 + 0.5 * exercise + 0.3 * latent))

    last_visit = np.where(rng.random(n) < 0.15, rng.integers(1, 4, n), 4)
    observed = (np.arange(4)[None, :] < last_visit[:, None]) & (rng.random((n, 4)) > 0.06)
    observed[:, 0] |= ~observed.any(axis=1)
    return pd.DataFrame(
        {
            "participant_id": np.repeat([f"K{i:03d}" for i in range(1, n + 1)], 4),
            "arm": np.repeat(arm, 4),
            "site": np.repeat(site, 4),
            "madrs_baseline": np.repeat(baseline, 4),
            "week": np.tile(WEEKS, n),
            "visit": np.tile([f"W{w:02d}" for w in WEEKS], n),
            "remission": np.where(observed, remitted, np.nan).ravel(),
            "madrs": np.where(observed, madrs, np.nan).ravel(),
            "sessions": np.where(observed, sessions, np.nan).ravel(),
        }
    )


if __name__ == "__main__":
    remission().to_csv(HERE / "remission.csv", index=False)
