"""Shared fixtures: copies of the hand-made mini study that tests may corrupt."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

# CI replays the same examples on every run, so a landing never hinges on a new random
# draw; local runs draw new examples and keep failing ones in .hypothesis/.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini"


@pytest.fixture
def mini_folder(tmp_path: Path) -> Path:
    """A writable copy of tests/data/mini."""
    target = tmp_path / "mini"
    shutil.copytree(MINI, target)
    return target


def edit_cell(path: Path, line: int, column: str, value: str) -> None:
    """Set one cell of a CSV file, addressed by file line (header = line 1) and column."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    if column not in header:
        header.append(column)
        for row in rows[1:]:
            row.append("")
    rows[line - 1][header.index(column)] = value
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
