"""Benchmark endpoint evaluation against building the analysis dataset (issue #17, row 1-2).

For simulated trials of 80 to 20,000 participants (``ketex.simulate_trial``, the sample's
design with ``n_per_arm`` changed), each call is timed on its own, data in memory:

- ``analysis_dataset(trial, "MADRS")``: the yardstick;
- ``time_to_event(trial, "SUSTAIN-1")``;
- ``evaluate_endpoint`` for one rule of every family: ``Achieved`` (response at the primary
  visit), ``SustainedResponse``, ``StableRemission`` (SUSTAIN-1), ``ConsistentRemission``
  (ASPIRE), ``RelapseRule`` (SUSTAIN-1).

Each evaluation builds its own analysis dataset, so the ratio to ``analysis_dataset`` is
the cost of the rule itself plus one. The target is a ratio of at most 2 at every size.
Run it once with ``PYTHONPATH`` pointing at another checkout to time that code instead
(``--label before``); results go to ``benchmarks/results_endpoints.json`` under the label.

Usage (from the repository root)::

    python benchmarks/bench_endpoints.py [--label after] [--sizes 80 500 2000 20000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import time
from functools import partial
from pathlib import Path

import ketex
from ketex.derive.endpoints import Achieved, Response, SustainedResponse
from ketex.simulate.design import TrialDesign

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results_endpoints.json"
RULES = {
    "Achieved (response, WEEK12)": Achieved(Response(0.5)),
    "SustainedResponse": SustainedResponse(Response(0.5)),
    "StableRemission (SUSTAIN-1)": ketex.endpoint_preset("SUSTAIN-1 stable remission"),
    "ConsistentRemission (ASPIRE)": ketex.endpoint_preset("ASPIRE consistent remission"),
    "RelapseRule (SUSTAIN-1)": ketex.endpoint_preset("SUSTAIN-1"),
}


def _seconds(call, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def run(sizes: list[int]) -> list[dict]:
    rows = []
    for n in sizes:
        design = dataclasses.replace(TrialDesign(), n_per_arm=max(1, n // 2))
        trial = ketex.simulate_trial(design, seed=7)
        participants = len(trial.participants)
        repeat = 3 if participants <= 2000 else 1
        base = _seconds(partial(ketex.analysis_dataset, trial, "MADRS"), repeat)
        calls = {"time_to_event (SUSTAIN-1)": partial(ketex.time_to_event, trial, "SUSTAIN-1")}
        calls |= {f"evaluate_endpoint {name}": partial(ketex.evaluate_endpoint, trial, rule)
                  for name, rule in RULES.items()}
        rows.append({"participants": participants, "call": "analysis_dataset (MADRS)",
                     "seconds": base, "ratio": 1.0})
        for name, call in calls.items():
            seconds = _seconds(call, repeat)
            rows.append({"participants": participants, "call": name, "seconds": seconds,
                         "ratio": seconds / base})
            print(f"{participants:>6} {name:<45} {seconds:8.3f} s  {seconds / base:5.2f} x",
                  flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="after")
    parser.add_argument("--sizes", type=int, nargs="+", default=[80, 500, 2000, 20000])
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[args.label] = {"machine": platform.platform(), "python": platform.python_version(),
                           "ketex": str(Path(ketex.__file__).parent), "rows": run(args.sizes)}
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
