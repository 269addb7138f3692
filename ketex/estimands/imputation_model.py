"""The imputation model: ketex's MMRM fitted to the MAR data, and its predicted means.

The model is fitted with :func:`ketex.models.mmrm` (any covariance structure, REML or
ML) on the outcomes that are observed and missing at random: values after an
intercurrent event handled by a non-MAR strategy are left out.  Each participant's mean
at every visit is then predicted twice, in the own arm and in the reference arm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy

from ketex.estimands._longdata import LongData
from ketex.models import MMRMControl, mmrm

__all__ = ["ImputationModel", "ModelParameters"]


@dataclass(frozen=True)
class ModelParameters:
    """Fixed effects and one covariance matrix per arm (the same one when shared)."""

    beta: np.ndarray
    sigmas: tuple[np.ndarray, ...]
    theta: np.ndarray


@dataclass(frozen=True)
class ImputationModel:
    """What is needed to fit the model to any set of participants and predict from it."""

    long: LongData
    formula: str
    covariance: str
    method: str
    same_covariance: bool
    x_own: np.ndarray  # (n, T, k)
    x_reference: np.ndarray  # (n, T, k)
    column_names: tuple[str, ...]

    @classmethod
    def build(
        cls, long: LongData, formula: str, covariance: str, method: str, same_covariance: bool
    ) -> ImputationModel:
        rhs = formula.split("~", 1)[1]
        fitted_rows = long.grid[(long.is_mar & ~long.is_missing).ravel()]
        design = patsy.dmatrix(rhs, fitted_rows, NA_action="raise", return_type="dataframe")
        info = design.design_info
        n, t = long.n_subjects, long.n_visits
        own = patsy.build_design_matrices([info], long.grid, NA_action="raise")[0]
        reference_grid = long.grid.assign(
            **{
                long.group: pd.Categorical(
                    np.repeat(np.asarray(long.arms, dtype=object)[long.reference_codes], t),
                    categories=long.arms,
                )
            }
        )
        reference = patsy.build_design_matrices([info], reference_grid, NA_action="raise")[0]
        k = own.shape[1]
        return cls(
            long=long,
            formula=formula,
            covariance=covariance,
            method=method,
            same_covariance=same_covariance,
            x_own=np.asarray(own).reshape(n, t, k),
            x_reference=np.asarray(reference).reshape(n, t, k),
            column_names=tuple(info.column_names),
        )

    def fit(
        self, rows: np.ndarray | None = None, start: np.ndarray | None = None
    ) -> ModelParameters:
        """Fit to participants ``rows`` (indices, repeats allowed; default: all)."""
        long = self.long
        n, t = long.n_subjects, long.n_visits
        rows = np.arange(n) if rows is None else np.asarray(rows)
        cells = (rows[:, None] * t + np.arange(t)[None, :]).ravel()
        usable = (long.is_mar & ~long.is_missing)[rows].ravel()
        frame = long.grid.iloc[cells[usable]]
        replicate = np.repeat(np.arange(rows.size), t)[usable]
        frame = frame.assign(**{long.subject: replicate})
        control = MMRMControl(start=None if start is None else tuple(start))
        result = mmrm(
            frame,
            self.formula,
            subject=long.subject,
            visit=long.visit,
            covariance=self.covariance,
            group=None if self.same_covariance else long.group,
            method=self.method,
            df="residual",
            control=control,
        )
        terms = tuple(result.coef["term"])
        if terms != self.column_names:
            raise ValueError(
                "The imputation model's columns differ between the full data and a "
                f"resample ({len(terms)} vs {len(self.column_names)}): a level of a factor "
                "has no MAR outcome in the resample. Simplify the formula or merge rare levels."
            )
        beta = result.coef["estimate"].to_numpy(dtype=float)
        matrices = result.covariance_matrix
        visits = [str(v) for v in long.visits]
        if isinstance(matrices, dict):
            sigmas = tuple(matrices[a].loc[visits, visits].to_numpy() for a in long.arms)
        else:
            shared = matrices.loc[visits, visits].to_numpy()
            sigmas = tuple(shared for _ in long.arms)
        return ModelParameters(beta=beta, sigmas=sigmas, theta=np.asarray(result.theta))

    def means(self, parameters: ModelParameters) -> tuple[np.ndarray, np.ndarray]:
        """Predicted means (n, T) in the own arm and in the reference arm."""
        return self.x_own @ parameters.beta, self.x_reference @ parameters.beta
