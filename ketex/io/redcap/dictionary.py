"""The REDCap data dictionary: fields, their forms, types and coded choices.

A data dictionary is the CSV that REDCap's "Download the current Data Dictionary" gives:
one row per field with the 18 columns of :data:`DICTIONARY_COLUMNS`. The API's metadata
export (``field_name``, ``form_name``, ...) is accepted too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from ketex.errors import DataValidationError
from ketex.io.files import read_csv_table
from ketex.study.problems import LINE, PARSE_ERROR, ProblemLog, format_report

__all__ = [
    "DICTIONARY_COLUMNS",
    "FIELD_TYPES",
    "Dictionary",
    "Field",
    "checkbox_column",
    "parse_choices",
    "read_dictionary",
]

DICTIONARY_COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)

# the same columns as the REDCap API's metadata export names them
_API_NAMES = (
    "field_name",
    "form_name",
    "section_header",
    "field_type",
    "field_label",
    "select_choices_or_calculations",
    "field_note",
    "text_validation_type_or_show_slider_number",
    "text_validation_min",
    "text_validation_max",
    "identifier",
    "branching_logic",
    "required_field",
    "custom_alignment",
    "question_number",
    "matrix_group_name",
    "matrix_ranking",
    "field_annotation",
)

NAME, FORM, TYPE, LABEL, CHOICES, VALIDATION = (DICTIONARY_COLUMNS[i] for i in (0, 1, 3, 4, 5, 7))
_NEEDED = (NAME, FORM, TYPE, CHOICES)

FIELD_TYPES = (
    "text",
    "notes",
    "dropdown",
    "radio",
    "checkbox",
    "yesno",
    "truefalse",
    "calc",
    "file",
    "slider",
    "descriptive",
    "sql",
)
CODED_TYPES = ("dropdown", "radio", "checkbox", "yesno", "truefalse")
_FIXED_CHOICES = {
    "yesno": (("1", "Yes"), ("0", "No")),
    "truefalse": (("1", "True"), ("0", "False")),
}


@dataclass(frozen=True)
class Field:
    """One field of the data dictionary.

    Parameters
    ----------
    name : str
        Variable name, as in the records' header (checkboxes: ``name___code``).
    form : str
        Form (instrument) the field is on.
    type : str
        One of :data:`FIELD_TYPES`.
    choices : tuple of (code, label)
        Coded choices of radio, dropdown, checkbox, yesno and truefalse fields.
    validation : str
        Text validation type (``integer``, ``number``, ``date_ymd``, ...), or "".
    label : str
        The question as shown on the form.
    line : int
        Line of the dictionary file that defines the field.
    """

    name: str
    form: str
    type: str
    choices: tuple[tuple[str, str], ...] = ()
    validation: str = ""
    label: str = ""
    line: int = 0

    @property
    def coded(self) -> bool:
        """Whether the records hold choice codes for this field."""
        return self.type in CODED_TYPES

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns of the records file that hold this field."""
        if self.type == "checkbox":
            return tuple(checkbox_column(self.name, code) for code, _ in self.choices)
        if self.type == "descriptive":
            return ()
        return (self.name,)

    def label_of(self, code: str) -> str | None:
        """Label of a choice code (None when the code is not a choice)."""
        return dict(self.choices).get(code)


@dataclass(frozen=True)
class Dictionary:
    """A REDCap data dictionary: fields in order, with their forms.

    Examples
    --------
    >>> d = Dictionary.from_fields([Field("record_id", "enrolment", "text"),
    ...                             Field("sex", "enrolment", "radio", (("1", "F"), ("2", "M")))])
    >>> d.forms
    ('enrolment',)
    >>> d.fields["sex"].label_of("2")
    'M'
    """

    fields: Mapping[str, Field]
    source: str = "dictionary.csv"

    @classmethod
    def from_fields(cls, fields: list[Field], source: str = "dictionary.csv") -> Dictionary:
        """A dictionary holding ``fields`` in the order given."""
        return cls({f.name: f for f in fields}, source)

    @property
    def forms(self) -> tuple[str, ...]:
        """Form names in the order of their first field."""
        return tuple(dict.fromkeys(f.form for f in self.fields.values()))

    @property
    def record_id(self) -> str:
        """The record identifier: by REDCap's rule, the first field."""
        return next(iter(self.fields))

    def fields_of(self, form: str) -> list[Field]:
        """The fields on ``form``, in dictionary order."""
        return [f for f in self.fields.values() if f.form == form]


def checkbox_column(field: str, code: str) -> str:
    """The records column REDCap exports for one option of a checkbox field.

    Codes are lowercased and characters other than letters, digits and ``_`` become ``_``
    (so code ``-1`` gives ``field____1``).

    Examples
    --------
    >>> checkbox_column("ae_type", "2")
    'ae_type___2'
    >>> checkbox_column("problems", "-1")
    'problems____1'
    """
    return f"{field}___{re.sub(r'[^a-z0-9_]', '_', code.lower())}"


def parse_choices(text: str) -> tuple[tuple[str, str], ...]:
    """Parse REDCap choices ``"1, Yes | 0, No"`` into ``(code, label)`` pairs.

    The label is everything after the first comma, so labels may hold commas.

    Raises
    ------
    ValueError
        When a choice has no comma, an empty code, or a code is repeated.

    Examples
    --------
    >>> parse_choices("1, Yes | 0, No")
    (('1', 'Yes'), ('0', 'No'))
    >>> parse_choices("1, Mild, transient | 2, Severe")
    (('1', 'Mild, transient'), ('2', 'Severe'))
    """
    pairs = []
    for part in str(text).split("|"):
        if not part.strip():
            continue
        code, comma, label = part.partition(",")
        if not comma or not code.strip():
            raise ValueError(f"choice {part.strip()!r} is not 'code, label'")
        pairs.append((code.strip(), label.strip()))
    codes = [code for code, _ in pairs]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise ValueError(f"choice code(s) {', '.join(repeated)} appear more than once")
    return tuple(pairs)


def read_dictionary(path: str | Path) -> Dictionary:
    """Read a REDCap data dictionary CSV.

    Parameters
    ----------
    path : str or Path
        The data dictionary as REDCap downloads it (18 columns; at least "Variable / Field
        Name", "Form Name", "Field Type" and "Choices, Calculations, OR Slider Labels").

    Returns
    -------
    Dictionary

    Raises
    ------
    DataValidationError
        Columns missing, a field named twice, an unknown field type, coded fields without
        choices or with malformed ones; the report names the line and the field.
    OSError
        The file does not exist.

    Examples
    --------
    >>> import ketex.io.redcap as redcap
    >>> d = redcap.read_dictionary("tests/data/redcap/dictionary.csv")
    >>> d.fields["sex"].choices
    (('1', 'Female'), ('2', 'Male'))
    """
    path = Path(path)
    log = ProblemLog()
    frame = read_csv_table(path, "dictionary", log)
    if frame is None:
        _raise(path, log)
    frame = frame.rename(columns=_canonical_header)
    missing = [c for c in _NEEDED if c not in frame.columns]
    if missing:
        log.add("dictionary", "missing_column",
                f"{path.name} has no column {', '.join(repr(c) for c in missing)}; download the "
                "data dictionary from REDCap again (Project Setup > Data Dictionary), keeping "
                "its header row", source_file=path.name, line=1, column=", ".join(missing))
        _raise(path, log)
    fields = [_field(row, path.name, log) for _, row in frame.iterrows()]
    names = [f.name for f in fields if f is not None]
    for field in fields:
        if field is not None and names.count(field.name) > 1:
            log.add("dictionary", "duplicate_field",
                    f"{path.name} line {field.line}: field {field.name!r} is defined more than "
                    "once; each variable name must be unique", source_file=path.name,
                    line=field.line, column=NAME, value=field.name)
    if not fields:
        log.add("dictionary", "empty_file", f"{path.name} defines no fields",
                source_file=path.name, line=1)
    if log.has_errors:
        _raise(path, log)
    return Dictionary.from_fields([f for f in fields if f is not None], path.name)


def _canonical_header(name: str) -> str:
    key = " ".join(str(name).split()).lower()
    for official, api in zip(DICTIONARY_COLUMNS, _API_NAMES, strict=True):
        if key in (official.lower(), api):
            return official
    return name


def _field(row: pd.Series, source: str, log: ProblemLog) -> Field | None:
    line = int(row[LINE])

    def bad(rule: str, column: str | None, value: object, what: str) -> None:
        log.add("dictionary", rule, f"{source} line {line}: {what}", source_file=source,
                line=line, column=column, value=value)

    if isinstance(row.get(PARSE_ERROR), str):
        bad("malformed_row", None, None, row[PARSE_ERROR])
        return None
    name, form = _text(row[NAME]), _text(row[FORM])
    kind = _text(row[TYPE]).lower()
    if not name or not form:
        bad("missing_value", NAME if not name else FORM, None,
            "every field needs a variable name and a form name")
        return None
    if kind not in FIELD_TYPES:
        bad("unknown_field_type", TYPE, kind,
            f"field {name!r} has type {kind!r}; REDCap types are {', '.join(FIELD_TYPES)}")
        return None
    choices: tuple[tuple[str, str], ...] = _FIXED_CHOICES.get(kind, ())
    if kind in ("radio", "dropdown", "checkbox"):
        try:
            choices = parse_choices(_text(row[CHOICES]))
        except ValueError as exc:
            bad("bad_choices", CHOICES, _text(row[CHOICES]),
                f"field {name!r}: {exc}; write choices as '1, Yes | 0, No'")
            return None
        if not choices:
            bad("bad_choices", CHOICES, None,
                f"{kind} field {name!r} has no choices; write them as '1, Yes | 0, No'")
            return None
    return Field(name=name, form=form, type=kind, choices=choices,
                 validation=_text(row.get(VALIDATION)).lower(),
                 label=_text(row.get(LABEL)), line=line)


def _text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def _raise(path: Path, log: ProblemLog) -> NoReturn:
    report = log.report()
    raise DataValidationError(
        f"the REDCap data dictionary {path} cannot be used:\n{format_report(report)}", report
    )
