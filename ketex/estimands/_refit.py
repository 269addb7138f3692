"""Refitting the imputation model to resamples of the participants, fast.

The jackknife refits the imputation MMRM once per participant and the bootstrap once
per replicate.  A resample is a count per participant (0: left out, 2: drawn twice);
its missingness patterns and their Gram tensors are sums of each participant's,
kept from the full data (:class:`ketex.models._patterns.SubjectGrams`), so no model
frame is rebuilt.  The likelihood is the MMRM engine's; it is maximised by exact
Newton steps from the full-data estimate (:func:`ketex.models._optimize.newton_from`),
the same polishing the engine ends every fit with, and only ``beta`` and the
covariance matrices are computed.  When the steps do not converge the caller falls
back to the engine's optimisers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ketex.errors import DataValidationError
from ketex.models._design import ModelFrame
from ketex.models._likelihood import Evaluation, Likelihood
from ketex.models._optimize import newton_from
from ketex.models._patterns import SubjectGrams
from ketex.models.covariance import CovarianceStructure
from ketex.models.mmrm import MMRMControl, _structure, _weighted_least_squares

__all__ = ["Refitter"]


@dataclass(frozen=True)
class Refitter:
    """The full data's per-participant statistics for refits of one imputation model."""

    structure: CovarianceStructure
    n_groups: int
    reml: bool
    centre: np.ndarray  # (k,) the full data's least-squares fit, which centres the outcome
    grams: SubjectGrams  # each frame subject's Gram tensor of the centred outcome
    participant: np.ndarray  # participant index of each frame subject
    cross_products: np.ndarray  # (frame subjects, k, k): each one's X' W X
    visit_order: np.ndarray  # frame visit of each of the data's visits
    sigma_of_arm: np.ndarray  # covariance group of each arm

    @classmethod
    def build(
        cls, frame: ModelFrame, covariance: str, method: str, visits, arms
    ) -> Refitter:
        centre = _weighted_least_squares(frame)
        grams = SubjectGrams.build(
            frame.x,
            frame.y - frame.x @ centre,
            frame.weights,
            frame.subject_codes,
            frame.visit_codes,
            frame.covariance_group_codes,
        )
        weighted = frame.x * np.sqrt(frame.weights)[:, None]
        n_frame = int(frame.subject_codes.max()) + 1
        cross_products = np.zeros((n_frame, frame.x.shape[1], frame.x.shape[1]))
        np.add.at(cross_products, frame.subject_codes, weighted[:, :, None] * weighted[:, None])
        visit_order = pd.Index([str(v) for v in frame.visit_levels]).get_indexer(
            pd.Index([str(v) for v in visits])
        )
        levels = list(frame.covariance_group_levels)
        sigma_of_arm = np.asarray([0 if levels == [None] else levels.index(a) for a in arms])
        return cls(
            structure=_structure(covariance, frame),
            n_groups=len(levels),
            reml=(method == "reml"),
            centre=centre,
            grams=grams,
            participant=np.asarray(frame.subject_labels, dtype=int),
            cross_products=cross_products,
            visit_order=visit_order,
            sigma_of_arm=sigma_of_arm,
        )

    def fit(
        self, rows: np.ndarray, n_participants: int, start: np.ndarray
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray] | None:
        """``beta``, one covariance matrix per arm (the data's visit order) and
        ``theta`` of the resample ``rows`` (participant indices, repeats allowed),
        or None when Newton steps from ``start`` do not converge."""
        # participants without a MAR outcome are not subjects of the frame
        counts = np.bincount(rows, minlength=n_participants)[self.participant]
        self._check_estimable(counts)
        patterns = self.grams.resample(counts)
        likelihood = Likelihood(
            patterns, tuple(self.structure for _ in range(self.n_groups)), reml=self.reml
        )
        outcome = newton_from(likelihood, start, MMRMControl().tolerance)
        if not outcome.converged:
            return None
        return self._parameters(outcome.evaluation, outcome.theta)

    def _check_estimable(self, counts: np.ndarray) -> None:
        xtx = np.tensordot(counts.astype(float), self.cross_products, axes=1)
        scale = np.sqrt(np.diag(xtx))
        if np.any(scale == 0) or np.linalg.matrix_rank(
            xtx / np.outer(scale, scale), hermitian=True
        ) < xtx.shape[0]:
            raise DataValidationError(
                "The imputation model is not estimable in a resample of the participants "
                "(a factor level or arm x visit cell has no MAR outcome in it). Simplify "
                "the formula or merge rare levels."
            )

    def _parameters(self, ev: Evaluation, theta: np.ndarray):
        order = np.ix_(self.visit_order, self.visit_order)
        assert ev.sigmas is not None  # a fit's evaluation always carries its covariances
        by_group = [np.asarray(s)[order] for s in ev.sigmas]
        sigmas = tuple(by_group[g] for g in self.sigma_of_arm)
        return self.centre + ev.beta, sigmas, np.asarray(theta, dtype=float)
