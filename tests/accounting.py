"""Row accounting: every input record is in the trial or in the report, never both."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from ketex.study.trial import TABLE_NAMES

TAG = "row_tag"


def tag_rows(folder: Path) -> dict[str, set[int]]:
    """Add a column ``row_tag`` holding each record's line; return the lines per table."""
    lines = {}
    for name in TABLE_NAMES:
        path = folder / f"{name}.csv"
        if not path.exists():
            continue
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        rows[0].append(TAG)
        for number, row in enumerate(rows[1:], start=2):
            row.append(str(number))
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
        lines[name] = set(range(2, len(rows) + 1))
    return lines


def tags_by_line(path: Path) -> dict[int, int]:
    """The tag of the record starting at each line of a (possibly corrupted) CSV.

    Lines are counted as the reader counts them: a quoted carriage return or newline
    inside a cell moves the following records down, so tags written before the
    corruption are found again by reading the file as it is now.
    """
    found = {}
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    header = next(reader)
    end = reader.line_num
    for record in reader:
        start, end = end + 1, reader.line_num
        if TAG in header and len(record) == len(header):
            tag = record[header.index(TAG)]
            if tag.isdigit():
                found[start] = int(tag)
    return found


def check_accounting(trial, lines: dict[str, set[int]], folder: Path) -> None:
    """Each tagged record is loaded exactly once or rejected by an error in the report."""
    report = trial.report
    for name, expected in lines.items():
        mine = report[(report["table"] == name) & (report["severity"] == "error")]
        whole_table = mine["line"].isna().any()  # a file-level error rejects every row
        loaded = getattr(trial, name)
        tags = (
            pd.to_numeric(loaded[TAG], errors="coerce").dropna().astype(int).tolist()
            if TAG in loaded.columns
            else []
        )
        assert len(tags) == len(set(tags)) == len(loaded), f"{name}: a row loaded twice"
        if whole_table:
            assert not tags, f"{name}: rows loaded from a rejected table"
            continue
        by_line = tags_by_line(folder / f"{name}.csv")
        reported = set(mine["line"].dropna().astype(int))
        rejected = {by_line[line] for line in reported if line in by_line}
        # a malformed record (wrong field count) has no readable tag; a bare carriage
        # return inside a cell even splits one record into two malformed lines
        unreadable = reported - set(by_line)
        assert not set(tags) & rejected, f"{name}: rows both loaded and rejected"
        assert set(tags) | rejected <= expected, f"{name}: unknown rows"
        lost = expected - set(tags) - rejected
        assert len(lost) <= len(unreadable), f"{name}: rows lost: {sorted(lost)[:10]}"


def _check_table(name: str, tags: list[int], by_line: dict[int, int], report: pd.DataFrame,
                 expected: set[int]) -> None:
    """One table's tagged records: each loaded once, or rejected by an error row."""
    mine = report[(report["table"] == name) & (report["severity"] == "error")]
    assert len(tags) == len(set(tags)), f"{name}: a row loaded twice"
    if mine["line"].isna().any():  # a table-level error rejects every row
        assert not tags, f"{name}: rows loaded from a rejected table"
        return
    reported = set(mine["line"].dropna().astype(int))
    rejected = {by_line[line] for line in reported if line in by_line}
    unreadable = reported - set(by_line)
    assert not set(tags) & rejected, f"{name}: rows both loaded and rejected"
    assert set(tags) | rejected <= expected, f"{name}: unknown rows"
    lost = expected - set(tags) - rejected
    assert len(lost) <= len(unreadable), f"{name}: rows lost: {sorted(lost)[:10]}"


def _loaded_tags(trial, name: str) -> list[int]:
    loaded = getattr(trial, name)
    if TAG not in loaded.columns:
        return []
    return pd.to_numeric(loaded[TAG], errors="coerce").dropna().astype(int).tolist()


def workbook_tags(path: Path) -> dict[str, dict[int, int]]:
    """The tag of each row of each table sheet of a workbook: {table: {row: tag}}."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    found = {}
    for name in TABLE_NAMES:
        if name not in book.sheetnames:
            continue
        rows = list(book[name].iter_rows(values_only=True))
        if not rows or TAG not in rows[0]:
            continue
        column = rows[0].index(TAG)
        found[name] = {}
        for number, row in enumerate(rows[1:], start=2):
            value = row[column] if column < len(row) else None
            try:
                found[name][number] = int(float(value))
            except (TypeError, ValueError):
                continue
    book.close()
    return found


def check_workbook_accounting(trial, expected: dict[str, set[int]], path: Path) -> None:
    """Each tagged row of a workbook's sheets is loaded exactly once or rejected."""
    sheets = workbook_tags(path)
    for name, tags in expected.items():
        _check_table(name, _loaded_tags(trial, name), sheets.get(name, {}), trial.report, tags)


def csv_records(path: Path) -> list[int]:
    """The line each record of a CSV file starts on, as the readers count lines."""
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8", errors="replace"),
                                    newline=""))
    try:
        next(reader)
    except StopIteration:
        return []
    end, starts = reader.line_num, []
    for record in reader:
        start, end = end + 1, reader.line_num
        if any(cell.strip() for cell in record):
            starts.append(start)
    return starts


def redcap_accounting(records: Path, dictionary: Path, mapping: Path):
    """``load_redcap(..., on_error="drop")`` step by step, and the records lines it lost.

    Returns the trial (its report in REDCap terms) and the lines of ``records`` that are
    neither read into a table row nor named by the report; each table holds every row
    read that no error rejected.
    """
    import dataclasses

    from ketex.io.redcap.read import read_redcap_tables
    from ketex.study.validation import build_trial

    tables = read_redcap_tables(records, dictionary, mapping)
    trial = build_trial(tables.protocol, tables.raw, on_error="drop", source=str(records),
                        log=tables.log)
    report = tables.in_redcap_terms(trial.report)
    for name, frame in tables.raw.items():
        if frame is None:
            continue
        rejected = tables.log.rejected.get(name, set())
        assert len(getattr(trial, name)) == len(frame) - len(rejected), name
    used = {int(line) for frame in tables.raw.values() if frame is not None
            for line in pd.to_numeric(frame["_line"], errors="coerce").dropna()}
    whole = report["line"].isna() & (report["severity"] == "error")
    if whole.any():
        return dataclasses.replace(trial, report=report), []
    reported = set(report["line"].dropna().astype(int))
    lost = sorted(set(csv_records(records)) - used - reported)
    return dataclasses.replace(trial, report=report), lost


def sdtm_accounting(folder: Path):
    """``load_sdtm(folder, on_error="drop")`` step by step, and the records it lost.

    Returns the trial (report relocated to the SDTM records) and what is unaccounted
    for: each CSV record must be gathered into a row of a table or named by the report
    (or be in a file the report rejects whole); each table must hold every row that no
    error rejected, and each rejected row must have an error at one of its records (an
    error names every record its row gathered).
    """
    import dataclasses

    from ketex.io.sdtm.provenance import relocate
    from ketex.io.sdtm.read import read_sdtm_tables
    from ketex.study.validation import build_trial

    protocol, raw, log, everything = read_sdtm_tables(folder)
    trial = build_trial(protocol, raw, on_error="drop", source=str(folder), log=log)
    report = relocate(trial.report, everything)
    errors = report[report["severity"] == "error"]
    at = {(t, f, int(n)) for t, f, n in zip(errors["table"], errors["source_file"],
                                            errors["line"], strict=True) if pd.notna(n)}
    whole_tables = set(errors.loc[errors["line"].isna(), "table"])
    lost: list = []
    gathered = set()
    for table in everything:
        rejected = log.rejected.get(table.name, set())
        if len(getattr(trial, table.name)) != len(table.rows) - len(rejected & set(
                range(len(table.rows)))):
            lost.append((table.name, "rows neither loaded nor rejected"))
        for row, sources in enumerate(table.sources):
            gathered.update(sources)
            if row in rejected and table.name not in whole_tables and not any(
                    (table.name, *where) in at for where in sources):
                lost.append((table.name, f"row {row} ({sources[:3]}) rejected without an "
                             "error at its records"))
    reported = {(file, int(line)) for file, line in zip(report["source_file"], report["line"],
                                                        strict=True) if pd.notna(line)}
    whole = set(report.loc[report["line"].isna(), "source_file"].dropna())
    lost += [(path.name, line) for path in sorted(folder.glob("*.csv"))
             if path.name not in whole for line in csv_records(path)
             if (path.name, line) not in gathered | reported]
    return dataclasses.replace(trial, report=report), lost
