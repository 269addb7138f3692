"""t and F tests of linear contrasts of the fixed effects, for each df method."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ketex.models.kenward_roger import kenward_roger_df
from ketex.models.satterthwaite import satterthwaite_df, satterthwaite_f_test

__all__ = ["DF_METHODS", "Inference", "between_within_df"]

DF_METHODS = (
    "satterthwaite",
    "kenward_roger",
    "kenward_roger_linear",
    "residual",
    "between_within",
)

TEST_COLUMNS = ["estimate", "se", "df", "statistic", "p_value", "ci_low", "ci_high"]


@dataclass(frozen=True)
class Inference:
    """What the tests need: estimates, covariances, and the df method's parts.

    ``beta_vcov`` is the covariance used for standard errors (model based,
    Kenward-Roger adjusted or empirical); ``model_vcov`` is the unadjusted ``Phi``
    that Satterthwaite and Kenward-Roger differentiate.
    """

    beta: np.ndarray
    beta_vcov: np.ndarray
    model_vcov: np.ndarray
    df_method: str
    theta_vcov: np.ndarray | None
    jacobian: np.ndarray | None  # (m, k, k) d Phi / d theta_j
    p_matrices: np.ndarray | None  # (m, k, k)
    residual_df: float
    coefficient_df: np.ndarray  # between-within df per coefficient
    confidence_level: float

    def df_1d(self, contrast: np.ndarray) -> float:
        method = self.df_method
        if method == "satterthwaite":
            return satterthwaite_df(contrast, self.model_vcov, self.jacobian, self.theta_vcov)
        if method in ("kenward_roger", "kenward_roger_linear"):
            return kenward_roger_df(
                contrast[None, :], self.model_vcov, self.p_matrices, self.theta_vcov
            )[0]
        if method == "residual":
            return self.residual_df
        involved = np.abs(contrast) > 0
        return float(np.min(self.coefficient_df[involved])) if involved.any() else self.residual_df

    def t_tests(self, contrasts: np.ndarray) -> pd.DataFrame:
        """One row per contrast row: estimate, se, df, t, p, confidence interval."""
        contrasts = np.atleast_2d(np.asarray(contrasts, dtype=float))
        estimate = contrasts @ self.beta
        se = np.sqrt(np.einsum("ia,ab,ib->i", contrasts, self.beta_vcov, contrasts))
        df = np.array([self.df_1d(row) for row in contrasts])
        with np.errstate(divide="ignore", invalid="ignore"):
            statistic = estimate / se
        p_value = 2.0 * stats.t.sf(np.abs(statistic), df)
        quantile = stats.t.ppf(0.5 + self.confidence_level / 2.0, df)
        return pd.DataFrame(
            {
                "estimate": estimate,
                "se": se,
                "df": df,
                "statistic": statistic,
                "p_value": p_value,
                "ci_low": estimate - quantile * se,
                "ci_high": estimate + quantile * se,
            }
        )

    def f_test(self, contrast: np.ndarray) -> dict[str, float]:
        """F test of ``L beta = 0``: num_df, den_df, statistic, p_value."""
        contrast = np.atleast_2d(np.asarray(contrast, dtype=float))
        method = self.df_method
        if method == "satterthwaite":
            f_stat, rank, den_df = satterthwaite_f_test(
                contrast, self.beta, self.beta_vcov, self.jacobian, self.theta_vcov
            )
        else:
            contrast = _full_rank_rows(contrast, self.beta_vcov)
            rank = contrast.shape[0]
            estimate = contrast @ self.beta
            covariance = contrast @ self.beta_vcov @ contrast.T
            f_stat = float(estimate @ np.linalg.solve(covariance, estimate) / rank)
            if method in ("kenward_roger", "kenward_roger_linear"):
                den_df, scale = kenward_roger_df(
                    contrast, self.model_vcov, self.p_matrices, self.theta_vcov
                )
                f_stat *= scale
            elif method == "residual":
                den_df = self.residual_df
            else:
                involved = np.any(np.abs(contrast) > 0, axis=0)
                den_df = float(np.min(self.coefficient_df[involved]))
        return {
            "num_df": float(rank),
            "den_df": float(den_df),
            "statistic": float(f_stat),
            "p_value": float(stats.f.sf(f_stat, rank, den_df)),
        }


def _full_rank_rows(contrast: np.ndarray, vcov: np.ndarray) -> np.ndarray:
    covariance = contrast @ vcov @ contrast.T
    values, vectors = np.linalg.eigh(0.5 * (covariance + covariance.T))
    keep = values > max(np.sqrt(np.finfo(float).eps) * values.max(), 0.0)
    if not keep.any():
        raise ValueError("The contrast has zero variance: it tests nothing estimable.")
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
