"""Reading one table from a CSV, Parquet or workbook sheet, keeping where each row came from.

Every function returns a DataFrame of the values as written (text for CSV; cell values
for Parquet and sheets) with the provenance columns ``_source_file`` and ``_line``, or
records a problem in the log and returns None when the file cannot be read at all.
Line numbers are exact: for CSV the file line where the record starts, for sheets the
sheet row, for Parquet the row number (1-based).
"""

from __future__ import annotations

import csv
import errno
import io
import os
from pathlib import Path

import pandas as pd

from ketex.io.escape import unescape_formula
from ketex.study.problems import LINE, PARSE_ERROR, SOURCE_FILE, ProblemLog

__all__ = ["decode_text", "read_csv_table", "read_file_bytes", "read_parquet_table",
           "rows_to_frame", "table_file_present"]


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
    errors: list[str | None] = []
    cells: list[list] = []
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
    frame.attrs[SOURCE_FILE] = source  # names the file of a table without rows
    return frame


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def table_file_present(path: Path) -> bool:
    """Whether anything stands at ``path``: a file, a directory, or a link, even a dangling one.

    ``Path.exists`` is false for a dangling link or a link loop, which would make the
    table silently absent; :func:`read_file_bytes` then says what is wrong with it.
    """
    return os.path.lexists(path)


def read_file_bytes(path: Path, table: str, log: ProblemLog) -> bytes | None:
    """The one way ketex's readers open a data file: its bytes, or None and a report row.

    A directory, a dangling link, a link loop or a file that cannot be opened is
    reported as ``unreadable_file`` (and the table as unreadable) instead of raising.
    Nothing at all at ``path`` is the caller's mistake, not the data's: ``OSError``.
    """
    source = path.name
    if not table_file_present(path):
        raise FileNotFoundError(f"{path} does not exist")
    reason = None
    try:
        if path.is_symlink() and not path.exists():
            target = os.readlink(path)
            try:
                path.resolve(strict=True)
            except RuntimeError:  # Python < 3.13 raises this for a loop
                reason = f"is a symbolic link loop (it points at {target})"
            except OSError as exc:
                reason = (f"is a symbolic link loop (it points at {target})"
                          if exc.errno == errno.ELOOP
                          else f"is a link to {target}, which does not exist")
        elif path.is_dir():
            reason = "is a directory, not a file"
        else:
            return path.read_bytes()
    except OSError as exc:
        reason = f"cannot be opened ({exc.strerror or exc})"
    log.add(table, "unreadable_file",
            f"{source} {reason}; none of the {table} rows were read. Put the {table} table "
            f"itself at {path}, or remove what stands there",
            source_file=source)
    log.unreadable.add(table)
    return None


def decode_text(data: bytes, source: str, table: str, log: ProblemLog) -> str | None:
    """UTF-8 text (a byte-order mark dropped), or None and a ``bad_encoding`` row.

    The row names the line, the column (for a CSV with a readable header) and the cell
    holding the first byte that is not UTF-8, shown with ``\\xNN`` escapes.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        start, bad = error.start, error.object[error.start:error.end]
    if data.startswith(b"\xef\xbb\xbf"):
        start += 3  # offsets count from after the byte-order mark
    before = data[:start]
    line = before.count(b"\n") + 1
    line_start = before.rfind(b"\n") + 1
    line_end = data.find(b"\n", start)
    raw_line = data[line_start:len(data) if line_end < 0 else line_end].rstrip(b"\r")
    column, value = _bad_cell(data, raw_line, start - line_start, line)
    code = " ".join(f"0x{b:02X}" for b in bad)
    log.add(
        table, "bad_encoding",
        f"{source} line {line}: byte {code} in '{value}' is not UTF-8 (the file is probably "
        "Latin-1 or Windows-1252, as Excel's plain 'CSV' writes it); none of its rows were "
        "loaded. Save it as CSV UTF-8 (in Excel: Save As > 'CSV UTF-8'), or re-encode it, "
        "e.g. iconv -f latin1 -t utf-8",
        source_file=source, line=line, column=column, value=value,
    )
    log.unreadable.add(table)
    return None


def _bad_cell(data: bytes, raw_line: bytes, offset: int, line: int) -> tuple[str | None, str]:
    """The column and the escaped cell holding byte ``offset`` of ``raw_line``."""
    text = raw_line.decode("utf-8", errors="backslashreplace")
    shown = raw_line[:offset].decode("utf-8", errors="backslashreplace")
    if line == 1:
        return None, text
    header_line = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="backslashreplace")
    delimiter = max(",;\t", key=header_line.count)
    cells = next(csv.reader([text], delimiter=delimiter), [])
    header = next(csv.reader([header_line.strip()], delimiter=delimiter), [])
    k = shown.count(delimiter)  # a delimiter inside quotes may shift this: then no column
    if k < len(cells) and k < len(header) and len(cells) == len(header):
        return header[k].strip() or None, cells[k]
    return None, text


def read_csv_table(path: Path, table: str, log: ProblemLog) -> pd.DataFrame | None:
    """Read a CSV file (comma, semicolon or tab separated; UTF-8, with or without BOM).

    A cell that ketex's writers escaped against formula injection (``'=...``) is read
    as it was before escaping (:func:`ketex.io.escape.unescape_formula`).
    """
    source = path.name
    data = read_file_bytes(path, table, log)
    if data is None:
        return None
    text = decode_text(data, source, table, log)
    if text is None:
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
            records.append([unescape_formula(cell) for cell in record])
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
    data = read_file_bytes(path, table, log)
    if data is None:
        return None
    try:
        frame = pd.read_parquet(io.BytesIO(data))
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
