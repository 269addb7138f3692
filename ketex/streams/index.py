"""The ``streams/`` folder of a study folder: checked once by :func:`ketex.load_trial`,
then read on demand through :class:`StreamIndex` (only a summary per recording is kept in
memory)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ketex.errors import DataValidationError, KetexError
from ketex.streams.checks import stream_problems
from ketex.streams.folder import read_manifest, read_session
from ketex.streams.read import STREAM_COLUMNS, read_stream

if TYPE_CHECKING:
    from ketex.study.problems import ProblemLog

__all__ = ["SESSION_COLUMNS", "StreamIndex", "index_streams"]

#: The columns of :attr:`StreamIndex.sessions`, in order.
SESSION_COLUMNS = (
    "participant_id",
    "session_id",
    "day",
    "file",
    "n_records",
    "start_time",
    "duration_min",
)


@dataclass(frozen=True, eq=False)
class StreamIndex:
    """The device recordings of a trial, one row per session, read on demand.

    ``trial.streams`` when the study folder has a ``streams/`` folder (see
    ``docs/study-folder.md``); the recordings stay on disk and are read again by
    :meth:`read` or :meth:`iter_sessions`, so a whole trial's streams are never held in
    memory unless asked for.

    Attributes
    ----------
    folder : pathlib.Path
        The ``streams/`` folder.
    sessions : pandas.DataFrame
        One row per recording that passed the checks, in manifest order, with
        :data:`SESSION_COLUMNS`: ``participant_id``, ``session_id``, ``day`` (Int64),
        ``file`` (relative to ``folder``), ``n_records``, ``start_time`` (UTC, NaT
        for files without clock times) and ``duration_min`` (last minus first record).

    Examples
    --------
    >>> import ketex, pathlib, shutil, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "study"
    >>> _ = shutil.copytree(ketex.sample_study_path(), folder,
    ...                     ignore=shutil.ignore_patterns("streams"))
    >>> (folder / "streams").mkdir()
    >>> _ = (folder / "streams" / "p1.csv").write_text(
    ...     "elapsed_s,heart_rate_bpm\\n0,120\\n1,130\\n2,131\\n")
    >>> _ = (folder / "streams" / "manifest.csv").write_text(
    ...     "file,participant_id,day\\np1.csv,P001,3\\n")
    >>> trial = ketex.load_trial(folder)
    >>> trial.streams.sessions[["participant_id", "session_id", "day", "n_records"]]
      participant_id session_id  day  n_records
    0           P001     p1.csv    3          3
    >>> trial.streams.read()["heart_rate_bpm"].tolist()
    [120.0, 130.0, 131.0]
    """

    folder: Path
    sessions: pd.DataFrame

    def __len__(self) -> int:
        return len(self.sessions)

    def read(self, participant_id: str | None = None,
             session_id: str | None = None) -> pd.DataFrame:  # fmt: skip
        """The stream of every session (or of one participant, or one session).

        Returns the table of :func:`ketex.read_streams`: ``participant_id``,
        ``session_id``, ``day`` and the columns of :func:`ketex.read_stream`; an empty
        such table when nothing matches.
        """
        rows = self.sessions
        if participant_id is not None:
            rows = rows[rows["participant_id"] == participant_id]
        if session_id is not None:
            rows = rows[rows["session_id"] == session_id]
        parts = [stream for _, stream in self._streams(rows)]
        if not parts:
            columns = ["participant_id", "session_id", "day", *STREAM_COLUMNS]
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        return pd.concat(parts, ignore_index=True)

    def iter_sessions(self) -> Iterator[tuple[pd.Series, pd.DataFrame]]:
        """Yield ``(row of sessions, stream)`` one session at a time (memory: one file)."""
        yield from self._streams(self.sessions)

    def _streams(self, rows: pd.DataFrame) -> Iterator[tuple[pd.Series, pd.DataFrame]]:
        for _, row in rows.iterrows():
            yield row, read_session(self.folder, row)

    def __repr__(self) -> str:
        people = self.sessions["participant_id"].nunique()
        return f"StreamIndex({str(self.folder)!r}, sessions={len(self)}, participants={people})"


def index_streams(folder: Path, participants: pd.DataFrame, exercise: pd.DataFrame,
                  hr_max: pd.Series, log: ProblemLog) -> StreamIndex:  # fmt: skip
    """Check every recording of a ``streams/`` folder into ``log``; index the good ones.

    ``participants`` and ``exercise`` are the validated tables, ``hr_max`` the HRmax of
    each participant (indexed by ``participant_id``; NaN when unknown), ``log`` the
    :class:`ketex.study.problems.ProblemLog` of the load. A recording with an error is
    left out of the index and stays in the log.
    """
    manifest_path = folder / "manifest.csv"
    if not manifest_path.is_file():
        log.add("streams", "missing_manifest",
                f"{folder} has no manifest.csv: list each recording with file, "
                "participant_id, day (and optionally session_id)",
                source_file=str(manifest_path))  # fmt: skip
        return StreamIndex(folder, _sessions([]))
    try:
        table, problems = read_manifest(folder)
    except KetexError as error:
        log.add("streams", "malformed_file", str(error), source_file=str(manifest_path))
        return StreamIndex(folder, _sessions([]))
    bad_lines = _log(log, problems)
    if "line" not in table.columns:  # a column was missing: nothing more to check
        return StreamIndex(folder, _sessions([]))
    known = set(participants["participant_id"])
    randomised = (participants.set_index("participant_id")["randomization_date"].to_dict()
                  if "randomization_date" in participants.columns else {})  # fmt: skip
    session_days = set(zip(exercise["participant_id"], exercise["day"].astype(int), strict=True))
    rows = []
    for _, row in table.iterrows():
        if row["line"] in bad_lines:
            continue
        where = {"source_file": str(manifest_path), "line": int(row["line"]),
                 "participant_id": row["participant_id"]}  # fmt: skip
        if row["participant_id"] not in known:
            log.add("streams", "unknown_participant",
                    f"manifest line {row['line']}: participant {row['participant_id']!r} "
                    f"of {row['file']!r} is not in (or was rejected from) participants",
                    column="participant_id", value=row["participant_id"], **where)  # fmt: skip
            continue
        day = int(row["day"])
        if (row["participant_id"], day) not in session_days:
            log.add("streams", "no_exercise_session",
                    f"manifest line {row['line']}: {row['file']!r} is on day {day}, when "
                    f"{row['participant_id']!r} has no session in the exercise table; kept",
                    severity="warning", column="day", value=day, **where)  # fmt: skip
        summary = _check_file(folder, row, hr_max.get(row["participant_id"], np.nan), log)
        if summary is not None:
            _check_start(summary, randomised.get(row["participant_id"]), where, log)
            rows.append(summary)
    return StreamIndex(folder, _sessions(rows))


def _check_file(folder: Path, row: pd.Series, hr_max: float, log: ProblemLog) -> dict | None:
    file = str(folder / row["file"])
    try:
        stream = read_stream(folder / row["file"])
    except DataValidationError as error:
        report = error.report if error.report is not None else pd.DataFrame()
        for problem in report.to_dict("records"):
            log.add("streams", str(problem["rule"]), str(problem["message"]),
                    source_file=file, line=_int(problem.get("line")),
                    participant_id=row["participant_id"], column=problem.get("column"),
                    value=problem.get("value"))  # fmt: skip
        return None
    except KetexError as error:
        log.add("streams", "unreadable_stream", str(error), source_file=file,
                participant_id=row["participant_id"])  # fmt: skip
        return None
    problems = stream_problems(stream, file=file, hr_max=float(hr_max),
                               participant_id=row["participant_id"])  # fmt: skip
    if np.isnan(hr_max) and stream["heart_rate_bpm"].notna().any():
        log.add("streams", "hr_max_unknown",
                f"{file}: participant {row['participant_id']!r} has no max_hr and no age, "
                "so heart-rate spikes were not checked", severity="warning",
                source_file=file, participant_id=row["participant_id"])  # fmt: skip
    _log(log, problems)
    if any(p["severity"] == "error" for p in problems):
        return None
    t = stream["elapsed_s"]
    return {"participant_id": row["participant_id"], "session_id": row["session_id"],
            "day": int(row["day"]), "file": row["file"], "n_records": len(stream),
            "start_time": stream["timestamp"].iloc[0],
            "duration_min": float(t.iloc[-1] - t.iloc[0]) / 60.0}  # fmt: skip


def _check_start(summary: dict, randomised: Any, where: dict, log: ProblemLog) -> None:
    """Warn when the recording's clock puts it more than a day from its manifest day."""
    start = summary["start_time"]
    if randomised is None or pd.isna(randomised) or pd.isna(start):
        return
    # device clocks are UTC and study days local: a day either way is not a finding
    day = (start.tz_convert(None).normalize() - pd.Timestamp(randomised).normalize()).days
    if abs(day - summary["day"]) > 1:
        log.add("streams", "stream_day_mismatch",
                f"manifest line {where['line']}: {summary['file']!r} starts on "
                f"{start:%Y-%m-%d %H:%M} UTC, study day {day}, but the manifest says day "
                f"{summary['day']}; check the file or the day", severity="warning",
                column="day", value=summary["day"], **where)  # fmt: skip


def _log(log: ProblemLog, problems: list[dict[str, Any]]) -> set:
    """Add problem dicts to the log; the manifest lines with an error."""
    lines = set()
    for p in problems:
        severity = str(p.get("severity", "error"))
        log.add("streams", str(p["rule"]), str(p["message"]), severity=severity,
                source_file=p.get("source_file"), line=_int(p.get("line")),
                participant_id=p.get("participant_id") or None, column=p.get("column"),
                value=p.get("value"))  # fmt: skip
        if severity == "error" and p.get("line") is not None:
            lines.add(p["line"])
    return lines


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _sessions(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=list(SESSION_COLUMNS))
    out = out.astype({"participant_id": "string", "session_id": "string", "file": "string",
                      "day": "Int64", "n_records": "int64", "duration_min": "float64"})
    out["start_time"] = pd.to_datetime(out["start_time"], utc=True).astype("datetime64[ns, UTC]")
    return out
