"""The proportions, risk differences and NNTs the endpoint table prints, from
:mod:`ketex.effects` (Wilson 1927: :func:`ketex.effects.wilson`, re-exported here;
Newcombe 1998b method 10; Altman 1998)."""

from __future__ import annotations

import math

from ketex import effects
from ketex.effects import wilson

__all__ = ["nnt", "risk_difference", "wilson"]


def risk_difference(
    x1: int, n1: int, x2: int, n2: int, conf_level: float = 0.95
) -> tuple[float, float, float]:
    """``(x1/n1 - x2/n2, ci_low, ci_high)`` with Newcombe's hybrid score interval.

    Examples
    --------
    >>> [round(v, 4) for v in risk_difference(56, 70, 48, 80)]
    [0.2, 0.0524, 0.3339]
    """
    if n1 == 0 or n2 == 0:
        return (math.nan, math.nan, math.nan)
    row = effects.risk_difference(x1, n1, x2, n2, conf_level=conf_level).iloc[0]
    return float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])


def nnt(
    x_treated: int, n_treated: int, x_control: int, n_control: int, *, desirable: bool,
    conf_level: float = 0.95,
) -> effects.NNTResult | None:
    """The number needed to treat (Altman 1998); None when an arm is empty.

    Examples
    --------
    >>> r = nnt(30, 50, 18, 50, desirable=True)
    >>> r.text, r.rounded_text
    ('NNTB 4.2 (95% CI NNTB 2.4 to 22.6)', 'NNTB 5 (95% CI NNTB 3 to 23)')
    """
    if min(n_treated, n_control) == 0:
        return None
    return effects.number_needed_to_treat(
        x_treated, n_treated, x_control, n_control,
        outcome="desirable" if desirable else "undesirable", conf_level=conf_level,
    )  # fmt: skip

