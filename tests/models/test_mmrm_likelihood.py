"""The per-pattern likelihood against a textbook per-subject computation, and the
analytic gradient and Hessian against numerical differentiation."""

from __future__ import annotations

import numpy as np
import pytest

from ketex.models._design import build_model_frame
from ketex.models._likelihood import Likelihood
from ketex.models._patterns import build_patterns
from ketex.models.covariance import COVARIANCE_STRUCTURES, covariance_structure
from tests.models.conftest import simulate_trial


def _setup(structure_name, reml, grouped=False, weighted=False, seed=3):
    data = simulate_trial(n_subjects=30, n_visits=4, seed=seed)
    frame = build_model_frame(
        data,
        "change ~ arm * visit + baseline",
        model="MMRM",
        subject="subject",
        visit="time" if structure_name == "sp_exp" else "visit",
        covariance_group="arm" if grouped else None,
        weights="weight" if weighted else None,
    )
    times = tuple(float(v) for v in frame.visit_levels) if structure_name == "sp_exp" else None
    structure = covariance_structure(structure_name, len(frame.visit_levels), times)
    structures = tuple(structure for _ in frame.covariance_group_levels)
    patterns = build_patterns(
        frame.x, frame.y, frame.weights, frame.subject_codes, frame.visit_codes,
        frame.covariance_group_codes,
    )
    likelihood = Likelihood(patterns, structures, reml)
    rng = np.random.default_rng(seed)
    theta = rng.normal(scale=0.3, size=likelihood.n_params)
    theta[: structure.n_visits if structure.heterogeneous else 1] += 1.0
    return frame, likelihood, theta


def _textbook(frame, likelihood, theta):
    """-2 log L built subject by subject with dense matrices."""
    x, y, w = frame.x, frame.y, frame.weights
    k = x.shape[1]
    sigmas = [
        s.matrix(theta[sl]) for s, sl in zip(likelihood.structures, likelihood.slices, strict=True)
    ]
    blocks = []
    for subject in np.unique(frame.subject_codes):
        rows = np.flatnonzero(frame.subject_codes == subject)
        visits = frame.visit_codes[rows]
        sigma = sigmas[frame.group_codes[rows[0]]][np.ix_(visits, visits)]
        scale = np.diag(1 / np.sqrt(w[rows]))
        blocks.append((rows, scale @ sigma @ scale))
    xtvx = sum(x[r].T @ np.linalg.solve(v, x[r]) for r, v in blocks)
    xtvy = sum(x[r].T @ np.linalg.solve(v, y[r]) for r, v in blocks)
    beta = np.linalg.solve(xtvx, xtvy)
    logdet = sum(np.linalg.slogdet(v)[1] for _, v in blocks)
    quad = sum((y[r] - x[r] @ beta) @ np.linalg.solve(v, y[r] - x[r] @ beta) for r, v in blocks)
    n = len(y)
    if likelihood.reml:
        return (n - k) * np.log(2 * np.pi) + logdet + np.linalg.slogdet(xtvx)[1] + quad, beta
    return n * np.log(2 * np.pi) + logdet + quad, beta


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("grouped,weighted", [(False, False), (True, True)])
def test_objective_equals_per_subject_computation(reml, grouped, weighted):
    frame, likelihood, theta = _setup("us", reml, grouped, weighted)
    expected, beta = _textbook(frame, likelihood, theta)
    ev = likelihood.evaluate(theta)
    # same arithmetic, different order of summation: agreement to rounding
    assert ev.objective == pytest.approx(expected, rel=1e-10)
    np.testing.assert_allclose(ev.beta, beta, rtol=1e-8, atol=1e-10)


def _central_difference(function, theta, step=1e-5):
    return np.array(
        [
            (function(theta + step * e) - function(theta - step * e)) / (2 * step)
            for e in np.eye(theta.size)
        ]
    )


@pytest.mark.parametrize("name", list(COVARIANCE_STRUCTURES))
@pytest.mark.parametrize("reml", [True, False])
def test_gradient_and_hessian_match_numerical_differentiation(name, reml):
    frame, likelihood, theta = _setup(name, reml, grouped=(name == "ar1h"), weighted=(name == "cs"))
    ev = likelihood.evaluate(theta, order=2)
    assert ev.finite
    numerical_gradient = _central_difference(lambda t: likelihood.evaluate(t).objective, theta)
    numerical_hessian = _central_difference(lambda t: likelihood.evaluate(t, 1).gradient, theta)
    # central differences with step 1e-5 are accurate to ~1e-9 relative here; the
    # objective is ~1e2-1e3, so 1e-5 relative to the largest entry is a tight check
    scale_g = max(1.0, np.abs(ev.gradient).max())
    scale_h = max(1.0, np.abs(ev.hessian).max())
    np.testing.assert_allclose(ev.gradient, numerical_gradient, atol=1e-5 * scale_g)
    np.testing.assert_allclose(ev.hessian, numerical_hessian, atol=1e-5 * scale_h)


def test_not_positive_definite_gives_infinite_objective():
    frame, likelihood, theta = _setup("toep", True)
    # lag correlations 0.99, -0.99, 0.99 cannot form a positive definite Toeplitz matrix
    bad = np.array([0.0, 7.0, -7.0, 7.0])
    assert not likelihood.evaluate(bad).finite
