"""Benchmark ketex.lmm and ketex.glmm against statsmodels MixedLM and lme4.

- LMM (issue #5's anchor): random intercept and slope on ``bcva_data`` (1,000 subjects x
  10 visits, ``../shared/reference``), ``BCVA_CHG ~ BCVA_BL + RACE + ARMCD * VISITN`` with
  ``(1 + VISITN | USUBJID)``, REML; replicated with new subject ids to 10,000 subjects
  (the first 100 subjects for 100).
- GLMM: a simulated 0/1 outcome, 10 visits, random intercept SD 1, ``y ~ arm + visit``
  (numeric), Laplace; 100, 1,000, 10,000 subjects.

Each fit is timed in this process (the call alone, data in memory); R fits are timed
inside R the same way (``Rscript bench_mixed.R``). statsmodels runs only up to
``--statsmodels-max`` subjects (default 1,000; the issue measured 84 s at 10,000).

Usage (from the repository root)::

    python benchmarks/bench_mixed.py [--r] [--statsmodels-max 1000]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BCVA = ROOT / ".." / "shared" / "reference" / "bcva_data.csv"
SIZES = (100, 1000, 10000)
LMM_FORMULA = "BCVA_CHG ~ BCVA_BL + RACE + C(ARMCD, Treatment('CTL')) * VISITN"


def bcva(n: int) -> pd.DataFrame:
    data = pd.read_csv(BCVA)
    reps = max(1, n // 1000)
    data = pd.concat([data.assign(USUBJID=data["USUBJID"].astype(str) + f"_{r}")
                      for r in range(reps)], ignore_index=True)
    if n < 1000:
        keep = data["USUBJID"].drop_duplicates().iloc[:n]
        data = data[data["USUBJID"].isin(keep)]
    return data.dropna(subset=["BCVA_CHG"]).reset_index(drop=True)


def binary(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.repeat(rng.integers(0, 2, n), 10)
    visit = np.tile(np.arange(1, 11, dtype=float), n)
    eta = -0.5 + 0.7 * arm + 0.08 * visit + np.repeat(rng.normal(0, 1, n), 10)
    return pd.DataFrame({"id": np.repeat(np.arange(n), 10), "arm": arm, "visit": visit,
                         "y": (rng.random(10 * n) < 1 / (1 + np.exp(-eta))).astype(int)})


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--r", action="store_true", help="also time lme4 (Rscript)")
    parser.add_argument("--statsmodels-max", type=int, default=1000)
    args = parser.parse_args()
    from ketex.models.glmm import glmm
    from ketex.models.lmm import lmm

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n in SIZES:
            data = bcva(n)
            seconds, fit = timed(lambda data=data: lmm(data, LMM_FORMULA, subject="USUBJID",
                                                       re_formula="1 + VISITN"))
            rows.append({"model": "lmm", "engine": "ketex", "subjects": n, "seconds": seconds,
                         "loglik": fit.loglik})
            if n <= args.statsmodels_max:
                import statsmodels.formula.api as smf

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    seconds, reference = timed(lambda data=data: smf.mixedlm(
                        LMM_FORMULA, data, groups=data["USUBJID"], re_formula="~VISITN").fit(
                        reml=True))
                rows.append({"model": "lmm", "engine": "statsmodels", "subjects": n,
                             "seconds": seconds, "loglik": float(reference.llf)})
            lmm_path = Path(folder) / f"lmm_{n}.csv"
            data.to_csv(lmm_path, index=False)
            binary_data = binary(n)
            seconds, fit = timed(lambda d=binary_data: glmm(d, "y ~ arm + visit", subject="id"))
            rows.append({"model": "glmm", "engine": "ketex", "subjects": n, "seconds": seconds,
                         "loglik": fit.loglik})
            glmm_path = Path(folder) / f"glmm_{n}.csv"
            binary_data.to_csv(glmm_path, index=False)
            if args.r:
                out = Path(folder) / f"r_{n}.json"
                subprocess.run(["Rscript", str(ROOT / "benchmarks" / "bench_mixed.R"),
                                str(lmm_path), str(glmm_path), str(n), str(out)], check=True)
                rows.extend(json.loads(out.read_text()))
    print(f"Machine: {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}.\n")
    print("| model | engine | subjects | seconds | log-likelihood |")
    print("|---|---|---:|---:|---:|")
    for row in rows:
        print(f"| {row['model']} | {row['engine']} | {row['subjects']:,} | "
              f"{row['seconds']:.2f} | {row['loglik']:.3f} |")
    (ROOT / "benchmarks" / "results_mixed.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
