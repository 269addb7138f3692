"""Mean score trajectories by arm and individual trajectories (spaghetti)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import FuncFormatter, Locator
from scipy import stats

from ketex.report.figures._common import (
    axes_or_new,
    group_order,
    outcome_label,
    palette,
    styled,
    text_width_pt,
)

__all__ = ["observed_means", "plot_spaghetti", "plot_trajectory"]

#: the day ticks, the first kept first when labels would collide
_DAY_PRIORITY = (0, 84, 14, 168, 28, 7, 56, -7, 112)
_TICK_GAP_PT = 3.0


class _DayLocator(Locator):
    """The day ticks whose labels fit side by side, measured when the axis is drawn: the
    ticks of :data:`_DAY_PRIORITY` are taken in turn, each kept unless its label would
    come closer than :data:`_TICK_GAP_PT` to a kept one."""

    def __init__(self, fontsize_pt: float) -> None:
        self.fontsize_pt = fontsize_pt

    def __call__(self):
        return self.tick_values(*self.axis.get_view_interval())

    def tick_values(self, vmin, vmax):
        low, high = sorted((vmin, vmax))
        days = [d for d in _DAY_PRIORITY if low <= d <= high]
        axes = None if self.axis is None else self.axis.axes
        if axes is None or not days:
            return days
        scale = axes.figure.dpi / 72  # points to pixels
        x = axes.transData.transform([(d, 0) for d in days])[:, 0]
        kept: list[tuple[float, float, int]] = []  # (left, right) in pixels, day
        for d, centre in zip(days, x, strict=True):
            half = text_width_pt(str(d), self.fontsize_pt) * scale / 2
            gap = _TICK_GAP_PT * scale
            if all(centre + half + gap <= a or centre - half - gap >= b for a, b, _ in kept):
                kept.append((centre - half, centre + half, d))
        return sorted(d for _, _, d in kept)


def observed_means(data: pd.DataFrame, *, value: str = "AVAL", arm: str = "ARM",
                   visit: str = "AVISIT", day: str = "AWTARGET",
                   conf_level: float = 0.95) -> pd.DataFrame:
    """Observed mean of ``value`` by arm and visit with a t-based confidence interval.

    Parameters
    ----------
    data : pandas.DataFrame
        An analysis dataset (:func:`ketex.analysis_dataset`); only analysed records
        (``ANL01FL == "Y"``) count when the column is there.
    value, arm, visit, day : str
        Columns: the outcome, the arm, the visit and its target day.
    conf_level : float

    Returns
    -------
    pandas.DataFrame
        ``arm, visit, day, n, mean, sd, ci_low, ci_high`` (``mean -/+ t(n-1) sd/sqrt(n)``).

    Examples
    --------
    >>> import ketex
    >>> ds = ketex.analysis_dataset(ketex.load_trial(ketex.sample_study_path()))
    >>> m = observed_means(ds)
    >>> first = m.iloc[0]
    >>> print(first["arm"], first["visit"], first["n"])
    SERIES BASELINE 40
    """
    rows = data
    if "ANL01FL" in data.columns:
        rows = data[data["ANL01FL"] == "Y"]
    rows = rows[rows[value].notna()]
    grouped = rows.groupby([arm, visit], observed=True, sort=True)
    table = grouped.agg(day=(day, "first"), n=(value, "size"), mean=(value, "mean"),
                        sd=(value, "std")).reset_index()  # fmt: skip
    t = stats.t.ppf(1 - (1 - conf_level) / 2, np.maximum(table["n"] - 1, 1))
    half = np.where(table["n"] > 1, t * table["sd"] / np.sqrt(table["n"]), np.nan)
    table["ci_low"], table["ci_high"] = table["mean"] - half, table["mean"] + half
    table = table.rename(columns={arm: "arm", visit: "visit"})
    table["arm"], table["visit"] = table["arm"].astype(str), table["visit"].astype(str)
    table["day"] = table["day"].astype(float)
    return table.sort_values(["arm", "day"]).reset_index(drop=True)


@styled
def plot_trajectory(
    data: pd.DataFrame,
    *,
    value: str = "AVAL",
    fit=None,
    ax=None,
    order: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    ylabel: str | None = None,
    conf_level: float = 0.95,
    legend: bool = True,
):
    """Mean score by arm over time with 95% CIs: observed, and model-based LS-means.

    Parameters
    ----------
    data : pandas.DataFrame
        An analysis dataset (``ARM, AVISIT, AWTARGET`` and ``value``).
    value : {"AVAL", "CHG"} or str
        The outcome: the score, or its change from baseline.
    fit : ketex.MMRMResult, optional
        With ``value="CHG"``: draw its LS-means of ``ARM`` by ``AVISIT`` with CIs as
        solid lines and the observed means as open markers.
    ax : matplotlib.axes.Axes, optional
    order, labels, colors : optional
        Arm order (default: ``ARM``'s categories, else sorted), legend labels, colours.
    ylabel : str, optional
        Default: the instrument (``PARAMCD``) and the outcome, e.g. "MADRS total score,
        mean (95% CI)".
    conf_level : float
    legend : bool
        Draw a legend (False when several panels share one figure legend).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import ketex
    >>> ds = ketex.analysis_dataset(ketex.load_trial(ketex.sample_study_path()))
    >>> ax = plot_trajectory(ds)
    >>> len(ax.get_legend().get_texts())
    2
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    if fit is not None and value != "CHG":
        raise ValueError("LS-means (fit=...) are of the change from baseline: use value='CHG'.")
    ax = axes_or_new(ax)
    observed = observed_means(data, value=value, conf_level=conf_level)
    groups = group_order(data["ARM"], order)
    colour = palette(groups, colors)
    names = {g: g for g in groups} | dict(labels or {})
    dodge = {g: (i - (len(groups) - 1) / 2) * 0.12 for i, g in enumerate(groups)}
    model = None
    if fit is not None:
        model = fit.lsmeans("ARM", by="AVISIT")
        days = observed.drop_duplicates("visit").set_index("visit")["day"]
        model = model.assign(visit=model["AVISIT"].astype(str), arm=model["ARM"].astype(str))
        model["day"] = model["visit"].map(days).astype(float)
    for group in groups:
        obs = observed[observed["arm"] == group]
        x = obs["day"].to_numpy() / 7 + dodge[group]
        err = np.vstack([obs["mean"] - obs["ci_low"], obs["ci_high"] - obs["mean"]])
        if model is None:
            ax.errorbar(x, obs["mean"], yerr=err, color=colour[group], marker="o", capsize=1.5,
                        elinewidth=0.7, label=names[group])  # fmt: skip
            continue
        ax.plot(x, obs["mean"], linestyle="none", marker="o", mfc="white",
                color=colour[group], markersize=3, alpha=0.8)  # fmt: skip
        lsm = model[model["arm"] == group].sort_values("day")
        xm = lsm["day"].to_numpy() / 7 + dodge[group]
        err = np.vstack([lsm["estimate"] - lsm["ci_low"], lsm["ci_high"] - lsm["estimate"]])
        ax.errorbar(xm, lsm["estimate"], yerr=err, color=colour[group], marker="s",
                    capsize=1.5, elinewidth=0.7, label=names[group])  # fmt: skip
    if value == "CHG":
        ax.axhline(0, color="0.6", linewidth=0.6, zorder=0)
    ax.set_xlabel("Week")
    ax.set_xticks([0, 2, 4, 8, 12, 16, 24])
    default = outcome_label(data, value) + (", mean (95% CI)" if value == "AVAL"
                                            else " (95% CI)")  # fmt: skip
    ax.set_ylabel(ylabel or default)
    if legend:
        box = ax.legend(loc="best", handlelength=1.5)
        if model is not None:
            box.set_title("LS mean (\u25a0); observed (\u25cb)", prop={"size": 6.5})
    return ax


@styled
def plot_spaghetti(
    data: pd.DataFrame,
    infusions: pd.DataFrame | None = None,
    *,
    arm: str | None = None,
    value: str = "AVAL",
    ax=None,
    color: str | None = None,
    x_scale: str = "asinh",
    show_mean: bool = True,
):
    """One line per participant over study days, infusion days marked on each line.

    Parameters
    ----------
    data : pandas.DataFrame
        An analysis dataset (``USUBJID, ARM, ADY, AVISIT, AWTARGET`` and ``value``);
        analysed records with a value are drawn.
    infusions : pandas.DataFrame, optional
        ``trial.infusions`` (``participant_id, day``): each infusion is a marker
        (``v``) on the participant's line, at the score interpolated on that day.
    arm : str, optional
        Draw this arm only (small multiples: one Axes per arm).
    value : str
    ax : matplotlib.axes.Axes, optional
    color : str, optional
        Line colour (default: the arm's).
    x_scale : {"asinh", "linear"}
        ``"asinh"`` spreads the first two weeks (where infusions fall) and compresses
        the follow-up; ticks stay in days (those whose labels would collide at the
        drawn width are left out, day 0 and day 84 last).
    show_mean : bool
        Overlay the arm's observed mean by visit.

    Returns
    -------
    matplotlib.axes.Axes
        Participant lines carry ``gid = "participant:<USUBJID>"``.

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> ds = ketex.analysis_dataset(trial)
    >>> ax = plot_spaghetti(ds, trial.infusions, arm="SERIES")
    >>> sum(str(line.get_gid()).startswith("participant:") for line in ax.lines)
    40
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    if x_scale not in ("asinh", "linear"):
        raise ValueError(f"x_scale must be 'asinh' or 'linear', got {x_scale!r}.")
    ax = axes_or_new(ax)
    rows = data[data["ANL01FL"] == "Y"] if "ANL01FL" in data.columns else data
    rows = rows[rows[value].notna() & rows["ADY"].notna()]
    groups = group_order(data["ARM"], None)
    if arm is not None:
        if arm not in groups:
            raise ValueError(f"arm {arm!r} is not in the data; arms: {groups}.")
        rows = rows[rows["ARM"].astype(str) == arm]
    colour = palette(groups, None)
    by_participant = infusions.groupby("participant_id")["day"] if infusions is not None else None
    infused = set(infusions["participant_id"].astype(str)) if infusions is not None else set()
    for subject, one in rows.sort_values("ADY").groupby("USUBJID", sort=True):
        c = color or colour[str(one["ARM"].iloc[0])]
        x, y = one["ADY"].astype(float).to_numpy(), one[value].to_numpy(dtype=float)
        ax.plot(x, y, color=c, linewidth=0.5, alpha=0.45, gid=f"participant:{subject}")
        if str(subject) in infused:
            days = by_participant.get_group(str(subject)).astype(float).to_numpy()
            ax.plot(days, np.interp(days, x, y), linestyle="none", marker="v", markersize=2,
                    color=c, alpha=0.8, gid=f"infusions:{subject}")  # fmt: skip
    if show_mean and len(rows):
        means = rows.groupby("AVISIT", observed=True).agg(day=("AWTARGET", "first"),
                                                          mean=(value, "mean"))
        means = means.sort_values("day")
        ax.plot(means["day"].astype(float), means["mean"], color="black", linewidth=1.4,
                label="observed mean")  # fmt: skip
    if x_scale == "asinh":
        ax.set_xscale("asinh", linear_width=7)
    size = FontProperties(size=mpl.rcParams["xtick.labelsize"]).get_size_in_points()
    ax.xaxis.set_major_locator(_DayLocator(size))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.minorticks_off()
    ax.set_xlabel("Study day" + (" (asinh scale)" if x_scale == "asinh" else ""))
    ax.set_ylabel(outcome_label(data, value))
    if arm is not None:
        ax.set_title(arm, loc="left")
    return ax
