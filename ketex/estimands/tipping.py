"""Tipping-point (delta-adjustment) analysis over a grid of deltas.

A delta is added to every imputed outcome of the participants of one arm, the
imputations are analysed again (the imputation model is not refitted) and the grid
is searched for the first delta at which the treatment effect is no longer
significant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ketex.estimands.reference_based import ReferenceBasedResult

__all__ = ["TippingPointResult", "tipping_point"]

GRID_COLUMNS = (
    "delta",
    "visit",
    "contrast",
    "estimate",
    "se",
    "df",
    "ci_low",
    "ci_high",
    "p_value",
    "significant",
)
TIPPING_COLUMNS = (
    "visit",
    "contrast",
    "last_significant_delta",
    "tipping_delta",
    "tipping_delta_interpolated",
)


@dataclass(frozen=True)
class TippingPointResult:
    """The tipping-point grid (immutable).

    Attributes
    ----------
    data : pandas.DataFrame
        ``delta, visit, contrast, estimate, se, df, ci_low, ci_high, p_value,
        significant``: the pooled analysis at each delta of the grid.
    tipping_points : pandas.DataFrame
        ``visit, contrast, last_significant_delta, tipping_delta,
        tipping_delta_interpolated``: walking the grid in the order given, the last
        delta still significant before the first that is not (``tipping_delta``, NaN
        when significance is never lost or absent at the first delta), and the delta
        where the p-value, linearly interpolated between the two, reaches ``alpha``.
    arm : str
    alpha : float
    """

    data: pd.DataFrame
    tipping_points: pd.DataFrame
    arm: str
    alpha: float


def tipping_point(
    result: ReferenceBasedResult,
    deltas: Sequence[float],
    *,
    arm: str,
    alpha: float = 0.05,
) -> TippingPointResult:
    """Delta-adjust the imputed values of one arm over a grid; find the tipping point.

    Parameters
    ----------
    result : ReferenceBasedResult
        From :func:`ketex.reference_based_mi`; its imputations are reused.
    deltas : sequence of float
        The grid, in the order to walk (e.g. ``0, 0.5, ..., 6`` for worsening on a
        scale where higher is worse).
    arm : str
        The arm whose imputed outcomes get the delta (usually the active arm).
    alpha : float
        Significance level of the two-sided test.

    Returns
    -------
    TippingPointResult

    Notes
    -----
    R equivalent: for each delta, ``rbmi::delta_template(imputeObj)`` with ``delta =
    is_missing * delta`` in the arm, then ``analyse(imputeObj, ancova, delta = ...)``
    and ``pool``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from ketex.estimands import reference_based_mi
    >>> rng = np.random.default_rng(4)
    >>> n = 40
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(n), 2), "visit": np.tile(["W1", "W2"], n),
    ...                   "arm": np.repeat(np.where(np.arange(n) % 2 == 0, "PBO", "KET"), 2)})
    >>> d["y"] = rng.normal(size=2 * n) - 1.5 * (d["arm"] == "KET") * (d["visit"] == "W2")
    >>> d.loc[(d["id"] % 4 == 1) & (d["visit"] == "W2"), "y"] = np.nan
    >>> fit = reference_based_mi(d, "y ~ arm * visit", subject="id", visit="visit",
    ...                          group="arm", references={"KET": "PBO", "PBO": "PBO"})
    >>> tp = tipping_point(fit, np.arange(0.0, 8.1, 0.5), arm="KET")
    >>> list(tp.tipping_points.columns)[:4]
    ['visit', 'contrast', 'last_significant_delta', 'tipping_delta']
    """
    long = result._long
    if arm not in long.arms:
        raise ValueError(f"arm {arm!r} is not an arm of the data {list(long.arms)}.")
    grid = np.asarray(deltas, dtype=float)
    if grid.ndim != 1 or grid.size < 2 or not np.all(np.isfinite(grid)):
        raise ValueError("deltas must be at least two finite numbers.")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}.")
    in_arm = (long.arm_codes == long.arms.index(arm))[:, None] & long.is_missing
    tables = []
    for delta in grid:
        template = pd.DataFrame(
            {
                long.subject: np.repeat(long.subjects.to_numpy(), long.n_visits),
                long.visit: np.tile(np.asarray(long.visits, dtype=object), long.n_subjects),
                "delta": (delta * in_arm).ravel(),
            }
        )
        pooled = result.with_delta(template).data
        tables.append(pooled.assign(delta=delta))
    data = pd.concat(tables, ignore_index=True)
    data["significant"] = data["p_value"] < alpha
    data = data[list(GRID_COLUMNS)]
    return TippingPointResult(
        data=data, tipping_points=_tipping_points(data, alpha), arm=arm, alpha=alpha
    )


def _tipping_points(data: pd.DataFrame, alpha: float) -> pd.DataFrame:
    rows = []
    for (visit, contrast), part in data.groupby(["visit", "contrast"], sort=False):
        significant = part["significant"].to_numpy()
        deltas, p = part["delta"].to_numpy(), part["p_value"].to_numpy()
        last = tipping = interpolated = np.nan
        if significant[0] and not significant.all():
            k = int(np.argmin(significant))  # first non-significant
            last, tipping = deltas[k - 1], deltas[k]
            interpolated = last + (alpha - p[k - 1]) / (p[k] - p[k - 1]) * (tipping - last)
        rows.append((visit, contrast, last, tipping, interpolated))
    return pd.DataFrame(rows, columns=list(TIPPING_COLUMNS))
