"""Minimising ``-2 log L`` over the variance parameters, with fallbacks.

Each optimiser of the control's sequence starts from the same starting values; the
first whose end point passes the convergence checks (finite objective, small
Newton decrement ``g' H^-1 g`` and a positive definite Hessian) wins.  A few exact
Newton steps polish the end point, since the Hessian is analytic and cheap.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ketex.models._fallbacks import Attempt, first_converged, newton_decrement, verdict
from ketex.models._likelihood import Evaluation, Likelihood

__all__ = ["OptimisationResult", "minimise", "newton_from"]


@dataclass(frozen=True)
class OptimisationResult:
    theta: np.ndarray
    evaluation: Evaluation  # with gradient and Hessian
    converged: bool
    optimiser: str
    messages: tuple[str, ...]
    n_iterations: int


class _Cache:
    """Reuse the last evaluation: scipy asks for value, gradient and Hessian apart."""

    def __init__(self, likelihood: Likelihood) -> None:
        self.likelihood = likelihood
        self.theta: np.ndarray | None = None
        self.evaluation: Evaluation | None = None
        self.order = -1
        self.best: tuple[float, np.ndarray] = (np.inf, np.empty(0))

    def get(self, theta: np.ndarray, order: int) -> Evaluation:
        evaluation = self.evaluation  # set together with self.theta
        if (evaluation is None or self.theta is None or order > self.order
                or not np.array_equal(theta, self.theta)):
            evaluation = self.likelihood.evaluate(theta, order)
            self.evaluation = evaluation
            self.theta = np.array(theta, dtype=float)
            self.order = order
            if evaluation.objective < self.best[0]:
                self.best = (evaluation.objective, self.theta.copy())
        return evaluation

    def fun(self, theta):
        return self.get(theta, 0).objective

    def jac(self, theta):
        ev = self.get(theta, 1)
        if ev.gradient is None:  # not positive definite: push back
            return np.zeros_like(theta)
        return ev.gradient

    def hess(self, theta):
        ev = self.get(theta, 2)
        if ev.hessian is None:
            return np.eye(theta.size)
        return ev.hessian


def _newton_decrement(ev: Evaluation) -> float:
    return newton_decrement(ev.gradient, ev.hessian)


def _polish(likelihood: Likelihood, theta: np.ndarray, ev: Evaluation, steps: int = 5):
    """Exact Newton steps with step halving while the objective does not rise."""
    for _ in range(steps):
        if ev.hessian is None or ev.gradient is None or _newton_decrement(ev) < 1e-20:
            break
        try:
            direction = np.linalg.solve(ev.hessian, ev.gradient)
        except np.linalg.LinAlgError:
            break
        for scale in (1.0, 0.5, 0.25, 0.125):
            candidate = theta - scale * direction
            trial = likelihood.evaluate(candidate, 2)
            if trial.finite and trial.objective <= ev.objective + 1e-12 * abs(ev.objective):
                theta, ev = candidate, trial
                break
        else:
            break
    return theta, ev


def minimise(
    likelihood: Likelihood,
    start: np.ndarray,
    optimisers: tuple[str, ...],
    max_iterations: int,
    tolerance: float,
) -> OptimisationResult:
    """Minimise with each optimiser in turn until one converges."""
    # far from the optimum exp() of a log-sd may overflow: that point's objective is
    # then infinite or NaN and is rejected, which is all the overflow needs to do
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        return _minimise(likelihood, start, optimisers, max_iterations, tolerance)


def _minimise(likelihood, start, optimisers, max_iterations, tolerance) -> OptimisationResult:
    first = likelihood.evaluate(start, 0)
    notes = [] if first.finite else [
        "starting values give a covariance that is not positive definite"]

    def attempt(name: str, messages: list[str]) -> Attempt | None:
        messages.extend(notes)
        notes.clear()
        theta, iterations, note = _run(likelihood, start, name, max_iterations)
        ev = likelihood.evaluate(theta, 2)
        if not ev.finite:
            messages.append(note + "; ended where the covariance is not positive definite")
            return None
        theta, ev = _polish(likelihood, theta, ev)
        converged, message = verdict(note, _newton_decrement(ev), tolerance)
        messages.append(message)
        return Attempt(name, (theta, ev, iterations), ev.objective, converged)

    best, messages = first_converged(optimisers, attempt)
    messages = (*notes, *messages)
    if best is None:
        return OptimisationResult(np.asarray(start, dtype=float), first, False, "none",
                                  messages, 0)
    theta, ev, iterations = best.end
    return OptimisationResult(theta, ev, best.converged, best.name, messages, iterations)


def _run(likelihood, start, name: str, max_iterations: int) -> tuple[np.ndarray, int, str]:
    """One scipy optimiser from ``start``: its end point (the best point seen if the end
    is not finite), its iterations and its message."""
    cache = _Cache(likelihood)
    options: dict[str, float] = {"maxiter": max_iterations}
    kwargs = {"jac": cache.jac}
    if name in ("trust-exact", "trust-ncg", "trust-krylov", "newton-cg"):
        kwargs["hess"] = cache.hess
    if name == "trust-exact":
        options["gtol"] = 1e-8
    try:
        with warnings.catch_warnings():
            # scipy warns when a line search meets the edge of the parameter space
            # (infinite objective); the checks of the caller judge the end point instead
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", optimize.OptimizeWarning)
            raw = optimize.minimize(cache.fun, start, method=name, options=options, **kwargs)
        theta = np.asarray(raw.x, dtype=float)
        if not np.isfinite(cache.fun(theta)) and np.isfinite(cache.best[0]):
            theta = cache.best[1]
        return theta, int(getattr(raw, "nit", 0) or 0), f"{name}: {raw.message}"
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as error:
        theta = cache.best[1] if np.isfinite(cache.best[0]) else np.asarray(start)
        return theta, 0, f"{name}: failed with {type(error).__name__}: {error}"


def newton_from(
    likelihood: Likelihood, start: np.ndarray, tolerance: float, max_steps: int = 25
) -> OptimisationResult:
    """Exact Newton steps (with step halving) from a start near the optimum.

    For refits of one model to resamples of its data (jackknife, bootstrap), warm
    started from the full-data estimate: the steps :func:`minimise` polishes its end
    point with, until the Newton decrement is below 1e-20, without an optimiser's
    overhead.  Once it is below 1e-12 the last step is taken without gradient and
    Hessian (quadratic convergence puts the next decrement far below 1e-20), so the
    result's ``evaluation`` may lack them.  ``converged`` as in :func:`minimise`;
    when it is False, call :func:`minimise`.
    """
    theta = np.asarray(start, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        ev = likelihood.evaluate(theta, 2)
        if not ev.finite:
            return OptimisationResult(
                theta, ev, False, "newton", ("newton: start not positive definite",), 0
            )
        n_steps = 0
        for n_steps in range(1, max_steps + 1):  # noqa: B007 (counted)
            decrement = _newton_decrement(ev)
            # no Hessian or gradient: the decrement is infinite and solve would fail
            if decrement < 1e-20 or ev.hessian is None or ev.gradient is None:
                break
            try:
                direction = np.linalg.solve(ev.hessian, ev.gradient)
            except np.linalg.LinAlgError:
                break
            last = decrement < 1e-12
            for scale in (1.0, 0.5, 0.25, 0.125):
                candidate = theta - scale * direction
                trial = likelihood.evaluate(candidate, 0 if last else 2)
                if trial.finite and trial.objective <= ev.objective + 1e-12 * abs(ev.objective):
                    theta, ev = candidate, trial
                    break
            else:
                break
            if last:
                break
        else:
            decrement = _newton_decrement(ev)
    converged = bool(decrement < tolerance)
    message = f"newton: {n_steps} steps, Newton decrement {decrement:.2e} before the last"
    return OptimisationResult(theta, ev, converged, "newton", (message,), n_steps)
