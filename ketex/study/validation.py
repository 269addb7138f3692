"""Turning raw tables from any reader into a validated :class:`~ketex.study.trial.Trial`.

Readers map their source onto the column names of :data:`ketex.study.tables.TABLES`,
keep every value as it came (text or number) and add the provenance columns
``_source_file`` and ``_line``. :func:`build_trial` then checks everything, collects
every problem in one report and either raises :class:`ketex.DataValidationError` or
returns a ``Trial`` whose rows are exactly the input rows that passed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ketex.errors import DataValidationError
from ketex.study import rules
from ketex.study.problems import (
    LINE,
    PARSE_ERROR,
    SOURCE_FILE,
    ProblemLog,
    format_report,
    number_hint,
)
from ketex.study.protocol import Protocol
from ketex.study.tables import TABLES, canonical, empty_table
from ketex.study.trial import Trial

if TYPE_CHECKING:
    from pandas._libs.tslibs.nattype import NaTType

__all__ = ["MISSING_TOKENS", "build_trial", "parse_dates"]

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "."})
_TRUE = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "0.0"})
ON_ERROR = ("raise", "drop")
_FIRST_DATE = pd.Timestamp("1900-01-01")
_LAST_DATE = pd.Timestamp("2100-12-31")


def build_trial(
    protocol: Protocol,
    raw: Mapping[str, pd.DataFrame | None],
    *,
    on_error: str = "raise",
    source: str = "",
    log: ProblemLog | None = None,
) -> Trial:
    """Validate raw tables and assemble a :class:`Trial`.

    Parameters
    ----------
    protocol : Protocol
        The study protocol the data must follow.
    raw : mapping of table name to DataFrame or None
        Tables named as in :data:`~ketex.study.tables.TABLES`, values as read, with the
        provenance columns ``_source_file`` and ``_line``. None or absent: no such table.
    on_error : {"raise", "drop"}
        ``"raise"``: any error raises :class:`ketex.DataValidationError` carrying the
        whole report. ``"drop"``: rows with errors are left out of the trial and stay
        listed in ``trial.report``.
    source : str
        What was read (a folder, a file), for the exception message.
    log : ProblemLog, optional
        Problems the reader already found (unreadable files, malformed rows).

    Returns
    -------
    Trial
        With ``report`` holding every problem found (warnings; errors too under
        ``on_error="drop"``).
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    log = log if log is not None else ProblemLog()
    declared = _declared_codes(protocol)
    tables = {name: _prepare(name, raw.get(name), log, declared) for name in TABLES}
    rules.check_all(protocol, tables, log)
    report = log.report()
    if on_error == "raise":
        raise_for_errors(report, source)
    clean: dict[str, Any] = {  # the table fields of Trial, by name
        name: canonical(name, _strip(frame[~log.rejected_mask(name, frame)]))
        for name, frame in tables.items()
    }
    return Trial(protocol=protocol, report=report, **clean)


def raise_for_errors(report: pd.DataFrame, source: str = "") -> None:
    """Raise :class:`ketex.DataValidationError` carrying ``report`` if it has errors."""
    errors = report[report["severity"] == "error"]
    if len(errors):
        where = f" in {source}" if source else ""
        raise DataValidationError(
            f"{len(errors)} error(s){where}; nothing was loaded. Fix the rows below "
            f"(the full table is in the exception's .report):\n{format_report(errors)}",
            report,
        )


def _strip(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in frame.columns if c.startswith("_")])


def _declared_codes(protocol: Protocol) -> dict[str, frozenset[str]]:
    """Column -> the codes study.toml declares; such a code is never read as missing."""
    return {"arm": frozenset(arm.code for arm in protocol.arms),
            "visit": frozenset(visit.name for visit in protocol.visits)}


def _prepare(name: str, frame: pd.DataFrame | None, log: ProblemLog,
             declared: dict[str, frozenset[str]]) -> pd.DataFrame:
    """Check the columns of one table and convert its values to their kinds."""
    schema = TABLES[name]
    if frame is None:
        if schema.required_table and name not in log.unreadable:
            log.add(name, "missing_table", f"the {name} table is missing; provide {name}.csv")
        return _with_provenance(empty_table(name))
    named = frame.attrs.get(SOURCE_FILE)
    frame = frame.reset_index(drop=True)
    if SOURCE_FILE not in frame.columns:
        provenance: dict[str, Any] = {SOURCE_FILE: name, LINE: np.arange(2, len(frame) + 2)}
        frame = frame.assign(**provenance)
    frame = frame.rename(columns=lambda c: str(c).strip())
    file = str(frame[SOURCE_FILE].iloc[0]) if len(frame) else str(named or name)
    if frame.empty and schema.required_table:
        log.add(name, "empty_table",
                f"{file}: the {name} table has no rows; a trial needs at least one. Check "
                "that the export holds the data and not only the header line",
                source_file=file)
    elif frame.empty:
        log.add(name, "no_rows",
                f"{file} has a header but no rows, so the trial has no {name}. If none were "
                "recorded, delete the file to say so; otherwise check that the export holds "
                "the data and not only the header line",
                severity="warning", source_file=file)
    if PARSE_ERROR in frame.columns:
        log.flag(name, frame, frame[PARSE_ERROR].notna(), None, "malformed_row",
                 lambda row: row[PARSE_ERROR])
        frame = frame[frame[PARSE_ERROR].isna()].drop(columns=PARSE_ERROR)
    missing = [c for c in schema.required if c not in frame.columns]
    if "day" in missing and "date" in frame.columns:
        missing.remove("day")  # derived from date and the randomisation date
    if missing:
        log.add(
            name,
            "missing_column",
            f"{file} has no column {', '.join(missing)} (required); none of its "
            f"{len(frame)} rows were loaded. Add the column, or rename the column that "
            f"holds it; columns found: {', '.join(c for c in frame.columns if c[0] != '_')}",
            source_file=file,
            column=", ".join(missing),
        )
        log.rejected.setdefault(name, set()).update(frame.index)
        return _with_provenance(empty_table(name))
    none_codes = _NONE_IS_A_CODE.get(name, ())
    frame = frame.apply(lambda values: _blank_to_na(values, declared.get(values.name),
                                                    values.name in none_codes))
    for column in schema.required:
        if column not in frame.columns:
            continue  # day, to be derived from date

        def empty(row: pd.Series, c: str = column) -> str:
            return f"{_where(row)}: {c} is empty; it is required in every row"

        log.flag(name, frame, frame[column].isna(), column, "missing_value", empty)
    for column in frame.columns:
        if not column.startswith("_"):
            spec = schema.column(column)
            frame[column] = _convert(name, frame, column, spec.kind if spec else None, log)
    return frame


def _with_provenance(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(
        **{SOURCE_FILE: pd.Series(dtype="string"), LINE: pd.Series(dtype="Int64")}
    )


# columns where "none" is a code (no relation, no action taken), not a missing value
_NONE_IS_A_CODE = {"adverse_events": ("related", "action")}


def _blank_to_na(values: pd.Series, declared: frozenset[str] | None = None,
                 none_is_code: bool = False) -> pd.Series:
    """Strip text and turn the usual spellings of 'missing' into NA.

    A value that is one of the ``declared`` codes (an arm coded ``NONE``, a visit ``NA``)
    is a code, not a missing value; so is ``none`` where ``none_is_code``.
    """
    if values.name in (SOURCE_FILE, LINE) or values.dtype.kind in "biufcmM":
        return values
    text = values.astype("string").str.strip()
    tokens = MISSING_TOKENS - {"none"} if none_is_code else MISSING_TOKENS
    missing = text.str.lower().isin(tokens)
    if declared:
        missing &= ~text.isin(declared)
    return text.mask(missing)


_DATE_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2}|\d{8})"
    r"(?:[T ](?P<time>\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d{1,9})?)?)?)"
    r"\s*(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_PARTIAL_DATE = re.compile(r"\d{4}(?:-\d{2})?")


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ISO 8601 dates and date-times as written, ignoring any time-zone offset.

    The one date parser of every reader. A date may carry a time (``T`` or a space) and
    a UTC offset (``Z``, ``+01:00``, ``-0500``); the offset is dropped, not applied, so
    each value keeps the calendar date and clock time written in the file.

    Parameters
    ----------
    values : Series
        Text (or values whose text is an ISO date); missing values stay missing.

    Returns
    -------
    dates : Series
        ``datetime64[ns]``; NaT where the value is missing, not a date, incomplete, or
        outside 1900-2100.
    partial : Series
        Boolean: the value is an incomplete date (``2024`` or ``2024-01``).

    Notes
    -----
    Converting to UTC would move a visit at 23:30 at ``-05:00`` to the next day and
    change its study day; study days count the days where the participant was, which is
    the date written. Values with and without offsets can be mixed.

    Examples
    --------
    >>> import pandas as pd
    >>> dates, partial = parse_dates(pd.Series(
    ...     ["2024-01-14T23:30:00-05:00", "2024-01-14T00:00:00Z", "2024-01", "2024-13-45"]))
    >>> dates.tolist()
    [Timestamp('2024-01-14 23:30:00'), Timestamp('2024-01-14 00:00:00'), NaT, NaT]
    >>> partial.tolist()
    [False, False, True, False]
    """
    text = values.astype("string").str.strip()
    parsed = {value: _parse_date(value) for value in text.dropna().unique()}
    dates = pd.Series(
        [pd.NaT if pd.isna(v) else parsed[v] for v in text], index=values.index,
        dtype="datetime64[ns]",
    )
    partial = pd.Series(
        [False if pd.isna(v) else bool(_PARTIAL_DATE.fullmatch(v)) for v in text],
        index=values.index, dtype=bool,
    )
    return dates, partial


def _parse_date(text: str) -> pd.Timestamp | NaTType:
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return pd.NaT
    day = match["date"]
    if "-" not in day:
        day = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    clock, fraction = (match["time"] or "00").replace(",", ".").partition(".")[::2]
    clock = clock.replace(":", "").ljust(6, "0")
    try:
        value = pd.Timestamp(f"{day}T{clock[:2]}:{clock[2:4]}:{clock[4:6]}"
                             + (f".{fraction}" if fraction else ""))
    except (ValueError, OverflowError):  # 2024-13-45, 25:00, ...
        return pd.NaT
    if not _FIRST_DATE <= value.normalize() <= _LAST_DATE:
        return pd.NaT
    return value


def _where(row: pd.Series) -> str:
    file = row.get(SOURCE_FILE)
    line = row.get(LINE)
    return f"{file} line {line}" if not pd.isna(line) else str(file)


def _convert(
    table: str, frame: pd.DataFrame, column: str, kind: str | None, log: ProblemLog
) -> pd.Series:
    values = frame[column]
    if kind in ("int", "float"):
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        bad = values.notna() & numbers.isna()
        log.flag(
            table,
            frame,
            bad,
            column,
            "non_numeric",
            lambda row: f"{_where(row)}: {column} {row['_value']!r} is not a number"
            f"{number_hint(row['_value'])}; enter a number or leave the cell empty",
        )
        if kind == "int":  # only study days are whole numbers
            log.flag(
                table,
                frame,
                numbers.notna() & (numbers != numbers.round()),
                column,
                "impossible_day",
                lambda row: f"{_where(row)}: {column} {row['_value']!r} is not a whole "
                "number; study days count whole days since randomisation",
            )
        return numbers
    if kind == "bool":
        text = values.astype("string").str.lower()
        result = pd.Series(pd.NA, index=values.index, dtype="boolean")
        result[text.isin(_TRUE)] = True
        result[text.isin(_FALSE)] = False
        log.flag(
            table,
            frame,
            values.notna() & result.isna(),
            column,
            "not_boolean",
            lambda row: f"{_where(row)}: {column} {row['_value']!r} is not true/false; "
            "use true, false, yes, no, 1 or 0",
        )
        return result
    if kind == "date":
        dates, partial = parse_dates(values)
        log.flag(
            table,
            frame,
            partial,
            column,
            "partial_date",
            lambda row: f"{_where(row)}: {column} {row['_value']!r} is not a complete date; "
            "ketex does not guess the missing day or month, so the date is left empty. "
            "Give the full date (YYYY-MM-DD), or the study day in day",
            severity="warning",
        )
        log.flag(
            table,
            frame,
            values.notna() & dates.isna() & ~partial,
            column,
            "bad_date",
            lambda row: f"{_where(row)}: {column} {row['_value']!r} is not a date between "
            f"{_FIRST_DATE:%Y} and {_LAST_DATE:%Y}; write dates as ISO 8601, e.g. 2024-03-01 "
            "or 2024-03-01T09:30:00+01:00",
        )
        return dates
    if kind == "item":
        return values  # parsed per instrument by the assessment rules
    if kind == "str":
        return values.astype("string")
    # an extra column: numbers if every value is one, text otherwise
    numbers = pd.to_numeric(values, errors="coerce")
    if values.notna().any() and (numbers.notna() == values.notna()).all():
        return numbers.astype("float64")
    return values.astype("string")
