"""Benchmark ketex.power with RelapseAnalysis: the fast path against the full path.

The target of issue #17: ``ketex.power(..., analysis=RelapseAnalysis())``, 1,000 trials of
2 x 50 participants (the sample design: SUSTAIN-1 relapse among responders, log-rank test,
Cox log hazard ratio), in under 60 seconds with 2 local processes, the fast path proven
equal to the full path. Measured in one run, one after the other:

1. Seconds per trial in this process (one BLAS thread, as in the workers), on the same
   seeds: the full path (``simulate_trial`` + ``time_to_event`` + log-rank and Cox) and
   the fast path (``simulate_relapse`` + the same log-rank and Cox), and their parts.
2. ``ketex.power(design, 50, n_sims, analysis=RelapseAnalysis(), null=False,
   backend="processes", n_jobs=2)``: wall and CPU seconds of the whole call, fast path
   (``RelapseAnalysis()``) and full path (``RelapseAnalysis(fast=False)``), and whether
   their simulations are identical.
3. The default call (with the null design: twice the trials), fast path.

Usage (from the repository root)::

    python benchmarks/bench_relapse_power.py                # about 10 minutes on 2 cores
    python benchmarks/bench_relapse_power.py --full-sims 200 --write-docs
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import time
from pathlib import Path

from _machine import machine  # benchmarks/ is the script's folder, first on sys.path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from ketex.derive.time_to_event import time_to_event  # noqa: E402
from ketex.simulate import RelapseAnalysis, TrialDesign, power, simulate_trial  # noqa: E402
from ketex.simulate.backends import one_blas_thread  # noqa: E402
from ketex.simulate.fast_relapse import simulate_relapse  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "benchmarks" / "results_relapse_power.json"
SEED = 2026
N_PER_ARM = 50


def load() -> float:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else float("nan")


def cpu_seconds() -> dict[int, float]:
    """CPU seconds (user + system) of this process and each live child, by pid."""
    import psutil

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


def per_trial(design: TrialDesign, fast_sims: int, full_sims: int) -> dict:
    """Seconds per trial in this process, both paths on the first ``full_sims`` seeds."""
    analysis = RelapseAnalysis().prepare(design)
    full = dataclasses.replace(analysis, fast=False)
    rule = analysis.rule
    out: dict = {}
    with one_blas_thread():
        analysis.simulate_and_analyse(design, 0)  # warm up (imports, caches)
        full.simulate_and_analyse(design, 0)
        timings = {"full": [], "full_simulation": [], "full_time_to_event": [],
                   "fast": [], "fast_simulation": [], "analysis": []}
        for seed in range(1, full_sims + 1):
            start = time.perf_counter()
            trial = simulate_trial(design, seed)
            simulated = time.perf_counter()
            table = time_to_event(trial, rule).table
            evaluated = time.perf_counter()
            analysis._compare_arms(table, analysis.treatment, analysis.control)
            done = time.perf_counter()
            timings["full"].append(done - start)
            timings["full_simulation"].append(simulated - start)
            timings["full_time_to_event"].append(evaluated - simulated)
        for seed in range(1, fast_sims + 1):
            start = time.perf_counter()
            table = simulate_relapse(design, seed, rule)
            simulated = time.perf_counter()
            analysis._compare_arms(table, analysis.treatment, analysis.control)
            done = time.perf_counter()
            timings["fast"].append(done - start)
            timings["fast_simulation"].append(simulated - start)
            timings["analysis"].append(done - simulated)
    for name, values in timings.items():
        out[name] = sum(values) / len(values)
    out["fast_sims"], out["full_sims"] = fast_sims, full_sims
    print(f"one process: full path {out['full']:.3f} s per trial (simulate_trial "
          f"{out['full_simulation']:.3f}, time_to_event {out['full_time_to_event']:.3f}); "
          f"fast path {out['fast']:.4f} s (simulate_relapse {out['fast_simulation']:.4f}, "
          f"log-rank + Cox {out['analysis']:.4f})", flush=True)
    return out


def run_power(design: TrialDesign, n_sims: int, jobs: int, fast: bool,
              null: bool = False) -> tuple[dict, pd.DataFrame]:
    before = load()
    cpu = cpu_seconds()
    start = time.perf_counter()
    result = power(design, N_PER_ARM, n_sims=n_sims, analysis=RelapseAnalysis(fast=fast),
                   seed=SEED, null=null, backend="processes", n_jobs=jobs, progress=False)
    seconds = time.perf_counter() - start
    cpu = used(cpu, cpu_seconds())
    trials = n_sims * (2 if null else 1)
    row = result.summary.iloc[0]
    label = "fast" if fast else "full"
    print(f"ketex.power, {label} path, {trials} trials{' (with the null)' if null else ''},"
          f" {jobs} processes: {seconds:.1f} s ({trials / seconds:.1f} trials/s), "
          f"{cpu:.0f} CPU seconds, load {before} -> {load()}", flush=True)
    return {
        "path": label, "null": null, "n_sims": n_sims, "trials": trials, "jobs": jobs,
        "seconds": seconds, "cpu_seconds": cpu, "trials_per_second": trials / seconds,
        "load_before": before, "load_after": load(), "n_failed": int(row["n_failed"]),
        "power": float(row["rejection_rate"]),
        "mean_events": float(result.simulations["events"].mean()),
    }, result.simulations


def compare(fast: pd.DataFrame, full: pd.DataFrame) -> dict:
    """Whether the full path's simulations equal the fast path's on the same sims."""
    common = fast[fast["sim"].isin(full["sim"])].reset_index(drop=True)
    full = full.reset_index(drop=True)
    identical = True
    try:
        pd.testing.assert_frame_equal(common, full, check_exact=True)
    except AssertionError as error:
        identical = False
        print(f"the paths differ: {error}", flush=True)
    numbers = ["estimate", "se", "p_value", "ci_low", "ci_high", "events", "participants"]
    largest = float((common[numbers] - full[numbers]).abs().max().max())
    print(f"fast vs full on {len(full)} trials: identical {identical}, largest difference "
          f"{largest:g}", flush=True)
    return {"n_sims": len(full), "identical": identical, "max_abs_difference": largest}


def to_markdown(results: dict) -> str:
    p = results["per_trial"]
    fast, full = results["power_fast"], results["power_full"]
    default = results.get("power_default")
    same = results["equality"]
    loads = [fast["load_before"], fast["load_after"], full["load_before"], full["load_after"]]
    lines = [
        f"Machine: {results['machine']}; load average (1 min) {min(loads)} to {max(loads)} "
        "during the `power` calls.",
        "",
        "| what | trials | wall seconds | CPU seconds | trials per second (wall) |",
        "|---|---:|---:|---:|---:|",
        f"| `ketex.power`, full path (`RelapseAnalysis(fast=False)`), {full['jobs']} local "
        f"processes | {full['trials']:,} | {full['seconds']:.1f} | {full['cpu_seconds']:.0f} "
        f"| {full['trials_per_second']:.1f} |",
        f"| `ketex.power`, fast path (`RelapseAnalysis()`), {fast['jobs']} local processes "
        f"| {fast['trials']:,} | {fast['seconds']:.1f} | {fast['cpu_seconds']:.0f} | "
        f"{fast['trials_per_second']:.1f} |",
    ]
    again = results.get("power_fast_again")
    if again:
        lines.append(
            f"| the fast path again, later (load {again['load_before']} before, "
            f"{again['load_after']} after) | {again['trials']:,} | {again['seconds']:.1f} | "
            f"{again['cpu_seconds']:.0f} | {again['trials_per_second']:.1f} |")
    if default:
        lines.append(
            f"| the same, default call (with the null design) | {default['trials']:,} | "
            f"{default['seconds']:.1f} | {default['cpu_seconds']:.0f} | "
            f"{default['trials_per_second']:.1f} |")
    lines += [
        f"| one process, full path: `simulate_trial` + `time_to_event` + log-rank and Cox "
        f"| 1 | {p['full']:.3f} | | {1 / p['full']:.1f} |",
        f"| of which `simulate_trial` | 1 | {p['full_simulation']:.3f} | | |",
        f"| of which `time_to_event` | 1 | {p['full_time_to_event']:.3f} | | |",
        f"| one process, fast path: `simulate_relapse` + log-rank and Cox | 1 | "
        f"{p['fast']:.4f} | | {1 / p['fast']:.0f} |",
        f"| of which `simulate_relapse` | 1 | {p['fast_simulation']:.4f} | | |",
        f"| of which log-rank and Cox (`RelapseAnalysis.compare`, both paths) | 1 | "
        f"{p['analysis']:.4f} | | |",
        "",
        f"One-process figures are means over {p['full_sims']} (full) and {p['fast_sims']} "
        f"(fast) trials. The {same['n_sims']:,} trials both `power` calls ran have "
        f"{'identical' if same['identical'] else 'different'} results (every column of "
        f"`simulations`; largest difference {same['max_abs_difference']:g}); power "
        f"{fast['power']:.3f}, {fast['mean_events']:.1f} relapses per trial.",
    ]
    return "\n".join(lines)


def write_docs(markdown: str) -> None:
    text = DOC.read_text()
    block = f"<!-- relapse-power:start -->\n{markdown}\n<!-- relapse-power:end -->"
    if "<!-- relapse-power:start -->" in text:
        text = re.sub(r"<!-- relapse-power:start -->.*<!-- relapse-power:end -->",
                      lambda _: block, text, flags=re.S)
    else:
        text += "\n" + block + "\n"
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-sims", type=int, default=1000, help="fast-path trials")
    parser.add_argument("--full-sims", type=int, default=1000, help="full-path trials")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-default-call", action="store_true",
                        help="skip the call with the null design")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite the docs block from the results file")
    parser.add_argument("--fast-again", action="store_true",
                        help="only the fast-path call again (e.g. on a quieter machine), "
                             "added to the results file")
    args = parser.parse_args()
    if args.render:
        write_docs(to_markdown(json.loads(RESULTS.read_text())))
        return
    if args.fast_again:
        results = json.loads(RESULTS.read_text())
        design = dataclasses.replace(TrialDesign(), n_per_arm=N_PER_ARM)
        results["power_fast_again"], _ = run_power(design, args.n_sims, args.jobs, fast=True)
        RESULTS.write_text(json.dumps(results, indent=1))
        markdown = to_markdown(results)
        print(markdown)
        if args.write_docs:
            write_docs(markdown)
        return
    design = dataclasses.replace(TrialDesign(), n_per_arm=N_PER_ARM)
    results: dict = {"machine": machine()}
    results["per_trial"] = per_trial(design, fast_sims=100, full_sims=20)
    results["power_fast"], fast = run_power(design, args.n_sims, args.jobs, fast=True)
    results["power_full"], full = run_power(design, args.full_sims, args.jobs, fast=False)
    results["equality"] = compare(fast, full)
    if not args.no_default_call:
        results["power_default"], _ = run_power(design, args.n_sims, args.jobs, fast=True,
                                                null=True)
    markdown = to_markdown(results)
    print(markdown)
    RESULTS.write_text(json.dumps(results, indent=1))
    if args.write_docs:
        write_docs(markdown)


if __name__ == "__main__":
    main()
