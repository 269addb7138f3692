"""Effect summaries researchers report: rates, risk differences, NNT, odds and risk ratios.

Response, remission and relapse rates with Wilson intervals, differences between arms
with Newcombe's hybrid score interval, the number needed to treat with Altman's
convention, and odds / risk ratios with log intervals. Hazard ratios come from
:func:`ketex.survival.cox`.

Every function takes counts (scalars or arrays that broadcast) and returns a tidy
DataFrame with fixed columns, except :func:`number_needed_to_treat`, whose interval may
pass through infinity and so gets a small result object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "NNTResult",
    "number_needed_to_treat",
    "odds_ratio",
    "rate_ci",
    "rate_table",
    "relative_risk",
    "risk_difference",
    "wilson",
]

RateMethod = Literal["wilson", "wilson_cc", "exact", "wald"]
DifferenceMethod = Literal["newcombe", "newcombe_cc", "wald"]


def _z(conf_level: float) -> float:
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be between 0 and 1, got {conf_level!r}.")
    return float(stats.norm.ppf(1 - (1 - conf_level) / 2))


def _counts(**arguments) -> list[np.ndarray]:
    """Whole numbers >= 0, events <= totals (given in pairs), totals > 0, broadcast."""
    names = list(arguments)
    try:
        arrays = np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in arguments.values()])
    except ValueError as error:
        raise ValueError(f"{', '.join(names)} must have shapes that broadcast: {error}") from None
    problems = []
    for name, values in zip(names, arrays, strict=True):
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
        if bad.any():
            problems.append(
                f"{name} must be whole numbers >= 0; positions {np.flatnonzero(bad)[:5].tolist()}"
                " are not"
            )
    for (x_name, x), (n_name, n) in zip(
        zip(names[::2], arrays[::2], strict=True),
        zip(names[1::2], arrays[1::2], strict=True),
        strict=True,
    ):
        if (n <= 0).any():
            problems.append(f"{n_name} must be positive; {np.flatnonzero(n <= 0)[:5].tolist()}")
        if (x > n).any():
            problems.append(
                f"{x_name} must not exceed {n_name}; positions {np.flatnonzero(x > n)[:5].tolist()}"
            )
    if problems:
        raise ValueError("; ".join(problems) + ".")
    return [np.atleast_1d(a).ravel() for a in arrays]


def _wilson(x, n, z):
    p = x / n
    centre = p + z**2 / (2 * n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    denominator = 1 + z**2 / n
    # at 0 or n successes one limit is the rate itself; rounding must not cross it
    low = np.minimum(np.maximum((centre - half) / denominator, 0.0), p)
    high = np.maximum(np.minimum((centre + half) / denominator, 1.0), p)
    return low, high


def _wilson_cc(x, n, z):
    p = x / n
    q = 1 - p
    with np.errstate(invalid="ignore"):  # the square roots are only used where x > 0 / x < n
        low = (2 * n * p + z**2 - 1 - z * np.sqrt(z**2 - 2 - 1 / n + 4 * p * (n * q + 1))) / (
            2 * (n + z**2)
        )
        high = (2 * n * p + z**2 + 1 + z * np.sqrt(z**2 + 2 - 1 / n + 4 * p * (n * q - 1))) / (
            2 * (n + z**2)
        )
    return np.where(x == 0, 0.0, low), np.where(x == n, 1.0, high)


def _exact(x, n, conf_level):
    alpha = 1 - conf_level
    with np.errstate(invalid="ignore"):
        low = stats.beta.ppf(alpha / 2, x, n - x + 1)
        high = stats.beta.ppf(1 - alpha / 2, x + 1, n - x)
    return np.where(x == 0, 0.0, low), np.where(x == n, 1.0, high)


def _rate_interval(x, n, method, conf_level):
    z = _z(conf_level)
    if method == "wilson":
        return _wilson(x, n, z)
    if method == "wilson_cc":
        return _wilson_cc(x, n, z)
    if method == "exact":
        return _exact(x, n, conf_level)
    if method == "wald":
        p = x / n
        half = z * np.sqrt(p * (1 - p) / n)
        return np.maximum(p - half, 0.0), np.minimum(p + half, 1.0)
    raise ValueError(f"method must be 'wilson', 'wilson_cc', 'exact' or 'wald', got {method!r}.")


def rate_ci(
    successes, n, *, method: RateMethod = "wilson", conf_level: float = 0.95
) -> pd.DataFrame:
    """A proportion (response, remission or relapse rate) with its confidence interval.

    Parameters
    ----------
    successes : int or array-like of int
        Number of participants with the outcome.
    n : int or array-like of int
        Number of participants.
    method : {"wilson", "wilson_cc", "exact", "wald"}
        Wilson score interval (the default; Newcombe 1998a method 3), with continuity
        correction (method 4), Clopper-Pearson "exact" (method 5) or the simple Wald
        interval truncated to [0, 1] (method 1; poor coverage, for comparison only).
    conf_level : float

    Returns
    -------
    pandas.DataFrame
        ``successes, n, rate, ci_low, ci_high, method``, one row per input.

    Notes
    -----
    Wilson: ``(p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``.

    References
    ----------
    Wilson EB (1927). JASA 22:209-212.
    Newcombe RG (1998a). Two-sided confidence intervals for the single proportion:
    comparison of seven methods. Stat Med 17:857-872.

    Examples
    --------
    >>> from ketex.effects import rate_ci
    >>> rate_ci([81, 0], [263, 20]).round(4)
       successes      n    rate  ci_low  ci_high  method
    0       81.0  263.0  0.3080  0.2553   0.3662  wilson
    1        0.0   20.0  0.0000  0.0000   0.1611  wilson
    """
    x, total = _counts(successes=successes, n=n)
    low, high = _rate_interval(x, total, method, conf_level)
    return pd.DataFrame(
        {
            "successes": x,
            "n": total,
            "rate": x / total,
            "ci_low": low,
            "ci_high": high,
            "method": method,
        }
    )


def wilson(successes: int, n: int, conf_level: float = 0.95) -> tuple[float, float, float]:
    """``(rate, ci_low, ci_high)`` of one proportion with the Wilson score interval.

    The one Wilson interval of ketex for a single count: the endpoint table's rates and
    the power analyses' rejection and coverage rates use it; :func:`rate_ci` is the same
    interval for arrays, as a table. Cheaper than ``rate_ci`` (no DataFrame), for loops.

    Parameters
    ----------
    successes, n : int
        Events and participants (or rejections and simulations); ``n = 0`` gives NaN.
    conf_level : float

    Returns
    -------
    tuple of float

    Examples
    --------
    >>> [round(v, 4) for v in wilson(81, 263)]  # as rate_ci(81, 263)
    [0.308, 0.2553, 0.3662]
    >>> wilson(0, 20)[1], wilson(20, 20)[2]
    (0.0, 1.0)
    >>> wilson(0, 0)
    (nan, nan, nan)
    """
    z = _z(conf_level)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    x, total = _counts(successes=successes, n=n)
    if x.size != 1:
        raise ValueError(f"wilson takes one proportion, got {x.size}; use rate_ci for "
                         "several.")
    low, high = _wilson(x, total, z)
    return float(x[0] / total[0]), float(low[0]), float(high[0])


def rate_table(
    data: pd.DataFrame,
    *,
    outcome: str,
    group: str | None = None,
    method: RateMethod = "wilson",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Rates of a 0/1 outcome by group (e.g. remission at week 12 by arm).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant.
    outcome : str
        Column with 1/True (outcome present), 0/False, or missing (left out and counted).
    group : str, optional
        Column with the groups (Categorical order, otherwise sorted).
    method, conf_level
        As :func:`rate_ci`.

    Returns
    -------
    pandas.DataFrame
        ``group, successes, n, n_missing, rate, ci_low, ci_high, method``.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.effects import rate_table
    >>> d = pd.DataFrame({"arm": ["A", "A", "A", "B", "B", "B"],
    ...                   "remission": [1, 0, 1, 0, None, 1]})
    >>> rate_table(d, outcome="remission", group="arm")[["group", "successes", "n", "n_missing"]]
      group  successes  n  n_missing
    0     A        2.0  3          0
    1     B        1.0  2          1
    """
    from ketex.survival._data import check_columns, ordered_levels

    check_columns(data, {"outcome": outcome, "group": group}, "rate_table")
    values = data[outcome]
    if pd.api.types.is_bool_dtype(values):
        numbers = values.astype("boolean").to_numpy(dtype=float, na_value=np.nan)
    elif pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        raise ValueError(
            f"outcome column {outcome!r} must be 0/1 or True/False, its dtype is {values.dtype}."
        )
    bad = ~np.isnan(numbers) & ~np.isin(numbers, (0.0, 1.0))
    if bad.any():
        raise ValueError(
            f"outcome column {outcome!r} must be 0/1 or True/False; {int(bad.sum())} rows are "
            f"not (first rows: {data.index[bad][:5].tolist()})."
        )
    if group is None:
        labels, levels = np.zeros(len(data), dtype=np.int64), ["all"]
        present = np.ones(len(data), dtype=bool)
    else:
        present = data[group].notna().to_numpy()
        levels = ordered_levels(data[group])
        lookup = {level: i for i, level in enumerate(levels)}
        labels = np.array([lookup.get(v, -1) for v in data[group].tolist()], dtype=np.int64)
    rows = []
    for i, level in enumerate(levels):
        inside = present & (labels == i)
        observed = inside & ~np.isnan(numbers)
        rows.append(
            (level, numbers[observed].sum(), observed.sum(), int((inside & ~observed).sum()))
        )
    table = pd.DataFrame(rows, columns=["group", "successes", "n", "n_missing"])
    if (table["n"] == 0).any():
        empty = table.loc[table["n"] == 0, "group"].tolist()
        raise ValueError(f"groups {empty} have no non-missing {outcome!r} values.")
    rates = rate_ci(table["successes"], table["n"], method=method, conf_level=conf_level)
    return pd.concat([table, rates.drop(columns=["successes", "n"])], axis=1)


def risk_difference(
    x1, n1, x2, n2, *, method: DifferenceMethod = "newcombe", conf_level: float = 0.95
) -> pd.DataFrame:
    """Difference between two independent proportions, ``x1/n1 - x2/n2``, with its CI.

    Parameters
    ----------
    x1, n1 : int or array-like
        Events and participants in group 1 (e.g. the treated arm).
    x2, n2 : int or array-like
        Events and participants in group 2 (e.g. control).
    method : {"newcombe", "newcombe_cc", "wald"}
        Newcombe's hybrid score interval from Wilson intervals (the default; Newcombe
        1998b method 10), the same from continuity-corrected Wilson intervals (method
        11), or the Wald interval (method 1).
    conf_level : float

    Returns
    -------
    pandas.DataFrame
        ``rate_1, rate_2, estimate, ci_low, ci_high, method``.

    Notes
    -----
    With Wilson limits ``(l1, u1)`` and ``(l2, u2)``, ``d = p1 - p2``:
    ``d - sqrt((p1 - l1)^2 + (u2 - p2)^2)`` to ``d + sqrt((u1 - p1)^2 + (p2 - l2)^2)``.

    References
    ----------
    Newcombe RG (1998b). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Stat Med 17:873-890.

    Examples
    --------
    >>> from ketex.effects import risk_difference
    >>> risk_difference(56, 70, 48, 80).round(4)
       rate_1  rate_2  estimate  ci_low  ci_high    method
    0     0.8     0.6       0.2  0.0524   0.3339  newcombe
    """
    a, m, b, k = _counts(x1=x1, n1=n1, x2=x2, n2=n2)
    p1, p2 = a / m, b / k
    d = p1 - p2
    if method in ("newcombe", "newcombe_cc"):
        rate_method = "wilson" if method == "newcombe" else "wilson_cc"
        l1, u1 = _rate_interval(a, m, rate_method, conf_level)
        l2, u2 = _rate_interval(b, k, rate_method, conf_level)
        low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    elif method == "wald":
        z = _z(conf_level)
        half = z * np.sqrt(p1 * (1 - p1) / m + p2 * (1 - p2) / k)
        low, high = np.maximum(d - half, -1.0), np.minimum(d + half, 1.0)
    else:
        raise ValueError(f"method must be 'newcombe', 'newcombe_cc' or 'wald', got {method!r}.")
    return pd.DataFrame(
        {"rate_1": p1, "rate_2": p2, "estimate": d, "ci_low": low, "ci_high": high,
         "method": method}
    )  # fmt: skip


@dataclass(frozen=True)
class NNTResult:
    """Number needed to treat, with Altman's (1998) interval (immutable).

    Attributes
    ----------
    nnt : float
        ``1 / |benefit|``, unrounded (:attr:`rounded_text` prints it rounded up);
        ``inf`` when the risk difference is 0.
    kind : str
        ``"NNTB"`` (benefit: treatment improves the outcome), ``"NNTH"`` (harm) or
        ``"none"`` (no difference).
    risk_difference, rd_ci_low, rd_ci_high : float
        ``rate_treated - rate_control`` and its interval.
    benefit, benefit_ci_low, benefit_ci_high : float
        The risk difference oriented so that positive is good for the treated: equal to
        it for a desirable outcome (response, remission), its negative for an
        undesirable one (relapse).
    ci_includes_infinity : bool
        True when the benefit interval includes 0: the NNT interval then runs from one
        limit through infinity to the other (Altman's "NNTH a to infinity to NNTB b").
    nntb_limit, nnth_limit : float or None
        With an interval through infinity: the NNTB limit ``1 / benefit_ci_high`` and
        the NNTH limit ``1 / |benefit_ci_low|``. Otherwise the interval is
        ``[ci_low, ci_high]`` of the same kind as ``kind``.
    ci_low, ci_high : float
        The interval of ``nnt`` when it does not include infinity (NaN otherwise).
    conf_level : float
    outcome : str
    """

    nnt: float
    kind: str
    risk_difference: float
    rd_ci_low: float
    rd_ci_high: float
    benefit: float
    benefit_ci_low: float
    benefit_ci_high: float
    ci_includes_infinity: bool
    nntb_limit: float | None
    nnth_limit: float | None
    ci_low: float
    ci_high: float
    conf_level: float
    outcome: str

    @property
    def text(self) -> str:
        """The result unrounded (one decimal) in Altman's (1998) form, e.g. ``NNTB 10.3
        (95% CI NNTH 25.0 to infinity to NNTB 4.2)``; :attr:`rounded_text` is the form
        a table prints."""
        level = f"{100 * self.conf_level:g}% CI"
        head = (
            "no difference (NNT infinite)" if self.kind == "none" else f"{self.kind} {self.nnt:.1f}"
        )
        if self.ci_includes_infinity:
            return (
                f"{head} ({level} NNTH {self.nnth_limit:.1f} to infinity to "
                f"NNTB {self.nntb_limit:.1f})"
            )
        return f"{head} ({level} {self.kind} {self.ci_low:.1f} to {self.ci_high:.1f})"

    @property
    def rounded_text(self) -> str:
        """The result as journals print it: the NNT and its limits rounded up to whole
        participants, infinity as ``\u221e`` (Altman 1998), e.g. ``NNTB 11 (95% CI NNTH
        25 to \u221e to NNTB 5)``.

        Examples
        --------
        >>> from ketex.effects import number_needed_to_treat
        >>> number_needed_to_treat(30, 50, 18, 50, outcome="desirable").rounded_text
        'NNTB 5 (95% CI NNTB 3 to 23)'
        >>> number_needed_to_treat(12, 40, 15, 40, outcome="undesirable").rounded_text
        'NNTB 14 (95% CI NNTH 8 to \u221e to NNTB 4)'
        """
        level = f"{100 * self.conf_level:g}% CI"
        head = (
            "no difference (NNT \u221e)" if self.kind == "none"
            else f"{self.kind} {_whole_up(self.nnt)}"
        )  # fmt: skip
        if self.ci_includes_infinity:
            return (
                f"{head} ({level} NNTH {_whole_up(self.nnth_limit)} to \u221e to "
                f"NNTB {_whole_up(self.nntb_limit)})"
            )
        return (
            f"{head} ({level} {self.kind} {_whole_up(self.ci_low)} to "
            f"{_whole_up(self.ci_high)})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row: ``kind, nnt, ci_low, ci_high, nntb_limit, nnth_limit,
        risk_difference, rd_ci_low, rd_ci_high, text``."""
        return pd.DataFrame(
            [{"kind": self.kind, "nnt": self.nnt, "ci_low": self.ci_low,
              "ci_high": self.ci_high, "nntb_limit": self.nntb_limit,
              "nnth_limit": self.nnth_limit, "risk_difference": self.risk_difference,
              "rd_ci_low": self.rd_ci_low, "rd_ci_high": self.rd_ci_high,
              "text": self.text}]
        )  # fmt: skip


def _whole_up(value: float | None) -> str:
    """``value`` rounded up to a whole number (``\u221e`` for infinity); a reciprocal
    that is whole up to rounding error (``1 / (1 / 18)``) stays that whole number."""
    if value is None or math.isnan(value):
        return "\u2013"
    if math.isinf(value):
        return "\u221e"
    return str(math.ceil(round(value, 9)))


def _reciprocal(value: float) -> float:
    return float("inf") if value == 0 else 1.0 / abs(value)


def number_needed_to_treat(
    x_treated: int,
    n_treated: int,
    x_control: int,
    n_control: int,
    *,
    outcome: Literal["desirable", "undesirable"],
    method: DifferenceMethod = "newcombe",
    conf_level: float = 0.95,
) -> NNTResult:
    """Number needed to treat for one more participant to benefit (or be harmed).

    Parameters
    ----------
    x_treated, n_treated : int
        Participants with the outcome, and in total, in the treated arm.
    x_control, n_control : int
        The same in the control arm.
    outcome : {"desirable", "undesirable"}
        Whether the counted outcome is good (response, remission: more is benefit) or
        bad (relapse: fewer is benefit). Required, because the sign depends on it.
    method : {"newcombe", "newcombe_cc", "wald"}
        Interval for the risk difference (:func:`risk_difference`).
    conf_level : float

    Returns
    -------
    NNTResult

    Notes
    -----
    ``NNT = 1 / |RD|``. The interval is the reciprocal of the risk difference's
    interval. When that interval includes 0 the NNT interval is not finite: it runs from
    NNTH ``1/|lower|`` through infinity to NNTB ``1/upper`` (Altman 1998), never a
    "negative NNT" interval.

    References
    ----------
    Altman DG (1998). Confidence intervals for the number needed to treat. BMJ
    317:1309-1312.

    Examples
    --------
    >>> from ketex.effects import number_needed_to_treat
    >>> number_needed_to_treat(30, 50, 18, 50, outcome="desirable").text
    'NNTB 4.2 (95% CI NNTB 2.4 to 22.6)'
    >>> number_needed_to_treat(12, 40, 15, 40, outcome="undesirable").text
    'NNTB 13.3 (95% CI NNTH 7.8 to infinity to NNTB 3.7)'
    """
    if outcome not in ("desirable", "undesirable"):
        raise ValueError(
            f"outcome must be 'desirable' (e.g. response) or 'undesirable' (e.g. relapse), "
            f"got {outcome!r}."
        )
    for name, value in {"x_treated": x_treated, "n_treated": n_treated,
                        "x_control": x_control, "n_control": n_control}.items():  # fmt: skip
        if np.ndim(value) != 0:
            raise ValueError(f"{name} must be a single count; use risk_difference for arrays.")
    row = risk_difference(
        x_treated, n_treated, x_control, n_control, method=method, conf_level=conf_level
    ).iloc[0]
    rd, low, high = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
    sign = 1.0 if outcome == "desirable" else -1.0
    benefit = sign * rd
    b_low, b_high = sorted((sign * low, sign * high))
    kind = "NNTB" if benefit > 0 else "NNTH" if benefit < 0 else "none"
    through_infinity = b_low <= 0 <= b_high
    nntb: float | None
    nnth: float | None
    if through_infinity:
        ci_low = ci_high = float("nan")
        nntb, nnth = _reciprocal(b_high), _reciprocal(b_low)
    else:
        ci_low, ci_high = sorted((_reciprocal(b_low), _reciprocal(b_high)))
        nntb = nnth = None
    return NNTResult(
        nnt=_reciprocal(benefit),
        kind=kind,
        risk_difference=rd,
        rd_ci_low=low,
        rd_ci_high=high,
        benefit=benefit,
        benefit_ci_low=b_low,
        benefit_ci_high=b_high,
        ci_includes_infinity=through_infinity,
        nntb_limit=nntb,
        nnth_limit=nnth,
        ci_low=ci_low,
        ci_high=ci_high,
        conf_level=float(conf_level),
        outcome=outcome,
    )


def _two_by_two(x1, n1, x2, n2, correction):
    a, m, b, k = _counts(x1=x1, n1=n1, x2=x2, n2=n2)
    cells = np.column_stack([a, m - a, b, k - b])
    zero = (cells == 0).any(axis=1)
    if correction < 0:
        raise ValueError(f"correction must be >= 0, got {correction!r}.")
    added = np.where(zero, float(correction), 0.0)
    return cells + added[:, None], added


def odds_ratio(
    x1, n1, x2, n2, *, conf_level: float = 0.95, correction: float = 0.5
) -> pd.DataFrame:
    """Odds ratio of group 1 vs group 2 with Woolf's logit interval.

    Parameters
    ----------
    x1, n1, x2, n2 : int or array-like
        Events and totals in groups 1 and 2.
    conf_level : float
    correction : float
        Added to all four cells of a table that has a zero cell (Haldane-Anscombe;
        the default 0.5); 0 leaves zero cells alone (estimate 0 or inf, and an
        undefined (NaN) limit).

    Returns
    -------
    pandas.DataFrame
        ``estimate, se_log, ci_low, ci_high, correction`` (the amount added, 0 when
        none was needed).

    Notes
    -----
    ``OR = a d / (b c)``, ``se(log OR) = sqrt(1/a + 1/b + 1/c + 1/d)``,
    interval ``exp(log OR -/+ z se)``.

    References
    ----------
    Woolf B (1955). Ann Hum Genet 19:251-253.
    Fagerland MW, Lydersen S, Laake P (2015). Recommended confidence intervals for two
    independent binomial proportions. Stat Methods Med Res 24:224-254.

    Examples
    --------
    >>> from ketex.effects import odds_ratio
    >>> odds_ratio(7, 34, 1, 34).round(3)
       estimate  se_log  ci_low  ci_high  correction
    0     8.556     1.1    0.99     73.9         0.0
    """
    cells, added = _two_by_two(x1, n1, x2, n2, correction)
    a, b, c, d = cells.T
    z = _z(conf_level)
    with np.errstate(divide="ignore", invalid="ignore"):  # zero cells, no correction
        log_or = np.log(a) + np.log(d) - np.log(b) - np.log(c)
        se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        low, high = np.exp(log_or - z * se), np.exp(log_or + z * se)
    return pd.DataFrame(
        {"estimate": np.exp(log_or), "se_log": se, "ci_low": low, "ci_high": high,
         "correction": added}
    )  # fmt: skip


def relative_risk(
    x1, n1, x2, n2, *, conf_level: float = 0.95, correction: float = 0.5
) -> pd.DataFrame:
    """Risk ratio ``(x1/n1) / (x2/n2)`` with the Katz log interval.

    Parameters
    ----------
    x1, n1, x2, n2 : int or array-like
    conf_level : float
    correction : float
        Added to the event and non-event cells of a table with a zero cell (0.5 by
        default).

    Returns
    -------
    pandas.DataFrame
        ``estimate, se_log, ci_low, ci_high, correction``.

    Notes
    -----
    ``se(log RR) = sqrt(1/a - 1/n1 + 1/c - 1/n2)`` (Katz et al. 1978), with the
    corrected counts when a correction is applied.

    Examples
    --------
    >>> from ketex.effects import relative_risk
    >>> relative_risk(7, 34, 1, 34).round(3)
       estimate  se_log  ci_low  ci_high  correction
    0       7.0   1.041    0.91    53.87         0.0
    """
    cells, added = _two_by_two(x1, n1, x2, n2, correction)
    a, b, c, d = cells.T
    n_1, n_2 = a + b, c + d
    z = _z(conf_level)
    with np.errstate(divide="ignore", invalid="ignore"):  # zero cells, no correction
        log_rr = np.log(a / n_1) - np.log(c / n_2)
        se = np.sqrt(1 / a - 1 / n_1 + 1 / c - 1 / n_2)
        low, high = np.exp(log_rr - z * se), np.exp(log_rr + z * se)
    return pd.DataFrame(
        {"estimate": np.exp(log_rr), "se_log": se, "ci_low": low, "ci_high": high,
         "correction": added}
    )  # fmt: skip
