"""Linear mixed models with random effects per group: the entry point :func:`lmm`.

Random intercept and slope growth models (e.g. MADRS trajectories after the last
infusion) fitted by REML or ML as ``lme4::lmer``, with t tests on Satterthwaite degrees
of freedom as ``lmerTest``. The deviance is in :mod:`ketex.models._lmm_likelihood`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar, cast

import numpy as np
import pandas as pd
from scipy import optimize

from ketex._deprecated import renamed
from ketex.errors import ConvergenceError, ConvergenceWarning
from ketex.models._control import OptimiserControl
from ketex.models._design import GroupedFrame, build_model_frame
from ketex.models._fallbacks import Attempt, first_converged, newton_decrement, verdict
from ketex.models._inference import Inference, between_within_df
from ketex.models._lmm_likelihood import LMMDeviance, lambda_matrix, theta_lower_bounds
from ketex.models.lmm_result import LMMResult

__all__ = ["LMMControl", "lmm"]

_OPTIMISERS = ("BFGS", "L-BFGS-B", "Nelder-Mead", "Powell")
_DF_METHODS = ("satterthwaite", "residual", "between_within")
#: a diagonal entry of Lambda below this (relative SD) is on the boundary (lme4's "singular")
_BOUNDARY = 1e-6


@dataclass(frozen=True)
class LMMControl(OptimiserControl):
    """Validated fitting options for :func:`lmm`.

    Parameters
    ----------
    optimisers : tuple of str
        scipy.optimize methods tried in turn until one converges: ``"BFGS"``,
        ``"L-BFGS-B"`` (both with the analytic gradient), ``"Nelder-Mead"``, ``"Powell"``;
        each end point is polished by Newton steps.
    max_iterations : int
    tolerance : float
        Convergence when the Newton decrement of the deviance over the free variance
        parameters is below it (and their Hessian is positive definite).
    conf_level : float
        Level of the confidence intervals (``confidence_level``: its deprecated alias).
    start : tuple of float, optional
        Starting ``theta`` (the entries of the relative Cholesky factor, column by
        column, as lme4's ``getME(fit, "theta")``); default: the identity.
    warn_on_fallback : bool

    Examples
    --------
    >>> LMMControl(optimisers="Nelder-Mead").optimisers
    ('Nelder-Mead',)
    >>> LMMControl(max_iterations=0)
    Traceback (most recent call last):
    ...
    ValueError: max_iterations must be a positive integer, got 0.
    """

    OPTIMISERS: ClassVar[tuple[str, ...]] = _OPTIMISERS

    optimisers: tuple[str, ...] = ("BFGS", "Nelder-Mead")


def lmm(
    data: pd.DataFrame,
    formula: str,
    *,
    subject: str | None = None,
    re_formula: str = "1 + time",
    method: str = "reml",
    df: str = "satterthwaite",
    control: LMMControl | None = None,
    groups: str | None = None,
) -> LMMResult:
    """Fit a linear mixed model with correlated random effects per group.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data: one row per observation (participant and assessment).
    formula : str
        patsy formula of the fixed effects, e.g. ``"madrs ~ arm * time + madrs_baseline"``.
    subject : str
        Column whose levels (participants) get random effects.
    re_formula : str
        patsy formula (right side) of the random effects: ``"1 + time"`` (default:
        random intercept and slope, lme4's ``(1 + time | id)``), ``"1"`` (random
        intercept), ``"0 + time"``, ``"1 + time + I(time**2)"``. Their covariance is
        unstructured.
    method : {"reml", "ml"}
    df : {"satterthwaite", "residual", "between_within"}
        Degrees of freedom of the t and F tests: Satterthwaite (lmerTest's default),
        ``n - p``, or between-within.
    control : LMMControl, optional
    groups : str, optional
        Deprecated alias of ``subject`` (a :class:`FutureWarning`; removed in the next
        release).

    Returns
    -------
    LMMResult
        ``coef`` (``term, estimate, se, df, statistic, p_value, ci_low, ci_high``),
        ``variance_components``, ``random_effects`` (BLUPs), ``lsmeans``, ``contrast``,
        ``anova``, ``predict`` as :func:`ketex.mmrm`.

    Raises
    ------
    ketex.errors.DataValidationError
        Missing columns, missing group labels, a rank-deficient design.
    ketex.errors.ConvergenceError
        No optimiser converged.

    Warns
    -----
    ketex.errors.ConvergenceWarning
        A boundary (singular) fit: a random-effect SD estimated at 0 or correlations of
        +-1; the Satterthwaite df then treat those parameters as fixed.

    Notes
    -----
    The model and its profiled deviance are lme4's (:mod:`ketex.models._lmm_likelihood`);
    ``theta`` minimises it (the diagonal of ``Lambda`` is made >= 0 afterwards, the
    deviance being even in each column). ``loglik`` is the
    log (restricted) likelihood; ``aic = -2 loglik + 2 d`` and ``bic = -2 loglik + d
    log(n_obs)`` with ``d`` = fixed effects + variance parameters + 1, as lme4 (also
    under REML). Satterthwaite df follow lmerTest (Kuznetsova et al. 2017): the
    variance parameters are ``(theta, sigma)``, their covariance ``2 H^-1`` from the
    Hessian ``H`` of the deviance, and the gradient of ``vcov(beta)`` over them.

    The R equivalent: ``lmerTest::lmer(madrs ~ arm * time + (1 + time | id), data, REML =
    TRUE)``, ``summary(fit)``.

    References
    ----------
    Bates D, Maechler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models
    using lme4. J Stat Softw 67(1).
    Kuznetsova A, Brockhoff PB, Christensen RHB (2017). lmerTest package: tests in
    linear mixed effects models. J Stat Softw 82(13).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> n, weeks = 50, np.array([0.0, 1, 2, 4, 6, 8])
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(n), weeks.size),
    ...                   "arm": np.repeat(rng.permutation(np.repeat(["PBO", "KET"], n // 2)),
    ...                                    weeks.size),
    ...                   "time": np.tile(weeks, n)})
    >>> intercept, slope = rng.normal(0, 4, n), rng.normal(0, 0.5, n)
    >>> d["madrs"] = (30 + np.repeat(intercept, weeks.size)
    ...               + (np.repeat(slope, weeks.size) - 1.0 - 0.5 * (d["arm"] == "KET"))
    ...               * d["time"] + rng.normal(0, 2, len(d)))
    >>> fit = lmm(d, "madrs ~ C(arm, Treatment('PBO')) * time", subject="id")
    >>> fit.converged, fit.n_obs, fit.n_subjects
    (True, 300, 50)
    >>> fit.variance_components["term"].tolist()
    ['sd__Intercept', 'sd__time', 'cor__Intercept.time', 'sd__Observation']
    """
    subject = renamed("lmm", "groups", "subject", groups, subject)
    if subject is None:
        raise TypeError("lmm() missing the keyword argument subject= (the column of "
                        "participants or clusters).")
    control = control if control is not None else LMMControl()
    if not isinstance(control, LMMControl):
        raise TypeError("control must be an LMMControl.")
    problems = []
    if method not in ("reml", "ml"):
        problems.append(f"method must be 'reml' or 'ml', got {method!r}")
    if df not in _DF_METHODS:
        problems.append(f"df must be one of {list(_DF_METHODS)}, got {df!r}")
    if not isinstance(re_formula, str) or "~" in re_formula:
        problems.append(f"re_formula must be the right side of a formula such as '1 + time', "
                        f"got {re_formula!r}")
    if problems:
        raise ValueError("Cannot fit the LMM: " + "; ".join(problems) + ".")
    frame = cast(GroupedFrame,  # kind=GroupedFrame builds one
                 build_model_frame(data, formula, model="LMM", subject=subject,
                                   re_formula=re_formula, kind=GroupedFrame))
    if frame.z is None or frame.z.shape[1] == 0:
        raise ValueError(f"Cannot fit the LMM: re_formula {re_formula!r} has no random effect.")
    centre = np.linalg.lstsq(frame.x, frame.y, rcond=None)[0]
    deviance = LMMDeviance(frame.x, frame.y - frame.x @ centre, frame.z, frame.starts,
                           reml=(method == "reml"))
    q = frame.z.shape[1]
    lower = theta_lower_bounds(q)
    start = _start(control, q)
    if control.start is None:
        # the identity may be orders of magnitude off (SDs relative to the residual SD):
        # start from the best multiple of it
        scales = 10.0 ** np.arange(-2.0, 1.5, 0.5)
        values = [deviance.deviance(scale * start) for scale in scales]
        start = scales[int(np.nanargmin(values))] * start
    theta, converged, optimiser, messages = _minimise(deviance, start, lower, control)
    if not converged:
        raise ConvergenceError(
            "The LMM did not converge. What was tried: " + " | ".join(messages)
            + ". What to try: a simpler re_formula (e.g. '1' instead of '1 + time'); "
            "centring or rescaling time (e.g. in weeks rather than days); other optimisers "
            "in LMMControl(optimisers=...); LMMControl(start=...)."
        )
    boundary = _on_boundary(theta, lower, q)
    if boundary.any():
        warnings.warn(
            "Boundary (singular) fit: the random-effects covariance is singular (an SD "
            "estimated at 0 or a correlation of +-1). Consider a simpler re_formula; the "
            "Satterthwaite df treat the parameters on the boundary as known.",
            ConvergenceWarning, stacklevel=2,
        )
    elif control.warn_on_fallback and optimiser != control.optimisers[0]:
        warnings.warn(f"The LMM converged only with the fallback optimiser '{optimiser}': "
                      + " | ".join(messages), ConvergenceWarning, stacklevel=2)
    return _result(frame, deviance, theta, centre, boundary, method, df, control, optimiser,
                   messages)


# ---------------------------------------------------------------- fitting
def _start(control: LMMControl, q: int) -> np.ndarray:
    size = q * (q + 1) // 2
    if control.start is not None:
        if len(control.start) != size:
            raise ValueError(f"Cannot fit the LMM: control.start needs {size} values of theta, got "
                             f"{len(control.start)}.")
        return np.asarray(control.start, dtype=float)
    rows, cols = np.tril_indices(q)
    order = np.lexsort((rows, cols))
    return (rows[order] == cols[order]).astype(float)


def _hessian(function, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central second differences."""
    size = x.size
    steps = step * np.maximum(1.0, np.abs(x))
    out = np.empty((size, size))
    centre = function(x)
    for j in range(size):
        for k in range(j, size):
            ej = np.zeros(size)
            ek = np.zeros(size)
            ej[j], ek[k] = steps[j], steps[k]
            if j == k:
                value = (function(x + ej) - 2 * centre + function(x - ej)) / steps[j] ** 2
            else:
                value = (function(x + ej + ek) - function(x + ej - ek) - function(x - ej + ek)
                         + function(x - ej - ek)) / (4 * steps[j] * steps[k])
            out[j, k] = out[k, j] = value
    return out


def _on_boundary(theta: np.ndarray, lower: np.ndarray, q: int) -> np.ndarray:
    """Diagonal entries of ``Lambda`` at 0 (relative to its largest row norm)."""
    scale = max(1.0, float(np.sqrt(np.sum(lambda_matrix(theta, q) ** 2, axis=1)).max()))
    return np.isfinite(lower) & (theta <= lower + _BOUNDARY * scale)


def _minimise(deviance: LMMDeviance, start, lower, control):
    """Unconstrained: the deviance is even in each column of ``Lambda`` (``b`` and ``-b``
    have the same distribution), so a column whose diagonal ends negative is flipped.
    A bound at 0 would be a trap: the gradient there is 0 by that symmetry."""
    function = deviance.deviance
    q = deviance.q

    def value_and_gradient(theta):
        ev = deviance.evaluate(theta, gradient=True)
        if not np.isfinite(ev.deviance):
            return np.inf, np.zeros_like(theta)
        return ev.deviance, ev.gradient

    def attempt(name: str, messages: list[str]) -> Attempt:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", optimize.OptimizeWarning)
            raw = _run(value_and_gradient, function, start, name, control.max_iterations)
            theta = _canonical(np.asarray(raw.x, dtype=float), q)
            theta, decrement = _polish(deviance, theta, lower)
        value = function(theta)
        converged, message = verdict(f"{name}: {raw.message}", decrement, control.tolerance,
                                     finite=bool(np.isfinite(value)))
        messages.append(message)
        return Attempt(name, theta, value, converged)

    best, messages = first_converged(control.optimisers, attempt)
    if best is None:  # pragma: no cover - attempt always returns an end point
        raise ConvergenceError("The LMM has no optimiser to try (LMMControl(optimisers=...)).")
    return best.end, best.converged, best.name, messages


def _run(value_and_gradient, function, start, name: str, max_iterations: int):
    if name in ("BFGS", "L-BFGS-B"):
        # loose: the Newton steps of _polish finish the job quadratically
        options = {"maxiter": max_iterations, "gtol": 1e-4}
        if name == "L-BFGS-B":
            options["ftol"] = 1e-15
        return optimize.minimize(value_and_gradient, start, method=name, jac=True,
                                 options=options)
    if name == "Nelder-Mead":
        return optimize.minimize(function, start, method=name,
                                 options={"maxiter": 200 * max_iterations,
                                          "xatol": 1e-10, "fatol": 1e-12})
    return optimize.minimize(function, start, method=name,
                             options={"maxiter": max_iterations, "xtol": 1e-10,
                                      "ftol": 1e-14})


def _canonical(theta: np.ndarray, q: int) -> np.ndarray:
    """Flip the columns of ``Lambda`` whose diagonal entry is negative."""
    rows, cols = np.tril_indices(q)
    order = np.lexsort((rows, cols))
    rows, cols = rows[order], cols[order]
    diagonal = theta[rows == cols]
    sign = np.where(diagonal < 0, -1.0, 1.0)
    return theta * sign[cols]


def _polish(deviance: LMMDeviance, theta: np.ndarray, lower: np.ndarray, steps: int = 6):
    """Newton steps on the parameters off their bounds (Hessian: central differences of
    the analytic gradient); returns the end point and its Newton decrement."""
    decrement = np.inf
    for _ in range(steps + 1):
        ev = deviance.evaluate(theta, gradient=True)
        gradient = ev.gradient
        if gradient is None:  # an infinite deviance: no gradient, no Newton step
            return theta, np.inf
        free = ~(np.isfinite(lower) & (theta <= lower + _BOUNDARY))
        if not free.any():
            # every parameter on its bound: converged if the objective rises off it
            return theta, (0.0 if np.all(gradient >= -1e-6) else np.inf)
        hessian = np.empty((free.sum(), free.sum()))
        for position, j in enumerate(np.flatnonzero(free)):
            h = 1e-5 * max(1.0, abs(theta[j]))
            up, down = theta.copy(), theta.copy()
            up[j] += h
            down[j] -= h
            g_up = deviance.evaluate(up, gradient=True).gradient
            g_down = deviance.evaluate(down, gradient=True).gradient
            if g_up is None or g_down is None:  # a step off the finite region
                return theta, np.inf
            hessian[:, position] = (g_up - g_down)[free] / (2 * h)
        hessian = 0.5 * (hessian + hessian.T)
        g = gradient[free]
        decrement = newton_decrement(g, hessian)
        if not np.isfinite(decrement):
            return theta, np.inf
        if decrement < 1e-14:
            break
        direction = np.linalg.solve(hessian, g)
        for scale in 0.5 ** np.arange(10):
            candidate = theta.copy()
            candidate[free] = np.maximum(theta[free] - scale * direction, lower[free])
            if deviance.deviance(candidate) <= ev.deviance:
                theta = candidate
                break
        else:
            break
    return theta, decrement


def _satterthwaite_parts(deviance: LMMDeviance, theta, free, sigma, ev, unscaled):
    """lmerTest's pieces over ``varpar = (theta_free, sigma)``: the covariance ``2 H^-1``
    (``H`` the Hessian of the deviance with ``beta`` profiled) and ``d vcov(beta) /
    d varpar``. The ``sigma`` parts are analytic; the ``theta`` block of ``H`` is central
    differences of the analytic gradient."""
    index = np.flatnonzero(free)
    size = index.size + 1

    def theta_gradient(t):
        parts = deviance.evaluate(t, gradient=True).parts
        value = parts[0] + parts[1] / sigma**2
        return value + parts[2] if deviance.reml else value

    hessian = np.empty((size, size))
    for position, j in enumerate(index):
        h = 1e-5 * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        hessian[:-1, position] = ((theta_gradient(up) - theta_gradient(down)) / (2 * h))[index]
    hessian[:-1, :-1] = 0.5 * (hessian[:-1, :-1] + hessian[:-1, :-1].T)
    hessian[:-1, -1] = hessian[-1, :-1] = -2.0 * ev.parts[1][index] / sigma**3
    hessian[-1, -1] = 6.0 * ev.pwrss / sigma**4 - 2.0 * deviance.degrees / sigma**2
    try:
        varpar_vcov = 2.0 * np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        varpar_vcov = np.full_like(hessian, np.nan)
    jacobian = np.empty((size, *unscaled.shape))
    for position, j in enumerate(index):
        jacobian[position] = -(sigma**2) * unscaled @ ev.parts[3][j] @ unscaled
    jacobian[-1] = 2.0 * sigma * unscaled
    return varpar_vcov, jacobian


def _put(theta: np.ndarray, free: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = theta.copy()
    out[free] = values
    return out


# ---------------------------------------------------------------- result
def _result(frame: GroupedFrame, deviance: LMMDeviance, theta, centre, boundary, method, df,
            control, optimiser, messages) -> LMMResult:
    ev = deviance.evaluate(theta, modes=True, gradient=True)
    sigma = float(np.sqrt(ev.pwrss / deviance.degrees))
    beta = centre + ev.beta
    unscaled = np.linalg.inv(ev.xtvx)
    vcov = sigma**2 * unscaled
    varpar_vcov, jacobian = _satterthwaite_parts(deviance, theta, ~boundary, sigma, ev,
                                                 unscaled)
    n_obs, k = frame.x.shape
    inference = Inference(
        beta=beta, beta_vcov=vcov, model_vcov=vcov, df_method=df, theta_vcov=varpar_vcov,
        jacobian=jacobian, p_matrices=None, residual_df=float(n_obs - k),
        coefficient_df=between_within_df(frame.x, frame.subject_codes, frame.column_names),
        confidence_level=control.conf_level,
    )
    q = deviance.q  # the columns of frame.z
    lam = lambda_matrix(theta, q)
    effects = ev.spherical @ lam.T  # b_i = Lambda u_i
    # conditional covariance of b_i given y (beta known): sigma^2 Lambda (L_i L_i')^-1 Lambda'
    chol_inverse = np.linalg.inv(ev.chol)
    conditional = sigma**2 * lam @ np.swapaxes(chol_inverse, 1, 2) @ chol_inverse @ lam.T
    return LMMResult.build(
        frame=frame, inference=inference, theta=theta, sigma=sigma, lam=lam,
        effects=effects, conditional=conditional, minus_two_loglik=ev.deviance,
        converged=True, singular=bool(boundary.any()), optimiser=optimiser,
        messages=messages, method=method, varpar_vcov=varpar_vcov,
    )
