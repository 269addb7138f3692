"""Scoring a table of item responses: totals, prorating, severity and the PHQ-9 item 9 flag."""

from __future__ import annotations

import numbers
import re
from typing import NamedTuple

import numpy as np
import pandas as pd

from ketex.scales.instruments import INSTRUMENTS, Instrument, get_instrument
from ketex.scales.items import _is_blank, _item_score, _show
from ketex.scales.totals import _band_labels

__all__ = ["score"]

_ITEM_COLUMN = re.compile(r"item_([1-9]\d*)")
_MAX_PROBLEMS_SHOWN = 20


class _Problem(NamedTuple):
    position: int
    text: str


def _problem(data: pd.DataFrame, positions: np.ndarray, text: str) -> _Problem:
    """A problem seen in ``positions`` rows (row positions, in order): names the first one."""
    first = int(positions[0])
    more = f" ({len(positions) - 1} more rows like it)" if len(positions) > 1 else ""
    return _Problem(first, f"row {data.index[first]!r}, {text}{more}")


def _raise_problems(what: str, problems: list[_Problem]) -> None:
    if not problems:
        return
    problems = sorted(problems)
    lines = [p.text for p in problems[:_MAX_PROBLEMS_SHOWN]]
    if len(problems) > _MAX_PROBLEMS_SHOWN:
        lines.append(f"... and {len(problems) - _MAX_PROBLEMS_SHOWN} more")
    raise ValueError(f"{what}:\n  " + "\n  ".join(lines))


def _rows_by_instrument(data: pd.DataFrame,
                        instrument: str | Instrument | None) -> dict[str, np.ndarray]:
    """Row positions of each instrument, keyed by canonical code."""
    given = None if instrument is None else get_instrument(instrument)
    if "instrument" not in data.columns:
        if given is None:
            raise ValueError("no instrument: pass instrument= (e.g. 'MADRS') or add an "
                             "'instrument' column naming each row's scale")
        return {given.code: np.arange(len(data))}
    codes, uniques = pd.factorize(data["instrument"], use_na_sentinel=True)
    groups: dict[str, list[np.ndarray]] = {}
    problems = []
    if given is None and (codes == -1).any():
        problems.append(_problem(data, np.flatnonzero(codes == -1), "instrument is missing"))
    for k, value in enumerate(uniques):
        rows = np.flatnonzero(codes == k)
        try:
            inst = get_instrument(value)
        except (TypeError, ValueError):
            problems.append(_problem(data, rows, f"unknown instrument {value!r}"))
            continue
        if given is not None and inst is not given:
            problems.append(_problem(data, rows, f"instrument column says {value!r} but "
                                                 f"instrument={given.code!r} was passed"))
        groups.setdefault(inst.code, []).append(rows)
    _raise_problems(f"cannot tell which scale rows use (known: {', '.join(INSTRUMENTS)})",
                    problems)
    if given is not None:
        return {given.code: np.arange(len(data))}
    return {code: np.sort(np.concatenate(parts)) for code, parts in groups.items()}


# Inferred types of object columns that cannot hold True or False.
_NO_BOOLEANS = frozenset({"integer", "floating", "mixed-integer-float", "string", "empty"})


def _boolean_cells(values: pd.Series) -> np.ndarray | None:
    """Where an object column holds True/False, which factorize would merge with 1 and 0."""
    if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) in _NO_BOOLEANS:
        return None
    return np.fromiter((isinstance(v, (bool, np.bool_)) for v in values), bool, len(values))


def _cell_score(value: object, inst: Instrument, item: int) -> tuple[float, str | None]:
    """Like ``_item_score``, also for item columns beyond the instrument's last item."""
    if item <= inst.n_items:
        return _item_score(value, inst, item)
    if _is_blank(value):
        return np.nan, None
    return np.nan, (f"{_show(value)} does not belong to any item ({inst.code} has "
                    f"{inst.n_items} items; leave it empty)")


def _parse_items(data: pd.DataFrame, rows: np.ndarray, inst: Instrument,
                 problems: list[_Problem]) -> np.ndarray:
    """Item scores of ``rows`` as a float matrix (NaN = missing); bad values go to problems."""
    absent = [c for c in inst.item_columns if c not in data.columns]
    if absent:
        raise ValueError(f"{inst.code} is scored from columns item_1..item_{inst.n_items}; "
                         f"missing: {', '.join(absent)} (add them, empty where unanswered)")
    whole_frame = len(rows) == len(data)
    matrix = np.empty((len(rows), inst.n_items))
    for column in data.columns:
        match = _ITEM_COLUMN.fullmatch(str(column))
        if match is None:
            continue
        item = int(match.group(1))
        values = data[column] if whole_frame else data[column].iloc[rows]
        where = f"column {column!r} ({inst.code})"
        boolean = _boolean_cells(values)
        if boolean is not None and boolean.any():
            reason = _cell_score(values.iloc[np.flatnonzero(boolean)[0]], inst, item)[1]
            problems.append(_problem(data, rows[boolean], f"{where}: {reason}"))
        # Score each distinct value once: a column holds a handful of them however many rows.
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        scores = np.full(len(uniques) + 1, np.nan)  # the last slot serves code -1 (missing)
        for k, value in enumerate(uniques):
            scores[k], reason = _cell_score(value, inst, item)
            if reason is not None:
                problems.append(_problem(data, rows[codes == k], f"{where}: {reason}"))
        if item <= inst.n_items:
            matrix[:, item - 1] = scores[codes]
    return matrix


def _needed(n_units: int, min_answered: float) -> int:
    """Fewest answered units whose fraction reaches ``min_answered`` (exact, no rounding)."""
    return next(k for k in range(n_units + 1) if k / n_units >= min_answered)


def _score_rows(items: np.ndarray, inst: Instrument, min_answered: float, prorate: bool,
                round_prorated: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """total, n_answered, prorated and missing_reason of each row of an item matrix."""
    # fmax ignores NaN unless every item of the domain is NaN: a domain is missing only then.
    units = np.column_stack(
        [np.fmax.reduce(items[:, [i - 1 for i in domain]], axis=1) for domain in inst.domains]
    )
    n_units = len(inst.domains)
    answered = ~np.isnan(units)
    n_answered = answered.sum(axis=1)
    sums = np.where(answered, units, 0.0).sum(axis=1)
    complete = n_answered == n_units
    needed = _needed(n_units, min_answered)
    prorate = prorate and inst.prorating
    prorated = ~complete & (n_answered >= needed) if prorate else np.zeros(len(items), bool)
    # sum x n / k equals mean x n; HAM-D17's mixed item ranges can push it past the maximum.
    estimate = np.minimum(sums * n_units / np.maximum(n_answered, 1), inst.total_max)
    if round_prorated:
        estimate = np.floor(estimate + 0.5)  # half up: 22.5 -> 23
    total = np.where(complete, sums, np.where(prorated, estimate, np.nan))

    unit = "items" if n_units == inst.n_items else "domains"
    if not inst.prorating:
        rule = f"all {n_units} needed: the {inst.code} has no prorating rule"
    elif prorate:
        rule = f"at least {needed} needed for prorating"
    else:
        rule = f"all {n_units} needed because prorating is off"
    reasons = np.array([f"{k} of {n_units} {unit} answered; {rule}" for k in range(n_units)]
                       + [None], dtype=object)
    missing_reason = reasons[np.where(np.isnan(total), n_answered, n_units)]
    return total, n_answered, prorated, missing_reason


_PCL5_NEEDED = {"B": 1, "C": 1, "D": 2, "E": 2}  # items rated 2 or more in each cluster


def _pcl5_outputs(items: np.ndarray, inst: Instrument) -> dict[str, np.ndarray]:
    """Cluster sums (NaN when an item of the cluster is missing) and provisional PTSD."""
    outputs: dict[str, np.ndarray] = {}
    met = np.ones(len(items), bool)
    possible = np.ones(len(items), bool)
    for name, cluster in inst.subscales:
        values = items[:, [i - 1 for i in cluster]]
        outputs[f"pcl5_cluster_{name.lower()}"] = values.sum(axis=1)  # NaN if any is
        endorsed = (values >= 2).sum(axis=1)  # NaN >= 2 is False
        met &= endorsed >= _PCL5_NEEDED[name]
        possible &= endorsed + np.isnan(values).sum(axis=1) >= _PCL5_NEEDED[name]
    # numpy's stubs do not take None as a choice (it makes an object array, as meant here)
    outputs["pcl5_provisional_ptsd"] = np.where(
        met, True, np.where(possible, None, False)  # type: ignore[call-overload]
    )
    return outputs


def _check_min_answered(min_answered: float) -> None:
    if (isinstance(min_answered, bool) or not isinstance(min_answered, numbers.Real)
            or not 0.5 <= min_answered <= 1):
        raise ValueError(
            f"min_answered must be a fraction between 0.5 and 1, got {min_answered!r}: a total "
            "is never prorated from fewer than half of the items"
        )


def score(data: pd.DataFrame, instrument: str | Instrument | None = None, *,
          min_answered: float = 0.8, prorate: bool = True,
          round_prorated: bool = False) -> pd.DataFrame:
    """Score rating scales from item level: totals, prorating, severity and extra outputs.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per completed scale, items in columns ``item_1`` .. ``item_K`` (numbers,
        numeric strings, BDI-II options such as ``"1a"``; blank or NaN when unanswered).
        SHAPS items hold the response 1-4 (strongly agree, agree, disagree, strongly
        disagree) for both scorings, ``"SHAPS"`` and ``"SHAPS-LIKERT"``.
        Other columns are ignored, except ``instrument``.
    instrument : str or Instrument, optional
        The scale of every row. If omitted, ``data`` must have an ``instrument`` column
        (codes or aliases) and rows may mix scales; if both are given they must agree.
    min_answered : float, default 0.8
        Fraction of scored units (items; QIDS-SR16 domains) that must be answered for a
        total with missing units to be prorated. At least 0.5.
    prorate : bool, default True
        If False, any missing unit makes the total missing.
    round_prorated : bool, default False
        Round prorated totals to whole numbers, halves upward.

    Returns
    -------
    pandas.DataFrame
        Same index as ``data``, with columns

        - ``total`` (float): the total, NaN when not scorable;
        - ``n_answered`` (int): answered scored units (items; domains for QIDS-SR16);
        - ``prorated`` (bool): the total was prorated from missing units;
        - ``severity`` (string): band label of the total (the rating's wording on CGI-S,
          CGI-I, PGI-I), NA when the total is missing or the instrument has no bands;
        - ``item9_flag`` (boolean): PHQ-9 rows only, item 9 (thoughts of self-harm) above 0
          whatever the total; NA on other scales and when item 9 is unanswered;
        - ``missing_reason`` (string): why the total is missing, NA when it is not;
        - ``pcl5_cluster_b``, ``pcl5_cluster_c``, ``pcl5_cluster_d``, ``pcl5_cluster_e``
          (float): PCL-5 rows only, the sums of the DSM-5 clusters B (intrusion, items
          1-5), C (avoidance, 6-7), D (negative cognitions and mood, 8-14) and E (arousal
          and reactivity, 15-20); NaN on other scales and when an item of the cluster is
          unanswered;
        - ``pcl5_provisional_ptsd`` (boolean): PCL-5 rows only, the DSM-5 provisional
          diagnosis: at least 1 B, 1 C, 2 D and 2 E items rated 2 ("moderately") or
          higher; NA on other scales and when unanswered items leave it undecided.

    Raises
    ------
    ValueError
        If ``min_answered`` is outside 0.5..1, the scale of a row is unknown, an item column
        is absent, or an item value is invalid for its item. Every invalid value is listed
        with its row index, column, value and the valid range.

    Notes
    -----
    A scored unit is one item, except on the QIDS-SR16 (Rush 2003), whose 9 domains score
    the highest answered item of sleep (1-4), appetite/weight (6-9) and psychomotor (15-16)
    and items 5 and 10-14 on their own; a domain is missing only when all its items are.
    The dichotomous SHAPS scores responses 1-2 (agree) as 0 and 3-4 (disagree) as 1;
    every other item scores its response.

    The total is the sum of the units. With ``k`` of ``n`` units answered and
    ``k / n >= min_answered``, the prorated total is ``mean(answered units) * n``, capped at
    the instrument's maximum (reachable only on HAM-D17, whose items have mixed ranges).
    Only the five depression scales are prorated: the manuals of GAD-7, HAM-A, CADSS,
    BPRS-POSITIVE, YMRS, PCL-5 and SHAPS give no prorating rule, so any missing item
    leaves their total missing whatever ``prorate`` says (``Instrument.prorating``).

    The PCL-5 provisional diagnosis is True when the answered items already meet the
    rule, False when it cannot be met even if every unanswered item were rated 2 or
    more, NA otherwise. Weathers et al. (2013) also give a total cut-off of 31-33 for
    probable PTSD; ketex does not apply it (choose it in the analysis plan).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [[1] * 9, [2] * 8 + [0], [2] * 8 + [None], [3, 3, 3] + [None] * 6]
    >>> data = pd.DataFrame(rows, columns=[f"item_{i}" for i in range(1, 10)])
    >>> scores = score(data, "PHQ-9")
    >>> scores[["total", "n_answered", "prorated", "severity", "item9_flag"]]
       total  n_answered  prorated           severity  item9_flag
    0    9.0           9     False               mild        True
    1   16.0           9     False  moderately severe       False
    2   18.0           8      True  moderately severe        <NA>
    3    NaN           3     False               <NA>        <NA>
    >>> scores.loc[3, "missing_reason"]
    '3 of 9 items answered; at least 8 needed for prorating'

    The PCL-5 clusters and provisional diagnosis (here 2 B, 1 C, 2 D and 1 E items
    rated 2 or more: E falls short):

    >>> pcl = pd.DataFrame([[2, 2, 0, 0, 0, 3, 0, 2, 2] + [0] * 5 + [4] + [1] * 5],
    ...                    columns=[f"item_{i}" for i in range(1, 21)])
    >>> result = score(pcl, "PCL-5")
    >>> result.filter(like="cluster").to_dict("records")
    [{'pcl5_cluster_b': 4.0, 'pcl5_cluster_c': 3.0, 'pcl5_cluster_d': 4.0, 'pcl5_cluster_e': 9.0}]
    >>> result.loc[0, "pcl5_provisional_ptsd"]
    np.False_
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    _check_min_answered(min_answered)
    item_columns = [c for c in data.columns if _ITEM_COLUMN.fullmatch(str(c))]
    if len(set(item_columns)) != len(item_columns):
        raise ValueError(f"duplicate item columns: {sorted(set(map(str, item_columns)))}")
    groups = _rows_by_instrument(data, instrument)

    n_rows = len(data)
    total = np.full(n_rows, np.nan)
    n_answered = np.zeros(n_rows, dtype=np.int64)
    prorated = np.zeros(n_rows, dtype=bool)
    missing_reason = np.full(n_rows, None, dtype=object)
    item9_flag = np.full(n_rows, None, dtype=object)
    pcl5: dict[str, np.ndarray] = {f"pcl5_cluster_{c}": np.full(n_rows, np.nan) for c in "bcde"}
    pcl5["pcl5_provisional_ptsd"] = np.full(n_rows, None, dtype=object)
    severity_label = np.full(n_rows, None, dtype=object)
    problems: list[_Problem] = []
    for code, rows in groups.items():
        inst = INSTRUMENTS[code]
        items = _parse_items(data, rows, inst, problems)
        if problems:
            continue  # keep collecting invalid values from the other scales
        (total[rows], n_answered[rows], prorated[rows],
         missing_reason[rows]) = _score_rows(items, inst, min_answered, prorate, round_prorated)
        severity_label[rows] = _band_labels(total[rows], inst)
        if code == "PHQ-9":
            item9 = items[:, 8]
            # numpy's stubs do not take None as a choice (an object array, as meant here)
            item9_flag[rows] = np.where(np.isnan(item9), None, item9 > 0)  # type: ignore[call-overload]
        if code == "PCL-5":
            for name, values in _pcl5_outputs(items, inst).items():
                pcl5[name][rows] = values
    _raise_problems("invalid item values", problems)
    return pd.DataFrame(
        {
            "total": total,
            "n_answered": n_answered,
            "prorated": prorated,
            "severity": pd.array(severity_label, dtype="string"),
            "item9_flag": pd.array(item9_flag, dtype="boolean"),
            "missing_reason": pd.array(missing_reason, dtype="string"),
            **{f"pcl5_cluster_{c}": pcl5[f"pcl5_cluster_{c}"] for c in "bcde"},
            "pcl5_provisional_ptsd": pd.array(pcl5["pcl5_provisional_ptsd"], dtype="boolean"),
        },
        index=data.index,
    )
