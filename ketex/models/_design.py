"""From a long DataFrame and a formula to the arrays an MMRM fit needs.

Checks the column roles (subject, visit, group, weights), collects every problem
before raising, drops rows whose outcome or covariates are missing (and counts
them), and sorts the rows by subject, then visit.
"""

from __future__ import annotations

import io
import keyword
import tokenize
from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy

from ketex.errors import DataValidationError
from ketex.models._frame_checks import (
    check_design_finite,
    check_frame,
    check_levels,
    formula_error,
)

__all__ = [
    "ModelFrame",
    "build_model_frame",
    "check_visit_is_a_factor",
    "formula_roles",
    "formula_variables",
]


@dataclass(frozen=True)
class ModelFrame:
    """The model's data, sorted by subject then visit, missing rows removed."""

    formula: str
    outcome: str
    x: np.ndarray
    y: np.ndarray
    weights: np.ndarray
    column_names: tuple[str, ...]
    subject_codes: np.ndarray
    subject_labels: pd.Index
    visit_codes: np.ndarray
    visit_levels: tuple
    group_codes: np.ndarray
    group_levels: tuple
    design_info: patsy.DesignInfo
    data: pd.DataFrame  # the used rows (original columns and index), same order as x
    n_rows: int
    n_missing_outcome: int
    n_missing_covariates: int


def formula_variables(code: str, columns) -> list[str]:
    """Column names that appear as identifiers in a piece of formula code.

    Examples
    --------
    >>> formula_variables("C(ARM, Treatment('PBO')) * VISIT + BASE", ["ARM", "VISIT", "BASE", "X"])
    ['ARM', 'VISIT', 'BASE']
    """
    names: list[str] = []
    tokens = tokenize.generate_tokens(io.StringIO(code).readline)
    try:
        for token in tokens:
            if (
                token.type == tokenize.NAME
                and token.string in columns
                and not keyword.iskeyword(token.string)
                and token.string not in names
            ):
                names.append(token.string)
    except tokenize.TokenError:  # pragma: no cover - patsy has parsed it already
        pass
    return names


def _ordered_levels(values: pd.Series) -> list:
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().unique())
        return [c for c in values.cat.categories if c in present]
    return sorted(values.dropna().unique().tolist())


def build_model_frame(
    data: pd.DataFrame,
    formula: str,
    subject: str,
    visit: str,
    group: str | None,
    weights: str | None,
    model: str = "MMRM",
) -> ModelFrame:
    """Validate the inputs and build a :class:`ModelFrame`."""
    _check_roles(data, formula, subject, visit, group, weights, model)
    frame = _categorise_strings(data.reset_index(drop=True), formula)
    outcome_frame, x_frame, used, positions, n_dropped, missing_outcome = _design_matrices(
        frame, formula, model
    )
    check_design_finite(x_frame, data.index[positions], f"fit the {model}")
    visit_levels = _ordered_levels(used[visit])
    visit_codes = pd.Categorical(used[visit], categories=visit_levels).codes.astype(np.int64)
    subject_codes, subject_labels = pd.factorize(used[subject], sort=False)
    if group is not None:
        group_levels = _ordered_levels(used[group])
        group_codes = pd.Categorical(used[group], categories=group_levels).codes.astype(np.int64)
    else:
        group_levels, group_codes = [None], np.zeros(len(used), dtype=np.int64)
    weight_values = (
        used[weights].to_numpy(dtype=float) if weights is not None else np.ones(len(used))
    )

    order = np.lexsort((visit_codes, subject_codes))
    subject_sorted, visit_sorted = subject_codes[order], visit_codes[order]
    duplicated = (subject_sorted[1:] == subject_sorted[:-1]) & (
        visit_sorted[1:] == visit_sorted[:-1]
    )
    if duplicated.any():
        who = subject_labels[subject_sorted[1:][duplicated]].unique()[:5].tolist()
        raise DataValidationError(
            f"Each subject may have at most one row per visit; {int(duplicated.sum())} duplicated "
            f"({subject!r}, {visit!r}) pairs, e.g. subjects {who}. Aggregate or remove duplicates."
        )
    if group is not None:
        per_subject = pd.Series(group_codes).groupby(subject_codes).nunique()
        if (per_subject > 1).any():
            who = subject_labels[per_subject.index[per_subject > 1][:5]].tolist()
            raise DataValidationError(
                f"group column {group!r} must be constant within a subject; it changes for "
                f"subjects {who}."
            )
    x = np.ascontiguousarray(x_frame.to_numpy(dtype=float)[order])
    _check_rank(x, tuple(x_frame.columns))
    return ModelFrame(
        formula=formula,
        outcome=str(outcome_frame.columns[0]),
        x=x,
        y=outcome_frame.to_numpy(dtype=float)[order, 0],
        weights=weight_values[order],
        column_names=tuple(str(c) for c in x_frame.columns),
        subject_codes=_recode(subject_sorted),
        subject_labels=pd.Index(subject_labels[np.unique(subject_sorted)]),
        visit_codes=visit_sorted,
        visit_levels=tuple(visit_levels),
        group_codes=group_codes[order],
        group_levels=tuple(group_levels),
        design_info=x_frame.design_info,
        data=used.iloc[order].set_axis(data.index[positions[order]], axis=0),
        n_rows=len(data),
        n_missing_outcome=missing_outcome,
        n_missing_covariates=n_dropped - missing_outcome,
    )


def formula_roles(data: pd.DataFrame, formula: str) -> tuple[list[str], list[str]]:
    """The outcome column(s) and the right-hand side's columns of a formula.

    A left side that is a plain name is the outcome even when it is not a column, so
    that the check reports it missing.

    Examples
    --------
    >>> formula_roles(pd.DataFrame(columns=["ARM", "BASE"]), "CHG ~ ARM + np.log(BASE)")
    (['CHG'], ['ARM', 'BASE'])
    """
    lhs, rhs = formula.split("~", 1)
    lhs = lhs.strip()
    columns = list(data.columns)
    outcome = [lhs] if lhs.isidentifier() and not keyword.iskeyword(lhs) else \
        formula_variables(lhs, columns)
    return outcome, formula_variables(rhs, columns)


def _check_roles(data, formula, subject, visit, group, weights, model) -> None:
    """Every problem with the column roles and their values, reported together."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    if not isinstance(formula, str) or "~" not in formula:
        raise DataValidationError(
            f"formula must be a string such as 'change ~ arm * visit + baseline', got {formula!r}."
        )
    outcome, variables = formula_roles(data, formula)
    check_frame(
        data, analysis=f"fit the {model}", numbers={"outcome": outcome, "weights": weights},
        ids={"subject": subject, "visit": visit, "group": group},
        variables={"formula": variables},
    )
    problems = []
    if weights is not None:
        w = pd.to_numeric(data[weights], errors="coerce")
        bad = ~(np.isfinite(w) & (w > 0))
        if bad.any():
            problems.append(
                f"weights column {weights!r} must be positive and finite; "
                f"{int(bad.sum())} rows are not (first rows: {data.index[bad][:5].tolist()})"
            )
    if problems:
        raise DataValidationError(f"Cannot fit the {model}: " + "; ".join(problems) + ".")


def check_visit_is_a_factor(data: pd.DataFrame, formula: str, visit: str) -> None:
    """Refuse a numeric visit column used as a number in the formula (as R's mmrm does).

    As a number, the visit would be one straight line over time instead of a mean per
    visit; ``C(visit)`` in the formula, or a Categorical column, makes it a factor.
    """
    values = data[visit]
    if isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(values) \
            or not pd.api.types.is_numeric_dtype(values):
        return
    tokens = [t.string for t in tokenize.generate_tokens(io.StringIO(formula).readline)
              if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)]
    bare = [k for k, t in enumerate(tokens) if t == visit
            and not (k >= 2 and tokens[k - 1] == "(" and tokens[k - 2] == "C")]
    if bare:
        levels = sorted(values.dropna().unique().tolist())
        raise DataValidationError(
            f"Cannot fit the MMRM: the visit column {visit!r} is numeric "
            f"({', '.join(f'{v:g}' for v in levels[:6])}{', ...' if len(levels) > 6 else ''})"
            f" and {formula!r} uses it as a number, which fits one straight line over time "
            "instead of a mean per visit. Make it a factor in visit order: "
            f"data[{visit!r}] = pd.Categorical(data[{visit!r}]), or write C({visit}) in the "
            "formula (a deliberate time trend belongs in a column of its own).")


def _design_matrices(frame: pd.DataFrame, formula: str, model: str = "MMRM"):
    """patsy design on the rows with outcome and covariates, and what was dropped."""
    lhs = formula.split("~", 1)[0].strip()
    try:
        outcome_frame, x_frame = patsy.dmatrices(
            formula, frame, NA_action="drop", return_type="dataframe"
        )
    except patsy.PatsyError as error:
        raise formula_error(error, formula, frame.columns, f"fit the {model}") from error
    kept = x_frame.index.to_numpy()
    n_dropped = len(frame) - kept.size
    if kept.size == 0 or outcome_frame.shape[0] == 0:
        raise DataValidationError(_nothing_left(frame, formula, model))
    missing_outcome = 0
    if n_dropped:
        if lhs in frame.columns:
            missing_outcome = int(frame[lhs].isna().sum())
        used = frame.loc[kept].reset_index(drop=True)
        # rebuild on the used rows so that levels seen only in dropped rows vanish
        for column in used.columns:
            if isinstance(used[column].dtype, pd.CategoricalDtype):
                used[column] = used[column].cat.remove_unused_categories()
        outcome_frame, x_frame = patsy.dmatrices(
            formula, used, NA_action="raise", return_type="dataframe"
        )
    else:
        used = frame
    positions = kept if n_dropped else np.arange(len(frame))
    if outcome_frame.shape[1] != 1:
        raise DataValidationError(
            f"The left side of {formula!r} must be one numeric outcome column.")
    check_levels(used, analysis=f"fit the {model}",
                 factors=formula_variables(formula.split("~", 1)[1], list(used.columns)),
                 design_info=x_frame.design_info)

    return outcome_frame, x_frame, used, positions, n_dropped, missing_outcome


def _nothing_left(frame: pd.DataFrame, formula: str, model: str) -> str:
    columns = formula_variables(formula, list(frame.columns))
    missing = ", ".join(f"{c!r} missing in {int(frame[c].isna().sum())}" for c in columns
                        if frame[c].isna().any())
    return (f"Cannot fit the {model}: none of the {len(frame)} rows has every value "
            f"{formula!r} needs ({missing or 'no value missing'}). Check the filter that "
            "selected the rows (a comparison with a missing ADaM flag such as ABLFL != 'Y' "
            "is missing, not True) and the columns' names.")


def _categorise_strings(frame: pd.DataFrame, formula: str) -> pd.DataFrame:
    """Turn text columns of the formula into Categoricals with sorted levels.

    These are the levels patsy would choose itself, but patsy reads a Categorical's
    codes in one step instead of looking at every string (minutes at 10^6 rows).
    """
    columns = formula_variables(formula, list(frame.columns))
    converted = {}
    for name in columns:
        values = frame[name]
        if isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_numeric_dtype(values):
            continue
        if pd.api.types.is_bool_dtype(values):
            continue
        levels = sorted(values.dropna().unique().tolist())
        converted[name] = pd.Categorical(values, categories=levels)
    return frame.assign(**converted) if converted else frame


def _recode(sorted_codes: np.ndarray) -> np.ndarray:
    """Consecutive codes 0, 1, ... in order of first appearance of sorted codes."""
    return np.cumsum(np.r_[0, (sorted_codes[1:] != sorted_codes[:-1]).astype(np.int64)])


def _check_rank(x: np.ndarray, names: tuple[str, ...]) -> None:
    gram = x.T @ x
    scale = np.sqrt(np.clip(np.diag(gram), 1e-300, None))
    eigenvalues, vectors = np.linalg.eigh(gram / np.outer(scale, scale))
    tol = eigenvalues.max() * x.shape[1] * 1e-12
    if eigenvalues.min() > tol:
        return
    zero_columns = [n for n, s in zip(names, np.diag(gram), strict=True) if s == 0]
    null = vectors[:, eigenvalues <= tol]
    involved = [n for n, v in zip(names, np.abs(null).max(axis=1), strict=True) if v > 1e-6]
    detail = (
        f"columns with no observations: {zero_columns}"
        if zero_columns
        else f"linearly dependent columns: {involved}"
    )
    raise DataValidationError(
        f"The fixed-effects design is rank deficient ({detail}). This happens when a factor "
        "combination (e.g. an arm x visit cell) has no observed outcome; drop the empty "
        "level or simplify the formula."
    )
