"""Drawing Kaplan-Meier curves: the one step-curve painter behind
:meth:`ketex.survival.KaplanMeierResult.plot` and
:func:`ketex.report.figures.plot_kaplan_meier`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["draw_curves"]


def draw_curves(
    ax,
    table,
    levels: Sequence,
    *,
    colours: Mapping | None = None,
    labels: Mapping | None = None,
    ci: bool = True,
    censor_marks: bool = True,
) -> None:
    """Draw one survival step curve per level of ``table`` (a Kaplan-Meier ``table``).

    Each curve starts at (0, 1); its line has ``gid = "km:<level>"``. The pointwise band
    is shaded where ``ci`` (an undefined limit, after the last event, is drawn at 1) and
    censoring times are marked with ``|`` where ``censor_marks``. Colours default to the
    Axes' property cycle, labels to the level.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from ketex.survival import kaplan_meier
    >>> km = kaplan_meier(pd.DataFrame({"t": [2, 3, 5], "e": [1, 0, 1]}), time="t", event="e")
    >>> _, ax = plt.subplots()
    >>> draw_curves(ax, km.table, ["all"])
    >>> [line.get_gid() for line in ax.lines][:1]
    ['km:all']
    >>> plt.close("all")
    """
    for level in levels:
        curve = table[table["group"] == level]
        t = np.concatenate([[0.0], curve["time"].to_numpy(float)])
        s = np.concatenate([[1.0], curve["survival"].to_numpy(float)])
        colour = None if colours is None else colours[level]
        label = str(level) if labels is None else labels[level]
        (line,) = ax.step(t, s, where="post", color=colour, label=label, gid=f"km:{level}")
        colour = line.get_color()
        if ci:
            low = np.concatenate([[1.0], curve["ci_low"].fillna(1.0).to_numpy(float)])
            high = np.concatenate([[1.0], curve["ci_high"].fillna(1.0).to_numpy(float)])
            ax.fill_between(t, low, high, step="post", color=colour, alpha=0.15, linewidth=0)
        if censor_marks:
            censored = curve[curve["n_censor"] > 0]
            ax.plot(censored["time"].to_numpy(float), censored["survival"].to_numpy(float),
                    linestyle="none", marker="|", markersize=4, color=colour)
