"""Plausibility rules: values that each lie in range but do not fit together.

Called from :func:`ketex.study.rules.check_all` after the range checks, on rows no error
has rejected. Bounds live in :data:`PLAUSIBLE`. Infusions are checked against the days
their arm plans for their drug (``infusion_off_schedule``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pandas as pd

from ketex.study.problems import LINE, SOURCE_FILE, ProblemLog
from ketex.study.protocol import Protocol

__all__ = ["PLAUSIBLE", "check_plausibility"]

#: Bounds beyond which a value is reported as implausible.
PLAUSIBLE: Mapping[str, Any] = MappingProxyType(
    {
        "bmi": (15.0, 50.0),  # kg/m^2; outside: a warning (rare, or a unit mix-up)
        "watts_mean": 400.0,  # W; a session's mean power above this is a warning
        # days after the end of the last visit window: assessments and exercise sessions
        # beyond it are errors, events warnings
        "schedule_margin_days": 90,
        # days an infusion may lie from the nearest day its arm plans for its drug (a
        # delayed or brought-forward infusion); further: a warning, the row kept
        "infusion_window_days": 3,
    }
)


def _where(row: pd.Series) -> str:
    return f"{row.get(SOURCE_FILE)} line {row.get(LINE)}"


def check_plausibility(protocol: Protocol, tables: dict[str, pd.DataFrame],
                       log: ProblemLog) -> None:
    """Run the plausibility rules on the rows that passed every other rule so far."""
    _check_bmi(_kept("participants", tables, log), log)
    _check_schedule(protocol, tables, log)
    _check_infusion_days(protocol, tables, log)
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
        f"{row['height_cm']:g} gives BMI {bmi.at[row.name]:.1f}, outside {low:g}-{high:g}; check "
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


def _planned_days(protocol: Protocol) -> dict[tuple[str | None, str], tuple[int, ...]]:
    """The planned days of each (arm, drug), over all of the arm's treatments of it."""
    planned: dict[tuple[str, str], set[int]] = {}
    for arm in protocol.arms:
        for treatment in arm.treatments:
            planned.setdefault((arm.code, treatment.drug), set()).update(treatment.days)
    return {key: tuple(sorted(days)) for key, days in planned.items() if days}


def _check_infusion_days(protocol: Protocol, tables: dict[str, pd.DataFrame],
                         log: ProblemLog) -> None:
    """An infusion far from every day its arm plans for its drug: a warning, kept.

    Drugs the arm does not give are ``drug_not_in_arm`` already; a protocol without
    treatments plans no day to compare with.
    """
    planned = _planned_days(protocol)
    frame = _kept("infusions", tables, log)
    if not planned or frame.empty or not {"day", "drug", "participant_id"} <= set(frame.columns):
        return
    people = _kept("participants", tables, log)
    arm_of = dict(zip(people["participant_id"], people["arm"], strict=True))
    window = PLAUSIBLE["infusion_window_days"]
    days = pd.to_numeric(frame["day"], errors="coerce")
    plans = [planned.get((arm_of.get(who), drug))
             for who, drug in zip(frame["participant_id"], frame["drug"], strict=True)]
    distance = pd.Series(
        [min(abs(day - d) for d in plan) if plan and pd.notna(day) else 0.0
         for plan, day in zip(plans, days, strict=True)],
        index=frame.index,
    )
    plan_of = dict(zip(frame.index, plans, strict=True))

    def message(row: pd.Series) -> str:
        plan = plan_of[row.name]
        code = arm_of[row["participant_id"]]
        after = row["_value"] > plan[-1]
        where = (f"{row['_value'] - plan[-1]:g} days after its last, day {plan[-1]}" if after
                 else f"{distance.at[row.name]:g} days from the nearest")
        return (f"{_where(row)}: participant {row['participant_id']} of arm {code} received "
                f"{row['drug']} on day {row['_value']:g}, which arm {code} does not plan "
                f"(its {row['drug']} days in study.toml: {', '.join(map(str, plan))}; this is "
                f"{where}, more than the {window}-day window); correct the day or the date, "
                "or the arm's days in study.toml. Kept as written: if it happened, it is a "
                "protocol deviation")

    log.flag("infusions", frame, distance > window, "day", "infusion_off_schedule", message,
             severity="warning")


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
