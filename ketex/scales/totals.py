"""Total scores: range check and severity bands."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, overload

import numpy as np
import pandas as pd

from ketex.scales.instruments import Instrument, get_instrument
from ketex.scales.items import _is_blank, _show

if TYPE_CHECKING:  # pragma: no cover
    from pandas._libs.missing import NAType

__all__ = ["check_total", "severity"]


def check_total(total: float, instrument: str | Instrument) -> None:
    """Check that a total score lies within the instrument's range ``total_min..total_max``.

    Use it for totals recorded without their items. A missing total (None, NaN, ``pd.NA``)
    passes; a prorated, non-whole total inside the range passes too.

    Parameters
    ----------
    total : float
        The total score.
    instrument : str or Instrument
        The scale, or its code or alias.

    Raises
    ------
    ValueError
        If the total is not a number or lies outside ``total_min..total_max``.

    Examples
    --------
    >>> check_total(60, "MADRS")
    >>> check_total(3, "SHAPS-LIKERT")
    Traceback (most recent call last):
    ...
    ValueError: SHAPS-LIKERT total 3 is outside the valid range 14..56
    >>> check_total(61, "MADRS")
    Traceback (most recent call last):
    ...
    ValueError: MADRS total 61 is outside the valid range 0..60
    """
    inst = get_instrument(instrument)
    if _is_blank(total):
        return
    if isinstance(total, (bool, np.bool_)) or not isinstance(total, numbers.Real):
        raise ValueError(f"{inst.code} total {total!r} is not a number")
    if not inst.total_min <= total <= inst.total_max:
        raise ValueError(f"{inst.code} total {_show(total)} is outside the valid range "
                         f"{inst.total_min}..{inst.total_max}")


def _band_labels(totals: np.ndarray, inst: Instrument) -> np.ndarray:
    """Band label of each total (object array, None where the total is NaN or unbanded)."""
    if not inst.bands:
        return np.full(len(totals), None, dtype=object)
    lows = np.array([low for low, _, _ in inst.bands], dtype=float)
    labels = np.array([label for _, _, label in inst.bands] + [None], dtype=object)
    # A band runs from its low up to the next band's low, so a prorated 19.5 on the MADRS is
    # still "mild": the published cut-offs read "20 or more is moderate".
    band = np.searchsorted(lows, totals, side="right") - 1
    return labels[np.where(np.isnan(totals), len(inst.bands), band)]


@overload
def severity(total: pd.Series, instrument: str | Instrument) -> pd.Series: ...
@overload
def severity(total: float, instrument: str | Instrument) -> str | NAType: ...
def severity(total: float | pd.Series, instrument: str | Instrument) -> str | NAType | pd.Series:
    """Severity band label of a total score.

    Bands are those of the instrument's source (see the module docstring), e.g. MADRS
    (Snaith 1986): 0-6 none, 7-19 mild, 20-34 moderate, 35-60 severe. A non-whole total
    (from prorating) falls in the band whose lower edge it has reached: 19.5 is MADRS "mild".
    On the CGI-S, CGI-I and PGI-I the label is the wording of the rating.

    Parameters
    ----------
    total : float or pandas.Series
        Total score(s); missing values give ``pd.NA``.
    instrument : str or Instrument
        The scale, or its code or alias.

    Returns
    -------
    str, pd.NA or pandas.Series
        The label; for a Series, a ``string`` Series with the same index.

    Raises
    ------
    ValueError
        If a total is not a number or lies outside ``total_min..total_max``, or the
        instrument's source defines no bands (HAM-A, CADSS, BPRS-POSITIVE, YMRS, PCL-5,
        SHAPS-LIKERT).

    Examples
    --------
    >>> severity(24, "HAM-D17")
    'severe'
    >>> import pandas as pd
    >>> severity(pd.Series([4.0, 5.0, None]), "PHQ-9").tolist()
    ['minimal', 'mild', <NA>]
    >>> severity(2, "CGI-I")
    'much improved'
    """
    inst = get_instrument(instrument)
    if not inst.bands:
        raise ValueError(f"{inst.code} has no severity bands: its source defines none "
                         f"({inst.source}); report the total itself")
    if not isinstance(total, pd.Series):
        check_total(total, inst)
        if _is_blank(total):
            return pd.NA
        return str(_band_labels(np.array([float(total)]), inst)[0])
    if pd.api.types.is_bool_dtype(total) or not pd.api.types.is_numeric_dtype(total):
        raise ValueError(f"{inst.code} totals must be numbers, got dtype {total.dtype}")
    values = total.to_numpy(dtype=float, na_value=np.nan)
    outside = ~np.isnan(values) & ((values < inst.total_min) | (values > inst.total_max))
    if outside.any():
        shown = ", ".join(f"{total.index[k]!r}: {_show(values[k])}"
                          for k in np.flatnonzero(outside)[:10])
        raise ValueError(f"{outside.sum()} {inst.code} totals are outside the valid range "
                         f"{inst.total_min}..{inst.total_max} (index: total) {shown}")
    return pd.Series(pd.array(_band_labels(values, inst), dtype="string"),
                     index=total.index, name="severity")

