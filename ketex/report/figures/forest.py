"""Forest plot of treatment effects (overall and by subgroup)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketex.report.figures._common import axes_or_new, styled
from ketex.report.style import OKABE_ITO

__all__ = ["plot_forest"]


@styled
def plot_forest(
    data: pd.DataFrame,
    *,
    label: str = "label",
    estimate: str = "estimate",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    size: str | None = "n",
    null: float = 0.0,
    log: bool = False,
    ax=None,
    xlabel: str = "Difference (95% CI)",
    favours: tuple[str, str] | None = None,
    annotate: bool = True,
):
    """Forest plot: one row per effect, top to bottom, with its confidence interval.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per effect, e.g. :func:`ketex.report.analysis.subgroup_effects`.
    label, estimate, ci_low, ci_high : str
        Columns.
    size : str or None
        Column scaling the squares (participants); None for equal squares.
    null : float
        The line of no effect (0 for differences, 1 for ratios).
    log : bool
        Log x axis (hazard or odds ratios).
    ax : matplotlib.axes.Axes, optional
    xlabel : str
    favours : (str, str), optional
        Text under the axis left and right of the null line (e.g. which arm a
        negative difference favours).
    annotate : bool
        Print ``estimate (low to high)`` to the right of the plot.

    Returns
    -------
    matplotlib.axes.Axes
        One errorbar line per row with ``gid = "effect:<label>"``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"label": ["All", "Women", "Men"], "estimate": [-1.3, -1.6, -0.4],
    ...                   "ci_low": [-4.5, -5.2, -5.7], "ci_high": [1.9, 2.1, 4.9],
    ...                   "n": [80, 52, 28]})
    >>> ax = plot_forest(d)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['All', 'Women', 'Men']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    missing = [c for c in (label, estimate, ci_low, ci_high) if c not in data.columns]
    if missing:
        raise ValueError(f"plot_forest needs columns {missing}; the data have "
                         f"{', '.join(map(str, data.columns))}.")  # fmt: skip
    ax = axes_or_new(ax, "single", 12 + 6 * len(data))
    y = np.arange(len(data))
    sizes = np.full(len(data), 16.0)
    if size is not None and size in data.columns:
        n = data[size].astype(float).to_numpy()
        sizes = 5 + 25 * np.sqrt(n / np.nanmax(n))
    for i, (_, row) in enumerate(data.iterrows()):
        colour = OKABE_ITO["black"] if i == 0 else OKABE_ITO["blue"]
        ax.plot([row[ci_low], row[ci_high]], [i, i], color=colour, linewidth=1,
                gid=f"effect:{row[label]}")  # fmt: skip
        ax.scatter([row[estimate]], [i], s=sizes[i], marker="D" if i == 0 else "s",
                   color=colour, zorder=3)  # fmt: skip
    ax.axvline(null, color="0.5", linewidth=0.7, linestyle="--", zorder=0)
    ax.set_yticks(y)
    ax.set_yticklabels(data[label].astype(str).tolist())
    ax.set_ylim(len(data) - 0.5, -0.7)
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    if favours is not None:
        top = ax.get_xaxis_transform()
        ax.text(null, 1.0, f"\u2190 {favours[0]} ", transform=top, ha="right", va="bottom",
                fontsize=6.2, color="0.3")  # fmt: skip
        ax.text(null, 1.0, f" {favours[1]} \u2192", transform=top, ha="left", va="bottom",
                fontsize=6.2, color="0.3")  # fmt: skip
    if annotate:
        side = ax.get_yaxis_transform()
        for i, (_, row) in enumerate(data.iterrows()):
            ax.text(1.02, i, f"{row[estimate]:.1f} ({row[ci_low]:.1f} to {row[ci_high]:.1f})",
                    transform=side, ha="left", va="center", fontsize=6.5)  # fmt: skip
    return ax
