"""Imputation strategies after an intercurrent event: MAR, JR, CR, CIR, LMCF.

A strategy turns the imputation model's parameters for a participant's own arm and for
the reference arm into the mean and covariance of the participant's outcomes at every
visit.  It works on a batch of participants who share the visits that are still
missing at random (``is_mar``) and the two covariance matrices:

``strategy(mu_own, mu_ref, sigma_own, sigma_ref, is_mar) -> (mu, sigma)``

with ``mu_own, mu_ref`` of shape ``(m, T)``, ``sigma_own, sigma_ref`` of shape
``(T, T)`` and ``is_mar`` a boolean vector of length ``T`` (``True`` before the first
visit affected by the intercurrent event).  These are rbmi's strategies (Carpenter,
Roger and Kenward 2013; rbmi's ``strategies.R``), written for batches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

__all__ = ["STRATEGIES", "Strategy", "strategy_functions"]

Strategy = Callable[
    [np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]
]


def _joint_sigma(sigma_own: np.ndarray, sigma_ref: np.ndarray, is_mar: np.ndarray) -> np.ndarray:
    """Covariance that is the own arm's before the event and the reference's after it.

    Carpenter et al. (2013): the conditional distribution of the post-event outcomes
    given the pre-event ones is the reference arm's, the pre-event block is the own
    arm's.  Equal matrices (one covariance for all arms, the default) give it back.
    """
    if np.array_equal(sigma_own, sigma_ref) or is_mar.all():
        return sigma_own
    if not is_mar.any():
        return sigma_ref
    a, b = np.flatnonzero(is_mar), np.flatnonzero(~is_mar)
    own_11 = sigma_own[np.ix_(a, a)]
    ref_11_inv = np.linalg.inv(sigma_ref[np.ix_(a, a)])
    ref_21 = sigma_ref[np.ix_(b, a)]
    s21 = ref_21 @ ref_11_inv @ own_11
    s22 = (
        sigma_ref[np.ix_(b, b)]
        - ref_21 @ ref_11_inv @ (sigma_ref[np.ix_(a, a)] - own_11) @ ref_11_inv @ ref_21.T
    )
    sigma = np.empty_like(sigma_own)
    sigma[np.ix_(a, a)] = own_11
    sigma[np.ix_(b, a)] = s21
    sigma[np.ix_(a, b)] = s21.T
    sigma[np.ix_(b, b)] = s22
    return sigma


def _mar(mu_own, mu_ref, sigma_own, sigma_ref, is_mar):
    """Missing at random: the own arm's model throughout."""
    return mu_own, sigma_own


def _jump_to_reference(mu_own, mu_ref, sigma_own, sigma_ref, is_mar):
    """JR: the own arm's mean before the event, the reference arm's mean after it."""
    mu = np.where(is_mar, mu_own, mu_ref)
    return mu, _joint_sigma(sigma_own, sigma_ref, is_mar)


def _copy_reference(mu_own, mu_ref, sigma_own, sigma_ref, is_mar):
    """CR: the reference arm's mean and covariance at every visit."""
    return mu_ref, sigma_ref


def _copy_increments_in_reference(mu_own, mu_ref, sigma_own, sigma_ref, is_mar):
    """CIR: from the last visit before the event, the reference arm's increments."""
    if is_mar.all():
        return mu_own, sigma_own
    if not is_mar.any():
        return mu_ref, sigma_ref
    last = int(np.flatnonzero(~is_mar)[0]) - 1
    increments = mu_ref - mu_ref[:, [last]]
    mu = np.where(is_mar, mu_own, mu_own[:, [last]] + increments)
    return mu, _joint_sigma(sigma_own, sigma_ref, is_mar)


def _last_mean_carried_forward(mu_own, mu_ref, sigma_own, sigma_ref, is_mar):
    """LMCF: the own arm's mean at the last visit before the event, carried forward."""
    if is_mar.all():
        return mu_own, sigma_own
    if not is_mar.any():  # checked on input; kept for user calls
        raise ValueError("LMCF needs at least one visit before the intercurrent event.")
    last = int(np.flatnonzero(~is_mar)[0]) - 1
    mu = np.where(is_mar, mu_own, mu_own[:, [last]])
    return mu, sigma_own


STRATEGIES: Mapping[str, Strategy] = {
    "MAR": _mar,
    "JR": _jump_to_reference,
    "CR": _copy_reference,
    "CIR": _copy_increments_in_reference,
    "LMCF": _last_mean_carried_forward,
}
"""The built-in strategies by name (rbmi's names)."""


def strategy_functions(user: Mapping[str, Strategy] | None = None) -> dict[str, Strategy]:
    """The built-in strategies plus user-defined ones (``MAR`` cannot be replaced).

    Parameters
    ----------
    user : mapping of str to callable, optional
        ``name -> strategy(mu_own, mu_ref, sigma_own, sigma_ref, is_mar)`` returning
        ``(mu, sigma)`` (shapes as the module describes).

    Returns
    -------
    dict

    Examples
    --------
    >>> import numpy as np
    >>> def half_way(mu_own, mu_ref, sigma_own, sigma_ref, is_mar):
    ...     return np.where(is_mar, mu_own, (mu_own + mu_ref) / 2), sigma_own
    >>> sorted(strategy_functions({"HALF": half_way}))
    ['CIR', 'CR', 'HALF', 'JR', 'LMCF', 'MAR']
    >>> mu, _ = STRATEGIES["CIR"](np.array([[0.0, -2.0, -4.0]]), np.array([[0.0, -1.0, -1.5]]),
    ...                           np.eye(3), np.eye(3), np.array([True, True, False]))
    >>> mu.tolist()
    [[0.0, -2.0, -2.5]]
    """
    functions = dict(STRATEGIES)
    for name, function in (user or {}).items():
        if not isinstance(name, str) or not name or name == "MAR":
            raise ValueError(
                f"User-defined strategy names must be non-empty strings other than 'MAR'; "
                f"got {name!r}."
            )
        if not callable(function):
            raise TypeError(f"Strategy {name!r} must be a function, got {type(function).__name__}.")
        functions[name] = function
    return functions
