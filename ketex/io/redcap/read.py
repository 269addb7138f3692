"""Reading a REDCap export (records + data dictionary + mapping) into a :class:`Trial`."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from ketex.errors import DataValidationError
from ketex.io.files import read_csv_table
from ketex.io.redcap.dictionary import Dictionary, Field, read_dictionary
from ketex.io.redcap.mapping import ColumnMap, FormMap, RedcapMapping, read_mapping
from ketex.study.problems import LINE, PARSE_ERROR, SOURCE_FILE, ProblemLog, format_report
from ketex.study.protocol import Protocol
from ketex.study.trial import TABLE_NAMES, Trial
from ketex.study.validation import ON_ERROR, build_trial

__all__ = ["load_redcap", "read_redcap_tables"]

SYSTEM_COLUMNS = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance")
_TICKED, _UNTICKED = ("1", "checked"), ("", "0", "unchecked")
_STATUS = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}
TABLE = "redcap"  # the report's table for problems with records rows that fill no trial table


def load_redcap(
    records_csv: str | Path,
    dictionary_csv: str | Path,
    mapping: str | Path | Mapping[str, Any],
    *,
    on_error: str = "raise",
) -> Trial:
    """Load a trial from a REDCap export: the records, the data dictionary and a mapping.

    Parameters
    ----------
    records_csv : str or Path
        The flat CSV export ("CSV / Microsoft Excel (raw data)"): ``record_id`` (or the
        project's first field), ``redcap_event_name`` for longitudinal projects,
        ``redcap_repeat_instrument`` and ``redcap_repeat_instance`` for repeating forms,
        one column per field (checkboxes: ``field___code``) and ``<form>_complete``.
    dictionary_csv : str or Path
        The project's data dictionary (18 columns, as REDCap downloads it).
    mapping : str, Path or mapping
        A TOML file with a ``[redcap]`` section, or that section as a dict: where the
        protocol is, which events are which visits, which forms and fields hold
        participants, infusions, exercise sessions, scales, events and the safety tables
        (adverse events, vital signs, medications). See
        ``docs/loading-data.md``.
    on_error : {"raise", "drop"}
        ``"raise"`` (default): any error raises :class:`ketex.DataValidationError` with
        the whole report. ``"drop"``: rows with errors are left out and listed in
        ``trial.report``.

    Returns
    -------
    Trial
        ``trial.report`` lists every warning (incomplete forms, unmapped forms, ...):
        every records line is in the trial or in the report.

    Raises
    ------
    DataValidationError
        The data, the dictionary or the mapping break a rule; ``exc.report`` lists every
        problem with file, line, participant, column, value, rule and what to do.
        Problems with a records row name the REDCap field in ``column``.
    OSError
        A file does not exist.

    Examples
    --------
    >>> import ketex.io.redcap as redcap
    >>> folder = "tests/data/redcap/"
    >>> trial = redcap.load_redcap(folder + "records.csv", folder + "dictionary.csv",
    ...                            folder + "mapping.toml")
    >>> trial.participants[["participant_id", "arm", "sex"]]
      participant_id     arm sex
    0            R01  SINGLE   F
    1            R02  SERIES   M
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    records = Path(records_csv)
    tables = read_redcap_tables(records, dictionary_csv, mapping)
    trial = build_trial(tables.protocol, tables.raw, on_error="drop", source=str(records),
                        log=tables.log)
    report = tables.in_redcap_terms(trial.report)
    errors = report[report["severity"] == "error"]
    if len(errors) and on_error == "raise":
        raise DataValidationError(
            f"{len(errors)} error(s) in {records}; nothing was loaded. Fix the rows below "
            f"(the full table is in the exception's .report):\n{format_report(errors)}",
            report,
        )
    return dataclasses.replace(trial, report=report)


@dataclasses.dataclass
class RedcapTables:
    """The raw trial tables read from an export, before validation.

    ``raw`` holds the trial tables with values as read and provenance columns
    (``_source_file``, ``_line``); ``log`` the problems found so far. ``fields`` tells,
    for (table, line, column), the records column the value came from; ``blanked`` the
    required cells emptied because their value was rejected (already reported).
    """

    protocol: Protocol
    raw: dict[str, pd.DataFrame | None]
    log: ProblemLog
    fields: dict[tuple[str, int | None, str | None], set[str]]
    blanked: set[tuple[str, int, str]]

    def in_redcap_terms(self, report: pd.DataFrame) -> pd.DataFrame:
        """The report with REDCap field names as columns, without echoes of blanked cells."""
        keys = [
            (table, None if pd.isna(line) else int(line), None if pd.isna(column) else column)
            for table, line, column in zip(
                report["table"], report["line"], report["column"], strict=True
            )
        ]
        echo = pd.Series([
            rule == "missing_value" and (t, line, c) in self.blanked
            for (t, line, c), rule in zip(keys, report["rule"], strict=True)
        ], index=report.index, dtype=bool)
        columns = [
            next(iter(found)) if len(found := self.fields.get(key, ())) == 1 else key[2]
            for key in keys
        ]
        out = report.assign(column=pd.Series(columns, index=report.index, dtype="string"))
        return out[~echo].reset_index(drop=True)


def read_redcap_tables(
    records_csv: str | Path, dictionary_csv: str | Path, mapping: str | Path | Mapping[str, Any]
) -> RedcapTables:
    """Read the export into raw trial tables (what :func:`load_redcap` validates).

    Every line of the records file gives rows of the raw tables, or a problem in the log
    (a malformed line, a row of no mapped form, ...); tests rely on this for row
    accounting.
    """
    dictionary = read_dictionary(dictionary_csv)
    plan = read_mapping(mapping, dictionary)
    path = Path(records_csv)
    log = ProblemLog()
    _check_not_labels(path, dictionary, plan.record_id, log)
    frame = read_csv_table(path, TABLE, log)
    if frame is None:
        _raise(path, log)
    reader = _RecordsReader(path.name, dictionary, plan, log)
    reader.check_header(frame)
    for row in frame.to_dict("records"):
        reader.read_row(row)
    raw: dict[str, pd.DataFrame | None] = {name: None for name in TABLE_NAMES}
    for table in {s.table for s in plan.sources}:
        columns = [SOURCE_FILE, LINE, "participant_id"]
        for source in plan.sources:
            columns += [c.column for c in source.columns if source.table == table]
        columns = list(dict.fromkeys(columns))
        raw[table] = pd.DataFrame(reader.rows[table], columns=columns, dtype=object)
    return RedcapTables(plan.protocol, raw, log, reader.fields, reader.blanked)


_SYSTEM_LABELS = ("event name", "repeat instrument", "repeat instance", "complete?",
                  "survey identifier", "data access group")


def _check_not_labels(path: Path, dictionary: Dictionary, record_id: str,
                      log: ProblemLog) -> None:
    """Raise ``labels_export`` when the header holds field labels, not variable names.

    REDCap's "CSV / Microsoft Excel (labels)" export names columns by their questions
    ("Record ID", "Complete?" once per form) and writes choice labels, not codes.
    """
    if not path.is_file():
        return  # read_csv_table reports what stands there
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        header = next(csv.reader(handle), [])
    cells = [cell.strip() for cell in header]
    if record_id in cells:
        return
    labels = {f.label.strip().lower(): f.name for f in dictionary.fields.values() if f.label}
    as_labels = [c for c in cells if c.lower() in labels or c.lower() in _SYSTEM_LABELS]
    if len(as_labels) < 2:
        return
    shown = ", ".join(repr(c) for c in as_labels[:4])
    log.add(TABLE, "labels_export",
            f"{path.name} names its columns by field labels ({shown}, ...), not by variable "
            f"names such as {record_id}: it is a 'labels' export, whose values are labels "
            "too. Export the data again as 'CSV / Microsoft Excel (raw data)'",
            source_file=path.name, line=1)
    _raise(path, log)


def _raise(path: Path, log: ProblemLog) -> NoReturn:
    report = log.report()
    raise DataValidationError(f"{path} cannot be read:\n{format_report(report)}", report)


class _RecordsReader:
    """Turns records rows into rows of the trial tables, logging what it cannot place."""

    def __init__(self, source: str, dictionary: Dictionary, plan: RedcapMapping,
                 log: ProblemLog) -> None:
        self.source = source
        self.dictionary = dictionary
        self.plan = plan
        self.log = log
        self.rows: dict[str, list[dict]] = {s.table: [] for s in plan.sources}
        self.fields: dict[tuple[str, int | None, str | None], set[str]] = {}
        self.blanked: set[tuple[str, int, str]] = set()
        # columns whose values show that a form holds data (calc fields fill themselves)
        self.data_columns = {
            form: [c for f in dictionary.fields_of(form) if f.type != "calc"
                   and f.name != plan.record_id for c in f.columns]
            for form in dictionary.forms
        }

    # -- the header -----------------------------------------------------------------

    def check_header(self, frame: pd.DataFrame) -> None:
        """Structural problems raise; columns the dictionary does not know are warned about."""
        header = [c for c in frame.columns if not c.startswith("_")]
        missing = []
        if self.plan.record_id not in header:
            missing.append(f"{self.plan.record_id} (the record id)")
        for source in self.plan.sources:
            for column in source.columns:
                if column.field is None:
                    continue
                absent = [c for c in self.dictionary.fields[column.field].columns
                          if c not in header]
                if absent:
                    missing.append(f"{', '.join(absent)} ({column.key})")
        if missing:
            self.log.add(TABLE, "missing_column",
                         f"{self.source} has no column {'; '.join(missing)}; export these "
                         f"fields too, or take them out of {self.plan.source}",
                         source_file=self.source, line=1)
            _raise(Path(self.source), self.log)
        known = set(SYSTEM_COLUMNS) | {f"{form}_complete" for form in self.dictionary.forms}
        known |= {c for f in self.dictionary.fields.values() for c in f.columns}
        for name in header:
            if name in known or name.startswith("redcap_") or name.endswith("_timestamp"):
                continue
            self.log.add(TABLE, "unknown_field",
                         f"{self.source}: column {name!r} is not a field of "
                         f"{self.dictionary.source}; its values were not loaded. Download the "
                         "data dictionary and the records together", severity="warning",
                         source_file=self.source, line=1, column=name)

    # -- one row ----------------------------------------------------------------------

    def read_row(self, row: dict) -> None:
        line = int(row[LINE])
        if isinstance(row.get(PARSE_ERROR), str):
            self.log.add(TABLE, "malformed_row", row[PARSE_ERROR], source_file=self.source,
                         line=line)
            return
        record = _text(row.get(self.plan.record_id))
        if not record:
            self.log.add(TABLE, "missing_value",
                         f"{self.source} line {line}: {self.plan.record_id} is empty; every "
                         "row needs its record id", source_file=self.source, line=line,
                         column=self.plan.record_id)
            return
        event = _text(row.get("redcap_event_name"))
        repeat = _text(row.get("redcap_repeat_instrument"))
        with_data = [form for form in self.dictionary.forms if self.has_data(row, form)]
        covered: set[str] = set()
        for source in self.plan.sources:
            own = [form for form in source.forms if form in with_data]
            if repeat:
                own = [form for form in own if form == repeat]
            if not own or (source.events and event not in source.events):
                continue
            self.add_rows(source, row, record, event, own)
            covered.update(source.forms)
            covered.update(self.dictionary.fields[f].form for f in source.fields)
        self.report_unplaced(row, record, event, repeat, with_data, covered)

    def has_data(self, row: dict, form: str) -> bool:
        for column in self.data_columns[form]:
            value = _text(row.get(column)).lower()
            if value and ("___" not in column or value not in _UNTICKED):
                return True
        return False

    def report_unplaced(self, row, record, event, repeat, with_data, covered) -> None:
        line = int(row[LINE])
        where = f"{self.source} line {line} (record {record}"
        where += f", event {event}" if event else ""
        where += f", repeating {repeat} #{_text(row.get('redcap_repeat_instance'))})" if repeat \
            else ")"
        for form in with_data:
            if form not in covered:
                self.log.add(
                    TABLE, "unmapped_form",
                    f"{where}: form {form!r} has data but the mapping reads no table from it "
                    "here; its values were not loaded. Map the form in "
                    f"{self.plan.source} (or its event), or ignore this warning",
                    severity="warning", source_file=self.source, line=line,
                    participant_id=record, column=f"{form}_complete",
                )
        if not with_data:
            self.log.add(TABLE, "empty_row", f"{where}: no form holds data in this row; "
                         "nothing was loaded from it", severity="warning",
                         source_file=self.source, line=line, participant_id=record)

    # -- rows of one table ------------------------------------------------------------

    def add_rows(self, source: FormMap, row: dict, record: str, event: str, forms) -> None:
        line = int(row[LINE])
        table = source.table
        values: dict[str, Any] = {SOURCE_FILE: self.source, LINE: line, "participant_id": record}
        bad: list[str] = []  # columns whose value was rejected (already reported)
        split_column, split_values = None, [None]
        self.note(table, line, "participant_id", self.plan.record_id)
        for column in source.columns:
            value, ok = self.value(source, column, row, record, event)
            if not ok:
                bad.append(column.column)
                value = None
            if column.split:
                split_column, split_values = column.column, value or [None]
                continue
            values[column.column] = value
        status_ok = self.check_status(source, row, record, forms)
        for value in split_values:
            if split_column is not None:
                values = {**values, split_column: value}
            self.rows[table].append(values)
            if bad or not status_ok:
                self.log.rejected.setdefault(table, set()).add(len(self.rows[table]) - 1)
        self.blanked.update((table, line, column) for column in bad)

    def note(self, table: str, line: int, column: str, records_column: str) -> None:
        self.fields.setdefault((table, line, column), set()).add(records_column)

    def value(self, source: FormMap, column: ColumnMap, row: dict, record: str, event: str):
        """The value of one column, and whether it is acceptable (problems are logged)."""
        line = int(row[LINE])
        if column.value is not None:
            return column.value, True
        if column.from_event:
            self.note(source.table, line, column.column, "redcap_event_name")
            visit = self.plan.visits.get(event)
            if visit is None:
                self.error(source, row, record, "redcap_event_name", event, "unmapped_event",
                           f"event {event!r} is not a visit: add {event} = \"VISIT\" to "
                           f"[redcap.visits] in {self.plan.source}")
            return visit, visit is not None
        if column.field is None:
            return None, True
        field = self.dictionary.fields[column.field]
        self.note(source.table, line, column.column, field.name)
        if field.type == "checkbox":
            return self.ticked(source, column, field, row, record)
        raw = _text(row.get(field.name))
        if not raw:
            return None, True
        code = raw
        if field.coded:
            chosen = _choice(field, raw)
            if chosen is None:
                choices = " | ".join(f"{c}, {label}" for c, label in field.choices)
                label = [c for c, text in field.choices
                         if text.strip().lower() == raw.strip().lower()]
                hint = (f"; {raw!r} is the label of choice {label[0]}: the export holds "
                        "labels, not codes. Export 'CSV / Microsoft Excel (raw data)'"
                        if label else "; correct the value in REDCap, or add the choice to "
                        "the data dictionary")
                self.error(source, row, record, field.name, raw, "invalid_choice",
                           f"{field.name} {raw!r} is not one of its choices ({choices})"
                           f"{hint}")
                return None, False
            code = chosen
        return self.recode(source, column, field, code, row, record)

    def ticked(self, source, column: ColumnMap, field: Field, row: dict, record: str):
        codes, ok = [], True
        for code, _ in field.choices:
            name = field.columns[[c for c, _ in field.choices].index(code)]
            cell = _text(row.get(name)).lower()
            if cell in _TICKED:
                codes.append(code)
            elif cell not in _UNTICKED:
                self.error(source, row, record, name, _text(row.get(name)), "invalid_choice",
                           f"checkbox column {name} holds {_text(row.get(name))!r}; it must be "
                           "1 (ticked) or 0 (not ticked)")
                ok = False
        values = []
        for code in codes:
            value, good = self.recode(source, column, field, code, row, record)
            ok = ok and good
            values.append(value)
        if not ok:
            return None, False
        if column.split:
            return values, True
        return (";".join(values) if values else None), True

    def recode(self, source, column: ColumnMap, field: Field, code: str, row, record):
        if column.values is not None:
            if code not in column.values:
                label = field.label_of(code)
                shown = f"{code!r}" + (f" ({label})" if label else "")
                self.error(source, row, record, field.name, code, "unmapped_code",
                           f"{field.name} {shown} has no entry in {column.key}.values of "
                           f"{self.plan.source}; add {code} = \"...\" there")
                return None, False
            return column.values[code], True
        if column.decode and field.coded:
            return field.label_of(code), True
        return code, True

    def check_status(self, source: FormMap, row: dict, record: str, forms) -> bool:
        """Warn about incomplete forms; reject the row when the status is not 0, 1 or 2."""
        ok = True
        for form in forms:
            column = f"{form}_complete"
            status = _text(row.get(column))
            if status == "0":
                self.log.add(
                    source.table, "incomplete_form",
                    f"{self.source} line {row[LINE]}: form {form} is marked Incomplete (0); "
                    "its row was loaded. Check the form in REDCap and mark it Complete (2) "
                    "when it is",
                    severity="warning", source_file=self.source, line=int(row[LINE]),
                    participant_id=record, column=column, value=status,
                )
            elif status not in ("", *_STATUS):
                self.error(source, row, record, column, status, "invalid_choice",
                           f"{column} {status!r} is not a form status; REDCap writes 0 "
                           "(Incomplete), 1 (Unverified) or 2 (Complete)")
                ok = False
        return ok

    def error(self, source, row, record, column, value, rule, what) -> None:
        self.log.add(source.table, rule, f"{self.source} line {row[LINE]}: {what}",
                     source_file=self.source, line=int(row[LINE]), participant_id=record,
                     column=column, value=value)


def _choice(field: Field, raw: str) -> str | None:
    """The choice code ``raw`` stands for: exactly, or as the same number (``1.0`` for 1)."""
    codes = [code for code, _ in field.choices]
    if raw in codes:
        return raw
    number = pd.to_numeric(pd.Series([raw, *codes]), errors="coerce")
    for code, value in zip(codes, number.iloc[1:], strict=True):
        if not pd.isna(number.iloc[0]) and value == number.iloc[0]:
            return code
    return None


def _text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()
