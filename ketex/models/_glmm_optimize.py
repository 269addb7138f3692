"""Minimising the GLMM deviance over ``(beta, log sigma)``, with fallbacks.

Each optimiser of the control's sequence starts from the same values; its end point is
polished by Newton steps on a Hessian from central differences of the analytic gradient,
and accepted when the Newton decrement ``g' H^-1 g`` of the deviance is below the
tolerance with ``H`` positive definite; the loop is the one of every likelihood model
(:mod:`ketex.models._fallbacks`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ketex.models._fallbacks import Attempt, first_converged, newton_decrement, verdict
from ketex.models._glmm_likelihood import GLMMLikelihood

__all__ = ["GLMMOptimisation", "minimise_deviance"]

OPTIMISERS = ("BFGS", "L-BFGS-B", "Nelder-Mead", "Powell")


@dataclass(frozen=True)
class GLMMOptimisation:
    theta: np.ndarray
    deviance: float
    gradient: np.ndarray
    hessian: np.ndarray | None
    converged: bool
    optimiser: str
    messages: tuple[str, ...]


_decrement = newton_decrement


def _polish(lik: GLMMLikelihood, theta: np.ndarray, tolerance: float, steps: int = 8):
    deviance, gradient = lik.evaluate(theta)
    hessian = lik.hessian(theta)
    for _ in range(steps):
        decrement = _decrement(gradient, hessian)
        if decrement < tolerance * 1e-4 or not np.isfinite(decrement) or gradient is None:
            break
        direction = np.linalg.solve(hessian, gradient)
        for scale in 0.5 ** np.arange(12):
            candidate = theta - scale * direction
            trial, trial_gradient = lik.evaluate(candidate)
            if np.isfinite(trial) and trial <= deviance + 1e-10 * abs(deviance):
                break
        else:
            break
        theta, deviance, gradient = candidate, trial, trial_gradient
        hessian = lik.hessian(theta)
    return theta, deviance, gradient, hessian


def minimise_deviance(
    lik: GLMMLikelihood,
    start: np.ndarray,
    optimisers: tuple[str, ...],
    max_iterations: int,
    tolerance: float,
) -> GLMMOptimisation:
    """Minimise with each optimiser in turn until one converges."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        return _minimise(lik, start, optimisers, max_iterations, tolerance)


def _minimise(lik, start, optimisers, max_iterations, tolerance) -> GLMMOptimisation:
    def objective(theta):
        value, gradient = lik.evaluate(theta)
        if not np.isfinite(value):
            return np.inf, np.zeros_like(theta)
        return value, gradient

    def attempt(name: str, messages: list[str]) -> Attempt | None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                warnings.simplefilter("ignore", optimize.OptimizeWarning)
                raw = _run(lik, objective, start, name, max_iterations)
            theta = np.asarray(raw.x, dtype=float)
            theta, deviance, gradient, hessian = _polish(lik, theta, tolerance)
            note = f"{name}: {raw.message}"
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as error:
            messages.append(f"{name}: failed with {type(error).__name__}: {error}")
            return None
        converged, message = verdict(note, _decrement(gradient, hessian), tolerance,
                                     finite=bool(np.isfinite(deviance)))
        messages.append(message)
        return Attempt(name, (theta, gradient, hessian), deviance, converged)

    best, messages = first_converged(optimisers, attempt)
    if best is None:
        deviance, gradient = lik.evaluate(start)
        return GLMMOptimisation(np.asarray(start, float), deviance, gradient, None, False,
                                "none", messages)
    theta, gradient, hessian = best.end
    return GLMMOptimisation(theta, best.objective, gradient, hessian, best.converged,
                            best.name, messages)


def _run(lik, objective, start, name: str, max_iterations: int):
    if name in ("BFGS", "L-BFGS-B"):
        options: dict[str, float] = {"maxiter": max_iterations}
        if name == "BFGS":
            options["gtol"] = 1e-6
        return optimize.minimize(objective, start, jac=True, method=name, options=options)
    return optimize.minimize(lik.deviance, start, method=name,
                             options={"maxiter": max_iterations * 20,
                                      "xatol": 1e-8, "fatol": 1e-10}
                             if name == "Nelder-Mead" else {"maxiter": max_iterations})
