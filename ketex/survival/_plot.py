"""Drawing Kaplan-Meier curves: the one step-curve painter behind
:meth:`ketex.survival.KaplanMeierResult.plot` and
:func:`ketex.report.figures.plot_kaplan_meier`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["BAND_ALPHA", "BAND_EDGE_STYLES", "BAND_HATCHES", "draw_curves"]

#: Opacity of a confidence band's fill (two overlapping bands stay light).
BAND_ALPHA = 0.1
#: Hatch of each level's band in turn (the first plain).
BAND_HATCHES = ("", "//", "\\\\\\\\", "..")
#: Line style of each level's band edges in turn.
BAND_EDGE_STYLES = ("--", ":", "-.")


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

    Each curve starts at (0, 1); its line has ``gid = "km:<level>"`` and lies above the
    bands. The pointwise band is drawn where ``ci`` (an undefined limit, after the last
    event, is drawn at 1): a light fill (``gid = "km-band:<level>"``), a hatch that
    differs between levels (the first level has none) and thin stepped edges whose dash
    pattern differs between levels (``gid = "km-ci:<level>:low"`` and ``":high"``), so
    the bands stay readable where they overlap. Censoring times are marked with ``|`` where
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
    for k, level in enumerate(levels):
        curve = table[table["group"] == level]
        t = np.concatenate([[0.0], curve["time"].to_numpy(float)])
        s = np.concatenate([[1.0], curve["survival"].to_numpy(float)])
        colour = None if colours is None else colours[level]
        label = str(level) if labels is None else labels[level]
        # the curve above every band, so overlapping bands never hide a line
        (line,) = ax.step(t, s, where="post", color=colour, label=label, gid=f"km:{level}",
                          zorder=3)  # fmt: skip
        colour = line.get_color()
        if ci:
            low = np.concatenate([[1.0], curve["ci_low"].fillna(1.0).to_numpy(float)])
            high = np.concatenate([[1.0], curve["ci_high"].fillna(1.0).to_numpy(float)])
            # a light fill (overlaps stay see-through), a hatch that differs between arms
            # and the band's own stepped edges: each arm's limits can be followed where the
            # bands of two arms lie over each other
            hatch = BAND_HATCHES[k % len(BAND_HATCHES)]
            ax.fill_between(t, low, high, step="post", facecolor=colour,
                                   alpha=BAND_ALPHA, linewidth=0, zorder=1,
                                   gid=f"km-band:{level}")  # fmt: skip
            if hatch:
                ax.fill_between(t, low, high, step="post", facecolor="none",
                                edgecolor=colour, hatch=hatch, linewidth=0, alpha=0.35,
                                zorder=1, gid=f"km-hatch:{level}")  # fmt: skip
            style = BAND_EDGE_STYLES[k % len(BAND_EDGE_STYLES)]
            for side, limit in (("low", low), ("high", high)):
                ax.step(t, limit, where="post", color=colour, linewidth=0.5,
                        linestyle=style, alpha=0.8, zorder=2,
                        gid=f"km-ci:{level}:{side}")  # fmt: skip
        if censor_marks:
            censored = curve[curve["n_censor"] > 0]
            ax.plot(censored["time"].to_numpy(float), censored["survival"].to_numpy(float),
                    linestyle="none", marker="|", markersize=4, color=colour, zorder=3)
