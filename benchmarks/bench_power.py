"""Benchmark ketex.power: 1,000 simulated trials analysed by the primary MMRM, against R.

The target of issue #7: 1,000 simulated trials (2 x 50 participants, 8 visits after
baseline), each analysed by the unstructured MMRM (``CHG ~ BASE + ARM * AVISIT``, REML,
Satterthwaite), in under 60 seconds on a 2-core machine. Measured:

1. ``ketex.power(design, 50, n_sims=1000, backend="processes")``: wall time of the whole
   call (worker start-up, the true effect from counterfactual twins, summary included).
2. Seconds per trial in one process, on the fast path (simulation straight to the
   change scores) and through the full trial (``simulate_trial`` + ``analysis_dataset``).
3. R: the same MMRM with ``nlme::gls`` (``corSymm`` + ``varIdent``, REML) and the
   difference at week 12, fitted one trial after another on the first ``--r-sims`` of
   the trials ketex simulated (so R's loop does not include simulation), with the
   largest difference from ketex's estimates in units of the SE.
4. The heavier check of the tests: type I error of the same analysis at 50 per arm
   under the null design, ``--null-sims`` (2,000) trials.

Usage (from the repository root)::

    python benchmarks/bench_power.py                 # everything, R if Rscript is there
    python benchmarks/bench_power.py --write-docs    # and update docs/benchmarks.md
    python benchmarks/bench_power.py --r-sims 0 --null-sims 0   # speed only (R and
                                                                # type I error: last run's)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine  # benchmarks/ is the script's folder, first on sys.path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from ketex.simulate import EndpointDesign, MeasurementDesign, TrialDesign  # noqa: E402
from ketex.simulate.analyses import MMRMAnalysis  # noqa: E402
from ketex.simulate.fast import simulate_changes  # noqa: E402
from ketex.simulate.power import null_design, power, wilson_interval  # noqa: E402
from ketex.study.protocol import Visit  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "benchmarks" / "results_power.json"
SEED = 2026


def bench_design() -> TrialDesign:
    """The sample design at 50 per arm with 8 weekly-ish visits after baseline, no
    24-hour visits (MCAR + MAR dropout, about 15 % by week 12; blank items)."""
    visits = (
        Visit("BASELINE", 0, (-7, 0), ("MADRS", "QIDS-SR16")),
        Visit("WEEK1", 7, (6, 8), ("MADRS",)),
        Visit("WEEK2", 14, (13, 16), ("MADRS",)),
        Visit("WEEK3", 21, (19, 23), ("MADRS",)),
        Visit("WEEK4", 28, (25, 31), ("MADRS",)),
        Visit("WEEK6", 42, (39, 45), ("MADRS",)),
        Visit("WEEK8", 56, (53, 59), ("MADRS",)),
        Visit("WEEK10", 70, (67, 73), ("MADRS",)),
        Visit("WEEK12", 84, (81, 87), ("MADRS", "QIDS-SR16")),
    )
    return dataclasses.replace(
        TrialDesign(), n_per_arm=50,
        measurement=MeasurementDesign(visits=visits, post_infusion_visits=False),
        endpoints=EndpointDesign(sustained_through_visit=""),
    )


def load() -> float:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else float("nan")


def cpu_seconds() -> dict[int, float]:
    """CPU seconds (user + system) of this process and each live child, by pid."""
    try:
        import psutil
    except ImportError:  # pragma: no cover
        return {}
    me = psutil.Process()
    out = {}
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
            out[process.pid] = times.user + times.system
        except psutil.Error:
            pass
    return out


def used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


def speed(design: TrialDesign, n_sims: int, jobs: int) -> tuple[dict, pd.DataFrame]:
    before = load()
    cpu = cpu_seconds()
    start = time.perf_counter()
    result = power(design, 50, n_sims=n_sims, seed=SEED, null=False, backend="processes",
                   n_jobs=jobs, progress=True)
    seconds = time.perf_counter() - start
    cpu = used(cpu, cpu_seconds())
    row = result.summary.iloc[0]
    print(f"ketex.power, {n_sims} trials, {jobs} processes: {seconds:.1f} s "
          f"({n_sims / seconds:.1f} trials/s), {cpu:.0f} CPU seconds, load {before} -> "
          f"{load()}", flush=True)
    return {
        "n_sims": n_sims, "jobs": jobs, "seconds": seconds, "cpu_seconds": cpu,
        "trials_per_second": n_sims / seconds, "load_before": before, "load_after": load(),
        "n_failed": int(row["n_failed"]), "rejection_rate": float(row["rejection_rate"]),
        "true_effect": float(row["true_effect"]), "bias": float(row["bias"]),
        "coverage": float(row["coverage"]),
    }, result.simulations


def per_trial(design: TrialDesign, fast_sims: int, full_sims: int) -> dict:
    """Seconds per trial in this process (BLAS limited to one thread, as in the workers)."""
    from ketex.simulate.backends import one_blas_thread

    out = {}
    for name, analysis, sims in (("fast", MMRMAnalysis(), fast_sims),
                                 ("full", MMRMAnalysis(fast=False), full_sims)):
        prepared = analysis.prepare(design)
        with one_blas_thread():
            prepared.simulate_and_analyse(design, 0)  # warm up
            start = time.perf_counter()
            for k in range(1, sims + 1):
                prepared.simulate_and_analyse(design, k)
            out[name] = (time.perf_counter() - start) / sims
        print(f"one process, {name} path: {out[name]:.3f} s per trial", flush=True)
    simulate = 0.0
    visits = MMRMAnalysis().prepare(design).visits
    start = time.perf_counter()
    for k in range(1, fast_sims + 1):
        simulate_changes(design, k, visits)
    simulate = (time.perf_counter() - start) / fast_sims
    out["fast_simulation_only"] = simulate
    print(f"one process, fast simulation alone: {simulate:.4f} s per trial", flush=True)
    return out


def r_side(design: TrialDesign, simulations: pd.DataFrame, r_sims: int) -> dict | None:
    if r_sims <= 0 or shutil.which("Rscript") is None:
        return None
    analysis = MMRMAnalysis().prepare(design)
    sims = simulations.head(r_sims)
    frames = []
    for sim, seed in zip(sims["sim"], sims["seed"], strict=True):
        changes = simulate_changes(dataclasses.replace(design, n_per_arm=50), int(seed),
                                   analysis.visits)
        changes.insert(0, "sim", sim)
        changes["ARM_ORDER"] = (changes["ARM"] == analysis.treatment).astype(int)
        frames.append(changes)
    with tempfile.TemporaryDirectory() as tmp:
        data, out = Path(tmp) / "changes.csv", Path(tmp) / "r.json"
        pd.concat(frames).to_csv(data, index=False)
        print(f"R nlme::gls on {r_sims} trials ...", flush=True)
        completed = subprocess.run(
            ["Rscript", str(ROOT / "benchmarks" / "bench_power.R"), str(data), str(out)],
            capture_output=True, text=True)
        if completed.returncode != 0:
            print(f"R failed: {completed.stderr[-800:]}", file=sys.stderr)
            return None
        r = json.loads(out.read_text())
    ours = sims.set_index("sim")
    deviation = max(abs(ours.loc[s, "estimate"] - e) / ours.loc[s, "se"]
                    for s, e in zip(r["sim"], r["estimate"], strict=True))
    se_ratio = max(abs(r_se / ours.loc[s, "se"] - 1)
                   for s, r_se in zip(r["sim"], r["se"], strict=True))
    per_fit = float(np.mean(r["seconds"]))
    print(f"R nlme::gls: {per_fit:.2f} s per trial; largest estimate difference "
          f"{deviation:.1e} SE, SE relative difference {se_ratio:.1e}", flush=True)
    return {"n_sims": r_sims, "seconds_per_trial": per_fit,
            "trials_per_second": 1 / per_fit, "max_estimate_difference_se": deviation,
            "max_se_relative_difference": se_ratio, "r_version": r["r_version"],
            "nlme": r["nlme"]}


def type_one_error(design: TrialDesign, n_sims: int, jobs: int) -> dict | None:
    if n_sims <= 0:
        return None
    start = time.perf_counter()
    result = power(null_design(design), 50, n_sims=n_sims, seed=SEED + 1, null=False,
                   backend="processes", n_jobs=jobs, progress=True)
    seconds = time.perf_counter() - start
    row = result.summary.iloc[0]
    ok = result.simulations[result.simulations["error"] == ""]
    rejected = int((ok["p_value"] < 0.05).sum())
    low, high = wilson_interval(rejected, len(ok), 0.95)
    out = {
        "n_sims": n_sims, "seconds": seconds, "n_failed": int(row["n_failed"]),
        "rejected": rejected, "type_one_error": rejected / len(ok), "ci_low": low,
        "ci_high": high, "ks_p_value": float(stats.kstest(ok["p_value"], "uniform").pvalue),
        "coverage": float(row["coverage"]), "coverage_ci_low": float(row["coverage_ci_low"]),
        "coverage_ci_high": float(row["coverage_ci_high"]),
        "empirical_se": float(row["empirical_se"]), "mean_se": float(row["mean_se"]),
        "bias": float(row["bias"]), "bias_mcse": float(row["bias_mcse"]),
    }
    print(f"type I error, {n_sims} trials under the null: {out['type_one_error']:.4f} "
          f"(95% CI {low:.4f}-{high:.4f}), {seconds:.0f} s", flush=True)
    return out


def to_markdown(results: dict) -> str:
    s = results["speed"]
    p = results["per_trial"]
    shared = " (other work shared the cores)" if s["load_before"] > 1.5 else ""
    lines = [
        f"Machine: {results['machine']}; load average {s['load_before']} before the run, "
        f"{s['load_after']} after{shared}.",
        "",
        f"`ketex.power` used {s['cpu_seconds']:.0f} CPU seconds for {s['n_sims']:,} trials "
        f"(workers and parent): {s['cpu_seconds'] / s['jobs']:.0f} s of wall time on "
        f"{s['jobs']} idle cores.",
        "",
        "| what | trials | seconds | trials per second |",
        "|---|---:|---:|---:|",
        f"| `ketex.power`, {s['jobs']} local processes (whole call) | {s['n_sims']:,} | "
        f"{s['seconds']:.1f} | {s['trials_per_second']:.1f} |",
        f"| ketex, one process, fast path (simulation + MMRM) | 1 | {p['fast']:.3f} | "
        f"{1 / p['fast']:.1f} |",
        f"| ketex, one process, simulation alone (fast path) | 1 | "
        f"{p['fast_simulation_only']:.4f} | {1 / p['fast_simulation_only']:.0f} |",
        f"| ketex, one process, full trial (`simulate_trial` + `analysis_dataset` + MMRM) "
        f"| 1 | {p['full']:.3f} | {1 / p['full']:.1f} |",
    ]
    r = results.get("r")
    if r:
        lines.append(
            f"| R `nlme::gls` (corSymm + varIdent), one process, fit alone | 1 | "
            f"{r['seconds_per_trial']:.2f} | {r['trials_per_second']:.2f} |")
        lines += ["", f"R: {r['r_version']}, nlme {r['nlme']}, on the first {r['n_sims']} "
                  f"of the same trials; largest difference of the week-12 estimate from "
                  f"ketex's {r['max_estimate_difference_se']:.1e} SE, of its SE "
                  f"{r['max_se_relative_difference']:.1e} (relative)."]
    t = results.get("type_one_error")
    if t:
        lines += [
            "",
            f"Type I error under the null design (both arms one infusion), 50 per arm, "
            f"{t['n_sims']:,} trials: {t['type_one_error']:.4f} (95% Wilson CI "
            f"{t['ci_low']:.4f} to {t['ci_high']:.4f}; nominal 0.05); uniformity of the "
            f"p-values, Kolmogorov-Smirnov p = {t['ks_p_value']:.2f}; coverage of the 95% "
            f"CI {t['coverage']:.3f} ({t['coverage_ci_low']:.3f} to "
            f"{t['coverage_ci_high']:.3f}); SD of the estimates {t['empirical_se']:.3f} vs "
            f"mean SE {t['mean_se']:.3f}; bias {t['bias']:+.3f} (MC SE {t['bias_mcse']:.3f});"
            f" {t['n_failed']} failed fits; {t['seconds']:.0f} s.",
        ]
    return "\n".join(lines)


def write_docs(markdown: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    block = f"<!-- power:start -->\n{markdown}\n<!-- power:end -->"
    if "<!-- power:start -->" in text:
        text = re.sub(r"<!-- power:start -->.*<!-- power:end -->", lambda _: block, text,
                      flags=re.S)
    else:
        text += "\n" + block + "\n"
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-sims", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--r-sims", type=int, default=10,
                        help="trials R fits (nlme::gls takes seconds each)")
    parser.add_argument("--null-sims", type=int, default=2000)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    design = bench_design()
    results: dict = {"machine": machine()}
    results["speed"], simulations = speed(design, args.n_sims, args.jobs)
    results["per_trial"] = per_trial(design, fast_sims=50, full_sims=10)
    results["r"] = r_side(design, simulations, args.r_sims)
    results["type_one_error"] = type_one_error(design, args.null_sims, args.jobs)
    if RESULTS.exists():  # parts not run this time keep their last figures
        previous = json.loads(RESULTS.read_text())
        for part in ("r", "type_one_error"):
            if results[part] is None and previous.get(part):
                results[part] = previous[part]
    markdown = to_markdown(results)
    print(markdown)
    RESULTS.write_text(json.dumps(results, indent=1))
    if args.write_docs:
        write_docs(markdown)


if __name__ == "__main__":
    main()
