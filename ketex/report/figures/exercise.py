"""Exercise adherence heat map and exercise dose against outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from scipy import stats

from ketex.report._table import format_p
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


@dataclass(frozen=True)
class _Bins:
    """The discrete colour classes of the adherence heat map.

    ``edges`` are the class limits: class ``k`` holds values above ``edges[k]`` up to
    and including ``edges[k + 1]`` (the first also holds ``edges[0]``); with ``open_top``
    a last class holds everything above ``edges[-1]``. ``labels`` and ``colours`` have one
    entry per class; ``cmap`` and ``norm`` draw them.
    """

    edges: tuple[float, ...]
    open_top: bool
    labels: tuple[str, ...]
    colours: tuple[tuple[float, float, float, float], ...]
    cmap: ListedColormap
    norm: BoundaryNorm

    def classify(self, values) -> np.ndarray:
        """The class of each value (-1 where missing)."""
        v = np.asarray(values, dtype=float)
        k = np.searchsorted(np.asarray(self.edges), v, side="left") - 1
        k = np.clip(k, 0, len(self.labels) - 1)
        return np.where(np.isnan(v), -1, k)


def _adherence_bins(values, *, share: bool = True) -> _Bins:
    """Colour classes for the heat map: 0-25, 25-50, 50-75, 75-100 and >100 % for shares
    (in %), else about four round-numbered classes over the values' range.

    Examples
    --------
    >>> bins = _adherence_bins([0, 40, 100, 120])
    >>> bins.labels
    ('0–25 %', '>25–50 %', '>50–75 %', '>75–100 %', '>100 %')
    >>> bins.classify([0, 25, 25.5, 100, 100.5, float("nan")]).tolist()
    [0, 0, 1, 3, 4, -1]
    >>> _adherence_bins([2.0, 17.5], share=False).labels
    ('0–5', '>5–10', '>10–15', '>15–20')
    """
    if share:
        edges, open_top, unit = (0.0, 25.0, 50.0, 75.0, 100.0), True, " %"
    else:
        v = np.asarray(values, dtype=float)
        top = float(np.nanmax(v)) if np.isfinite(v).any() else 1.0
        low = min(0.0, float(np.nanmin(v))) if np.isfinite(v).any() else 0.0
        ticks = MaxNLocator(nbins=4).tick_values(low, top if top > low else low + 1)
        edges = tuple(float(t) for t in ticks if t <= top or t == ticks[0])
        if edges[-1] < top:
            edges = (*edges, float(ticks[len(edges)]))
        open_top, unit = False, ""
    labels = [f"{edges[0]:g}–{edges[1]:g}{unit}"]
    labels += [f">{a:g}–{b:g}{unit}" for a, b in zip(edges[1:-1], edges[2:], strict=True)]
    if open_top:
        labels.append(f">{edges[-1]:g}{unit}")
    n = len(labels)
    # light to dark blue up to the prescription; above it a contrasting orange; the grey
    # of missing weeks is none of them
    ramp = mpl.colormaps["YlGnBu"](np.linspace(0.2, 0.95, n - open_top))
    colours = tuple(tuple(float(c) for c in rgba) for rgba in ramp)
    if open_top:
        colours = (*colours, tuple(float(c) for c in mpl.colors.to_rgba("#e66101")))
    cmap = ListedColormap(colours).with_extremes(bad="0.85", under=colours[0],
                                                 over=colours[-1])
    # BoundaryNorm's classes are [b_i, b_i+1): nudge the inner limits up by one ulp so a
    # value equal to a limit belongs to the class below it (100 % is "75-100 %")
    bounds = [edges[0]] + [float(np.nextafter(e, np.inf)) for e in edges[1:]]
    if open_top:
        bounds.append(float(np.finfo(float).max))
    norm = BoundaryNorm(bounds, n, clip=False)
    return _Bins(edges=tuple(edges), open_top=open_top, labels=tuple(labels),
                         colours=colours, cmap=cmap, norm=norm)


@styled
def plot_adherence_heatmap(
    weekly: pd.DataFrame,
    *,
    value: str = "attendance",
    order: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    ax=None,
    legend_title: str | None = None,
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
    legend_title : str, optional
        Title of the legend of colour classes (default: the measure in words).

    Returns
    -------
    matplotlib.axes.Axes
        The image (``ax.images[0]``) holds :func:`adherence_matrix` (x 100 for shares),
        coloured in discrete classes (shares: 0-25, >25-50, >50-75, >75-100 and >100 %);
        the legend (``gid = "adherence-legend"``) names each class and the grey of weeks
        with nothing prescribed.

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
    bins = _adherence_bins(shown, share=share)
    image.set_cmap(bins.cmap)
    image.set_norm(bins.norm)
    title = wrap_text(legend_title or default.get(value, value), 80, 6.5)
    handles = [Patch(facecolor=c, edgecolor="0.6", linewidth=0.3, label=label)
               for c, label in zip(bins.colours, bins.labels, strict=True)]
    handles.append(Patch(facecolor="0.85", edgecolor="0.6", linewidth=0.3,
                         label="missing (not prescribed)"))
    legend = ax.legend(handles=handles, title=title, loc="upper left",
                       bbox_to_anchor=(1.02, 1.0), borderaxespad=0, frameon=False,
                       fontsize=6.5, title_fontsize=6.5, handlelength=1.2,
                       handleheight=1.0, alignment="left")
    legend.set_gid("adherence-legend")
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
    x_unit: str = "KKW",
    y_unit: str = "points",
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
    x_unit, y_unit : str
        Units of the dose and of the outcome: the slope is labelled "points per KKW".

    Returns
    -------
    matplotlib.axes.Axes
        The fitted line has ``gid = "fit"``; its slope with its unit, 95% CI and p
        (ordinary least squares) are the Axes' right title, e.g. "slope -0.45 points per
        KKW (95% CI -0.80 to -0.10), p = 0.013" (p below 0.001 as "p < 0.001").

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"kkw": [5.0, 8, 10, 12, 15, 18], "CHG": [-4.0, -6, -9, -8, -12, -15],
    ...                   "arm": ["A", "B"] * 3})
    >>> ax = plot_dose_response(d)
    >>> [round(float(v), 2) for v in ax.get_lines()[0].get_ydata()[[0, -1]]]
    [-3.77, -14.51]
    >>> ax.get_title(loc="right")
    'slope -0.83 points per KKW (95% CI -1.09 to -0.56), p < 0.001'
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
    p = format_p(fit.pvalue)
    ax.set_title(f"slope {fit.slope:.2f} {y_unit} per {x_unit} (95% CI "
                 f"{fit.slope - half:.2f} to {fit.slope + half:.2f}), "
                 f"p {'< ' + p[1:] if p.startswith('<') else '= ' + p}",
                 loc="right", fontsize=6.5, fontweight="normal")  # fmt: skip
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=1)
    return ax


def _axes_height_pt(ax) -> float:
    """The height of ``ax`` in points before constrained layout (which only adds room)."""
    return ax.figure.get_size_inches()[1] * ax.get_position().height * 72
