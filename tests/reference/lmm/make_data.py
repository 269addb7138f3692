"""Make the small simulated data set the LMM references are computed on.

Run from the repository root:  python tests/reference/lmm/make_data.py
Deterministic (fixed seed); the CSV it writes is committed beside it.

``sim_growth.csv``: 90 participants, MADRS after the last infusion at weeks 0, 1, 2, 4, 6,
8 and 12 (each within +-3 days), two arms, baseline MADRS; random intercept (SD 5) and
slope (SD 0.5 per week, correlation -0.3), residual SD 3; 10 % of assessments missing.

``sim_singular.csv``: 40 participants at weeks 0, 1, 2 without slope variance, where a
random intercept and slope model is a boundary (singular) fit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
WEEKS = np.array([0.0, 1.0, 2.0, 4.0, 6.0, 8.0, 12.0])


def growth(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.permutation(np.repeat(["SINGLE", "SERIES"], n // 2))
    baseline = np.round(rng.normal(32, 5, n), 0)
    sd = np.array([5.0, 0.5])
    corr = np.array([[1.0, -0.3], [-0.3, 1.0]])
    effects = rng.multivariate_normal(np.zeros(2), np.outer(sd, sd) * corr, n)
    time = np.round(WEEKS[None, :] + rng.uniform(-3, 3, (n, WEEKS.size)) / 7.0, 3)
    time[:, 0] = 0.0
    slope = 0.6 - 0.35 * (arm == "SERIES")
    mean = (14.0 - 2.0 * (arm == "SERIES") + 0.4 * (baseline - 32))[:, None] + (
        slope[:, None] + effects[:, [1]]) * time + effects[:, [0]]
    madrs = np.round(mean + rng.normal(0, 3.0, mean.shape), 1)
    madrs[rng.random(madrs.shape) < 0.10] = np.nan
    return pd.DataFrame({
        "participant_id": np.repeat([f"G{i:03d}" for i in range(n)], WEEKS.size),
        "arm": np.repeat(arm, WEEKS.size),
        "week": time.ravel(),
        "madrs_baseline": np.repeat(baseline, WEEKS.size),
        "madrs": madrs.ravel(),
    })


def singular(n: int, seed: int) -> pd.DataFrame:
    """Three visits and no slope variance in the truth: lme4 ends on the boundary."""
    rng = np.random.default_rng(seed)
    arm = rng.permutation(np.repeat(["SINGLE", "SERIES"], n // 2))
    week = np.tile([0.0, 1.0, 2.0], n)
    intercept = np.repeat(rng.normal(0, 4, n), 3)
    series = np.repeat(arm == "SERIES", 3)
    madrs = 20 - 2 * series + (-1.0 - 0.4 * series) * week + intercept + rng.normal(0, 2, 3 * n)
    return pd.DataFrame({"participant_id": np.repeat([f"B{i:03d}" for i in range(n)], 3),
                         "arm": np.repeat(arm, 3), "week": week,
                         "madrs": np.round(madrs, 2)})


if __name__ == "__main__":
    growth(90, seed=20240613).to_csv(HERE / "sim_growth.csv", index=False, na_rep="NA")
    singular(40, seed=20240614).to_csv(HERE / "sim_singular.csv", index=False)
