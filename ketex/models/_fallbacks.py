"""The one optimiser loop of the likelihood models: optimisers tried in turn.

:func:`ketex.mmrm` (:mod:`ketex.models._optimize`), :func:`ketex.glmm`
(:mod:`ketex.models._glmm_optimize`) and :func:`ketex.lmm` each run a sequence of
scipy optimisers from the same start and polish each end point by Newton steps; the
first end point whose Newton decrement ``g' H^-1 g`` is below the tolerance (with
``H`` positive definite) wins, else the best one is reported as not converged. What
differs per model (scipy's options, the polish, the parameter space) is the model's
``attempt``; the loop, the decrement and the wording of each attempt's message are here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

__all__ = ["Attempt", "first_converged", "newton_decrement", "verdict"]

EndT = TypeVar("EndT")


@dataclass(frozen=True)
class Attempt(Generic[EndT]):
    """One optimiser's polished end point."""

    name: str
    end: EndT  # the model's own description of the end point
    objective: float
    converged: bool


def newton_decrement(gradient: np.ndarray | None, hessian: np.ndarray | None) -> float:
    """``g' H^-1 g``; infinite when ``H`` is missing or not positive definite.

    Examples
    --------
    >>> newton_decrement(np.array([2.0]), np.array([[4.0]]))
    1.0
    >>> newton_decrement(np.array([1.0]), np.array([[-1.0]]))
    inf
    """
    if hessian is None or gradient is None:
        return np.inf
    try:
        chol = np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return np.inf
    step = np.linalg.solve(chol, gradient)
    return float(step @ step)


def verdict(note: str, decrement: float, tolerance: float, finite: bool = True
            ) -> tuple[bool, str]:
    """Whether an end point converged, and the attempt's message.

    Examples
    --------
    >>> verdict("BFGS: done", 1e-12, 1e-8)
    (True, 'BFGS: done; converged (Newton decrement 1.00e-12)')
    """
    converged = bool(finite and decrement < tolerance)
    if converged:
        return True, note + f"; converged (Newton decrement {decrement:.2e})"
    if np.isinf(decrement):
        return False, note + "; Hessian is not positive definite at the end point"
    return False, note + f"; Newton decrement {decrement:.2e} above {tolerance:g}"


def first_converged(
    optimisers: tuple[str, ...], attempt: Callable[[str, list[str]], Attempt[EndT] | None]
) -> tuple[Attempt[EndT] | None, tuple[str, ...]]:
    """Run ``attempt(name, messages)`` for each optimiser until one converges.

    ``attempt`` appends its message to ``messages`` and returns its :class:`Attempt`,
    or None when it has no usable end point. Returns the converged attempt, or the one
    with the lowest objective (None if none had an end point), and every message.
    """
    messages: list[str] = []
    best: Attempt[EndT] | None = None
    for name in optimisers:
        outcome = attempt(name, messages)
        if outcome is None:
            continue
        if outcome.converged:
            return outcome, tuple(messages)
        if best is None or outcome.objective < best.objective:
            best = outcome
    return best, tuple(messages)
