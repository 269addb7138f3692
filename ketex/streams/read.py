"""Reading one device recording (FIT, TCX, GPX or CSV) into a stream table.

XML is read with the standard library (``xml.etree.ElementTree.iterparse``), matching
elements by their local name, so every namespace version of TCX, GPX and the Garmin
extensions reads the same way.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Final, cast

import numpy as np
import pandas as pd

from ketex.errors import KetexError
from ketex.streams._problems import raise_problems
from ketex.streams.fit import fit_records

__all__ = ["STREAM_COLUMNS", "read_stream"]

#: The columns of :func:`read_stream`, in order.
STREAM_COLUMNS = (
    "elapsed_s",
    "timestamp",
    "heart_rate_bpm",
    "power_w",
    "cadence_rpm",
    "speed_m_s",
    "distance_m",
    "source_file",
    "record_index",
)
_FIELDS = {
    "heartratebpm": "heart_rate_bpm", "hr": "heart_rate_bpm", "heartrate": "heart_rate_bpm",
    "watts": "power_w", "power": "power_w", "powerinwatts": "power_w",
    "cadence": "cadence_rpm", "cad": "cadence_rpm", "runcadence": "cadence_rpm",
    "speed": "speed_m_s", "distancemeters": "distance_m",
}  # fmt: skip
_RECORDS = {"trackpoint", "trkpt"}
#: Every reader returns times in this dtype, whatever the file's resolution.
_TIME_DTYPE: Final = "datetime64[ns, UTC]"


def read_stream(path: str | Path) -> pd.DataFrame:
    """Read a ``.fit``, ``.tcx``, ``.gpx``, ``.csv`` or ``.parquet`` recording.

    Parameters
    ----------
    path : str or pathlib.Path
        The file. FIT (Garmin/ANT+, decoded by fitdecode): the ``record`` messages'
        ``timestamp``, ``heart_rate``, ``power``, ``cadence``, ``enhanced_speed`` (else
        ``speed``) and ``distance``; other messages (laps, sessions, events) are not
        read. TCX: ``Trackpoint`` with ``Time``, ``HeartRateBpm/Value``, ``Cadence``,
        ``DistanceMeters`` and the ``TPX`` extension's ``Watts`` and ``Speed``. GPX:
        ``trkpt`` with ``time`` and the ``TrackPointExtension`` ``hr``, ``cad`` (and
        ``power`` or ``PowerInWatts`` when present). CSV and Parquet: a column
        ``timestamp`` or ``elapsed_s`` and any of the value columns below (Parquet: of a
        numeric type; the way to store a whole trial's streams compactly).

    Returns
    -------
    pandas.DataFrame
        Columns ``elapsed_s`` (seconds since the first record), ``timestamp`` (UTC;
        naive times are read as UTC), ``heart_rate_bpm``, ``power_w``, ``cadence_rpm``,
        ``speed_m_s``, ``distance_m`` (NaN where the file has no value),
        ``source_file`` and ``record_index`` (0-based position of the record in the file).

    Raises
    ------
    ketex.KetexError
        The file is missing, not of a known type, not well-formed, fails its FIT CRC or
        ends early (the message names the file, the line or byte, and the last complete
        record).
    ketex.DataValidationError
        A record has no time or a value that is not a number (every such record listed).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "ride.csv").write_text("elapsed_s,heart_rate_bpm,power_w\\n"
    ...                                       "0,120,100\\n1,121,110\\n")
    >>> read_stream(folder / "ride.csv")[["elapsed_s", "heart_rate_bpm", "power_w"]]
       elapsed_s  heart_rate_bpm  power_w
    0        0.0           120.0    100.0
    1        1.0           121.0    110.0
    """
    return read_labelled(path)


def read_labelled(path: str | Path, labels: dict[str, object] | None = None) -> pd.DataFrame:
    """:func:`read_stream`, with ``participant_id``, ``session_id`` (text) and ``day``
    (Int64) columns first when ``labels`` gives them (built in the same frame: no copy)."""
    path = Path(path)
    if not path.is_file():
        raise KetexError(f"{path}: no such file")
    suffix = path.suffix.lower()
    records: Sequence[Mapping[str, object]]
    if suffix == ".fit":
        records = fit_records(path)
    elif suffix in (".tcx", ".gpx"):
        records = _xml_records(path)
    elif suffix == ".csv":
        records = _csv_records(path)
    elif suffix == ".parquet":
        return _parquet_table(path, labels)
    else:
        raise KetexError(f"{path}: unknown stream type {suffix!r} "
                         "(use .fit, .tcx, .gpx, .csv or .parquet)")
    return _table(path, records, labels)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _xml_records(path: Path) -> list[dict[str, str]]:
    records: list[dict[str, str]] = []
    try:
        with open(path, "rb") as handle:
            _parse_into(handle, records)
    except ET.ParseError as error:
        line, column = error.position
        raise KetexError(
            f"{path}: not well-formed XML at line {line}, column {column} after record "
            f"{len(records) - 1} (the file may be truncated): {error}"
        ) from None
    except OSError as error:
        raise KetexError(f"{path}: cannot be read ({error.strerror})") from None
    return records


def _parse_into(handle: IO[bytes], records: list[dict[str, str]]) -> None:
    for _, element in ET.iterparse(handle, events=("end",)):
        if _local(element.tag) not in _RECORDS:
            continue
        record: dict[str, str] = {}
        for child in element.iter():
            name = _local(child.tag)
            if name == "time":
                record["timestamp"] = (child.text or "").strip()
            elif name == "value" and "heart_rate_bpm" not in record:
                record["heart_rate_bpm"] = (child.text or "").strip()
            elif name in _FIELDS and (child.text or "").strip():
                record[_FIELDS[name]] = child.text.strip()
        records.append(record)
        element.clear()


def _csv_records(path: Path) -> list[dict[str, str]]:
    import csv
    import io

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise KetexError(f"{path}: cannot be read as UTF-8 text ({error})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise KetexError(f"{path}: empty file, no header")
    header = [name.strip() for name in header]
    records = []
    for index, cells in enumerate(reader):
        if not cells:
            continue
        if len(cells) != len(header):
            raise KetexError(f"{path}: record {index} (line {reader.line_num}) has "
                             f"{len(cells)} fields, the header {len(header)}")  # fmt: skip
        records.append({k: v.strip() for k, v in zip(header, cells, strict=True) if v.strip()})
    return records


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _table(
    path: Path, records: Sequence[Mapping[str, object]], labels: dict | None
) -> pd.DataFrame:
    if not records:
        raise KetexError(f"{path}: no records (trackpoints or rows) found")
    problems: list[dict[str, object]] = []
    values = {column: np.full(len(records), np.nan) for column in STREAM_COLUMNS[2:7]}
    values["elapsed_s"] = np.full(len(records), np.nan)
    stamps: list[datetime | None] = []
    for index, record in enumerate(records):
        stamp: datetime | None = None
        raw = record.get("timestamp")
        if isinstance(raw, datetime):
            stamp = raw
        elif "timestamp" in record:
            try:
                stamp = _parse_time(str(raw))  # text (TCX, GPX, CSV); FIT gives datetimes
            except ValueError:
                problems.append(_problem(path, index, "timestamp", record["timestamp"]))
        elif "elapsed_s" not in record:
            problems.append({"source_file": str(path), "line": index, "column": "timestamp",
                             "rule": "missing_value",
                             "message": f"{path}: record {index} has no time"})  # fmt: skip
        stamps.append(stamp)
        for column in ("elapsed_s", *STREAM_COLUMNS[2:7]):
            if column in record:
                try:
                    values[column][index] = float(cast("str | float", record[column]))
                except ValueError:
                    problems.append(_problem(path, index, column, record[column]))
    raise_problems(f"{path} has unreadable records", problems)
    # pandas-stubs: to_datetime does not list a sequence holding None (NaT here)
    timestamp = pd.Series(pd.to_datetime(stamps, utc=True))  # type: ignore[arg-type]
    if timestamp.notna().all():
        elapsed = (timestamp - timestamp.iloc[0]).dt.total_seconds().to_numpy()
    else:
        elapsed = values["elapsed_s"] - values["elapsed_s"][0]
    return _frame(path, elapsed, timestamp, values, labels)


def _problem(path: Path, index: int, column: str, value: object) -> dict[str, object]:
    return {"source_file": str(path), "line": index, "column": column, "value": value,
            "rule": "non_numeric" if column != "timestamp" else "bad_date",
            "message": f"{path}: record {index}: {column} {value!r} cannot be read"}


def _parquet_table(path: Path, labels: dict | None) -> pd.DataFrame:
    """A Parquet stream, column by column (no per-record Python work: whole trials)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, use_threads=False)
    except (OSError, ValueError) as error:  # pyarrow.ArrowInvalid is a ValueError
        raise KetexError(f"{path}: cannot be read as Parquet ({error})") from None
    n = table.num_rows
    if n == 0:
        raise KetexError(f"{path}: no records (trackpoints or rows) found")
    names = set(table.column_names)
    problems: list[dict[str, object]] = []
    values = {}
    for column in ("elapsed_s", *STREAM_COLUMNS[2:7]):
        kind = table.schema.field(column).type if column in names else None
        if kind is None:
            values[column] = np.full(n, np.nan)
        elif not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            problems.append({"source_file": str(path), "column": column, "value": str(kind),
                             "rule": "non_numeric",
                             "message": f"{path}: column {column} is of type {kind}, not a "
                                        "number"})  # fmt: skip
        else:
            chunk = table.column(column).cast(pa.float64())
            values[column] = chunk.to_numpy() if chunk.null_count == 0 else np.asarray(
                chunk.fill_null(np.nan).to_numpy(), dtype=float)
    stamps = None
    if "timestamp" in names:
        kind = table.schema.field("timestamp").type
        if not pa.types.is_timestamp(kind):
            problems.append({"source_file": str(path), "column": "timestamp",
                             "value": str(kind), "rule": "bad_date",
                             "message": f"{path}: column timestamp is of type {kind}, not "
                                        "a time"})  # fmt: skip
        else:  # naive times are UTC, as in every reader
            stamps = table.column("timestamp").cast(pa.timestamp("ns")).to_numpy()
    elif "elapsed_s" not in names:
        problems.append({"source_file": str(path), "column": "timestamp",
                         "rule": "missing_column",
                         "message": f"{path}: no column timestamp or elapsed_s"})  # fmt: skip
    raise_problems(f"{path} has unreadable records", problems)
    if stamps is not None and not np.isnat(stamps).any():
        elapsed = (stamps - stamps[0]) / np.timedelta64(1, "s")
    else:
        elapsed = values["elapsed_s"] - values["elapsed_s"][0]
        if stamps is None:
            stamps = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    for index in np.flatnonzero(~np.isfinite(elapsed))[:20]:
        problems.append({"source_file": str(path), "line": int(index), "column": "timestamp",
                         "rule": "missing_value",
                         "message": f"{path}: record {index} has no time"})  # fmt: skip
    raise_problems(f"{path} has unreadable records", problems)
    timestamp = pd.DatetimeIndex(stamps).tz_localize("UTC")
    return _frame(path, elapsed, timestamp, values, labels)


def _frame(path: Path, elapsed: np.ndarray, timestamp: object, values: dict,
           labels: dict | None) -> pd.DataFrame:  # fmt: skip
    """The stream table, built once in column order (text columns straight from Arrow:
    pandas would otherwise infer the type of every cell)."""
    import pyarrow as pa

    n = len(elapsed)

    def text(value: object) -> pd.api.extensions.ExtensionArray:
        return pd.array(pa.array([str(value)] * n, pa.large_string()), dtype="string")

    data: dict[str, Any] = {}
    if labels is not None:
        data = {"participant_id": text(labels["participant_id"]),
                "session_id": text(labels["session_id"]),
                "day": pd.array(np.full(n, int(labels["day"])), dtype="Int64")}  # fmt: skip
    data.update({"elapsed_s": np.asarray(elapsed, dtype=float),
                 "timestamp": pd.Series(timestamp).astype(_TIME_DTYPE).reset_index(drop=True),
                 **{c: values[c] for c in STREAM_COLUMNS[2:7]},
                 "source_file": text(path), "record_index": np.arange(n)})  # fmt: skip
    return pd.DataFrame(data, columns=list(data))
