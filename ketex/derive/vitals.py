"""Vital signs around infusions: change from the pre-infusion value, peaks, thresholds.

:func:`infusion_vitals` gives one row per infusion and test (SBP, DBP, HR, ...): the
pre-infusion baseline, the peak after the start, its rise, whether a threshold was
crossed (SBP above 180 mmHg, DBP above 110 mmHg by default, the limits ketamine and
esketamine labels use to hold a dose) and the minutes until the value came back near
baseline. ``per="measurement"`` gives every measurement of an infusion day with its
baseline and change (ADaM ADVS-like ``BASE`` and ``CHG`` per infusion).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from ketex.study.trial import Trial

__all__ = [
    "INFUSION_VITALS_COLUMNS",
    "MEASUREMENT_COLUMNS",
    "InfusionVitalsOptions",
    "infusion_vitals",
]

INFUSION_VITALS_COLUMNS = (
    "participant_id",
    "arm",
    "day",
    "infusion_number",
    "test",
    "unit",
    "baseline",
    "baseline_time_min",
    "peak",
    "peak_time_min",
    "peak_change",
    "n_after",
    "above_threshold",
    "return_time_min",
    "note",
)
MEASUREMENT_COLUMNS = (
    "participant_id",
    "arm",
    "day",
    "infusion_number",
    "time_min",
    "test",
    "unit",
    "value",
    "baseline",
    "change",
)


@dataclass(frozen=True)
class InfusionVitalsOptions:
    """Thresholds and the return-to-baseline margin of :func:`infusion_vitals`.

    Parameters
    ----------
    thresholds : mapping of test to value
        A post-infusion value strictly above the threshold sets ``above_threshold``.
        Default SBP 180 mmHg and DBP 110 mmHg.
    return_margin : mapping of test to value
        The value is back at baseline when it is at most baseline + margin. Default
        10 mmHg for SBP and DBP, 10 beats/min for HR.

    Examples
    --------
    >>> InfusionVitalsOptions().thresholds["SBP"]
    180.0
    """

    thresholds: MappingProxyType = field(
        default_factory=lambda: MappingProxyType({"SBP": 180.0, "DBP": 110.0}))
    return_margin: MappingProxyType = field(
        default_factory=lambda: MappingProxyType({"SBP": 10.0, "DBP": 10.0, "HR": 10.0}))


def infusion_vitals(
    trial: Trial,
    per: str = "infusion",
    options: InfusionVitalsOptions | None = None,
) -> pd.DataFrame:
    """Vital signs of infusion days against their pre-infusion value.

    Parameters
    ----------
    trial : Trial
    per : {"infusion", "measurement"}
        One row per infusion and test, or one row per measurement of an infusion day.
    options : InfusionVitalsOptions, optional

    Returns
    -------
    pandas.DataFrame
        ``per="infusion"``: ``participant_id, arm, day, infusion_number, test, unit,
        baseline, baseline_time_min, peak, peak_time_min, peak_change, n_after,
        above_threshold, return_time_min, note``. ``per="measurement"``:
        ``participant_id, arm, day, infusion_number, time_min, test, unit, value,
        baseline, change``.

    Notes
    -----
    Only measurements on the day of an infusion with a ``time_min`` are used: the
    baseline is the last one at or before minute 0, the peak the highest after minute 0
    (the first if tied). ``infusion_number`` counts the participant's infusion days
    from 1. ``return_time_min`` is the first time after the peak at which the value is
    at most baseline + margin (0 when the peak itself is within the margin: the value
    never left its baseline); missing, with ``note`` saying why, when it never returns
    in the recorded measurements, or when there is no baseline or no value after the
    start. ``above_threshold`` is missing for tests without a threshold.

    The peak is the highest value, which is what matters for blood pressure and heart
    rate; for SPO2 (where the low is of interest) use ``per="measurement"``. On a day
    with both an infusion and an exercise session, ``time_min`` is read as minutes from
    the infusion.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.study.protocol import Arm, Protocol, Visit
    >>> from ketex.study.validation import build_trial
    >>> protocol = Protocol(study_id="VS", arms=(Arm("A"),), visits=(Visit("BL", 0, (-7, 0)),))
    >>> trial = build_trial(protocol, {
    ...     "participants": pd.DataFrame({"participant_id": ["P1"], "arm": ["A"]}),
    ...     "assessments": pd.DataFrame({"participant_id": ["P1"], "day": [0], "visit": ["BL"],
    ...                                  "instrument": ["MADRS"], "total": [30]}),
    ...     "infusions": pd.DataFrame({"participant_id": ["P1"], "day": [1], "drug": ["ketamine"],
    ...                                "dose": [0.5], "dose_unit": ["mg/kg"]}),
    ...     "vitals": pd.DataFrame({"participant_id": "P1", "day": 1, "test": "SBP",
    ...                             "unit": "mmHg", "time_min": [-5, 20, 40, 120],
    ...                             "value": [120, 150, 185, 128]})})
    >>> row = infusion_vitals(trial).iloc[0]
    >>> print(row["baseline"], row["peak"], row["peak_change"], row["return_time_min"])
    120.0 185.0 65.0 120.0
    >>> bool(row["above_threshold"])
    True
    """
    if per not in ("infusion", "measurement"):
        raise ValueError(f"per must be 'infusion' or 'measurement', got {per!r}")
    options = options if options is not None else InfusionVitalsOptions()
    measured = _on_infusion_days(trial)
    if per == "measurement":
        out = measured[list(MEASUREMENT_COLUMNS)].reset_index(drop=True)
        return out.astype({c: t for c, t in _DTYPES.items() if c in out.columns})
    rows = [
        _summarise(key, group, options)
        for key, group in measured.groupby(
            ["participant_id", "day", "test"], sort=True, observed=True)
    ]
    out = pd.DataFrame(rows, columns=list(INFUSION_VITALS_COLUMNS))
    return out.astype({c: t for c, t in _DTYPES.items() if c in out.columns})


_DTYPES = {"participant_id": "string", "arm": "string", "day": "Int64",
           "infusion_number": "Int64", "test": "string", "unit": "string", "n_after": "Int64",
           "above_threshold": "boolean", "note": "string",
           **dict.fromkeys(("baseline", "baseline_time_min", "peak", "peak_time_min",
                            "peak_change", "return_time_min", "time_min", "value", "change"),
                           "float64")}


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})


def _on_infusion_days(trial: Trial) -> pd.DataFrame:
    vitals = trial.vitals
    if vitals.empty or "time_min" not in vitals.columns:
        return _empty(MEASUREMENT_COLUMNS).iloc[:0]
    days = trial.infusions[["participant_id", "day"]].drop_duplicates().sort_values(
        ["participant_id", "day"])
    days = days.assign(infusion_number=days.groupby("participant_id").cumcount() + 1)
    measured = vitals.merge(days, on=["participant_id", "day"], how="inner")
    measured = measured[measured["time_min"].notna()].copy()
    measured["arm"] = measured["participant_id"].map(trial.arms).astype("string")
    base = (measured[measured["time_min"] <= 0]
            .sort_values("time_min", kind="mergesort")
            .groupby(["participant_id", "day", "test"], observed=True)["value"].last()
            .rename("baseline"))
    measured = measured.join(base, on=["participant_id", "day", "test"])
    measured["change"] = measured["value"] - measured["baseline"]
    measured["infusion_number"] = measured["infusion_number"].astype("Int64")
    return measured.sort_values(["participant_id", "day", "test", "time_min"],
                                kind="mergesort")


def _summarise(key, group: pd.DataFrame, options: InfusionVitalsOptions) -> dict:
    participant_id, day, test = key
    group = group.sort_values("time_min", kind="mergesort")
    before, after = group[group["time_min"] <= 0], group[group["time_min"] > 0]
    row = {
        "participant_id": participant_id, "arm": group["arm"].iloc[0], "day": day,
        "infusion_number": group["infusion_number"].iloc[0], "test": test,
        "unit": group["unit"].iloc[0], "baseline": np.nan, "baseline_time_min": np.nan,
        "peak": np.nan, "peak_time_min": np.nan, "peak_change": np.nan,
        "n_after": len(after), "above_threshold": pd.NA, "return_time_min": np.nan,
        "note": pd.NA,
    }
    if len(before):
        row["baseline"] = float(before["value"].iloc[-1])
        row["baseline_time_min"] = float(before["time_min"].iloc[-1])
    if after.empty:
        row["note"] = "no measurement after the start of the infusion"
        return row
    peak_at = after["value"].to_numpy().argmax()
    row["peak"] = float(after["value"].iloc[peak_at])
    row["peak_time_min"] = float(after["time_min"].iloc[peak_at])
    threshold = options.thresholds.get(test)
    if threshold is not None:
        row["above_threshold"] = bool((after["value"] > threshold).any())
    if before.empty:
        row["note"] = "no measurement at or before minute 0: no baseline"
        return row
    row["peak_change"] = row["peak"] - row["baseline"]
    margin = options.return_margin.get(test, 0.0)
    if row["peak"] <= row["baseline"] + margin:
        row["return_time_min"] = 0.0
        row["note"] = f"never more than {margin:g} {row['unit']} above baseline"
        return row
    later = after.iloc[peak_at:]
    back = later[later["value"] <= row["baseline"] + margin]
    if len(back):
        row["return_time_min"] = float(back["time_min"].iloc[0])
    else:
        row["note"] = (f"not back within {margin:g} {row['unit']} of baseline by the last "
                       f"measurement (minute {after['time_min'].iloc[-1]:g})")
    return row
