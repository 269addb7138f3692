"""Helpers shared by the figure modules."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import pandas as pd

from ketex.report.style import arm_colors, new_figure, publication_style

__all__ = ["axes_or_new", "group_order", "palette", "styled"]

F = TypeVar("F", bound=Callable)


def styled(function: F) -> F:
    """Draw in the publication style (text sizes, line widths are read when drawn)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with publication_style():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def axes_or_new(ax, width: str | float = "single", height_mm: float | None = None):
    """The given Axes, or a new one on a figure in the publication style."""
    if ax is not None:
        return ax
    _, ax = new_figure(width, height_mm)
    return ax


def group_order(values: pd.Series, order: Sequence[str] | None) -> list[str]:
    """Groups in the given order, else a Categorical's categories, else sorted."""
    if order is not None:
        return [str(g) for g in order]
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().astype(str))
        return [str(c) for c in values.cat.categories if str(c) in present]
    return sorted(values.dropna().astype(str).unique())


def palette(groups: Sequence[str], colors: Mapping[str, str] | None) -> dict[str, str]:
    return arm_colors(groups) | dict(colors or {})
