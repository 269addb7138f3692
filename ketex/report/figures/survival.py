"""Kaplan-Meier curves with the number-at-risk table beneath."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import pandas as pd
from matplotlib.font_manager import FontProperties

from ketex.report.figures._common import fit_text, group_order, palette, styled, wrap_text
from ketex.report.style import new_figure

__all__ = ["plot_kaplan_meier", "risk_table_axes"]


@styled
def plot_kaplan_meier(
    data: pd.DataFrame,
    *,
    time: str = "AVAL",
    event: str = "event",
    group: str = "ARM",
    order: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    risk_times: Sequence[float] | None = None,
    ci: bool = True,
    ax=None,
    xlabel: str = "Days",
    ylabel: str = "Proportion without the event",
):
    """Kaplan-Meier curves by arm with CI bands, censoring marks and numbers at risk.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant, e.g. a :class:`ketex.TimeToEvent` ``table``.
    time, event, group : str
        Columns: follow-up time, event indicator (True/1 = event), arm.
    order, labels, colors : optional
        Arm order (the first is the reference), legend labels, colours.
    risk_times : sequence of float, optional
        Times of the number-at-risk table (default: the x ticks).
    ci : bool
        Shade the pointwise 95% band (log-log, as :func:`ketex.kaplan_meier`).
    ax : matplotlib.axes.Axes, optional
    xlabel, ylabel : str

    Returns
    -------
    matplotlib.axes.Axes
        The curves' Axes. The number-at-risk table is an Axes below it (a second row
        of the new figure, or an inset under a given ``ax``; :func:`risk_table_axes`
        finds it), one text per arm and time with ``gid = "at-risk:<arm>:<time>"``.

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> tte = ketex.time_to_event(trial, "SUSTAIN-1").table
    >>> ax = plot_kaplan_meier(tte, order=["SINGLE", "SERIES"], risk_times=[0, 50, 100])
    >>> table = risk_table_axes(ax)
    >>> [t.get_text() for t in table.texts if t.get_gid() == "at-risk:SINGLE:0"]
    ['20']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    from ketex.survival import kaplan_meier
    from ketex.survival._plot import draw_curves

    frame = data[[time, event, group]].copy()
    groups = group_order(frame[group].astype(str), order)
    frame[group] = pd.Categorical(frame[group].astype(str), categories=groups)
    frame[event] = frame[event].astype(bool).astype(int)
    km = kaplan_meier(frame, time=time, event=event, group=group)
    table_ax = None
    if ax is None:
        lines = 1 + 2 * len(groups)
        fig, (ax, table_ax) = new_figure("single", 62 + 3.6 * lines, nrows=2, sharex=True,
                                         height_ratios=[58, 3.6 * lines])  # fmt: skip
    colour = palette(groups, colors)
    names = {g: g for g in groups} | dict(labels or {})
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    # long arm labels wrap in the legend and are cut in the risk table, never run off
    width_pt = _axes_width_pt(ax)
    size = FontProperties(size=mpl.rcParams["legend.fontsize"]).get_size_in_points()
    legend = {g: wrap_text(str(names[g]), width_pt - 4.5 * size, size) for g in groups}
    draw_curves(ax, km.table, groups, colours=colour, labels=legend, ci=ci)
    ax.legend(loc="lower left")
    right = float(frame[time].max())
    ax.set_xlim(0, right * 1.02)
    if risk_times is None:
        risk_times = [x for x in ax.get_xticks() if 0 <= x <= right]
    ax.set_xticks(list(risk_times))
    ax.set_xlim(0, max(right, max(risk_times)) * 1.02)
    if table_ax is None:
        lines = 1 + 2 * len(groups)
        table_ax = ax.inset_axes([0, -0.25 - 0.06 * lines, 1, 0.06 * lines], sharex=ax)
    else:
        ax.xaxis.set_tick_params(labelbottom=True)
    _risk_table(table_ax, km, groups, names, colour, list(risk_times))
    return ax


def risk_table_axes(ax):
    """The number-at-risk Axes drawn by :func:`plot_kaplan_meier` for ``ax``."""
    for candidate in list(ax.child_axes) + list(ax.figure.axes):
        if candidate.get_gid() == "risk-table":
            return candidate
    raise ValueError("no number-at-risk table belongs to these Axes.")


def _risk_table(table, km, groups, names, colour, times) -> None:
    at_risk = km.number_at_risk(times)
    width_pt = _axes_width_pt(table, laid_out=False)
    lines = 1 + 2 * len(groups)
    table.set_gid("risk-table")
    table.set_ylim(lines, 0)
    table.axis("off")
    side = table.get_yaxis_transform()
    table.text(0, 0.5, "Number at risk", transform=side, ha="left", va="center",
               fontweight="bold", fontsize=6.5)  # fmt: skip
    for k, g in enumerate(groups):
        table.text(0, 1.5 + 2 * k, fit_text(str(names[g]), 0.95 * width_pt, 6.5),
                   transform=side, ha="left", va="center",
                   color=colour[g], fontsize=6.5)  # fmt: skip
        counts = at_risk[at_risk["group"] == g]
        for t, n in zip(counts["time"], counts["n_risk"], strict=True):
            table.text(t, 2.5 + 2 * k, str(int(n)), ha="center", va="center", fontsize=6.5,
                       gid=f"at-risk:{g}:{t:g}")  # fmt: skip



def _axes_width_pt(ax, *, laid_out: bool = True) -> float:
    """The width of ``ax`` in points once its figure is laid out (constrained layout
    run first unless ``laid_out`` is False, the figure's layout being current)."""
    fig = ax.get_figure(root=True)
    if laid_out:
        fig.draw_without_rendering()
    return max(ax.get_window_extent().width * 72 / fig.dpi, 36.0)
