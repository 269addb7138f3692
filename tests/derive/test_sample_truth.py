"""Derived endpoints on the bundled sample study agree with what the simulator generated.

The sample (``ketex/data/sample``) is ``simulate_trial(TrialDesign(), seed=1)``; ``truth.csv``
holds each participant's latent baseline ``b``, true MADRS at each visit and true response
and remission at WEEK12 (``t12 <= b / 2``, ``t12 <= 10``). What is observed is a rating:
``round(true + e)`` with ``e ~ N(0, 3^2)`` (``MeasurementDesign.residual_sd_madrs``), the
baseline rating conditioned on being >= 22 (``BaselineDesign.eligibility_min_madrs``:
lower-rated candidates are screen failures), residuals of ratings 12 weeks apart
correlated by 0.5 ** 12 (negligible). So the observed rates are *not* the true rates: the
noise misclassifies participants near the cut-off. The tests compute, by hand from that
measurement model, each participant's probability ``p_i`` of being *observed* a responder
(remitter) given the truth, and check

1. the observed count lies within 3 standard deviations of ``sum(p_i)``, the standard
   deviation being ``sqrt(sum(p_i (1 - p_i)))`` (independent participants); and
2. every participant whose ``p_i`` is below 1e-4 or above 1 - 1e-4 (far from the
   cut-off) is classified as the truth says.

Small departures from the model (1 % of items blanked and prorated) move totals by a
fraction of a point, well inside these tolerances.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import ketex
from ketex.derive.endpoints import Remission, Response, endpoint_preset
from ketex.derive.evaluate import evaluate_endpoint

SD = 3.0  # MeasurementDesign.residual_sd_madrs
ELIGIBLE = 22  # BaselineDesign.eligibility_min_madrs
SURE = 1e-4


@pytest.fixture(scope="module")
def sample():
    path = ketex.sample_study_path()
    truth = pd.read_csv(path / "truth.csv", dtype={"participant_id": "string"})
    return ketex.load_trial(path), truth.set_index("participant_id")


def p_observed_response(b: float, t12: float) -> float:
    """P(round(t12 + e12) <= round(b + e0) / 2 | round(b + e0) >= 22)."""
    k = np.arange(ELIGIBLE, 61)
    p_base = norm.cdf((k + 0.5 - b) / SD) - norm.cdf((k - 0.5 - b) / SD)
    p_base[-1] = 1 - norm.cdf((59.5 - b) / SD)  # ratings above 60 are clipped to 60
    # an integer rating r satisfies r <= k / 2 exactly when r <= floor(k / 2)
    p_week12 = norm.cdf((np.floor(k / 2) + 0.5 - t12) / SD)
    return float((p_base * p_week12).sum() / p_base.sum())


def p_observed_remission(t12: float) -> float:
    """P(round(t12 + e) <= 10)."""
    return float(norm.cdf((10.5 - t12) / SD))


def check(observed: pd.Series, p: np.ndarray, truth_flag: pd.Series) -> None:
    met = observed.astype(bool).to_numpy()
    expected, sd = p.sum(), np.sqrt((p * (1 - p)).sum())
    assert abs(met.sum() - expected) <= 3 * sd, (met.sum(), expected, sd)
    sure = (p < SURE) | (p > 1 - SURE)
    assert sure.sum() >= 5  # the check below is not empty
    assert (met[sure] == truth_flag.to_numpy(bool)[sure]).all()


def test_response_at_week12_agrees_with_truth(sample):
    trial, truth = sample
    out = evaluate_endpoint(trial, Response()).set_index("participant_id")
    seen = out[out["met"].notna()]  # observed at WEEK12 (the others dropped out)
    assert len(seen) >= 70
    t = truth.loc[seen.index]
    p = np.array([p_observed_response(b, m) for b, m in
                  zip(t["baseline_madrs"], t["true_madrs_WEEK12"], strict=True)])
    check(seen["met"], p, t["true_response"])


def test_remission_at_week12_agrees_with_truth(sample):
    trial, truth = sample
    out = evaluate_endpoint(trial, Remission("MADRS", max_score=10)).set_index(
        "participant_id")
    seen = out[out["met"].notna()]
    t = truth.loc[seen.index]
    p = np.array([p_observed_remission(m) for m in t["true_madrs_WEEK12"]])
    check(seen["met"], p, t["true_remission"])


def test_relapses_are_grounded_in_the_true_course(sample):
    """Every derived relapse rests on simulated facts: a hospitalisation the simulator
    recorded, or ratings >= 22 at visits whose true MADRS was at least 22 - 4 x 3 = 10
    (a rating 4 residual SDs above the truth has probability 3e-5)."""
    trial, truth = sample
    rule = endpoint_preset("SUSTAIN-1")
    for event_day in ("first", "last"):
        out = evaluate_endpoint(trial, dataclasses.replace(rule, event_day=event_day))
        relapsed = out[out["met"].fillna(False).astype(bool)]
        assert len(relapsed) >= 5
        for _, row in relapsed.iterrows():
            true = truth.loc[row["participant_id"]]
            if pd.isna(row["visit"]):  # by event: the simulator's hospitalisation
                assert row["day"] == true["hospitalisation_day"]
            else:
                assert true[f"true_madrs_{row['visit']}"] >= 22 - 4 * SD
    # every hospitalisation after entry is a relapse by that day at the latest
    out = evaluate_endpoint(trial, rule)
    at_risk = out[out["eligible"].fillna(False).astype(bool)].set_index("participant_id")
    day = truth.loc[at_risk.index, "hospitalisation_day"]
    later = day[day > at_risk["start_day"].astype(float)]
    assert len(later) >= 1
    assert (at_risk.loc[later.index, "day"].astype(float) <= later).all()
