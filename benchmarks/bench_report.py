"""Benchmark ``ketex report`` on the bundled samples, with and without its analysis context
(issue #17, row 3-4).

``after``: :func:`ketex.write_report` as it runs, one :class:`ketex.AnalysisContext` per
report, each derived table and each model computed once. ``before``: the same code with
the context's cache switched off, so every table and figure derives what it needs again
(the analysis dataset, the endpoint evaluations, the times to event, the exercise dose,
the primary MMRM): what the report did before the context; both write the same
``report.html`` (``tests/report/test_report_context.py``).

Each run is a fresh process (imports and first-use costs alike for both) that loads the
sample and times ``write_report`` alone with the default options (every table and figure
format, 600-dpi PNG), as ``ketex report`` runs it. It also records the seconds spent in
MMRM fits, the process's CPU seconds (less sensitive than the wall time to other work
on a shared machine) and how many times each derivation was computed. ``before`` and ``after``
runs alternate; the median of ``--runs`` runs is reported. Results go to
``benchmarks/results_report.json``.

Usage (from the repository root)::

    python benchmarks/bench_report.py [--runs 3] [--samples yale factorial simulated:2000]

``simulated:N`` is a trial simulated with the sample's design and N participants
(``ketex.simulate_trial``, seed 7).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results_report.json"
NAMES = ("analysis_dataset", "evaluate_endpoint", "time_to_event", "exercise_dose",
         "primary_analysis")
MODULES = ("ketex.derive.analysis", "ketex.derive.evaluate", "ketex.derive.time_to_event",
           "ketex.derive.exercise", "ketex.primary")


def child(study: str, mode: str) -> dict:
    """One report in this process; returns its timings and counts."""
    import importlib
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import ketex
    import ketex.models
    from ketex.derive import _cache

    computed: Counter = Counter()
    for name, where in zip(NAMES, MODULES, strict=True):
        module = importlib.import_module(where)
        original = getattr(module, f"_{name}")

        def counted(*args, _name=name, _original=original, **kwargs):
            computed[_name] += 1
            return _original(*args, **kwargs)

        setattr(module, f"_{name}", counted)
    fit, fits = ketex.models.mmrm, []

    def timed_fit(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fit(*args, **kwargs)
        finally:
            fits.append(time.perf_counter() - start)

    ketex.models.mmrm = timed_fit
    if mode == "before":
        _cache.DerivationCache.get = lambda self, name, key, compute, copy: compute()
    if study.startswith("simulated:"):  # the sample's design at another size
        import dataclasses

        from ketex.simulate.design import TrialDesign

        n = int(study.split(":", 1)[1])
        trial = ketex.simulate_trial(dataclasses.replace(TrialDesign(), n_per_arm=n // 2),
                                     seed=7)
    else:
        trial = ketex.load_trial(ketex.sample_study_path(study=study))
    with tempfile.TemporaryDirectory() as out, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start, cpu = time.perf_counter(), time.process_time()
        ketex.write_report(trial, out)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"study": study, "mode": mode, "participants": len(trial.participants),
            "seconds": seconds, "cpu_seconds": cpu, "mmrm_fits": len(fits),
            "mmrm_seconds": sum(fits),
            "computed": dict(computed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", nargs="+", default=["yale", "factorial"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", nargs=2, metavar=("STUDY", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    runs = []
    for study in args.samples:
        for i in range(args.runs):
            for mode in ("before", "after"):
                done = subprocess.run([sys.executable, __file__, "--child", study, mode],
                                      capture_output=True, text=True, check=True, cwd=ROOT)
                run = json.loads(done.stdout.splitlines()[-1])
                runs.append(run)
                print(f"{study:>9} {mode:<6} run {i + 1}: {run['seconds']:6.1f} s "
                      f"({run['cpu_seconds']:6.1f} s CPU), MMRM fits "
                      f"{run['mmrm_fits']} in {run['mmrm_seconds']:5.1f} s, computed "
                      f"{run['computed']}", flush=True)
    summary = []
    for study in args.samples:
        for mode in ("before", "after"):
            mine = [r for r in runs if r["study"] == study and r["mode"] == mode]
            summary.append({"study": study, "mode": mode,
                            "participants": mine[0]["participants"],
                            "median_seconds": statistics.median(r["seconds"] for r in mine),
                            "median_cpu_seconds": statistics.median(r["cpu_seconds"]
                                                                    for r in mine),
                            "median_mmrm_seconds": statistics.median(r["mmrm_seconds"]
                                                                     for r in mine),
                            "mmrm_fits": mine[0]["mmrm_fits"],
                            "computed": mine[0]["computed"]})
    for row in summary:
        print(f"{row['study']:>9} {row['mode']:<6} median {row['median_seconds']:6.1f} s "
              f"({row['median_cpu_seconds']:6.1f} s CPU) "
              f"(MMRM {row['median_mmrm_seconds']:5.1f} s in {row['mmrm_fits']} fits)")
    args.out.write_text(json.dumps({
        "machine": f"{platform.processor() or platform.machine()}, "
                   f"Python {platform.python_version()}",
        "runs": runs, "summary": summary}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
