"""Tipping-point figure: the treatment effect and its CI against the delta."""

from __future__ import annotations

import math

from ketex.report.figures._common import axes_or_new, styled
from ketex.report.style import OKABE_ITO

__all__ = ["plot_tipping_point"]


@styled
def plot_tipping_point(result, *, visit: str | None = None, contrast: str | None = None,
                       ax=None, xlabel: str | None = None, ylabel: str | None = None):
    """The estimate and its CI over a delta grid, with the tipping point marked.

    Parameters
    ----------
    result : ketex.EstimandAnalyses or ketex.TippingPointResult
        From :func:`ketex.estimand_analyses` (its primary visit, tipping contrast and
        tipping point are drawn) or from :func:`ketex.tipping_point`.
    visit, contrast : str, optional
        Which row of the grid to draw; default: the analyses' primary visit and tipping
        contrast, or for a ``TippingPointResult`` the last visit and its first contrast.
    ax : matplotlib.axes.Axes, optional
    xlabel, ylabel : str, optional
        Default: the arm the delta is added to, and the contrast and visit.

    Returns
    -------
    matplotlib.axes.Axes
        The estimate over the grid (a line with a marker per delta, filled where the
        effect is significant; ``gid = "estimate"``), its CI band (``gid = "ci"``), the
        line of no effect (``gid = "null"``) and, when the conclusion tips on the grid,
        a dashed vertical line at the interpolated tipping point (``gid =
        "tipping_point"``); otherwise the text "no tipping point on the grid".

    Raises
    ------
    ValueError
        When the analyses have no tipping-point grid, or ``visit``/``contrast`` are not
        in the grid.

    Examples
    --------
    >>> import numpy as np, pandas as pd, ketex
    >>> rng = np.random.default_rng(4)
    >>> n = 40
    >>> d = pd.DataFrame({"id": np.repeat(np.arange(n), 2), "visit": np.tile(["W1", "W2"], n),
    ...                   "arm": np.repeat(np.where(np.arange(n) % 2 == 0, "PBO", "KET"), 2)})
    >>> d["y"] = rng.normal(size=2 * n) - 1.5 * (d["arm"] == "KET") * (d["visit"] == "W2")
    >>> d.loc[(d["id"] % 4 == 1) & (d["visit"] == "W2"), "y"] = np.nan
    >>> fit = ketex.reference_based_mi(d, "y ~ arm * visit", subject="id", visit="visit",
    ...                                group="arm", references={"KET": "PBO", "PBO": "PBO"})
    >>> tp = ketex.tipping_point(fit, np.arange(0.0, 8.1, 0.5), arm="KET")
    >>> ax = plot_tipping_point(tp)
    >>> ax.get_xlabel(), [line.get_gid() for line in ax.get_lines()]
    ('Delta added to the imputed values of KET', ['null', 'estimate', 'tipping_point'])
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    grid, arm, visit, contrast, tipping = _selected(result, visit, contrast)
    rows = grid.sort_values("delta", kind="mergesort")
    ax = axes_or_new(ax, "single")
    colour = OKABE_ITO["blue"]
    ax.fill_between(rows["delta"], rows["ci_low"], rows["ci_high"], color=colour, alpha=0.25,
                    linewidth=0, gid="ci")  # fmt: skip
    ax.axhline(0.0, color=OKABE_ITO["black"], linewidth=0.6, gid="null")
    significant = rows["significant"].to_numpy(bool)
    ax.plot(rows["delta"], rows["estimate"], color=colour, marker="o", markersize=3.5,
            gid="estimate")
    # open markers where the effect is no longer significant
    ax.scatter(rows["delta"][~significant], rows["estimate"][~significant], s=12, zorder=3,
               facecolor="white", edgecolor=colour, linewidth=0.8, gid="not_significant")
    if tipping is None:
        ax.text(0.02, 0.98, "no tipping point on the grid", transform=ax.transAxes,
                ha="left", va="top", fontsize="small", color="0.3")  # fmt: skip
    else:
        ax.axvline(tipping, color=OKABE_ITO["vermillion"], linestyle="--", linewidth=0.8,
                   gid="tipping_point")  # fmt: skip
        ax.annotate(f"tipping point: delta = {tipping:.2f}", (tipping, 1.0),
                    xycoords=ax.get_xaxis_transform(), xytext=(4, -4),
                    textcoords="offset points", ha="left", va="top", fontsize="small")
    ax.set_xlabel(xlabel or f"Delta added to the imputed values of {arm}")
    ax.set_ylabel(ylabel or f"{contrast} at {visit}")
    return ax


def _selected(result, visit, contrast):
    """The grid rows, the arm, the visit, the contrast and the tipping point to draw."""
    from ketex.estimands.analyses import EstimandAnalyses
    from ketex.estimands.tipping import TippingPointResult

    if isinstance(result, EstimandAnalyses):
        if result.tipping_grid is None:
            raise ValueError("These estimand analyses have no tipping-point grid; name one "
                             "in [estimands.tipping_point] (arm, deltas).")  # fmt: skip
        grid, points, arm = result.tipping_grid, result.tipping_points, result.spec.tipping_arm
        visit = result.primary_visit if visit is None else visit
        contrast = result.tipping_contrast if contrast is None else contrast
    elif isinstance(result, TippingPointResult):
        grid, points, arm = result.data, result.tipping_points, result.arm
        visit = grid["visit"].iloc[-1] if visit is None else visit
        if contrast is None:
            at_visit = grid.loc[grid["visit"] == visit, "contrast"]
            contrast = at_visit.iloc[0] if len(at_visit) else None
    else:
        raise TypeError("plot_tipping_point needs ketex.estimand_analyses or "
                        f"ketex.tipping_point's result, got {type(result).__name__}.")
    rows = grid[(grid["visit"] == visit) & (grid["contrast"] == contrast)]
    if rows.empty:
        pairs = sorted(set(zip(grid["visit"], grid["contrast"], strict=True)))
        raise ValueError(f"visit {visit!r}, contrast {contrast!r} are not in the grid; it "
                         f"has {pairs}.")  # fmt: skip
    found = points[(points["visit"] == visit) & (points["contrast"] == contrast)]
    value = float(found["tipping_delta_interpolated"].iloc[0])
    return rows, arm, visit, contrast, None if math.isnan(value) else value
