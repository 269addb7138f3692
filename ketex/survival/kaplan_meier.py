"""Kaplan-Meier estimates with Greenwood standard errors, confidence bands and quantiles.

The numbers are those of R's ``survival::survfit`` (3.5): the same confidence intervals
for each ``conf.type``, the same quantile rule (Brookmeyer-Crowley intervals, midpoints
where the curve is flat at the probability).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ketex.survival._data import check_columns, ordered_levels, survival_data
from ketex.survival._plot import draw_curves

__all__ = ["KaplanMeierResult", "kaplan_meier"]

ConfType = Literal["log-log", "log", "plain"]
TABLE_COLUMNS = [
    "group", "time", "n_risk", "n_event", "n_censor", "survival", "se", "ci_low", "ci_high",
]  # fmt: skip
_TOLERANCE = np.sqrt(np.finfo(float).eps)  # R's quantile.survfit tolerance


def kaplan_meier(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    group: str | None = None,
    conf_level: float = 0.95,
    conf_type: ConfType = "log-log",
) -> KaplanMeierResult:
    """Kaplan-Meier survival curves, by group, with Greenwood standard errors.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant.
    time : str
        Column with the time to the event or to censoring (e.g. days to relapse).
    event : str
        Column with 1 (or True) for an event, 0 (or False) for censoring.
    group : str, optional
        Column with the group (e.g. the arm): one curve per level, in the order of a
        Categorical's categories, otherwise sorted.
    conf_level : float
        Confidence level of the pointwise intervals and of the quantile intervals.
    conf_type : {"log-log", "log", "plain"}
        Scale of the pointwise interval: ``log(-log S)`` (the default, as SAS PROC
        LIFETEST), ``log S`` (R's default) or ``S`` itself.

    Returns
    -------
    KaplanMeierResult
        ``table`` (one row per group and distinct time), ``median`` and methods for
        quantiles, survival at given times, numbers at risk and a plot.

    Notes
    -----
    At each distinct time ``t`` with ``n`` at risk and ``d`` events,
    ``S(t) = prod (1 - d / n)`` and Greenwood's variance of ``log S`` is
    ``sum d / (n (n - d))``; ``se`` is the standard error of ``S`` itself. The
    intervals are those of R's ``survfit``: for ``"log"``
    ``exp(log S -/+ z se_log)`` (upper limit capped at 1), for ``"log-log"``
    ``S^exp(+/- z se_log / log S)``, for ``"plain"`` ``S -/+ z se`` clipped to [0, 1].
    Where the curve is 1 the log-log interval is undefined (NaN), as in R; where it is 0
    the standard error and interval are NaN.

    Rows with a missing time, event or group are dropped (counted in ``n_missing``).

    References
    ----------
    Kaplan EL, Meier P (1958). J Am Stat Assoc 53:457-481.
    Brookmeyer R, Crowley J (1982). A confidence interval for the median survival
    time. Biometrics 38:29-41.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.survival import kaplan_meier
    >>> d = pd.DataFrame({"days": [5, 8, 8, 12, 20, 21, 3, 9, 15, 30],
    ...                   "relapsed": [1, 1, 0, 1, 0, 1, 1, 1, 0, 0],
    ...                   "arm": ["A"] * 6 + ["B"] * 4})
    >>> km = kaplan_meier(d, time="days", event="relapsed", group="arm")
    >>> km.table.loc[km.table["group"] == "A", ["time", "n_risk", "n_event", "survival"]]
       time  n_risk  n_event  survival
    0   5.0       6        1  0.833333
    1   8.0       5        1  0.666667
    2  12.0       3        1  0.444444
    3  20.0       2        0  0.444444
    4  21.0       1        1  0.000000
    >>> km.median[["group", "median", "ci_low", "ci_high"]]
      group  median  ci_low  ci_high
    0     A    12.0     5.0      NaN
    1     B    19.5     3.0      NaN
    """
    check_columns(data, {"time": time, "event": event, "group": group}, "kaplan_meier")
    if conf_type not in ("log-log", "log", "plain"):
        raise ValueError(f"conf_type must be 'log-log', 'log' or 'plain', got {conf_type!r}.")
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be between 0 and 1, got {conf_level!r}.")
    clean = survival_data(
        data, time=time, event=event, other=(group,) if group else (),
        roles={"group": group}, analysis="kaplan_meier",
    )
    if group is None:
        labels, levels = np.zeros(clean.stop.size, dtype=np.int64), ["all"]
    else:
        values = data.loc[clean.rows, group]
        levels = ordered_levels(values)
        lookup = {level: i for i, level in enumerate(levels)}
        labels = np.array([lookup[v] for v in values.tolist()], dtype=np.int64)

    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    tables, curves = [], {}
    for code, level in enumerate(levels):
        in_group = labels == code
        curve = _curve(clean.stop[in_group], clean.event[in_group], z, conf_type)
        curves[level] = curve
        tables.append(pd.DataFrame({"group": [level] * curve["time"].size, **curve}))
    table = pd.concat(tables, ignore_index=True)[TABLE_COLUMNS]
    counts = {
        level: (int((labels == i).sum()), int(clean.event[labels == i].sum()))
        for i, level in enumerate(levels)
    }
    return KaplanMeierResult(
        table=table,
        conf_level=float(conf_level),
        conf_type=conf_type,
        time=time,
        event=event,
        group=group,
        n_missing=clean.n_missing,
        _counts=counts,
        _z=float(z),
    )


def _curve(time: np.ndarray, event: np.ndarray, z: float, conf_type: str) -> dict:
    times, inverse = np.unique(time, return_inverse=True)
    n_event = np.bincount(inverse, weights=event, minlength=times.size)
    n_censor = np.bincount(inverse, weights=~event, minlength=times.size)
    n_total = np.bincount(inverse, minlength=times.size)
    n_risk = n_total[::-1].cumsum()[::-1]
    survival = np.cumprod(1 - n_event / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Inf once everyone at risk has the event, as R (the curve is then 0)
        greenwood = np.cumsum(np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0))
    se_log = np.sqrt(greenwood)
    low, high = _interval(survival, se_log, z, conf_type)
    positive = survival > 0
    se = np.full(times.size, np.nan)
    se[positive] = survival[positive] * se_log[positive]
    return {
        "time": times.astype(float),
        "n_risk": n_risk.astype(np.int64),
        "n_event": n_event.astype(np.int64),
        "n_censor": n_censor.astype(np.int64),
        "survival": survival,
        "se": se,
        "ci_low": low,
        "ci_high": high,
    }


def _interval(survival, se_log, z, conf_type):
    """R's survfit_confint for a standard error of log S."""
    s = np.asarray(survival, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            half = z * se_log * s
            return np.maximum(s - half, 0.0), np.minimum(s + half, 1.0)
        if conf_type == "log":
            x = np.where(s == 0, np.nan, s)
            return np.exp(np.log(x) - z * se_log), np.minimum(np.exp(np.log(x) + z * se_log), 1.0)
        x = np.where((s == 0) | (s == 1), np.nan, s)
        shift = z * se_log / np.log(x)
        return np.exp(-np.exp(np.log(-np.log(x)) - shift)), np.exp(
            -np.exp(np.log(-np.log(x)) + shift)
        )


def _approx_constant_right(x: np.ndarray, y: np.ndarray, value: float) -> float:
    """R's ``approx(x, y, value, method="constant", f=1)`` (NaN pairs dropped, rule 1)."""
    keep = ~np.isnan(x)
    x, y = x[keep], y[keep]
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if x.size == 0 or value < x[0] or value > x[-1]:
        return np.nan
    position = int(np.searchsorted(x, value, side="left"))
    return float(y[position])  # first x >= value: the right-hand value, or the knot itself


def _find_quantile(times: np.ndarray, failure: np.ndarray, p: float) -> float:
    """R's survival:::findq for one probability: the first time ``1 - S`` reaches ``p``.

    Where the curve is flat at ``1 - p`` the quantile is the midpoint of the flat part
    (and of the flat part and the last time when the curve ends there).
    """
    x = np.concatenate([[0.0], times])
    y = np.concatenate([[0.0], failure])
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return np.nan
    x_max = x[-1]
    seen: set = set()
    keep = []
    for value in y:  # R's duplicated(): NaN counts as one value
        key = "nan" if np.isnan(value) else value
        keep.append(key not in seen)
        seen.add(key)
    keep_mask = np.array(keep)
    x, y = x[keep_mask], y[keep_mask]
    position = np.arange(y.size, dtype=float)
    first = _approx_constant_right(y + _TOLERANCE, position, p)
    second = _approx_constant_right(y - _TOLERANCE, position, p)
    if np.isnan(first) or np.isnan(second):
        quantile = np.nan
    else:
        quantile = (x[int(first)] + x[int(second)]) / 2
    if p == 0:
        return float(x[0])
    if not np.isnan(y[-1]) and abs(p - y[-1]) < _TOLERANCE and not np.isnan(first):
        quantile = (x[int(first)] + x_max) / 2
    return float(quantile)


@dataclass(frozen=True)
class KaplanMeierResult:
    """Kaplan-Meier curves (immutable).

    Attributes
    ----------
    table : pandas.DataFrame
        ``group, time, n_risk, n_event, n_censor, survival, se, ci_low, ci_high``: one row
        per group and distinct time (event or censoring), as R's ``survfit``; ``se`` is
        Greenwood's standard error of the survival probability.
    conf_level : float
    conf_type : str
    time, event : str
        The column names used.
    group : str or None
        The group column (``table["group"]`` is ``"all"`` without one).
    n_missing : int
        Rows dropped for a missing time, event or group.
    """

    table: pd.DataFrame
    conf_level: float
    conf_type: str
    time: str
    event: str
    group: str | None
    n_missing: int
    _counts: dict
    _z: float

    @property
    def groups(self) -> list:
        """The groups, in the order of the curves."""
        return list(self._counts)

    def _group_table(self, level) -> pd.DataFrame:
        return self.table[self.table["group"] == level]

    @property
    def median(self) -> pd.DataFrame:
        """Median survival time with its confidence interval, one row per group.

        Columns ``group, n, n_event, median, ci_low, ci_high``. The interval is
        Brookmeyer-Crowley's, read off the pointwise confidence band as R's
        ``quantile.survfit``; NaN where the curve or a limit never reaches 0.5.
        """
        table = self.quantile([0.5])
        return table.drop(columns="probability").rename(columns={"time": "median"})

    def quantile(self, probabilities=(0.25, 0.5, 0.75)) -> pd.DataFrame:
        """Times by which given proportions have had the event.

        Parameters
        ----------
        probabilities : sequence of float
            Cumulative event probabilities, e.g. 0.5 for the median survival time
            (where ``S(t)`` first reaches 0.5).

        Returns
        -------
        pandas.DataFrame
            ``group, n, n_event, probability, time, ci_low, ci_high``.
        """
        probs = np.atleast_1d(np.asarray(probabilities, dtype=float))
        if np.any((probs < 0) | (probs > 1)) or np.any(np.isnan(probs)):
            raise ValueError(f"probabilities must lie in [0, 1], got {probs.tolist()}.")
        rows = []
        for level, (n, n_event) in self._counts.items():
            curve = self._group_table(level)
            t = curve["time"].to_numpy()
            for p in probs:
                rows.append(
                    {
                        "group": level,
                        "n": n,
                        "n_event": n_event,
                        "probability": float(p),
                        "time": _find_quantile(t, 1 - curve["survival"].to_numpy(), p),
                        "ci_low": _find_quantile(t, 1 - curve["ci_low"].to_numpy(), p),
                        "ci_high": _find_quantile(t, 1 - curve["ci_high"].to_numpy(), p),
                    }
                )
        return pd.DataFrame(rows)

    def survival_at(self, times) -> pd.DataFrame:
        """Survival probabilities at given times (R ``summary(fit, times = ...)``).

        Parameters
        ----------
        times : sequence of float

        Returns
        -------
        pandas.DataFrame
            ``group, time, n_risk, survival, se, ci_low, ci_high``. Before the first
            event the survival is 1; after a group's last follow-up time it is NaN
            (not estimable) unless the curve has reached 0.
        """
        points = np.atleast_1d(np.asarray(times, dtype=float))
        rows = []
        for level in self._counts:
            curve = self._group_table(level)
            t = curve["time"].to_numpy()
            n_risk = curve["n_risk"].to_numpy()
            at = np.searchsorted(t, points, side="right") - 1  # last time <= point
            for point, i in zip(points, at, strict=True):
                later = np.searchsorted(t, point, side="left")
                risk = int(n_risk[later]) if later < t.size else 0
                if i < 0:
                    values = (1.0, 0.0, *self._start_interval())
                elif point > t[-1] and curve["survival"].iloc[-1] > 0:
                    values = (np.nan,) * 4
                else:
                    row = curve.iloc[i]
                    values = (row["survival"], row["se"], row["ci_low"], row["ci_high"])
                rows.append({"group": level, "time": float(point), "n_risk": risk}
                            | dict(zip(("survival", "se", "ci_low", "ci_high"), values,
                                       strict=True)))  # fmt: skip
        return pd.DataFrame(rows)

    def _start_interval(self) -> tuple[float, float]:
        low, high = _interval(np.array([1.0]), np.array([0.0]), self._z, self.conf_type)
        return float(low[0]), float(high[0])

    def number_at_risk(self, times) -> pd.DataFrame:
        """Numbers still at risk (not yet had the event nor been censored) at given times.

        Parameters
        ----------
        times : sequence of float

        Returns
        -------
        pandas.DataFrame
            ``group, time, n_risk``: participants whose time is ``>= time``, the table
            usually printed under a Kaplan-Meier plot.

        Examples
        --------
        >>> import pandas as pd
        >>> from ketex.survival import kaplan_meier
        >>> d = pd.DataFrame({"days": [5, 8, 12, 20], "relapsed": [1, 0, 1, 0]})
        >>> kaplan_meier(d, time="days", event="relapsed").number_at_risk([0, 10, 30])
          group  time  n_risk
        0   all   0.0       4
        1   all  10.0       2
        2   all  30.0       0
        """
        table = self.survival_at(times)
        return table[["group", "time", "n_risk"]]

    def plot(self, ax=None, *, ci: bool = True, censor_marks: bool = True):
        """Step plot of the survival curves.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure when None.
        ci : bool
            Shade the pointwise confidence band.
        censor_marks : bool
            Mark censoring times with ``|``.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        draw_curves(ax, self.table, list(self._counts), ci=ci, censor_marks=censor_marks)
        ax.set_xlabel(self.time)
        ax.set_ylabel("survival probability")
        ax.set_ylim(0, 1.05)
        if self.group is not None:
            ax.legend(title=self.group)
        return ax
