"""Imputing the missing outcomes from the imputation model under each strategy.

For participant ``i`` with outcomes ``y = (y_o, y_m)`` and strategy-adjusted mean ``mu``
and covariance ``Sigma``, the missing values are normal with

    E[y_m | y_o] = mu_m + Sigma_mo Sigma_oo^-1 (y_o - mu_o)
    Var[y_m | y_o] = Sigma_mm - Sigma_mo Sigma_oo^-1 Sigma_om

Conditional mean imputation uses the mean (Wolbers et al. 2022); multiple imputation
draws from the distribution.  Participants sharing the missingness pattern, the visits
under MAR, the strategy and the arms share the matrices, so each group is done at once.
"""

from __future__ import annotations

import numpy as np

from ketex.estimands.imputation_model import ImputationModel, ModelParameters
from ketex.estimands.strategies import Strategy

__all__ = ["impute"]


def impute(
    model: ImputationModel,
    parameters: ModelParameters,
    strategies: dict[str, Strategy],
    rows: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Outcomes of participants ``rows`` (n_rows, T) with the missing ones imputed.

    ``rng=None`` gives the conditional mean; a generator draws one imputation.
    """
    long = model.long
    rows = np.arange(long.n_subjects) if rows is None else np.asarray(rows)
    y = long.y[rows].copy()
    missing = np.isnan(y)
    mu_own_all, mu_ref_all = model.means(parameters)
    arms, references = long.arm_codes[rows], long.reference_codes[rows]
    strategy, is_mar = long.strategy[rows], long.is_mar[rows]
    needs = missing.any(axis=1)
    strategy_code = np.unique(strategy, return_inverse=True)[1].reshape(-1)
    keys = np.column_stack([missing, is_mar, arms, references, strategy_code]).astype(np.int64)
    unique_keys, group_of = np.unique(keys[needs], axis=0, return_inverse=True)
    group_of = group_of.reshape(-1)
    who_needs = np.flatnonzero(needs)
    for g in range(len(unique_keys)):
        members = who_needs[group_of == g]
        first = members[0]
        q, m_mar = missing[first], is_mar[first]
        mu, sigma = strategies[strategy[first]](
            mu_own_all[rows[members]],
            mu_ref_all[rows[members]],
            parameters.sigmas[arms[first]],
            parameters.sigmas[references[first]],
            m_mar,
        )
        o = ~q
        if o.any():
            gain = np.linalg.solve(sigma[np.ix_(o, o)], sigma[np.ix_(o, q)]).T
            mean = mu[:, q] + (y[np.ix_(members, o)] - mu[:, o]) @ gain.T
            variance = sigma[np.ix_(q, q)] - gain @ sigma[np.ix_(o, q)]
        else:
            mean, variance = mu[:, q], sigma[np.ix_(q, q)]
        if rng is not None:
            root = np.linalg.cholesky(variance)
            mean = mean + rng.standard_normal(mean.shape) @ root.T
        y[np.ix_(members, np.flatnonzero(q))] = mean
    return y
