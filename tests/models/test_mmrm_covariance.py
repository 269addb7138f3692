"""Covariance structures: shapes, derivatives, and the patterns they should follow."""

from __future__ import annotations

import numpy as np
import pytest

from ketex.models.covariance import (
    COVARIANCE_STRUCTURES,
    covariance_structure,
    starting_values,
)

TIMES = (0.0, 0.5, 2.0, 4.5)


def _structure(name):
    return covariance_structure(name, 4, TIMES if name == "sp_exp" else None)


@pytest.mark.parametrize("name", list(COVARIANCE_STRUCTURES))
def test_derivatives_match_central_differences(name):
    structure = _structure(name)
    theta = np.random.default_rng(7).normal(scale=0.4, size=structure.n_params)
    sigma, first, second = structure.derivatives(theta, order=2)
    step = 1e-6
    basis = np.eye(structure.n_params)
    num_first = np.array(
        [
            (structure.matrix(theta + step * e) - structure.matrix(theta - step * e)) / (2 * step)
            for e in basis
        ]
    )
    num_second = np.array(
        [
            (
                structure.derivatives(theta + step * e)[1]
                - structure.derivatives(theta - step * e)[1]
            )
            / (2 * step)
            for e in basis
        ]
    )
    # central differences: truncation ~1e-12, rounding ~1e-10 at step 1e-6
    np.testing.assert_allclose(first, num_first, atol=1e-7)
    np.testing.assert_allclose(second, num_second, atol=1e-7)
    np.testing.assert_allclose(sigma, sigma.T)
    assert len(structure.param_names()) == structure.n_params


@pytest.mark.parametrize(
    "name,count",
    [
        ("us", 10),
        ("cs", 2),
        ("csh", 5),
        ("ar1", 2),
        ("ar1h", 5),
        ("toep", 4),
        ("toeph", 7),
        ("ad", 4),
        ("adh", 7),
        ("sp_exp", 2),
    ],
)
def test_number_of_parameters_as_sas(name, count):
    assert _structure(name).n_params == count


def test_structures_have_their_defining_pattern():
    log_sd = np.log(2.0)
    ar1 = _structure("ar1").matrix(np.array([log_sd, 1.0]))
    rho = 1 / np.sqrt(2)
    assert ar1[0, 2] == pytest.approx(4 * rho**2)
    cs = _structure("cs").matrix(np.array([log_sd, 0.0]))
    off = cs[~np.eye(4, dtype=bool)]
    assert np.allclose(off, off[0]) and np.allclose(np.diag(cs), 4.0)
    ad = _structure("ad").matrix(np.array([0.0, 1.0, -1.0, 0.5]))
    r = np.array([1.0, -1.0, 0.5]) / np.sqrt(1 + np.array([1.0, 1.0, 0.25]))
    assert ad[0, 3] == pytest.approx(r.prod())
    sp = _structure("sp_exp").matrix(np.array([0.0, 0.0]))  # rho = 0.5 per time unit
    assert sp[0, 2] == pytest.approx(0.5**2.0) and sp[1, 3] == pytest.approx(0.5**4.0)
    toeph = _structure("toeph").matrix(np.array([0.0, np.log(2), 0.0, 0.0, 0.3, 0.2, 0.1]))
    assert toeph[1, 1] == pytest.approx(4.0)


@pytest.mark.parametrize("name", list(COVARIANCE_STRUCTURES))
def test_starting_values_are_valid(name):
    structure = _structure(name)
    empirical = np.array(
        [
            [4.0, 2.0, np.nan, 1.0],
            [2.0, 5.0, 2.5, 1.2],
            [np.nan, 2.5, 6.0, 3.0],
            [1.0, 1.2, 3.0, 7.0],
        ]
    )
    theta = starting_values(structure, empirical)
    assert theta.shape == (structure.n_params,)
    assert np.all(np.linalg.eigvalsh(structure.matrix(theta)) > 0)


def test_unknown_structure_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown covariance structure 'unstructured'"):
        covariance_structure("unstructured", 3)
    with pytest.raises(ValueError, match="sp_exp needs one numeric time"):
        covariance_structure("sp_exp", 3)
