"""Factorial contrasts of an MMRM: main effects, simple effects and the interaction.

In a 2 x 2 trial (ketamine or midazolam x aerobic exercise or stretching) fitted as
``CHG ~ BASE + DRUG * EXERCISE * AVISIT``, the questions of a factorial analysis (Kahan
et al. 2023, CONSORT for factorial trials) are linear combinations of the four cell
LS-means at each visit:

- the main effect of a factor *at the margins*: its levels compared with the other
  factor's levels averaged with equal weights;
- its simple effects *inside the table*: its levels compared at each level of the other
  factor;
- the interaction contrast ``a1b1 - a1b0 - a0b1 + a0b0`` (does exercise add more on
  ketamine than on midazolam?).

:func:`factorial_contrasts` builds each as a row of the LS-mean matrix of the fit and tests
it through the fit's own inference, so the standard error comes from the contrast vector
and the fixed-effects covariance (cells of one participant's visits are correlated, and
all cells share the covariance parameters), and the df is the fit's Satterthwaite or
Kenward-Roger df *for that contrast*.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketex.errors import DataValidationError

__all__ = ["FACTORIAL_COLUMNS", "factorial_contrasts"]

#: Columns of :func:`factorial_contrasts` after the ``by`` column(s).
FACTORIAL_COLUMNS = ("effect", "contrast", "estimate", "se", "df", "statistic", "p_value",
                     "ci_low", "ci_high")


def factorial_contrasts(
    fit,
    factor_a: str = "DRUG",
    factor_b: str = "EXERCISE",
    by: str | None = "AVISIT",
    reference_a=None,
    reference_b=None,
) -> pd.DataFrame:
    """Main effects, simple effects and interaction contrasts of two factors of an MMRM.

    Parameters
    ----------
    fit : ketex.MMRMResult
        A fit whose formula has both factors and their interaction, e.g.
        ``CHG ~ BASE + DRUG * EXERCISE * AVISIT`` (the same model as the cell-means
        ``CHG ~ BASE + ARM * AVISIT`` of a 2 x 2 trial, written so that the factors are
        model terms; ``ARM`` alone does not say which arm is which cell).
    factor_a, factor_b : str
        The two factors (columns of the fitted data, e.g. the ``DRUG`` and ``EXERCISE``
        columns :func:`ketex.analysis_dataset` makes from ``[[arms]] factors``).
    by : str or None
        Factor to condition on, one table per level (the visit); None averages over it
        with equal weights, like every factor of the model the contrasts do not name.
    reference_a, reference_b : optional
        The control level of each factor (``a0``, ``b0``); default: its first level.
        Every other level is compared with it.

    Returns
    -------
    pandas.DataFrame
        ``<by>, effect, contrast, estimate, se, df, statistic, p_value, ci_low, ci_high``
        (no ``<by>`` column when ``by`` is None). Per level of ``by``, in order:

        - ``effect = "<A> main effect"``, ``contrast = "a1 - a0"``: A's levels averaged
          over B with equal weights (the margins), one row per level ``a1`` other than
          the reference;
        - ``"<B> main effect"``, ``"b1 - b0"``: the same for B;
        - ``"<A> simple effect"``, ``"a1 - a0 | <B> = b"``: at each level ``b`` of B
          (inside the table);
        - ``"<B> simple effect"``, ``"b1 - b0 | <A> = a"``: at each level of A;
        - ``"interaction"``, ``"a1:b1 - a1:b0 - a0:b1 + a0:b0"``: one row per pair of
          non-reference levels.

        Each row is one linear combination of the fixed effects tested with the fit's df
        method and confidence level (t test against 0, two-sided p-value).

    Raises
    ------
    ketex.errors.DataValidationError
        When a factor or ``by`` is not a factor of the model, they repeat each other, a
        reference is not a level, or the model has no interaction of the two factors.

    Notes
    -----
    With ``L`` the rows of :meth:`ketex.MMRMResult.lsmeans` for the cells
    (``by`` x A x B) a contrast is ``c' L beta``, its standard error
    ``sqrt(c' L V L' c)``: not the root of the sum of the cells' squared standard errors,
    which would treat the cells as independent. Cell LS-means average over the other
    factors of the model with equal weights and hold numeric covariates (``BASE``) at
    their mean, as SAS ``LSMEANS`` and emmeans do, so every estimate equals arithmetic on
    ``fit.lsmeans([A, B], by=by)``. In R: ``emm <- emmeans(fit, ~ DRUG * EXERCISE |
    AVISIT)``; ``contrast(emm, interaction = "trt.vs.ctrl")`` for the interaction,
    ``contrast(emm, "trt.vs.ctrl", by = c("AVISIT", "EXERCISE"))`` for the simple effects
    and ``contrast(emmeans(fit, ~ DRUG | AVISIT), "trt.vs.ctrl")`` for the main effect
    (see ``tests/reference/factorial/reference_mmrm.R``).

    Examples
    --------
    >>> import ketex
    >>> from ketex.primary import primary_dataset
    >>> trial = ketex.load_trial(ketex.sample_study_path(study="factorial"))
    >>> ds = primary_dataset(trial)
    >>> ds = ds[ds["AVISIT"].isin(["WEEK4", "WEEK12"])].copy()
    >>> ds["AVISIT"] = ds["AVISIT"].cat.remove_unused_categories()
    >>> fit = ketex.mmrm(ds, "CHG ~ BASE + DRUG * EXERCISE * AVISIT", subject="USUBJID",
    ...                  visit="AVISIT")
    >>> table = factorial_contrasts(fit, reference_a="midazolam", reference_b="stretching")
    >>> week12 = table[table["AVISIT"] == "WEEK12"].set_index("contrast")
    >>> week12["effect"].tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['DRUG main effect', 'EXERCISE main effect', 'DRUG simple effect', 'DRUG simple effect',
     'EXERCISE simple effect', 'EXERCISE simple effect', 'interaction']
    >>> week12.index[-1]
    'ketamine:aerobic - ketamine:stretching - midazolam:aerobic + midazolam:stretching'
    >>> cells = fit.lsmeans(["DRUG", "EXERCISE"], by="AVISIT").query("AVISIT == 'WEEK12'")
    >>> m = cells.set_index(["DRUG", "EXERCISE"])["estimate"]
    >>> did = (m["ketamine", "aerobic"] - m["ketamine", "stretching"]
    ...        - m["midazolam", "aerobic"] + m["midazolam", "stretching"])
    >>> bool(abs(week12["estimate"].iloc[-1] - did) < 1e-10)
    True
    """
    grid = _grid(fit)
    names = {"factor_a": factor_a, "factor_b": factor_b}
    if by is not None:
        names["by"] = by
    for role, name in names.items():
        if name not in grid.factors:
            raise DataValidationError(
                f"factorial_contrasts: {role}={name!r} is not a factor of the model (its "
                f"factors: {', '.join(map(str, grid.factors)) or 'none'}); fit a formula "
                f"such as 'CHG ~ BASE + DRUG * EXERCISE * AVISIT' with the factor columns "
                "of ketex.analysis_dataset"
            )
    if len(set(names.values())) < len(names):
        raise DataValidationError(
            f"factorial_contrasts: factor_a, factor_b and by must be three different factors, "
            f"got {', '.join(f'{k}={v!r}' for k, v in names.items())}"
        )
    levels_a = [str(v) for v in grid.factors[factor_a]]
    levels_b = [str(v) for v in grid.factors[factor_b]]
    ref_a = _reference(levels_a, reference_a, "reference_a", factor_a)
    ref_b = _reference(levels_b, reference_b, "reference_b", factor_b)
    by_list = [by] if by is not None else []
    _, matrix = grid.lsmean_matrix([*by_list, factor_a, factor_b], "equal")
    n_a, n_b = len(levels_a), len(levels_b)
    by_levels = list(grid.factors[by]) if by is not None else [None]
    # lsmean_matrix crosses the specs in order, the last fastest: (by, a, b)
    cube = matrix.reshape(len(by_levels), n_a, n_b, matrix.shape[1])
    rows, effects, labels, keys = [], [], [], []
    for k, key in enumerate(by_levels):
        for combination, effect, label in _combinations(levels_a, levels_b, ref_a, ref_b,
                                                        factor_a, factor_b):
            rows.append(np.tensordot(combination, cube[k], axes=([0, 1], [0, 1])))
            effects.append(effect)
            labels.append(label)
            keys.append(key)
    stacked = np.vstack(rows)
    interaction = np.array([e == "interaction" for e in effects])
    scale = np.abs(matrix).max()
    if np.all(np.abs(stacked[interaction]) <= 1e-12 * scale):
        raise DataValidationError(
            f"factorial_contrasts: the model has no {factor_a} x {factor_b} interaction, so "
            f"its interaction contrasts are 0 by construction; fit "
            f"'{factor_a} * {factor_b}' (e.g. 'CHG ~ BASE + {factor_a} * {factor_b} * "
            "AVISIT')"
        )
    table = fit._inference.t_tests(stacked)
    table.insert(0, "effect", effects)
    table.insert(1, "contrast", labels)
    if by is not None:
        table.insert(0, by, keys)
    return table


def _grid(fit):
    if not hasattr(fit, "_grid") or not hasattr(fit, "_inference"):
        raise DataValidationError(
            f"factorial_contrasts: fit must be a fitted model of ketex.mmrm, got "
            f"{type(fit).__name__}"
        )
    return fit._grid()


def _reference(levels: list[str], reference, role: str, factor: str) -> int:
    if len(levels) < 2:
        raise DataValidationError(
            f"factorial_contrasts: factor {factor!r} has a single level ({levels[0]!r}); "
            "a factorial contrast needs two or more"
        )
    if reference is None:
        return 0
    if str(reference) not in levels:
        raise DataValidationError(
            f"factorial_contrasts: {role}={reference!r} is not a level of {factor!r} "
            f"(levels: {', '.join(levels)})"
        )
    return levels.index(str(reference))


def _combinations(levels_a, levels_b, ref_a, ref_b, factor_a, factor_b):
    """(weights over the a x b cells, effect, label) of every contrast, in table order."""
    n_a, n_b = len(levels_a), len(levels_b)
    others_a = [i for i in range(n_a) if i != ref_a]
    others_b = [j for j in range(n_b) if j != ref_b]
    out = []
    for i in others_a:
        c = np.zeros((n_a, n_b))
        c[i, :] += 1.0 / n_b
        c[ref_a, :] -= 1.0 / n_b
        out.append((c, f"{factor_a} main effect", f"{levels_a[i]} - {levels_a[ref_a]}"))
    for j in others_b:
        c = np.zeros((n_a, n_b))
        c[:, j] += 1.0 / n_a
        c[:, ref_b] -= 1.0 / n_a
        out.append((c, f"{factor_b} main effect", f"{levels_b[j]} - {levels_b[ref_b]}"))
    for j in range(n_b):
        for i in others_a:
            c = np.zeros((n_a, n_b))
            c[i, j], c[ref_a, j] = 1.0, -1.0
            out.append((c, f"{factor_a} simple effect",
                        f"{levels_a[i]} - {levels_a[ref_a]} | {factor_b} = {levels_b[j]}"))
    for i in range(n_a):
        for j in others_b:
            c = np.zeros((n_a, n_b))
            c[i, j], c[i, ref_b] = 1.0, -1.0
            out.append((c, f"{factor_b} simple effect",
                        f"{levels_b[j]} - {levels_b[ref_b]} | {factor_a} = {levels_a[i]}"))
    for i in others_a:
        for j in others_b:
            c = np.zeros((n_a, n_b))
            c[i, j], c[i, ref_b], c[ref_a, j], c[ref_a, ref_b] = 1.0, -1.0, -1.0, 1.0
            a1, a0, b1, b0 = levels_a[i], levels_a[ref_a], levels_b[j], levels_b[ref_b]
            out.append((c, "interaction",
                        f"{a1}:{b1} - {a1}:{b0} - {a0}:{b1} + {a0}:{b0}"))
    return out
