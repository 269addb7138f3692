"""Mixed model for repeated measures (MMRM): the entry point :func:`mmrm`.

The model for subject ``i`` observed at visits ``S_i``:

    y_i = X_i beta + e_i,   e_i ~ N(0, W_i^-1/2 Sigma[S_i, S_i] W_i^-1/2)

with ``Sigma`` the covariance over visits (one structure, optionally one matrix per
level of ``group``) and ``W_i`` the optional weights.  ``beta`` is profiled out; the
variance parameters maximise the (restricted) likelihood, computed exactly once per
missingness pattern.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from ketex._deprecated import renamed
from ketex.errors import ConvergenceError, ConvergenceWarning
from ketex.models._control import OptimiserControl
from ketex.models._design import ModelFrame, build_model_frame
from ketex.models._inference import DF_METHODS, Inference, between_within_df
from ketex.models._likelihood import Likelihood
from ketex.models._optimize import minimise
from ketex.models._patterns import Patterns, build_patterns
from ketex.models.covariance import (
    COVARIANCE_STRUCTURES,
    CovarianceStructure,
    covariance_structure,
    starting_values,
)
from ketex.models.kenward_roger import kenward_roger_vcov
from ketex.models.result import MMRMResult

__all__ = ["MMRMControl", "mmrm"]

_OPTIMISERS = ("trust-exact", "BFGS", "L-BFGS-B", "trust-constr", "Nelder-Mead", "Powell")


@dataclass(frozen=True)
class MMRMControl(OptimiserControl):
    """Validated fitting options for :func:`mmrm`.

    Parameters
    ----------
    optimisers : tuple of str
        scipy.optimize methods tried in turn until one converges.
    max_iterations : int
        Iteration limit of each optimiser.
    tolerance : float
        Convergence when the Newton decrement ``g' H^-1 g`` of ``-2 log L`` is below it
        (and the Hessian is positive definite).
    vcov : {"asymptotic", "empirical"}
        Model-based covariance of the fixed effects, or the empirical (sandwich,
        CR0) estimator.
    conf_level : float
        Level of the confidence intervals (``confidence_level``: its deprecated alias).
    start : tuple of float, optional
        Starting variance parameters (the structure's parametrisation); default:
        from the covariance of ordinary least squares residuals.
    warn_on_fallback : bool
        Warn (:class:`ketex.errors.ConvergenceWarning`) when only a fallback optimiser
        or covariance structure converged.

    Examples
    --------
    >>> MMRMControl(optimisers=("BFGS",)).optimisers
    ('BFGS',)
    >>> MMRMControl(tolerance=-1)
    Traceback (most recent call last):
    ...
    ValueError: tolerance must be a positive number, got -1.
    """

    OPTIMISERS: ClassVar[tuple[str, ...]] = _OPTIMISERS

    optimisers: tuple[str, ...] = ("trust-exact", "BFGS", "L-BFGS-B")
    vcov: str = "asymptotic"

    def __post_init__(self, confidence_level: float | None = None) -> None:
        super().__post_init__(confidence_level)
        if self.vcov not in ("asymptotic", "empirical"):
            raise ValueError(f"vcov must be 'asymptotic' or 'empirical', got {self.vcov!r}.")


def mmrm(
    data: pd.DataFrame,
    formula: str,
    *,
    subject: str,
    visit: str,
    covariance: str | Sequence[str] = "us",
    covariance_group: str | None = None,
    method: str = "reml",
    df: str = "satterthwaite",
    weights: str | None = None,
    control: MMRMControl | None = None,
    group: str | None = None,
) -> MMRMResult:
    """Fit a mixed model for repeated measures.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data: one row per subject and visit.
    formula : str
        patsy formula, e.g. ``"change ~ baseline + arm * visit"``. Reference levels are
        the first level of a pandas Categorical, or set by ``C(arm, Treatment("PBO"))``.
    subject : str
        Column identifying subjects.
    visit : str
        Column of visits (categorical: levels in Categorical or sorted order; numeric
        times for ``sp_exp``, then written ``C(visit)`` in the formula).
    covariance : str or sequence of str
        Covariance structure: ``us`` (default), ``cs``, ``csh``, ``ar1``, ``ar1h``,
        ``toep``, ``toeph``, ``ad``, ``adh``, ``sp_exp``.  A sequence is a pre-specified
        fallback order (e.g. ``("us", "toeph", "ar1h", "csh", "cs")``): the first that
        converges is used and recorded in ``result.covariance``.
    covariance_group : str, optional
        Column whose levels (e.g. arms) get separate covariance matrices; constant
        within a subject.
    method : {"reml", "ml"}
    df : {"satterthwaite", "kenward_roger", "kenward_roger_linear", "residual", "between_within"}
        Degrees of freedom of t and F tests.  Kenward-Roger also adjusts the covariance
        of the fixed effects; ``kenward_roger_linear`` drops second derivatives and
        matches SAS ``ddfm=kr`` for the unstructured matrix.
    weights : str, optional
        Column of positive weights; subject ``i``'s covariance becomes
        ``W_i^-1/2 Sigma W_i^-1/2``.
    control : MMRMControl, optional
    group : str, optional
        Deprecated alias of ``covariance_group`` (a :class:`FutureWarning`; removed in
        the next release).

    Returns
    -------
    MMRMResult

    Raises
    ------
    ketex.errors.DataValidationError
        Missing columns, duplicated subject-visit rows, a rank-deficient design, a
        numeric ``visit`` column used as a number in the formula (make it a Categorical
        or write ``C(visit)``), no row with every value the formula needs.
    ketex.errors.ConvergenceError
        No optimiser (and no structure of a fallback sequence) converged.

    Notes
    -----
    Rows whose outcome or covariates are missing are dropped (counted in
    ``n_missing_outcome`` / ``n_missing_covariates``); the likelihood uses every
    observed visit of every subject (missing at random).

    The SAS equivalent of the default::

        PROC MIXED DATA=d METHOD=REML;
          CLASS subject visit arm;
          MODEL change = baseline arm visit arm*visit / DDFM=SATTERTHWAITE SOLUTION;
          REPEATED visit / SUBJECT=subject TYPE=UN;

    and in R, ``mmrm::mmrm(change ~ baseline + arm * visit + us(visit | subject), data)``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> n = 60
    >>> d = pd.DataFrame({
    ...     "id": np.repeat(np.arange(n), 3),
    ...     "visit": np.tile(["W1", "W2", "W3"], n),
    ...     "arm": np.repeat(rng.permutation(np.repeat(["PBO", "KET"], n // 2)), 3),
    ... })
    >>> subject_effect = np.repeat(rng.normal(size=n), 3)
    >>> d["change"] = -2.0 * (d["arm"] == "KET") + rng.normal(size=len(d)) + subject_effect
    >>> fit = mmrm(d, "change ~ C(arm, Treatment('PBO')) * visit", subject="id", visit="visit")
    >>> fit.converged, fit.n_subjects, fit.n_obs
    (True, 60, 180)
    >>> list(fit.coef.columns)
    ['term', 'estimate', 'se', 'df', 'statistic', 'p_value', 'ci_low', 'ci_high']
    """
    covariance_group = renamed("mmrm", "group", "covariance_group", group, covariance_group)
    control = control if control is not None else MMRMControl()
    if not isinstance(control, MMRMControl):
        raise TypeError("control must be an MMRMControl.")
    structures = (covariance,) if isinstance(covariance, str) else tuple(covariance)
    problems = []
    unknown = [s for s in structures if s not in COVARIANCE_STRUCTURES]
    if not structures or unknown:
        problems.append(
            f"covariance must be one of {list(COVARIANCE_STRUCTURES)} or a sequence of them; "
            f"got {covariance!r}"
        )
    if method not in ("reml", "ml"):
        problems.append(f"method must be 'reml' or 'ml', got {method!r}")
    if df not in DF_METHODS:
        problems.append(f"df must be one of {list(DF_METHODS)}, got {df!r}")
    if df.startswith("kenward_roger") and method != "reml":
        problems.append("Kenward-Roger degrees of freedom need method='reml'")
    if control.vcov == "empirical" and df not in ("residual", "between_within"):
        problems.append(
            "with the empirical (sandwich) covariance use df='residual' or 'between_within'"
        )
    if problems:
        raise ValueError("Cannot fit the MMRM: " + "; ".join(problems) + ".")

    frame = build_model_frame(data, formula, model="MMRM", subject=subject, visit=visit,
                              covariance_group=covariance_group, weights=weights,
                              visit_rule="factor")
    return fit_model_frame(frame, structures, method, df, control)


def fit_model_frame(
    frame: ModelFrame,
    structures: tuple[str, ...],
    method: str,
    df: str,
    control: MMRMControl,
) -> MMRMResult:
    """Fit the MMRM to a built :class:`ModelFrame` (arguments already checked by
    :func:`mmrm`); used directly by code that refits many row subsets of one frame,
    such as the jackknife of :mod:`ketex.estimands`."""
    beta_start = _weighted_least_squares(frame)
    centred = frame.y - frame.x @ beta_start
    patterns = build_patterns(
        frame.x, centred, frame.weights, frame.subject_codes, frame.visit_codes,
        frame.covariance_group_codes,
    )
    attempts: list[str] = []
    for position, name in enumerate(structures):
        structure = _structure(name, frame)
        per_group = tuple(structure for _ in frame.covariance_group_levels)
        likelihood = Likelihood(patterns, per_group, reml=(method == "reml"))
        start = _start(control, per_group, frame, centred)
        outcome = minimise(
            likelihood, start, control.optimisers, control.max_iterations, control.tolerance
        )
        attempts.extend(f"[{name}] {m}" for m in outcome.messages)
        used_fallback_structure = position > 0
        if outcome.converged:
            break
    else:
        raise ConvergenceError(
            "The MMRM did not converge with "
            + (
                f"any of the structures {structures}"
                if len(structures) > 1
                else f"'{structures[0]}'"
            )
            + ". What was tried: "
            + " | ".join(attempts)
            + ". What to try: a simpler or pre-specified fallback covariance, e.g. "
            "covariance=('us', 'toeph', 'ar1h', 'csh', 'cs'); other optimisers in "
            "MMRMControl(optimisers=...); rescaling the outcome; dropping visits with very "
            "few observations."
        )
    used_fallback_optimiser = outcome.optimiser != control.optimisers[0]
    if control.warn_on_fallback and (used_fallback_structure or used_fallback_optimiser):
        warnings.warn(
            f"The MMRM converged only with covariance '{name}' and optimiser "
            f"'{outcome.optimiser}': " + " | ".join(attempts),
            ConvergenceWarning,
            stacklevel=3,
        )
    return _result(
        frame,
        patterns,
        likelihood,
        outcome,
        beta_start,
        name,
        method,
        df,
        control,
        tuple(attempts),
        structure,
    )


# ---------------------------------------------------------------- helpers
def _structure(name: str, frame: ModelFrame) -> CovarianceStructure:
    levels = frame.visit_levels
    if name == "sp_exp":
        try:
            times = tuple(float(v) for v in levels)
        except (TypeError, ValueError):
            raise ValueError(
                "Cannot fit the MMRM: covariance='sp_exp' needs a numeric visit column (time "
                f"of each visit); visit levels are {list(levels)[:5]}..."
            ) from None
        return covariance_structure(name, len(levels), times)
    return covariance_structure(name, len(levels))


def _weighted_least_squares(frame: ModelFrame) -> np.ndarray:
    # only a centring point for the outcome (the fit does not depend on it): the normal
    # equations are accurate enough and much faster than an SVD at 10^6 rows
    weighted_x = frame.x * frame.weights[:, None]
    return np.linalg.solve(frame.x.T @ weighted_x, weighted_x.T @ frame.y)


def _start(control, structures, frame: ModelFrame, residuals: np.ndarray) -> np.ndarray:
    n_params = sum(s.n_params for s in structures)
    if control.start is not None:
        if len(control.start) != n_params:
            raise ValueError(
                f"Cannot fit the MMRM: control.start has {len(control.start)} values; this "
                f"model has {n_params} variance parameters."
            )
        return np.asarray(control.start, dtype=float)
    t = len(frame.visit_levels)
    parts = []
    for g, structure in enumerate(structures):
        rows = frame.covariance_group_codes == g
        wide = np.full((int(frame.subject_codes.max()) + 1, t), np.nan)
        wide[frame.subject_codes[rows], frame.visit_codes[rows]] = residuals[rows] * np.sqrt(
            frame.weights[rows]
        )
        wide = wide[~np.all(np.isnan(wide), axis=1)]
        empirical = pd.DataFrame(wide).cov(min_periods=2).to_numpy()
        parts.append(starting_values(structure, empirical))
    return np.concatenate(parts)


def _empirical_vcov(frame, patterns: Patterns, sigmas, beta, phi) -> np.ndarray:
    """Sandwich ``Phi (sum_i X_i' S_i^-1 r_i r_i' S_i^-1 X_i) Phi`` per pattern."""
    k = frame.x.shape[1]
    root = np.sqrt(frame.weights)
    x = frame.x * root[:, None]
    r = (frame.y - frame.x @ beta) * root
    row_pattern = np.repeat(patterns.subject_pattern, np.bincount(frame.subject_codes))
    meat = np.zeros((k, k))
    for p, (g, visits) in enumerate(zip(patterns.group, patterns.visits, strict=True)):
        rows = np.flatnonzero(row_pattern == p)
        t_p = visits.size
        inverse = np.linalg.inv(sigmas[g][np.ix_(visits, visits)])
        xs = x[rows].reshape(-1, t_p, k)
        us = r[rows].reshape(-1, t_p) @ inverse
        scores = np.einsum("nak,na->nk", xs, us)
        meat += scores.T @ scores
    return phi @ meat @ phi


def _result(
    frame,
    patterns,
    likelihood,
    outcome,
    beta_start,
    name,
    method,
    df,
    control,
    attempts,
    structure,
) -> MMRMResult:
    ev = outcome.evaluation
    theta = outcome.theta
    beta = beta_start + ev.beta
    phi = ev.beta_vcov
    try:
        theta_vcov = 2.0 * np.linalg.inv(ev.hessian)
    except np.linalg.LinAlgError:
        theta_vcov = np.full_like(ev.hessian, np.nan)
    jacobian = np.einsum("ab,jbc,cd->jad", phi, ev.p_matrices, phi)
    vcov = phi
    if df in ("kenward_roger", "kenward_roger_linear"):
        correction = likelihood.kenward_roger_correction(
            theta, theta_vcov, linear=(df == "kenward_roger_linear")
        )
        vcov = kenward_roger_vcov(phi, ev.p_matrices, theta_vcov, correction)
    elif control.vcov == "empirical":
        vcov = _empirical_vcov(frame, patterns, ev.sigmas, beta, phi)
    n_obs = frame.x.shape[0]
    k = frame.x.shape[1]
    inference = Inference(
        beta=beta,
        beta_vcov=vcov,
        model_vcov=phi,
        df_method=df,
        theta_vcov=theta_vcov,
        jacobian=jacobian,
        p_matrices=ev.p_matrices,
        residual_df=float(n_obs - k),
        coefficient_df=between_within_df(frame.x, frame.subject_codes, frame.column_names),
        confidence_level=control.conf_level,
    )
    return MMRMResult.build(
        frame=frame,
        inference=inference,
        theta=theta,
        sigmas=ev.sigmas,
        minus_two_loglik=ev.objective,
        n_variance_params=likelihood.n_params,
        converged=outcome.converged,
        optimiser=outcome.optimiser,
        messages=attempts,
        covariance=name,
        method=method,
        structure=structure,
    )
