"""Log-rank and Fleming-Harrington G-rho weighted log-rank tests (R ``survdiff``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ketex.errors import DataValidationError
from ketex.survival._data import check_columns, codes, combined_codes, survival_data

__all__ = ["LogRankResult", "logrank_test"]


@dataclass(frozen=True)
class LogRankResult:
    """A (weighted, stratified) log-rank test (immutable).

    Attributes
    ----------
    table : pandas.DataFrame
        ``group, n, observed, expected, observed_minus_expected, variance``: per group,
        the (weighted) observed and expected numbers of events summed over strata and the
        diagonal of the variance of ``observed - expected``.
    statistic : float
        Chi-square statistic ``(O - E)' V^- (O - E)``.
    df : int
        Degrees of freedom (groups with any expected events, minus one).
    p_value : float
    rho : float
        Weight exponent: each event time is weighted by ``S(t-)^rho``.
    variance : pandas.DataFrame
        Full covariance matrix of ``observed - expected`` across groups.
    strata : tuple
        Strata levels (empty without ``strata``).
    n_missing : int
        Rows dropped for a missing value.
    """

    table: pd.DataFrame
    statistic: float
    df: int
    p_value: float
    rho: float
    variance: pd.DataFrame
    strata: tuple
    n_missing: int

    @property
    def summary(self) -> pd.DataFrame:
        """One row: ``test, statistic, df, p_value``."""
        name = "log-rank" if self.rho == 0 else f"Fleming-Harrington G-rho (rho = {self.rho:g})"
        return pd.DataFrame(
            {"test": [name], "statistic": [self.statistic], "df": [self.df],
             "p_value": [self.p_value]}
        )  # fmt: skip


def logrank_test(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    group: str,
    strata: str | list[str] | None = None,
    rho: float = 0.0,
) -> LogRankResult:
    """Compare survival curves with the log-rank test or its G-rho weighted family.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant.
    time, event : str
        Columns with the follow-up time and the event indicator (1/True = event).
    group : str
        Column with the groups to compare (two or more).
    strata : str or list of str, optional
        Column(s) defining strata (e.g. site): observed and expected events are computed
        within each stratum and summed (R ``strata()`` in ``survdiff``).
    rho : float
        Weight exponent: each event time gets weight ``S(t-)^rho`` with ``S`` the
        Kaplan-Meier curve of the pooled groups (within stratum), taken just before
        ``t``. ``rho = 0`` is the log-rank test, ``rho = 1`` the Peto-Peto (Prentice)
        modification of the Gehan-Wilcoxon test, which weights early differences more.

    Returns
    -------
    LogRankResult

    Notes
    -----
    With ``n`` at risk and ``d`` events at time ``t``, ``n_g`` of them at risk in group
    ``g``: ``O_g = sum w d_g``, ``E_g = sum w d n_g / n`` and
    ``V_gh = sum w^2 d (n - d) / (n - 1) (n_g / n) (delta_gh - n_h / n)``, summed over
    event times and strata; the statistic drops one group and is
    ``(O - E)' V^-1 (O - E)``, chi-square with (groups - 1) df. The observed and expected
    counts are weighted when ``rho != 0``, as printed by R's ``survdiff``. Times are used
    as given (R's ``survdiff`` first merges times that differ by rounding error only).

    References
    ----------
    Harrington DP, Fleming TR (1982). A class of rank test procedures for censored
    survival data. Biometrika 69:553-566.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.survival import logrank_test
    >>> d = pd.DataFrame({"days": [5, 8, 8, 12, 20, 21, 3, 9, 15, 30],
    ...                   "relapsed": [1, 1, 0, 1, 0, 1, 1, 1, 0, 0],
    ...                   "arm": ["A"] * 6 + ["B"] * 4})
    >>> test = logrank_test(d, time="days", event="relapsed", group="arm")
    >>> test.table
      group  n  observed  expected  observed_minus_expected  variance
    0     A  6       4.0  3.491667                 0.508333  1.436597
    1     B  4       2.0  2.508333                -0.508333  1.436597
    >>> round(test.statistic, 4), test.df, round(test.p_value, 4)
    (0.1799, 1, 0.6715)
    """
    strata_columns = [strata] if isinstance(strata, str) else list(strata or [])
    check_columns(
        data,
        {"time": time, "event": event, "group": group, "strata": strata_columns or None},
        "logrank_test",
    )
    if not np.isfinite(rho) or rho < 0:
        raise ValueError(f"rho must be a finite number >= 0, got {rho!r}.")
    clean = survival_data(
        data, time=time, event=event, other=(group, *strata_columns),
        roles={"group": group, "strata": strata_columns}, analysis="logrank_test",
    )
    used = data.loc[clean.rows]
    group_codes, levels = codes(used[group])
    if len(levels) < 2:
        raise DataValidationError(
            f"logrank_test needs at least two groups in column {group!r}; found {levels}."
        )
    if strata_columns:
        strata_codes, strata_levels = combined_codes(used, strata_columns)
    else:
        strata_codes, strata_levels = np.zeros(clean.stop.size, dtype=np.int64), []
    k = len(levels)
    observed, expected = np.zeros(k), np.zeros(k)
    variance = np.zeros((k, k))
    for s in np.unique(strata_codes):
        inside = strata_codes == s
        o, e, v = _stratum(clean.stop[inside], clean.event[inside], group_codes[inside], k, rho)
        observed += o
        expected += e
        variance += v
    statistic, df = _chi_square(observed, expected, variance)
    table = pd.DataFrame(
        {
            "group": levels,
            "n": np.bincount(group_codes, minlength=k),
            "observed": observed,
            "expected": expected,
            "observed_minus_expected": observed - expected,
            "variance": np.diag(variance),
        }
    )
    names = [str(level) for level in levels]
    return LogRankResult(
        table=table,
        statistic=statistic,
        df=df,
        p_value=float(stats.chi2.sf(statistic, df)) if df > 0 else float("nan"),
        rho=float(rho),
        variance=pd.DataFrame(variance, index=names, columns=names),
        strata=tuple(strata_levels),
        n_missing=clean.n_missing,
    )


def _stratum(time, event, group, k, rho):
    times, inverse = np.unique(time, return_inverse=True)
    m = times.size
    deaths = np.zeros((m, k))
    present = np.zeros((m, k))
    np.add.at(deaths, (inverse, group), event.astype(float))
    np.add.at(present, (inverse, group), 1.0)
    at_risk = present[::-1].cumsum(axis=0)[::-1]  # n_g(t): time >= t
    n = at_risk.sum(axis=1)
    d = deaths.sum(axis=1)
    if rho != 0:
        survival_after = np.cumprod(1 - d / n)
        weight = np.concatenate([[1.0], survival_after[:-1]]) ** rho  # S(t-), left-continuous
    else:
        weight = np.ones(m)
    observed = (weight[:, None] * deaths).sum(axis=0)
    share = at_risk / n[:, None]
    expected = (weight * d) @ share
    several = (d > 0) & (n > 1)
    factor = np.zeros(m)
    factor[several] = (
        weight[several] ** 2 * d[several] * (n[several] - d[several]) / (n[several] - 1)
    )
    variance = np.einsum("t,tg->g", factor, share) * np.eye(k) - np.einsum(
        "t,tg,th->gh", factor, share, share
    )
    return observed, expected, variance


def _chi_square(observed, expected, variance) -> tuple[float, int]:
    """Drop the first group with expected events and solve, as R's survdiff."""
    used = expected > 0
    df = int(used.sum()) - 1
    if df < 1:
        return 0.0, max(df, 0)
    difference = (observed - expected)[used][1:]
    v = variance[np.ix_(used, used)][1:, 1:]
    return float(difference @ linalg.solve(v, difference, assume_a="sym")), df
