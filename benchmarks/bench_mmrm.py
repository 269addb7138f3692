"""Benchmark ketex.mmrm against R on bcva_data (unstructured covariance, REML).

The anchor of issue #4: ``BCVA_CHG ~ BCVA_BL + RACE + ARMCD * AVISIT`` with an
unstructured covariance over 10 visits, 1,000 subjects in ``../shared/reference``,
replicated (new subject ids) to 10,000 and 100,000 subjects; below 1,000 subjects the
first ``n`` subjects are used.  Each fit runs in a fresh process, which reports its
wall time for the fit call only (data already in memory, as in R) and its peak
resident memory.

Usage (from the repository root)::

    python benchmarks/bench_mmrm.py                      # ketex scaling curve
    python benchmarks/bench_mmrm.py --r mmrm:1000,10000 --r gls:1000   # plus R side by side
    python benchmarks/bench_mmrm.py --write-docs         # update docs/benchmarks.md

R engines: ``mmrm`` (the R package, built from source into ``$R_LIBS``), ``gls``
(nlme), ``glmmTMB``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _machine import machine  # benchmarks/ is the script's folder, first on sys.path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "reference" / "bcva_data.csv"
DOC = ROOT / "docs" / "benchmarks.md"
FORMULA = "BCVA_CHG ~ BCVA_BL + RACE + C(ARMCD, Treatment('CTL')) * AVISIT"

_CHILD = r"""
import json, resource, sys, time
import pandas as pd
sys.path.insert(0, sys.argv[3])
from ketex.models import mmrm
n = int(sys.argv[2])
data = pd.read_csv(sys.argv[1])
reps = max(1, n // 1000)
data = pd.concat(
    [data.assign(USUBJID=data["USUBJID"].astype(str) + f"_{r}") for r in range(reps)],
    ignore_index=True,
)
if n < 1000:
    keep = data["USUBJID"].drop_duplicates().iloc[:n]
    data = data[data["USUBJID"].isin(keep)]
start = time.perf_counter()
fit = mmrm(data, sys.argv[4], subject="USUBJID", visit="AVISIT")
seconds = time.perf_counter() - start
print(json.dumps({
    "engine": "ketex", "n_subjects": fit.n_subjects, "seconds": seconds,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "minus2loglik": -2 * fit.loglik, "converged": fit.converged,
    "terms": fit.coef["term"].tolist(), "estimate": fit.coef["estimate"].tolist(),
    "se": fit.coef["se"].tolist(),
}))
"""


def run_ketex(n: int) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, str(DATA), str(n), str(ROOT), FORMULA],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run_r(engine: str, n: int) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        completed = subprocess.run(
            [
                "Rscript",
                str(ROOT / "benchmarks" / "bench_mmrm.R"),
                str(DATA),
                str(n),
                engine,
                str(out),
            ],
            capture_output=True,
            text=True,
        )
        if completed.returncode != 0 or not out.exists():
            print(f"R {engine} at {n} failed: {completed.stderr[-500:]}", file=sys.stderr)
            return None
        result = json.loads(out.read_text())
        result["warnings"] = "false convergence" in completed.stderr
        return result


def _r_term(name: str) -> str:
    name = name.replace("(Intercept)", "Intercept").replace(
        "ARMCDTRT", "C(ARMCD, Treatment('CTL'))[T.TRT]"
    )
    return re.sub(r"(RACE|AVISIT)(\w+)", r"\1[T.\2]", name)


def max_deviation(ketex: dict, other: dict) -> float:
    """Largest |difference of estimates| in units of ketex's standard error."""
    ours = dict(zip(ketex["terms"], zip(ketex["estimate"], ketex["se"], strict=True), strict=True))
    worst = 0.0
    for term, value in zip(other["terms"], other["estimate"], strict=True):
        estimate, se = ours[_r_term(term)]
        worst = max(worst, abs(estimate - value) / se)
    return worst


def to_markdown(results: list[dict]) -> str:
    lines = [
        "| engine | subjects | seconds | peak memory (MiB) | -2 REML log-lik "
        "| max abs. diff. vs ketex (SE) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    ketex = {r["n_subjects"]: r for r in results if r["engine"] == "ketex"}
    for r in results:
        memory = f"{r['peak_rss_mib']:.0f}" if "peak_rss_mib" in r else ""
        deviation = ""
        if r["engine"] != "ketex" and r["n_subjects"] in ketex:
            deviation = f"{max_deviation(ketex[r['n_subjects']], r):.1e}"
        note = " (false convergence warning)" if r.get("warnings") else ""
        lines.append(
            f"| {r['engine']}{note} | {r['n_subjects']:,} | {r['seconds']:.2f} | {memory} | "
            f"{r['minus2loglik']:.3f} | {deviation} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,300,1000,3000,10000,30000,100000")
    parser.add_argument(
        "--r",
        action="append",
        default=[],
        metavar="ENGINE:SIZES",
        help="R engine (mmrm, gls, glmmTMB) and comma-separated sizes, e.g. mmrm:1000,10000",
    )
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"bcva_data.csv not found at {DATA.resolve()}")
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        result = run_ketex(n)
        print(
            f"ketex {n:>7,} subjects: {result['seconds']:.2f} s, {result['peak_rss_mib']:.0f} MiB",
            flush=True,
        )
        results.append(result)
    for spec in args.r:
        engine, _, sizes = spec.partition(":")
        for n in [int(s) for s in (sizes or "1000").split(",")]:
            result = run_r(engine, n)
            if result is not None:
                print(f"R {engine} {n:>7,} subjects: {result['seconds']:.2f} s", flush=True)
                results.append(result)
    table = to_markdown(results)
    print(table)
    out = ROOT / "benchmarks" / "results_mmrm.json"
    out.write_text(json.dumps({"machine": machine(), "results": results}, indent=1))
    if args.write_docs:
        text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
        block = f"<!-- mmrm:start -->\nMachine: {machine()}.\n\n{table}\n<!-- mmrm:end -->"
        if "<!-- mmrm:start -->" in text:
            text = re.sub(r"<!-- mmrm:start -->.*<!-- mmrm:end -->", block, text, flags=re.S)
        else:
            text += "\n" + block + "\n"
        DOC.write_text(text)


if __name__ == "__main__":
    main()
