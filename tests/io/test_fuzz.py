"""Fuzz: every reader, given the bundled sample with cells corrupted at random (issue 18).

For the study folder (CSV), the workbook, the REDCap export and the SDTM datasets, a
seeded RNG corrupts one to three cells of a five-participant cut of the bundled sample
(cells of the sample's own files; the workbook is written from the folder) and the
reader runs with ``on_error="drop"``. Each case must give a Trial in which every input
row is loaded or named by the report (``tests/accounting.py``), or a DataValidationError
whose report says why nothing loaded; any other exception fails. Every failing case is
listed with its edits, so it can be replayed.

A load takes 0.1-0.3 s even for five participants, so the standing suite runs
``KETEX_FUZZ_CASES`` cases per reader (default 8: about 8 s in all); set it to 1000 for
the long run (docs/validation.md gives its last figures).
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import ketex
from ketex.errors import DataValidationError
from tests.accounting import (
    TAG,
    check_accounting,
    check_workbook_accounting,
    redcap_accounting,
    sdtm_accounting,
    tag_rows,
)

CASES = int(os.environ.get("KETEX_FUZZ_CASES", "8"))
SEED = 18
KEEP = {"P001", "P002", "P003", "P004", "P005"}  # both arms, a hospitalisation (P005)
VALUES = [
    "", " ", "NA", "n/a", ".", "-1", "0", "1e9", "nan", "inf", "-inf", "2024-13-45",
    "2024-01", "2024-01-14T00:00:00Z", "2024-01-14T00:00:00+01:00", "1,5", "9999", "-0.5",
    "true", "Y", "N", "yes", "SINGLE", "SERIES", "P001", "p001", "P999", "MADRS", "BASELINE",
    "WEEK2", "mg", "mg/kg", '"', ";", "=1+1", "<img src=x onerror=alert(1)>", "Åsberg",
    "\u00a0", "9" * 30, "1.5.2", "０", "-0", "+3", "3.", "0x10",
]


def _mutate(rng: np.random.Generator, value: str) -> str:
    """A damaged version of ``value``, or a value from the pool."""
    kind = rng.integers(0, 8)
    if kind <= 2 or not value:
        return VALUES[rng.integers(0, len(VALUES))]
    if kind == 3:
        return value + VALUES[rng.integers(0, len(VALUES))]
    if kind == 4:
        at = rng.integers(0, len(value))
        return value[:at] + value[at + 1:]
    if kind == 5:
        return value.replace(".", ",") if "." in value else value.swapcase()
    if kind == 6:
        return f" {value} "
    return "-" + value


def _subset_csv(source: Path, target: Path, key: str) -> None:
    with open(source, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index(key)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(
            [rows[0], *(r for r in rows[1:] if r[column] in KEEP)])


def _corrupt_csv(rng: np.random.Generator, folder: Path, skip: tuple[str, ...]) -> list:
    files = sorted(p for p in folder.glob("*.csv") if p.name not in skip)
    edits = []
    for _ in range(rng.integers(1, 4)):
        path = files[rng.integers(0, len(files))]
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        if len(rows) < 2:
            continue
        line = int(rng.integers(1, len(rows)))
        columns = [k for k, name in enumerate(rows[0]) if name != TAG]
        column = columns[rng.integers(0, len(columns))]
        if column >= len(rows[line]):
            continue
        before = rows[line][column]
        rows[line][column] = _mutate(rng, before)
        edits.append((path.name, line + 1, rows[0][column], before, rows[line][column]))
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
    return edits


def _corrupt_workbook(rng: np.random.Generator, path: Path) -> list:
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheets = [name for name in book.sheetnames if name != "study"]
    edits = []
    for _ in range(rng.integers(1, 4)):
        sheet = book[sheets[rng.integers(0, len(sheets))]]
        if sheet.max_row < 2:
            continue
        header = [c.value for c in sheet[1]]
        row = int(rng.integers(2, sheet.max_row + 1))
        columns = [k for k, name in enumerate(header, start=1) if name != TAG]
        column = columns[rng.integers(0, len(columns))]
        cell = sheet.cell(row=row, column=column)
        before = cell.value
        text = _mutate(rng, "" if before is None else str(before))
        if rng.integers(0, 4) == 0:  # a number where text was, or a wrong number
            text = float(rng.choice([-1.0, 0.0, 1e9, 0.5, 3000.0]))
        cell.value = text
        edits.append((sheet.title, row, header[column - 1], before, text))
    book.save(path)
    return edits


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, Path]:
    """The cut of each form of the sample, the folder's rows tagged."""
    out = tmp_path_factory.mktemp("fuzz")
    sample = ketex.sample_study_path()
    folder = out / "folder"
    folder.mkdir()
    shutil.copy(sample / "study.toml", folder)
    for path in sample.glob("*.csv"):
        if path.name != "truth.csv":
            _subset_csv(path, folder / path.name, "participant_id")
    lines = tag_rows(folder)
    ketex.write_excel(ketex.load_trial(folder), out / "workbook.xlsx")
    redcap = out / "redcap"
    redcap.mkdir()
    for name in ("dictionary.csv", "mapping.toml", "study.toml"):
        shutil.copy(sample.parent / "sample_redcap" / name, redcap)
    _subset_csv(sample.parent / "sample_redcap" / "records.csv", redcap / "records.csv",
                "record_id")
    sdtm = out / "sdtm"
    sdtm.mkdir()
    shutil.copy(sample.parent / "sample_sdtm" / "study.toml", sdtm)
    for path in (sample.parent / "sample_sdtm").glob("*.csv"):
        _subset_csv(path, sdtm / path.name, "USUBJID")
    return {"folder": folder, "workbook": out / "workbook.xlsx", "redcap": redcap,
            "sdtm": sdtm, "lines": lines}


def _folder_case(rng, bases, target: Path, edits: list) -> None:
    shutil.copytree(bases["folder"], target)
    edits.extend(_corrupt_csv(rng, target, ()))
    trial = ketex.load_trial(target, on_error="drop")
    check_accounting(trial, bases["lines"], target)


def _workbook_case(rng, bases, target: Path, edits: list) -> None:
    target.mkdir()
    path = target / "study.xlsx"
    shutil.copy(bases["workbook"], path)
    edits.extend(_corrupt_workbook(rng, path))
    trial = ketex.load_trial(path, on_error="drop")
    check_workbook_accounting(trial, bases["lines"], path)


def _redcap_case(rng, bases, target: Path, edits: list) -> None:
    shutil.copytree(bases["redcap"], target)
    edits.extend(_corrupt_csv(rng, target, ("dictionary.csv",)))
    _, lost = redcap_accounting(target / "records.csv", target / "dictionary.csv",
                                target / "mapping.toml")
    assert not lost, f"records lines neither read nor reported: {lost}"


def _sdtm_case(rng, bases, target: Path, edits: list) -> None:
    shutil.copytree(bases["sdtm"], target)
    edits.extend(_corrupt_csv(rng, target, ()))
    _, lost = sdtm_accounting(target)
    assert not lost, f"records neither loaded nor reported: {lost[:10]}"


READERS = {"folder": _folder_case, "workbook": _workbook_case, "redcap": _redcap_case,
           "sdtm": _sdtm_case}


@pytest.mark.parametrize("reader", list(READERS))
def test_corrupted_cells_are_loaded_or_reported(reader, bases, tmp_path):
    rng = np.random.default_rng([SEED, list(READERS).index(reader)])
    failures = []
    for case in range(CASES):
        case_rng = np.random.default_rng(rng.integers(0, 2**32))
        edits: list = []
        try:
            READERS[reader](case_rng, bases, tmp_path / f"case{case}", edits)
        except DataValidationError as exc:  # nothing loaded: the report must say why
            if exc.report is None or not (exc.report["severity"] == "error").any():
                failures.append((case, edits, f"DataValidationError without a report: {exc}"))
        except Exception as exc:  # noqa: BLE001 - collect every failing case
            failures.append((case, edits, f"{type(exc).__name__}: {exc}"))
    assert not failures, "\n".join(f"case {c}: {e}\n    {m}" for c, e, m in failures)
