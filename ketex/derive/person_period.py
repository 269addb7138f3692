"""Person-period data for discrete-time survival models (e.g. time to relapse).

One row per participant and interval at risk, built from a time-to-event table
(:func:`ketex.time_to_event`), ready for a logistic or complementary log-log mixed model
(:func:`ketex.glmm`). Conventions are in ``docs/mixed-models.md``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from types import MappingProxyType

import numpy as np
import pandas as pd

from ketex.derive.time_to_event import TimeToEvent
from ketex.study.trial import Trial

__all__ = ["PERSON_PERIOD_COLUMNS", "person_period"]

#: Columns of the table :func:`person_period` returns (before any covariate), with meaning.
PERSON_PERIOD_COLUMNS = MappingProxyType({
    "USUBJID": "participant identifier",
    "ARM": "arm code (when the time-to-event table has it)",
    "interval": "1, 2, ...: interval k covers days (width (k-1), width k] after the origin",
    "start": "days from the origin to the start of the interval (exclusive)",
    "stop": "days from the origin to the end of the interval (inclusive)",
    "start_day": "study day the interval starts after (origin day + start)",
    "end_day": "last study day of the interval (origin day + stop)",
    "exposure_days": "days of the interval observed at risk (the width but in a last interval "
                     "cut short by censoring)",
    "log_exposure": "log(exposure_days / width): offset of the grouped-time (cloglog) model",
    "event": "1 in the interval of the event, else 0",
})
_PARTIAL = ("keep", "drop")


def person_period(
    tte: TimeToEvent | pd.DataFrame,
    width_days: int = 7,
    *,
    covariates: pd.DataFrame | Sequence[pd.DataFrame] | None = None,
    trial: Trial | None = None,
    partial: str = "keep",
) -> pd.DataFrame:
    """Expand a time-to-event table into one row per participant and interval at risk.

    Parameters
    ----------
    tte : TimeToEvent or pandas.DataFrame
        From :func:`ketex.time_to_event`, or a table with ``USUBJID``, ``STARTDY``
        (origin study day), ``AVAL`` (days from origin to event or censoring) and
        ``event`` (or ``CNSR``, 0 = event); other columns such as ``ARM`` are kept.
    width_days : int
        Length of the intervals, in days (7: weeks).
    covariates : DataFrame or sequence of DataFrame, optional
        Tables keyed by ``participant_id`` (or ``USUBJID``). With a ``day`` column, a
        time-varying covariate: each row's values hold from that study day until the
        participant's next row, and an interval gets the values as of its
        ``start_day`` (the last row with ``day <= start_day``; NaN before the first).
        Without ``day``, participant-level values joined to every interval.
    trial : Trial, optional
        Adds the covariates of the relapse analysis (below) and the participant's
        ``site``.
    partial : {"keep", "drop"}
        A last interval in which the participant is censored before its end: kept with
        ``event = 0`` and its shorter ``exposure_days`` (default, as R's
        ``survival::survSplit``), or dropped (only complete intervals count).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PERSON_PERIOD_COLUMNS` (``ARM`` when present; other columns of
        ``tte`` are not carried: join them through ``covariates``), then ``site``,
        ``kkw``, ``kkw_previous_week``, ``kkw_mean`` and ``days_since_last_infusion``
        when ``trial`` is given, then the ``covariates``' value columns. In the order of
        ``tte``, then by interval.

    Raises
    ------
    ValueError
        For a width that is not a positive whole number of days, an unknown ``partial``,
        a table without the needed columns, or covariate tables without a participant
        column.

    Warns
    -----
    UserWarning
        Participants with an event at ``AVAL = 0`` (on the origin day itself, outside
        any interval) are left out, named in the warning.

    Notes
    -----
    Interval ``k`` covers days ``(w (k - 1), w k]`` after the origin, so an event on
    day ``w k`` (a boundary) falls in interval ``k``. A participant with ``AVAL = t``
    is at risk in intervals ``1 ... ceil(t / w)``; the event (if any) is in the last.
    A participant censored at ``t = 0`` contributes no interval. An interval with the
    event counts in full (grouped time: the event is only known to fall in it); a last
    interval cut short by censoring has ``exposure_days = t - w (k - 1)``.

    With ``trial``, for the interval starting after study day ``a = start_day``:

    - ``kkw``: KKW of the exercise programme week containing day ``a + 1`` (from
      :func:`ketex.exercise_dose` by week; NaN outside the participant's programme);
    - ``kkw_previous_week``: KKW of the programme week that ended in the 7 days up to
      day ``a`` (known when the interval starts; NaN when none did, e.g. before the
      first week ends or after the programme);
    - ``kkw_mean``: the participant's mean weekly KKW over the programme
      (``exercise_dose(trial, by="participant")["kkw"]``), a time-fixed summary;
    - ``days_since_last_infusion``: ``a`` minus the day of the last infusion on or
      before day ``a`` (NaN before the first).

    Examples
    --------
    >>> import pandas as pd
    >>> tte = pd.DataFrame({"USUBJID": ["A", "B", "C"], "STARTDY": [2, 5, 1],
    ...                     "AVAL": [14.0, 10.0, 3.0], "event": [True, False, True]})
    >>> pp = person_period(tte, 7)
    >>> pp[["USUBJID", "interval", "start", "stop", "exposure_days", "event"]]
      USUBJID  interval  start  stop  exposure_days  event
    0       A         1      0     7              7      0
    1       A         2      7    14              7      1
    2       B         1      0     7              7      0
    3       B         2      7    14              3      0
    4       C         1      0     7              7      1

    A's relapse on day 14 (a boundary) is in week 2; B, censored on day 10, was at risk
    for 3 days of week 2 (``partial="drop"`` would leave that week out).
    """
    if isinstance(width_days, bool) or not isinstance(width_days, (int, np.integer)) \
            or width_days < 1:
        raise ValueError(f"width_days must be a positive whole number of days, got "
                         f"{width_days!r}.")
    if partial not in _PARTIAL:
        raise ValueError(f"partial must be 'keep' or 'drop', got {partial!r}.")
    table = _event_table(tte)
    rows = _expand(table, int(width_days), partial)
    if trial is not None:
        rows = _trial_covariates(rows, trial)
    for frame in _as_tables(covariates):
        rows = _join(rows, frame)
    return rows.reset_index(drop=True)


# ----------------------------------------------------------------- expansion
def _event_table(tte) -> pd.DataFrame:
    table = tte.table if isinstance(tte, TimeToEvent) else tte
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"tte must be a TimeToEvent or a DataFrame, got {type(tte).__name__}.")
    missing = [c for c in ("USUBJID", "STARTDY", "AVAL") if c not in table.columns]
    if "event" not in table.columns and "CNSR" not in table.columns:
        missing.append("event (or CNSR)")
    if missing:
        raise ValueError(f"The time-to-event table lacks the columns {missing}; it has "
                         f"{list(table.columns)}.")
    event = (table["event"].astype(bool) if "event" in table.columns
             else table["CNSR"].astype(int) == 0)
    aval = pd.to_numeric(table["AVAL"]).astype(float)
    bad = aval.isna() | (aval < 0) | table["STARTDY"].isna()
    if bad.any():
        raise ValueError(f"AVAL must be a number >= 0 and STARTDY known; rows "
                         f"{table.index[bad][:5].tolist()} are not.")
    out = pd.DataFrame({"USUBJID": table["USUBJID"].astype("string"),
                        "STARTDY": table["STARTDY"].astype("int64"), "AVAL": aval,
                        "event": event.to_numpy()})
    if "ARM" in table.columns:
        out.insert(1, "ARM", table["ARM"].astype("string"))
    at_origin = out["event"] & (out["AVAL"] == 0)
    if at_origin.any():
        who = out.loc[at_origin, "USUBJID"].tolist()
        warnings.warn(f"{len(who)} participants have the event on the origin day (AVAL = 0), "
                      f"outside any interval at risk; they are left out: {who[:10]}.",
                      UserWarning, stacklevel=3)
        out = out[~at_origin]
    return out.reset_index(drop=True)


def _expand(table: pd.DataFrame, width: int, partial: str) -> pd.DataFrame:
    aval = table["AVAL"].to_numpy()
    counts = np.ceil(aval / width).astype(np.int64)
    cut_short = ~table["event"].to_numpy() & (aval < counts * width)
    if partial == "drop":
        counts = np.where(cut_short, counts - 1, counts)
        cut_short = np.zeros_like(cut_short)
    rows = table.loc[table.index.repeat(counts)].reset_index(drop=True)
    interval = rows.groupby("USUBJID", sort=False).cumcount().to_numpy() + 1
    last = np.repeat(counts, counts) == interval
    start = width * (interval - 1)
    stop = width * interval
    exposure = np.where(last & np.repeat(cut_short, counts), rows["AVAL"].to_numpy() - start,
                        width)
    out = rows[[c for c in ("USUBJID", "ARM") if c in rows.columns]].copy()
    out["interval"] = interval
    out["start"] = start
    out["stop"] = stop
    out["start_day"] = rows["STARTDY"].to_numpy() + start
    out["end_day"] = rows["STARTDY"].to_numpy() + stop
    out["exposure_days"] = exposure.astype(float) if (exposure % 1).any() else exposure.astype(
        np.int64)
    out["log_exposure"] = np.log(np.asarray(exposure, dtype=float) / width)
    out["event"] = (last & np.repeat(table["event"].to_numpy(), counts)).astype(np.int64)
    return out


# ---------------------------------------------------------------- covariates
def _as_tables(covariates) -> list[pd.DataFrame]:
    if covariates is None:
        return []
    if isinstance(covariates, pd.DataFrame):
        return [covariates]
    tables = list(covariates)
    for table in tables:
        if not isinstance(table, pd.DataFrame):
            raise TypeError("covariates must be a DataFrame or a sequence of DataFrames.")
    return tables


def _participant_key(frame: pd.DataFrame) -> pd.DataFrame:
    if "participant_id" in frame.columns:
        frame = frame.rename(columns={"participant_id": "USUBJID"})
    elif "USUBJID" not in frame.columns:
        raise ValueError("A covariate table needs a participant_id (or USUBJID) column; it "
                         f"has {list(frame.columns)}.")
    return frame.assign(USUBJID=frame["USUBJID"].astype("string"))


def _join(rows: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    frame = _participant_key(frame)
    values = [c for c in frame.columns if c not in ("USUBJID", "day", "ARM", "arm")]
    clash = [c for c in values if c in rows.columns]
    if clash:
        raise ValueError(f"Covariate columns {clash} are already in the person-period table; "
                         "rename them.")
    if "day" not in frame.columns:
        if frame["USUBJID"].duplicated().any():
            raise ValueError("A covariate table without a day column must have one row per "
                             "participant.")
        return rows.merge(frame[["USUBJID", *values]], on="USUBJID", how="left")
    return _as_of(rows, frame[["USUBJID", "day", *values]], values)


def _as_of(rows: pd.DataFrame, frame: pd.DataFrame, values: list[str]) -> pd.DataFrame:
    """Each interval gets the last covariate row with ``day <= start_day``."""
    frame = frame.dropna(subset=["day"]).assign(day=lambda f: f["day"].astype("int64"))
    left = rows.assign(_order=np.arange(len(rows)), _day=rows["start_day"].astype("int64"))
    merged = pd.merge_asof(
        left.sort_values("_day"), frame.sort_values("day"), left_on="_day", right_on="day",
        by="USUBJID", direction="backward",
    )
    merged = merged.sort_values("_order").drop(columns=["_order", "_day", "day"])
    return merged.reset_index(drop=True)


def _trial_covariates(rows: pd.DataFrame, trial: Trial) -> pd.DataFrame:
    from ketex.derive.exercise import exercise_dose

    people = trial.participants[["participant_id", "site"]]
    rows = _join(rows, people)
    weeks = exercise_dose(trial, by="week")
    current = weeks[["participant_id", "first_day", "kkw"]].rename(columns={"first_day": "day"})
    # a week's value holds from its first day; after its last day nothing is known
    ended = weeks[["participant_id", "last_day"]].assign(
        day=weeks["last_day"] + 1, kkw=np.nan)[["participant_id", "day", "kkw"]]
    gaps = ended.merge(current[["participant_id", "day"]], on=["participant_id", "day"],
                       how="left", indicator=True)
    ended = ended[(gaps["_merge"] == "left_only").to_numpy()]
    steps = pd.concat([current, ended]).sort_values(["participant_id", "day"])
    shifted = rows.assign(start_day=rows["start_day"] + 1)  # the interval's first day
    rows["kkw"] = _join(shifted, steps)["kkw"].to_numpy()
    previous = weeks[["participant_id", "last_day", "kkw"]].assign(_ended=weeks["last_day"])
    previous = previous.rename(columns={"last_day": "day", "kkw": "kkw_previous_week"})
    rows = _join(rows, previous)
    # only a week that ended in the 7 days up to the interval's start counts
    stale = ~(rows["start_day"] - rows.pop("_ended") < 7)
    rows["kkw_previous_week"] = rows["kkw_previous_week"].mask(stale)
    totals = exercise_dose(trial, by="participant")[["participant_id", "kkw"]]
    rows = _join(rows, totals.rename(columns={"kkw": "kkw_mean"}))
    infusions = trial.infusions[["participant_id", "day"]].dropna()
    last = infusions.assign(last_infusion_day=infusions["day"].astype(float))
    last = last.drop_duplicates(["participant_id", "day"])
    rows = _join(rows, last)
    rows["days_since_last_infusion"] = rows["start_day"] - rows.pop("last_infusion_day")
    return rows
