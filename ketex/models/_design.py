"""The one model-frame builder: from a long DataFrame and a formula to a model's arrays.

Every model (:func:`ketex.mmrm`, :func:`ketex.lmm`, :func:`ketex.glmm`,
:func:`ketex.gee`) builds its data with :func:`build_model_frame`, which

- checks the column roles (outcome, subject, visit or time, covariance group,
  weights, offset, the random-effects formula's columns) and their values with
  :func:`ketex.models._frame_checks.check_frame`, every problem collected into one
  :class:`ketex.errors.DataValidationError` that names the column, the first row, the
  value and what to do, and begins with the model called ("Cannot fit the GEE: ...");
- reads pandas nullable dtypes (``Float64``, ``Int64``, ``boolean``, ``string``,
  ``string[pyarrow]``) as their NumPy counterparts, so that a fit on them equals the
  fit on NumPy dtypes;
- drops rows whose outcome or covariates are missing (and counts them);
- sorts the rows by subject, then visit (or, without a visit column, keeping their
  order within a subject), and refuses a subject with two rows at one visit.

A new model calls :func:`build_model_frame` with its roles and reads the
:class:`ModelFrame` (or :class:`GroupedFrame`, the same frame with subjects in sorted
label order and the names the random-effects results read).
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from dataclasses import dataclass
from typing import ClassVar

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
    "GroupedFrame",
    "ModelFrame",
    "build_model_frame",
    "formula_roles",
    "formula_variables",
]


@dataclass(frozen=True)
class ModelFrame:
    """The model's data, sorted by subject then visit, rows with missing values removed.

    ``visit_codes`` are the visits' positions in ``visit_levels``; without a visit
    column they are the rows' positions within their subject in the data given.
    ``starts`` is the first row of each subject.
    """

    formula: str
    outcome: str
    x: np.ndarray
    y: np.ndarray
    weights: np.ndarray
    offset: np.ndarray
    offset_column: str | None
    column_names: tuple[str, ...]
    subject: str  # the subject column's name
    subject_codes: np.ndarray  # 0, 1, ... in sorted row order
    subject_labels: pd.Index  # label of each code
    starts: np.ndarray
    visit_codes: np.ndarray
    visit_levels: tuple
    covariance_group_codes: np.ndarray
    covariance_group_levels: tuple
    z: np.ndarray | None  # random-effects design (LMM)
    z_names: tuple[str, ...]
    z_design_info: patsy.DesignInfo | None
    design_info: patsy.DesignInfo
    data: pd.DataFrame  # the used rows (original columns and index), same order as x
    n_rows: int
    n_missing_outcome: int
    n_missing_covariates: int

    #: subjects coded in order of first appearance (False) or of sorted labels (True)
    sorted_subjects: ClassVar[bool] = False

    @property
    def group_codes(self) -> np.ndarray:
        """The covariance group of each row (the MMRM results' name)."""
        return self.covariance_group_codes

    @property
    def group_levels(self) -> tuple:
        return self.covariance_group_levels

    @property
    def n_subjects(self) -> int:
        return int(self.starts.size)


@dataclass(frozen=True)
class GroupedFrame(ModelFrame):
    """A :class:`ModelFrame` for models with random effects per subject
    (:func:`ketex.lmm`, :func:`ketex.glmm`): subjects in sorted label order, and the
    names their results read (``group_codes`` is the subject of each row here)."""

    sorted_subjects: ClassVar[bool] = True

    @property
    def group_codes(self) -> np.ndarray:
        return self.subject_codes

    @property
    def group_labels(self) -> pd.Index:
        return self.subject_labels

    @property
    def groups(self) -> str:
        return self.subject

    @property
    def n_groups(self) -> int:
        return int(self.starts.size)

    @property
    def group_sizes(self) -> np.ndarray:
        return np.diff(np.r_[self.starts, self.x.shape[0]])


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
    *,
    model: str,
    subject: str,
    visit: str | None = None,
    visit_role: str = "visit",
    covariance_group: str | None = None,
    weights: str | None = None,
    offset: str | None = None,
    re_formula: str | None = None,
    visit_rule: str | None = None,
    kind: type[ModelFrame] = ModelFrame,
) -> ModelFrame:
    """Validate the inputs and build the model's frame.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data given to the model.
    formula : str
        The fixed-effects formula, ``outcome ~ terms``.
    model : str
        The model's name in messages: ``"Cannot fit the {model}: ..."``.
    subject : str
        Column of the independent unit (participant, cluster).
    visit : str, optional
        Column of visits; without it, rows keep their order within a subject.
    visit_role : str
        The visit column's role in messages (the GEE calls it ``time``).
    covariance_group, weights, offset : str, optional
        Columns of the MMRM's per-group covariance, of positive weights, and of an
        offset of the linear predictor (a row with a missing offset is dropped).
    re_formula : str, optional
        Right side of the random-effects formula (its design is ``z``).
    visit_rule : {None, "factor", "ordered"}
        ``"factor"``: a numeric visit column may not enter the formula as a number (the
        MMRM's mean per visit); ``"ordered"``: text visits must sort in visit order.
    kind : {ModelFrame, GroupedFrame}
        The frame built; :class:`GroupedFrame` codes subjects in sorted label order.

    Examples
    --------
    >>> d = pd.DataFrame({"id": [2, 2, 1, 1], "visit": ["W2", "W1", "W1", "W2"],
    ...                   "y": pd.array([1.0, None, 3.0, 4.0], dtype="Float64")})
    >>> frame = build_model_frame(d, "y ~ visit", model="MMRM", subject="id", visit="visit")
    >>> frame.y.tolist(), frame.subject_labels.tolist(), frame.n_missing_outcome
    ([1.0, 3.0, 4.0], [2, 1], 1)
    """
    extra = _check_roles(data, formula, model=model, subject=subject, visit=visit,
                         visit_role=visit_role, covariance_group=covariance_group,
                         weights=weights, offset=offset, re_formula=re_formula,
                         visit_rule=visit_rule)
    analysis = f"fit the {model}"
    frame = data.reset_index(drop=True)
    visit_column = visit
    if visit is None:
        visit_column = _POSITION
        frame = frame.assign(**{_POSITION: frame.groupby(subject, sort=False).cumcount()})
    roles = [subject, visit, covariance_group, weights, *extra]
    frame = _plain_dtypes(frame, formula_variables(formula, list(frame.columns))
                          + [c for c in roles if c is not None], _lhs(formula))
    frame = _categorise_strings(frame, formula)
    used, x_frame, outcome_frame, positions, n_missing = _used_rows(frame, formula, extra, model)
    check_design_finite(x_frame, data.index[positions], analysis)

    subject_codes, subject_labels = pd.factorize(used[subject], sort=kind.sorted_subjects)
    visit_levels = _ordered_levels(used[visit_column])
    visit_codes = pd.Categorical(used[visit_column], categories=visit_levels).codes.astype(
        np.int64)
    order = np.lexsort((visit_codes, subject_codes))
    subject_sorted, visit_sorted = subject_codes[order], visit_codes[order]
    _check_one_row_per_visit(subject_sorted, visit_sorted, subject_labels, subject, visit, model)
    group_codes, group_levels = _covariance_groups(used, covariance_group, subject_codes,
                                                   subject_labels, model)
    x = np.ascontiguousarray(x_frame.to_numpy(dtype=float)[order])
    _check_rank(x, tuple(str(c) for c in x_frame.columns), model)
    used_sorted = used.iloc[order]
    z, z_names, z_info = _random_effects_design(used_sorted, re_formula, data.columns, model)
    codes = _recode(subject_sorted)
    n = len(used_sorted)
    return kind(
        formula=formula,
        outcome=str(outcome_frame.columns[0]),
        x=x,
        y=outcome_frame.to_numpy(dtype=float)[order, 0],
        weights=used_sorted[weights].to_numpy(dtype=float) if weights is not None
        else np.ones(n),
        offset=used_sorted[offset].to_numpy(dtype=float) if offset is not None
        else np.zeros(n),
        offset_column=offset,
        column_names=tuple(str(c) for c in x_frame.columns),
        subject=subject,
        subject_codes=codes,
        subject_labels=pd.Index(subject_labels[np.unique(subject_sorted)]),
        starts=np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if n else np.zeros(0, int),
        visit_codes=visit_sorted,
        visit_levels=tuple(visit_levels),
        covariance_group_codes=group_codes[order],
        covariance_group_levels=tuple(group_levels),
        z=z,
        z_names=z_names,
        z_design_info=z_info,
        design_info=x_frame.design_info,
        data=used_sorted.drop(columns=[_POSITION], errors="ignore").set_axis(
            data.index[positions[order]], axis=0),
        n_rows=len(data),
        n_missing_outcome=n_missing[0],
        n_missing_covariates=n_missing[1],
    )


_POSITION = "__ketex_position_in_subject__"


def _lhs(formula: str) -> str:
    return formula.split("~", 1)[0].strip()


def _used_rows(frame: pd.DataFrame, formula: str, extra: list[str], model: str):
    """The rows with every value the model needs, their design, and what was dropped:
    rows missing an ``extra`` column (offset, random-effects covariate) first, then
    those patsy drops for a missing outcome or covariate."""
    has_extra = (frame[extra].notna().all(axis=1).to_numpy() if extra
                 else np.ones(len(frame), bool))
    kept_rows = np.flatnonzero(has_extra)
    subset = frame
    if kept_rows.size < len(frame):
        subset = frame.iloc[kept_rows].reset_index(drop=True)
        for column in subset.columns:
            if isinstance(subset[column].dtype, pd.CategoricalDtype):
                subset[column] = subset[column].cat.remove_unused_categories()
        if subset.empty:
            raise DataValidationError(
                f"Cannot fit the {model}: no row has every value of {extra}; check those "
                "columns and the filter that selected the rows.")
    outcome_frame, x_frame, used, positions, n_dropped, missing_outcome = _design_matrices(
        subset, formula, model)
    n_dropped_extra = int(len(frame) - kept_rows.size)
    return (used, x_frame, outcome_frame, kept_rows[positions],
            (missing_outcome, n_dropped - missing_outcome + n_dropped_extra))


def _check_one_row_per_visit(subjects, visits, labels, subject, visit, model) -> None:
    duplicated = (subjects[1:] == subjects[:-1]) & (visits[1:] == visits[:-1])
    if duplicated.any():
        who = labels[subjects[1:][duplicated]].unique()[:5].tolist()
        raise DataValidationError(
            f"Cannot fit the {model}: each subject may have at most one row per visit; "
            f"{int(duplicated.sum())} duplicated ({subject!r}, {visit!r}) pairs, e.g. "
            f"subjects {who}. Aggregate or remove duplicates.")


def _covariance_groups(used, column, subject_codes, subject_labels, model):
    if column is None:
        return np.zeros(len(used), dtype=np.int64), [None]
    levels = _ordered_levels(used[column])
    codes = pd.Categorical(used[column], categories=levels).codes.astype(np.int64)
    per_subject = pd.Series(codes).groupby(subject_codes).nunique()
    if (per_subject > 1).any():
        who = subject_labels[per_subject.index[per_subject > 1][:5]].tolist()
        raise DataValidationError(
            f"Cannot fit the {model}: covariance_group column {column!r} must be constant "
            f"within a subject; it changes for subjects {who}. Use a baseline "
            "characteristic such as the randomised arm.")
    return codes, levels


def _random_effects_design(used_sorted, re_formula, columns, model):
    if re_formula is None:
        return None, (), None
    try:
        z_frame = patsy.dmatrix(re_formula, used_sorted.reset_index(drop=True),
                                NA_action="raise", return_type="dataframe")
    except patsy.PatsyError as error:
        converted = formula_error(error, re_formula, columns, f"fit the {model}")
        if "is not defined" in str(error):
            converted.args = (converted.args[0] + " Pass re_formula= with your time "
                              "column, e.g. '1 + week'.",)
        raise converted from error
    return (np.ascontiguousarray(z_frame.to_numpy(dtype=float)),
            tuple(str(c) for c in z_frame.columns), z_frame.design_info)


def _plain_dtypes(frame: pd.DataFrame, columns: list[str], outcome: str) -> pd.DataFrame:
    """NumPy dtypes for the pandas nullable ones, so that a fit on them is the fit on
    NumPy dtypes (patsy cannot read ``pd.NA``).

    ``Int64`` without a missing value becomes int64, other nullable numbers float64
    with NaN; a boolean outcome becomes 0.0/1.0 (patsy would read it as a two-level
    factor); a ``boolean`` covariate becomes bool, or object with None when a value
    is missing (a factor whose missing values patsy recognises). ``string`` and
    ``string[pyarrow]`` columns need nothing: text columns of the formula become
    Categoricals (:func:`_categorise_strings`).
    """
    converted = {}
    for name in dict.fromkeys(columns):
        if name not in frame.columns:
            continue
        values = frame[name]
        dtype = values.dtype
        missing = bool(values.isna().any())
        if isinstance(dtype, pd.CategoricalDtype):
            continue
        if pd.api.types.is_bool_dtype(dtype):
            if name == outcome:
                converted[name] = values.astype("Float64").to_numpy(dtype=float,
                                                                    na_value=np.nan)
            elif isinstance(dtype, pd.api.extensions.ExtensionDtype):
                # pandas-stubs: na_value=None is valid (the missing marker of an object array)
                converted[name] = (values.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
                                   if missing
                                   else values.to_numpy(dtype=bool))
        elif isinstance(dtype, pd.api.extensions.ExtensionDtype) and \
                pd.api.types.is_numeric_dtype(dtype):
            converted[name] = (values.to_numpy(dtype=np.int64)
                               if pd.api.types.is_integer_dtype(dtype) and not missing
                               else values.to_numpy(dtype=float, na_value=np.nan))
    return frame.assign(**converted) if converted else frame


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


def _check_roles(data, formula, *, model, subject, visit, visit_role, covariance_group,
                 weights, offset, re_formula, visit_rule) -> list[str]:
    """Every problem with the column roles and their values, reported together; the
    columns (offset, random-effects covariates) whose missing values drop a row."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    if not isinstance(formula, str) or "~" not in formula or not _lhs(formula):
        raise DataValidationError(
            f"Cannot fit the {model}: formula must be a string such as "
            f"'change ~ arm * visit + baseline', got {formula!r}.")
    outcome, variables = formula_roles(data, formula)
    random = formula_variables(re_formula, list(data.columns)) if re_formula else []
    check_frame(
        data, analysis=f"fit the {model}", numbers={"outcome": outcome, "offset": offset},
        positive={"weights": weights},
        ids={"subject": subject, visit_role: visit, "covariance_group": covariance_group},
        variables={"formula": variables, "re_formula": random},
        extra=_visit_problems(data, formula, visit, visit_role, visit_rule),
    )
    return ([offset] if offset is not None else []) + random


def _visit_problems(data: pd.DataFrame, formula: str, visit, visit_role: str,
                    rule: str | None) -> list[tuple[str, str, str]]:
    """The visit column's own rule, as (column, rule, message): ``"factor"`` (the
    MMRM's: a mean per visit) or ``"ordered"`` (the GEE's AR(1) and unstructured
    working correlations: over visits in order)."""
    if rule is None or not isinstance(visit, str) or visit not in data.columns:
        return []
    if rule == "factor":
        message = _visit_used_as_number(data[visit], formula, visit)
    else:
        message = _ambiguous_visit_order(data[visit], visit_role)
    return [] if message is None else [(visit, f"visit_{rule}", message)]


def _visit_used_as_number(values: pd.Series, formula: str, visit: str) -> str | None:
    """A numeric visit column used as a number in the formula (refused as R's mmrm does).

    As a number, the visit would be one straight line over time instead of a mean per
    visit; ``C(visit)`` in the formula, or a Categorical column, makes it a factor.
    """
    if isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(values) \
            or not pd.api.types.is_numeric_dtype(values):
        return None
    tokens = [t.string for t in tokenize.generate_tokens(io.StringIO(formula).readline)
              if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)]
    bare = [k for k, t in enumerate(tokens) if t == visit
            and not (k >= 2 and tokens[k - 1] == "(" and tokens[k - 2] == "C")]
    if not bare:
        return None
    levels = sorted(values.dropna().unique().tolist())
    return (
        f"the visit column {visit!r} is numeric "
        f"({', '.join(f'{v:g}' for v in levels[:6])}{', ...' if len(levels) > 6 else ''})"
        f" and {formula!r} uses it as a number, which fits one straight line over time "
        "instead of a mean per visit. Make it a factor in visit order: "
        f"data[{visit!r}] = pd.Categorical(data[{visit!r}]), or write C({visit}) in the "
        "formula (a deliberate time trend belongs in a column of its own)")


def _natural_key(text: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _ambiguous_visit_order(values: pd.Series, role: str) -> str | None:
    """Text visits whose sorted order is not their numeric order ('W12' < 'W2')."""
    if isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_numeric_dtype(values):
        return None
    levels = sorted(str(v) for v in values.dropna().unique())
    if levels == sorted(levels, key=_natural_key):
        return None
    return (
        f"{role} column {values.name!r} is text whose alphabetical order {levels} is not "
        "the visit order; make it a Categorical with the visits in order (e.g. "
        f"pd.Categorical(d[{values.name!r}], categories=[...])) or use visit numbers"
    )


def _design_matrices(frame: pd.DataFrame, formula: str, model: str):
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
            f"Cannot fit the {model}: the left side of {formula!r} must be one numeric "
            "outcome column.")
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


def _check_rank(x: np.ndarray, names: tuple[str, ...], model: str) -> None:
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
        f"Cannot fit the {model}: the fixed-effects design is rank deficient ({detail}). "
        "This happens when a factor combination (e.g. an arm x visit cell) has no observed "
        "outcome; drop the empty "
        "level or simplify the formula."
    )
