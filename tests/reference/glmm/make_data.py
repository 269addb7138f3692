"""Make the small simulated data sets the GLMM references are computed on.

Run from the repository root:  python tests/reference/glmm/make_data.py
Deterministic (fixed seeds); the CSVs it writes are committed beside it.

- ``sim_remission.csv``: 100 participants x 4 visits, two arms, baseline MADRS, a 0/1
  remission status per visit with a participant random intercept (SD 1.5 on the
  log-odds scale), 6 % of visits missing; and 10 enrolment cohorts without any effect.
- ``sim_relapse.csv``: person-period data, one row per participant and week at risk
  (at most 12), a relapse indicator, weekly exercise dose (KKW), days since the last
  infusion and 8 sites with a site random intercept (SD 0.4), from a grouped-time
  proportional hazards (cloglog) model; ``exposure_days`` is 7 except in a last,
  partial week of some censored participants.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
VISITS = ["W2", "W4", "W8", "W12"]


def remission(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.permutation(np.repeat(["SINGLE", "SERIES"], n // 2))
    baseline = np.round(rng.normal(32, 5, n), 0)
    intercept = rng.normal(0.0, 1.5, n)
    visit_effect = np.array([-1.2, -0.6, 0.0, 0.2])
    arm_effect = np.where(arm == "SERIES", 1.0, 0.0)[:, None] * np.array([0.9, 0.8, 0.5, 0.3])
    eta = visit_effect[None, :] + arm_effect - 0.08 * (baseline - 32)[:, None] + intercept[:, None]
    y = (rng.random((n, 4)) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    y[rng.random((n, 4)) < 0.06] = np.nan
    frame = pd.DataFrame({
        "participant_id": np.repeat([f"P{i:03d}" for i in range(n)], 4),
        "arm": np.repeat(arm, 4),
        "visit": np.tile(VISITS, n),
        "week": np.tile([2, 4, 8, 12], n),
        "madrs_baseline": np.repeat(baseline, 4),
        "remission": y.ravel(),
    })
    frame["remission"] = frame["remission"].astype("Int64")
    # enrolment cohorts that have nothing to do with the outcome: a random intercept for
    # them is estimated at 0 (a boundary fit)
    frame["cohort"] = np.repeat([f"C{c}" for c in rng.integers(1, 11, n)], 4)
    return frame


def relapse(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    site = rng.integers(0, 8, n)
    site_effect = rng.normal(0.0, 0.4, 8)
    arm = rng.permutation(np.repeat(["SINGLE", "SERIES"], n // 2))
    mean_kkw = rng.normal(12.0, 3.5, n)
    rows = []
    for i in range(n):
        infusions = [1] if arm[i] == "SINGLE" else [1, 4, 8, 11]
        if rng.random() < 0.5:  # a booster infusion
            infusions = sorted(infusions + [int(rng.integers(15, 70))])
        censor_day = rng.choice([84, 84, 84, rng.integers(10, 84)])
        for week in range(1, 13):
            start = 7 * (week - 1)
            exposure = min(7, censor_day - start)
            if exposure <= 0:
                break
            kkw = max(0.0, mean_kkw[i] + rng.normal(0, 2.5))
            since = start - max([d for d in infusions if d <= start], default=start)
            eta = (-2.2 + 0.15 * (week - 1) - 0.06 * (kkw - 12) - 0.3 * (arm[i] == "SERIES")
                   + 0.01 * since
                   + site_effect[site[i]] + np.log(exposure / 7))
            event = rng.random() < 1 - np.exp(-np.exp(eta))
            rows.append({
                "participant_id": f"R{i:03d}", "site": f"S{site[i] + 1}", "arm": arm[i],
                "week": week, "exposure_days": exposure, "kkw": round(kkw, 2),
                "days_since_infusion": since, "relapse": int(event),
            })
            if event:
                break
    frame = pd.DataFrame(rows)
    frame["log_exposure"] = np.log(frame["exposure_days"] / 7.0).round(12)
    return frame


if __name__ == "__main__":
    remission(100, seed=20240611).to_csv(HERE / "sim_remission.csv", index=False, na_rep="NA")
    relapse(160, seed=20240612).to_csv(HERE / "sim_relapse.csv", index=False)
