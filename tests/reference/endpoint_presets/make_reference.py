"""The outcomes of the endpoint presets on the bundled sample, as ketex computed them
before the rules became pieces (commit 0400f93: SustainedResponse and kin were classes
of their own, evaluated by an isinstance switch in evaluate.py).

Run from a checkout of that commit (or any later one: the presets keep their API)::

    PYTHONPATH=. python tests/reference/endpoint_presets/make_reference.py

It writes ``preset_outcomes.csv``: one row per case and participant; the case ids are
those of ``tests/derive/test_rule_pieces.py``, which evaluates the pieces (``Sustained``,
``Stable``, ``Consistent``) and compares.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import ketex
from ketex.derive.endpoints import (
    ConsistentRemission,
    RelapseRule,
    Remission,
    Response,
    StableRemission,
    StableResponse,
    SustainedRemission,
    SustainedResponse,
    endpoint_preset,
)
from ketex.derive.evaluate import evaluate_endpoint

HERE = Path(__file__).parent
#: Criteria by case name; None is the protocol's (``[endpoints]``).
CRITERIA = {
    "protocol response": (Response, None),
    "QIDS-SR16 response 40%": (Response, Response(0.4, scale="QIDS-SR16")),
    "protocol remission": (Remission, None),
    "MADRS<=12": (Remission, endpoint_preset("MADRS<=12")),
    "QIDS-SR16<=5": (Remission, endpoint_preset("QIDS-SR16<=5")),
}


def presets(kind, criterion):
    """The presets of every pattern, in the order of ``test_rule_pieces._pairs``."""
    response = kind is Response
    sustained = SustainedResponse if response else SustainedRemission
    stable = StableResponse if response else StableRemission
    cases = [
        sustained(criterion),
        sustained(criterion, "WEEK8", "WEEK24", "skip"),
        stable(criterion, last=3, at_least=2, last_required=1),
        stable(criterion, "WEEK24", last=2, at_least=2),
    ]
    if not response:  # there was no ConsistentResponse
        cases += [ConsistentRemission(criterion),
                  ConsistentRemission(criterion, 3, "WEEK4", missing="skip",
                                      event_day="last")]
    return cases


def main() -> None:
    trial = ketex.load_trial(ketex.sample_study_path())
    frames = []
    for name, (kind, criterion) in CRITERIA.items():
        for k, rule in enumerate(presets(kind, criterion)):
            frames.append(evaluate_endpoint(trial, rule).assign(case=f"{name}/{k}"))
    entry = RelapseRule(entry=endpoint_preset("SUSTAIN-1 stable remission"))
    frames.append(evaluate_endpoint(trial, entry).assign(case="relapse after stable remission"))
    table = pd.concat(frames, ignore_index=True)
    table = table[["case", *table.columns.drop("case")]]
    table.to_csv(HERE / "preset_outcomes.csv", index=False)


if __name__ == "__main__":
    main()
