"""The fast refits of the imputation model (ketex/estimands/_refit.py) against the
MMRM engine fitted to the same resample's rows: same patterns, same estimates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketex import DataValidationError, reference_based_mi
from ketex.models._optimize import newton_from
from ketex.models._patterns import SubjectGrams, build_patterns


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(5)
    n = 50
    d = pd.DataFrame({
        "id": np.repeat([f"S{i:02d}" for i in range(n)], 3),
        "visit": np.tile(["W2", "W4", "W6"], n),
        "arm": np.repeat(np.where(np.arange(n) % 2 == 0, "PBO", "KET"), 3),
        "base": np.repeat(rng.normal(24, 4, n), 3),
    })  # fmt: skip
    d["change"] = (np.where(d["arm"] == "KET", -2.0, -1.0) * np.tile([1.0, 2.0, 3.0], n)
                   + np.repeat(rng.normal(0, 2, n), 3) + rng.normal(size=3 * n))  # fmt: skip
    d.loc[(np.repeat(np.arange(n), 3) % 7 == 3) & (d["visit"] == "W6"), "change"] = np.nan
    d.loc[(np.repeat(np.arange(n), 3) == 10) & (d["visit"] != "W2"), "change"] = np.nan
    # no MAR outcome at all: not a subject of the model frame
    d.loc[np.repeat(np.arange(n), 3) == 12, "change"] = np.nan
    ice = pd.DataFrame({"id": ["S03", "S12"], "visit": ["W6", "W2"], "strategy": "JR"})
    fit = reference_based_mi(
        d, "change ~ base * visit + arm * visit", subject="id", visit="visit", group="arm",
        references={"KET": "PBO", "PBO": "PBO"}, ice=ice, analysis_covariates=["base"],
        same_covariance=False,
    )  # fmt: skip
    return fit._model, fit._samples[0].parameters


def test_resampled_patterns_are_the_patterns_of_the_resampled_rows(model):
    frame = model[0].frame
    grams = SubjectGrams.build(frame.x, frame.y, frame.weights, frame.subject_codes,
                               frame.visit_codes, frame.group_codes)  # fmt: skip
    counts = np.random.default_rng(1).integers(0, 3, int(frame.subject_codes.max()) + 1)
    rows = np.repeat(np.arange(counts.size), counts)
    sub = model[0]._subset(np.asarray(frame.subject_labels)[rows])
    direct = build_patterns(sub.x, sub.y, sub.weights, sub.subject_codes, sub.visit_codes,
                            sub.group_codes)  # fmt: skip
    summed = grams.resample(counts)
    assert [v.tolist() for v in summed.visits] == [v.tolist() for v in direct.visits]
    np.testing.assert_array_equal(summed.group, direct.group)
    np.testing.assert_array_equal(summed.n_subjects, direct.n_subjects)
    np.testing.assert_array_equal(summed.subject_pattern, direct.subject_pattern)
    for a, b in zip(summed.gram, direct.gram, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("kind", ["jackknife", "bootstrap"])
def test_refit_is_the_engine_fit(model, kind):
    imputation, full = model
    n = imputation.long.n_subjects
    if kind == "jackknife":
        rows = np.delete(np.arange(n), 7)
    else:
        rows = np.sort(np.random.default_rng(3).choice(n, n))
    fast = imputation.fit(rows, start=full.theta)
    engine = imputation._fit_frame(imputation._subset(rows), full.theta)
    np.testing.assert_allclose(fast.beta, engine.beta, rtol=1e-9, atol=1e-10)
    for a, b in zip(fast.sigmas, engine.sigmas, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9)
    assert not np.allclose(fast.sigmas[0], fast.sigmas[1])  # one matrix per arm


def test_newton_from_says_when_it_has_not_converged(model):
    imputation, full = model
    refitter = imputation.refitter
    from ketex.models._likelihood import Likelihood

    patterns = refitter.grams.resample(np.ones(refitter.participant.size, dtype=int))
    likelihood = Likelihood(patterns, (refitter.structure,) * 2, reml=True)
    far = full.theta + 1.5
    assert not newton_from(likelihood, far, 1e-8, max_steps=1).converged
    assert newton_from(likelihood, full.theta, 1e-8).converged


def test_resample_without_one_arm_is_not_estimable(model):
    imputation, full = model
    rows = np.flatnonzero(imputation.long.arm_codes == 0)
    with pytest.raises(DataValidationError, match="not estimable in a resample"):
        imputation.fit(rows, start=full.theta)
