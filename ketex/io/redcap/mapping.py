"""The mapping from a REDCap project onto the trial tables (the ``[redcap]`` TOML section).

The mapping says where the protocol is, which REDCap events are which protocol visits,
and for each trial table which form and fields hold it. ``docs/loading-data.md``
documents every key; :func:`read_mapping` checks them all against the data dictionary
and reports every problem at once, naming the mapping file and the key.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from ketex import scales
from ketex.errors import DataValidationError
from ketex.io.folder import read_protocol
from ketex.io.redcap.dictionary import Dictionary
from ketex.study.problems import ProblemLog, format_report
from ketex.study.protocol import Protocol, ProtocolError
from ketex.study.tables import ITEM_COLUMN, TABLES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["ColumnMap", "FormMap", "RedcapMapping", "read_mapping"]

#: Trial tables filled from one form each (assessments come from ``[[redcap.scales]]``).
FORM_TABLES = ("participants", "infusions", "exercise", "events", "adverse_events", "vitals",
               "medications")
_TOP_KEYS = ("study_toml", "protocol", "record_id", "decode", "visits", "scales", *FORM_TABLES)
_FORM_KEYS = ("form", "event", "columns", "ignore")
_SCALE_KEYS = ("form", "event", "instrument", "items", "columns", "ignore")
_COLUMN_KEYS = ("field", "value", "decode", "values", "split")


@dataclass(frozen=True)
class ColumnMap:
    """Where one column of a trial table comes from.

    At most one of ``field`` (a REDCap field), ``value`` (a constant) or ``from_event``
    (the visit named by the row's ``redcap_event_name``) gives the value; with none, the
    column is always empty (an item the form does not have).

    Parameters
    ----------
    column : str
        Column of the trial table.
    field : str or None
        REDCap field holding the value.
    value : str or None
        Constant value for every row.
    decode : bool
        Replace a choice code by its label from the dictionary.
    values : mapping of str to str, or None
        Replace each code by the value given here (every code found must be listed).
    split : bool
        Checkbox only: one row per ticked option instead of the options joined by ``;``.
    from_event : bool
        The visit named by ``[redcap.visits]`` for the row's event.
    key : str
        Where the mapping says so, for messages (``redcap.infusions.columns.dose``).
    """

    column: str
    field: str | None = None
    value: str | None = None
    decode: bool = False
    values: Mapping[str, str] | None = None
    split: bool = False
    from_event: bool = False
    key: str = ""


@dataclass(frozen=True)
class FormMap:
    """One source of trial rows: the form(s) whose data become rows of ``table``.

    A records row gives one row of ``table`` when one of ``forms`` has data in it (and its
    event is among ``events``, when events are given). Fields of ``forms`` that are not
    mapped and not in ``ignore`` are kept as extra columns named after the field.
    """

    table: str
    forms: tuple[str, ...]
    columns: tuple[ColumnMap, ...]
    events: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    instrument: str | None = None
    key: str = ""

    @property
    def fields(self) -> tuple[str, ...]:
        """The REDCap fields this source reads."""
        return tuple(c.field for c in self.columns if c.field is not None)

    @property
    def name(self) -> str:
        """A short name for messages: the table, and the instrument for scales."""
        return f"{self.table} ({self.instrument})" if self.instrument else self.table


@dataclass(frozen=True)
class RedcapMapping:
    """A checked mapping: the protocol, the event-to-visit table and the sources."""

    protocol: Protocol
    sources: tuple[FormMap, ...]
    visits: Mapping[str, str] = field(default_factory=dict)
    record_id: str = "record_id"
    source: str = "mapping"


def read_mapping(mapping: str | Path | Mapping[str, Any], dictionary: Dictionary) -> RedcapMapping:
    """Read and check a mapping against the data dictionary.

    Parameters
    ----------
    mapping : str, Path or mapping
        A TOML file with a ``[redcap]`` section, or the section as a dict (a dict holding
        a ``"redcap"`` key is accepted too). ``study_toml`` is relative to the TOML file,
        or to the current directory for a dict.
    dictionary : Dictionary
        The project's data dictionary; every field the mapping names must be in it.

    Returns
    -------
    RedcapMapping

    Raises
    ------
    DataValidationError
        Every problem with the mapping at once, each naming the file and the key.
    OSError
        The mapping file or the ``study_toml`` it names does not exist.
    """
    data, source, base = _load(mapping)
    checker = _Checker(source, dictionary)
    result = checker.mapping(data, base)
    checker.raise_if_problems()
    return result


def _load(mapping: str | Path | Mapping[str, Any]) -> tuple[Mapping[str, Any], str, Path]:
    if isinstance(mapping, Mapping):
        section = mapping.get("redcap", mapping)
        return section, "mapping", Path.cwd()
    path = Path(mapping)
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        _fail(path.name, "", f"not valid TOML ({exc}); fix the syntax")
    if not isinstance(data.get("redcap"), Mapping):
        _fail(path.name, "redcap", "missing; the mapping must be a [redcap] table")
    return data["redcap"], path.name, path.parent


def _fail(source: str, key: str, what: str) -> NoReturn:
    log = ProblemLog()
    message = f"{source}: {key}: {what}" if key else f"{source}: {what}"
    log.add("mapping", "bad_mapping", message, source_file=source, column=key or None)
    raise DataValidationError(f"invalid REDCap mapping: {message}", log.report())


class _Checker:
    """Turns mapping data into :class:`RedcapMapping`, collecting every problem."""

    def __init__(self, source: str, dictionary: Dictionary) -> None:
        self.source = source
        self.dictionary = dictionary
        self.log = ProblemLog()
        self.decode = False

    def problem(self, key: str, what: str) -> None:
        self.log.add("mapping", "bad_mapping", f"{self.source}: {key}: {what}",
                     source_file=self.source, column=key)

    def raise_if_problems(self) -> None:
        if self.log.has_errors:
            report = self.log.report()
            raise DataValidationError(
                f"invalid REDCap mapping {self.source}; nothing was loaded:\n"
                f"{format_report(report, limit=None)}",
                report,
            )

    # -- top level ------------------------------------------------------------------

    def mapping(self, data: Mapping[str, Any], base: Path) -> RedcapMapping:
        self.unknown_keys(data, _TOP_KEYS, "redcap")
        protocol = self.protocol(data, base)
        self.decode = self.boolean(data.get("decode", False), "redcap.decode")
        record_id = data.get("record_id", self.dictionary.record_id)
        if not isinstance(record_id, str) or record_id not in self.dictionary.fields:
            self.problem("redcap.record_id", f"{record_id!r} is not a field of "
                         f"{self.dictionary.source}; name the record identifier field")
        visits = self.visits(data.get("visits", {}), protocol)
        sources = [
            self.form_source(name, data[name], f"redcap.{name}")
            for name in FORM_TABLES
            if name in data
        ]
        if "participants" not in data:
            self.problem("redcap.participants", "missing; add a [redcap.participants] table "
                         "saying which field holds the arm")
        scale_list = data.get("scales", [])
        if not isinstance(scale_list, list) or not all(isinstance(s, Mapping) for s in scale_list):
            self.problem("redcap.scales", "must be an array of tables ([[redcap.scales]])")
            scale_list = []
        for i, spec in enumerate(scale_list):
            sources.append(self.scale_source(spec, f"redcap.scales[{i}]", visits))
        if not scale_list:
            self.problem("redcap.scales", "missing; add a [[redcap.scales]] table for each "
                         "rating scale (form, instrument, items)")
        return RedcapMapping(
            protocol=protocol,
            sources=tuple(s for s in sources if s is not None),
            visits=visits,
            record_id=str(record_id),
            source=self.source,
        )

    def protocol(self, data: Mapping[str, Any], base: Path) -> Protocol:
        embedded, path = data.get("protocol"), data.get("study_toml")
        if (embedded is None) == (path is None):
            _fail(self.source, "redcap", "give exactly one of study_toml = \"study.toml\" (a "
                  "file, relative to the mapping) or a [redcap.protocol] table")
        if isinstance(embedded, Protocol):
            return embedded
        if embedded is not None:
            if not isinstance(embedded, Mapping):
                _fail(self.source, "redcap.protocol", "must be a table holding study.toml's "
                      "content ([redcap.protocol.study], [[redcap.protocol.arms]], ...)")
            try:
                return Protocol.from_dict(embedded, source=f"{self.source} [redcap.protocol]")
            except ProtocolError as exc:
                _fail(self.source, "redcap.protocol", str(exc))
        if not isinstance(path, str):
            _fail(self.source, "redcap.study_toml", f"must be a file name, got {path!r}")
        target = base / path
        if not target.exists():
            raise FileNotFoundError(
                f"{target} does not exist (named by {self.source}: redcap.study_toml); "
                "put study.toml there or correct the path"
            )
        return read_protocol(target)

    def visits(self, data: Any, protocol: Protocol) -> dict[str, str]:
        if not isinstance(data, Mapping):
            self.problem("redcap.visits", "must be a table: redcap_event_name = \"VISIT\"")
            return {}
        out = {}
        for event, visit in data.items():
            if visit not in protocol.visit_names:
                self.problem(f"redcap.visits.{event}", f"{visit!r} is not a visit of the "
                             f"protocol; use one of {', '.join(protocol.visit_names)}")
            out[str(event)] = str(visit)
        return out

    # -- sources ----------------------------------------------------------------------

    def form_source(self, table: str, spec: Any, key: str) -> FormMap | None:
        if not isinstance(spec, Mapping):
            self.problem(key, f"must be a table ([{key}])")
            return None
        self.unknown_keys(spec, _FORM_KEYS, key)
        columns = self.columns(table, spec.get("columns", {}), f"{key}.columns")
        return self.finish(table, spec, key, columns)

    def scale_source(self, spec: Mapping[str, Any], key: str, visits: Mapping) -> FormMap | None:
        self.unknown_keys(spec, _SCALE_KEYS, key)
        try:
            instrument = scales.get_instrument(str(spec.get("instrument", ""))).code
        except ValueError:
            self.problem(f"{key}.instrument", f"{spec.get('instrument')!r} is not a known "
                         f"instrument; use one of {', '.join(scales.INSTRUMENTS)}")
            return None
        columns = self.columns("assessments", spec.get("columns", {}), f"{key}.columns")
        items = self.items(spec.get("items", []), instrument, f"{key}.items")
        given = {c.column for c in columns}
        extra = [ColumnMap("instrument", value=instrument, key=f"{key}.instrument")]
        if "visit" not in given:
            if not visits:
                self.problem(key, "no visit: add [redcap.visits] (event name = visit) or map "
                             "a visit field under columns")
            extra.append(ColumnMap("visit", from_event=True, key="redcap.visits"))
        if not items and "total" not in given:
            self.problem(key, f"neither items nor a total field for {instrument}; list the "
                         "item fields in order (items = [...]) or map total")
        source = self.finish("assessments", spec, key, (*columns, *items, *extra), instrument)
        return source

    def finish(self, table, spec, key, columns, instrument=None) -> FormMap | None:
        named = spec.get("columns", {})
        # a column named but wrongly mapped is reported once, not again as missing
        named = set(named) if isinstance(named, Mapping) else set()
        self.required(table, columns, named, f"{key}.columns")
        splits = [c for c in columns if c.split]
        if len(splits) > 1:
            self.problem(f"{key}.columns", "split = true is allowed on one column only")
        fields = [c.field for c in columns if c.field is not None]
        if instrument is not None:
            # a scale's own form is the one holding its items (or total); day and date
            # may come from a visit form the scales share
            items = [c.field for c in columns if c.field and ITEM_COLUMN.match(c.column)]
            total = [c.field for c in columns if c.field and c.column == "total"]
            fields = items or total or fields
        forms = self.forms(spec.get("form"), fields, f"{key}.form")
        events = self.names(spec.get("event", []), f"{key}.event")
        ignore = self.names(spec.get("ignore", []), f"{key}.ignore")
        for name in ignore:
            if name not in self.dictionary.fields:
                self.problem(f"{key}.ignore", f"field {name!r} is not in "
                             f"{self.dictionary.source}")
        source = FormMap(table, forms, tuple(columns), events, ignore, instrument, key)
        return FormMap(table, forms, (*source.columns, *self.kept(source)), events, ignore,
                       instrument, key)

    def kept(self, source: FormMap) -> list[ColumnMap]:
        """Unmapped fields of the source's forms, kept as extra columns of the table."""
        mapped = set(source.fields) | set(source.ignore)
        taken = {c.column for c in source.columns}
        schema = TABLES[source.table]
        out = []
        for form in source.forms:
            for f in self.dictionary.fields_of(form):
                if f.name in mapped or f.name == self.dictionary.record_id or not f.columns:
                    continue
                if f.name in taken or schema.column(f.name) is not None:
                    self.problem(f"{source.key}.columns", f"field {f.name!r} on form {form!r} "
                                 f"is not mapped, and its name is a column of {source.table}; "
                                 "map it under columns or list it in ignore")
                    continue
                out.append(ColumnMap(f.name, field=f.name, decode=self.decode,
                                     key=f"{source.key} (unmapped field of form {form})"))
        return out

    def forms(self, given: Any, fields: list[str], key: str) -> tuple[str, ...]:
        if given is None:
            known = [self.dictionary.fields[f].form for f in fields if f in self.dictionary.fields]
            return tuple(dict.fromkeys(known))
        forms = self.names(given, key)
        for form in forms:
            if form not in self.dictionary.forms:
                self.problem(key, f"{form!r} is not a form of {self.dictionary.source}; forms: "
                             f"{', '.join(self.dictionary.forms)}")
        return forms

    def columns(self, table: str, spec: Any, key: str) -> list[ColumnMap]:
        if not isinstance(spec, Mapping):
            self.problem(key, "must be a table: column = \"field\"")
            return []
        out = []
        for column, entry in spec.items():
            where = f"{key}.{column}"
            if not isinstance(column, str):
                self.problem(where, "column names must be text")
                continue
            if column == "participant_id" or (
                table == "assessments" and (column == "instrument" or ITEM_COLUMN.match(column))
            ):
                self.problem(where, "cannot be mapped here: participant_id is the record id, "
                             "instrument and items are given by instrument and items")
                continue
            if column.startswith("_") or not column.isidentifier():
                self.problem(where, "not a usable column name; use letters, digits and _")
                continue
            mapped = self.column(column, entry, where)
            if mapped is not None:
                out.append(mapped)
        return out

    def column(self, column: str, entry: Any, key: str, decode: bool | None = None):
        if isinstance(entry, str):
            entry = {"field": entry}
        if not isinstance(entry, Mapping):
            self.problem(key, "must be a field name or a table { field = ..., decode = ..., "
                         "values = {...} } or { value = ... }")
            return None
        self.unknown_keys(entry, _COLUMN_KEYS, key)
        if ("field" in entry) == ("value" in entry):
            self.problem(key, "give exactly one of field = \"name\" or value = \"constant\"")
            return None
        if "value" in entry:
            if set(entry) - {"value"}:
                self.problem(key, "a constant (value = ...) takes no other keys")
            return ColumnMap(column, value=_scalar(entry["value"]), key=key)
        name = entry["field"]
        found = self.dictionary.fields.get(name) if isinstance(name, str) else None
        if found is None:
            self.problem(key, f"field {name!r} is not in {self.dictionary.source}; check the "
                         "spelling or download the data dictionary again")
            return None
        values = self.values(entry.get("values"), found, f"{key}.values")
        decode = self.boolean(entry.get("decode", self.decode if decode is None else decode),
                              f"{key}.decode")
        if values is not None and "decode" in entry and decode:
            self.problem(key, "give either decode = true or values = {...}, not both")
        split = self.boolean(entry.get("split", False), f"{key}.split")
        if split and found.type != "checkbox":
            self.problem(f"{key}.split", f"only checkbox fields split; {name} is {found.type}")
        return ColumnMap(column, field=name, decode=decode and values is None, values=values,
                         split=split, key=key)

    def values(self, spec: Any, found, key: str) -> dict[str, str] | None:
        if spec is None:
            return None
        if not isinstance(spec, Mapping) or not spec:
            self.problem(key, "must be a table: code = \"value\"")
            return None
        out = {str(code).strip(): _scalar(value) for code, value in spec.items()}
        if found.coded:
            unknown = [c for c in out if found.label_of(c) is None]
            if unknown:
                self.problem(key, f"code(s) {', '.join(unknown)} are not choices of "
                             f"{found.name}; its choices: "
                             f"{' | '.join(f'{c}, {label}' for c, label in found.choices)}")
        return out

    def items(self, spec: Any, instrument: str, key: str) -> list[ColumnMap]:
        n_items = scales.INSTRUMENTS[instrument].n_items
        if not isinstance(spec, list):
            self.problem(key, "must be an array of field names, item 1 first")
            return []
        if spec and len(spec) != n_items:
            self.problem(key, f"{instrument} has {n_items} items; the mapping lists "
                         f"{len(spec)} (write \"\" for an item the form does not have)")
            return []
        out = []
        for k, entry in enumerate(spec, start=1):
            if entry == "":  # an item the form does not have: always unanswered
                out.append(ColumnMap(f"item_{k}", key=f"{key}[{k - 1}]"))
                continue
            mapped = self.column(f"item_{k}", entry, f"{key}[{k - 1}]", decode=False)
            if mapped is not None:
                out.append(mapped)
        return out

    def required(self, table: str, columns, named: set[str], key: str) -> None:
        given = {c.column for c in columns} | named | {"participant_id"}
        missing = [c for c in TABLES[table].required if c not in given]
        if "day" in missing and "date" in given:
            missing.remove("day")
        for column in missing:
            self.problem(key, f"required column {column!r} is not mapped; map a field "
                         f"({column} = \"field\") or give a constant ({column} = "
                         "{ value = \"...\" })")

    # -- small checks -----------------------------------------------------------------

    def unknown_keys(self, data: Mapping, known: tuple[str, ...], key: str) -> None:
        unknown = [k for k in data if k not in known]
        if unknown:
            self.problem(key, f"unknown key(s) {', '.join(map(str, unknown))}; known keys: "
                         f"{', '.join(known)}")

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            self.problem(key, f"must be true or false, got {value!r}")
            return False
        return value

    def names(self, value: Any, key: str) -> tuple[str, ...]:
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        self.problem(key, f"must be a name or an array of names, got {value!r}")
        return ()


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
