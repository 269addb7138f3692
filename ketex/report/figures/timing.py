"""Exercise sessions against infusion times, with the post-infusion windows shaded."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ketex.derive.windows import DEFAULT_WINDOWS_H, exercise_windows
from ketex.report.figures._common import axes_or_new, styled
from ketex.report.style import OKABE_ITO

__all__ = ["plot_exercise_timing"]

_SHADES = (0.35, 0.22, 0.12, 0.06)


@styled
def plot_exercise_timing(
    infusions: pd.DataFrame,
    sessions: pd.DataFrame,
    *,
    windows_h: Sequence[tuple[float, float]] = DEFAULT_WINDOWS_H,
    participants: Sequence[str] | None = None,
    ax=None,
):
    """One line per participant: infusion ends, the windows after them, and sessions.

    Parameters
    ----------
    infusions, sessions : pandas.DataFrame
        As for :func:`ketex.exercise_windows` (``participant_id, day, start_min,
        duration_min``).
    windows_h : sequence of (float, float)
        Windows in hours after each infusion's end, shaded darker the earlier they are.
    participants : sequence of str, optional
        Which participants, top to bottom; default all of the infusions table, sorted.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        x in study days (``day + start_min / 1440``). Infusion ends are triangles
        (``gid = "infusions:<id>"``), sessions vertical ticks (``gid = "sessions:<id>"``),
        filled when the session is inside a window of the latest infusion before it,
        open otherwise.

    Examples
    --------
    >>> inf = pd.DataFrame({"participant_id": ["P1", "P1"], "day": [1, 3],
    ...                     "start_min": [540, 540], "duration_min": [40, 40]})
    >>> ses = pd.DataFrame({"participant_id": ["P1"] * 3, "day": [2, 5, 9],
    ...                     "start_min": [600, 600, 600], "duration_min": [45] * 3})
    >>> ax = plot_exercise_timing(inf, ses)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['P1']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    attributed = exercise_windows(infusions, sessions, windows_h=windows_h, by="session")
    ids = ([str(p) for p in participants] if participants is not None
           else sorted(infusions["participant_id"].astype(str).unique()))  # fmt: skip
    ax = axes_or_new(ax, "double", 20 + 6 * len(ids))
    blue = OKABE_ITO["blue"]
    for row, pid in enumerate(ids):
        y = len(ids) - 1 - row
        inf = infusions[infusions["participant_id"].astype(str) == pid]
        ends = ((inf["day"].astype(float) * 1440 + inf["start_min"].astype(float)
                 + inf["duration_min"].astype(float)) / 1440).to_numpy()  # fmt: skip
        for end in ends:
            for k, (low, high) in enumerate(windows_h):
                ax.axvspan(end + low / 24, end + high / 24, ymin=(y + 0.1) / len(ids),
                           ymax=(y + 0.9) / len(ids), color=blue, linewidth=0,
                           alpha=_SHADES[min(k, len(_SHADES) - 1)])
        ax.plot(ends, np.full(len(ends), y), linestyle="none", marker="v",
                color=OKABE_ITO["black"], markersize=4, gid=f"infusions:{pid}")
        ses = sessions[sessions["participant_id"].astype(str) == pid]
        times = ((ses["day"].astype(float) * 1440 + ses["start_min"].astype(float))
                 / 1440).to_numpy()  # fmt: skip
        mine = attributed[attributed["participant_id"].astype(str) == pid]
        inside_times = ((mine.loc[mine["window"].notna(), "session_day"].astype(float) * 1440
                         + mine.loc[mine["window"].notna(), "session_start_min"].astype(float))
                        / 1440).to_numpy()  # fmt: skip
        inside = np.isin(times, inside_times)
        ax.plot(times, np.full(len(times), y), linestyle="none", marker="|",
                color=OKABE_ITO["vermillion"], markersize=8, gid=f"sessions:{pid}")
        ax.plot(times[~inside], np.full(int((~inside).sum()), y), linestyle="none",
                marker="o", markersize=3, markerfacecolor="white",
                markeredgecolor=OKABE_ITO["vermillion"], gid=f"outside:{pid}")
    ax.set_ylim(-0.5, len(ids) - 0.5)
    ax.set_yticks(range(len(ids)), list(reversed(ids)))
    ax.set_xlabel("Study day")
    return ax
