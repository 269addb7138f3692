"""Proportional-hazards check with scaled Schoenfeld residuals (R ``cox.zph``, survival 3).

The test is the score test, at the fitted coefficients, for adding ``x * g(t)`` to the
model for each term (and for all at once), with ``g`` a transform of time centred on the
events; the scaled residuals ``beta + V^-1 r`` estimate the coefficient at each event
time (Grambsch and Therneau 1994).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ketex.survival import _cox_engine as engine

if TYPE_CHECKING:  # pragma: no cover
    from ketex.survival.cox import CoxModel, CoxResult

__all__ = ["PHTestResult", "cox_zph"]

TRANSFORMS = ("km", "identity", "rank", "log")


@dataclass(frozen=True)
class PHTestResult:
    """Proportional-hazards tests and scaled Schoenfeld residuals (immutable).

    Attributes
    ----------
    table : pandas.DataFrame
        ``term, chisq, df, p_value``: one row per term, then ``GLOBAL``.
    residuals : pandas.DataFrame
        One row per event, by stratum then time: ``time``, ``transformed_time``
        (``g(t)`` before centring), ``stratum`` (with strata), then one column per term
        with the scaled Schoenfeld residual plus the coefficient, an estimate of the
        coefficient at that time (for a term of several columns, of the term's linear
        predictor relative to the fit, around 1).
    transform : str
    """

    table: pd.DataFrame
    residuals: pd.DataFrame
    transform: str

    def plot(self, term: str, ax=None, *, smooth: bool = True):
        """Scaled Schoenfeld residuals of one term against transformed time.

        A flat line (the ``smooth`` lowess curve near the horizontal line of the fitted
        coefficient) supports proportional hazards.

        Parameters
        ----------
        term : str
            A term name of :attr:`table`.
        ax : matplotlib.axes.Axes, optional
        smooth : bool
            Add a lowess curve (statsmodels, frac 2/3).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if term not in self.residuals.columns:
            terms = [t for t in self.table["term"] if t != "GLOBAL"]
            raise ValueError(f"term {term!r} is not one of {terms}.")
        if ax is None:
            _, ax = plt.subplots()
        x = self.residuals["transformed_time"].to_numpy()
        y = self.residuals[term].to_numpy()
        shown = np.isfinite(y)
        ax.plot(x[shown], y[shown], "o", alpha=0.5)
        if smooth and shown.sum() > 3:
            from statsmodels.nonparametric.smoothers_lowess import lowess

            curve = lowess(y[shown], x[shown])
            ax.plot(curve[:, 0], curve[:, 1], "-")
        ax.set_xlabel(f"time ({self.transform} transform)")
        ax.set_ylabel(f"beta(t) for {term}")
        return ax


def cox_zph(fit: CoxResult, transform: str = "km", terms: bool = True) -> PHTestResult:
    """Test the proportional-hazards assumption of a Cox fit (R ``cox.zph``).

    Parameters
    ----------
    fit : CoxResult
        A fit from :func:`ketex.survival.cox`.
    transform : {"km", "identity", "rank", "log"}
        Time scale ``g(t)``: ``"km"`` is ``1 - S(t-)`` from the Kaplan-Meier curve of
        all rows (R's default), ``"rank"`` the rank of the times.
    terms : bool
        One test per model term (a factor of several levels is one test with several
        df), as R's default; False tests each design column.

    Returns
    -------
    PHTestResult

    Notes
    -----
    With ``U_g = sum_t g(t) (sum_{events} x - xbar(t))`` and the information ``I`` of
    ``(beta, gamma)`` for the model with ``x g(t)`` added, evaluated at
    ``(beta_hat, 0)``, the statistic for a set of columns ``J`` is
    ``U' I^-1 U`` over ``beta`` and ``gamma_J`` (with ``U = (0, U_J)``), chi-square
    with ``|J|`` df. Tied events follow the fit's ``ties``. Survival 3's ``cox.zph``
    computes exactly this score test (versions before 3.0 used an approximation).

    References
    ----------
    Grambsch PM, Therneau TM (1994). Proportional hazards tests and diagnostics based on
    weighted residuals. Biometrika 81:515-526.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.survival import cox
    >>> d = pd.DataFrame({
    ...     "days": [5, 8, 8, 12, 20, 21, 3, 9, 15, 30, 4, 26],
    ...     "relapsed": [1, 1, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1],
    ...     "arm": ["series"] * 6 + ["single"] * 6,
    ...     "age": [34, 51, 45, 29, 62, 40, 38, 55, 47, 33, 58, 41],
    ... })
    >>> fit = cox(d, "arm + age", time="days", event="relapsed")
    >>> fit.ph_test().table.round(4)
         term   chisq  df  p_value
    0     arm  3.3391   1   0.0677
    1     age  0.0564   1   0.8122
    2  GLOBAL  3.3578   2   0.1866
    """
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS}, got {transform!r}.")
    model = fit._model
    if terms:
        names, groups = list(model.term_names), [list(c) for c in model.term_columns]
    else:
        names = list(model.column_names)
        groups = [[j] for j in range(len(names))]
    sets = model.sets
    g_row = _transformed_time(model, transform)
    g_centred = g_row - g_row[model.event].mean()
    g = np.empty(sets.n_event_times)
    g[sets.death_term] = g_centred[sets.death_rows]

    score_t, info_t = engine.per_time_contributions(model.x, model.beta, sets)
    p = model.beta.size
    u = np.concatenate([np.zeros(p), g @ score_t])
    info_bb = info_t.sum(axis=0)
    info_bg = np.einsum("t,tij->ij", g, info_t)
    info_gg = np.einsum("t,tij->ij", g**2, info_t)
    imat = np.block([[info_bb, info_bg], [info_bg.T, info_gg]])

    rows = []
    for name, columns in zip(names, groups, strict=True):
        keep = list(range(p)) + [p + j for j in columns]
        sub_u = u[keep]
        chisq = float(sub_u @ linalg.solve(imat[np.ix_(keep, keep)], sub_u, assume_a="sym"))
        rows.append({"term": name, "chisq": chisq, "df": len(columns)})
    rows.append(
        {"term": "GLOBAL", "chisq": float(u @ linalg.solve(imat, u, assume_a="sym")), "df": p}
    )
    table = pd.DataFrame(rows)
    table["p_value"] = stats.chi2.sf(table["chisq"], table["df"])
    residuals = _scaled_residuals(model, names, groups, info_bb, g_row, terms)
    return PHTestResult(table=table, residuals=residuals, transform=transform)


def _transformed_time(model: CoxModel, transform: str) -> np.ndarray:
    times = model.stop
    if transform == "identity":
        return times.astype(float)
    if transform == "log":
        return np.log(times)
    if transform == "rank":
        return stats.rankdata(times, method="average")
    # 1 - S(t-): Kaplan-Meier of all rows (ignoring strata), risk sets start < t <= stop
    event_times, deaths = np.unique(times[model.event], return_counts=True)
    at_risk = np.searchsorted(np.sort(-times), -event_times, side="right").astype(float)
    if model.start is not None:
        at_risk -= np.searchsorted(np.sort(-model.start), -event_times, side="right")
    survival = np.concatenate([[1.0], np.cumprod(1 - deaths / at_risk)])
    return 1 - survival[np.searchsorted(event_times, times, side="left")]


def _scaled_residuals(model, names, groups, info_bb, g_row, terms) -> pd.DataFrame:
    """R cox.zph's ``y``: Schoenfeld residuals scaled by the per-event information."""
    sets = model.sets
    rows = sets.death_rows
    order = np.lexsort((rows, model.stop[rows], model.strata[rows]))
    deaths, resid = rows[order], engine.schoenfeld(model.x, model.beta, sets)[order]
    strata = np.unique(model.strata)
    p = model.beta.size
    # events per stratum for the columns that vary within the stratum
    used = np.zeros((strata.size, p))
    for i, s in enumerate(strata):
        inside = model.strata == s
        varies = np.ptp(model.x[inside], axis=0) > 0
        used[i] = np.where(varies, model.event[inside].sum(), 0)
    for columns in groups:
        if len(columns) > 1 and (used[:, columns] == 0).any():
            used[:, columns] = used[:, columns].max(axis=1, keepdims=True)
    weight = sum(np.minimum.outer(row, row) for row in used)
    vmean = info_bb / np.where(weight == 0, 1, weight)
    if terms and any(len(c) > 1 for c in groups):
        combine = np.zeros((p, len(groups)))
        for i, columns in enumerate(groups):
            combine[columns, i] = 1.0 if len(columns) == 1 else model.beta[columns]
        resid, vmean = resid @ combine, combine.T @ vmean @ combine
        used = used[:, [c[0] for c in groups]]
    scaled = np.full(resid.shape, np.nan)
    death_strata = model.strata[deaths]
    for i, s in enumerate(strata):
        k = np.flatnonzero(used[i] > 0)
        inside = death_strata == s
        if k.size:
            scaled[np.ix_(inside, k)] = linalg.solve(
                vmean[np.ix_(k, k)], resid[np.ix_(inside, k)].T, assume_a="sym"
            ).T
    for i, columns in enumerate(groups):
        scaled[:, i] += model.beta[columns[0]] if len(columns) == 1 else 1.0
    frame = {"time": model.stop[deaths], "transformed_time": g_row[deaths]}
    if strata.size > 1:
        frame["stratum"] = death_strata
    frame.update({name: scaled[:, i] for i, name in enumerate(names)})
    return pd.DataFrame(frame)
