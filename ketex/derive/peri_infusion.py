"""Ratings around infusions: peak dissociation (CADSS) and positive symptoms (BPRS) after
each infusion, from the ratings timed in minutes from its start (``assessments.time_min``).

:func:`peri_infusion_ratings` gives one row per infusion and instrument (the pre-infusion
rating, the peak after the start and its rise); :func:`peri_infusion_summary` averages
the peaks by instrument, infusion number and arm, as ketamine trials report them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketex.study.trial import Trial

__all__ = [
    "PERI_INFUSION_COLUMNS",
    "PERI_SUMMARY_COLUMNS",
    "TIMED_SCALES",
    "peri_infusion_ratings",
    "peri_infusion_summary",
    "timed_ratings",
]

#: The scales ketamine trials rate at minutes after an infusion.
TIMED_SCALES = ("CADSS", "BPRS-POSITIVE")

PERI_INFUSION_COLUMNS = (
    "participant_id", "arm", "day", "infusion_number", "instrument", "baseline",
    "baseline_time_min", "peak", "peak_time_min", "peak_change", "n_after", "note",
)  # fmt: skip
PERI_SUMMARY_COLUMNS = (
    "instrument", "infusion_number", "arm", "n_participants", "N", "peak_mean", "peak_sd",
    "peak_median", "peak_change_mean", "peak_change_sd",
)  # fmt: skip


def timed_ratings(trial: Trial, instruments=TIMED_SCALES) -> pd.DataFrame:
    """The timed ratings of infusion days, with the arm and the infusion number.

    Columns ``participant_id, arm, day, infusion_number, instrument, time_min, total``,
    one row per rating with a ``time_min`` and a total on the day of an infusion
    (``infusion_number`` counts the participant's infusion days from 1).

    Examples
    --------
    >>> import ketex
    >>> timed_ratings(ketex.load_trial(ketex.sample_study_path())).empty  # none timed
    True
    """
    columns = ["participant_id", "arm", "day", "infusion_number", "instrument", "time_min",
               "total"]
    ratings = trial.assessments
    if "time_min" not in ratings.columns or not len(trial.infusions):
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns}).astype(
            {"participant_id": "string", "arm": "string", "instrument": "string",
             "day": "Int64", "infusion_number": "Int64"})
    ratings = ratings[ratings["instrument"].isin(list(instruments))
                      & ratings["time_min"].notna() & ratings["total"].notna()]
    days = trial.infusions[["participant_id", "day"]].dropna().drop_duplicates().sort_values(
        ["participant_id", "day"], kind="mergesort")
    days = days.assign(infusion_number=(days.groupby("participant_id").cumcount() + 1)
                       .astype("Int64"))
    out = ratings.merge(days, on=["participant_id", "day"], how="inner")
    out["arm"] = out["participant_id"].map(trial.arms).astype("string")
    out = out[columns].sort_values(["participant_id", "day", "instrument", "time_min"],
                                   kind="mergesort")
    return out.reset_index(drop=True).astype({"total": "float64", "time_min": "float64"})


def peri_infusion_ratings(trial: Trial, instruments=TIMED_SCALES) -> pd.DataFrame:
    """Pre-infusion rating, peak after the start and its rise, per infusion and instrument.

    Parameters
    ----------
    trial : Trial
    instruments : sequence of str
        Default CADSS and BPRS-POSITIVE.

    Returns
    -------
    pandas.DataFrame
        :data:`PERI_INFUSION_COLUMNS`: ``baseline`` is the last rating at or before
        minute 0, ``peak`` the highest after minute 0 (the first if tied),
        ``peak_change`` = ``peak - baseline``; ``note`` says why one is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.study.protocol import Arm, Protocol, Visit
    >>> from ketex.study.validation import build_trial
    >>> protocol = Protocol(study_id="D", arms=(Arm("A"),),
    ...                     visits=(Visit("BL", 0, (-7, 0)), Visit("INF1", 1, (1, 1))))
    >>> trial = build_trial(protocol, {
    ...     "participants": pd.DataFrame({"participant_id": ["P1"], "arm": ["A"]}),
    ...     "assessments": pd.DataFrame({"participant_id": "P1", "day": [0, 1, 1, 1],
    ...                                  "visit": ["BL", "INF1", "INF1", "INF1"],
    ...                                  "instrument": ["MADRS", "CADSS", "CADSS", "CADSS"],
    ...                                  "time_min": [None, -10, 40, 120],
    ...                                  "total": [30, 2, 25, 4]}),
    ...     "infusions": pd.DataFrame({"participant_id": ["P1"], "day": [1], "drug": ["ketamine"],
    ...                                "dose": [0.5], "dose_unit": ["mg/kg"]})})
    >>> peri_infusion_ratings(trial)[["instrument", "baseline", "peak", "peak_time_min",
    ...                               "peak_change"]]
      instrument  baseline  peak  peak_time_min  peak_change
    0      CADSS       2.0  25.0           40.0         23.0
    """
    ratings = timed_ratings(trial, instruments)
    rows = []
    for (pid, day, instrument), group in ratings.groupby(
            ["participant_id", "day", "instrument"], sort=True, observed=True):
        before, after = group[group["time_min"] <= 0], group[group["time_min"] > 0]
        row = {"participant_id": pid, "arm": group["arm"].iloc[0], "day": day,
               "infusion_number": group["infusion_number"].iloc[0], "instrument": instrument,
               "baseline": np.nan, "baseline_time_min": np.nan, "peak": np.nan,
               "peak_time_min": np.nan, "peak_change": np.nan, "n_after": len(after),
               "note": pd.NA}
        if len(before):
            row["baseline"] = float(before["total"].iloc[-1])
            row["baseline_time_min"] = float(before["time_min"].iloc[-1])
        if len(after):
            at = after["total"].to_numpy().argmax()
            row["peak"] = float(after["total"].iloc[at])
            row["peak_time_min"] = float(after["time_min"].iloc[at])
            row["peak_change"] = row["peak"] - row["baseline"]
            if before.empty:
                row["note"] = "no rating at or before minute 0: no baseline"
        else:
            row["note"] = "no rating after the start of the infusion"
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(PERI_INFUSION_COLUMNS))
    return out.astype({"participant_id": "string", "arm": "string", "day": "Int64",
                       "infusion_number": "Int64", "instrument": "string", "n_after": "Int64",
                       "note": "string", "baseline": "float64", "baseline_time_min": "float64",
                       "peak": "float64", "peak_time_min": "float64",
                       "peak_change": "float64"})


def peri_infusion_summary(trial: Trial, instruments=TIMED_SCALES) -> pd.DataFrame:
    """Peak ratings after the infusions by instrument, infusion number and arm.

    Parameters
    ----------
    trial : Trial
    instruments : sequence of str

    Returns
    -------
    pandas.DataFrame
        :data:`PERI_SUMMARY_COLUMNS`: over the participants with a peak at that
        infusion (``n_participants``; ``N`` the arm's participants), the mean, SD and
        median of the peak and the mean and SD of its rise from the pre-infusion rating
        (over those with both). Every arm has a row for every infusion number rated in
        some arm (``n_participants`` 0 when none). Arms in the protocol's order.

    Examples
    --------
    >>> import ketex
    >>> peri_infusion_summary(ketex.load_trial(ketex.sample_study_path())).empty
    True
    """
    from ketex.derive.analysis import arm_order

    per = peri_infusion_ratings(trial, instruments)
    per = per[per["peak"].notna()]
    order = arm_order(trial.protocol)
    big_n = trial.participants["arm"].astype(str).value_counts()
    rows = []
    for instrument in [i for i in instruments if i in set(per["instrument"])]:
        mine = per[per["instrument"] == instrument]
        for number in sorted(mine["infusion_number"].dropna().unique()):
            at = mine[mine["infusion_number"] == number]
            for arm in order:
                block = at[at["arm"] == arm]
                peak, rise = block["peak"], block["peak_change"].dropna()
                rows.append({
                    "instrument": instrument, "infusion_number": int(number), "arm": arm,
                    "n_participants": len(block), "N": int(big_n.get(arm, 0)),
                    "peak_mean": peak.mean() if len(peak) else np.nan,
                    "peak_sd": peak.std(ddof=1) if len(peak) > 1 else np.nan,
                    "peak_median": peak.median() if len(peak) else np.nan,
                    "peak_change_mean": rise.mean() if len(rise) else np.nan,
                    "peak_change_sd": rise.std(ddof=1) if len(rise) > 1 else np.nan})
    out = pd.DataFrame(rows, columns=list(PERI_SUMMARY_COLUMNS))
    return out.astype({"instrument": "string", "infusion_number": "int64", "arm": "string",
                       "n_participants": "int64", "N": "int64"})
