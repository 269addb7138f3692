"""Swimmer plot: one line per participant with infusions, exercise, response, relapse."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ketex.report.figures._common import (
    axes_or_new,
    group_order,
    palette,
    styled,
    wrap_text,
)
from ketex.study.trial import Trial

__all__ = ["plot_swimmer", "swimmer_data"]


def swimmer_data(trial: Trial) -> pd.DataFrame:
    """One row per participant: follow-up and the days the swimmer plot marks.

    Returns
    -------
    pandas.DataFrame
        ``participant_id, arm, last_day`` (last record of any kind), ``response_day``
        (first response, :func:`ketex.time_to_event` with ``Response()``),
        ``relapse_day`` (the protocol's relapse rule), ``discontinuation_day``
        (discontinuation event).

    Examples
    --------
    >>> import ketex
    >>> s = swimmer_data(ketex.load_trial(ketex.sample_study_path()))
    >>> len(s), int(s["discontinuation_day"].notna().sum())
    (80, 11)
    """
    from ketex.derive.endpoints import Response
    from ketex.derive.time_to_event import time_to_event
    from ketex.study.derivation_plan import derivation_options
    from ketex.study.secondary_plan import secondary_endpoints

    frame = trial.participants[["participant_id", "arm"]].astype({"participant_id": str,
                                                                  "arm": str})
    ids = frame["participant_id"]
    days = pd.concat([t[["participant_id", "day"]] for t in (trial.assessments, trial.exercise,
                      trial.infusions, trial.events) if len(t)])  # fmt: skip
    last = days.groupby(days["participant_id"].astype(str))["day"].max()
    frame["last_day"] = ids.map(last).astype(float)

    def event_days(rule) -> dict:
        table = time_to_event(trial, rule, **derivation_options(trial.protocol)).table
        table = table[table["event"].astype(bool)]
        return dict(zip(table["USUBJID"].astype(str), table["ADY"].astype(float), strict=True))

    frame["response_day"] = ids.map(event_days(Response())).astype(float)
    from ketex.report.applicability import endpoint_reason

    plan = {e.key: e for e in secondary_endpoints(trial.protocol)}
    relapse = plan["relapse"].name if "relapse" in plan else None
    rule = plan["relapse"].preset or plan["relapse"].rule if relapse else None
    frame["relapse_day"] = (ids.map(event_days(rule)).astype(float)
                            if rule is not None
                            and endpoint_reason(trial, plan["relapse"].rule, relapse) is None
                            else np.nan)  # fmt: skip
    events = trial.events
    stops = events[events["event"] == "discontinuation"]
    stop = stops.groupby(stops["participant_id"].astype(str))["day"].min()
    frame["discontinuation_day"] = ids.map(stop).astype(float)
    return frame.reset_index(drop=True)


@styled
def plot_swimmer(
    trial: Trial,
    *,
    ax=None,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    exercise: bool = True,
):
    """One horizontal line per participant from day 0 to the last record.

    Marks infusions (``|``, dark), exercise sessions attended (small grey dots),
    first response (``^``), relapse (``x``) and discontinuation (``s`` at the end).
    Participants are grouped by arm (protocol order), longest follow-up first.

    Parameters
    ----------
    trial : Trial
    ax : matplotlib.axes.Axes, optional
        Default: a new 175 mm wide figure, tall enough for one line per participant.
    labels, colors : mapping, optional
        Arm labels and colours.
    exercise : bool
        Mark exercise sessions.

    Returns
    -------
    matplotlib.axes.Axes
        The participant lines are one collection with ``gid = "swimmer-lines"`` (one
        segment per participant, in the order of the y tick labels).

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> ax = plot_swimmer(trial)
    >>> [len(c.get_segments()) for c in ax.collections if c.get_gid() == "swimmer-lines"]
    [80]
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    data = swimmer_data(trial)
    # at least room for the legend above and the day axis below a few participants
    ax = axes_or_new(ax, "double", max(_MIN_HEIGHT_MM, 20 + 2.2 * len(data)))
    from ketex.derive.analysis import arm_order

    groups = group_order(pd.Series(pd.Categorical(data["arm"], arm_order(trial.protocol))),
                         None)  # fmt: skip
    colour = palette(groups, colors)
    names = {a.code: a.label or a.code for a in trial.protocol.arms} | dict(labels or {})
    data["order"] = data["arm"].map({g: i for i, g in enumerate(groups)})
    data = data.sort_values(["order", "last_day", "participant_id"],
                            ascending=[True, False, True]).reset_index(drop=True)  # fmt: skip
    y = np.arange(len(data))
    position = dict(zip(data["participant_id"], y, strict=True))
    lines = ax.hlines(y, 0, data["last_day"].fillna(0), colors=[colour[a] for a in data["arm"]],
                      linewidth=2.2, alpha=0.55)  # fmt: skip
    lines.set_gid("swimmer-lines")
    if exercise and len(trial.exercise):
        ex = trial.exercise[trial.exercise["duration_min"] > 0]
        ey = ex["participant_id"].astype(str).map(position)
        ax.plot(ex["day"].astype(float), ey, linestyle="none", marker=".", markersize=1.2,
                color="0.25", gid="exercise")  # fmt: skip
    inf = trial.infusions
    if len(inf):
        ax.plot(inf["day"].astype(float), inf["participant_id"].astype(str).map(position),
                linestyle="none", marker="|", markersize=4, color="black", gid="infusions")
    marks = [m for m in (("response_day", "^", "#009E73", "first response"),
                         ("relapse_day", "X", "#CC79A7", "relapse"),
                         ("discontinuation_day", "s", "0.35", "discontinued"))
             if data[m[0]].notna().any() or m[0] == "response_day"]
    for column, marker, c, _ in marks:
        rows = data[data[column].notna()]
        ax.plot(rows[column], rows["participant_id"].map(position), linestyle="none",
                marker=marker, markersize=3.5, color=c, markeredgewidth=0.4,
                markeredgecolor="white", gid=column)  # fmt: skip
    ax.set_yticks(y)
    ax.set_yticklabels(data["participant_id"], fontsize=4)
    ax.set_ylim(len(data) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("Study day")
    ax.set_xlim(left=-2)
    row_mm = _axes_height_mm(ax) / max(len(data), 1)
    for g in groups:
        rows = y[data["arm"].to_numpy() == g]
        if rows.size:
            # the label runs down the arm's rows: wrapped to their height, never beyond
            label = wrap_text(names.get(g, g), rows.size * row_mm * 72 / 25.4, 7)
            ax.text(1.005, rows.mean(), label, transform=ax.get_yaxis_transform(),
                    rotation=270, ha="left", va="center", color=colour[g], fontsize=7,
                    multialignment="center")  # fmt: skip
    handles = [Line2D([], [], color=colour[g], linewidth=2.2, alpha=0.55, label=names.get(g, g))
               for g in groups]
    if len(inf):
        handles += [Line2D([], [], color="black", marker="|", linestyle="none",
                           label="infusion")]
    if exercise and len(trial.exercise):
        handles += [Line2D([], [], color="0.25", marker=".", linestyle="none",
                           label="exercise session")]
    handles += [Line2D([], [], color=c, marker=m, linestyle="none", label=text)
                for _, m, c, text in marks]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=4,
              fontsize=6.5, handlelength=1.5)  # fmt: skip
    return ax



_MIN_HEIGHT_MM = 70.0


def _axes_height_mm(ax) -> float:
    """The height of ``ax`` in millimetres, as laid out before constrained layout runs
    (the figure height less the legend and the day axis, about 20 mm)."""
    height_in = ax.figure.get_size_inches()[1] * ax.get_position().height
    return max(height_in * 25.4 - 20.0, 5.0)
