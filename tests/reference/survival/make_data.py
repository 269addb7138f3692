"""Make the small simulated survival data sets the R references are computed on.

Run from the repository root:  python tests/reference/survival/make_data.py
Deterministic (fixed seeds); the CSVs it writes are committed beside it.

- ``relapse.csv``: one row per participant (right-censored time to relapse in whole
  days, so many ties, some between relapses and censorings), two arms, site (3 levels,
  for strata and clusters), age, severity (3 levels, a two-column term).
- ``relapse_weekly.csv``: counting-process form (start, stop], one row per participant
  and week, with the weekly exercise dose (KKW) changing from week to week.
- ``tiny.csv``: twelve hand-written rows whose Kaplan-Meier curve is exactly 0.5 on an
  interval (median taken as a midpoint) and ends at 0 in one group.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def relapse(n: int = 90, seed: int = 20250605) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.permutation(np.repeat(["single", "series"], n // 2 + 1)[:n])
    site = rng.choice(["A", "B", "C"], n, p=[0.4, 0.35, 0.25])
    age = rng.integers(19, 66, n)
    severity = rng.choice(["mild", "moderate", "severe"], n, p=[0.3, 0.4, 0.3])
    log_hr = (
        -0.6 * (arm == "series")
        + 0.02 * (age - 40)
        + np.select([severity == "moderate", severity == "severe"], [0.3, 0.7], 0.0)
        + np.select([site == "B", site == "C"], [0.2, -0.3], 0.0)
    )
    # Weibull shape 1.3, median about 40 days at log_hr = 0
    scale = 40.0 / np.log(2) ** (1 / 1.3)
    relapse_day = np.ceil(scale * rng.weibull(1.3, n) * np.exp(-log_hr / 1.3))
    dropout_day = np.where(rng.random(n) < 0.25, rng.integers(5, 84, n), 84)
    time = np.minimum(relapse_day, dropout_day)
    return pd.DataFrame(
        {
            "participant_id": [f"P{i:03d}" for i in range(1, n + 1)],
            "arm": arm,
            "site": site,
            "age": age,
            "severity": severity,
            "days": time.astype(int),
            "relapsed": (relapse_day <= dropout_day).astype(int),
        }
    )


def relapse_weekly(n: int = 70, seed: int = 20250606) -> pd.DataFrame:
    """Piecewise-constant hazard, constant within each week, so (start, stop] is exact."""
    rng = np.random.default_rng(seed)
    arm = rng.permutation(np.repeat(["single", "series"], n // 2 + 1)[:n])
    site = rng.choice(["A", "B"], n)
    rows = []
    for i in range(n):
        habit = rng.normal(12, 4)
        last_week = 12 if rng.random() > 0.2 else int(rng.integers(2, 12))
        for week in range(last_week):
            kkw = round(max(0.0, habit + rng.normal(0, 3)), 1)
            rate = 0.012 * np.exp(-0.5 * (arm[i] == "series") - 0.08 * (kkw - 12))
            day = np.ceil(rng.exponential(1 / rate))
            start, stop = 7 * week, 7 * week + 7
            event = day <= 7
            rows.append(
                {
                    "participant_id": f"W{i + 1:03d}",
                    "arm": arm[i],
                    "site": site[i],
                    "week": week + 1,
                    "start": start,
                    "stop": int(start + day) if event else stop,
                    "kkw": kkw,
                    "relapsed": int(event),
                }
            )
            if event:
                break
    return pd.DataFrame(rows)


def tiny() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arm": ["a"] * 6 + ["b"] * 6,
            "days": [1, 2, 3, 5, 6, 9, 1, 2, 2, 4, 6, 7],
            "relapsed": [1, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1],
        }
    )


if __name__ == "__main__":
    relapse().to_csv(HERE / "relapse.csv", index=False)
    relapse_weekly().to_csv(HERE / "relapse_weekly.csv", index=False)
    tiny().to_csv(HERE / "tiny.csv", index=False)
