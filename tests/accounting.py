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
