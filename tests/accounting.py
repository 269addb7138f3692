"""Row accounting: every input record is in the trial or in the report, never both."""

from __future__ import annotations

import csv
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


def check_accounting(trial, lines: dict[str, set[int]]) -> None:
    """Each tagged line is loaded exactly once or rejected by an error in the report."""
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
        rejected = set(mine["line"].dropna().astype(int))
        assert not set(tags) & rejected, f"{name}: rows both loaded and rejected"
        if whole_table:
            assert not tags, f"{name}: rows loaded from a rejected table"
        else:
            assert set(tags) | rejected == expected, f"{name}: rows lost"
