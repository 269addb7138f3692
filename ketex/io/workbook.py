"""Reading the tables of an ``.xlsx`` workbook: one sheet per table, cell by cell.

Only what a person sees in Excel is read, and nothing is read that Excel would show
differently: sheet names are matched ignoring case and surrounding spaces, but two
sheets that match one table (``participants`` and a stale hidden ``Participants ``) are
an error, as is a hidden sheet; a formula is read from the result Excel saved with it
(flagged) and is an error without one; merged cells, whose other cells are empty, are
an error.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ketex.io.files import rows_to_frame
from ketex.study.problems import ProblemLog
from ketex.study.tables import TABLES

__all__ = ["match_sheets", "open_books", "read_sheet"]


def match_sheets(book, source: str, names: tuple[str, ...], log: ProblemLog) -> dict:
    """The sheet title of each name in ``names`` that the workbook holds exactly once.

    Names match ignoring case and surrounding spaces. Several sheets for one name
    (``ambiguous_sheet``) or a hidden one (``hidden_sheet``) are errors: the table is
    marked unreadable and left out. A missing required table is ``missing_table``
    naming the sheets found.
    """
    by_name: dict[str, list] = {}
    for sheet in book.worksheets:
        by_name.setdefault(sheet.title.strip().lower(), []).append(sheet)
    found = {}
    for name in names:
        sheets = by_name.get(name, [])
        if len(sheets) > 1:
            listed = ", ".join(_describe(s) for s in sheets)
            log.add(name, "ambiguous_sheet",
                    f"{source} has {len(sheets)} sheets that read as {name}: {listed}; none "
                    "was read. Keep one of them: delete or rename the others",
                    source_file=source)
            log.unreadable.add(name)
        elif sheets and sheets[0].sheet_state != "visible":
            log.add(name, "hidden_sheet",
                    f"{source}: the {name} sheet {_describe(sheets[0])} is hidden, and ketex "
                    "reads only what can be seen in the workbook; none of its rows were read. "
                    "Unhide it (right-click a sheet tab > Unhide) or delete it",
                    source_file=source)
            log.unreadable.add(name)
        elif sheets:
            found[name] = sheets[0].title
        elif name in TABLES and TABLES[name].required_table:
            titles = ", ".join(s.title for s in book.worksheets)
            log.add(name, "missing_table",
                    f"{source} has no {name} sheet; add a sheet named {name} (sheets found: "
                    f"{titles})", source_file=source)
            log.unreadable.add(name)
    return found


def _describe(sheet) -> str:
    state = "" if sheet.sheet_state == "visible" else f" ({sheet.sheet_state})"
    return f"'{sheet.title}'{state}"


def read_sheet(values, formulas, source: str, table: str, log: ProblemLog
               ) -> pd.DataFrame | None:
    """One table from a sheet: ``values`` opened with saved results, ``formulas`` without.

    Rows whose cells are merged or hold a formula without a saved result are reported
    with their sheet row and left out; a merged header leaves the whole table out.
    """
    rows = list(values.iter_rows(values_only=True))
    written = list(formulas.iter_rows(values_only=True))
    if not any(_filled(row) for row in written):
        log.add(table, "empty_file",
                f"{source} is an empty sheet; its first row must name the columns",
                source_file=source, line=1)
        log.unreadable.add(table)
        return None
    header = list(rows[0]) if rows else []
    while header and header[-1] is None:
        header.pop()
    bad_rows = _merged(formulas, source, table, header, rows, log)
    if bad_rows is None:
        return None
    bad_rows |= _formulas(rows, written, source, table, header, log)
    records, lines = [], []
    for number, (row, raw) in enumerate(zip(rows[1:], written[1:], strict=False), start=2):
        if number in bad_rows or not _filled(raw):
            continue
        records.append(list(row))
        lines.append(number)
    return rows_to_frame(header, records, lines, source, table, log)


def _filled(row) -> bool:
    return any(not (v is None or (isinstance(v, str) and not v.strip())) for v in row)


def _column_name(header: list, column: int) -> str | None:
    if column <= len(header) and header[column - 1] is not None:
        return str(header[column - 1]).strip() or None
    return None


def _participant(header: list, row) -> str | None:
    names = [None if h is None else str(h).strip() for h in header]
    if "participant_id" in names and names.index("participant_id") < len(row):
        value = row[names.index("participant_id")]
        return None if value is None else str(value)
    return None


def _merged(sheet, source, table, header, rows, log) -> set[int] | None:
    """Sheet rows spanned by merged cells; None when the header itself is merged."""
    ranges = sorted(sheet.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col))
    in_header = [r for r in ranges if r.min_row == 1]
    for merged in in_header:
        log.add(table, "merged_cells",
                f"{source}: header cells {merged.coord} are merged, so only the first "
                "names a column; none of its rows were read. Unmerge them and give each "
                "column its own name", source_file=source, line=1, value=merged.coord)
    if in_header:
        log.unreadable.add(table)
        return None
    bad: set[int] = set()
    for merged in ranges:
        column = _column_name(header, merged.min_col)
        for number in range(merged.min_row, merged.max_row + 1):
            row = rows[number - 1] if number <= len(rows) else ()
            log.add(table, "merged_cells",
                    f"{source} row {number}: cells {merged.coord} are merged, so only the "
                    "first holds the value and the others read as empty; the row was left "
                    "out. Unmerge them and fill every cell",
                    source_file=source, line=number, participant_id=_participant(header, row),
                    column=column, value=merged.coord)
            bad.add(number)
    return bad


def _formulas(rows, written, source, table, header, log) -> set[int]:
    """Rows holding a formula without a saved result (left out), and one warning per
    column whose formulas were read from their saved results."""
    bad: set[int] = set()
    cached: dict[int, list[tuple[int, str]]] = {}
    for number, (row, raw) in enumerate(zip(rows[1:], written[1:], strict=False), start=2):
        for k, cell in enumerate(raw):
            formula = getattr(cell, "text", cell)  # ArrayFormula keeps its text there
            if not (isinstance(formula, str) and formula.startswith("=")):
                continue
            value = row[k] if k < len(row) else None
            if value is None:
                log.add(table, "formula_without_value",
                        f"{source} row {number}: {_column_name(header, k + 1) or 'a cell'} "
                        f"holds the formula {formula} without a saved result (the file was "
                        "not last saved by Excel); the row was left out. Open the workbook "
                        "and save it in Excel, or replace the formula by its value",
                        source_file=source, line=number,
                        participant_id=_participant(header, row),
                        column=_column_name(header, k + 1), value=formula)
                bad.add(number)
            else:
                cached.setdefault(k + 1, []).append((number, formula))
    for column, cells in cached.items():
        number, formula = cells[0]
        log.add(table, "formula_cell",
                f"{source}: {_column_name(header, column) or f'column {column}'} holds "
                f"formulas in {len(cells)} row(s) (first: row {number}, {formula}); the "
                "results Excel saved with them were read. Check they are current, or paste "
                "the values", severity="warning", source_file=source, line=number,
                column=_column_name(header, column), value=formula)
    return bad


def open_books(path: Path):
    """The workbook twice: with saved formula results, and with the formulas."""
    import openpyxl  # imported here: only workbooks need it

    values = openpyxl.load_workbook(path, data_only=True)
    formulas = openpyxl.load_workbook(path, data_only=False)
    return values, formulas
