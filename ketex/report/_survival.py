"""What the survival table and the Kaplan-Meier figure need from :mod:`ketex.survival`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketex.survival import cox, kaplan_meier, logrank_test

__all__ = ["hazard_ratios", "kaplan_meier", "logrank_p"]


def hazard_ratios(frame: pd.DataFrame, *, time: str, event: str, group: str,
                  conf_level: float = 0.95) -> pd.DataFrame:
    """Cox hazard ratio of each arm against the first category of ``group``:
    ``group`` (``"B - A"``), ``hazard_ratio, ci_low, ci_high, p_value``.

    A comparison in which the arm or the reference arm has no event has no finite
    estimate (the Cox likelihood is monotone): its numbers are missing.
    """
    levels = list(frame[group].cat.categories)
    present = frame[frame[event].notna() & frame[time].notna()]
    if present[event].sum() == 0 or present[group].nunique() < 2:
        return pd.DataFrame(columns=["group", "hazard_ratio", "ci_low", "ci_high", "p_value"])
    events = present.groupby(group, observed=False)[event].sum()
    estimable = [level for level in levels[1:] if events.get(level, 0) > 0]
    coef = None
    if events.get(levels[0], 0) > 0 and estimable:
        fit = cox(present, [group], time=time, event=event, conf_level=conf_level)
        coef = fit.coef.set_index("term")
    rows = []
    for level in levels[1:]:
        row = {"group": f"{level} - {levels[0]}", "hazard_ratio": np.nan, "ci_low": np.nan,
               "ci_high": np.nan, "p_value": np.nan}
        if coef is not None and level in estimable:
            r = coef.loc[f"{group}[T.{level}]"]
            row |= {"hazard_ratio": r["hazard_ratio"], "ci_low": r["hr_ci_low"],
                    "ci_high": r["hr_ci_high"], "p_value": r["p_value"]}
        rows.append(row)
    return pd.DataFrame(rows)


def logrank_p(frame: pd.DataFrame, *, time: str, event: str, group: str) -> float:
    """Two-sided p of the log-rank test across the groups."""
    return float(logrank_test(frame, time=time, event=event, group=group).p_value)
