"""Benchmark ketex.reference_based_mi against R rbmi (issue #12, "Speed").

1. Conditional mean imputation + jackknife on rbmi's antidepressant trial
   (tests/reference/estimands: 172 participants, 4 visits, 43 discontinuations), one
   whole call per strategy (MAR, JR, CR, CIR): the imputation MMRM fitted to the full
   data and to the 172 leave-one-out samples, imputation, per-visit ANCOVA, pooling.
   ketex: median of ``--repeats`` (3) calls. R: ``benchmarks/bench_estimands.R`` in a
   subprocess, timing ``draws(method_condmean(type = "jackknife"))`` + ``impute`` +
   ``analyse(ancova)`` + ``pool`` per strategy (rbmi as shipped), when ``Rscript`` and
   rbmi are installed (``R_LIBS_USER``, default /work/rlib). The week-6 estimate and SE
   of both are recorded: they agree to about 1e-5 relative (rbmi's default optimiser
   stops short of the REML maximum; tests/reference/estimands/README.md).
2. 1,000 conditional mean bootstrap replicates of a simulated trial (``ketex.simulate``:
   2 x 150 participants, MADRS change at weeks 2, 4, 8 and 12, the design's dropout as
   JR intercurrent events), serial and with 2 local processes; the two results must be
   identical.

CPU seconds are recorded beside wall seconds: the machine is shared, and the load
average (1-minute, ``os.getloadavg``) before and after each part is written down.

Usage (from the repository root)::

    python benchmarks/bench_estimands.py                # everything, R if available
    python benchmarks/bench_estimands.py --write-docs   # and update docs/benchmarks.md
    python benchmarks/bench_estimands.py --no-r         # ketex alone
    python benchmarks/bench_estimands.py --render       # docs from the recorded JSON
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine  # benchmarks/ is the script's folder, first on sys.path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from ketex import reference_based_mi  # noqa: E402
from ketex.simulate import TrialDesign  # noqa: E402
from ketex.simulate.fast import simulate_changes  # noqa: E402

DATA = ROOT / "tests" / "reference" / "estimands"
DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "benchmarks" / "results_estimands.json"
R_SCRIPT = ROOT / "benchmarks" / "bench_estimands.R"
STRATEGIES = ("MAR", "JR", "CR", "CIR")
FORMULA = "CHANGE ~ BASVAL * VISIT + THERAPY * VISIT"
ROLES = {"subject": "PATIENT", "visit": "VISIT", "group": "THERAPY"}
REFERENCES = {"DRUG": "PLACEBO", "PLACEBO": "PLACEBO"}
BOOT_VISITS = ("WEEK2", "WEEK4", "WEEK8", "WEEK12")
SEED = 2026


def load() -> list[float]:
    """The 1-, 5- and 15-minute load averages (as `uptime`)."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []


def cpu_seconds() -> float:
    """CPU seconds of this process and its children, live or finished."""
    try:
        import psutil
    except ImportError:  # pragma: no cover
        return time.process_time()
    me = psutil.Process()
    total = sum(me.cpu_times()[:4])  # user, system, children user, children system
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def antidepressant() -> tuple[pd.DataFrame, pd.DataFrame]:
    data = pd.read_csv(DATA / "antidepressant.csv", dtype={"PATIENT": str, "VISIT": str})
    data["THERAPY"] = pd.Categorical(data["THERAPY"], ["PLACEBO", "DRUG"])
    ice = pd.read_csv(DATA / "antidepressant_ice.csv", dtype={"PATIENT": str, "VISIT": str})
    return data, ice


def ketex_jackknife(repeats: int) -> dict:
    data, ice = antidepressant()
    out = {"load_before": load()}
    for strategy in STRATEGIES:
        seconds, cpu = [], []
        for _ in range(repeats):
            start, c0 = time.perf_counter(), cpu_seconds()
            fit = reference_based_mi(data, FORMULA, **ROLES, references=REFERENCES,
                                     ice=ice.assign(strategy=strategy),
                                     analysis_covariates=["BASVAL"])
            seconds.append(time.perf_counter() - start)
            cpu.append(cpu_seconds() - c0)
        week6 = fit.data[fit.data["visit"] == "7"].iloc[0]
        out[strategy] = {"seconds": seconds, "cpu_seconds": cpu,
                         "median_seconds": statistics.median(seconds),
                         "median_cpu_seconds": statistics.median(cpu),
                         "estimate": float(week6["estimate"]), "se": float(week6["se"])}
        print(f"ketex {strategy}: {statistics.median(seconds):.2f} s", file=sys.stderr)
    out["load_after"] = load()
    return out


def r_available(r_libs: str) -> bool:
    if shutil.which("Rscript") is None:
        return False
    done = subprocess.run(["Rscript", "-e", "cat(requireNamespace('rbmi', quietly = TRUE))"],
                          capture_output=True, text=True, env={**os.environ,
                                                               "R_LIBS_USER": r_libs})
    return done.stdout.strip().endswith("TRUE")


def r_jackknife(repeats: int, r_libs: str) -> dict | None:
    if not r_available(r_libs):
        print("Rscript or rbmi not available: R skipped", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as folder:
        out_file = Path(folder) / "r.json"
        before = load()
        subprocess.run(["Rscript", str(R_SCRIPT), str(DATA), str(out_file), str(repeats)],
                       check=True, env={**os.environ, "R_LIBS_USER": r_libs},
                       stderr=subprocess.DEVNULL)
        result = json.loads(out_file.read_text())
    result["load_before"], result["load_after"] = before, load()
    for strategy in STRATEGIES:
        seconds = result[strategy]["seconds"]
        cpu = result[strategy]["cpu_seconds"]
        seconds = seconds if isinstance(seconds, list) else [seconds]
        cpu = cpu if isinstance(cpu, list) else [cpu]
        result[strategy].update(seconds=seconds, cpu_seconds=cpu,
                                median_seconds=statistics.median(seconds),
                                median_cpu_seconds=statistics.median(cpu))
        print(f"rbmi {strategy}: {statistics.median(seconds):.1f} s", file=sys.stderr)
    return result


def bootstrap_trial() -> tuple[pd.DataFrame, pd.DataFrame]:
    design = dataclasses.replace(TrialDesign(), n_per_arm=150)
    data = simulate_changes(design, seed=SEED, visits=list(BOOT_VISITS))
    data = data.assign(USUBJID=data["USUBJID"].astype(str),
                       ARM=pd.Categorical(data["ARM"].astype(str),
                                          [str(c) for c in data["ARM"].cat.categories]))
    first = data[data["CHG"].isna()].groupby("USUBJID", as_index=False, observed=True)
    ice = first["AVISIT"].first().assign(strategy="JR")
    ice["AVISIT"] = ice["AVISIT"].astype(str)
    data["AVISIT"] = data["AVISIT"].astype(str)
    return data, ice


def bootstrap(n_samples: int, jobs: int) -> dict:
    data, ice = bootstrap_trial()
    arms = list(data["ARM"].cat.categories)
    references = {arm: arms[0] for arm in arms}
    out = {"participants": int(data["USUBJID"].nunique()),
           "visits": list(BOOT_VISITS), "arms": arms, "n_samples": n_samples,
           "participants_with_ice": len(ice),
           "missing_at_week12": int(data.loc[data["AVISIT"] == "WEEK12", "CHG"].isna().sum())}
    fits = {}
    for label, backend, n_jobs in [("serial", "serial", None),
                                   (f"{jobs} local processes", "processes", jobs)]:
        before = load()
        start, c0 = time.perf_counter(), cpu_seconds()
        fits[label] = reference_based_mi(
            data, "CHG ~ BASE * AVISIT + ARM * AVISIT", subject="USUBJID", visit="AVISIT",
            group="ARM", references=references, ice=ice, analysis_covariates=["BASE"],
            method="condmean_bootstrap", n_samples=n_samples, seed=SEED, backend=backend,
            n_jobs=n_jobs)
        out[label] = {"seconds": time.perf_counter() - start, "cpu_seconds": cpu_seconds() - c0,
                      "load_before": before, "load_after": load()}
        print(f"bootstrap {label}: {out[label]['seconds']:.1f} s", file=sys.stderr)
    first, second = fits.values()
    pd.testing.assert_frame_equal(first.data, second.data)
    week12 = first.data[first.data["visit"] == "WEEK12"].iloc[0]
    out["identical_across_backends"] = True
    out["week12"] = {"estimate": float(week12["estimate"]), "ci_low": float(week12["ci_low"]),
                     "ci_high": float(week12["ci_high"])}
    return out


def _load(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values) if values else "n/a"


def to_markdown(results: dict) -> str:
    k, r, b = results["ketex"], results.get("r"), results["bootstrap"]
    lines = [f"Machine: {results['machine']}. Other jobs were running: load average "
             f"(1 / 5 / 15 min, `uptime`) {_load(results['load_start'])} at the start, "
             f"{_load(results['load_end'])} at the end.", ""]
    lines += ["Conditional mean + jackknife, antidepressant trial (172 participants, 4 visits; "
              "173 MMRM fits per call):", "",
              "| strategy | ketex s (CPU s) | rbmi s (CPU s) | rbmi / ketex (wall) | "
              "rbmi / ketex (CPU) | week-6 estimate ketex / rbmi | SE ketex / rbmi |",
              "|---|---:|---:|---:|---:|---|---|"]
    for s in STRATEGIES:
        ks = k[s]
        if r is not None:
            rs = r[s]
            lines.append(
                f"| {s} | {ks['median_seconds']:.2f} ({ks['median_cpu_seconds']:.2f}) | "
                f"{rs['median_seconds']:.1f} ({rs['median_cpu_seconds']:.1f}) | "
                f"{rs['median_seconds'] / ks['median_seconds']:.1f} | "
                f"{rs['median_cpu_seconds'] / ks['median_cpu_seconds']:.1f} | "
                f"{ks['estimate']:.6f} / {rs['estimate']:.6f} | {ks['se']:.6f} / {rs['se']:.6f} |")
        else:
            lines.append(f"| {s} | {ks['median_seconds']:.2f} ({ks['median_cpu_seconds']:.2f}) "
                         f"| - | - | - | {ks['estimate']:.6f} | {ks['se']:.6f} |")
    lines.append("")
    repeats = len(k[STRATEGIES[0]]["seconds"])
    note = (f"ketex: median of {repeats} calls, load {_load(k['load_before'])} before and "
            f"{_load(k['load_after'])} after.")
    if r is not None:
        rep = len(r[STRATEGIES[0]]["seconds"])
        note += (f" rbmi: {r['versions']['rbmi']} on mmrm {r['versions']['mmrm']}, "
                 f"{r['versions']['R']}, {rep} run{'s' if rep > 1 else ''} per strategy "
                 f"(median), load {_load(r['load_before'])} before and "
                 f"{_load(r['load_after'])} after.")
    lines += [note, ""]
    serial, parallel = [b[key] for key in b if isinstance(b[key], dict) and "seconds" in b[key]]
    labels = [key for key in b if isinstance(b[key], dict) and "seconds" in b[key]]
    lines += [f"Conditional mean + bootstrap, {b['n_samples']:,} replicates of a simulated "
              f"trial ({b['participants']} participants, visits {', '.join(b['visits'])}; "
              f"{b['participants_with_ice']} with a JR intercurrent event, "
              f"{b['missing_at_week12']} missing at week 12):", "",
              "| backend | wall s | CPU s | load before / after |", "|---|---:|---:|---|"]
    for label, row in zip(labels, (serial, parallel), strict=True):
        lines.append(f"| {label} | {row['seconds']:.1f} | {row['cpu_seconds']:.1f} | "
                     f"{row['load_before'][0]:.2f} / {row['load_after'][0]:.2f} |")
    lines += ["", "The pooled results of the two backends are identical "
              f"(week-12 estimate {b['week12']['estimate']:.3f}, 95% percentile CI "
              f"{b['week12']['ci_low']:.3f} to {b['week12']['ci_high']:.3f})."]
    return "\n".join(lines)


def write_docs(markdown: str) -> None:
    text = DOC.read_text()
    block = f"<!-- estimands:start -->\n{markdown}\n<!-- estimands:end -->"
    if "<!-- estimands:start -->" not in text:
        raise SystemExit("docs/benchmarks.md has no <!-- estimands:start --> block")
    text = re.sub(r"<!-- estimands:start -->.*<!-- estimands:end -->", lambda _: block, text,
                  flags=re.S)
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="ketex calls per strategy")
    parser.add_argument("--r-repeats", type=int, default=1, help="rbmi runs per strategy")
    parser.add_argument("--no-r", action="store_true")
    parser.add_argument("--r-libs", default=os.environ.get("R_LIBS_USER", "/work/rlib"))
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates")
    parser.add_argument("--jobs", type=int, default=2, help="local processes")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--render", action="store_true",
                        help="only write docs/benchmarks.md from results_estimands.json")
    args = parser.parse_args()
    if args.render:
        write_docs(to_markdown(json.loads(RESULTS.read_text())))
        return
    results = {"machine": machine(), "load_start": load()}
    results["ketex"] = ketex_jackknife(args.repeats)
    results["r"] = None if args.no_r else r_jackknife(args.r_repeats, args.r_libs)
    results["bootstrap"] = bootstrap(args.bootstrap, args.jobs)
    results["load_end"] = load()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    markdown = to_markdown(results)
    print(markdown)
    if args.write_docs:
        write_docs(markdown)


if __name__ == "__main__":
    main()
