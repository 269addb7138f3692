"""What the survival table and the Kaplan-Meier figure need from :mod:`ketex.survival`."""

from __future__ import annotations

import pandas as pd

from ketex.survival import cox, kaplan_meier, logrank_test

__all__ = ["hazard_ratios", "kaplan_meier", "logrank_p"]


def hazard_ratios(frame: pd.DataFrame, *, time: str, event: str, group: str,
                  conf_level: float = 0.95) -> pd.DataFrame:
    """Cox hazard ratio of each arm against the first category of ``group``:
    ``group`` (``"B - A"``), ``hazard_ratio, ci_low, ci_high, p_value``."""
    levels = list(frame[group].cat.categories)
    present = frame[frame[event].notna() & frame[time].notna()]
    if present[event].sum() == 0 or present[group].nunique() < 2:
        return pd.DataFrame(columns=["group", "hazard_ratio", "ci_low", "ci_high", "p_value"])
    fit = cox(present, [group], time=time, event=event, conf_level=conf_level)
    rows = []
    for level in levels[1:]:
        term = f"{group}[T.{level}]"
        r = fit.coef.set_index("term").loc[term]
        rows.append({"group": f"{level} - {levels[0]}", "hazard_ratio": r["hazard_ratio"],
                     "ci_low": r["hr_ci_low"], "ci_high": r["hr_ci_high"],
                     "p_value": r["p_value"]})
    return pd.DataFrame(rows)


def logrank_p(frame: pd.DataFrame, *, time: str, event: str, group: str) -> float:
    """Two-sided p of the log-rank test across the groups."""
    return float(logrank_test(frame, time=time, event=event, group=group).p_value)
