"""Writing stream tables as a ``streams/`` folder: one file per session and its manifest.

Parquet files hold ``timestamp`` (whole seconds, UTC) or, without clock times,
``elapsed_s``, and whole-number heart rate and power as small integers, delta-encoded and
compressed with zstd: about 1.5 bytes a record. FIT files are written with fit-tool (BSD-3-Clause,
https://bitbucket.org/stagescycling/python_fit_tool), imported only when asked for: a
``file_id`` message and one ``record`` message (timestamp, heart_rate, power) per record.
Both are byte-for-byte the same for the same table.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ketex.errors import KetexError

__all__ = ["write_streams"]

_FORMATS = ("parquet", "fit", "csv")


def write_streams(
    streams: pd.DataFrame,
    folder: str | Path,
    *,
    fit: Iterable[tuple[str, str]] = (),
    csv: Iterable[tuple[str, str]] = (),
) -> Path:
    """Write each session of a stream table to its own file, and the manifest.

    Parameters
    ----------
    streams : pandas.DataFrame
        ``participant_id``, ``session_id``, ``day``, ``elapsed_s`` or ``timestamp``
        (naive = UTC), ``heart_rate_bpm`` and optionally ``power_w``, as
        :func:`ketex.simulate.streams.simulate_streams` or :func:`ketex.read_streams`
        return.
    folder : str or pathlib.Path
        The ``streams/`` folder (created). Files go to ``<participant_id>/<session_id>``
        with the format's extension.
    fit, csv : iterable of (participant_id, session_id)
        Sessions to write as ``.fit`` (needs ``pip install fit-tool`` and clock times)
        or ``.csv``; every other session is written as ``.parquet``.

    Returns
    -------
    pathlib.Path
        The manifest, ``folder / "manifest.csv"`` (``file, participant_id, day,
        session_id``, in the table's session order).

    Raises
    ------
    ketex.KetexError
        A column is missing, a session has no times, or FIT is asked for without
        fit-tool or without clock times.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd, ketex
    >>> table = pd.DataFrame({"participant_id": "P01", "session_id": "S1", "day": 3,
    ...                       "elapsed_s": [0.0, 1, 2], "heart_rate_bpm": [120.0, 121, 123]})
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "streams"
    >>> print(write_streams(table, folder, csv=[("P01", "S1")]).read_text(), end="")
    file,participant_id,day,session_id
    P01/S1.csv,P01,3,S1
    >>> ketex.read_streams(folder)["heart_rate_bpm"].tolist()
    [120.0, 121.0, 123.0]
    """
    missing = [c for c in ("participant_id", "session_id", "day", "heart_rate_bpm")
               if c not in streams.columns]  # fmt: skip
    if missing or not {"elapsed_s", "timestamp"} & set(streams.columns):
        raise KetexError(f"write_streams: the table lacks {missing or ['elapsed_s or timestamp']}")
    folder = Path(folder)
    as_fit = {(str(p), str(s)) for p, s in fit}
    as_csv = {(str(p), str(s)) for p, s in csv}
    rows = []
    for (pid, sid), session in streams.groupby(["participant_id", "session_id"], sort=False):
        key = (str(pid), str(sid))
        kind = "fit" if key in as_fit else "csv" if key in as_csv else "parquet"
        relative = f"{pid}/{sid}.{kind}"
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        {"fit": _write_fit, "csv": _write_csv, "parquet": _write_parquet}[kind](session, path)
        rows.append({"file": relative, "participant_id": pid,
                     "day": int(session["day"].iloc[0]), "session_id": sid})  # fmt: skip
    manifest = folder / "manifest.csv"
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["file", "participant_id", "day", "session_id"]).to_csv(
        manifest, index=False, lineterminator="\n")
    return manifest


def _times(session: pd.DataFrame, path: Path) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(UTC seconds since the epoch or None, elapsed seconds or None)."""
    if "timestamp" in session.columns and session["timestamp"].notna().all():
        stamps = pd.to_datetime(session["timestamp"])
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        return stamps.to_numpy("datetime64[s]").astype("int64"), None
    if "elapsed_s" in session.columns and session["elapsed_s"].notna().all():
        return None, session["elapsed_s"].to_numpy(dtype=float)
    raise KetexError(f"write_streams: {path.name}: a record has neither timestamp nor elapsed_s")


def _whole(values: pd.Series, dtype: str) -> object:
    import pyarrow as pa

    v = pd.to_numeric(values).to_numpy(dtype=float)
    if np.all(np.isnan(v)):
        return None
    if np.all(np.isnan(v) | (v == np.round(v))):
        return pa.array(np.where(np.isnan(v), 0, v).astype(dtype), mask=np.isnan(v))
    return pa.array(v, mask=np.isnan(v))


def _write_parquet(session: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    epoch, elapsed = _times(session, path)
    columns = {}
    if epoch is not None:
        columns["timestamp"] = pa.array(epoch, pa.timestamp("s"))
    elif elapsed is not None:  # _times gives one of the two
        whole = np.all(elapsed == np.round(elapsed)) and abs(elapsed).max() < 2**31
        columns["elapsed_s"] = pa.array(elapsed.astype("int32") if whole else elapsed)
    for name, dtype in (("heart_rate_bpm", "int16"), ("power_w", "int16")):
        if name in session.columns:
            array = _whole(session[name], dtype)
            if array is not None:
                columns[name] = array
    # delta encoding of whole numbers: a second-by-second stream changes little per record
    table = pa.table(columns)
    delta = {field.name: "DELTA_BINARY_PACKED" for field in table.schema
             if not pa.types.is_floating(field.type)}  # fmt: skip
    pq.write_table(table, path, compression="zstd", compression_level=9,
                   use_dictionary=False, column_encoding=delta,
                   write_statistics=False, store_schema=False)


def _write_csv(session: pd.DataFrame, path: Path) -> None:
    epoch, elapsed = _times(session, path)
    out = pd.DataFrame()
    if epoch is not None:
        out["timestamp"] = pd.to_datetime(epoch, unit="s").strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        out["elapsed_s"] = elapsed
    for name in ("heart_rate_bpm", "power_w"):
        if name in session.columns and session[name].notna().any():
            out[name] = session[name].to_numpy()
    out.to_csv(path, index=False, lineterminator="\n")


def _write_fit(session: pd.DataFrame, path: Path) -> None:
    try:
        from fit_tool.fit_file_builder import FitFileBuilder
        from fit_tool.profile.messages.file_id_message import FileIdMessage
        from fit_tool.profile.messages.record_message import RecordMessage
        from fit_tool.profile.profile_type import FileType, Manufacturer
    except ImportError:
        raise KetexError(f"write_streams: writing {path.name} as FIT needs fit-tool: "
                         "pip install fit-tool") from None  # fmt: skip
    epoch, _ = _times(session, path)
    if epoch is None:
        raise KetexError(f"write_streams: {path.name}: FIT needs clock times (timestamp)")
    hr = pd.to_numeric(session["heart_rate_bpm"]).to_numpy(dtype=float)
    power = (pd.to_numeric(session["power_w"]).to_numpy(dtype=float)
             if "power_w" in session.columns else np.full(len(hr), np.nan))  # fmt: skip
    builder = FitFileBuilder(auto_define=True, min_string_size=50)
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.DEVELOPMENT.value
    file_id.product = 0
    file_id.serial_number = 1
    file_id.time_created = int(epoch[0]) * 1000
    builder.add(file_id)
    for when, beat, watt in zip(epoch, hr, power, strict=True):
        record = RecordMessage()
        record.timestamp = int(when) * 1000  # fit-tool takes milliseconds since 1970
        if np.isfinite(beat):
            record.heart_rate = int(round(beat))
        if np.isfinite(watt):
            record.power = int(round(watt))
        builder.add(record)
    builder.build().to_file(str(path))
