"""The tables of a trial: their columns, types, and canonical form.

Five tables hold the design data (participants, infusions, exercise, assessments,
events); three optional tables hold the safety data (adverse events, vital signs,
concomitant medications; see ``docs/safety.md``).

Every reader maps its source onto these columns; :func:`canonical` then gives each
table one fixed form (column order, dtypes, row order), so that the same trial read
from a study folder, a REDCap export or SDTM datasets compares equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "SAFETY_TABLES",
    "TABLES",
    "Column",
    "TableSchema",
    "canonical",
    "empty_table",
    "item_columns",
]

ITEM_COLUMN = re.compile(r"^item_(\d+)$")
MAX_ITEMS = 23  # CADSS has the most items of the supported instruments


@dataclass(frozen=True)
class Column:
    """One column of a trial table.

    ``kind`` is one of ``"str"``, ``"int"``, ``"float"``, ``"bool"``, ``"date"``, or
    ``"item"`` (a scale item: a number, or for BDI-II items 16 and 18 an option like
    ``"1a"``; stored as the numeric score).
    """

    name: str
    kind: str
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class TableSchema:
    """Columns and row order of one trial table."""

    name: str
    columns: tuple[Column, ...]
    sort_by: tuple[str, ...]
    required_table: bool = True
    safety: bool = False  # an optional safety table: not written when empty

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        """The column with this name, item columns included; None if unknown."""
        for column in self.columns:
            if column.name == name:
                return column
        if self.name == "assessments" and ITEM_COLUMN.match(name):
            return Column(name, "item")
        return None


_ID = Column("participant_id", "str", True, "participant identifier")
_DAY = Column("day", "int", True, "study day; day 0 = randomisation")
_DATE = Column("date", "date", False, "calendar date (ISO); gives day when day is absent")

TABLES: dict[str, TableSchema] = {
    "participants": TableSchema(
        "participants",
        (
            _ID,
            Column("arm", "str", True, "arm code, as in study.toml [[arms]]"),
            Column("site", "str"),
            Column("age", "float", description="age in years"),
            Column("sex", "str", description="F or M"),
            Column("weight_kg", "float"),
            Column("height_cm", "float"),
            Column("resting_hr", "float", description="resting heart rate, beats/min"),
            Column("max_hr", "float", description="measured maximal heart rate, beats/min"),
            Column("beta_blocker", "bool"),
            Column("randomization_date", "date"),
        ),
        sort_by=("participant_id",),
    ),
    "infusions": TableSchema(
        "infusions",
        (
            _ID,
            _DAY,
            Column("drug", "str", True, "ketamine, esketamine, ..."),
            Column("dose", "float", True),
            Column("dose_unit", "str", True, "mg/kg or mg"),
            Column("route", "str", description="IV, intranasal, ..."),
            Column("duration_min", "float"),
            _DATE,
        ),
        sort_by=("participant_id", "day", "drug"),
        required_table=False,
    ),
    "exercise": TableSchema(
        "exercise",
        (
            _ID,
            _DAY,
            Column("duration_min", "float", True),
            Column("modality", "str", description="cycling, walking, ..."),
            Column("completed", "bool"),
            Column("avg_hr", "float", description="mean heart rate in the session, beats/min"),
            Column("peak_hr", "float", description="peak heart rate in the session, beats/min"),
            Column("rpe", "float", description="Borg rating of perceived exertion, 6-20"),
            Column("watts", "float", description="mean power on the cycle ergometer"),
            Column("met", "float", description="metabolic equivalents of the session"),
            _DATE,
        ),
        sort_by=("participant_id", "day"),
        required_table=False,
    ),
    "assessments": TableSchema(
        "assessments",
        (
            _ID,
            _DAY,
            Column("visit", "str", True, "visit name, as in study.toml [[visits]]"),
            Column("instrument", "str", True, "MADRS, HAM-D17, QIDS-SR16, PHQ-9, BDI-II"),
            Column("total", "float", description="total score; computed from items if given"),
            Column("time_min", "float", description="minutes from the start of the "
                   "infusion that day (negative = before), for ratings repeated on a day: "
                   "CADSS, BPRS at 40, 120, 240 min; empty for the visit's rating"),
            _DATE,
        ),
        sort_by=("participant_id", "day", "instrument", "visit", "time_min"),
    ),
    "events": TableSchema(
        "events",
        (
            _ID,
            _DAY,
            Column("event", "str", True, "hospitalisation, suicide_attempt, ..."),
            Column("description", "str"),
            _DATE,
        ),
        sort_by=("participant_id", "day", "event"),
        required_table=False,
    ),
    "adverse_events": TableSchema(
        "adverse_events",
        (
            _ID,
            Column("term", "str", True, "the event as reported (verbatim term, SDTM AETERM)"),
            Column("pt", "str", description="MedDRA preferred term, as coded (AEDECOD)"),
            Column("soc", "str", description="MedDRA system organ class, as coded (AEBODSYS)"),
            Column("start_day", "int", description="study day of onset; day 0 = randomisation"),
            Column("start_date", "date", description="date of onset; gives start_day"),
            Column("end_day", "int", description="study day the event resolved"),
            Column("end_date", "date", description="date the event resolved; gives end_day"),
            Column("severity", "str", description="mild, moderate or severe (AESEV)"),
            Column("grade", "int", description="CTCAE grade 1-5 (AETOXGR)"),
            Column("serious", "bool", description="serious adverse event (AESER)"),
            Column("related", "str", description="related to: drug, exercise, both or none"),
            Column("action", "str", description="action taken: none, dose_reduced, "
                   "drug_interrupted, drug_withdrawn, exercise_paused, exercise_stopped, "
                   "withdrawn_from_study"),
            Column("outcome", "str", description="recovered, recovering, not_recovered, "
                   "recovered_with_sequelae, fatal or unknown (AEOUT)"),
            Column("pre_existing", "bool", description="present before the first treatment"),
            Column("baseline_severity", "str",
                   description="severity before the first treatment, for a pre-existing event"),
        ),
        sort_by=("participant_id", "start_day", "term"),
        required_table=False,
        safety=True,
    ),
    "vitals": TableSchema(
        "vitals",
        (
            _ID,
            _DAY,
            Column("time_min", "float", description="minutes from the start of the infusion "
                   "or session that day; negative = before"),
            Column("test", "str", True, "SBP, DBP, HR, SPO2, TEMP or WEIGHT"),
            Column("value", "float", True),
            Column("unit", "str", True, "mmHg, beats/min, %, C or F, kg or lb"),
            _DATE,
        ),
        sort_by=("participant_id", "day", "time_min", "test"),
        required_table=False,
        safety=True,
    ),
    "medications": TableSchema(
        "medications",
        (
            _ID,
            Column("name", "str", True, "the medication as reported (CMTRT)"),
            Column("class", "str", description="drug class, e.g. SSRI, benzodiazepine"),
            Column("start_day", "int", description="study day of the first dose"),
            Column("start_date", "date", description="date of the first dose"),
            Column("end_day", "int", description="study day of the last dose; empty = ongoing"),
            Column("end_date", "date", description="date of the last dose"),
            Column("indication", "str"),
            Column("rescue", "bool", description="given as rescue medication"),
        ),
        sort_by=("participant_id", "start_day", "name"),
        required_table=False,
        safety=True,
    ),
}

#: The optional safety tables, in the order of :data:`TABLES`.
SAFETY_TABLES = tuple(name for name, schema in TABLES.items() if schema.safety)

EVENT_TYPES = (
    "hospitalisation",
    "suicide_prevention_hospitalisation",
    "suicide_attempt",
    "completed_suicide",
    "discontinuation",
    "adverse_event",
    "other",
)

_DTYPES = {
    "str": "string",
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
    "date": "datetime64[ns]",
    "item": "float64",
}


def item_columns(columns) -> list[str]:
    """The ``item_K`` columns among ``columns``, in item order.

    Examples
    --------
    >>> item_columns(["participant_id", "item_10", "item_2", "total"])
    ['item_2', 'item_10']
    """
    numbered = [(int(m.group(1)), c) for c in columns if (m := ITEM_COLUMN.match(str(c)))]
    return [c for _, c in sorted(numbered, key=lambda pair: pair[0])]


def empty_table(name: str) -> pd.DataFrame:
    """An empty table with the required columns of ``name``, in canonical dtypes."""
    schema = TABLES[name]
    return pd.DataFrame(
        {c.name: pd.Series(dtype=_DTYPES[c.kind]) for c in schema.columns if c.required}
    )


def canonical(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Give a table its canonical form: dtypes, column order, row order, fresh index.

    Known columns come first in schema order, then item columns in item order, then
    extra columns sorted by name. Optional columns that are entirely missing are dropped,
    so that a source without a column and a source with an empty one compare equal.
    Values must already be valid (readers validate before calling this).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"arm": ["B", "A"], "participant_id": ["p2", "p1"]})
    >>> canonical("participants", frame)
      participant_id arm
    0             p1   A
    1             p2   B
    """
    schema = TABLES[name]
    known = [c.name for c in schema.columns]
    items = item_columns(frame.columns) if name == "assessments" else []
    extras = sorted(c for c in frame.columns if c not in known and c not in items)
    out = {}
    for column in [*known, *items, *extras]:
        if column not in frame.columns:
            continue
        spec = schema.column(column)
        values = frame[column]
        if spec is not None and not spec.required and values.isna().all():
            continue
        out[column] = _as_kind(values, spec.kind if spec is not None else None)
    result = pd.DataFrame(out, index=frame.index)
    # optional sort columns (start_day, time_min) may have been dropped as empty
    by = [c for c in schema.sort_by if c in result.columns]
    return result.sort_values(by, kind="mergesort").reset_index(drop=True)


def _as_kind(values: pd.Series, kind: str | None) -> pd.Series:
    if kind is None:
        # extra columns: numbers stay numbers, everything else becomes text
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            return values.astype("float64")
        return values.astype("string")
    if kind == "date":
        return pd.to_datetime(values).astype("datetime64[ns]")
    if kind == "int":
        return values.astype("float64").round().astype("Int64")
    # pandas-stubs: astype lists literal dtype names only, not a str from a table
    return values.astype(_DTYPES[kind])  # type: ignore[call-overload]
