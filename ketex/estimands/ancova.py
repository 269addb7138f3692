"""The analysis model of each imputed dataset: an ANCOVA at each visit (rbmi ``ancova``).

At visit ``t``: ``y_t = a + sum_g b_g [arm = g] + covariates' c + e`` by ordinary least
squares, with one indicator per arm other than the control.  The treatment effect of arm
``g`` is ``b_g``; the LS-means use counterfactual weights (every participant's
covariates with the arm set to each level in turn, averaged), rbmi's default, which for
this model without interactions equals proportional weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import patsy

from ketex.estimands._longdata import LongData

__all__ = ["AncovaDesign", "ancova_estimates"]


@dataclass(frozen=True)
class AncovaDesign:
    """Per-visit covariate columns of every participant, and the arms' indicators."""

    covariates: np.ndarray  # (n, T, c) without the intercept
    arm_codes: np.ndarray  # (n,)
    control: int
    n_arms: int

    @classmethod
    def build(
        cls, long: LongData, analysis_covariates: Sequence[str], control: int
    ) -> AncovaDesign:
        n, t = long.n_subjects, long.n_visits
        if analysis_covariates:
            design = patsy.dmatrix(
                "1 + " + " + ".join(analysis_covariates),
                long.grid,
                NA_action="raise",
                return_type="dataframe",
            ).drop(columns="Intercept")
            covariates = design.to_numpy(dtype=float).reshape(n, t, -1)
        else:
            covariates = np.zeros((n, t, 0))
        return cls(
            covariates=covariates, arm_codes=long.arm_codes, control=control, n_arms=len(long.arms)
        )

    @property
    def others(self) -> list[int]:
        return [g for g in range(self.n_arms) if g != self.control]


def ancova_estimates(
    design: AncovaDesign, y: np.ndarray, rows: np.ndarray
) -> dict[str, Any]:
    """Estimates, standard errors and residual df of participants ``rows``.

    ``y`` has shape (n_rows, T, D): D datasets of the same participants (e.g. one per
    delta of a tipping-point grid) share each visit's design.  Returns arrays of shape
    (T, n_arms - 1, D) for the treatment effects (``effect``, ``effect_se``),
    (T, n_arms, D) for the LS-means (``lsmean``, ``lsmean_se``) and a float ``df``.
    """
    arms = design.arm_codes[rows]
    others = design.others
    g_other = len(others)
    indicators = (arms[:, None] == np.asarray(others)[None, :]).astype(float)
    n, t, d = y.shape
    p = 1 + g_other + design.covariates.shape[2]
    effect = np.empty((t, g_other, d))
    effect_se = np.empty_like(effect)
    lsmean = np.empty((t, design.n_arms, d))
    lsmean_se = np.empty_like(lsmean)
    # LS-mean rows: intercept and arm indicators, then the covariates' means
    arm_rows = np.zeros((design.n_arms, 1 + g_other))
    arm_rows[:, 0] = 1.0
    for j, g in enumerate(others):
        arm_rows[g, 1 + j] = 1.0
    for visit in range(t):
        x = np.column_stack([np.ones(n), indicators, design.covariates[rows, visit, :]])
        q, r = np.linalg.qr(x)
        r_inv = np.linalg.inv(r)
        unscaled = r_inv @ r_inv.T
        coef = r_inv @ (q.T @ y[:, visit, :])  # (p, D)
        residual = y[:, visit, :] - x @ coef
        sigma2 = np.einsum("nd,nd->d", residual, residual) / (n - p)
        effect[visit] = coef[1 : 1 + g_other]
        effect_se[visit] = np.sqrt(np.outer(np.diag(unscaled)[1 : 1 + g_other], sigma2))
        mean_covariates = x[:, 1 + g_other :].mean(axis=0)
        contrast = np.column_stack([arm_rows, np.tile(mean_covariates, (design.n_arms, 1))])
        lsmean[visit] = contrast @ coef
        quadratic = np.einsum("ak,kl,al->a", contrast, unscaled, contrast)
        lsmean_se[visit] = np.sqrt(np.outer(quadratic, sigma2))
    return {
        "effect": effect,
        "effect_se": effect_se,
        "lsmean": lsmean,
        "lsmean_se": lsmean_se,
        "df": float(n - p),
    }
