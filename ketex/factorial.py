"""Factorial trials: additive interaction of two binary factors on a binary endpoint,
and every active arm against the control in a multi-arm trial.

In a 2 x 2 trial (ketamine or not x exercise or not) the question "do the two together do
more than the sum of each?" is a question of *additive* interaction on the risk scale:
the interaction contrast of the four response rates (DID), the relative excess risk due
to interaction (RERI) and the synergy index (S). :func:`additive_interaction` gives each
with a delta-method Wald interval and with Zou's (2008) MOVER interval built from the
Wilson intervals of the four rates. :func:`compare_to_control` gives every active arm
minus the control from a fitted model, with Holm or Dunnett adjustment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ketex.effects import _wilson, _z
from ketex.errors import DataValidationError

__all__ = [
    "AdditiveInteraction",
    "additive_interaction",
]

MEASURE_COLUMNS = ["measure", "estimate", "se", "ci_low", "ci_high", "p_value", "method", "note"]
CELL_COLUMNS = ["cell", "level_a", "level_b", "n", "events", "risk", "ci_low", "ci_high"]
_CELLS = ("00", "10", "01", "11")


@dataclass(frozen=True)
class AdditiveInteraction:
    """The result of :func:`additive_interaction` (immutable).

    Attributes
    ----------
    measures : pandas.DataFrame
        ``measure, estimate, se, ci_low, ci_high, p_value, method, note``: six rows,
        ``risk_difference_interaction``, ``reri`` and ``synergy_index``, each with
        ``method`` ``"delta"`` then ``"mover"``. ``note`` is empty, or says why a value is
        missing (no event in the reference cell, S undefined, ...).
    cells : pandas.DataFrame
        ``cell, level_a, level_b, n, events, risk, ci_low, ci_high`` (Wilson interval),
        one row per cell in the order ``00`` (both references), ``10`` (factor A only),
        ``01`` (factor B only), ``11`` (both).
    n_missing_outcome : int
        Rows dropped because the outcome was missing.
    conf_level : float
    """

    measures: pd.DataFrame
    cells: pd.DataFrame
    n_missing_outcome: int
    conf_level: float


# ------------------------------------------------------------------ validation
def _binary_outcome(data: pd.DataFrame, outcome: str) -> tuple[pd.Series, pd.Series]:
    values = data[outcome]
    missing = values.isna().to_numpy()
    present = values[~missing]
    if (
        pd.api.types.is_bool_dtype(present.dtype)
        or present.dtype == object
        and all(isinstance(v, (bool, np.bool_)) for v in present)
    ):
        numeric = present.astype(float)
    else:
        numeric = pd.to_numeric(present, errors="coerce").astype(float)
    bad = numeric.isna() | ~numeric.isin([0.0, 1.0])
    if bad.any():
        examples = present[bad.to_numpy()].unique()[:5].tolist()
        raise DataValidationError(
            f"Column {outcome!r} must be binary (0/1 or True/False, missing allowed); "
            f"found {examples}."
        )
    return pd.Series(missing, index=data.index), numeric


def _two_levels(data: pd.DataFrame, column: str, reference) -> tuple[object, object]:
    present = data[column].dropna().unique().tolist()
    if len(present) != 2:
        raise DataValidationError(
            f"Column {column!r} must have exactly 2 levels among the rows analysed; "
            f"found {len(present)}: {present[:10]}."
        )
    if reference not in present:
        raise DataValidationError(
            f"Reference level {reference!r} is not present in column {column!r} "
            f"(levels: {present})."
        )
    other = present[1] if present[0] == reference else present[0]
    return reference, other


def _cell_counts(data, outcome, factor_a, factor_b, reference_a, reference_b):
    for column in (outcome, factor_a, factor_b):
        if column not in data.columns:
            raise DataValidationError(f"Column {column!r} is not in the data.")
    missing, numeric = _binary_outcome(data, outcome)
    kept = data.loc[~missing.to_numpy()]
    for factor in (factor_a, factor_b):
        if kept[factor].isna().any():
            raise DataValidationError(
                f"Column {factor!r} is missing in {int(kept[factor].isna().sum())} rows; "
                "every participant analysed needs both factors."
            )
    ref_a, other_a = _two_levels(kept, factor_a, reference_a)
    ref_b, other_b = _two_levels(kept, factor_b, reference_b)
    rows = []
    for cell, level_a, level_b in zip(
        _CELLS, (ref_a, other_a, ref_a, other_a), (ref_b, ref_b, other_b, other_b), strict=True
    ):
        inside = ((kept[factor_a] == level_a) & (kept[factor_b] == level_b)).to_numpy()
        n = int(inside.sum())
        if n == 0:
            raise DataValidationError(
                f"No participant with {factor_a} = {level_a!r} and {factor_b} = {level_b!r}: "
                "every cell of the 2 x 2 design needs participants."
            )
        rows.append((cell, level_a, level_b, n, int(numeric.to_numpy()[inside].sum())))
    return rows, int(missing.sum())


# ------------------------------------------------------------------ the measures
def _delta_rows(p, var, z):
    """Delta-method rows for DID, RERI (risk scale) and S (log scale)."""
    p00, p10, p01, p11 = (p[c] for c in _CELLS)
    v = np.array([var[c] for c in _CELLS])
    rows = []

    did = p11 - p10 - p01 + p00
    se = float(np.sqrt(v.sum()))
    rows.append(_wald("risk_difference_interaction", did, se, z))

    if p00 == 0:
        reason = "undefined: no event in the reference cell (00), so the relative risks are"
        rows.append(_missing("reri", "delta", reason + " infinite"))
        rows.append(_missing("synergy_index", "delta", reason + " infinite"))
        return rows
    reri = (p11 - p10 - p01) / p00 + 1
    gradient = np.array([-(p11 - p10 - p01) / p00**2, -1 / p00, -1 / p00, 1 / p00])
    rows.append(_wald("reri", reri, float(np.sqrt(gradient**2 @ v)), z))

    numerator, denominator = p11 - p00, p10 + p01 - 2 * p00
    if numerator * denominator <= 0:
        rows.append(
            _missing(
                "synergy_index",
                "delta",
                "undefined: S = (RR11 - 1) / (RR10 + RR01 - 2) is zero, negative or has a "
                "zero denominator, so log S does not exist",
            )
        )
        return rows
    log_s = np.log(numerator / denominator)
    gradient = np.array(
        [-1 / numerator + 2 / denominator, -1 / denominator, -1 / denominator, 1 / numerator]
    )
    se_log = float(np.sqrt(gradient**2 @ v))
    row = _wald("synergy_index", log_s, se_log, z)
    row.update(
        estimate=float(np.exp(log_s)),
        ci_low=float(np.exp(row["ci_low"])),
        ci_high=float(np.exp(row["ci_high"])),
        note="se is of log S; the interval is exp(log S +/- z se)",
    )
    rows.append(row)
    return rows


def _wald(measure, estimate, se, z):
    if se > 0:
        p_value = float(2 * stats.norm.sf(abs(estimate) / se))
    else:
        p_value = float("nan")
    return {
        "measure": measure,
        "estimate": float(estimate),
        "se": se,
        "ci_low": float(estimate - z * se),
        "ci_high": float(estimate + z * se),
        "p_value": p_value,
        "method": "delta",
        "note": "" if se > 0 else "se is 0: every cell has risk 0 or 1",
    }


def _missing(measure, method, note):
    nan = float("nan")
    return dict(
        measure=measure, estimate=nan, se=nan, ci_low=nan, ci_high=nan, p_value=nan,
        method=method, note=note,
    )  # fmt: skip


def _ratio_mover(p1, l1, u1, p0, l0, u0):
    """MOVER-R interval of p1 / p0 from the two rates' intervals (Donner & Zou 2012)."""
    lower_root = (p1 * p0) ** 2 - l1 * u0 * (2 * p1 - l1) * (2 * p0 - u0)
    upper_root = (p1 * p0) ** 2 - u1 * l0 * (2 * p1 - u1) * (2 * p0 - l0)
    lower_denominator = u0 * (2 * p0 - u0)
    upper_denominator = l0 * (2 * p0 - l0)
    low = (p1 * p0 - np.sqrt(max(lower_root, 0.0))) / lower_denominator
    if upper_denominator <= 0 or upper_root < 0:
        high = np.inf
    else:
        high = (p1 * p0 + np.sqrt(upper_root)) / upper_denominator
    return float(max(low, 0.0)), float(high)


def _mover_rows(p, low, high, n):
    """MOVER rows (Zou 2008): DID from the Wilson limits, RERI from the RR limits."""
    p00, p10, p01, p11 = (p[c] for c in _CELLS)
    rows = []
    did = p11 - p10 - p01 + p00
    plus, minus = ("11", "00"), ("10", "01")
    below = sum((p[c] - low[c]) ** 2 for c in plus) + sum((high[c] - p[c]) ** 2 for c in minus)
    above = sum((high[c] - p[c]) ** 2 for c in plus) + sum((p[c] - low[c]) ** 2 for c in minus)
    row = _missing("risk_difference_interaction", "mover", "")
    row.update(estimate=did, ci_low=did - np.sqrt(below), ci_high=did + np.sqrt(above))
    rows.append(row)

    if p00 == 0:
        rows.append(_missing("reri", "mover", "undefined: no event in the reference cell (00)"))
        rows.append(
            _missing("synergy_index", "mover", "not computed: the MOVER interval is given for "
                     "the risk difference interaction and RERI only; see the delta row")
        )  # fmt: skip
        return rows
    rr, rr_low, rr_high = {}, {}, {}
    for c in ("10", "01", "11"):
        rr[c] = p[c] / p00
        rr_low[c], rr_high[c] = _ratio_mover(p[c], low[c], high[c], p00, low["00"], high["00"])
    # correlation of the RR estimates: they share p00 (delta method on the log scale)
    log_var = {c: (1 - p[c]) / (n[c] * p[c]) if p[c] > 0 else np.inf for c in _CELLS}
    r = {}
    for a, b in (("10", "01"), ("10", "11"), ("01", "11")):
        total = np.sqrt((log_var[a] + log_var["00"]) * (log_var[b] + log_var["00"]))
        r[a + b] = log_var["00"] / total if np.isfinite(total) else 0.0
    reri = rr["11"] - rr["10"] - rr["01"] + 1
    d3l, d3u = rr["11"] - rr_low["11"], rr_high["11"] - rr["11"]
    d1l, d1u = rr["10"] - rr_low["10"], rr_high["10"] - rr["10"]
    d2l, d2u = rr["01"] - rr_low["01"], rr_high["01"] - rr["01"]
    with np.errstate(invalid="ignore"):  # inf - inf where an RR interval is unbounded
        below = (
            d3l**2 + d1u**2 + d2u**2
            - 2 * r["1011"] * d3l * d1u - 2 * r["0111"] * d3l * d2u + 2 * r["1001"] * d1u * d2u
        )  # fmt: skip
        above = (
            d3u**2 + d1l**2 + d2l**2
            - 2 * r["1011"] * d3u * d1l - 2 * r["0111"] * d3u * d2l + 2 * r["1001"] * d1l * d2l
        )  # fmt: skip
    row = _missing("reri", "mover", "")
    row["estimate"] = float(reri)
    # an unbounded RR interval (few events in cell 00) makes the RERI limit it feeds unbounded
    finite_low, finite_high = np.isfinite(d1u) and np.isfinite(d2u), np.isfinite(d3u)
    row["ci_low"] = float(reri - np.sqrt(max(below, 0.0))) if finite_low else -np.inf
    row["ci_high"] = float(reri + np.sqrt(max(above, 0.0))) if finite_high else np.inf
    if not (finite_low and finite_high):
        row["note"] = "a relative-risk interval is unbounded (few events in cell 00)"
    rows.append(row)
    rows.append(
        _missing("synergy_index", "mover", "not computed: the MOVER interval is given for the "
                 "risk difference interaction and RERI only; see the delta row")
    )  # fmt: skip
    return rows


def additive_interaction(
    data: pd.DataFrame,
    *,
    outcome: str,
    factor_a: str,
    factor_b: str,
    reference_a,
    reference_b,
    conf_level: float = 0.95,
) -> AdditiveInteraction:
    """Additive interaction of two binary factors on a binary endpoint (2 x 2 factorial).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant.
    outcome : str
        The endpoint: 0/1 or True/False (nullable dtypes accepted). Rows where it is
        missing are dropped and counted in ``n_missing_outcome``.
    factor_a, factor_b : str
        The two factors (e.g. ketamine, exercise), each with exactly two levels.
    reference_a, reference_b
        The reference (no-intervention) level of each factor.
    conf_level : float
        Confidence level of the intervals.

    Returns
    -------
    AdditiveInteraction
        ``.measures``: ``measure, estimate, se, ci_low, ci_high, p_value, method, note``
        (rows ``risk_difference_interaction``, ``reri``, ``synergy_index``, each by
        ``method`` ``"delta"`` and ``"mover"``; ``se`` and ``p_value`` are missing for
        MOVER, which gives an interval only; for S the ``se`` is that of log S);
        ``.cells``: ``cell, level_a, level_b, n, events, risk, ci_low, ci_high``;
        ``.n_missing_outcome``; ``.conf_level``.

    Raises
    ------
    ketex.DataValidationError
        Naming the column: a factor without exactly two levels, a reference level not
        present, an empty cell, a non-binary outcome.

    Notes
    -----
    With :math:`p_{ab}` the risk in the cell with factor A at level ``a`` and B at ``b``
    (0 = reference) and :math:`RR_{ab} = p_{ab} / p_{00}`:

    .. math::

        DID = p_{11} - p_{10} - p_{01} + p_{00}, \\quad
        RERI = RR_{11} - RR_{10} - RR_{01} + 1, \\quad
        S = \\frac{RR_{11} - 1}{(RR_{10} - 1) + (RR_{01} - 1)}.

    **Delta method** ("delta"): the four cell risks are independent binomial proportions
    with variance :math:`p(1 - p) / n`; the variance of a measure is
    :math:`\\sum_{ab} (\\partial m / \\partial p_{ab})^2 p_{ab}(1 - p_{ab}) / n_{ab}`. DID
    and RERI get Wald intervals on their own scale, S on the log scale (Hosmer and
    Lemeshow 1992), where :math:`\\log S = \\log(p_{11} - p_{00}) - \\log(p_{10} + p_{01} -
    2 p_{00})`. p-values test DID = 0, RERI = 0, log S = 0.

    **MOVER** ("mover"; Zou 2008): from the Wilson limits :math:`(l_{ab}, u_{ab})`, the
    DID interval is :math:`DID - \\sqrt{(p_{11} - l_{11})^2 + (p_{00} - l_{00})^2 + (u_{10}
    - p_{10})^2 + (u_{01} - p_{01})^2}` to the mirror-image upper limit. For RERI, each
    relative risk gets the MOVER-R interval from the Wilson limits of its two rates
    (Donner and Zou 2012), and Zou's (2008) formula combines them with the correlations
    :math:`r_{ij}` of the log relative risks (they share :math:`p_{00}`):
    :math:`L = RERI - \\sqrt{(\\hat\\theta_{11} - l_{11})^2 + (u_{10} - \\hat\\theta_{10})^2
    + (u_{01} - \\hat\\theta_{01})^2 - 2 r_{10,11}(\\hat\\theta_{11} - l_{11})(u_{10} -
    \\hat\\theta_{10}) - 2 r_{01,11}(\\ldots) + 2 r_{10,01}(\\ldots)}`, and :math:`U`
    likewise. MOVER is not computed for S (the row says so).

    With no event in cell 00 the relative risks are infinite: RERI and S are missing with
    the reason in ``note``; DID is still given.

    R: ``interactionR`` (Alli 2021) and ``epiR::epi.interaction`` give RERI and S from a
    logistic or log-binomial model; the MOVER limits here are those of the four rates
    (the script ``tests/reference/factorial/reference_interaction.R`` does the same in
    base R).

    References
    ----------
    Zou GY (2008). On the estimation of additive interaction by use of the four-by-two
    table and beyond. *Am J Epidemiol* 168:212-224.
    Hosmer DW, Lemeshow S (1992). Confidence interval estimation of interaction.
    *Epidemiology* 3:452-456.
    Donner A, Zou GY (2012). Closed-form confidence intervals for functions of the normal
    mean and standard deviation. *Stat Methods Med Res* 21:347-359.
    Rothman KJ (1976). The estimation of synergy or antagonism. *Am J Epidemiol*
    103:506-511.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex import additive_interaction
    >>> counts = {("no", "no"): (10, 40), ("yes", "no"): (16, 40),
    ...           ("no", "yes"): (14, 40), ("yes", "yes"): (28, 40)}
    >>> rows = [{"ketamine": a, "exercise": b, "response": int(i < x)}
    ...         for (a, b), (x, n) in counts.items() for i in range(n)]
    >>> result = additive_interaction(pd.DataFrame(rows), outcome="response",
    ...     factor_a="ketamine", factor_b="exercise", reference_a="no", reference_b="no")
    >>> result.cells[["cell", "n", "events", "risk"]]
      cell   n  events  risk
    0   00  40      10  0.25
    1   10  40      16  0.40
    2   01  40      14  0.35
    3   11  40      28  0.70
    >>> result.measures[["measure", "method", "estimate", "ci_low", "ci_high"]].round(3)
                           measure method  estimate  ci_low  ci_high
    0  risk_difference_interaction  delta       0.2  -0.088    0.488
    1  risk_difference_interaction  mover       0.2  -0.089    0.469
    2                         reri  delta       0.8  -0.226    1.826
    3                         reri  mover       0.8  -0.898    2.163
    4                synergy_index  delta       1.8   0.547    5.924
    5                synergy_index  mover       NaN     NaN      NaN
    """
    z = _z(conf_level)
    counts, n_missing = _cell_counts(data, outcome, factor_a, factor_b, reference_a, reference_b)
    n = {c: size for c, _, _, size, _ in counts}
    events = {c: x for c, _, _, _, x in counts}
    p = {c: events[c] / n[c] for c in _CELLS}
    var = {c: p[c] * (1 - p[c]) / n[c] for c in _CELLS}
    low, high = {}, {}
    for c in _CELLS:
        wl, wh = _wilson(np.float64(events[c]), np.float64(n[c]), z)
        low[c], high[c] = float(wl), float(wh)
    delta = _delta_rows(p, var, z)
    mover = _mover_rows(p, low, high, n)
    rows = [row for pair in zip(delta, mover, strict=True) for row in pair]
    measures = pd.DataFrame(rows, columns=MEASURE_COLUMNS)
    cells = pd.DataFrame(
        [(c, a, b, size, x, p[c], low[c], high[c]) for c, a, b, size, x in counts],
        columns=CELL_COLUMNS,
    )
    return AdditiveInteraction(
        measures=measures, cells=cells, n_missing_outcome=n_missing, conf_level=conf_level
    )
