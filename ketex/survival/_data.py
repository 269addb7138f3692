"""Checking the column roles of survival data and pulling out clean arrays.

Every public survival function starts here, so that every one of them reports a
problem the same way: a ``ValueError`` (:class:`ketex.errors.DataValidationError`)
naming the column, what is wrong, and the first offending rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ketex.errors import DataValidationError
from ketex.models._frame_checks import check_frame, missing_columns

__all__ = ["SurvivalData", "check_columns", "ordered_levels", "survival_data"]


@dataclass(frozen=True)
class SurvivalData:
    """Time, event and grouping arrays for the rows kept (no missing values)."""

    stop: np.ndarray  # event or censoring time (the end of the interval)
    start: np.ndarray | None  # interval start for (start, stop] data
    event: np.ndarray  # bool
    rows: pd.Index  # labels of the kept rows in the caller's data
    n_missing: int  # rows dropped for a missing value in a used column


def _first_rows(index: pd.Index, mask) -> list:
    return index[np.asarray(mask, dtype=bool)][:5].tolist()


def check_columns(data, roles: dict[str, str | list[str] | None], analysis: str) -> None:
    """Every column role must name a column of ``data``; all problems are reported together."""
    missing_columns(data, roles, f"run {analysis}")


def _numeric(data: pd.DataFrame, column: str) -> np.ndarray:
    values = data[column]
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean").to_numpy(dtype=float, na_value=np.nan)
    return values.to_numpy(dtype=float, na_value=np.nan)


def _event_values(data: pd.DataFrame, column: str, problems: list[str]) -> np.ndarray:
    values = data[column]
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean").to_numpy(dtype=float, na_value=np.nan)
    if not pd.api.types.is_numeric_dtype(values):
        problems.append(
            f"event column {column!r} must be 1 (event) or 0 (censored), or True/False; "
            f"its dtype is {values.dtype}"
        )
        return np.full(len(values), np.nan)
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isnan(numbers) & ~np.isin(numbers, (0.0, 1.0))
    if bad.any():
        problems.append(
            f"event column {column!r} must be 1 (event) or 0 (censored), or True/False; "
            f"{int(bad.sum())} rows are not (first rows: {_first_rows(data.index, bad)}). "
            "CDISC ADTTE data code the reverse in CNSR: use event = 1 - CNSR"
        )
    return numbers


def survival_data(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    start: str | None = None,
    other: tuple[str, ...] = (),
    ids: tuple[str, ...] = (),
    roles: dict[str, str | list[str] | None] | None = None,
    analysis: str,
) -> SurvivalData:
    """Validate time, event (and start) and drop rows missing any used column.

    ``other`` are further columns (group, strata, covariates) whose missing values
    also drop a row; ``ids`` (a cluster) may have no missing value. ``roles`` names
    the role of each ``other`` column in messages (default "covariate"). The values of
    all are checked by :func:`ketex.models._frame_checks.check_frame`.
    """
    check_frame(data, analysis=f"run {analysis}",
                numbers={"time": time, "event": event, "start": start},
                ids={"cluster": list(ids)},
                variables=roles or {"covariate": [c for c in other if c not in ids]})
    problems: list[str] = []
    stop = _numeric(data, time)
    status = _event_values(data, event, problems)
    begin = _numeric(data, start) if start is not None else None
    if problems:
        raise DataValidationError(f"Cannot run {analysis}: " + "; ".join(problems) + ".")

    missing = np.isnan(stop) | np.isnan(status)
    if begin is not None:
        missing |= np.isnan(begin)
    for column in other:
        missing |= data[column].isna().to_numpy()
    keep = ~missing
    stop, status = stop[keep], status[keep]
    rows = data.index[keep]
    begin = begin[keep] if begin is not None else None

    if not np.isfinite(stop).all():
        problems.append(
            f"time column {time!r} has infinite values (first rows: "
            f"{_first_rows(rows, ~np.isfinite(stop))})"
        )
    if begin is None and (stop < 0).any():
        problems.append(
            f"time column {time!r} must not be negative; {int((stop < 0).sum())} rows are "
            f"(first rows: {_first_rows(rows, stop < 0)})"
        )
    if begin is not None:
        if not np.isfinite(begin).all():
            problems.append(
                f"start column {start!r} has infinite values (first rows: "
                f"{_first_rows(rows, ~np.isfinite(begin))})"
            )
        bad = ~(begin < stop)
        if bad.any():
            problems.append(
                f"each interval (start, stop] needs start < stop; {int(bad.sum())} rows of "
                f"({start!r}, {time!r}) do not (first rows: {_first_rows(rows, bad)})"
            )
    if problems:
        raise DataValidationError(f"Cannot run {analysis}: " + "; ".join(problems) + ".")
    if stop.size == 0:
        raise DataValidationError(
            f"Cannot run {analysis}: no rows left after dropping rows with missing values "
            f"in {[time, event, *([start] if start else []), *other]}."
        )
    return SurvivalData(
        stop=stop,
        start=begin,
        event=status.astype(bool),
        rows=rows,
        n_missing=int(missing.sum()),
    )


def ordered_levels(values: pd.Series) -> list:
    """Levels in the order of a Categorical's categories, otherwise sorted."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().unique())
        return [c for c in values.cat.categories if c in present]
    return sorted(values.dropna().unique().tolist())


def codes(values: pd.Series) -> tuple[np.ndarray, list]:
    """Integer codes 0..k-1 in level order, and the levels."""
    levels = ordered_levels(values)
    lookup = {level: i for i, level in enumerate(levels)}
    return np.array([lookup[v] for v in values.tolist()], dtype=np.int64), levels


def combined_codes(data: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, list[str]]:
    """Codes for the combinations of several columns, labelled ``a=1, b=x`` as R's strata()."""
    if len(columns) == 1:
        found, levels = codes(data[columns[0]])
        return found, [str(level) for level in levels]
    parts = [codes(data[c]) for c in columns]
    keys = list(zip(*(p[0].tolist() for p in parts), strict=True))
    unique = sorted(set(keys))
    lookup = {k: i for i, k in enumerate(unique)}
    labels = [", ".join(f"{c}={parts[j][1][k[j]]}" for j, c in enumerate(columns)) for k in unique]
    return np.array([lookup[k] for k in keys], dtype=np.int64), labels
