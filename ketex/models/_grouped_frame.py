"""From a long DataFrame, a formula and a grouping column to the arrays of a mixed model.

The counterpart of :mod:`ketex.models._design` for models with random effects per
group (:func:`ketex.lmm`, :func:`ketex.glmm`): checks the column roles, collects every
problem before raising, drops rows with a missing outcome or covariate (and counts
them), and sorts the rows by group, keeping their order within a group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import patsy

from ketex.errors import DataValidationError
from ketex.models._design import (
    _categorise_strings,
    _check_rank,
    _design_matrices,
    formula_roles,
    formula_variables,
)
from ketex.models._frame_checks import check_design_finite, check_frame, formula_error

__all__ = ["GroupedFrame", "build_grouped_frame"]


@dataclass(frozen=True)
class GroupedFrame:
    """The model's data sorted by group, rows with missing values removed."""

    formula: str
    outcome: str
    x: np.ndarray
    y: np.ndarray
    column_names: tuple[str, ...]
    group_codes: np.ndarray  # 0, 1, ... in sorted row order
    group_labels: pd.Index  # label of each code
    starts: np.ndarray  # first row of each group
    offset: np.ndarray
    offset_column: str | None
    z: np.ndarray | None  # random-effects design (LMM)
    z_names: tuple[str, ...]
    z_design_info: patsy.DesignInfo | None
    design_info: patsy.DesignInfo
    data: pd.DataFrame  # the used rows (original columns and index), same order as x
    groups: str
    n_rows: int
    n_missing_outcome: int
    n_missing_covariates: int

    @property
    def n_groups(self) -> int:
        return int(self.starts.size)

    @property
    def group_sizes(self) -> np.ndarray:
        return np.diff(np.r_[self.starts, self.x.shape[0]])


def build_grouped_frame(
    data: pd.DataFrame,
    formula: str,
    groups: str,
    *,
    re_formula: str | None = None,
    offset: str | None = None,
    model: str = "mixed model",
) -> GroupedFrame:
    """Validate the inputs and build a :class:`GroupedFrame`."""
    _check_roles(data, formula, groups, offset, model)
    extra = [offset] if offset is not None else []
    if re_formula is not None:
        extra += formula_variables(re_formula, list(data.columns))
    outcome, variables = formula_roles(data, formula)
    check_frame(data, analysis=f"fit the {model}", numbers={"outcome": outcome, "offset": offset},
                ids={"groups": groups}, variables={"formula": variables, "re_formula": extra})
    frame = data.reset_index(drop=True)
    lhs = formula.split("~", 1)[0].strip()
    frame = _plain_dtypes(frame, formula_variables(formula, list(frame.columns)) + extra, lhs)
    frame = _categorise_strings(frame, formula)
    has_extra = frame[extra].notna().all(axis=1).to_numpy() if extra else np.ones(len(frame), bool)
    kept_rows = np.flatnonzero(has_extra)
    subset = frame.iloc[kept_rows].reset_index(drop=True)
    if kept_rows.size < len(frame):
        for column in subset.columns:
            if isinstance(subset[column].dtype, pd.CategoricalDtype):
                subset[column] = subset[column].cat.remove_unused_categories()
    if subset.empty:
        raise DataValidationError(f"Cannot fit the {model}: no rows with {extra} all present.")
    outcome_frame, x_frame, used, positions, n_dropped, missing_outcome = _design_matrices(
        subset, formula, model
    )
    positions = kept_rows[positions]
    check_design_finite(x_frame, data.index[positions], f"fit the {model}")
    n_dropped_extra = int((~has_extra).sum())

    codes, labels = pd.factorize(used[groups], sort=True)
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    x = np.ascontiguousarray(x_frame.to_numpy(dtype=float)[order])
    _check_rank(x, tuple(str(c) for c in x_frame.columns))
    used_sorted = used.iloc[order]
    z, z_names, z_info = None, (), None
    if re_formula is not None:
        try:
            z_frame = patsy.dmatrix(
                re_formula, used_sorted.reset_index(drop=True), NA_action="raise",
                return_type="dataframe",
            )
        except patsy.PatsyError as error:
            converted = formula_error(error, re_formula, data.columns, f"fit the {model}")
            if "is not defined" in str(error):
                converted.args = (converted.args[0] + " Pass re_formula= with your time "
                                  "column, e.g. '1 + week'.",)
            raise converted from error
        z = np.ascontiguousarray(z_frame.to_numpy(dtype=float))
        z_names = tuple(str(c) for c in z_frame.columns)
        z_info = z_frame.design_info
    offset_values = (
        pd.to_numeric(used_sorted[offset]).to_numpy(dtype=float)
        if offset is not None
        else np.zeros(len(used_sorted))
    )
    return GroupedFrame(
        formula=formula,
        outcome=str(outcome_frame.columns[0]),
        x=x,
        y=outcome_frame.to_numpy(dtype=float)[order, 0],
        column_names=tuple(str(c) for c in x_frame.columns),
        group_codes=codes.astype(np.int64),
        group_labels=pd.Index(labels),
        starts=starts,
        offset=offset_values,
        offset_column=offset,
        z=z,
        z_names=z_names,
        z_design_info=z_info,
        design_info=x_frame.design_info,
        data=used_sorted.set_axis(data.index[positions[order]], axis=0),
        groups=groups,
        n_rows=len(data),
        n_missing_outcome=missing_outcome,
        n_missing_covariates=n_dropped - missing_outcome + n_dropped_extra,
    )


def _plain_dtypes(frame: pd.DataFrame, columns: list[str], outcome: str) -> pd.DataFrame:
    """NumPy dtypes for the nullable ones patsy cannot read (pd.NA is not NaN).

    Nullable numbers become float64 with NaN; a boolean outcome becomes 0.0/1.0 (patsy
    would read it as a two-level factor); a nullable boolean covariate becomes object
    (a factor whose missing values patsy recognises).
    """
    converted = {}
    for name in dict.fromkeys(columns):
        values = frame[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            continue
        if pd.api.types.is_bool_dtype(values.dtype):
            if name == outcome:
                converted[name] = values.astype("Float64").to_numpy(dtype=float,
                                                                    na_value=np.nan)
            elif isinstance(values.dtype, pd.BooleanDtype):
                converted[name] = values.astype(object).where(values.notna(), None)
        elif isinstance(values.dtype, pd.api.extensions.ExtensionDtype) and \
                pd.api.types.is_numeric_dtype(values.dtype):
            converted[name] = values.to_numpy(dtype=float, na_value=np.nan)
    return frame.assign(**converted) if converted else frame


def _check_roles(data, formula, groups, offset, model) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    if not isinstance(formula, str) or "~" not in formula:
        raise DataValidationError(
            f"formula must be a string such as 'remission ~ arm * visit', got {formula!r}."
        )
    if not isinstance(groups, str):
        raise TypeError(f"groups must be the name of one column, got {groups!r}.")
