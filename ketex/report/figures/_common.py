"""Helpers shared by the figure modules."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import pandas as pd
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextPath

from ketex.report.style import arm_colors, new_figure, publication_style

__all__ = ["axes_or_new", "fit_text", "group_order", "outcome_label", "palette", "styled",
           "text_width_pt", "wrap_text"]

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


def text_width_pt(text: str, fontsize: float, **font) -> float:
    """The width of one line of ``text`` in points (its outline, the same at any dpi).

    Examples
    --------
    >>> round(text_width_pt("exercise", 10) / text_width_pt("exercise", 5), 3)
    2.0
    """
    if not text:
        return 0.0
    prop = FontProperties(size=fontsize, **font)
    return float(TextPath((0, 0), text, prop=prop).get_extents().x1)


def wrap_text(text: str, width_pt: float, fontsize: float, **font) -> str:
    """``text`` broken between words into lines at most ``width_pt`` wide (a word longer
    than that stays whole on its own line).

    Examples
    --------
    >>> wrap_text("Six ketamine infusions over two weeks + exercise", 100, 7)
    'Six ketamine infusions over\\ntwo weeks + exercise'
    >>> wrap_text("SINGLE", 100, 7)
    'SINGLE'
    """
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and text_width_pt(candidate, fontsize, **font) <= width_pt:
            lines[-1] = candidate
        else:
            lines.append(word)
    return "\n".join(lines)


def fit_text(text: str, width_pt: float, fontsize: float, **font) -> str:
    """``text`` on one line, cut with an ellipsis if it is wider than ``width_pt``.

    Examples
    --------
    >>> fit_text("Six ketamine infusions over two weeks + exercise", 100, 7)
    'Six ketamine infusions ov\u2026'
    >>> fit_text("SINGLE", 100, 7)
    'SINGLE'
    """
    if text_width_pt(text, fontsize, **font) <= width_pt:
        return text
    while text and text_width_pt(text.rstrip() + "\u2026", fontsize, **font) > width_pt:
        text = text[:-1]
    return text.rstrip() + "\u2026"


def outcome_label(data: pd.DataFrame, value: str) -> str:
    """The y-axis name of ``value`` (``AVAL`` or ``CHG``) of an analysis dataset, naming
    its instrument (``PARAMCD``) when the rows hold one.

    Examples
    --------
    >>> d = pd.DataFrame({"PARAMCD": ["HAMD17", "HAMD17"], "AVAL": [20, 14]})
    >>> outcome_label(d, "AVAL"), outcome_label(d, "CHG")
    ('HAMD17 total score', 'HAMD17 change from baseline')
    >>> outcome_label(d.drop(columns="PARAMCD"), "AVAL")
    'Score'
    """
    words = {"AVAL": "total score", "CHG": "change from baseline"}.get(value, value)
    scales = data["PARAMCD"].dropna().astype(str).unique() if "PARAMCD" in data else []
    if len(scales) == 1:
        return f"{scales[0]} {words}"
    return {"AVAL": "Score", "CHG": "Change from baseline"}.get(value, value)
