"""Parsing one item response into its score."""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

import numpy as np
import pandas as pd

from ketex.scales.instruments import Instrument, get_instrument

__all__ = ["parse_item"]

_LETTERED = re.compile(r"([1-3])([ab])", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def _is_blank(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _show(value: Any) -> str:
    """A value as a message shows it: numbers plainly (``3``, not ``np.int64(3)``)."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return f"{value:g}"
    return repr(value)


def _valid_range(inst: Instrument, item: int) -> str:
    text = f"{inst.item_min}..{inst.item_max[item - 1]}"
    if item in inst.lettered_items:
        text += " or 1a, 1b, 2a, 2b, 3a, 3b"
    return text


def _item_score(value: Any, inst: Instrument, item: int) -> tuple[float, str | None]:
    """Score of one item value (NaN when blank), or NaN and the reason the value is invalid."""
    if _is_blank(value):
        return math.nan, None
    valid = f"valid: {_valid_range(inst, item)}"
    if isinstance(value, str):
        text = value.strip()
        lettered = _LETTERED.fullmatch(text)
        if lettered and item in inst.lettered_items:
            return float(lettered.group(1)), None
        if lettered:
            return math.nan, (f"{value!r} is a lettered option, used only on BDI-II items 16 "
                              f"and 18 ({valid})")
        if not _NUMBER.fullmatch(text):
            return math.nan, f"{value!r} is not a number ({valid})"
        number = float(text)
    elif isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        number = float(value)
    else:
        return math.nan, f"{value!r} is not a number ({valid})"
    if math.isfinite(number) and not number.is_integer():
        return math.nan, f"{_show(value)} is not a whole number ({valid})"
    if not inst.item_min <= number <= inst.item_max[item - 1]:
        return math.nan, f"{_show(value)} is outside the valid range ({valid})"
    if inst.response_scores:
        return float(inst.response_scores[int(number) - inst.item_min]), None
    return number + 0.0, None  # + 0.0 turns -0.0 into 0.0


def parse_item(value: Any, instrument: Instrument | str, item: int) -> float:
    """Turn one item response into its numeric score.

    Parameters
    ----------
    value : str, int, float or None
        The response: a whole number (``2``, ``2.0``, ``"2"``), a BDI-II lettered option
        (``"1a"`` .. ``"3b"``, case-insensitive, only on items 16 and 18), or a missing value
        (``None``, NaN, ``pd.NA``, an empty or blank string).
    instrument : Instrument or str
        The scale, or its code or alias.
    item : int
        1-based item number.

    Returns
    -------
    float
        The score, or NaN for a missing response. Responses are their own score except
        on the dichotomous SHAPS, whose responses 1-4 score 0, 0, 1, 1.

    Raises
    ------
    ValueError
        If the value is not valid for that item: not a number, not a whole number, outside
        ``item_min..item_max``, or a lettered option on an item without letters.

    Examples
    --------
    >>> parse_item("2b", "BDI-II", 16)
    2.0
    >>> parse_item(3, "SHAPS", 1)  # "disagree"
    1.0
    >>> parse_item("", "MADRS", 1)
    nan
    >>> parse_item(3, "HAM-D17", 4)
    Traceback (most recent call last):
    ...
    ValueError: HAM-D17 item 4: 3 is outside the valid range (valid: 0..2)
    """
    inst = get_instrument(instrument)
    if isinstance(item, bool) or not isinstance(item, numbers.Integral):
        raise TypeError(f"item must be an integer item number, got {item!r}")
    if not 1 <= item <= inst.n_items:
        raise ValueError(f"{inst.code} has items 1..{inst.n_items}, not item {item}")
    number, reason = _item_score(value, inst, int(item))
    if reason is not None:
        raise ValueError(f"{inst.code} item {item}: {reason}")
    return number

