"""Assembling trial tables from SDTM records while remembering where every cell came from.

One ketex row can gather several SDTM records: an assessment gathers one QS record per
item, a participant gathers DM, VS and SUPPDM records. Validation reports a problem at
the row's first record; :func:`relocate` then points it at the record that holds the
offending value and, for errors, names every record the rejected row gathered.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ketex.errors import DataValidationError
from ketex.study.problems import LINE, SOURCE_FILE, format_report, lines_text
from ketex.study.tables import TABLES

__all__ = ["RawTable", "relocate", "relocated_error"]

Location = tuple[str, int]


class RawTable:
    """Rows of one trial table, values as read, with the records each row and cell came from.

    Examples
    --------
    >>> table = RawTable("assessments")
    >>> row = table.add({"participant_id": "P1", "item_1": "3"}, ("qs.csv", 2))
    >>> table.set(row, "item_2", "4", ("qs.csv", 3))
    True
    >>> table.frame()[["participant_id", "item_1", "item_2", "_line"]].values.tolist()
    [['P1', '3', '4', 2]]
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: list[dict] = []
        self.anchors: list[Location] = []
        self.sources: list[list[Location]] = []
        self.cells: dict[tuple[int, str], Location] = {}

    def add(self, values: dict, where: Location) -> int:
        """Start a row from the record at ``where``; returns the row number."""
        self.rows.append(dict(values))
        self.anchors.append(where)
        self.sources.append([where])
        return len(self.rows) - 1

    def set(self, row: int, column: str, value: object, where: Location) -> bool:
        """Fill one cell from the record at ``where``; False if the cell already has a value."""
        current = self.rows[row].get(column)
        if current is not None and not (isinstance(current, float) and pd.isna(current)):
            return False
        self.rows[row][column] = value
        self.cells[(row, column)] = where
        if where not in self.sources[row]:
            self.sources[row].append(where)
        return True

    def gather(self, row: int, where: Location) -> None:
        """Count the record at ``where`` among the row's records without taking a value
        from it: it is loaded with the row, and named with it when the row is rejected."""
        if where not in self.sources[row]:
            self.sources[row].append(where)

    def cell_source(self, row: int, column: str) -> Location:
        """The record a cell came from (the row's first record when not set by hand)."""
        return self.cells.get((row, column), self.anchors[row])

    def frame(self) -> pd.DataFrame:
        """The rows as a raw table for :func:`ketex.study.validation.build_trial`."""
        required = [c for c in TABLES[self.name].required] if self.name in TABLES else []
        frame = pd.DataFrame(self.rows, dtype=object)
        for column in required:
            if column not in frame.columns:
                frame[column] = pd.Series(None, index=frame.index, dtype=object)
        frame[SOURCE_FILE] = [a[0] for a in self.anchors]
        frame[LINE] = [a[1] for a in self.anchors]
        return frame


def relocate(report: pd.DataFrame, tables: Iterable[RawTable]) -> pd.DataFrame:
    """Point each problem at the record holding its value; name the records of rejected rows."""
    cells: dict[tuple, Location] = {}
    gathered: dict[tuple, list[Location]] = {}
    for table in tables:
        for row, anchor in enumerate(table.anchors):
            gathered[(table.name, *anchor)] = table.sources[row]
        for (row, column), where in table.cells.items():
            cells[(table.name, *table.anchors[row], column)] = where
    out = report.copy()
    for index, problem in report.iterrows():
        if pd.isna(problem["line"]) or pd.isna(problem["source_file"]):
            continue
        key = (problem["table"], problem["source_file"], int(problem["line"]))
        message = problem["message"]
        holder = cells.get((*key, problem["column"]))
        if holder is not None and holder != key[1:]:
            message = message.replace(f"{key[1]} line {key[2]}",
                                      f"{holder[0]} line {holder[1]}", 1)
            out.loc[index, "source_file"] = holder[0]
            out.loc[index, "line"] = holder[1]
        records = gathered.get(key, [])
        if problem["severity"] == "error" and len(records) > 1:
            message += f" (not loaded with it: {lines_text(records)})"
        out.loc[index, "message"] = message
    order = out["severity"].map({"error": 0, "warning": 1}).fillna(2)
    return (
        out.assign(_order=order)
        .sort_values(["_order", "source_file", "line"], kind="mergesort", na_position="first")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def relocated_error(exc: DataValidationError, tables: Iterable[RawTable],
                    source: str) -> DataValidationError:
    """The validation error of :func:`build_trial` with its report relocated."""
    if exc.report is None:
        return exc
    report = relocate(exc.report, tables)
    errors = report[report["severity"] == "error"]
    return DataValidationError(
        f"{len(errors)} error(s) in {source}; nothing was loaded. Fix the records below "
        f"(the full table is in the exception's .report):\n{format_report(errors)}",
        report,
    )
