"""Vital signs and ratings around infusions: the mean course by arm over the minutes from
the start.

:func:`infusion_vitals_course` averages each participant's infusions first, then the
participants of an arm (the participant, not the infusion, is the unit: a participant
with six infusions does not weigh six times). :func:`plot_infusion_vitals` draws it, one
panel per test. :func:`peri_infusion_course` and :func:`plot_peri_infusion` do the same
for the ratings timed from an infusion (CADSS, BPRS positive), by infusion number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ketex.derive.vitals import infusion_vitals
from ketex.report.figures._common import group_order, palette, styled
from ketex.report.style import new_figure
from ketex.study.trial import Trial

__all__ = [
    "COURSE_COLUMNS",
    "PERI_COURSE_COLUMNS",
    "infusion_vitals_course",
    "peri_infusion_course",
    "plot_infusion_vitals",
    "plot_peri_infusion",
]

#: Columns of :func:`infusion_vitals_course`.
COURSE_COLUMNS = ("test", "unit", "arm", "time_min", "n_participants", "n_infusions",
                  "mean", "sd", "ci_low", "ci_high")


def infusion_vitals_course(
    trial: Trial,
    tests: Sequence[str] = ("SBP", "DBP"),
    *,
    change: bool = False,
    infusion_number: int | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Mean vital signs by arm at each minute from the start of the infusions.

    Parameters
    ----------
    trial : Trial
    tests : sequence of str
        The tests (``SBP``, ``DBP``, ``HR``, ...), in panel order.
    change : bool
        The change from the infusion's pre-infusion value (ADVS ``CHG`` per infusion;
        0 at the baseline time) instead of the value.
    infusion_number : int, optional
        Only the participants' k-th infusion (1 = the first). Default: every infusion.
    conf_level : float
        Of the t-based interval over participants.

    Returns
    -------
    pandas.DataFrame
        :data:`COURSE_COLUMNS`, one row per test, arm and ``time_min`` measured: the
        mean over participants of each participant's mean over their infusions, its SD,
        and its confidence interval (missing with one participant).

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path(study="factorial"))
    >>> course = infusion_vitals_course(trial, ["SBP"])
    >>> course[["arm", "time_min", "n_participants"]].head(3)
           arm  time_min  n_participants
    0  KET_AEX     -10.0              40
    1  KET_AEX      40.0              40
    2  KET_AEX      80.0              40
    """
    measured = infusion_vitals(trial, per="measurement")
    measured = measured[measured["test"].isin(list(tests)) & measured["value"].notna()]
    if infusion_number is not None:
        measured = measured[measured["infusion_number"] == infusion_number]
    measured = measured.assign(y=measured["change"] if change else measured["value"],
                               arm=measured["arm"].astype(str))
    if change:  # the pre-infusion records before the baseline have no change
        measured = measured[measured["time_min"] >= _base_time(measured)]
    measured = measured[measured["y"].notna()]
    per_person = (measured.groupby(["test", "arm", "time_min", "participant_id"],
                                   observed=True)
                  .agg(y=("y", "mean"), k=("y", "size")).reset_index())
    rows = []
    units = measured.groupby("test", observed=True)["unit"].first()
    for (test, arm, time), block in per_person.groupby(["test", "arm", "time_min"],
                                                       observed=True, sort=True):
        y = block["y"].to_numpy(float)
        n = len(y)
        mean, sd = y.mean(), (y.std(ddof=1) if n > 1 else np.nan)
        half = (stats.t.ppf(0.5 + conf_level / 2, n - 1) * sd / np.sqrt(n)) if n > 1 else np.nan
        rows.append({"test": test, "unit": units[test], "arm": arm, "time_min": float(time),
                     "n_participants": n, "n_infusions": int(block["k"].sum()), "mean": mean,
                     "sd": sd, "ci_low": mean - half, "ci_high": mean + half})
    out = pd.DataFrame(rows, columns=list(COURSE_COLUMNS))
    order = {t: i for i, t in enumerate(tests)}
    out = out.sort_values(["test", "arm", "time_min"], key=lambda c: c.map(order)
                          if c.name == "test" else c, kind="mergesort")
    return out.reset_index(drop=True).astype({"test": "string", "unit": "string",
                                              "arm": "string", "n_participants": "int64",
                                              "n_infusions": "int64"})


def _base_time(measured: pd.DataFrame) -> pd.Series:
    """The time of each record's baseline: the last time at or before 0 of its day."""
    before = measured[measured["time_min"] <= 0]
    last = before.groupby(["participant_id", "day", "test"], observed=True)["time_min"].max()
    keys = pd.MultiIndex.from_frame(measured[["participant_id", "day", "test"]])
    return pd.Series(last.reindex(keys).to_numpy(), index=measured.index)


_NAMES = {"SBP": "Systolic blood pressure", "DBP": "Diastolic blood pressure",
          "HR": "Heart rate", "SPO2": "Oxygen saturation", "TEMP": "Temperature"}


@styled
def plot_infusion_vitals(
    course: pd.DataFrame,
    *,
    order: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    change: bool = False,
    axes=None,
):
    """The course of vital signs around infusions by arm: mean with its 95% CI.

    Parameters
    ----------
    course : pandas.DataFrame
        :func:`infusion_vitals_course`.
    order, labels, colors : optional
        Arm order (default sorted), legend labels, colours.
    thresholds : mapping of test to value, optional
        Dashed horizontal lines (e.g. ``{"SBP": 180, "DBP": 110}``); ignored with
        ``change``.
    change : bool
        Label the y axis as the change from the pre-infusion value (as the course was
        made with ``change=True``).
    axes : sequence of Axes, optional
        One per test; default a new figure with a panel per test side by side.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path(study="factorial"))
    >>> fig = plot_infusion_vitals(infusion_vitals_course(trial))
    >>> [ax.get_title(loc="left") for ax in fig.axes]
    ['a  Systolic blood pressure', 'b  Diastolic blood pressure']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    tests = list(dict.fromkeys(course["test"].astype(str)))
    if not tests:
        raise ValueError("course: no measurements to plot (infusion_vitals_course is "
                         "empty: no vital signs with time_min on infusion days)")
    if axes is None:
        fig, axes = new_figure("double", 65, ncols=len(tests), squeeze=False)
        axes = list(axes[0])
    fig = axes[0].figure
    groups = group_order(course["arm"], order)
    colour = palette(groups, colors)
    names = {g: g for g in groups} | dict(labels or {})
    times = np.sort(course["time_min"].unique())
    step = np.min(np.diff(times)) if len(times) > 1 else 1.0
    dodge = {g: (i - (len(groups) - 1) / 2) * 0.06 * step for i, g in enumerate(groups)}
    for k, (ax, test) in enumerate(zip(axes, tests, strict=False)):
        of_test = course[course["test"] == test]
        for group in groups:
            mine = of_test[of_test["arm"] == group].sort_values("time_min")
            if mine.empty:
                continue
            x = mine["time_min"].to_numpy(float) + dodge[group]
            y = mine["mean"].to_numpy(float)
            err = np.vstack([y - mine["ci_low"].to_numpy(float),
                             mine["ci_high"].to_numpy(float) - y])
            ax.errorbar(x, y, yerr=np.nan_to_num(err), color=colour[group], marker="o",
                        markersize=3.5, capsize=2, label=names[group])
        if thresholds and not change and test in thresholds:
            ax.axhline(thresholds[test], color="0.4", linestyle="--", linewidth=0.8)
        ax.axvline(0, color="0.6", linewidth=0.6, zorder=0)
        unit = of_test["unit"].iloc[0] if len(of_test) else ""
        ax.set_xlabel("Minutes from the start of the infusion")
        ax.set_ylabel(f"{'Change in ' if change else ''}{test} ({unit})")
        ax.set_title(f"{'abcdefgh'[k]}  {_NAMES.get(test, test)}", loc="left")
        ax.set_xticks(times)
    handles, texts = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, texts, loc="outside upper center",
                   ncols=len(groups) if len(groups) <= 3 else 2)
    return fig


#: Columns of :func:`peri_infusion_course`.
PERI_COURSE_COLUMNS = ("instrument", "infusion_number", "arm", "time_min", "n_participants",
                       "mean", "sd", "ci_low", "ci_high")


def peri_infusion_course(
    trial: Trial,
    instruments: Sequence[str] = ("CADSS", "BPRS-POSITIVE"),
    *,
    infusion_numbers: Sequence[int] | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Mean rating by arm at each minute from the start of the k-th infusion.

    Parameters
    ----------
    trial : Trial
    instruments : sequence of str
        Default CADSS and BPRS-POSITIVE (rated with ``assessments.time_min``).
    infusion_numbers : sequence of int, optional
        The infusions shown (1 = each participant's first). Default: every one rated.
    conf_level : float

    Returns
    -------
    pandas.DataFrame
        :data:`PERI_COURSE_COLUMNS`: mean total over the participants rated at that
        minute of that infusion, SD and t-based interval (missing with one participant).

    Examples
    --------
    >>> import ketex
    >>> peri_infusion_course(ketex.load_trial(ketex.sample_study_path())).empty
    True
    """
    from ketex.derive.peri_infusion import timed_ratings

    ratings = timed_ratings(trial, instruments)
    if infusion_numbers is not None:
        ratings = ratings[ratings["infusion_number"].isin(list(infusion_numbers))]
    rows = []
    for (instrument, number, arm, time), block in ratings.groupby(
            ["instrument", "infusion_number", "arm", "time_min"], observed=True, sort=True):
        y = block["total"].to_numpy(float)
        n = len(y)
        mean, sd = y.mean(), (y.std(ddof=1) if n > 1 else np.nan)
        half = (stats.t.ppf(0.5 + conf_level / 2, n - 1) * sd / np.sqrt(n)) if n > 1 else np.nan
        rows.append({"instrument": instrument, "infusion_number": int(number), "arm": arm,
                     "time_min": float(time), "n_participants": n, "mean": mean, "sd": sd,
                     "ci_low": mean - half, "ci_high": mean + half})
    out = pd.DataFrame(rows, columns=list(PERI_COURSE_COLUMNS))
    order = {t: i for i, t in enumerate(instruments)}
    out = out.sort_values(["instrument", "infusion_number", "arm", "time_min"],
                          key=lambda c: c.map(order) if c.name == "instrument" else c,
                          kind="mergesort")
    return out.reset_index(drop=True).astype({"instrument": "string", "arm": "string",
                                              "infusion_number": "int64",
                                              "n_participants": "int64"})


_SCALE_NAMES = {"CADSS": "CADSS total", "BPRS-POSITIVE": "BPRS positive"}


@styled
def plot_peri_infusion(
    course: pd.DataFrame,
    *,
    order: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
):
    """Ratings over the minutes after the start of each infusion, by arm: a panel per
    instrument (rows) and infusion number (columns), mean with its 95% CI.

    Parameters
    ----------
    course : pandas.DataFrame
        :func:`peri_infusion_course`.
    order, labels, colors : optional
        Arm order, legend labels, colours.

    Returns
    -------
    matplotlib.figure.Figure
        The panels of one instrument share the y axis.

    Examples
    --------
    >>> import pandas as pd
    >>> course = pd.DataFrame({"instrument": "CADSS", "infusion_number": [1, 1, 2, 2],
    ...                        "arm": "A", "time_min": [-10.0, 40.0, -10.0, 40.0],
    ...                        "n_participants": 5, "mean": [1.0, 20.0, 1.0, 15.0],
    ...                        "sd": 4.0, "ci_low": [0, 15, 0, 10], "ci_high": [2, 25, 2, 20]})
    >>> fig = plot_peri_infusion(course)
    >>> [ax.get_title(loc="left") for ax in fig.axes]
    ['a  Infusion 1', 'b  Infusion 2']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    instruments = list(dict.fromkeys(course["instrument"].astype(str)))
    numbers = sorted(course["infusion_number"].unique())
    if not instruments:
        raise ValueError("course: no ratings to plot (peri_infusion_course is empty: no "
                         "CADSS or BPRS ratings with time_min on infusion days)")
    fig, axes = new_figure("double", 45 * len(instruments) + 15, nrows=len(instruments),
                           ncols=len(numbers), squeeze=False, sharey="row")
    groups = group_order(course["arm"], order)
    colour = palette(groups, colors)
    names = {g: g for g in groups} | dict(labels or {})
    times = np.sort(course["time_min"].unique())
    step = np.min(np.diff(times)) if len(times) > 1 else 1.0
    dodge = {g: (i - (len(groups) - 1) / 2) * 0.06 * step for i, g in enumerate(groups)}
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    for r, instrument in enumerate(instruments):
        for c, number in enumerate(numbers):
            ax = axes[r][c]
            here = course[(course["instrument"] == instrument)
                          & (course["infusion_number"] == number)]
            for group in groups:
                mine = here[here["arm"] == group].sort_values("time_min")
                if mine.empty:
                    continue
                y = mine["mean"].to_numpy(float)
                err = np.vstack([y - mine["ci_low"].to_numpy(float),
                                 mine["ci_high"].to_numpy(float) - y])
                ax.errorbar(mine["time_min"].to_numpy(float) + dodge[group], y,
                            yerr=np.nan_to_num(err), color=colour[group], marker="o",
                            markersize=3, capsize=1.5, label=names[group])
            ax.axvline(0, color="0.6", linewidth=0.6, zorder=0)
            ax.set_xticks(times)
            ax.tick_params(axis="x", labelrotation=90 if len(times) > 4 else 0)
            title = f"Infusion {number}" if len(instruments) == 1 else (
                f"{_SCALE_NAMES.get(instrument, instrument)}, infusion {number}")
            ax.set_title(f"{next(letters)}  {title}", loc="left")
            if c == 0:
                ax.set_ylabel(_SCALE_NAMES.get(instrument, instrument))
            if r == len(instruments) - 1:
                ax.set_xlabel("Minutes from infusion start")
    handles, texts = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, texts, loc="outside upper center",
                   ncols=len(groups) if len(groups) <= 3 else 2)
    return fig
