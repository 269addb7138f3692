"""Generalised estimating equations for marginal response and remission rates.

``gee`` fits the population-averaged (marginal) model of a repeated outcome, e.g.
remission at each visit, with a working correlation over visits and sandwich
standard errors, including the small-sample corrections of Mancl and DeRouen (2001)
and Kauermann and Carroll (2001) that trials of 20 to 100 participants need.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd

from ketex._deprecated import renamed
from ketex.errors import ConvergenceError, ConvergenceWarning, DataValidationError
from ketex.models import _gee_engine as engine
from ketex.models._control import ModelControl
from ketex.models._design import build_model_frame
from ketex.models.gee_result import VCOV_TYPES, GEEResult

__all__ = ["GEEControl", "gee"]


@dataclass(frozen=True)
class GEEControl(ModelControl):
    """Validated fitting options for :func:`gee`.

    Parameters
    ----------
    max_iterations : int
        Iterations of the estimating equations before giving up.
    tolerance : float
        Convergence: the largest change of any parameter (coefficients, scale,
        correlation parameters) in one iteration.

    Examples
    --------
    >>> GEEControl().max_iterations, GEEControl().tolerance
    (100, 1e-10)
    >>> GEEControl(max_iterations=0)
    Traceback (most recent call last):
    ...
    ValueError: max_iterations must be a positive integer, got 0.
    """

    max_iterations: int = 100
    tolerance: float = 1e-10

def gee(
    data: pd.DataFrame,
    formula: str,
    *,
    subject: str | None = None,
    time: str | None = None,
    family: str = "binomial",
    correlation: str = "exchangeable",
    vcov: str = "robust",
    df: str | float | None = None,
    conf_level: float = 0.95,
    control: GEEControl | None = None,
    groups: str | None = None,
    max_iterations: int | None = None,
    tolerance: float | None = None,
) -> GEEResult:
    """Fit a marginal model by generalised estimating equations (GEE).

    Parameters
    ----------
    data : pandas.DataFrame
        Long data: one row per participant and visit.
    formula : str
        patsy formula, e.g. ``"remission ~ arm * visit + madrs_baseline"``. Text columns
        are factors with sorted levels (the first is the reference); a Categorical
        uses its category order; ``C(arm, Treatment("control"))`` sets one.
    subject : str
        Column identifying the clusters (participants): rows of different clusters are
        independent, rows of one cluster are correlated.
    time : str, optional
        Column of visits. Needed for ``ar1`` and ``unstructured``: visits are ordered
        by the categories of a Categorical, otherwise by sorted value, and the
        working correlation is over these ordered visits (``ar1`` uses visit
        positions, not calendar time, as geepack's ``waves``). Without it, rows are
        taken in their order within each cluster.
    family : {"binomial", "poisson", "gaussian"}
        Outcome distribution with its canonical link: logit (0/1 outcomes, estimates
        are log odds ratios), log (counts, log rate ratios) or identity.
    correlation : {"exchangeable", "ar1", "unstructured", "independence"}
        Working correlation over a cluster's visits.
    vcov : {"robust", "mancl-derouen", "kauermann-carroll", "model"}
        Covariance of the estimates used for tests and intervals: the sandwich of
        Liang and Zeger, its bias-corrected versions for few clusters, or the
        model-based (naive) one. All four are in ``result.standard_errors``.
    df : None, "clusters" or float
        Reference distribution of tests and intervals: ``None`` for the normal (Wald
        z, as geepack and SAS), ``"clusters"`` for t with ``n_clusters - p``
        degrees of freedom (``p`` coefficients), or a number for t with that df.
    conf_level : float
        Level of the confidence intervals.
    control : GEEControl, optional
        Iteration limit and tolerance.
    groups : str, optional
        Deprecated alias of ``subject``.
    max_iterations, tolerance : optional
        Deprecated: give ``control=GEEControl(max_iterations=..., tolerance=...)``. The
        deprecated names warn (:class:`FutureWarning`) and go in the next release.

    Returns
    -------
    GEEResult

    Raises
    ------
    ketex.errors.DataValidationError
        Missing columns or missing cluster or visit labels; a binomial outcome that is
        not 0/1; duplicated cluster-visit rows; a rank-deficient design; fewer than two
        clusters; visit pairs never observed together (``unstructured``); a cluster
        whose leverage makes ``mancl-derouen`` or ``kauermann-carroll`` undefined.
    ketex.errors.ConvergenceError
        The estimating equations were not solved within ``max_iterations`` (often a
        factor level or arm-by-visit cell in which everyone, or no one, responded).

    Warns
    -----
    ketex.errors.ConvergenceWarning
        The estimated working correlation is not positive definite.

    Notes
    -----
    The mean model is ``g(E[y_ij]) = x_ij' beta`` (marginal over participants, so
    ``exp(beta)`` is a population-averaged odds ratio). The estimating equations
    ``sum_i D_i' V_i^-1 (y_i - mu_i) = 0`` use ``V_i = phi A_i^1/2 R(alpha) A_i^1/2``
    and are solved as geepack does: a Fisher-scoring step for ``beta``, then the scale
    ``phi = sum r_ij^2 / N`` (``r`` Pearson residuals, also for binary outcomes), then
    a Gauss-Newton step for ``alpha`` fitting ``r_ij r_ik / phi`` by least squares
    over all pairs of a cluster's visits (the mean of those products for the
    exchangeable structure, their mean per pair of visits for the unstructured one).

    With ``B = sum D_i' V_i^-1 D_i`` and the cluster leverage ``H_i = D_i B^-1 D_i'
    V_i^-1``, the robust covariance is ``B^-1 M B^-1`` with ``M = sum D_i' V_i^-1
    r_i r_i' V_i^-1 D_i``; Mancl-DeRouen replace ``r_i`` by ``(I - H_i)^-1 r_i``
    (the CR3 / jackknife-like correction, R ``clubSandwich`` ``type = "CR3"``
    for an independence working model); Kauermann-Carroll by ``(I - H_i)^-1/2
    r_i`` (principal root, as R ``geesmv::GEE.var.kc``). The model-based covariance
    is ``B^-1``. With few clusters the robust sandwich with z tests is
    anti-conservative; simulation studies (Mancl and DeRouen 2001; Li and Redden 2015)
    support a corrected sandwich with t on ``n_clusters - p`` degrees of freedom:
    ``df="clusters"``.

    The R equivalent of the default (geepack 1.3)::

        geeglm(remission ~ arm * visit, family = binomial, data = d, id = id,
               waves = visit_number, corstr = "exchangeable")

    with rows sorted by ``id`` then visit (``ketex`` sorts them itself).

    References
    ----------
    Liang KY, Zeger SL (1986). Longitudinal data analysis using generalized linear
    models. Biometrika 73:13-22.
    Mancl LA, DeRouen TA (2001). A covariance estimator for GEE with improved
    small-sample properties. Biometrics 57:126-134.
    Kauermann G, Carroll RJ (2001). A note on the efficiency of sandwich covariance
    matrix estimation. JASA 96:1387-1396.
    Halekoh U, Hojsgaard S, Yan J (2006). The R package geepack for generalized
    estimating equations. J Stat Softw 15(2).
    Li P, Redden DT (2015). Small sample performance of bias-corrected sandwich
    estimators for cluster-randomized trials with binary outcomes. Stat Med 34:281-296.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ketex.models.gee import gee
    >>> rng = np.random.default_rng(4)
    >>> n = 40
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(n), 3),
    ...                   "visit": np.tile(["W2", "W4", "W8"], n),
    ...                   "arm": np.repeat(np.tile(["control", "exercise"], n // 2), 3)})
    >>> shared = np.repeat(rng.normal(size=n), 3)          # correlation within participant
    >>> latent = shared + rng.normal(size=3 * n)
    >>> d["remission"] = (latent < -0.5 + 0.9 * (d["arm"] == "exercise")
    ...                   + 0.25 * np.tile([0, 1, 2], n)).astype(int)
    >>> fit = gee(d, "remission ~ arm + visit", subject="id", time="visit",
    ...           vcov="mancl-derouen", df="clusters")
    >>> fit.n_subjects, fit.correlation, fit.correlation_parameters["estimate"].round(3).item()
    (40, 'exchangeable', 0.303)
    >>> fit.coef[["term", "estimate", "se", "df", "odds_ratio"]].round(3)
                  term  estimate     se    df  odds_ratio
    0        Intercept    -0.388  0.438  36.0       0.678
    1  arm[T.exercise]     0.776  0.509  36.0       2.172
    2      visit[T.W4]     0.314  0.319  36.0       1.368
    3      visit[T.W8]     0.642  0.406  36.0       1.900
    >>> fit.predicted_probabilities("arm", by="visit").round(3).head(2)
      visit       arm  probability     se  ci_low  ci_high
    0    W2   control        0.404  0.105   0.218    0.623
    1    W2  exercise        0.596  0.100   0.389    0.773
    """
    subject = renamed("gee", "groups", "subject", groups, subject)
    if subject is None:
        raise TypeError("gee() missing the keyword argument subject= (the column of "
                        "clusters, e.g. participants).")
    control = _control(control, max_iterations, tolerance)
    _check_options(formula, time, family, correlation, vcov, df, conf_level)
    frame = build_model_frame(data, formula, model="GEE", subject=subject, visit=time,
                              visit_role="time",
                              visit_rule="ordered" if correlation in ("ar1", "unstructured")
                              else None)
    family_spec = engine.FAMILIES[family]
    _check_outcome(frame, family_spec)
    n_clusters = len(frame.subject_labels)
    n_coef = frame.x.shape[1]
    df_value = _df_value(df, n_clusters, n_coef)
    n_visits = len(frame.visit_levels)
    clusters = engine.Clusters.build(
        frame.x, frame.y, frame.subject_codes, frame.visit_codes, n_visits
    )
    structure = engine.WorkingCorrelation(correlation, n_visits)
    visit_labels = [str(v) for v in frame.visit_levels]
    if correlation == "unstructured":
        _check_pairs(clusters, structure, visit_labels, time)

    start = engine.glm_start(family_spec, frame.x, frame.y)
    # overflow and 0/0 can only arise on the way to a separated (infinite) solution,
    # which is reported below as a ConvergenceError
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        fit = engine.fit_gee(family_spec, clusters, structure, start, control.max_iterations,
                             control.tolerance)
    if not fit.converged:
        extreme = [np.abs(frame.x @ start), np.abs(fit.eta)]
        raise ConvergenceError(_not_converged(fit, extreme, family_spec, correlation))
    labels = list(frame.visit_levels) if time is not None else list(range(1, n_visits + 1))
    working = pd.DataFrame(
        structure.matrix(fit.alpha, np.arange(n_visits)), index=labels, columns=labels
    )
    _check_positive_definite(working, clusters, structure, fit.alpha, correlation)
    covariances = engine.sandwich(family_spec, clusters, structure, fit)
    singular = covariances.pop("singular_clusters")
    if singular.size and vcov != "model":
        who = frame.subject_labels[singular[:5]].tolist()
        raise DataValidationError(
            f"Cannot fit the GEE: vcov={vcov!r} is unusable here: {singular.size} cluster(s) "
            f"(e.g. {who}) alone determine a coefficient (leverage 1: a factor level or cell "
            "with a single participant), so the sandwich is zero in that direction and its "
            "small-sample corrections are undefined. Merge or drop that level, or use vcov='model'."
        )
    return GEEResult.build(
        frame=frame,
        fit=fit,
        family=family_spec,
        structure=structure,
        covariances=covariances,
        vcov_type=vcov,
        df=df_value,
        df_method="normal" if df is None else ("clusters" if df == "clusters" else "fixed"),
        conf_level=conf_level,
        working=working,
        visit_labels=[str(v) for v in labels],
        groups=subject,
        time=time,
    )


# ------------------------------------------------------------------ checks
def _control(control, max_iterations, tolerance) -> GEEControl:
    """The control, from the deprecated ``max_iterations=`` and ``tolerance=`` if given."""
    if control is not None and not isinstance(control, GEEControl):
        raise TypeError(f"control must be a GEEControl, got {type(control).__name__}.")
    old = {name: value for name, value in (("max_iterations", max_iterations),
                                            ("tolerance", tolerance)) if value is not None}
    if not old:
        return control if control is not None else GEEControl()
    if control is not None:
        raise TypeError(f"gee() got control= and the deprecated {list(old)}; give only "
                        "control=GEEControl(...).")
    warnings.warn(f"gee({', '.join(f'{k}=' for k in old)}...) is deprecated and will be "
                  "removed in the next release; use control=GEEControl("
                  + ", ".join(f"{k}=..." for k in old) + ") instead.", FutureWarning,
                  stacklevel=3)
    try:
        return GEEControl(**old)
    except ValueError as error:
        raise ValueError(f"Cannot fit the GEE: {error}") from None


def _check_options(formula, time, family, correlation, vcov, df, conf_level) -> None:
    """Every problem with the options, reported together."""
    if not isinstance(formula, str) or "~" not in formula or not formula.split("~")[0].strip():
        raise ValueError(
            "Cannot fit the GEE: formula must be a string such as 'remission ~ arm * visit', "
            f"got {formula!r}."
        )
    problems = []
    if family not in engine.FAMILIES:
        problems.append(f"family must be one of {list(engine.FAMILIES)}, got {family!r}")
    if correlation not in engine.CORRELATIONS:
        problems.append(
            f"correlation must be one of {list(engine.CORRELATIONS)}, got {correlation!r}"
        )
    if vcov not in VCOV_TYPES:
        problems.append(f"vcov must be one of {list(VCOV_TYPES)}, got {vcov!r}")
    if not (df is None or df == "clusters" or (_is_number(df) and df > 0)):
        problems.append(f"df must be None, 'clusters' or a positive number, got {df!r}")
    if not (_is_number(conf_level) and 0 < conf_level < 1):
        problems.append(f"conf_level must be between 0 and 1, got {conf_level!r}")
    if correlation in ("ar1", "unstructured") and time is None:
        problems.append(
            f"correlation={correlation!r} needs the visit column: give time= (e.g. "
            "time='visit'), so that the correlation is over visits, not row positions"
        )
    if problems:
        raise ValueError("Cannot fit the GEE: " + "; ".join(problems) + ".")


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and np.isfinite(float(value))


def _check_outcome(frame, family) -> None:
    y = frame.y
    if family.name == "binomial":
        bad = ~np.isin(y, (0.0, 1.0))
        what = "0 or 1 (or True/False)"
    elif family.name == "poisson":
        bad = ~(y >= 0)
        what = "non-negative counts"
    else:
        return
    if bad.any():
        rows = frame.data.index[bad][:5].tolist()
        values = np.unique(y[bad])[:5].tolist()
        raise DataValidationError(
            f"Cannot fit the GEE: the {family.name} outcome {frame.outcome!r} must be {what}; "
            f"{int(bad.sum())} rows are not (values {values}, first rows {rows})."
        )


def _df_value(df, n_clusters: int, n_coef: int) -> float:
    if n_clusters < 2:
        raise DataValidationError(
            f"Cannot fit the GEE: it needs at least two clusters; the data have {n_clusters}.")
    if df is None:
        return float("inf")
    if df == "clusters":
        if n_clusters <= n_coef:
            raise DataValidationError(
                f"Cannot fit the GEE: df='clusters' needs more clusters ({n_clusters}) than "
                "coefficients "
                f"({n_coef}); simplify the formula or give df explicitly."
            )
        return float(n_clusters - n_coef)
    return float(df)


def _check_pairs(clusters, structure, labels, time) -> None:
    if not clusters.pair_visits.size:
        counts = np.zeros(structure.n_params)
    else:
        index = structure.pair_index(clusters.pair_visits)
        counts = np.bincount(index, minlength=structure.n_params)
    names = structure.parameter_names(labels)
    never = [name for name, count in zip(names, counts, strict=True) if count == 0]
    if never:
        raise DataValidationError(
            f"Cannot fit the GEE: an unstructured working correlation needs every pair of "
            "visits observed "
            f"together in some cluster; the pairs {never} of {time!r} never are. Use "
            "correlation='exchangeable' or 'ar1', or drop the sparse visit."
        )


def _check_positive_definite(working, clusters, structure, alpha, correlation) -> None:
    """Every cluster's working correlation must be a correlation matrix; the full one
    over all visits should be (a warning when only unobserved combinations fail)."""
    if np.linalg.eigvalsh(working.to_numpy()).min() > 0:
        return
    parameters = np.round(alpha, 4).tolist()
    for codes, _, _ in clusters.patterns:
        if np.linalg.eigvalsh(structure.matrix(alpha, codes)).min() <= 0:
            raise ConvergenceError(
                f"The estimated {correlation} working correlation (parameters {parameters}) "
                f"is not positive definite even over the visits {list(working.index[list(codes)])} "
                "that some participants have, so the working covariance is not a covariance. "
                "Use a simpler structure such as correlation='exchangeable' or 'ar1'."
            )
    warnings.warn(
        f"The estimated {correlation} working correlation is not positive definite "
        f"(parameters {parameters}), though it is over every set of visits a participant "
        "has, so the fit is valid; consider a simpler structure such as 'exchangeable'.",
        ConvergenceWarning,
        stacklevel=3,
    )


def _not_converged(fit, linear_predictors, family, correlation) -> str:
    message = (
        f"The GEE ({family.name}, {correlation}) did not converge "
        f"(stopped after {fit.iterations} iterations)."
    )
    separated = any(not np.all(eta < 15) for eta in linear_predictors)  # NaN counts too
    if family.name == "binomial" and separated:
        message += (
            " Some fitted probabilities are essentially 0 or 1: a factor level or an "
            "arm-by-visit cell where everyone (or no one) responded separates the data, "
            "and its log odds ratio is infinite. Tabulate the outcome by the formula's "
            "factors, and merge or drop such cells."
        )
    else:
        message += (
            " Try correlation='exchangeable' or 'independence', more iterations"
            " (control=GEEControl(max_iterations=...)), or "
            "rescaling numeric covariates."
        )
    return message
