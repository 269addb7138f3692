"""Cox proportional hazards regression (R ``survival::coxph``).

Efron or Breslow ties, strata, (start, stop] counting-process data for time-varying
covariates, robust (clustered) sandwich standard errors, and the proportional-hazards
check of :mod:`ketex.survival.ph_check`.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import patsy
from scipy import linalg, stats

from ketex.errors import ConvergenceError, ConvergenceWarning, DataValidationError
from ketex.models._design import formula_variables
from ketex.models._frame_checks import check_design_finite, check_levels, formula_error
from ketex.survival import _cox_engine as engine
from ketex.survival._data import check_columns, combined_codes, survival_data

__all__ = ["CoxResult", "cox"]

COEF_COLUMNS = [
    "term", "estimate", "se", "se_model", "statistic", "p_value", "ci_low", "ci_high",
    "hazard_ratio", "hr_ci_low", "hr_ci_high",
]  # fmt: skip
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class CoxModel:
    """What the proportional-hazards check needs from a fit (private)."""

    x: np.ndarray  # centred design, rows as used
    beta: np.ndarray
    stop: np.ndarray
    start: np.ndarray | None
    event: np.ndarray
    strata: np.ndarray
    sets: engine.RiskSets
    column_names: tuple[str, ...]
    term_names: tuple[str, ...]
    term_columns: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class CoxResult:
    """A fitted Cox model (immutable).

    Attributes
    ----------
    coef : pandas.DataFrame
        ``term, estimate, se, se_model, statistic, p_value, ci_low, ci_high,
        hazard_ratio, hr_ci_low, hr_ci_high``, one row per design column. ``estimate`` is
        the log hazard ratio; ``se`` is the robust (sandwich) standard error when
        ``cluster`` or ``robust`` was given, otherwise equal to ``se_model`` (inverse of
        the information); Wald z tests and intervals use ``se``.
    vcov : pandas.DataFrame
        Covariance of the estimates used for inference (robust when requested).
    vcov_model : pandas.DataFrame
        Inverse of the observed information.
    loglik, loglik_null : float
        Log partial likelihood at the estimates and at zero.
    tests : pandas.DataFrame
        ``test, statistic, df, p_value`` for the likelihood ratio, Wald and score
        (log-rank) tests of all coefficients, plus the robust score test with clusters.
        The likelihood ratio and score tests assume independent rows; the Wald and robust
        score tests do not.
    concordance : float or None
        Harrell's C over risk sets (as R's ``concordance``), None when not computed.
    n_obs, n_events, n_missing : int
        Rows used, events, rows dropped for missing values.
    n_clusters : int or None
    ties : str
    robust : bool
    converged : bool
    iterations : int
    formula : str
        The right-hand side used.
    terms : tuple of str
        Model terms (a factor is one term of several columns).
    strata : tuple of str
        Stratum labels (empty without strata).
    conf_level : float
    """

    coef: pd.DataFrame
    vcov: pd.DataFrame
    vcov_model: pd.DataFrame
    loglik: float
    loglik_null: float
    tests: pd.DataFrame
    concordance: float | None
    n_obs: int
    n_events: int
    n_missing: int
    n_clusters: int | None
    ties: str
    robust: bool
    converged: bool
    iterations: int
    formula: str
    terms: tuple[str, ...]
    strata: tuple[str, ...]
    conf_level: float
    _model: CoxModel = field(repr=False)

    @property
    def hazard_ratios(self) -> pd.DataFrame:
        """``term, hazard_ratio, hr_ci_low, hr_ci_high, p_value``."""
        return self.coef[["term", "hazard_ratio", "hr_ci_low", "hr_ci_high", "p_value"]]

    def ph_test(self, transform: str = "km", terms: bool = True):
        """Test proportional hazards with scaled Schoenfeld residuals (R ``cox.zph``).

        See :func:`ketex.survival.cox_zph`.
        """
        from ketex.survival.ph_check import cox_zph

        return cox_zph(self, transform=transform, terms=terms)


def cox(
    data: pd.DataFrame,
    formula: str | list[str],
    *,
    time: str,
    event: str,
    start: str | None = None,
    strata: str | list[str] | None = None,
    cluster: str | None = None,
    robust: bool = False,
    ties: Literal["efron", "breslow"] = "efron",
    conf_level: float = 0.95,
    concordance: bool = True,
    max_iterations: int = 30,
) -> CoxResult:
    """Fit a Cox proportional hazards model.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant, or, with ``start``, one row per participant and
        interval ``(start, stop]`` over which the covariates are constant.
    formula : str or list of str
        Right-hand side in patsy syntax (``"arm + age"``, ``"~ arm * kkw"``,
        ``"C(arm, Treatment('single'))"``) or a list of column names. Text columns are
        factors with sorted levels (the first is the reference); a Categorical uses its
        category order. No intercept, no left-hand side: use ``time`` and ``event``.
    time : str
        Event or censoring time; with ``start``, the end of each interval.
    event : str
        1/True when the interval (or follow-up) ends with the event, 0/False otherwise.
    start : str, optional
        Start of each interval, for time-varying covariates (R ``Surv(start, stop,
        event)``). A participant's rows must not overlap.
    strata : str or list of str, optional
        Column(s) with a separate baseline hazard per level (R ``strata()``).
    cluster : str, optional
        Column identifying independent clusters (participant with several rows, site):
        robust sandwich standard errors ``D'D`` from dfbeta residuals summed by cluster
        (R ``cluster =``).
    robust : bool
        Robust standard errors with each row its own cluster (R ``robust = TRUE``).
    ties : {"efron", "breslow"}
        Handling of tied event times.
    conf_level : float
        Level of the Wald intervals.
    concordance : bool
        Compute Harrell's C (O(events x rows)); False skips it.
    max_iterations : int
        Newton-Raphson iterations before giving up.

    Returns
    -------
    CoxResult

    Raises
    ------
    ketex.errors.DataValidationError
        A column is missing or has bad values, or the design is rank deficient.
    ketex.errors.ConvergenceError
        Newton-Raphson did not converge.

    Warns
    -----
    ketex.errors.ConvergenceWarning
        A coefficient seems to tend to infinity (e.g. no events in a group).

    Notes
    -----
    The log partial likelihood with Efron's ties is
    ``sum_t [sum_{i in D_t} eta_i - sum_{k=0}^{d_t-1} log(sum_{R_t} r - k/d_t sum_{D_t} r)]``
    with ``r = exp(eta)``, maximised by Newton-Raphson from zero with step halving,
    until the log-likelihood changes by less than 1e-10 relative (R's ``coxph``
    stops at 1e-9). Standard errors come from the inverse information; robust ones
    from the score residuals as R computes them. Covariates are centred internally,
    which does not change the estimates.

    References
    ----------
    Cox DR (1972). Regression models and life-tables. JRSS B 34:187-220.
    Efron B (1977). The efficiency of Cox's likelihood function for censored data.
    JASA 72:557-565.
    Lin DY, Wei LJ (1989). The robust inference for the Cox proportional hazards model.
    JASA 84:1074-1078.
    Therneau TM, Grambsch PM (2000). Modeling Survival Data. Springer.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.survival import cox
    >>> d = pd.DataFrame({
    ...     "days": [5, 8, 8, 12, 20, 21, 3, 9, 15, 30, 4, 26],
    ...     "relapsed": [1, 1, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1],
    ...     "arm": ["series"] * 6 + ["single"] * 6,
    ...     "age": [34, 51, 45, 29, 62, 40, 38, 55, 47, 33, 58, 41],
    ... })
    >>> d["arm"] = pd.Categorical(d["arm"], categories=["single", "series"])  # reference first
    >>> fit = cox(d, "arm + age", time="days", event="relapsed")
    >>> fit.coef[["term", "estimate", "se", "hazard_ratio", "p_value"]].round(4)
                term  estimate      se  hazard_ratio  p_value
    0  arm[T.series]    0.3116  0.7749        1.3656   0.6876
    1            age    0.0101  0.0375        1.0102   0.7873

    The same in R: ``coxph(Surv(days, relapsed) ~ arm + age, data = d)``.
    """
    strata_columns = [strata] if isinstance(strata, str) else list(strata or [])
    check_columns(
        data,
        {"time": time, "event": event, "start": start, "strata": strata_columns or None,
         "cluster": cluster},
        "cox",
    )  # fmt: skip
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow', got {ties!r}.")
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be between 0 and 1, got {conf_level!r}.")
    rhs = _right_hand_side(formula, data)
    variables = formula_variables(rhs, list(data.columns))
    roles = [*strata_columns, *([cluster] if cluster else [])]
    clean = survival_data(
        data, time=time, event=event, start=start, other=(*variables, *roles),
        ids=(cluster,) if cluster else (), roles={"covariate": variables, "strata": strata_columns},
        analysis="cox",
    )
    used = _categorise(data.loc[clean.rows], variables)
    x_frame, design_info = _design(rhs, used)
    check_levels(used, analysis="run cox", factors=variables, design_info=design_info)
    check_design_finite(x_frame, used.index, "run cox")
    names = tuple(str(c) for c in x_frame.columns)
    x = x_frame.to_numpy(dtype=float)
    x = x - x.mean(axis=0)
    _check_rank(x, names)
    if strata_columns:
        strata_codes, strata_labels = combined_codes(used, strata_columns)
    else:
        strata_codes, strata_labels = np.zeros(len(used), dtype=np.int64), []
    if not clean.event.any():
        raise DataValidationError(f"Cannot fit a Cox model: event column {event!r} has no events.")
    sets = engine.RiskSets.build(clean.stop, clean.start, clean.event, strata_codes, ties)
    fit = engine.newton_raphson(x, sets, max_iterations=max_iterations)
    if not fit.converged:
        raise ConvergenceError(
            f"The Cox model did not converge in {max_iterations} Newton-Raphson iterations; "
            "check for a covariate that separates events from non-events, or raise "
            "max_iterations."
        )
    if fit.infinite.any():
        warnings.warn(
            "The log-likelihood converged before the coefficients of "
            f"{[n for n, f in zip(names, fit.infinite, strict=True) if f]}: they may be "
            "infinite (e.g. a group without events).",
            ConvergenceWarning,
            stacklevel=2,
        )
    info = fit.evaluation.information
    vcov_model = linalg.inv(info)
    vcov_model = (vcov_model + vcov_model.T) / 2
    clusters = _cluster_codes(used, cluster, robust)
    if clusters is not None:
        residuals = engine.score_residuals(x, fit.beta, sets)
        dfbeta = _collapse(residuals, clusters) @ vcov_model
        vcov = dfbeta.T @ dfbeta
    else:
        vcov = vcov_model
    term_names, term_columns = _terms(design_info)
    tests = _tests(fit, vcov, x, sets, clusters)
    coef = _coef_table(names, fit.beta, vcov, vcov_model, conf_level)
    model = CoxModel(
        x=_readonly(x),
        beta=_readonly(fit.beta),
        stop=_readonly(clean.stop),
        start=None if clean.start is None else _readonly(clean.start),
        event=clean.event,
        strata=strata_codes,
        sets=sets,
        column_names=names,
        term_names=term_names,
        term_columns=term_columns,
    )
    c_index = (
        engine.concordance(
            engine.linear_predictor(x, fit.beta), clean.stop, clean.start, clean.event, strata_codes
        )["concordance"]
        if concordance
        else None
    )
    return CoxResult(
        coef=coef,
        vcov=pd.DataFrame(_readonly(vcov), index=list(names), columns=list(names)),
        vcov_model=pd.DataFrame(_readonly(vcov_model), index=list(names), columns=list(names)),
        loglik=fit.evaluation.loglik,
        loglik_null=fit.null.loglik,
        tests=tests,
        concordance=c_index,
        n_obs=int(clean.stop.size),
        n_events=int(clean.event.sum()),
        n_missing=clean.n_missing,
        n_clusters=None if clusters is None else int(clusters.max() + 1),
        ties=ties,
        robust=clusters is not None,
        converged=fit.converged,
        iterations=fit.iterations,
        formula=rhs,
        terms=term_names,
        strata=tuple(strata_labels),
        conf_level=float(conf_level),
        _model=model,
    )


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=float, copy=True)
    array.flags.writeable = False
    return array


def _right_hand_side(formula, data: pd.DataFrame) -> str:
    if isinstance(formula, (list, tuple)):
        if not formula:
            raise ValueError("covariates must name at least one column.")
        missing = [c for c in formula if c not in data.columns]
        if missing:
            raise DataValidationError(
                f"Cannot run cox: covariate columns {missing} are not in the data. "
                f"Columns are: {list(data.columns)}."
            )
        return " + ".join(c if _IDENTIFIER.match(c) else f'Q("{c}")' for c in formula)
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string or a list of column names, got {formula!r}.")
    if "~" in formula:
        lhs, rhs = formula.split("~", 1)
        if lhs.strip():
            raise ValueError(
                f"formula {formula!r} has a left-hand side; give only the covariates "
                "(e.g. 'arm + age') and name the outcome columns in time= and event=."
            )
        formula = rhs
    if not formula.strip():
        raise ValueError("formula must name at least one covariate, e.g. 'arm + age'.")
    return formula.strip()


def _categorise(frame: pd.DataFrame, variables: list[str]) -> pd.DataFrame:
    """Text columns become Categoricals with sorted levels; unused levels are dropped."""
    converted: dict[str, pd.Series | pd.Categorical] = {}
    for name in variables:
        values = frame[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            converted[name] = values.cat.remove_unused_categories()
        elif not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            converted[name] = pd.Categorical(values, categories=sorted(values.unique().tolist()))
    return frame.assign(**converted) if converted else frame


def _design(rhs: str, used: pd.DataFrame) -> tuple[pd.DataFrame, patsy.DesignInfo]:
    try:
        x_frame = patsy.dmatrix(rhs, used, NA_action="raise", return_type="dataframe")
    except patsy.PatsyError as error:
        raise formula_error(error, rhs, used.columns, "run cox") from error
    if "Intercept" not in x_frame.columns:
        raise ValueError(
            f"formula {rhs!r} removes the intercept; a Cox model has none to remove, so "
            "drop '- 1' / '0 +' (factors are then coded against their reference level)."
        )
    design_info = x_frame.design_info
    x_frame = x_frame.drop(columns="Intercept")
    if x_frame.shape[1] == 0:
        raise ValueError(f"formula {rhs!r} has no covariates.")
    return x_frame, design_info


def _terms(design_info) -> tuple[tuple[str, ...], tuple[tuple[int, ...], ...]]:
    names, columns = [], []
    for term, columns_slice in design_info.term_slices.items():
        name = term.name()
        if name == "Intercept":
            continue
        names.append(name)
        columns.append(tuple(range(columns_slice.start - 1, columns_slice.stop - 1)))
    return tuple(names), tuple(columns)


def _check_rank(x: np.ndarray, names: tuple[str, ...]) -> None:
    constant = [n for n, v in zip(names, np.ptp(x, axis=0), strict=True) if v == 0]
    if constant:
        raise DataValidationError(
            f"The Cox design has constant columns {constant} (a covariate that does not vary, "
            "or a factor level without rows); drop them from the formula."
        )
    scale = np.sqrt((x**2).sum(axis=0))
    singular = np.linalg.svd(x / scale, compute_uv=False)
    if singular.min() <= singular.max() * x.shape[1] * 1e-10:
        raise DataValidationError(
            f"The Cox design is rank deficient: the columns {list(names)} are linearly "
            "dependent; simplify the formula."
        )


def _cluster_codes(used: pd.DataFrame, cluster: str | None, robust: bool) -> np.ndarray | None:
    if cluster is not None:
        return pd.factorize(used[cluster])[0].astype(np.int64)
    if robust:
        return np.arange(len(used), dtype=np.int64)
    return None


def _collapse(rows: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    out = np.zeros((int(clusters.max()) + 1, rows.shape[1]))
    np.add.at(out, clusters, rows)
    return out


def _chi2_row(name: str, statistic: float, df: int) -> dict:
    return {"test": name, "statistic": float(statistic), "df": df,
            "p_value": float(stats.chi2.sf(statistic, df))}  # fmt: skip


def _tests(fit, vcov, x, sets, clusters) -> pd.DataFrame:
    p = fit.beta.size
    null = fit.null
    score = float(null.score @ linalg.solve(null.information, null.score, assume_a="pos"))
    wald = float(fit.beta @ linalg.solve(vcov, fit.beta, assume_a="pos"))
    rows = [
        _chi2_row("likelihood_ratio", 2 * (fit.evaluation.loglik - null.loglik), p),
        _chi2_row("wald", wald, p),
        _chi2_row("score", score, p),
    ]
    if clusters is not None:
        at_zero = _collapse(engine.score_residuals(x, np.zeros(p), sets), clusters)
        u = at_zero.sum(axis=0)
        rows.append(_chi2_row("robust_score", float(u @ linalg.solve(at_zero.T @ at_zero, u)), p))
    return pd.DataFrame(rows)


def _coef_table(names, beta, vcov, vcov_model, conf_level) -> pd.DataFrame:
    se = np.sqrt(np.diag(vcov))
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    low, high = beta - z * se, beta + z * se
    statistic = beta / se
    with np.errstate(over="ignore"):  # a coefficient tending to infinity: limits inf
        hazard = np.exp(np.column_stack([beta, low, high]))
    return pd.DataFrame(
        {
            "term": list(names),
            "estimate": beta,
            "se": se,
            "se_model": np.sqrt(np.diag(vcov_model)),
            "statistic": statistic,
            "p_value": 2 * stats.norm.sf(np.abs(statistic)),
            "ci_low": low,
            "ci_high": high,
            "hazard_ratio": hazard[:, 0],
            "hr_ci_low": hazard[:, 1],
            "hr_ci_high": hazard[:, 2],
        }
    )[COEF_COLUMNS]
