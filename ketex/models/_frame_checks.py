"""The checks every model runs on the frame it is given, before any number is computed.

One place for :func:`ketex.mmrm`, :func:`ketex.lmm`, :func:`ketex.glmm`,
:func:`ketex.gee`, the survival functions and :func:`ketex.mediation`: a missing
column, an empty frame, a cell that is not a number in a numeric column, an infinite
value, a column with no value at all, a missing identifier, a factor with a single
level and a formula that names an unknown column each raise
:class:`ketex.errors.DataValidationError` naming the column, the first offending row
(the frame's index label) and its value, and what to do. Every problem is collected
before raising; the error's ``report`` has one row per problem.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ketex.errors import DataValidationError
from ketex.study.problems import number_hint

__all__ = [
    "check_design_finite",
    "check_frame",
    "check_levels",
    "formula_error",
    "missing_columns",
]

Roles = Mapping[str, "str | Iterable[str] | None"]


@dataclass(frozen=True)
class _Problem:
    column: str | None
    row: object
    value: object
    rule: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "row", _plain(self.row))
        object.__setattr__(self, "value", _plain(self.value))


def _plain(value):
    """A NumPy scalar as the Python value it holds, so that messages read ``inf``."""
    return value.item() if isinstance(value, np.generic) else value


def _columns_of(roles: Roles | None) -> list[tuple[str, str]]:
    """(role, column) pairs, a role naming one column or several."""
    pairs: list[tuple[str, str]] = []
    for role, columns in (roles or {}).items():
        if columns is None:
            continue
        for column in [columns] if isinstance(columns, str) else list(columns):
            if (role, column) not in pairs:
                pairs.append((role, column))
    return pairs


def _error(problems: list[_Problem], analysis: str, suffix: str = "") -> DataValidationError:
    report = pd.DataFrame(
        {
            "table": "data",
            "source_file": None,
            "line": [p.row for p in problems],
            "participant_id": None,
            "column": [p.column for p in problems],
            "value": [None if p.value is None else repr(p.value) for p in problems],
            "rule": [p.rule for p in problems],
            "severity": "error",
            "message": [p.message for p in problems],
        }
    )
    return DataValidationError(
        f"Cannot {analysis}: " + "; ".join(p.message for p in problems) + "." + suffix, report
    )


def _raise(problems: list[_Problem], analysis: str, suffix: str = "") -> None:
    if problems:
        raise _error(problems, analysis, suffix)


def _close(name: str, columns) -> str:
    found = difflib.get_close_matches(str(name), [str(c) for c in columns], n=1, cutoff=0.6)
    if not found and isinstance(name, str):
        found = [str(c) for c in columns if str(c).casefold() == name.casefold()][:1]
    return f" (did you mean {found[0]!r}?)" if found else ""


def missing_columns(data: pd.DataFrame, roles: Roles, analysis: str) -> None:
    """Every role must name a column of ``data``; all missing ones are reported together."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    problems = []
    for role, column in _columns_of(roles):
        if not isinstance(column, str):
            problems.append(_Problem(None, None, column, "bad_role",
                                     f"{role} must be a column name (str), got {column!r}"))
        elif column not in data.columns:
            problems.append(_Problem(
                column, None, None, "missing_column",
                f"{role} column {column!r} is not in the data{_close(column, data.columns)}"))
    _raise(problems, analysis, f" Columns are: {list(data.columns)}.")


def _first(index: pd.Index, mask: np.ndarray) -> tuple[int, int, object, str]:
    """How many rows the mask marks, the first one's position and index label, and
    where they are in words ("at row 3 (rows [3, 7])")."""
    where = np.flatnonzero(mask)
    row = _plain(index[where[0]])
    text = f"at row {row!r}"
    if where.size > 1:
        shown = [_plain(label) for label in index[where[:5]]]
        text += f" (rows {shown}{' ...' if where.size > 5 else ''})"
    return int(where.size), int(where[0]), row, text


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _is_number_dtype(values: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(values.dtype) or (
        pd.api.types.is_numeric_dtype(values.dtype)
        and not isinstance(values.dtype, pd.CategoricalDtype)
    )


def _as_numbers(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean").to_numpy(dtype=float, na_value=np.nan)
    if _is_number_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)
    # parse each distinct value once: a factor column of 10^6 rows has a few
    codes, uniques = pd.factorize(values.astype(object))
    parsed = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan)
    return np.where(codes >= 0, parsed[np.maximum(codes, 0)] if parsed.size else np.nan, np.nan)


def _text_cells(values: pd.Series, numbers: np.ndarray) -> np.ndarray:
    return values.notna().to_numpy() & np.isnan(numbers)


def _number_problems(values: pd.Series, role: str, column: str) -> list[_Problem]:
    """A column that must hold numbers: text, infinite values, nothing at all."""
    numbers = _as_numbers(values)
    problems = []
    if not _is_number_dtype(values):
        text = _text_cells(values, numbers)
        if text.any():
            count, at, row, where = _first(values.index, text)
            value = _plain(values.iloc[at])
            problems.append(_Problem(
                column, row, value, "non_numeric",
                f"{role} column {column!r} holds {_plural(count, 'value')} that "
                f"{'is' if count == 1 else 'are'} not a number, the first {value!r}"
                f"{number_hint(value)} {where}; correct the source, or recode the column as "
                "numbers (cells that mean missing may be left empty: pd.to_numeric(data["
                f"{column!r}], "
                "errors='coerce') makes every such cell missing)"))
        elif values.notna().any():
            _, at, row, where = _first(values.index, values.notna().to_numpy())
            value = _plain(values.iloc[at])
            problems.append(_Problem(
                column, row, value, "non_numeric",
                f"{role} column {column!r} holds numbers stored as {values.dtype} (e.g. "
                f"{value!r} {where}); convert it with "
                f"pd.to_numeric(data[{column!r}])"))
    problems += _finite_problems(values, numbers, role, column)
    return problems


def _finite_problems(values: pd.Series, numbers: np.ndarray, role: str,
                     column: str) -> list[_Problem]:
    problems = []
    infinite = np.isinf(numbers)
    if infinite.any():
        count, at, row, where = _first(values.index, infinite)
        value = _plain(numbers[at])
        problems.append(_Problem(
            column, row, value, "infinite_value",
            f"{role} column {column!r} holds {_plural(count, 'infinite value')}, the first "
            f"{value!r} {where}; replace it with a finite number or leave it empty "
            "(missing)"))
    if len(values) and values.isna().all():
        problems.append(_Problem(
            column, None, None, "all_missing",
            f"{role} column {column!r} has no value: all {len(values)} rows are missing; "
            "check the column and the filter that selected the rows"))
    return problems


def _positive_problems(values: pd.Series, role: str, column: str) -> list[_Problem]:
    """A column of positive finite numbers (weights); a missing value is not one either."""
    problems = _number_problems(values, role, column)
    if problems:
        return problems
    numbers = _as_numbers(values)
    bad = ~(numbers > 0)
    if not bad.any():
        return []
    count, at, row, where = _first(values.index, bad)
    value = _plain(numbers[at])
    return [_Problem(
        column, row, value, "not_positive",
        f"{role} column {column!r} must be positive and finite; {_plural(count, 'row')} "
        f"{'is' if count == 1 else 'are'} not, the first {value!r} {where}; give every row a "
        "positive weight or drop the rows that should not count")]


def _variable_problems(values: pd.Series, role: str, column: str) -> list[_Problem]:
    """A formula column: numeric, or a factor; not numbers with stray text in them.

    A text column whose cells are mostly numbers is taken to be a numeric column with
    bad cells (patsy would silently read it as a factor with a level per number); a
    text factor coded with digits is told apart by having no other text, and a
    Categorical column is always a factor.
    """
    if isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(values.dtype):
        return _finite_problems(values, np.zeros(len(values)), role, column)
    if _is_number_dtype(values):
        return _finite_problems(values, _as_numbers(values), role, column)
    numbers = _as_numbers(values)
    text = _text_cells(values, numbers)
    problems = []
    if text.any() and (~np.isnan(numbers)).sum() > text.sum():
        count, at, row, where = _first(values.index, text)
        value = _plain(values.iloc[at])
        problems.append(_Problem(
            column, row, value, "non_numeric",
            f"{role} column {column!r} holds numbers and {_plural(count, 'cell')} that "
            f"{'is' if count == 1 else 'are'} not a number, the first {value!r}"
            f"{number_hint(value)} {where}; "
            "correct the source or recode it as numbers (pd.to_numeric(data["
            f"{column!r}], errors='coerce') makes such cells missing), or, if it is a "
            f"factor, make it one: data[{column!r}] = pd.Categorical(data[{column!r}])"))
    return problems + _finite_problems(values, np.zeros(len(values)), role, column)


def _id_problems(values: pd.Series, role: str, column: str) -> list[_Problem]:
    missing = values.isna().to_numpy()
    if not missing.any():
        return []
    count, at, row, where = _first(values.index, missing)
    return [_Problem(
        column, row, _plain(values.iloc[at]), "missing_value",
        f"{role} column {column!r} has {_plural(count, 'missing value')}, the first "
        f"{where}; every row needs one: fill them in or drop those rows")]


def check_frame(
    data: pd.DataFrame,
    *,
    analysis: str,
    numbers: Roles | None = None,
    ids: Roles | None = None,
    variables: Roles | None = None,
    positive: Roles | None = None,
    extra: Iterable[tuple[str | None, str, str]] = (),
) -> None:
    """Check a model's input frame; raise one error listing every problem.

    Parameters
    ----------
    data : pandas.DataFrame
        The frame given to the model.
    analysis : str
        What cannot be done, as in ``"fit the MMRM"`` ("Cannot fit the MMRM: ...").
    numbers : mapping of role to column(s)
        Columns that must hold finite numbers (or True/False): outcomes, times, weights.
    ids : mapping of role to column(s)
        Columns that may have no missing value: subjects, clusters, visits.
    variables : mapping of role to column(s)
        Other formula columns, numeric or factors; their missing values drop rows.
    positive : mapping of role to column(s)
        Columns of positive finite numbers with no missing value: weights.
    extra : iterable of (column, rule, message)
        The caller's own problems (found on columns known to exist), reported with
        the others.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"CHG": [1.0, "n/a", 2.0], "ARM": ["A", "B", "A"]})
    >>> try:
    ...     check_frame(frame, analysis="fit the MMRM", numbers={"outcome": "CHG"})
    ... except ValueError as error:
    ...     print(str(error)[:80])
    Cannot fit the MMRM: outcome column 'CHG' holds 1 value that is not a number, th
    """
    missing_columns(data, {**(numbers or {}), **(positive or {}), **(ids or {}),
                           **(variables or {})}, analysis)
    if data.empty:
        _raise([_Problem(None, None, None, "empty_table",
                         "the data have no rows; check the filter that selected them")],
               analysis)
    problems: list[_Problem] = []
    seen: set[str] = set()
    for check, roles in ((_number_problems, numbers), (_positive_problems, positive),
                         (_id_problems, ids), (_variable_problems, variables)):
        for role, column in _columns_of(roles):
            if column in seen:
                continue
            seen.add(column)
            problems += check(data[column], role, column)
    problems += [_Problem(column, None, None, rule, message) for column, rule, message in extra]
    _raise(problems, analysis)


def check_levels(
    used: pd.DataFrame,
    *,
    analysis: str,
    factors: Iterable[str] = (),
    varying: Iterable[str] = (),
    design_info=None,
) -> None:
    """Refuse a term the rows used cannot estimate: a factor with one level.

    ``factors`` are formula columns (only the text, boolean and Categorical ones are
    factors); ``varying`` are numeric columns that must take two values or more (a
    mediation exposure). ``design_info`` adds the ``C(...)`` factors of a patsy design.
    """
    problems = []
    named = set()
    for column in dict.fromkeys([*factors, *varying]):
        if column not in used.columns:
            continue
        values = used[column]
        if column not in varying and _is_number_dtype(values) and \
                not pd.api.types.is_bool_dtype(values.dtype):
            continue
        present = [_plain(v) for v in values.dropna().unique()]
        if len(present) == 1:
            named.add(column)
            kind = "takes a single value" if column in varying else "has a single level"
            problems.append(_Problem(
                column, None, present[0], "single_level",
                f"column {column!r} {kind} ({present[0]!r}) in the {len(used)} rows used, so "
                "its effect cannot be estimated; drop it from the model, or check the filter "
                "that selected the rows (and the rows dropped for missing values)"))
    if design_info is not None:
        for factor, info in design_info.factor_infos.items():
            name = factor.name()
            if info.type == "categorical" and len(info.categories) < 2 and name not in named:
                problems.append(_Problem(
                    name, None, info.categories[0] if info.categories else None,
                    "single_level",
                    f"factor {name!r} has a single level {list(info.categories)} in the "
                    f"{len(used)} rows used, so its effect cannot be estimated; drop it from "
                    "the model or check the filter that selected the rows"))
    _raise(problems, analysis)


def check_design_finite(x_frame: pd.DataFrame, rows: pd.Index, analysis: str) -> None:
    """A transformed covariate (``np.log(dose)`` at 0) must not be infinite or NaN."""
    values = x_frame.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    problems = []
    for k in np.flatnonzero(bad.any(axis=0)):
        count, at, row, where = _first(rows, bad[:, k])
        value = _plain(values[at, k])
        column = str(x_frame.columns[int(k)])
        problems.append(_Problem(
            column, row, value, "infinite_value",
            f"design column {column!r} is {value!r} in {_plural(count, 'row')}, "
            f"the first {where}; check the transformation in the formula and the "
            "values it is given"))
    _raise(problems, analysis)


_UNDEFINED = re.compile(r"name '([^']+)' is not defined")


def formula_error(error: Exception, formula: str, columns, analysis: str) -> DataValidationError:
    """A patsy error on the user's formula as a :class:`DataValidationError`."""
    found = _UNDEFINED.search(str(error))
    if found:
        name = found.group(1)
        problem = _Problem(
            name, None, None, "missing_column",
            f"the formula {formula!r} names {name!r}, which is not a column of the data"
            f"{_close(name, columns)}; correct the formula or the column name. Columns "
            f"are: {list(columns)}")
    else:
        problem = _Problem(None, None, formula, "bad_formula",
                           f"the formula {formula!r} cannot be read: {error}")
    return _error([problem], analysis)
