"""Reading one table from a CSV, Parquet or workbook sheet, keeping where each row came from.

Every function returns a DataFrame of the values as written (text for CSV; cell values
for Parquet and sheets) with the provenance columns ``_source_file`` and ``_line``, or
records a problem in the log and returns None when the file cannot be read at all.
Line numbers are exact: for CSV the file line where the record starts, for sheets the
sheet row, for Parquet the row number (1-based).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from ketex.study.problems import LINE, PARSE_ERROR, SOURCE_FILE, ProblemLog

__all__ = ["read_csv_table", "read_parquet_table", "rows_to_frame"]


def rows_to_frame(
    header: list, records: list[list], lines: list[int], source: str, table: str, log: ProblemLog
) -> pd.DataFrame | None:
    """Assemble a raw table from a header and records, checking their shape.

    Records with more or fewer fields than the header keep a ``_parse_error`` message
    and are rejected by validation with rule ``malformed_row``.
    """
    names = [str(h).strip() if h is not None else "" for h in header]
    names = [n or f"unnamed_{k + 1}" for k, n in enumerate(names)]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        log.add(
            table, "duplicate_column",
            f"{source} has the column(s) {', '.join(duplicated)} more than once; none of "
            f"its {len(records)} rows were loaded. Rename or remove the duplicates",
            source_file=source, line=1, column=", ".join(duplicated),
        )
        log.unreadable.add(table)
        return None
    width = len(names)
    errors, cells = [], []
    for record, line in zip(records, lines, strict=True):
        record = list(record)
        if len(record) > width and all(_blank(v) for v in record[width:]):
            record = record[:width]  # trailing empty cells, as spreadsheets write them
        if len(record) != width:
            errors.append(
                f"{source} line {line}: {len(record)} fields where the header has {width}; "
                "check for a stray separator or an unquoted comma"
            )
            record = (record + [None] * width)[:width]
        else:
            errors.append(None)
        cells.append(record)
    frame = pd.DataFrame(cells, columns=names, dtype=object)
    frame[SOURCE_FILE] = source
    frame[LINE] = lines
    frame[PARSE_ERROR] = errors
    return frame


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_csv_table(path: Path, table: str, log: ProblemLog) -> pd.DataFrame | None:
    """Read a CSV file (comma, semicolon or tab separated; UTF-8, with or without BOM)."""
    source = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        log.add(
            table, "bad_encoding",
            f"{source} is not UTF-8 text (byte {exc.start}); none of its rows were loaded. "
            "Save it as CSV UTF-8",
            source_file=source,
        )
        log.unreadable.add(table)
        return None
    first = text.split("\n", 1)[0]
    if not first.strip():
        log.add(table, "empty_file",
                f"{source} has no header line; the first line must name the columns",
                source_file=source, line=1)
        log.unreadable.add(table)
        return None
    delimiter = max(",;\t", key=first.count)
    # StringIO with newline="" splits records only at \n, \r\n and \r, unlike
    # str.splitlines, which also breaks at characters such as \x85 inside a cell
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
        records, starts = [], []
        previous_end = reader.line_num
        for record in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank line: no record
            records.append(record)
            starts.append(start)
    except csv.Error as exc:
        log.add(table, "malformed_file",
                f"{source} line {reader.line_num}: {exc}; none of its rows were loaded. "
                "Check the quoting around that line",
                source_file=source, line=reader.line_num)
        log.unreadable.add(table)
        return None
    return rows_to_frame(header, records, starts, source, table, log)


def read_parquet_table(path: Path, table: str, log: ProblemLog) -> pd.DataFrame | None:
    """Read a Parquet file; ``_line`` is the 1-based row number."""
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a damaged file
        log.add(table, "malformed_file",
                f"{path.name} cannot be read as Parquet ({type(exc).__name__}: {exc}); none "
                "of its rows were loaded. Re-export the table",
                source_file=path.name)
        log.unreadable.add(table)
        return None
    frame = frame.reset_index(drop=True).astype(object)
    frame.columns = [str(c) for c in frame.columns]
    return rows_to_frame(
        list(frame.columns), frame.values.tolist(), list(range(1, len(frame) + 1)),
        path.name, table, log,
    )
