"""Run the examples of docs/power.md and write their output into it.

Usage (from the repository root; resumable, the simulations are kept in --cache)::

    python docs/power_examples.py [--cache /tmp/ketex-power-docs]

Writes the summary tables between the ``mmrm-curve`` and ``relapse-curve`` markers of
``docs/power.md`` and the figure ``docs/img/power-curves.png``. The MMRM curve takes
about 7 CPU minutes, the relapse curve about 40 (each relapse trial goes through
``simulate_trial`` and ``time_to_event``).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from ketex.simulate import (  # noqa: E402
    AddedEffectDesign,
    MMRMAnalysis,
    RelapseAnalysis,
    TrialDesign,
    power,
)

DOC = ROOT / "docs" / "power.md"
FIGURE = ROOT / "docs" / "img" / "power-curves.png"
COLUMNS = ["scenario", "n_per_arm", "n_sims", "n_failed", "rejection_rate",
           "rejection_ci_low", "rejection_ci_high", "true_effect", "bias", "coverage"]


def table(result, name: str) -> str:
    text = result.summary[COLUMNS].to_string(index=False, float_format="{:.3f}".format)
    return f"```\n>>> {name}.summary[columns]\n{text}\n```"


def replace(text: str, marker: str, block: str) -> str:
    pattern = rf"<!-- {marker}:start -->.*<!-- {marker}:end -->"
    return re.sub(pattern, lambda _: f"<!-- {marker}:start -->\n{block}\n<!-- {marker}:end -->",
                  text, flags=re.S)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", default="/tmp/ketex-power-docs")
    args = parser.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)

    design = dataclasses.replace(
        TrialDesign(),
        added_effects=(AddedEffectDesign("SERIES", change_madrs=-3.0, onset_days=14),),
    )
    through_week12 = MMRMAnalysis(visits=("WEEK2", "WEEK3", "WEEK4", "WEEK6", "WEEK8",
                                          "WEEK10", "WEEK12"))
    result = power(design, n_per_arm=[30, 50, 70, 90], n_sims=1000, seed=2026,
                   analysis=through_week12, results_file=cache / "mmrm.csv")
    relapse = power(TrialDesign(), n_per_arm=[40, 80, 120], n_sims=200,
                    analysis=RelapseAnalysis(), seed=2026, results_file=cache / "relapse.csv")

    ax = result.plot(label="MMRM, -3 points at week 12")
    relapse.plot(ax=ax, label="relapse, log-rank", target=None)
    ax.set_title("Sample design: SERIES vs SINGLE")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize="small")
    FIGURE.parent.mkdir(exist_ok=True)
    ax.figure.savefig(FIGURE, dpi=120, bbox_inches="tight")

    relapse_estimates = relapse.simulations.groupby(["scenario", "n_per_arm"])[
        ["estimate", "events"]].mean().round(2)
    text = DOC.read_text()
    text = replace(text, "mmrm-curve", table(result, "result"))
    text = replace(text, "relapse-curve", table(relapse, "relapse") + "\n\nMean log hazard ratio "
                   "and relapses per trial:\n\n```\n" + relapse_estimates.to_string() + "\n```")
    DOC.write_text(text)
    print(result.summary.to_string())
    print(relapse.summary.to_string())
    print(relapse_estimates)


if __name__ == "__main__":
    main()
