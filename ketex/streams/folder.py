"""Reading a folder of device recordings listed in a manifest CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ketex.errors import KetexError
from ketex.streams._problems import raise_problems
from ketex.streams.read import STREAM_COLUMNS, read_stream

__all__ = ["MANIFEST_COLUMNS", "read_streams"]

#: The columns a manifest must have.
MANIFEST_COLUMNS = ("file", "participant_id", "day", "session_id")


def read_streams(folder: str | Path, manifest: str | Path = "manifest.csv") -> pd.DataFrame:
    """Read every recording a manifest lists into one stream table.

    Parameters
    ----------
    folder : str or pathlib.Path
        The folder of recordings (``.tcx``, ``.gpx``, ``.csv``).
    manifest : str or pathlib.Path
        A CSV with columns ``file`` (relative to ``folder``), ``participant_id``, ``day``
        (study day, a whole number) and ``session_id``; a relative path is taken in
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
    path = Path(manifest) if Path(manifest).is_absolute() else folder / manifest
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as error:  # fmt: skip
        raise KetexError(f"{path}: the manifest cannot be read ({error})") from None
    problems: list[dict[str, object]] = []
    missing = [c for c in MANIFEST_COLUMNS if c not in table.columns]
    for column in missing:
        problems.append({"source_file": str(path), "column": column, "rule": "missing_column",
                         "message": f"{path} has no column {column!r}"})  # fmt: skip
    raise_problems("the manifest cannot be used", problems)
    table = table.apply(lambda col: col.str.strip())
    seen_files: dict[str, int] = {}
    seen_sessions: dict[tuple[str, str], int] = {}
    for index, row in table.iterrows():
        line = int(index) + 2  # the header is line 1
        where = {"source_file": str(path), "line": line, "participant_id": row["participant_id"]}
        for column in MANIFEST_COLUMNS:
            if row[column] == "":
                problems.append({**where, "column": column, "rule": "missing_value",
                                 "message": f"{path} line {line}: no {column}"})  # fmt: skip
        if row["day"] and not row["day"].lstrip("-").isdigit():
            problems.append({**where, "column": "day", "value": row["day"], "rule": "non_numeric",
                             "message": f"{path} line {line}: day {row['day']!r} is not a "
                                        "whole number"})  # fmt: skip
        if row["file"]:
            if not (folder / row["file"]).is_file():
                problems.append({**where, "column": "file", "value": row["file"],
                                 "rule": "missing_file",
                                 "message": f"{path} line {line}: {row['file']!r} is not in "
                                            f"{folder}"})  # fmt: skip
            if row["file"] in seen_files:
                problems.append({**where, "column": "file", "value": row["file"],
                                 "rule": "duplicate_file",
                                 "message": f"{path} line {line}: {row['file']!r} is already "
                                            f"listed on line {seen_files[row['file']]}"})
            seen_files.setdefault(row["file"], line)
        key = (row["participant_id"], row["session_id"])
        if all(key) and key in seen_sessions:
            problems.append({**where, "column": "session_id", "value": row["session_id"],
                             "rule": "duplicate_session",
                             "message": f"{path} line {line}: session {key[1]!r} of "
                                        f"{key[0]!r} is already on line {seen_sessions[key]}"})
        seen_sessions.setdefault(key, line)
    raise_problems("the manifest cannot be used", problems)
    parts = []
    for _, row in table.iterrows():
        stream = read_stream(folder / row["file"])
        stream.insert(0, "day", int(row["day"]))
        stream.insert(0, "session_id", row["session_id"])
        stream.insert(0, "participant_id", row["participant_id"])
        parts.append(stream)
    if not parts:
        raise KetexError(f"{path}: the manifest lists no recordings")
    out = pd.concat(parts, ignore_index=True)
    out["day"] = out["day"].astype("Int64")
    return out[["participant_id", "session_id", "day", *STREAM_COLUMNS]]
