"""The imputation model: ketex's MMRM fitted to the MAR data, and its predicted means.

The model is fitted by the MMRM engine (:mod:`ketex.models.mmrm`: any covariance
structure, REML or ML) to the outcomes that are observed and missing at random: values
after an intercurrent event handled by a non-MAR strategy are left out.  The engine's
model frame is built once; a resample (jackknife, bootstrap) is refitted from the
participants' statistics by :mod:`ketex.estimands._refit`, warm started from the
full-data fit, and falls back to the engine on the resample's rows (each occurrence
of a participant a new subject) should that not converge.  Each participant's mean at every visit is
predicted twice, in the own arm and in the reference arm.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import patsy

from ketex.errors import DataValidationError
from ketex.estimands._longdata import LongData
from ketex.estimands._refit import Refitter
from ketex.models._design import ModelFrame, build_model_frame
from ketex.models.mmrm import MMRMControl, fit_model_frame

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
    covariance: str
    method: str
    x_own: np.ndarray  # (n, T, k)
    x_reference: np.ndarray  # (n, T, k)
    frame: ModelFrame  # the engine's frame of all MAR outcomes; subject = participant index
    row_start: np.ndarray  # (n,) first frame row of each participant
    row_count: np.ndarray  # (n,) its number of frame rows
    refitter: Refitter  # the fast refits to resamples

    @classmethod
    def build(
        cls, long: LongData, formula: str, covariance: str, method: str, same_covariance: bool
    ) -> ImputationModel:
        n, t = long.n_subjects, long.n_visits
        usable = (long.is_mar & ~long.is_missing).ravel()
        fitted_rows = long.grid[usable].assign(**{long.subject: np.repeat(np.arange(n), t)[usable]})
        frame = build_model_frame(
            fitted_rows,
            formula,
            model="imputation MMRM",
            subject=long.subject,
            visit=long.visit,
            covariance_group=None if same_covariance else long.group,
        )
        info = frame.design_info
        own = patsy.build_design_matrices([info], long.grid, NA_action="raise")[0]
        reference_arm = np.asarray(long.arms, dtype=object)[long.reference_codes]
        reference_grid = long.grid.assign(
            **{long.group: pd.Categorical(np.repeat(reference_arm, t), categories=long.arms)}
        )
        reference = patsy.build_design_matrices([info], reference_grid, NA_action="raise")[0]
        k = own.shape[1]
        of_row = frame.data[long.subject].to_numpy()
        row_start = np.searchsorted(of_row, np.arange(n))
        row_count = np.searchsorted(of_row, np.arange(n), side="right") - row_start
        return cls(
            long=long,
            covariance=covariance,
            method=method,
            x_own=np.asarray(own).reshape(n, t, k),
            x_reference=np.asarray(reference).reshape(n, t, k),
            frame=frame,
            row_start=row_start,
            row_count=row_count,
            refitter=Refitter.build(frame, covariance, method, long.visits, long.arms),
        )

    def fit(
        self, rows: np.ndarray | None = None, start: np.ndarray | None = None
    ) -> ModelParameters:
        """Fit to participants ``rows`` (indices, repeats allowed; default: all).

        With ``start`` (the full-data ``theta``) a resample is refitted by Newton steps
        from it, computing only ``beta`` and the covariance matrices; should they not
        converge, by the MMRM engine's optimisers, as the full data.
        """
        if rows is not None and start is not None:
            rows = np.asarray(rows)
            fast = self.refitter.fit(rows, self.long.n_subjects, np.asarray(start, dtype=float))
            if fast is not None:
                beta, sigmas, theta = fast
                return ModelParameters(beta=beta, sigmas=sigmas, theta=theta)
        return self._fit_frame(self.frame if rows is None else self._subset(rows), start)

    def _fit_frame(self, frame: ModelFrame, start: np.ndarray | None) -> ModelParameters:
        long = self.long
        control = MMRMControl(start=None if start is None else tuple(start))
        result = fit_model_frame(frame, (self.covariance,), self.method, "residual", control)
        beta = result.coef["estimate"].to_numpy(dtype=float)
        matrices = result.covariance_matrix
        visits = [str(v) for v in long.visits]
        if isinstance(matrices, dict):
            sigmas = tuple(matrices[a].loc[visits, visits].to_numpy() for a in long.arms)
        else:
            shared = matrices.loc[visits, visits].to_numpy()
            sigmas = tuple(shared for _ in long.arms)
        return ModelParameters(beta=beta, sigmas=sigmas, theta=np.asarray(result.theta))

    def _subset(self, rows: np.ndarray) -> ModelFrame:
        """The model frame of participants ``rows``, each occurrence a new subject."""
        frame = self.frame
        counts = self.row_count[rows]
        first = np.repeat(self.row_start[rows], counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        take = first + within
        codes = np.unique(np.repeat(np.arange(rows.size), counts), return_inverse=True)[1]
        codes = codes.reshape(-1)
        x = frame.x[take]
        if np.linalg.matrix_rank(x) < x.shape[1]:
            raise DataValidationError(
                "The imputation model is not estimable in a resample of the participants "
                "(a factor level or arm x visit cell has no MAR outcome in it). Simplify "
                "the formula or merge rare levels."
            )
        return replace(
            frame,
            x=x,
            y=frame.y[take],
            weights=frame.weights[take],
            offset=frame.offset[take],
            subject_codes=codes,
            starts=np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]),
            subject_labels=pd.Index(np.arange(int(codes.max()) + 1)),
            visit_codes=frame.visit_codes[take],
            covariance_group_codes=frame.covariance_group_codes[take],
            data=frame.data.iloc[take],
            n_rows=int(take.size),
            n_missing_outcome=0,
            n_missing_covariates=0,
        )

    def means(self, parameters: ModelParameters) -> tuple[np.ndarray, np.ndarray]:
        """Predicted means (n, T) in the own arm and in the reference arm."""
        return self.x_own @ parameters.beta, self.x_reference @ parameters.beta
