"""Logistic (binomial) mixed model with a random intercept: the entry point :func:`glmm`.

Maximum likelihood by the Laplace approximation (``nagq=1``) or adaptive Gauss-Hermite
quadrature (``nagq`` up to 25) of the integral over each group's random intercept, as
``lme4::glmer``; the likelihood and its gradient are in
:mod:`ketex.models._glmm_likelihood`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import ClassVar, cast

import numpy as np
import pandas as pd

from ketex._deprecated import renamed
from ketex.errors import ConvergenceError, ConvergenceWarning, DataValidationError
from ketex.models._binomial import LINKS, fit_glm, get_link
from ketex.models._control import OptimiserControl
from ketex.models._design import GroupedFrame, build_model_frame
from ketex.models._glmm_likelihood import GLMMLikelihood
from ketex.models._glmm_optimize import OPTIMISERS, minimise_deviance
from ketex.models.glmm_result import GLMMResult
from ketex.models.quadrature import MAX_NODES

__all__ = ["GLMMControl", "glmm"]

#: below this random-intercept SD the fit is taken to be on the boundary (SD = 0)
_SINGULAR_SD = 1e-4


@dataclass(frozen=True)
class GLMMControl(OptimiserControl):
    """Validated fitting options for :func:`glmm`.

    Parameters
    ----------
    optimisers : tuple of str
        scipy.optimize methods tried in turn until one converges (``"BFGS"``,
        ``"L-BFGS-B"``, ``"Nelder-Mead"``, ``"Powell"``); each end point is polished by
        Newton steps.
    max_iterations : int
        Iteration limit of each optimiser.
    tolerance : float
        Convergence when the Newton decrement ``g' H^-1 g`` of the deviance is below it
        and its Hessian is positive definite.
    conf_level : float
        Level of the confidence intervals (``confidence_level``: its deprecated alias).
    start : tuple of float, optional
        Starting ``(beta..., log sigma)``; default: the fixed-effects-only fit, scaled,
        with the best of a few values of ``sigma``.
    warn_on_fallback : bool
        Warn (:class:`ketex.errors.ConvergenceWarning`) when only a fallback optimiser
        converged.

    Examples
    --------
    >>> GLMMControl(optimisers=("Nelder-Mead",)).optimisers
    ('Nelder-Mead',)
    >>> GLMMControl(conf_level=95)
    Traceback (most recent call last):
    ...
    ValueError: conf_level must be in (0, 1), got 95.
    """

    OPTIMISERS: ClassVar[tuple[str, ...]] = OPTIMISERS

    optimisers: tuple[str, ...] = ("BFGS", "L-BFGS-B", "Nelder-Mead")


def glmm(
    data: pd.DataFrame,
    formula: str,
    *,
    subject: str | None = None,
    family: str = "binomial",
    link: str = "logit",
    nagq: int = 1,
    offset: str | None = None,
    control: GLMMControl | None = None,
    groups: str | None = None,
) -> GLMMResult:
    """Fit a binomial mixed model with a random intercept per group by maximum likelihood.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data: one row per observation (e.g. participant and visit, or participant
        and interval of a person-period table).
    formula : str
        patsy formula with a 0/1 (or boolean) outcome, e.g.
        ``"remission ~ arm * visit + madrs_baseline"``. Reference levels are the first
        level of a pandas Categorical, or set by ``C(arm, Treatment("SINGLE"))``.
    subject : str
        Column whose levels (participants, sites) get a random intercept.
    family : {"binomial"}
        Only the binomial family (0/1 outcomes) is implemented.
    link : {"logit", "probit", "cloglog"}
        ``cloglog`` gives the grouped-time proportional hazards model on person-period
        data: ``exp(coefficient)`` is a hazard ratio.
    nagq : int
        Nodes of adaptive Gauss-Hermite quadrature per group: 1 (default) is the
        Laplace approximation, up to 25; more nodes, closer to the exact likelihood.
    offset : str, optional
        Column added to the linear predictor with coefficient 1 (e.g.
        ``log(exposure_days / 7)`` for partial intervals with the cloglog link).
    control : GLMMControl, optional
    groups : str, optional
        Deprecated alias of ``subject`` (a :class:`FutureWarning`; removed in the next
        release).

    Returns
    -------
    GLMMResult
        ``coef`` (log-odds; with ``odds_ratio, or_ci_low, or_ci_high`` for the logit
        link, ``hazard_ratio, hr_ci_low, hr_ci_high`` for cloglog), the random-intercept
        SD (``variance_components``), the conditional modes (``random_effects``), log
        likelihood, AIC and BIC as lme4, predictions and predicted probabilities.

    Raises
    ------
    ketex.errors.DataValidationError
        Missing columns, an outcome that is not 0/1, a rank-deficient design.
    ketex.errors.ConvergenceError
        No optimiser converged.

    Warns
    -----
    ketex.errors.ConvergenceWarning
        The random-intercept SD is estimated at 0 (a boundary fit, lme4's "singular"):
        the results are those of the model without random intercept.

    Notes
    -----
    For group ``i`` and observation ``j``,
    ``g(P(y_ij = 1 | b_i)) = x_ij' beta + b_i``, ``b_i ~ N(0, sigma^2)``; the likelihood
    integrates each group's ``b_i`` out by adaptive Gauss-Hermite quadrature centred at
    its conditional mode with its curvature (Pinheiro and Bates 1995). The parameters
    are ``(beta, log sigma)``; standard errors come from the inverse Hessian of the
    deviance over all of them (lme4's ``vcov(fit, use.hessian = TRUE)``), the CI of
    ``sigma`` is Wald on the log scale. ``loglik`` is the approximated log likelihood;
    ``aic = -2 loglik + 2 (p + 1)`` and ``bic = -2 loglik + (p + 1) log(n_obs)``, as
    lme4. Rows with a missing outcome or covariate are dropped and counted.

    The R equivalent: ``lme4::glmer(remission ~ arm * visit + (1 | id), data,
    family = binomial, nAGQ = 1)``.

    References
    ----------
    Pinheiro JC, Bates DM (1995). Approximations to the log-likelihood function in the
    nonlinear mixed-effects model. J Comput Graph Stat 4:12-35.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> n, visits = 60, 4
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(n), visits),
    ...                   "arm": np.repeat(rng.permutation(np.repeat(["PBO", "KET"], n // 2)),
    ...                                    visits),
    ...                   "week": np.tile(np.arange(1, visits + 1), n)})
    >>> eta = -1.0 + 1.2 * (d["arm"] == "KET") + 0.3 * d["week"] + np.repeat(
    ...     rng.normal(0, 1.0, n), visits)
    >>> d["remission"] = rng.random(len(d)) < 1 / (1 + np.exp(-eta))
    >>> fit = glmm(d, "remission ~ C(arm, Treatment('PBO')) + week", subject="id", nagq=9)
    >>> fit.converged, fit.n_obs, fit.n_subjects
    (True, 240, 60)
    >>> list(fit.coef.columns)[:8]
    ['term', 'estimate', 'se', 'df', 'statistic', 'p_value', 'ci_low', 'ci_high']
    >>> fit.variance_components.columns.tolist()
    ['group', 'term', 'estimate', 'se', 'ci_low', 'ci_high']
    """
    subject = renamed("glmm", "groups", "subject", groups, subject)
    if subject is None:
        raise TypeError("glmm() missing the keyword argument subject= (the column of "
                        "participants or clusters).")
    control = control if control is not None else GLMMControl()
    if not isinstance(control, GLMMControl):
        raise TypeError("control must be a GLMMControl.")
    problems = []
    if family != "binomial":
        problems.append(f"family must be 'binomial' (the only family implemented), got "
                        f"{family!r}")
    if link not in LINKS:
        problems.append(f"link must be one of {list(LINKS)}, got {link!r}")
    if (not isinstance(nagq, (int, np.integer)) or isinstance(nagq, bool)
            or not 1 <= nagq <= MAX_NODES):
        problems.append(f"nagq must be an integer from 1 (Laplace) to {MAX_NODES}, got {nagq!r}")
    if problems:
        raise ValueError("Cannot fit the GLMM: " + "; ".join(problems) + ".")
    frame = cast(GroupedFrame,  # kind=GroupedFrame builds one
                 build_model_frame(data, formula, model="GLMM", subject=subject,
                                   offset=offset, kind=GroupedFrame))
    _check_outcome(frame)
    link_function = get_link(link)
    lik = GLMMLikelihood(frame.x, frame.y, frame.offset, frame.subject_codes, frame.starts,
                         link_function, int(nagq))
    glm_beta, glm_vcov, glm_loglik, glm_converged = fit_glm(
        frame.x, frame.y, frame.offset, link_function
    )
    _check_separation(frame, glm_beta, glm_vcov)
    start = _start(control, lik, glm_beta, frame)
    outcome = minimise_deviance(lik, start, control.optimisers, control.max_iterations,
                                control.tolerance)
    sigma = float(np.exp(outcome.theta[-1]))
    singular = sigma < _SINGULAR_SD and np.isfinite(outcome.deviance)
    if singular:
        if not glm_converged:
            raise ConvergenceError(_separation_message(frame))
        warnings.warn(
            "The random-intercept SD is estimated at 0 (boundary fit, lme4's 'singular'): "
            f"the outcome varies no more between levels of {subject!r} than the fixed effects "
            "explain. The results are those of the logistic regression without random "
            "intercept; consider dropping the random effect or a simpler fixed part.",
            ConvergenceWarning,
            stacklevel=2,
        )
        return GLMMResult.build(frame=frame, lik=lik, link=link_function, theta=np.r_[
            glm_beta, -np.inf], theta_vcov=_singular_vcov(glm_vcov), deviance=-2 * glm_loglik,
            converged=True, optimiser=outcome.optimiser, messages=outcome.messages,
            singular=True, confidence_level=control.conf_level)
    if not outcome.converged:
        raise ConvergenceError(
            f"The GLMM did not converge (nagq={nagq}). What was tried: "
            + " | ".join(outcome.messages)
            + ". What to try: GLMMControl(start=...) from a simpler model's estimates; other "
            "optimisers in GLMMControl(optimisers=...); nagq=1; rescaling numeric covariates; "
            "merging factor levels with few events (a level where every outcome is 0 or 1 "
            "makes the estimates run off to infinity)."
        )
    if control.warn_on_fallback and outcome.optimiser != control.optimisers[0]:
        warnings.warn(f"The GLMM converged only with the fallback optimiser "
                      f"'{outcome.optimiser}': " + " | ".join(outcome.messages),
                      ConvergenceWarning, stacklevel=2)
    hessian = outcome.hessian
    if hessian is None:  # pragma: no cover - a converged end point has its Hessian
        raise ConvergenceError("The GLMM converged without a Hessian at the end point.")
    try:
        theta_vcov = 2.0 * np.linalg.inv(hessian)
    except np.linalg.LinAlgError:  # pragma: no cover - converged means positive definite
        theta_vcov = np.full_like(hessian, np.nan)
    k = frame.x.shape[1]
    _check_separation(frame, outcome.theta[:k], theta_vcov[:k, :k])
    return GLMMResult.build(frame=frame, lik=lik, link=link_function, theta=outcome.theta,
                            theta_vcov=theta_vcov, deviance=outcome.deviance, converged=True,
                            optimiser=outcome.optimiser, messages=outcome.messages,
                            singular=False, confidence_level=control.conf_level)


# ---------------------------------------------------------------- helpers
def _check_outcome(frame: GroupedFrame) -> None:
    y = frame.y
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        values = pd.unique(y[bad])[:5].tolist()
        rows = frame.data.index[bad][:5].tolist()
        raise DataValidationError(
            f"Cannot fit the GLMM: the outcome {frame.outcome!r} of a binomial GLMM must be 0/1 "
            "or boolean; "
            f"{int(bad.sum())} rows are not (values {values}, rows {rows})."
        )
    if y.min() == y.max():
        raise DataValidationError(
            f"Cannot fit the GLMM: the outcome {frame.outcome!r} is {int(y[0])} in every "
            "analysed row: there is "
            "nothing to model."
        )


def _start(control: GLMMControl, lik: GLMMLikelihood, glm_beta, frame) -> np.ndarray:
    size = frame.x.shape[1] + 1
    if control.start is not None:
        if len(control.start) != size:
            raise ValueError(f"Cannot fit the GLMM: control.start needs {size} values (the fixed "
                             "effects, then "
                             f"log sigma); got {len(control.start)}.")
        return np.asarray(control.start, dtype=float)
    # the population-averaged slopes of the fixed-effects fit are attenuated by about
    # sqrt(1 + 0.346 sigma^2) (logit; Zeger, Liang and Albert 1988): try a few sigmas
    candidates = []
    for sigma in (0.3, 1.0, 2.0):
        beta = glm_beta * np.sqrt(1.0 + 0.346 * sigma**2)
        theta = np.r_[beta, np.log(sigma)]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            candidates.append((lik.deviance(theta), tuple(theta)))
    finite = [c for c in candidates if np.isfinite(c[0])]
    return np.asarray(min(finite)[1] if finite else candidates[1][1], dtype=float)


def _singular_vcov(glm_vcov: np.ndarray) -> np.ndarray:
    size = glm_vcov.shape[0] + 1
    out = np.full((size, size), np.nan)
    out[:-1, :-1] = glm_vcov
    return out


def _check_separation(frame: GroupedFrame, beta: np.ndarray, vcov: np.ndarray) -> None:
    # an odds ratio beyond e^10 with an SE above 1000 is not a number but an estimate
    # running off to infinity: the likelihood has no maximum
    se = np.sqrt(np.abs(np.diag(vcov)))
    runaway = (np.abs(beta) > 10) & ~(se < 1e3)
    if runaway.any():
        terms = [n for n, r in zip(frame.column_names, runaway, strict=True) if r]
        raise ConvergenceError(_separation_message(frame, terms))


def _separation_message(frame: GroupedFrame, terms: list[str] | None = None) -> str:
    which = f" (estimates running off to infinity: {terms})" if terms else ""
    return (
        f"Some combination of the covariates predicts {frame.outcome!r} perfectly "
        f"(separation){which}, so the maximum likelihood estimate does not exist. Tabulate the "
        "outcome by each factor (e.g. arm x visit) and merge or drop levels where it is "
        "always 0 or always 1, or simplify the fixed part."
    )
