"""Plausibility rules: values that each lie in range but do not fit together.

Called from :func:`ketex.study.rules.check_all` after the range checks, on rows no error
has rejected. Bounds live in :data:`PLAUSIBLE`.
"""

from __future__ import annotations

from types import MappingProxyType

import pandas as pd

from ketex.study.problems import LINE, SOURCE_FILE, ProblemLog
from ketex.study.protocol import Protocol

__all__ = ["PLAUSIBLE", "check_plausibility"]

#: Bounds beyond which a value is reported as implausible.
PLAUSIBLE = MappingProxyType(
    {
        "bmi": (15.0, 50.0),  # kg/m^2; outside: a warning (rare, or a unit mix-up)
        "watts_mean": 400.0,  # W; a session's mean power above this is a warning
        # days after the end of the last visit window: assessments and exercise sessions
        # beyond it are errors, events warnings
        "schedule_margin_days": 90,
    }
)


def _where(row: pd.Series) -> str:
    return f"{row.get(SOURCE_FILE)} line {row.get(LINE)}"


def check_plausibility(protocol: Protocol, tables: dict[str, pd.DataFrame],
                       log: ProblemLog) -> None:
    """Run the plausibility rules on the rows that passed every other rule so far."""
    _check_bmi(_kept("participants", tables, log), log)
    _check_schedule(protocol, tables, log)
    _check_watts(_kept("exercise", tables, log), log)


def _kept(name: str, tables: dict[str, pd.DataFrame], log: ProblemLog) -> pd.DataFrame:
    frame = tables[name]
    return frame[~log.rejected_mask(name, frame)]


def _check_bmi(frame: pd.DataFrame, log: ProblemLog) -> None:
    if not {"weight_kg", "height_cm"} <= set(frame.columns):
        return
    bmi = frame["weight_kg"] / (frame["height_cm"] / 100.0) ** 2
    low, high = PLAUSIBLE["bmi"]
    log.flag(
        "participants", frame, (bmi < low) | (bmi > high), "weight_kg", "implausible_bmi",
        lambda row: f"{_where(row)}: weight_kg {row['weight_kg']:g} at height_cm "
        f"{row['height_cm']:g} gives BMI {bmi[row.name]:.1f}, outside {low:g}-{high:g}; check "
        f"the units (a weight in pounds: {row['weight_kg']:g} lb = "
        f"{row['weight_kg'] * 0.45359237:.1f} kg; a height in inches) and the values. Kept "
        "as written",
        severity="warning",
    )


def _check_schedule(protocol: Protocol, tables: dict[str, pd.DataFrame],
                    log: ProblemLog) -> None:
    if not protocol.visits:
        return
    last = max(protocol.visits, key=lambda v: v.window[1])
    margin = PLAUSIBLE["schedule_margin_days"]
    end = last.window[1] + margin
    for name, rule, severity in (("assessments", "beyond_schedule", "error"),
                                 ("exercise", "beyond_schedule", "error"),
                                 ("events", "event_beyond_schedule", "warning")):
        frame = _kept(name, tables, log)
        if "day" not in frame.columns:
            continue
        days = pd.to_numeric(frame["day"], errors="coerce")
        log.flag(
            name, frame, days > end, "day", rule,
            lambda row: f"{_where(row)}: day {row['_value']:g} is more than {margin} days "
            f"after the last scheduled day (day {last.window[1]}, the end of {last.name}'s "
            "window in study.toml); correct the day or the date, or add the visit to "
            "study.toml",
            severity=severity,
        )


def _check_watts(frame: pd.DataFrame, log: ProblemLog) -> None:
    if "watts" not in frame.columns:
        return
    top = PLAUSIBLE["watts_mean"]
    log.flag(
        "exercise", frame, pd.to_numeric(frame["watts"], errors="coerce") > top, "watts",
        "implausible_watts",
        lambda row: f"{_where(row)}: watts {row['_value']:g} is a mean power above {top:g} W, "
        "more than trained cyclists sustain for a session; check for a peak power, a "
        "missing decimal point or another unit. Kept as written",
        severity="warning",
    )
