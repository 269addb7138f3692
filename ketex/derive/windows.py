"""Exercise done inside windows after each infusion (the post-infusion plasticity window).

:func:`exercise_windows` places every exercise session in hours after the end of the
infusions before it and sums the exercise dose inside configurable windows (default
0-24 h, 24-48 h and 48-72 h after the infusion ends), per session, per infusion, or per
participant.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ketex.derive.exercise import KCAL_PER_KG_PER_MET_MIN
from ketex.errors import DataValidationError

__all__ = ["ATTRIBUTION_CHOICES", "DEFAULT_WINDOWS_H", "WINDOW_BY_CHOICES", "exercise_windows"]

DEFAULT_WINDOWS_H = ((0.0, 24.0), (24.0, 48.0), (48.0, 72.0))
ATTRIBUTION_CHOICES = ("latest", "every")
WINDOW_BY_CHOICES = ("session", "infusion", "participant")
SESSION_WINDOW_COLUMNS = ("participant_id", "session_day", "session_start_min",
                          "infusion_number", "infusion_day", "hours_after_infusion_end",
                          "window", "duration_min", "met_minutes")  # fmt: skip
_DOSE = ("sessions", "duration_min", "met_minutes", "kcal_per_kg")


def _window_label(low: float, high: float) -> str:
    return f"{low:g}-{high:g}h"


def _check_table(frame: pd.DataFrame, name: str, required: Sequence[str]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"exercise_windows: the {name} table lacks column(s) {missing}; it needs "
            f"{list(required)} (start_min: minutes after midnight of that study day)")
    for column in required[1:]:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() | (values < 0) | (column == "start_min") & (values >= 1440)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            limit = "0 to 1439" if column == "start_min" else "a number >= 0"
            raise DataValidationError(
                f"exercise_windows: {name} row {row + 1} (participant "
                f"{str(frame['participant_id'].iloc[row])!r}), column {column!r}: value "
                f"{str(frame[column].iloc[row])!r} is not {limit}; correct or remove the row")


def exercise_windows(
    infusions: pd.DataFrame,
    sessions: pd.DataFrame,
    *,
    windows_h: Sequence[tuple[float, float]] = DEFAULT_WINDOWS_H,
    attribution: str = "latest",
    by: str = "infusion",
) -> pd.DataFrame:
    """Exercise sessions and dose inside windows after the end of each infusion.

    Parameters
    ----------
    infusions : pandas.DataFrame
        One row per infusion: ``participant_id``, ``day`` (study day), ``start_min``
        (clock time of the start, minutes after midnight), ``duration_min``.
    sessions : pandas.DataFrame
        One row per exercise session: ``participant_id``, ``day``, ``start_min``,
        ``duration_min``, and ``met_minutes`` (optional; e.g. from
        :func:`ketex.exercise_dose` with ``by="session"``).
    windows_h : sequence of (float, float)
        Windows in hours after the infusion's end, each ``[low, high)``: a session
        exactly 24 h after the end is in 24-48 h, not 0-24 h.
    attribution : {"latest", "every"}
        Which infusion a session belongs to when the windows of two infusions overlap.
        ``"latest"``: only the most recent infusion that ended at or before the session
        started, so every session is counted at most once; ``"every"``: the windows of
        every earlier infusion, so a session can count once for each infusion (never
        twice for one infusion).
    by : {"infusion", "participant", "session"}
        ``"session"``: one row per session and infusion it is attributed to (under
        ``"latest"`` sessions after the last window have window NaN; sessions before
        the first infusion's end are not listed); ``"infusion"``: one
        row per infusion and window; ``"participant"``: one row per participant and
        window, summed over infusions.

    Returns
    -------
    pandas.DataFrame
        ``by="session"``: ``participant_id, session_day, session_start_min,
        infusion_number, infusion_day, hours_after_infusion_end, window, duration_min,
        met_minutes``. ``by="infusion"``: ``participant_id, infusion_number,
        infusion_day, window, sessions, duration_min, met_minutes, kcal_per_kg``.
        ``by="participant"``: ``participant_id, window, infusions, sessions,
        duration_min, met_minutes, kcal_per_kg``. Every infusion (participant) has a row
        for every window, with 0 sessions when none fell inside. ``kcal_per_kg`` is
        0.0175 x MET-minutes (the KKW numerator, kcal per kg of body mass).

    Notes
    -----
    Times are hours from midnight of study day 0: ``24 day + start_min / 60``; an
    infusion ends ``duration_min`` after its start. A session's time is its start. A
    session that starts before an infusion ends (during it, or earlier) is never in that
    infusion's windows. Infusions are numbered 1, 2, ... per participant in time order.
    Participant totals under ``"every"`` count a session once per infusion it follows.

    Examples
    --------
    >>> inf = pd.DataFrame({"participant_id": ["P1"], "day": [1], "start_min": [540],
    ...                     "duration_min": [60]})
    >>> ses = pd.DataFrame({"participant_id": ["P1"] * 4, "day": [2, 2, 3, 3],
    ...                     "start_min": [540, 600, 540, 660], "duration_min": [30] * 4,
    ...                     "met_minutes": [150.0] * 4})
    >>> exercise_windows(inf, ses)[["window", "sessions", "met_minutes"]]
        window  sessions  met_minutes
    0   0-24h         1        150.0
    1  24-48h         2        300.0
    2  48-72h         1        150.0
    """
    if attribution not in ATTRIBUTION_CHOICES:
        raise ValueError(f"attribution must be one of {list(ATTRIBUTION_CHOICES)}, "
                         f"got {attribution!r}.")  # fmt: skip
    if by not in WINDOW_BY_CHOICES:
        raise ValueError(f"by must be one of {list(WINDOW_BY_CHOICES)}, got {by!r}.")
    windows = [(float(lo), float(hi)) for lo, hi in windows_h]
    if not windows or any(not 0 <= lo < hi for lo, hi in windows):
        raise ValueError(f"windows_h must be (low, high) pairs with 0 <= low < high, "
                         f"got {windows_h!r}.")  # fmt: skip
    _check_table(infusions, "infusions", ("participant_id", "day", "start_min", "duration_min"))
    _check_table(sessions, "exercise", ("participant_id", "day", "start_min", "duration_min"))
    labels = [_window_label(lo, hi) for lo, hi in windows]

    inf = infusions[["participant_id", "day", "start_min", "duration_min"]].copy()
    inf["end_h"] = (24.0 * inf["day"].astype(float) + inf["start_min"].astype(float) / 60.0
                    + inf["duration_min"].astype(float) / 60.0)
    inf = inf.sort_values(["participant_id", "end_h"], kind="stable").reset_index(drop=True)
    inf["infusion_number"] = inf.groupby("participant_id").cumcount() + 1
    ses = sessions.copy()
    if "met_minutes" not in ses.columns:
        ses["met_minutes"] = np.nan
    ses["session_id"] = np.arange(len(ses))
    ses["start_h"] = 24.0 * ses["day"].astype(float) + ses["start_min"].astype(float) / 60.0

    pairs = ses.merge(inf[["participant_id", "infusion_number", "day", "end_h"]],
                      on="participant_id", suffixes=("", "_infusion"))
    pairs = pairs[pairs["start_h"] >= pairs["end_h"]].copy()
    pairs["hours_after_infusion_end"] = pairs["start_h"] - pairs["end_h"]
    if attribution == "latest":
        latest = pairs.groupby("session_id")["end_h"].transform("max")
        pairs = pairs[pairs["end_h"] == latest]
    window: pd.Series = pd.Series(np.nan, index=pairs.index, dtype=object)
    for (lo, hi), label in zip(windows, labels, strict=True):
        hours = pairs["hours_after_infusion_end"]
        inside = (hours >= lo) & (hours < hi)
        window[inside & window.isna()] = label
    pairs["window"] = window
    pairs = pairs.rename(columns={"day": "session_day", "start_min": "session_start_min",
                                  "day_infusion": "infusion_day"})
    if by == "session":
        out = pairs if attribution == "latest" else pairs[pairs["window"].notna()]
        out = out.sort_values(["participant_id", "start_h", "infusion_number"], kind="stable")
        return out[list(SESSION_WINDOW_COLUMNS)].reset_index(drop=True)

    attributed = pairs[pairs["window"].notna()]
    sums = (attributed.groupby(["participant_id", "infusion_number", "window"])
            .agg(sessions=("session_id", "size"), duration_min=("duration_min", "sum"),
                 met_minutes=("met_minutes", lambda v: v.sum(min_count=len(v))))
            .reset_index())  # fmt: skip
    grid = inf[["participant_id", "infusion_number", "day"]].rename(columns={"day": "infusion_day"})
    grid = grid.merge(pd.DataFrame({"window": labels}), how="cross")
    table = grid.merge(sums, on=["participant_id", "infusion_number", "window"], how="left")
    table["sessions"] = table["sessions"].fillna(0).astype(int)
    table["duration_min"] = table["duration_min"].fillna(0.0)
    table["met_minutes"] = table["met_minutes"].where(table["sessions"] > 0, 0.0)
    table["kcal_per_kg"] = KCAL_PER_KG_PER_MET_MIN * table["met_minutes"]
    order = {label: i for i, label in enumerate(labels)}
    table = table.sort_values(["participant_id", "infusion_number"], kind="stable")
    table = table.sort_values(["participant_id", "infusion_number", "window"],
                              key=lambda s: s.map(order) if s.name == "window" else s,
                              kind="stable").reset_index(drop=True)
    if by == "infusion":
        return table[["participant_id", "infusion_number", "infusion_day", "window",
                      *_DOSE]]  # fmt: skip
    people = (table.groupby(["participant_id", "window"], sort=False)
              .agg(infusions=("infusion_number", "size"), sessions=("sessions", "sum"),
                   duration_min=("duration_min", "sum"),
                   met_minutes=("met_minutes", lambda v: v.sum(min_count=len(v))))
              .reset_index())  # fmt: skip
    people["kcal_per_kg"] = KCAL_PER_KG_PER_MET_MIN * people["met_minutes"]
    return people[["participant_id", "window", "infusions", *_DOSE]]
