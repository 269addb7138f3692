"""Reading a folder of device recordings listed in a manifest CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ketex.errors import KetexError
from ketex.streams._problems import raise_problems
from ketex.streams.read import read_labelled

__all__ = ["MANIFEST_COLUMNS", "read_manifest", "read_streams"]

#: The columns of a manifest; ``session_id`` may be left out (the file then names the
#: session).
MANIFEST_COLUMNS = ("file", "participant_id", "day", "session_id")
_REQUIRED = MANIFEST_COLUMNS[:3]


def read_streams(folder: str | Path, manifest: str | Path = "manifest.csv") -> pd.DataFrame:
    """Read every recording a manifest lists into one stream table.

    Parameters
    ----------
    folder : str or pathlib.Path
        The folder of recordings (``.fit``, ``.tcx``, ``.gpx``, ``.csv``, ``.parquet``).
    manifest : str or pathlib.Path
        A CSV with columns ``file`` (relative to ``folder``), ``participant_id``, ``day``
        (study day, a whole number) and optionally ``session_id`` (without it, or where
        it is empty, the session is named by its ``file``); a relative path is taken in
        ``folder``.

    Returns
    -------
    pandas.DataFrame
        ``participant_id``, ``session_id``, ``day`` (Int64) followed by the columns of
        :func:`ketex.read_stream`, in manifest order; ready for
        :func:`ketex.training_load`.

    Raises
    ------
    ketex.DataValidationError
        The manifest lacks a column or a value, a day is not a whole number, a file is
        missing or listed twice, or a (participant_id, session_id) repeats; every problem
        is listed, with its manifest line.
    ketex.KetexError
        The manifest, or a recording, cannot be read (see :func:`ketex.read_stream`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.csv").write_text("elapsed_s,heart_rate_bpm\\n0,120\\n1,121\\n")
    >>> _ = (folder / "manifest.csv").write_text(
    ...     "file,participant_id,day,session_id\\na.csv,P01,3,S1\\n")
    >>> read_streams(folder)[["participant_id", "session_id", "day", "heart_rate_bpm"]]
      participant_id session_id  day  heart_rate_bpm
    0            P01         S1    3           120.0
    1            P01         S1    3           121.0
    """
    folder = Path(folder)
    table, problems = read_manifest(folder, manifest)
    raise_problems("the manifest cannot be used", problems)
    parts = [read_session(folder, row) for _, row in table.iterrows()]
    if not parts:
        raise KetexError(f"{folder / manifest}: the manifest lists no recordings")
    return pd.concat(parts, ignore_index=True)


def read_session(folder: Path, row: pd.Series) -> pd.DataFrame:
    """One recording of a checked manifest, labelled with its manifest row."""
    labels = {name: row[name] for name in ("participant_id", "session_id", "day")}
    return read_labelled(folder / row["file"], labels)


def read_manifest(
    folder: str | Path, manifest: str | Path = "manifest.csv"
) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    """The manifest as text (stripped), with ``line`` and ``session_id`` filled in, and
    its problems (dicts with the report's columns); reads no recording.

    Raises :class:`ketex.KetexError` when the file cannot be read as CSV.
    """
    folder = Path(folder)
    path = Path(manifest) if Path(manifest).is_absolute() else folder / manifest
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as error:  # fmt: skip
        raise KetexError(f"{path}: the manifest cannot be read ({error})") from None
    problems: list[dict[str, object]] = []
    for column in _REQUIRED:
        if column not in table.columns:
            problems.append({"source_file": str(path), "column": column,
                             "rule": "missing_column",
                             "message": f"{path} has no column {column!r}"})  # fmt: skip
    if problems:
        return table, problems
    table = table.apply(lambda col: col.str.strip())
    if "session_id" not in table.columns:
        table["session_id"] = ""
    table["session_id"] = table["session_id"].where(table["session_id"] != "", table["file"])
    table.insert(0, "line", range(2, len(table) + 2))  # the header is line 1
    seen_files: dict[str, int] = {}
    seen_sessions: dict[tuple[str, str], int] = {}
    for _, row in table.iterrows():
        problems.extend(_row_problems(folder, path, row, seen_files, seen_sessions))
    return table, problems


def _row_problems(folder: Path, path: Path, row: pd.Series, seen_files: dict,
                  seen_sessions: dict) -> list[dict[str, object]]:  # fmt: skip
    line = int(row["line"])
    where = {"source_file": str(path), "line": line, "participant_id": row["participant_id"]}
    found = []
    for column in _REQUIRED:
        if row[column] == "":
            found.append({**where, "column": column, "rule": "missing_value",
                          "message": f"{path} line {line}: no {column}"})  # fmt: skip
    if row["day"] and not row["day"].lstrip("-").isdigit():
        found.append({**where, "column": "day", "value": row["day"], "rule": "non_numeric",
                      "message": f"{path} line {line}: day {row['day']!r} is not a "
                                 "whole number"})  # fmt: skip
    if row["file"]:
        if not (folder / row["file"]).is_file():
            found.append({**where, "column": "file", "value": row["file"],
                          "rule": "missing_file",
                          "message": f"{path} line {line}: {row['file']!r} is not in "
                                     f"{folder}"})  # fmt: skip
        if row["file"] in seen_files:
            found.append({**where, "column": "file", "value": row["file"],
                          "rule": "duplicate_file",
                          "message": f"{path} line {line}: {row['file']!r} is already "
                                     f"listed on line {seen_files[row['file']]}"})
        seen_files.setdefault(row["file"], line)
    key = (row["participant_id"], row["session_id"])
    if all(key) and key in seen_sessions:
        found.append({**where, "column": "session_id", "value": row["session_id"],
                      "rule": "duplicate_session",
                      "message": f"{path} line {line}: session {key[1]!r} of "
                                 f"{key[0]!r} is already on line {seen_sessions[key]}"})
    seen_sessions.setdefault(key, line)
    return found
