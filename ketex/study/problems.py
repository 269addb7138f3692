"""Collecting validation problems into one report, pandera-lazy style.

Readers never stop at the first problem: every check adds its findings to a
:class:`ProblemLog`, and the log becomes one table with a row per problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any

import pandas as pd

__all__ = ["REPORT_COLUMNS", "RULES", "ProblemLog", "format_report", "lines_text", "number_hint"]

REPORT_COLUMNS = (
    "table",
    "source_file",
    "line",
    "participant_id",
    "column",
    "value",
    "rule",
    "severity",
    "message",
)

#: Every rule a reader or validation may report, with its severity. Each is documented
#: in docs/loading-data.md (a test checks it).
RULES = MappingProxyType(
    {
        # the protocol and whole files
        "bad_protocol": "error",
        "missing_table": "error",
        "empty_table": "error",
        "no_rows": "warning",
        "unreadable_file": "error",
        "ambiguous_table": "error",
        "empty_file": "error",
        "bad_encoding": "error",
        "malformed_file": "error",
        "duplicate_column": "error",
        "missing_column": "error",
        # workbooks: sheets and cells
        "ambiguous_sheet": "error",
        "hidden_sheet": "error",
        "merged_cells": "error",
        "formula_without_value": "error",
        "formula_cell": "warning",
        # records and values
        "malformed_row": "error",
        "missing_value": "error",
        "non_numeric": "error",
        "not_boolean": "error",
        "bad_date": "error",
        "impossible_day": "error",
        "day_date_mismatch": "error",
        "no_day": "error",
        # participants and references between tables
        "duplicate_participant": "error",
        "participant_id_case_collision": "error",
        "unknown_arm": "error",
        "unknown_participant": "error",
        "heart_rate_out_of_range": "error",
        "out_of_range": "error",
        # infusions and exercise
        "unknown_dose_unit": "error",
        "implausible_dose": "error",
        "impossible_duration": "error",
        "duplicate_infusion": "error",
        "drug_not_in_arm": "warning",
        "exercise_not_in_arm": "warning",
        "duplicate_session": "error",
        # assessments
        "unknown_instrument": "error",
        "unknown_visit": "error",
        "item_out_of_range": "error",
        "extra_item": "error",
        "total_out_of_range": "error",
        "total_mismatch": "error",
        "duplicate_assessment": "error",
        "total_not_scorable": "warning",
        "visit_outside_window": "warning",
        "visit_not_for_arm": "warning",
        "timed_rating_off_infusion_day": "warning",
        "phq9_item9_positive": "warning",
        # events
        "unknown_event": "warning",
        # plausibility (ketex.study.plausibility)
        "beyond_schedule": "error",
        "event_beyond_schedule": "warning",
        "infusion_off_schedule": "warning",
        "implausible_bmi": "warning",
        "implausible_watts": "warning",
        # safety tables: adverse events, vital signs, medications
        "unknown_code": "error",
        "end_before_start": "error",
        "unknown_vital_test": "error",
        "vital_out_of_range": "error",
        "duplicate_vital": "error",
        "uncoded_event": "warning",
        "unknown_soc": "warning",
        "pt_spelling": "warning",
        "pt_in_two_socs": "warning",
        # REDCap exports (ketex.io.redcap): data dictionary and mapping
        "duplicate_field": "error",
        "unknown_field_type": "error",
        "bad_choices": "error",
        "bad_mapping": "error",
        "labels_export": "error",
        # REDCap exports: records rows
        "invalid_choice": "error",
        "unmapped_code": "error",
        "unmapped_event": "error",
        "incomplete_form": "warning",
        "unmapped_form": "warning",
        "empty_row": "warning",
        "unknown_field": "warning",
        # CDISC SDTM datasets (ketex.io.sdtm): files and the protocol
        "missing_dataset": "error",
        "missing_protocol": "error",
        "unknown_domain": "warning",
        "trial_design_not_read": "warning",
        "unsupported_format": "warning",
        "extra_member": "warning",
        # SDTM records
        "unknown_test_code": "error",
        "duplicate_record": "error",
        "unknown_parent_record": "error",
        "unknown_unit": "error",
        "bad_duration": "error",
        "duration_mismatch": "error",
        "unsupported_instrument": "warning",
        "unread_vital_sign": "warning",
        "parent_not_loaded": "warning",
        "not_randomised": "warning",
        "not_baseline": "warning",
        "not_an_event": "warning",
        # device streams (a streams/ folder; ketex.streams)
        "missing_manifest": "error",
        "missing_file": "error",
        "duplicate_file": "error",
        "unreadable_stream": "error",
        "clock_jump": "error",
        "stream_gap": "warning",
        "hr_dropout": "warning",
        "hr_spike": "warning",
        "hr_max_unknown": "warning",
        "no_exercise_session": "warning",
        "stream_day_mismatch": "warning",
        "unknown_age_unit": "warning",
        "partial_date": "warning",
    }
)

SOURCE_FILE = "_source_file"
LINE = "_line"
PARSE_ERROR = "_parse_error"  # set by readers on records they could not split into fields


class ProblemLog:
    """Accumulates problems; rows with errors are remembered so they can be dropped.

    Readers put two provenance columns on every raw table: ``_source_file`` and
    ``_line`` (the line or sheet row the record came from).
    """

    def __init__(self) -> None:
        self._rows: list[dict] = []
        self.rejected: dict[str, set] = {}
        # tables whose file could not be read at all (the reason is already logged)
        self.unreadable: set[str] = set()

    def add(
        self,
        table: str,
        rule: str,
        message: str,
        *,
        severity: str = "error",
        source_file: str | None = None,
        line: int | None = None,
        participant_id: str | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        """Record one problem that concerns no single row (or a row given by hand)."""
        if RULES.get(rule) != severity:
            raise ValueError(f"rule {rule!r} with severity {severity!r} is not in RULES")
        self._rows.append(
            {
                "table": table,
                "source_file": source_file,
                "line": line,
                "participant_id": participant_id,
                "column": column,
                "value": _display(value),
                "rule": rule,
                "severity": severity,
                "message": message,
            }
        )

    def flag(
        self,
        table: str,
        frame: pd.DataFrame,
        mask: pd.Series,
        column: str | None,
        rule: str,
        message: Callable[[pd.Series], str],
        *,
        severity: str = "error",
        values: pd.Series | None = None,
    ) -> pd.Series:
        """Record a problem for every row of ``frame`` where ``mask`` is true.

        ``message`` receives the row (with ``_value``: the offending value) and returns
        the text. Rows flagged with severity ``"error"`` are marked rejected. Returns
        the mask of flagged rows (missing values in ``mask`` count as false).
        """
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return mask
        if values is None:
            values = frame[column] if column in frame.columns else pd.Series(None, frame.index)
        values = values.reindex(frame.index)
        rows = frame.loc[mask].assign(_value=values[mask])
        for index, row in rows.iterrows():
            self.add(
                table,
                rule,
                message(row),
                severity=severity,
                source_file=row.get(SOURCE_FILE),
                line=_int_or_none(row.get(LINE)),
                participant_id=_str_or_none(row.get("participant_id")),
                column=column,
                value=row["_value"],
            )
            if severity == "error":
                self.rejected.setdefault(table, set()).add(index)
        return mask

    def rejected_mask(self, table: str, frame: pd.DataFrame) -> pd.Series:
        """True for the rows of ``frame`` that an error rejected."""
        return pd.Series(frame.index.isin(list(self.rejected.get(table, ()))), frame.index)

    @property
    def has_errors(self) -> bool:
        """Whether any problem has severity ``"error"``."""
        return any(row["severity"] == "error" for row in self._rows)

    def report(self) -> pd.DataFrame:
        """All problems as one table with :data:`REPORT_COLUMNS`, errors first."""
        report = pd.DataFrame(self._rows, columns=list(REPORT_COLUMNS))
        report["line"] = report["line"].astype("Int64")
        for column in REPORT_COLUMNS:
            if column != "line":
                report[column] = report[column].astype("string")
        order = report["severity"].map({"error": 0, "warning": 1}).fillna(2)
        return (
            report.assign(_order=order)
            .sort_values(["_order", "source_file", "line"], kind="mergesort", na_position="first")
            .drop(columns="_order")
            .reset_index(drop=True)
        )


def lines_text(locations: Iterable[tuple[str, int]]) -> str:
    """Name the records at ``(file, line)`` locations, runs of lines joined.

    Examples
    --------
    >>> lines_text([("qs.csv", 2), ("qs.csv", 3), ("qs.csv", 4), ("qs.csv", 7), ("vs.csv", 3)])
    'qs.csv lines 2-4, 7; vs.csv line 3'
    """
    by_file: dict[str, list[int]] = {}
    for file, line in locations:
        by_file.setdefault(file, []).append(int(line))
    parts = []
    for file, lines in by_file.items():
        lines = sorted(set(lines))
        runs: list[str] = []
        start: int | None = lines[0]
        for previous, current in zip(lines, [*lines[1:], None], strict=True):
            if current != previous + 1:
                runs.append(f"{start}" if start == previous else f"{start}-{previous}")
                start = current
        word = "line" if len(lines) == 1 else "lines"
        parts.append(f"{file} {word} {', '.join(runs)}")
    return "; ".join(parts)


def format_report(report: pd.DataFrame, limit: int | None = 20) -> str:
    """The report as text, one line per cause, for consoles and exception messages.

    Problems that differ only in the line they point at (the same file, rule, column,
    value and message: one missing participant behind every record of it) share one
    line naming their records, so one cause reads as one line however many rows it
    rejected; the report table itself keeps a row per record. ``limit`` counts lines.

    Examples
    --------
    >>> log = ProblemLog()
    >>> log.add("participants", "unknown_arm", "arm 'X' is not in study.toml",
    ...         source_file="participants.csv", line=3, column="arm", value="X")
    >>> for line in (4, 5, 6, 9):
    ...     log.add("exercise", "unknown_participant",
    ...             f"exercise.csv line {line}: no participant P9",
    ...             source_file="exercise.csv", line=line)
    >>> print(format_report(log.report()))
    error   exercise.csv lines 4-6, 9 (4 rows) unknown_participant: no participant P9
    error   participants.csv:3 [arm='X'] unknown_arm: arm 'X' is not in study.toml
    """
    causes: dict[tuple, list] = {}
    for number, row in enumerate(report.itertuples(index=False)):
        causes.setdefault(_cause(row, number), []).append(row)
    lines = []
    groups = list(causes.values())
    for rows in groups if limit is None else groups[:limit]:
        row = rows[0]
        where = "" if pd.isna(row.source_file) else str(row.source_file)
        message = row.message
        if len(rows) > 1:
            where = lines_text((where, int(r.line)) for r in rows) + f" ({len(rows)} rows)"
            message = _without_location(row)
        elif not pd.isna(row.line):
            where += f":{row.line}"
        cell = ""
        if not pd.isna(row.column):
            cell = f" [{row.column}" + ("" if pd.isna(row.value) else f"={row.value!r}") + "]"
        lines.append(f"{row.severity:<7} {where}{cell} {row.rule}: {message}")
    if limit is not None and len(groups) > limit:
        left = sum(len(rows) for rows in groups[limit:])
        lines.append(f"... and {left} more problems")
    return "\n".join(lines)


def _without_location(row) -> str:
    """The message without its leading ``<file> line <n>: ``."""
    if pd.isna(row.source_file) or pd.isna(row.line):
        return row.message
    prefix = f"{row.source_file} line {row.line}: "
    return row.message[len(prefix):] if row.message.startswith(prefix) else row.message


def _cause(row, number: int) -> tuple:
    """What a problem says apart from the record it points at (its own when unsure)."""
    if pd.isna(row.line) or pd.isna(row.source_file):
        return (number,)
    values = tuple(None if pd.isna(v) else v for v in
                   (row.table, row.source_file, row.participant_id, row.column, row.value))
    return (row.severity, row.rule, *values, _without_location(row))


_COMMA_NUMBER = re.compile(r"([+-]?)(\d{1,3}(?:\.\d{3})+|\d+),(\d+)")


def number_hint(value: object) -> str:
    """A hint for a number written with a decimal comma, or "" for any other value.

    Examples
    --------
    >>> number_hint("64,5")
    ' (decimal comma? use a point: 64.5)'
    >>> number_hint("1,085")
    ' (decimal comma or thousands separator? write 1.085 or 1085)'
    >>> number_hint("abc")
    ''
    """
    match = _COMMA_NUMBER.fullmatch(str(value).strip())
    if match is None:
        return ""
    sign, whole, fraction = match.groups()
    whole = whole.replace(".", "")
    if len(fraction) == 3 and len(match[2]) <= 3:
        return (f" (decimal comma or thousands separator? write {sign}{whole}.{fraction} "
                f"or {sign}{whole}{fraction})")
    return f" (decimal comma? use a point: {sign}{whole}.{fraction})"


def _display(value: object) -> str | None:
    """A value as a person would have written it: 11 not 11.0, dates without a time."""
    if value is None or _isna(value):
        return None
    if isinstance(value, float):
        return f"{value:.15g}"
    if isinstance(value, pd.Timestamp):
        return value.isoformat() if value != value.normalize() else f"{value:%Y-%m-%d}"
    return str(value)


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _int_or_none(value: Any) -> int | None:
    return None if value is None or _isna(value) else int(value)


def _str_or_none(value: object) -> str | None:
    return None if value is None or _isna(value) else str(value)
