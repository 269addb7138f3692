"""Multiplicity adjustment of a family of contrasts: Dunnett (multivariate t), Holm, Bonferroni.

One implementation for every model's ``contrast(..., adjust=...)`` (MMRM, LMM, GEE, GLMM):
:func:`adjust_contrasts` takes the contrast table (``estimate, se, df, statistic, p_value,
ci_low, ci_high``), the covariance of the contrast estimates and a family label per row
(the ``by`` level), and adds ``adjust, p_value_adjusted, ci_low_adjusted,
ci_high_adjusted``. The raw ``p_value`` and ``ci_*`` are kept.

``"dunnett"`` is emmeans's ``adjust = "mvt"``: the two-sided p-value of contrast ``i`` is
``1 - P(max_j |T_j| <= |t_i|)`` with ``T`` multivariate t, correlation that of the family's
contrast estimates (``cov2cor`` of their covariance), and the simultaneous interval is
``estimate -+ c se`` with ``P(max_j |T_j| <= c) = confidence level``. emmeans uses no single
df for the family: each row is evaluated with its *own* df, made an integer by emmeans's
``.fix.df`` (``floor(max(1, df) + 0.25)``; infinite or above 9999: the normal), because
``mvtnorm::pmvt`` takes an integer df (``emmeans/R/summary.R``: ``.my.pmvt``, ``.my.qmvt``).
ketex does the same, so its numbers are emmeans's. The probabilities come from the
randomised quasi-Monte Carlo lattice rule of Genz and Bretz (``scipy.stats.multivariate_t``
and ``multivariate_normal``, the algorithm of ``mvtnorm``) with a fixed seed and
:data:`POINTS_PER_CONTRAST` points per contrast: deterministic, with an error of a few
``1e-6`` (2.5e-6 seen against ``mvtnorm`` at tolerance ``3e-7``; see
``tests/reference/multiarm/README.md``); with two contrasts (three arms) a deterministic
Gauss-Legendre quadrature within 1e-8 (8e-9 seen). Adjusted p-values are kept between
the single-test p-value (with the integer df) and its Bonferroni bound, which the exact
value lies between, and never below the raw ``p_value``. emmeans itself calls ``mvtnorm``
with its default absolute tolerance ``1e-3``: for three or more contrasts its printed
values can differ from exact ones by that much.

``"holm"`` is the step-down Holm-Bonferroni procedure (R's ``p.adjust(p, "holm")``);
``"bonferroni"`` multiplies by the family size (capped at 1). Both have Bonferroni
simultaneous intervals (``t`` quantile at ``alpha / (2 m)``); Holm has none of its own, so
its ``ci_*_adjusted`` are the Bonferroni intervals, as emmeans gives for ``adjust = "holm"``.
``"none"`` copies the raw values. A family of one contrast is not adjusted (as emmeans).

Examples
--------
>>> import numpy as np, pandas as pd
>>> table = pd.DataFrame({"estimate": [2.0, 1.0], "se": [1.0, 1.0], "df": [50.0, 50.0]})
>>> table["statistic"] = table["estimate"] / table["se"]
>>> from scipy import stats
>>> table["p_value"] = 2 * stats.t.sf(table["statistic"].abs(), table["df"])
>>> table["ci_low"], table["ci_high"] = table["estimate"] - 2, table["estimate"] + 2
>>> cov = np.array([[1.0, 0.5], [0.5, 1.0]])
>>> out = adjust_contrasts(table, cov, [0, 0], "holm", 0.95)
>>> np.allclose(out["p_value_adjusted"], [2 * table["p_value"][0], table["p_value"][1]])
True
>>> out = adjust_contrasts(table, cov, [0, 0], "dunnett", 0.95)
>>> bool((out["p_value_adjusted"] > out["p_value"]).all())
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ketex._deprecated import renamed
from ketex.errors import KetexError

__all__ = [
    "ADJUST_METHODS",
    "POINTS_PER_CONTRAST",
    "SEED",
    "adjust_contrasts",
    "emmeans_df",
    "max_abs_t_cdf",
    "max_abs_t_quantile",
    "p_adjust",
]

ADJUST_METHODS = ("dunnett", "holm", "bonferroni", "none")
POINTS_PER_CONTRAST = 10_000
SEED = 20_260_101
_ALIASES = {"mvt": "dunnett"}


def check_adjust(adjust: str) -> str:
    """The canonical name of ``adjust`` (``"mvt"`` is accepted for ``"dunnett"``)."""
    name = _ALIASES.get(str(adjust).lower(), str(adjust).lower())
    if name not in ADJUST_METHODS:
        raise KetexError(
            f"adjust={adjust!r} is not a multiplicity adjustment: use one of "
            f"{', '.join(map(repr, ADJUST_METHODS))} (or None for the unadjusted table)."
        )
    return name


def emmeans_df(df) -> np.ndarray:
    """emmeans's integer df for ``mvtnorm`` (``.fix.df``); 0 means the normal.

    Examples
    --------
    >>> emmeans_df([0.4, 155.56, 155.8, np.inf, 12000.0]).tolist()
    [1, 155, 156, 0, 0]
    """
    values = np.atleast_1d(np.asarray(df, dtype=float))
    values = np.where(values > 0, np.maximum(values, 1.0), values)
    values = np.where(~np.isfinite(values) | (values > 9999), 0.0, values)
    return np.floor(values + 0.25).astype(int)


def max_abs_t_cdf(c: float, df: int, correlation: np.ndarray) -> float:
    """``P(max_j |T_j| <= c)``, ``T`` multivariate t (``df = 0``: normal) with ``correlation``.

    Deterministic (fixed seed); absolute error about 1e-8 for two contrasts, a few 1e-6
    for more.

    Examples
    --------
    >>> round(max_abs_t_cdf(1.959964, 0, np.eye(1)), 6)
    0.95
    >>> p = max_abs_t_cdf(2.0, 0, np.eye(2))     # independent normals: the product
    >>> bool(abs(p - (1 - 2 * stats.norm.sf(2.0)) ** 2) < 1e-6)
    True
    """
    correlation = np.atleast_2d(np.asarray(correlation, dtype=float))
    k = correlation.shape[0]
    if not np.isfinite(c):
        return 1.0 if c > 0 else 0.0
    if c <= 0:
        return 0.0
    if k == 1:
        if df == 0:
            return float(1.0 - 2.0 * stats.norm.sf(c))
        return float(1.0 - 2.0 * stats.t.sf(c, df))
    if k == 2 and abs(correlation[0, 1]) < 0.999:
        return _max_abs_t_cdf_2(float(c), int(df), float(correlation[0, 1]))
    upper = np.full(k, float(c))
    rng = np.random.default_rng(SEED)
    points = POINTS_PER_CONTRAST * k
    if df == 0:
        value = stats.multivariate_normal.cdf(
            upper, cov=correlation, allow_singular=True, maxpts=points, abseps=1e-7,
            releps=0.0, lower_limit=-upper, rng=rng,
        )
    else:
        value = stats.multivariate_t.cdf(
            upper, shape=correlation, df=int(df), allow_singular=True, maxpts=points,
            lower_limit=-upper, random_state=rng,
        )
    return float(np.clip(value, 0.0, 1.0))


_LEGENDRE = np.polynomial.legendre.leggauss(200)


def _max_abs_t_cdf_2(c: float, df: int, rho: float) -> float:
    """Two contrasts: ``E_S[P(|Z_1| <= c S, |Z_2| <= c S)]``, ``S^2 ~ chi2_df / df``.

    The bivariate normal box probability is ``int_{-a}^{a} phi(z) [Phi((a - rho z) / r) -
    Phi((-a - rho z) / r)] dz`` (``r = sqrt(1 - rho^2)``), and both integrals are 200-node
    Gauss-Legendre rules (``S`` over its chi quantiles ``1e-13`` to ``1 - 1e-13``):
    deterministic, within 1e-9 of adaptive quadrature for ``|rho| <= 0.99``.
    """
    x, w = _LEGENDRE
    if df == 0:
        s, ws = np.ones(1), np.ones(1)
    else:
        root = np.sqrt(df)
        lo, hi = stats.chi.ppf([1e-13, 1.0 - 1e-13], df) / root
        s = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
        ws = 0.5 * (hi - lo) * w * stats.chi.pdf(s * root, df) * root
    a = c * s
    limit = np.minimum(a, 9.0)
    z = limit[:, None] * x[None, :]
    r = np.sqrt(1.0 - rho * rho)
    inner = stats.norm.pdf(z) * (
        special.ndtr((a[:, None] - rho * z) / r) - special.ndtr((-a[:, None] - rho * z) / r)
    )
    box = (inner @ w) * limit
    return float(np.clip(box @ ws, 0.0, 1.0))


def max_abs_t_quantile(level: float, df: int, correlation: np.ndarray) -> float:
    """The ``c`` with ``P(max_j |T_j| <= c) = level`` (the two-sided Dunnett critical value).

    Bracketed by the unadjusted and the Sidak quantiles (Sidak's inequality) and found by
    Brent's method to ``1e-7``.

    Examples
    --------
    >>> round(max_abs_t_quantile(0.95, 0, np.eye(1)), 4)
    1.96
    """
    correlation = np.atleast_2d(np.asarray(correlation, dtype=float))
    k = correlation.shape[0]
    dist = stats.norm if df == 0 else stats.t(df)
    alpha = 1.0 - level
    low = float(dist.ppf(1.0 - alpha / 2.0))
    if k == 1:
        return low
    high = float(dist.ppf(0.5 + 0.5 * level ** (1.0 / k)))
    f_low = max_abs_t_cdf(low, df, correlation) - level
    f_high = max_abs_t_cdf(high, df, correlation) - level
    if f_low >= 0:
        return low
    if f_high <= 0:
        return high
    return float(
        optimize.brentq(
            lambda c: max_abs_t_cdf(c, df, correlation) - level, low, high, xtol=1e-7
        )
    )


def p_adjust(p_values, method: str) -> np.ndarray:
    """R's ``p.adjust`` for ``"holm"``, ``"bonferroni"`` and ``"none"`` (NaN left out).

    Examples
    --------
    >>> p_adjust([0.01, 0.04, 0.03], "holm").round(4).tolist()
    [0.03, 0.06, 0.06]
    >>> p_adjust([0.01, 0.04, 0.5], "bonferroni").round(4).tolist()
    [0.03, 0.12, 1.0]
    """
    p = np.asarray(p_values, dtype=float)
    out = p.copy()
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if method == "none" or m <= 1:
        return out
    if method == "bonferroni":
        out[ok] = np.minimum(1.0, m * p[ok])
        return out
    if method != "holm":
        raise KetexError(f"p_adjust: method {method!r} is not 'holm', 'bonferroni' or 'none'.")
    order = ok[np.argsort(p[ok], kind="stable")]
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(1.0, stepped)
    return out


def adjust_contrasts(
    table: pd.DataFrame,
    covariance: np.ndarray,
    families: Sequence,
    adjust: str,
    conf_level: float | None = None,
    *,
    confidence_level: float | None = None,
) -> pd.DataFrame:
    """Add ``adjust, p_value_adjusted, ci_low_adjusted, ci_high_adjusted`` to ``table``.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per contrast with ``estimate, se, df, statistic, p_value, ci_low, ci_high``.
    covariance : numpy.ndarray, shape (n, n)
        Covariance of the contrast estimates (``L V L'``).
    families : sequence
        A label per row: the rows sharing one are a family (one ``by`` level).
    adjust : {"dunnett", "holm", "bonferroni", "none"}
    conf_level : float
        Level of the adjusted intervals (``confidence_level``: its deprecated alias).

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with the four columns added.
    """
    conf_level = renamed("adjust_contrasts", "confidence_level", "conf_level", confidence_level,
                         conf_level)
    if conf_level is None:
        raise TypeError("adjust_contrasts() missing the argument conf_level.")
    method = check_adjust(adjust)
    out = table.copy()
    covariance = np.atleast_2d(np.asarray(covariance, dtype=float))
    codes: dict = {}
    labels = np.array([codes.setdefault(_hashable(f), len(codes)) for f in families])
    estimate = out["estimate"].to_numpy(dtype=float)
    se = out["se"].to_numpy(dtype=float)
    statistic = out["statistic"].to_numpy(dtype=float)
    df = out["df"].to_numpy(dtype=float)
    p_adj = out["p_value"].to_numpy(dtype=float).copy()
    low = out["ci_low"].to_numpy(dtype=float).copy()
    high = out["ci_high"].to_numpy(dtype=float).copy()
    alpha = 1.0 - conf_level
    for label in range(len(codes)):
        rows = np.flatnonzero(labels == label)
        rows = rows[np.isfinite(statistic[rows]) & (se[rows] > 0)]
        m = rows.size
        if m <= 1 or method == "none":
            continue
        if method in ("holm", "bonferroni"):
            p_adj[rows] = p_adjust(p_adj[rows], method)
            quantile = _t_quantile(1.0 - alpha / (2.0 * m), df[rows])
        else:
            sub = covariance[np.ix_(rows, rows)]
            scale = np.sqrt(np.diag(sub))
            correlation = sub / np.outer(scale, scale)
            integer_df = emmeans_df(df[rows])
            single = np.array([
                2.0 * (stats.norm.sf(abs(t)) if d == 0 else stats.t.sf(abs(t), d))
                for t, d in zip(statistic[rows], integer_df, strict=True)
            ])
            # the exact value lies between the single-test p and the Bonferroni bound; when
            # that is below 1e-7 the single-test p is nearer than any integration here
            mvt = np.array([
                b if m * b < 1e-7 else 1.0 - max_abs_t_cdf(abs(t), int(d), correlation)
                for t, d, b in zip(statistic[rows], integer_df, single, strict=True)
            ])
            # never below the raw p-value (whose df is not rounded)
            lower = np.maximum(single, p_adj[rows])
            p_adj[rows] = np.clip(mvt, lower, np.maximum(lower, np.minimum(1.0, m * single)))
            critical = {int(d): max_abs_t_quantile(conf_level, int(d), correlation)
                        for d in set(integer_df.tolist())}
            quantile = np.array([critical[int(d)] for d in integer_df])
        low[rows] = estimate[rows] - quantile * se[rows]
        high[rows] = estimate[rows] + quantile * se[rows]
    out["adjust"] = method
    out["p_value_adjusted"] = np.clip(p_adj, 0.0, 1.0)
    out["ci_low_adjusted"] = low
    out["ci_high_adjusted"] = high
    return out


def _t_quantile(probability: float, df: np.ndarray) -> np.ndarray:
    return np.where(np.isinf(df), stats.norm.ppf(probability), stats.t.ppf(probability, df))


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value
