"""Exercise adherence heat map and exercise dose against outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from scipy import stats

from ketex.report.figures._common import axes_or_new, group_order, palette, styled, wrap_text

__all__ = ["adherence_matrix", "plot_adherence_heatmap", "plot_dose_response"]


def adherence_matrix(weekly: pd.DataFrame, *, value: str = "attendance",
                     order: Sequence[str] | None = None) -> pd.DataFrame:
    """Participant x week matrix of an exercise measure, rows grouped by arm.

    Parameters
    ----------
    weekly : pandas.DataFrame
        ``ketex.exercise_dose(trial, by="week")``.
    value : str
        ``attendance`` (share of prescribed sessions attended), ``dose_adherence``,
        ``kkw``, ...
    order : sequence of str, optional
        Arm order.

    Returns
    -------
    pandas.DataFrame
        Index ``(arm, participant_id)`` (arms in order, then by mean ``value``,
        highest first), one column per programme week; NaN where nothing was prescribed
        (after discontinuation).

    Examples
    --------
    >>> import ketex
    >>> weekly = ketex.exercise_dose(ketex.load_trial(ketex.sample_study_path()), by="week")
    >>> adherence_matrix(weekly).shape
    (80, 12)
    """
    frame = weekly.copy()
    frame["arm"] = frame["arm"].astype(str)
    frame["participant_id"] = frame["participant_id"].astype(str)
    groups = group_order(frame["arm"], order)
    matrix = frame.pivot(index=["arm", "participant_id"], columns="week", values=value)
    mean = matrix.mean(axis=1)
    keys = pd.DataFrame({"arm": [groups.index(a) for a in matrix.index.get_level_values(0)],
                         "mean": -mean.fillna(-np.inf).to_numpy(),
                         "id": matrix.index.get_level_values(1)})
    matrix = matrix.iloc[np.lexsort((keys["id"], keys["mean"], keys["arm"]))]
    matrix.columns = [int(c) for c in matrix.columns]
    return matrix


@styled
def plot_adherence_heatmap(
    weekly: pd.DataFrame,
    *,
    value: str = "attendance",
    order: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    ax=None,
    colorbar_label: str | None = None,
):
    """Heat map of exercise adherence: one row per participant, one column per week.

    Parameters
    ----------
    weekly : pandas.DataFrame
        ``ketex.exercise_dose(trial, by="week")``.
    value : str
        The measure (default: attendance, 0-1, shown as %).
    order, labels : optional
        Arm order and labels.
    ax : matplotlib.axes.Axes, optional
    colorbar_label : str, optional

    Returns
    -------
    matplotlib.axes.Axes
        The image (``ax.images[0]``) holds :func:`adherence_matrix` (x 100 for shares).

    Examples
    --------
    >>> import ketex
    >>> weekly = ketex.exercise_dose(ketex.load_trial(ketex.sample_study_path()), by="week")
    >>> ax = plot_adherence_heatmap(weekly)
    >>> ax.images[0].get_array().shape
    (80, 12)
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    matrix = adherence_matrix(weekly, value=value, order=order)
    share = value in ("attendance", "dose_adherence", "intensity_fidelity")
    shown = matrix.to_numpy(dtype=float) * (100 if share else 1)
    ax = axes_or_new(ax, "single", 95)
    cmap = mpl.colormaps["cividis"].with_extremes(bad="0.85")  # grey: nothing prescribed
    image = ax.imshow(np.ma.masked_invalid(shown), aspect="auto", interpolation="nearest",
                      cmap=cmap, vmin=0, vmax=100 if share else None,
                      extent=(0.5, shown.shape[1] + 0.5, shown.shape[0] - 0.5, -0.5))
    arms = matrix.index.get_level_values(0).to_numpy()
    names = dict(labels or {})
    groups = list(dict.fromkeys(arms))
    for g in groups:
        rows = np.flatnonzero(arms == g)
        if rows[0] > 0:
            ax.axhline(rows[0] - 0.5, color="white", linewidth=1.5)
        # the label runs along the arm's rows: wrapped to their height (measured)
        rows_pt = _axes_height_pt(ax) * rows.size / len(arms)
        label = wrap_text(str(names.get(g, g)), rows_pt, 6.5)
        ax.text(-0.02, rows.mean(), label, transform=ax.get_yaxis_transform(), rotation=90,
                ha="right", va="center", fontsize=6.5, multialignment="center")  # fmt: skip
    ax.set_yticks([])
    ax.set_xticks(range(1, shown.shape[1] + 1))
    ax.set_xlabel("Programme week")
    ax.spines[["left", "bottom"]].set_visible(False)
    default = {"attendance": "Sessions attended, % of prescribed",
               "dose_adherence": "Dose adherence, % of target KKW", "kkw": "KKW"}
    bar = ax.figure.colorbar(image, ax=ax, shrink=0.8, pad=0.02)
    bar.set_label(colorbar_label or default.get(value, value))
    bar.outline.set_linewidth(0.5)
    return ax


@styled
def plot_dose_response(
    data: pd.DataFrame,
    *,
    x: str = "kkw",
    y: str = "CHG",
    group: str = "arm",
    order: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    ax=None,
    xlabel: str = "Exercise dose, kcal/kg/week (KKW)",
    ylabel: str = "Change from baseline",
):
    """Outcome against exercise dose, points by arm, with a least-squares line and its
    95% confidence band (all participants).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant, e.g. :func:`ketex.report.analysis.dose_outcome_data`.
    x, y, group : str
        Dose, outcome and arm columns.
    order, labels, colors : optional
    ax : matplotlib.axes.Axes, optional
    xlabel, ylabel : str

    Returns
    -------
    matplotlib.axes.Axes
        The fitted line has ``gid = "fit"``; its slope (95% CI) and p (ordinary least
        squares) are the Axes' right title.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"kkw": [5.0, 8, 10, 12, 15, 18], "CHG": [-4.0, -6, -9, -8, -12, -15],
    ...                   "arm": ["A", "B"] * 3})
    >>> ax = plot_dose_response(d)
    >>> [round(float(v), 2) for v in ax.get_lines()[0].get_ydata()[[0, -1]]]
    [-3.77, -14.51]
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    rows = data[[x, y, group]].dropna()
    if len(rows) < 3:
        raise ValueError(f"plot_dose_response needs at least 3 participants with {x!r} and "
                         f"{y!r}; {len(rows)} have both.")  # fmt: skip
    ax = axes_or_new(ax, "single", 65)
    groups = group_order(rows[group], order)
    colour = palette(groups, colors)
    names = {g: g for g in groups} | dict(labels or {})
    fit = stats.linregress(rows[x].astype(float), rows[y].astype(float))
    grid = np.linspace(rows[x].min(), rows[x].max(), 100)
    n = len(rows)
    xs = rows[x].astype(float).to_numpy()
    residual = rows[y].astype(float).to_numpy() - (fit.intercept + fit.slope * xs)
    s = np.sqrt((residual**2).sum() / (n - 2))
    se = s * np.sqrt(1 / n + (grid - xs.mean()) ** 2 / ((xs - xs.mean()) ** 2).sum())
    t = stats.t.ppf(0.975, n - 2)
    line = fit.intercept + fit.slope * grid
    ax.plot(grid, line, color="black", linewidth=1.1, gid="fit")
    ax.fill_between(grid, line - t * se, line + t * se, color="0.5", alpha=0.2, linewidth=0)
    for g in groups:
        part = rows[rows[group].astype(str) == g]
        ax.scatter(part[x], part[y], s=9, color=colour[g], alpha=0.8, linewidths=0,
                   label=names[g])  # fmt: skip
    half = t * fit.stderr
    ax.set_title(f"slope {fit.slope:.2f} ({fit.slope - half:.2f} to {fit.slope + half:.2f}) "
                 f"per unit, p = {fit.pvalue:.3f}", loc="right", fontsize=6.5,
                 fontweight="normal")  # fmt: skip
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=1)
    return ax


def _axes_height_pt(ax) -> float:
    """The height of ``ax`` in points before constrained layout (which only adds room)."""
    return ax.figure.get_size_inches()[1] * ax.get_position().height * 72
