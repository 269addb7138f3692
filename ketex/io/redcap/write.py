"""Writing a :class:`Trial` as a REDCap export: records, data dictionary, mapping, protocol.

The export is laid out as a longitudinal REDCap project would export it: one event per
protocol visit (``baseline_arm_1``, ...); the enrolment form and the repeating forms
(infusions, exercise sessions, clinical events and, when the trial has them, adverse
events, vital signs and medications) in the first visit's event; one form per rating
scale in the events of its visits. Coded fields show each way of reading codes:
the arm is a radio field whose codes the mapping turns into protocol arm codes, sex and
the drug are decoded to their labels, ``completed`` keeps its 1/0 code, and the event
type is a checkbox.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w

from ketex import scales
from ketex.io.escape import escape_formula
from ketex.io.redcap.dictionary import DICTIONARY_COLUMNS, checkbox_column
from ketex.io.redcap.read import SYSTEM_COLUMNS
from ketex.study.protocol import Protocol
from ketex.study.tables import EVENT_TYPES, TABLES, item_columns
from ketex.study.trial import Trial

__all__ = ["write_redcap"]

RECORD_ID = "record_id"
ENROLMENT = "enrolment"
_REPEATING = {"infusions": ("infusion", "inf"), "exercise": ("exercise_session", "ex"),
              "events": ("clinical_event", "ev"), "adverse_events": ("adverse_event", "ae"),
              "vitals": ("vital_signs", "vs"), "medications": ("medication", "cm")}
_DECODED = {("participants", "sex"): "radio", ("infusions", "drug"): "dropdown",
            ("infusions", "dose_unit"): "radio", ("infusions", "route"): "dropdown",
            ("exercise", "modality"): "dropdown", ("adverse_events", "severity"): "radio",
            ("adverse_events", "related"): "radio", ("adverse_events", "action"): "dropdown",
            ("adverse_events", "outcome"): "dropdown", ("vitals", "test"): "dropdown",
            ("vitals", "unit"): "dropdown"}


@dataclass
class _Field:
    """A field to write: its dictionary row, how its cells are written, its mapping entry."""

    name: str
    form: str
    type: str
    label: str
    column: str | None = None  # the trial column it holds (None: record_id)
    choices: tuple[tuple[str, str], ...] = ()
    validation: str = ""
    low: str = ""
    high: str = ""
    note: str = ""
    required: bool = False
    mapping: Any = None  # the mapping's entry for the column
    cell: Callable[[Any], str] = field(default=lambda value: _plain(value))

    def dictionary_row(self) -> dict[str, str]:
        choices = " | ".join(f"{code}, {label}" for code, label in self.choices)
        row = dict.fromkeys(DICTIONARY_COLUMNS, "")
        row.update({
            DICTIONARY_COLUMNS[0]: self.name, DICTIONARY_COLUMNS[1]: self.form,
            DICTIONARY_COLUMNS[3]: self.type, DICTIONARY_COLUMNS[4]: self.label,
            DICTIONARY_COLUMNS[5]: choices, DICTIONARY_COLUMNS[6]: self.note,
            DICTIONARY_COLUMNS[7]: self.validation, DICTIONARY_COLUMNS[8]: self.low,
            DICTIONARY_COLUMNS[9]: self.high,
            DICTIONARY_COLUMNS[12]: "y" if self.required else "",
        })
        return row

    def cells(self, value: Any) -> dict[str, str]:
        """The records cells of one value (one per option for a checkbox)."""
        if self.type != "checkbox":
            return {self.name: self.cell(value)}
        ticked = self.cell(value)
        return {checkbox_column(self.name, code): "1" if code == ticked else "0"
                for code, _ in self.choices}


@dataclass
class _Form:
    name: str
    table: str
    fields: list[_Field]
    repeating: bool = False
    instrument: str | None = None


def write_redcap(trial: Trial, folder: str | Path) -> dict[str, Path]:
    """Write a trial as a REDCap export that :func:`load_redcap` reads back unchanged.

    Parameters
    ----------
    trial : Trial
    folder : str or Path
        Created if absent; the four files are replaced.

    Returns
    -------
    dict of str to Path
        ``"records"`` (``records.csv``), ``"dictionary"`` (``dictionary.csv``, the 18
        REDCap columns), ``"mapping"`` (``mapping.toml``) and ``"study"`` (``study.toml``).
        ``load_redcap(paths["records"], paths["dictionary"], paths["mapping"])`` gives a
        trial equal to ``trial``.

    Examples
    --------
    >>> import tempfile
    >>> from ketex.io.folder import load_trial
    >>> from ketex.io.redcap import load_redcap, write_redcap
    >>> trial = load_trial("tests/data/mini")
    >>> paths = write_redcap(trial, tempfile.mkdtemp())
    >>> sorted(paths)
    ['dictionary', 'mapping', 'records', 'study']
    >>> again = load_redcap(paths["records"], paths["dictionary"], paths["mapping"])
    >>> trial.differences(again)
    []
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    events = _event_names(trial.protocol.visit_names)
    forms = _forms(trial)
    paths = {name: folder / f"{name}.{ext}" for name, ext in (
        ("records", "csv"), ("dictionary", "csv"), ("mapping", "toml"), ("study", "toml"))}
    _write_csv(paths["dictionary"], list(DICTIONARY_COLUMNS),
               [f.dictionary_row() for form in forms for f in form.fields])
    header, rows = _records(trial, forms, events)
    _write_csv(paths["records"], header, rows)
    mapping = _mapping(trial, forms, events, paths["study"].name)
    paths["mapping"].write_text(tomli_w.dumps({"redcap": mapping}), encoding="utf-8")
    trial.protocol.write(paths["study"])
    return paths


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, restval="")
        writer.writeheader()
        writer.writerows({k: escape_formula(v) for k, v in row.items()} for row in rows)


# -- names --------------------------------------------------------------------------


def _name(text: str) -> str:
    """A valid REDCap name: lowercase letters, digits and single underscores, a letter first."""
    name = re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", str(text).lower())).strip("_")
    return name if name[:1].isalpha() else f"v_{name}".rstrip("_")


def _event_names(visits: tuple[str, ...]) -> dict[str, str]:
    """Visit name -> unique event name (``WEEK2`` -> ``week2_arm_1``)."""
    out: dict[str, str] = {}
    for visit in visits:
        base, k = _name(visit), 1
        while (candidate := f"{base}{'' if k == 1 else f'_{k}'}_arm_1") in out.values():
            k += 1
        out[visit] = candidate
    return out


class _Names:
    """Hands out unique field names, clear of REDCap's own columns."""

    def __init__(self) -> None:
        self.used = {RECORD_ID, *SYSTEM_COLUMNS}

    def __call__(self, text: str) -> str:
        base, k = _name(text), 1
        if base.endswith("_complete") or base.startswith("redcap_"):
            base = f"v_{base}"  # would pass for a form status or a system column
        name = base
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name


# -- forms and fields ---------------------------------------------------------------


def _forms(trial: Trial) -> list[_Form]:
    names = _Names()
    record = _Field(RECORD_ID, ENROLMENT, "text", "Participant ID", required=True)
    forms = [_Form(ENROLMENT, "participants",
                   [record, *_table_fields(trial, "participants", ENROLMENT, "", names)])]
    for table, (form, prefix) in _REPEATING.items():
        if len(trial.tables()[table]):
            forms.append(_Form(form, table, _table_fields(trial, table, form, prefix, names),
                               repeating=True))
    assessments = trial.assessments
    for code in sorted(assessments["instrument"].dropna().unique()):
        rows = assessments[assessments["instrument"] == code]
        form = names(code)
        duplicated = rows.duplicated(["participant_id", "visit"]).any()
        forms.append(_Form(form, "assessments", _scale_fields(rows, code, form, names),
                           repeating=bool(duplicated), instrument=code))
    return forms


def _table_fields(trial: Trial, table: str, form: str, prefix: str, names) -> list[_Field]:
    frame = trial.tables()[table]
    return [
        _field_for(trial.protocol, table, column, frame[column], form,
                   names(f"{prefix}_{column}"))
        for column in frame.columns
        if column != "participant_id"
    ]


def _field_for(protocol: Protocol | None, table: str, column: str, values: pd.Series, form: str,
               name: str) -> _Field:
    """The field holding one trial column; ``protocol`` gives the arms (participants only)."""
    spec = TABLES[table].column(column)
    label = spec.description if spec is not None and spec.description else column
    label = label[:1].upper() + label[1:].replace("_", " ")
    required = spec is not None and spec.required
    base = _Field(name, form, "text", label, column, required=required, mapping=name)
    if (table, column) == ("participants", "arm") and protocol is not None:
        arms = protocol.arms
        codes = {arm.code: str(k) for k, arm in enumerate(arms, start=1)}
        base.type, base.choices = "radio", tuple((codes[a.code], a.label or a.code) for a in arms)
        base.mapping = {"field": name, "values": {v: k for k, v in codes.items()}}
        base.cell = lambda value: "" if pd.isna(value) else codes[value]
        return base
    if (table, column) == ("events", "event"):
        others = sorted(set(values.dropna()) - set(EVENT_TYPES))
        return _coded(base, "checkbox", [*EVENT_TYPES, *others], split=True)
    if (table, column) in _DECODED and _codable(values):
        return _coded(base, _DECODED[(table, column)], sorted(set(values.dropna())))
    if pd.api.types.is_bool_dtype(values):
        base.type = "radio" if column == "completed" else "yesno"
        if base.type == "radio":
            base.choices = (("1", "Yes"), ("0", "No"))
        base.cell = lambda value: "" if pd.isna(value) else ("1" if value else "0")
        return base
    if pd.api.types.is_datetime64_any_dtype(values):
        timed = (values.dropna() != values.dropna().dt.normalize()).any()
        base.validation = "datetime_seconds_ymd" if timed else "date_ymd"
        return base
    if pd.api.types.is_numeric_dtype(values):
        base.validation = "integer" if pd.api.types.is_integer_dtype(values) else "number"
        return base
    if column == "description":
        base.type = "notes"
    return base


def _codable(values: pd.Series) -> bool:
    text = values.dropna().astype(str)
    return len(text) > 0 and not text.str.contains(r"[|\n]").any()


def _coded(base: _Field, kind: str, labels: list[str], split: bool = False) -> _Field:
    codes = {label: str(k) for k, label in enumerate(labels, start=1)}
    base.type, base.choices = kind, tuple((code, label) for label, code in codes.items())
    base.mapping = {"field": base.name, "decode": True, **({"split": True} if split else {})}
    base.cell = lambda value: "" if pd.isna(value) else codes[value]
    return base


def _scale_fields(rows: pd.DataFrame, code: str, form: str, names) -> list[_Field]:
    instrument = scales.INSTRUMENTS[code]
    fields = []
    for k, top in enumerate(instrument.item_max, start=1):
        name = names(f"{form}_{k}")
        fields.append(_Field(
            name, form, "radio", f"{code} item {k}", f"item_{k}",
            choices=tuple((str(v), str(v)) for v in range(top + 1)), mapping=name))
    skip = {"participant_id", "visit", "instrument", *item_columns(rows.columns)}
    for column in rows.columns:
        if column in skip or rows[column].isna().all() and column != "day":
            continue
        made = _field_for(None, "assessments", column, rows[column], form,
                          names(f"{form}_{column}"))
        if column == "total":
            made.validation, made.low, made.high = "number", "0", str(instrument.total_max)
            made.label = f"{code} total score"
        fields.append(made)
    return fields


# -- records ------------------------------------------------------------------------


def _plain(value: Any) -> str:
    """A value as REDCap writes it: 34 not 34.0, dates as YYYY-MM-DD."""
    if value is None or pd.isna(value):
        return ""
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}" if value == value.normalize() else f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _records(trial: Trial, forms: list[_Form], events: dict[str, str]):
    header = [RECORD_ID, *SYSTEM_COLUMNS]
    for form in forms:
        header += [c for f in form.fields if f.column is not None for c in f.cells(None)]
        header.append(f"{form.name}_complete")
    home = trial.protocol.visit_names[0]
    grouped = [_grouped(trial, form, home) for form in forms]
    rows = []
    for pid in trial.participants["participant_id"]:
        for visit, event in events.items():
            single: dict[str, str] = {}
            repeated: list[dict] = []
            for form, by_key in zip(forms, grouped, strict=True):
                for number, record in enumerate(by_key.get((pid, visit), []), start=1):
                    cells = _cells(form, record)
                    if form.repeating:
                        repeated.append({"redcap_repeat_instrument": form.name,
                                         "redcap_repeat_instance": str(number), **cells})
                    else:
                        single.update(cells)
            base = {RECORD_ID: pid, "redcap_event_name": event}
            rows += [{**base, **r} for r in ([single] if single else []) + repeated]
    return header, rows


def _cells(form: _Form, record: dict) -> dict[str, str]:
    """The records cells of one form filled with one trial row, marked Complete."""
    cells = {}
    for f in form.fields:
        if f.column is not None:
            cells.update(f.cells(record.get(f.column)))
    cells[f"{form.name}_complete"] = "2"
    return cells


def _grouped(trial: Trial, form: _Form, home: str) -> dict[tuple[str, str], list[dict]]:
    """The form's trial rows by (participant, visit); all but scales go to the home visit."""
    frame = trial.tables()[form.table]
    if form.table == "assessments":
        frame = frame[frame["instrument"] == form.instrument]
    out: dict[tuple[str, str], list[dict]] = {}
    for record in frame.to_dict("records"):
        visit = record["visit"] if form.table == "assessments" else home
        out.setdefault((record["participant_id"], visit), []).append(record)
    return out


# -- mapping ------------------------------------------------------------------------


def _mapping(trial: Trial, forms: list[_Form], events: dict[str, str], study: str) -> dict:
    home = events[trial.protocol.visit_names[0]]
    mapping: dict[str, Any] = {
        "study_toml": study,
        "record_id": RECORD_ID,
        "visits": {event: visit for visit, event in events.items()},
    }
    scales_: list[dict] = []
    for form in forms:
        columns = {f.column: f.mapping for f in form.fields
                   if f.column is not None and not f.column.startswith("item_")}
        spec: dict[str, Any] = {"form": form.name}
        if form.table == "participants":
            spec["event"] = home
        if form.instrument is not None:
            spec["instrument"] = form.instrument
            spec["items"] = [f.name for f in form.fields if (f.column or "").startswith("item_")]
            scales_.append({**spec, "columns": columns})
        else:
            mapping[form.table] = {**spec, "columns": columns}
    mapping["scales"] = scales_
    return mapping
