"""The one inference layer of every model: Wald t/z tests, F/chi-square tests, intervals.

Every result (MMRM, LMM, GLMM, GEE) holds one :class:`Inference`: the estimates, the
covariance used for standard errors, the confidence level and a *df rule*. The rule is
the only model-specific part of a test: it gives the degrees of freedom of a 1-d
contrast (``df_1d``) and the F statistic with its degrees of freedom for a multi-row
contrast (``f_test``). An infinite df is a Wald z test (and a chi-square test for
``f_test``). A new df method is a new rule class here plus one entry in
:data:`DF_RULES` (and in :data:`DF_METHODS` when the MMRM/LMM should accept it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from scipy import stats

from ketex.errors import DataValidationError
from ketex.models.kenward_roger import kenward_roger_df
from ketex.models.satterthwaite import satterthwaite_df, satterthwaite_f_test

__all__ = [
    "DF_METHODS",
    "DF_RULES",
    "BetweenWithinDf",
    "DfRule",
    "FixedDf",
    "Inference",
    "KenwardRogerDf",
    "SatterthwaiteDf",
    "between_within_df",
    "critical_value",
    "readonly",
    "wald_table",
]

#: df methods the MMRM and LMM accept (``df=``)
DF_METHODS = (
    "satterthwaite",
    "kenward_roger",
    "kenward_roger_linear",
    "residual",
    "between_within",
)

TEST_COLUMNS = ["estimate", "se", "df", "statistic", "p_value", "ci_low", "ci_high"]
F_COLUMNS = ["num_df", "den_df", "statistic", "p_value"]


def readonly(array) -> np.ndarray:
    """A float copy of ``array`` that cannot be written to (for frozen results)."""
    array = np.array(array, dtype=float, copy=True)
    array.flags.writeable = False
    return array


# ------------------------------------------------------------------ df rules
class DfRule(Protocol):
    """How a df method answers: df of one contrast row, F test of several rows."""

    def df_1d(self, contrast: np.ndarray) -> float: ...

    def f_test(
        self, contrast: np.ndarray, beta: np.ndarray, vcov: np.ndarray
    ) -> tuple[float, float, float]:
        """``(F statistic, num_df, den_df)`` of ``contrast @ beta = 0``."""
        ...


def _wald_f(contrast, beta, vcov) -> tuple[np.ndarray, float]:
    """Full-rank rows of ``contrast`` and their Wald F (chi-square / rank)."""
    contrast = _full_rank_rows(contrast, vcov)
    estimate = contrast @ beta
    covariance = contrast @ vcov @ contrast.T
    rank = contrast.shape[0]
    return contrast, float(estimate @ np.linalg.solve(covariance, estimate) / rank)


@dataclass(frozen=True)
class FixedDf:
    """One df for every contrast: residual df, ``n_clusters - p``, or ``inf`` (z tests)."""

    df: float

    def df_1d(self, contrast: np.ndarray) -> float:
        return float(self.df)

    def f_test(self, contrast, beta, vcov) -> tuple[float, float, float]:
        contrast, f_stat = _wald_f(contrast, beta, vcov)
        return f_stat, float(contrast.shape[0]), float(self.df)


@dataclass(frozen=True)
class BetweenWithinDf:
    """R mmrm's between-within df: the smallest df of the coefficients involved."""

    coefficient_df: np.ndarray
    residual_df: float

    def df_1d(self, contrast: np.ndarray) -> float:
        involved = np.abs(contrast) > 0
        return float(np.min(self.coefficient_df[involved])) if involved.any() else self.residual_df

    def f_test(self, contrast, beta, vcov) -> tuple[float, float, float]:
        contrast, f_stat = _wald_f(contrast, beta, vcov)
        involved = np.any(np.abs(contrast) > 0, axis=0)
        return f_stat, float(contrast.shape[0]), float(np.min(self.coefficient_df[involved]))


@dataclass(frozen=True)
class SatterthwaiteDf:
    """Satterthwaite df from the derivatives of ``Phi`` in the variance parameters."""

    model_vcov: np.ndarray
    jacobian: np.ndarray  # (m, k, k) d Phi / d theta_j
    theta_vcov: np.ndarray

    def df_1d(self, contrast: np.ndarray) -> float:
        return satterthwaite_df(contrast, self.model_vcov, self.jacobian, self.theta_vcov)

    def f_test(self, contrast, beta, vcov) -> tuple[float, float, float]:
        f_stat, rank, den_df = satterthwaite_f_test(
            contrast, beta, vcov, self.jacobian, self.theta_vcov
        )
        return float(f_stat), float(rank), float(den_df)


@dataclass(frozen=True)
class KenwardRogerDf:
    """Kenward-Roger df (and F scale) from the ``P`` matrices of the fit."""

    model_vcov: np.ndarray
    p_matrices: np.ndarray  # (m, k, k)
    theta_vcov: np.ndarray

    def df_1d(self, contrast: np.ndarray) -> float:
        return kenward_roger_df(
            contrast[None, :], self.model_vcov, self.p_matrices, self.theta_vcov
        )[0]

    def f_test(self, contrast, beta, vcov) -> tuple[float, float, float]:
        contrast, f_stat = _wald_f(contrast, beta, vcov)
        den_df, scale = kenward_roger_df(contrast, self.model_vcov, self.p_matrices,
                                         self.theta_vcov)
        return f_stat * scale, float(contrast.shape[0]), float(den_df)


def _satterthwaite(parts: dict) -> DfRule:
    return SatterthwaiteDf(parts["model_vcov"], parts["jacobian"], parts["theta_vcov"])


def _kenward_roger(parts: dict) -> DfRule:
    return KenwardRogerDf(parts["model_vcov"], parts["p_matrices"], parts["theta_vcov"])


#: df method name -> rule built from the fit's parts (``model_vcov``, ``jacobian``,
#: ``p_matrices``, ``theta_vcov``, ``residual_df``, ``coefficient_df``)
DF_RULES = {
    "satterthwaite": _satterthwaite,
    "kenward_roger": _kenward_roger,
    "kenward_roger_linear": _kenward_roger,
    "residual": lambda parts: FixedDf(parts["residual_df"]),
    "between_within": lambda parts: BetweenWithinDf(parts["coefficient_df"],
                                                    parts["residual_df"]),
    "normal": lambda parts: FixedDf(np.inf),
    "fixed": lambda parts: FixedDf(parts["residual_df"]),
}


# ------------------------------------------------------------------ tables
def critical_value(df, conf_level: float) -> np.ndarray:
    """Two-sided quantile of t(df), the normal where df is infinite."""
    upper = 0.5 + conf_level / 2.0
    df = np.asarray(df, dtype=float)
    finite = np.isfinite(df)
    return np.where(finite, stats.t.ppf(upper, np.where(finite, df, 1.0)), stats.norm.ppf(upper))


def wald_table(estimate, se, df, conf_level: float) -> pd.DataFrame:
    """``estimate, se, df, statistic, p_value, ci_low, ci_high`` of Wald tests against 0.

    ``df`` (scalar or one per row) may be infinite: a z test and a normal interval.

    Examples
    --------
    >>> wald_table([1.96], [1.0], float("inf"), 0.95).round(3).iloc[0].tolist()
    [1.96, 1.0, inf, 1.96, 0.05, 0.0, 3.92]
    """
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    df = np.broadcast_to(np.asarray(df, dtype=float), estimate.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimate / se
    finite = np.isfinite(df)
    p_value = np.where(
        finite,
        2.0 * stats.t.sf(np.abs(statistic), np.where(finite, df, 1.0)),
        2.0 * stats.norm.sf(np.abs(statistic)),
    )
    quantile = critical_value(df, conf_level)
    return pd.DataFrame(
        {
            "estimate": estimate,
            "se": se,
            "df": np.array(df, dtype=float),
            "statistic": statistic,
            "p_value": p_value,
            "ci_low": estimate - quantile * se,
            "ci_high": estimate + quantile * se,
        }
    )


def check_conf_level(conf_level: float, where: str) -> float:
    """``conf_level`` as a float in (0, 1), or a DataValidationError naming ``where``."""
    if isinstance(conf_level, bool) or not isinstance(conf_level, (int, float)) or not (
        0 < conf_level < 1
    ):
        raise DataValidationError(
            f"{where}: conf_level must be a number in (0, 1), e.g. 0.95; got {conf_level!r}."
        )
    return float(conf_level)


# --------------------------------------------------------------- inference
@dataclass(frozen=True, init=False)
class Inference:
    """Estimates, their covariance and the df rule: every test of a fit.

    ``beta_vcov`` is the covariance used for standard errors (model based,
    Kenward-Roger adjusted or empirical); ``model_vcov`` the unadjusted ``Phi`` that
    Satterthwaite and Kenward-Roger differentiate. ``df_method`` names a rule of
    :data:`DF_RULES` (built from the other parts), or pass ``df_rule`` directly.
    ``conf_level`` (old name ``confidence_level``) is the default level of intervals.

    Examples
    --------
    >>> import numpy as np
    >>> inference = Inference(beta=np.array([1.0, 2.0]), beta_vcov=np.eye(2),
    ...                       df_method="normal", conf_level=0.95)
    >>> inference.t_tests(np.eye(2))["p_value"].round(4).tolist()
    [0.3173, 0.0455]
    >>> inference.f_test(np.eye(2))["num_df"]
    2.0
    """

    beta: np.ndarray
    beta_vcov: np.ndarray
    model_vcov: np.ndarray
    df_method: str
    df_rule: DfRule
    theta_vcov: np.ndarray | None
    jacobian: np.ndarray | None
    p_matrices: np.ndarray | None
    residual_df: float
    coefficient_df: np.ndarray | None
    conf_level: float

    def __init__(self, *, beta, beta_vcov, model_vcov=None, df_method: str = "normal",
                 df_rule: DfRule | None = None, theta_vcov=None, jacobian=None,
                 p_matrices=None, residual_df: float = np.inf, coefficient_df=None,
                 conf_level: float | None = None, confidence_level: float | None = None):
        level = conf_level if conf_level is not None else confidence_level
        parts = {
            "beta": np.asarray(beta, dtype=float),
            "beta_vcov": np.asarray(beta_vcov, dtype=float),
            "model_vcov": np.asarray(beta_vcov if model_vcov is None else model_vcov,
                                     dtype=float),
            "df_method": df_method,
            "theta_vcov": theta_vcov,
            "jacobian": jacobian,
            "p_matrices": p_matrices,
            "residual_df": float(residual_df),
            "coefficient_df": coefficient_df,
            "conf_level": 0.95 if level is None else float(level),
        }
        if df_rule is None:
            if df_method not in DF_RULES:
                raise ValueError(f"df_method must be one of {list(DF_RULES)}, got {df_method!r}.")
            df_rule = DF_RULES[df_method](parts)
        parts["df_rule"] = df_rule
        for name, value in parts.items():
            object.__setattr__(self, name, value)

    @property
    def confidence_level(self) -> float:
        """The old name of :attr:`conf_level`."""
        return self.conf_level

    def df_1d(self, contrast: np.ndarray) -> float:
        return float(self.df_rule.df_1d(np.asarray(contrast, dtype=float)))

    def t_tests(self, contrasts: np.ndarray, conf_level: float | None = None) -> pd.DataFrame:
        """One row per contrast row: estimate, se, df, t (or z), p, confidence interval."""
        contrasts = np.atleast_2d(np.asarray(contrasts, dtype=float))
        estimate = contrasts @ self.beta
        se = np.sqrt(np.einsum("ia,ab,ib->i", contrasts, self.beta_vcov, contrasts))
        df = np.array([self.df_1d(row) for row in contrasts], dtype=float)
        level = self.conf_level if conf_level is None else conf_level
        return wald_table(estimate, se, df, level)

    def f_test(self, contrast: np.ndarray) -> dict[str, float]:
        """F test of ``L beta = 0``: num_df, den_df, statistic, p_value.

        With an infinite ``den_df`` the statistic is the Wald chi-square over
        ``num_df`` and the p-value the chi-square one.
        """
        contrast = np.atleast_2d(np.asarray(contrast, dtype=float))
        f_stat, rank, den_df = self.df_rule.f_test(contrast, self.beta, self.beta_vcov)
        if np.isinf(den_df):
            p_value = float(stats.chi2.sf(f_stat * rank, rank))
        else:
            p_value = float(stats.f.sf(f_stat, rank, den_df))
        return {
            "num_df": float(rank),
            "den_df": float(den_df),
            "statistic": float(f_stat),
            "p_value": p_value,
        }


def _full_rank_rows(contrast: np.ndarray, vcov: np.ndarray) -> np.ndarray:
    covariance = contrast @ vcov @ contrast.T
    values, vectors = np.linalg.eigh(0.5 * (covariance + covariance.T))
    keep = values > max(np.sqrt(np.finfo(float).eps) * values.max(), 0.0)
    if not keep.any():
        raise DataValidationError(
            "The contrast has zero variance: it tests nothing estimable; check its rows "
            "against the columns of coef."
        )
    return vectors[:, keep].T @ contrast


def between_within_df(
    x: np.ndarray, subject_codes: np.ndarray, column_names: tuple[str, ...]
) -> np.ndarray:
    """Between-within df per coefficient, as R's mmrm (``between-within.R``).

    A column constant within every subject is "between" (df = subjects - between
    columns - intercept); otherwise, and for the intercept, "within" (df = observations
    - subjects - within columns).  Rows must be sorted by subject.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 0, 1.0], [1, 0, 2.0], [1, 1, 1.5], [1, 1, 0.5]])
    >>> between_within_df(x, np.array([0, 0, 1, 1]), ("Intercept", "arm", "dose"))
    array([1., 0., 1.])
    """
    n_obs = x.shape[0]
    starts = np.flatnonzero(np.r_[True, subject_codes[1:] != subject_codes[:-1]])
    n_subjects = starts.size
    varies = np.any(
        np.maximum.reduceat(x, starts, axis=0) != np.minimum.reduceat(x, starts, axis=0), axis=0
    )
    intercept = np.array([name == "Intercept" for name in column_names])
    within = varies & ~intercept
    between = ~varies & ~intercept
    between_df = n_subjects - between.sum() - intercept.sum()
    within_df = n_obs - n_subjects - within.sum()
    return np.where(between, between_df, within_df).astype(float)
