"""ketex's own study format: a folder of tables, or one Excel workbook, plus ``study.toml``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from ketex.errors import DataValidationError
from ketex.io.escape import csv_safe, text_cells_as_text
from ketex.io.files import (
    decode_text,
    read_csv_table,
    read_file_bytes,
    read_parquet_table,
    table_file_present,
)
from ketex.io.workbook import match_sheets, open_books, read_sheet
from ketex.study.problems import ProblemLog
from ketex.study.protocol import Protocol, ProtocolError
from ketex.study.tables import SAFETY_TABLES
from ketex.study.trial import TABLE_NAMES, Trial
from ketex.study.validation import ON_ERROR, build_trial, raise_for_errors

__all__ = ["load_trial", "read_protocol", "write_excel", "write_trial"]

STUDY_SHEET = "study"


def load_trial(path: str | Path, *, on_error: str = "raise") -> Trial:
    """Load a trial from a study folder or an Excel workbook, validating everything.

    Parameters
    ----------
    path : str or Path
        A folder holding ``study.toml`` and ``participants``, ``assessments`` and
        optionally ``infusions``, ``exercise``, ``events`` and the safety tables
        ``adverse_events``, ``vitals``, ``medications`` as ``.csv`` or
        ``.parquet``; or an ``.xlsx`` workbook with one sheet per table and the protocol
        in a ``study`` sheet (the lines of ``study.toml`` in column A) or in a
        ``study.toml`` beside the workbook. A folder may also hold a ``streams/``
        folder of device recordings with its ``manifest.csv``: each recording is
        checked and indexed in ``trial.streams``. See ``docs/study-folder.md``.
    on_error : {"raise", "drop"}
        ``"raise"`` (default): any error raises :class:`ketex.DataValidationError` with
        the whole report. ``"drop"``: rows with errors are left out and listed in
        ``trial.report``.

    Returns
    -------
    Trial

    Raises
    ------
    DataValidationError
        The data or the protocol break a rule; ``exc.report`` lists every problem with
        file, line, participant, column, value, rule and what to do.
    OSError
        ``path`` or ``study.toml`` does not exist.

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> trial.protocol.arm_codes
    ('SINGLE', 'SERIES')
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; give a study folder or an .xlsx file")
    if path.is_file():
        if path.suffix.lower() != ".xlsx":
            raise DataValidationError(
                f"{path} is a file but not an .xlsx workbook; give a study folder or a workbook"
            )
        return _load_workbook(path, on_error)
    protocol = read_protocol(path / "study.toml")
    log = ProblemLog()
    raw = {name: _read_table(path, name, log) for name in TABLE_NAMES}
    if not (path / "streams").is_dir():
        return build_trial(protocol, raw, on_error=on_error, source=str(path), log=log)
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    trial = build_trial(protocol, raw, on_error="drop", source=str(path), log=log)
    return _with_streams(trial, path / "streams", log, on_error, str(path))


def _with_streams(trial: Trial, folder: Path, log: ProblemLog, on_error: str,
                  source: str) -> Trial:  # fmt: skip
    """The trial with its checked ``streams/`` folder; raises on any error if asked to."""
    from ketex.derive.heart_rate import participant_max_hr
    from ketex.streams.index import index_streams

    max_hr, _ = participant_max_hr(trial.participants)
    hr_max = pd.Series(max_hr, index=trial.participants["participant_id"].to_numpy())
    streams = index_streams(folder, trial.participants, trial.exercise, hr_max, log)
    report = log.report()
    if on_error == "raise":
        raise_for_errors(report, source)
    return replace(trial, streams=streams, report=report)


def read_protocol(path: str | Path, text: str | None = None) -> Protocol:
    """Read ``study.toml`` (or TOML ``text`` attributed to ``path``).

    Raises :class:`ketex.DataValidationError` naming the file and key when the protocol
    is invalid, and ``OSError`` when the file is missing.
    """
    path = Path(path)
    log = ProblemLog()
    try:
        if text is None:
            if not table_file_present(path):
                raise FileNotFoundError(f"{path} does not exist; a study needs its study.toml")
            data = read_file_bytes(path, "study", log)
            text = None if data is None else decode_text(data, path.name, "study", log)
            if text is None:
                raise DataValidationError(
                    f"{path} cannot be read: {log.report()['message'].iloc[0]}", log.report())
        return Protocol.from_toml_text(text, source=str(path))
    except ProtocolError as exc:
        log.add("study", "bad_protocol", str(exc), source_file=path.name)
        raise DataValidationError(f"invalid protocol: {exc}", log.report()) from None


def _read_table(folder: Path, name: str, log: ProblemLog) -> pd.DataFrame | None:
    candidates = (folder / f"{name}{ext}" for ext in (".csv", ".parquet"))
    found = [path for path in candidates if table_file_present(path)]
    if not found:
        return None
    if len(found) > 1:
        log.add(name, "ambiguous_table",
                f"both {found[0].name} and {found[1].name} exist; keep only one of them",
                source_file=found[0].name)
        log.unreadable.add(name)
        return None
    file = found[0]
    if file.suffix == ".csv":
        return read_csv_table(file, name, log)
    return read_parquet_table(file, name, log)


def _load_workbook(path: Path, on_error: str) -> Trial:
    try:
        values, formulas = open_books(path)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise DataValidationError(
            f"{path} cannot be opened as an Excel workbook ({type(exc).__name__}: {exc}); "
            "save it again as .xlsx"
        ) from None
    log = ProblemLog()
    found = match_sheets(formulas, path.name, (*TABLE_NAMES, STUDY_SHEET), log)
    if STUDY_SHEET in log.unreadable:
        report = log.report()
        raise DataValidationError(f"invalid protocol: {report['message'].iloc[0]}", report)
    if STUDY_SHEET in found:
        lines = [row[0] if row else None
                 for row in values[found[STUDY_SHEET]].iter_rows(values_only=True)]
        text = "\n".join("" if v is None else str(v) for v in lines)
        protocol = read_protocol(f"{path.name}[study]", text)
    else:
        protocol = read_protocol(path.parent / "study.toml")
    raw = {
        name: read_sheet(values[found[name]], formulas[found[name]], f"{path.name}[{name}]",
                         name, log) if name in found else None
        for name in TABLE_NAMES
    }
    return build_trial(protocol, raw, on_error=on_error, source=str(path), log=log)


def _for_file(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as ISO text, so that every format writes them the same way."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
    return out


def _written(trial: Trial) -> dict[str, pd.DataFrame]:
    """The tables a writer writes: all but the safety tables without rows."""
    return {name: frame for name, frame in trial.tables().items()
            if name not in SAFETY_TABLES or len(frame)}


def write_trial(trial: Trial, folder: str | Path, *, format: str = "csv") -> Path:
    """Write a trial as a study folder (``study.toml`` and one table per file).

    Parameters
    ----------
    trial : Trial
    folder : str or Path
        Created if absent; existing table files are replaced.
    format : {"csv", "parquet"}

    Returns
    -------
    Path
        The folder. Reading it back with :func:`load_trial` gives an equal trial.
        Safety tables without rows are not written. Text that a spreadsheet would run
        as a formula (``=``, ``+``, ``-``, ``@`` first) is written with an apostrophe
        before it, which :func:`load_trial` removes again.
    """
    if format not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {format!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    trial.protocol.write(folder / "study.toml")
    for name, frame in _written(trial).items():
        target = folder / f"{name}.{format}"
        if format == "csv":
            csv_safe(_for_file(frame)).to_csv(target, index=False)
        else:
            frame.to_parquet(target, index=False)
    return folder


def write_excel(trial: Trial, path: str | Path) -> Path:
    """Write a trial as one ``.xlsx`` workbook with a ``study`` sheet holding the protocol.

    Text cells are written as text, never as formulas, so ``=A1`` reads back as ``=A1``.
    """
    path = Path(path)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in _written(trial).items():
            _for_file(frame).to_excel(writer, sheet_name=name, index=False)
        study = pd.DataFrame({"study.toml": trial.protocol.to_toml().splitlines()})
        study.to_excel(writer, sheet_name=STUDY_SHEET, index=False, header=False)
        for sheet in writer.sheets.values():
            text_cells_as_text(sheet)
    return path
