"""The CONSORT-factorial results table: cell means, margins, simple effects, interaction.

CONSORT for factorial trials (Kahan et al. 2023) asks, for each outcome, the results of
every cell of the factorial with its number of participants, each main comparison "at
the margins" and "inside the table", and the estimated interaction with its precision.
:func:`consort_factorial_table` lays them out in one grid at one visit: rows are the
levels of factor A, columns the levels of factor B; the margins hold the marginal means
(each averaging the other factor's levels with equal weights); the difference row and
column hold the simple effects inside the table and the main effects at the margins;
their corner holds the interaction (the difference of the simple effects).

Kahan BC, Hall SS, Beller EM, et al. (2023). Reporting of factorial randomized trials:
extension of the CONSORT 2010 statement. JAMA 330(21):2106-2114.
doi:10.1001/jama.2023.19793
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ketex.errors import DataValidationError
from ketex.report._table import INDENT, ManuscriptTable, format_estimate_ci, format_p
from ketex.report.figures.factorial import factor_label

__all__ = ["FACTORIAL_TABLE_COLUMNS", "consort_factorial_table"]

#: Columns of ``consort_factorial_table(...).data``.
FACTORIAL_TABLE_COLUMNS = ("visit", "part", "factor", "level_a", "level_b", "contrast", "n",
                           "estimate", "se", "df", "ci_low", "ci_high", "p_value")
_NUMBERS = ("estimate", "se", "df", "ci_low", "ci_high", "p_value")


def consort_factorial_table(
    fit,
    factor_a: str = "DRUG",
    factor_b: str = "EXERCISE",
    *,
    visit: str,
    by: str = "AVISIT",
    reference_a=None,
    reference_b=None,
    labels: Mapping[str, str] | None = None,
    outcome: str = "Change from baseline",
) -> ManuscriptTable:
    """The CONSORT-factorial table of an MMRM at one visit (Kahan et al. 2023).

    Parameters
    ----------
    fit : ketex.MMRMResult
        A fit with both factors, ``by`` and their interactions, e.g.
        ``CHG ~ BASE + DRUG * EXERCISE * AVISIT``.
    factor_a, factor_b : str
        The row factor and the column factor.
    visit : str
        The level of ``by`` the table is about (the primary visit).
    by : str
        The visit factor.
    reference_a, reference_b : optional
        Each factor's control level (first row, first column; differences are *other
        level minus control*); default: the first level.
    labels : mapping, optional
        Display names of the factors and their levels (default:
        :func:`ketex.report.figures.factorial.factor_label` and the levels).
    outcome : str
        What the LS-means are of, for the title and notes.

    Returns
    -------
    ManuscriptTable
        ``data``: :data:`FACTORIAL_TABLE_COLUMNS`, one row per number of the grid.
        ``part`` is ``"cell"`` (``level_a``, ``level_b`` the cell), ``"margin"`` (the
        marginal LS-mean of one level of ``factor``), ``"simple effect"`` and ``"main
        effect"`` (of ``factor``: its ``"a1 - a0"`` in ``level_a`` or ``level_b``, the
        other factor's level for a simple effect, missing for a main effect) or
        ``"interaction"``; ``contrast`` is the row's label in
        :func:`ketex.factorial_contrasts` (empty for means); ``n`` counts the
        participants with an outcome at the visit in the cells the number uses.
        Estimates, SEs, df and intervals are those of ``fit.lsmeans`` and
        :func:`ketex.factorial_contrasts`. ``display``: the grid, rows the levels of
        ``factor_a`` then their mean and difference(s), each mean row followed by its
        ``n`` (the corner of the margins: all participants with an outcome at the visit);
        cells ``LS mean (95% CI)``, differences ``estimate (95% CI); p``.

    Raises
    ------
    ketex.errors.DataValidationError
        When a factor or ``by`` is not a factor of the model, ``visit`` is not a level of
        ``by``, a reference is not a level, or the model has no interaction of the two
        factors.

    Examples
    --------
    >>> import ketex
    >>> from ketex.primary import primary_dataset
    >>> ds = primary_dataset(ketex.load_trial(ketex.sample_study_path(study="factorial")))
    >>> ds = ds[ds["AVISIT"].isin(["WEEK4", "WEEK12"])].copy()
    >>> ds["AVISIT"] = ds["AVISIT"].cat.remove_unused_categories()
    >>> fit = ketex.mmrm(ds, "CHG ~ BASE + DRUG * EXERCISE * AVISIT", subject="USUBJID",
    ...                  visit="AVISIT")
    >>> table = consort_factorial_table(fit, visit="WEEK12", reference_a="midazolam",
    ...                                 reference_b="stretching")
    >>> list(table.display.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['Drug', 'Exercise: stretching', 'Exercise: aerobic', 'Mean over exercise',
     'Exercise: aerobic - stretching']
    >>> table.display["Drug"].tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['midazolam', '    n', 'ketamine', '    n', 'Mean over drug', '    n',
     'ketamine - midazolam']
    >>> cells = table.data.query("part == 'cell'")
    >>> cells[["level_a", "level_b", "n"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['midazolam', 'stretching', 34], ['midazolam', 'aerobic', 35],
     ['ketamine', 'stretching', 38], ['ketamine', 'aerobic', 39]]
    """
    from ketex.factorial_mmrm import factorial_contrasts

    # factorial_contrasts checks the factors, the references and the interaction
    contrasts = factorial_contrasts(fit, factor_a, factor_b, by=by, reference_a=reference_a,
                                    reference_b=reference_b)  # fmt: skip
    visits = list(dict.fromkeys(contrasts[by].astype(str)))
    if str(visit) not in visits:
        raise DataValidationError(
            f"consort_factorial_table: visit={visit!r} is not a level of {by!r} in the model "
            f"({', '.join(visits)})"
        )
    visit = str(visit)
    contrasts = contrasts[contrasts[by].astype(str) == visit].reset_index(drop=True)
    grid = fit._grid().factors
    levels_a = _reference_first([str(v) for v in grid[factor_a]], reference_a)
    levels_b = _reference_first([str(v) for v in grid[factor_b]], reference_b)
    counts = _counts(fit, factor_a, factor_b, by, visit)

    def n_of(cells_a, cells_b) -> int:
        return int(sum(counts.get((a, b), 0) for a in cells_a for b in cells_b))

    rows = []

    def add(part, factor, level_a, level_b, contrast, n, numbers):
        rows.append({"visit": visit, "part": part, "factor": factor, "level_a": level_a,
                     "level_b": level_b, "contrast": contrast, "n": n,
                     **{k: float(numbers[k]) for k in _NUMBERS}})  # fmt: skip

    cells = _at(fit.lsmeans([factor_a, factor_b], by=by), by, visit)
    cells = cells.set_index([cells[factor_a].astype(str), cells[factor_b].astype(str)])
    for a in levels_a:
        for b in levels_b:
            add("cell", None, a, b, "", n_of([a], [b]), cells.loc[(a, b)])
    for factor, levels in ((factor_a, levels_a), (factor_b, levels_b)):
        margins = _at(fit.lsmeans(factor, by=by), by, visit)
        margins = margins.set_index(margins[factor].astype(str))
        for level in levels:
            in_a = factor == factor_a
            add("margin", factor, level if in_a else None, None if in_a else level, "",
                n_of([level], levels_b) if in_a else n_of(levels_a, [level]),
                margins.loc[level])  # fmt: skip
    a0, b0 = levels_a[0], levels_b[0]
    for _, row in contrasts.iterrows():
        effect, contrast = row["effect"], row["contrast"]
        if effect == "interaction":
            a1, b1 = _interaction_levels(contrast, levels_a, levels_b)
            add("interaction", None, f"{a1} - {a0}", f"{b1} - {b0}", contrast,
                n_of([a0, a1], [b0, b1]), row)  # fmt: skip
            continue
        factor = factor_a if effect.startswith(f"{factor_a} ") else factor_b
        difference, _, condition = contrast.partition(" | ")
        level = condition.partition(" = ")[2] if condition else None
        one, _, zero = difference.partition(" - ")
        part = "simple effect" if condition else "main effect"
        if factor == factor_a:
            bs = [level] if level is not None else levels_b
            add(part, factor, difference, level, contrast, n_of([one, zero], bs), row)
        else:
            as_ = [level] if level is not None else levels_a
            add(part, factor, level, difference, contrast, n_of(as_, [one, zero]), row)
    data = pd.DataFrame(rows, columns=list(FACTORIAL_TABLE_COLUMNS))
    data["n"] = data["n"].astype(int)
    display = _display(data, factor_a, factor_b, levels_a, levels_b, dict(labels or {}))
    return ManuscriptTable(data, display, _title(outcome, visit, factor_a, factor_b, labels),
                           _notes(fit, outcome, visit, levels_a, levels_b, contrasts),
                           "table_factorial")  # fmt: skip


def _reference_first(levels: list[str], reference) -> list[str]:
    if reference is None:
        return levels
    return [str(reference)] + [v for v in levels if v != str(reference)]


def _at(table: pd.DataFrame, by: str, visit: str) -> pd.DataFrame:
    return table[table[by].astype(str) == visit]


def _counts(fit, factor_a: str, factor_b: str, by: str, visit: str) -> dict:
    """Participants with an outcome at the visit, per cell (the model's rows)."""
    data = fit._frame.data
    rows = data[data[by].astype(str) == visit]
    subjects = pd.Series(fit._frame.subject_codes, index=data.index).loc[rows.index]
    keys = zip(rows[factor_a].astype(str), rows[factor_b].astype(str), strict=True)
    frame = pd.DataFrame(list(keys), columns=["a", "b"], index=rows.index).assign(s=subjects)
    return frame.groupby(["a", "b"])["s"].nunique().to_dict()


def _interaction_levels(contrast: str, levels_a, levels_b) -> tuple[str, str]:
    """(a1, b1) of ``"a1:b1 - a1:b0 - a0:b1 + a0:b0"``."""
    for a in levels_a[1:]:
        for b in levels_b[1:]:
            if contrast == (f"{a}:{b} - {a}:{levels_b[0]} - {levels_a[0]}:{b} + "
                            f"{levels_a[0]}:{levels_b[0]}"):  # fmt: skip
                return a, b
    raise DataValidationError(f"consort_factorial_table: unexpected contrast {contrast!r}")


def _display(data, factor_a, factor_b, levels_a, levels_b, labels) -> pd.DataFrame:
    name_a, name_b = factor_label(factor_a, labels), factor_label(factor_b, labels)
    a0, b0 = levels_a[0], levels_b[0]
    diffs_a = [f"{a} - {a0}" for a in levels_a[1:]]
    diffs_b = [f"{b} - {b0}" for b in levels_b[1:]]

    def text(level: str) -> str:
        return labels.get(level, level)

    def difference(d: str) -> str:
        one, _, zero = d.partition(" - ")
        return f"{text(one)} - {text(zero)}"

    columns = ([f"{name_b}: {text(b)}" for b in levels_b] + [f"Mean over {name_b.lower()}"]
               + [f"{name_b}: {difference(d)}" for d in diffs_b])  # fmt: skip
    keys_b = [*levels_b, None, *diffs_b]
    index = data.set_index(["part", "level_a", "level_b"], drop=False)
    lookup = {}
    for (part, la, lb), row in index.iterrows():
        lookup[(la if la == la else None, lb if lb == lb else None)] = (part, row)
    out = []

    def line(first: str, key_a, what: str) -> None:
        row = {name_a: first}
        for column, key_b in zip(columns, keys_b, strict=True):
            found = lookup.get((key_a, key_b))
            if found is None:
                row[column] = ""
                continue
            part, numbers = found
            if what == "n":
                row[column] = "" if part not in ("cell", "margin") else str(numbers["n"])
            elif part in ("cell", "margin"):
                row[column] = format_estimate_ci(numbers)
            else:
                row[column] = f"{format_estimate_ci(numbers)}; p = {format_p(numbers['p_value'])}"
        out.append(row)

    for a in levels_a:
        line(text(a), a, "estimate")
        line(INDENT + "n", a, "n")
    line(f"Mean over {name_a.lower()}", None, "estimate")
    line(INDENT + "n", None, "n")
    total = data.loc[data["part"] == "cell", "n"].sum()
    out[-1][columns[len(levels_b)]] = str(total)  # the corner of the margins: everyone
    for d in diffs_a:
        line(difference(d), d, "estimate")
    return pd.DataFrame(out, columns=[name_a, *columns])


def _title(outcome, visit, factor_a, factor_b, labels) -> str:
    names = dict(labels or {})
    return (f"{outcome} at {visit} by {factor_label(factor_a, names).lower()} and "
            f"{factor_label(factor_b, names).lower()}: factorial analysis")


def _notes(fit, outcome, visit, levels_a, levels_b, contrasts) -> tuple[str, ...]:
    from ketex.primary import model_in_words

    what = outcome[:1].lower() + outcome[1:] if outcome[1:2].islower() else outcome
    a0, a1, b0, b1 = levels_a[0], levels_a[-1], levels_b[0], levels_b[-1]
    df = contrasts["df"]
    return (
        f"LS mean (95% CI) of {what} at {visit} from the mixed model for repeated measures "
        f"({fit._frame.formula}; {model_in_words([fit.covariance], fit.method, fit.df_method)}"
        f"); {fit.n_subjects} participants, {fit.n_obs} observations. n: participants with "
        f"an outcome at {visit}.",
        "Margins: each level's LS mean averaged over the other factor's levels with equal "
        "weights. Main effects (at the margins) are differences of these; simple effects "
        "(inside the table) are differences at one level of the other factor.",
        f"Interaction (bottom right): ({a1}:{b1} - {a1}:{b0}) - ({a0}:{b1} - {a0}:{b0}), the "
        f"difference between the simple effects; 0 when the effects add. Differences with "
        f"95% CI and two-sided p (t tests, {df.min():.0f} to {df.max():.0f} df), not "
        "adjusted for multiplicity.",
        "Layout after CONSORT for factorial trials (Kahan et al., JAMA 2023).",
    )
