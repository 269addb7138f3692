"""Property tests: a study corrupted at random yields a report, never a traceback.

Readers may raise only DataValidationError (bad data) or OSError (missing file); under
``on_error="drop"`` every record is either loaded or rejected in the report.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ketex
from ketex.study.trial import TABLE_NAMES
from tests.accounting import TAG, check_accounting, tag_rows
from tests.conftest import MINI

# The sample study takes about a second to load twice, so examples are few per run;
# hypothesis draws new ones on every run and keeps failing ones in its database.
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

values = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "NA", ".", "-1", "0", "1e9", "nan", "inf", "2024-13-45", "1a",
                     "9999", "-0.5", "true", "SINGLE", "M01", "MADRS", "WEEK2", "mg", "\"", ";"]),
    st.integers(-10_000, 10_000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


def _sources() -> list[Path]:
    """The mini study, and the bundled sample study once it exists."""
    found = [MINI]
    try:
        found.append(ketex.sample_study_path())
    except FileNotFoundError:
        pass
    return found


def _copy(source: Path, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("study") / "s"
    # the tables are what is damaged: the sample's device recordings would only slow
    # every load (they are checked in tests/streams)
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("streams"))
    return folder


def _read(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _write(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


@pytest.mark.parametrize("source", _sources(), ids=lambda p: p.name)
@SETTINGS
@given(data=st.data())
def test_random_cell_corruption_loses_no_row(source, tmp_path_factory, data):
    folder = _copy(source, tmp_path_factory)
    lines = tag_rows(folder)
    for _ in range(data.draw(st.integers(1, 6), label="n_edits")):
        table = data.draw(st.sampled_from(sorted(lines)), label="table")
        path = folder / f"{table}.csv"
        rows = _read(path)
        if len(rows) < 2:
            continue
        line = data.draw(st.integers(2, len(rows)), label="line")
        columns = [c for c in rows[0] if c != TAG]
        column = data.draw(st.sampled_from(columns), label="column")
        rows[line - 1][rows[0].index(column)] = data.draw(values, label="value")
        _write(path, rows)
    try:
        trial = ketex.load_trial(folder, on_error="drop")
    except ketex.DataValidationError as exc:  # only a broken protocol may stop a drop
        pytest.fail(f"drop mode raised: {exc}")
    check_accounting(trial, lines, folder)
    try:
        ketex.load_trial(folder, on_error="raise")
    except ketex.DataValidationError as exc:
        assert exc.report is not None and (exc.report["severity"] == "error").any()


@st.composite
def damage(draw, text: str) -> str:
    """Structural damage to a file's text: lines, columns, quotes, bytes."""
    lines = text.splitlines()
    kind = draw(st.sampled_from(
        ["delete_line", "duplicate_line", "drop_header_cell", "rename_header", "truncate",
         "insert_text", "quote", "swap_lines"]))
    k = draw(st.integers(0, max(len(lines) - 1, 0)))
    if kind == "delete_line" and lines:
        del lines[k]
    elif kind == "duplicate_line" and lines:
        lines.insert(k, lines[k])
    elif kind == "drop_header_cell" and lines:
        cells = lines[0].split(",")
        del cells[draw(st.integers(0, len(cells) - 1))]
        lines[0] = ",".join(cells)
    elif kind == "rename_header" and lines:
        cells = lines[0].split(",")
        cells[draw(st.integers(0, len(cells) - 1))] = draw(st.text(max_size=8))
        lines[0] = ",".join(cells)
    elif kind == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    elif kind == "insert_text":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.text(max_size=20)) + text[at:]
    elif kind == "quote":
        at = draw(st.integers(0, len(text)))
        return text[:at] + '"' + text[at:]
    elif kind == "swap_lines" and len(lines) > 2:
        j = draw(st.integers(0, len(lines) - 1))
        lines[k], lines[j] = lines[j], lines[k]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("source", _sources(), ids=lambda p: p.name)
@SETTINGS
@given(data=st.data())
def test_structural_damage_gives_a_report_not_a_traceback(source, tmp_path_factory, data):
    folder = _copy(source, tmp_path_factory)
    names = [*TABLE_NAMES, "study"]
    for _ in range(data.draw(st.integers(1, 3), label="n_damages")):
        name = data.draw(st.sampled_from(names), label="file")
        path = folder / ("study.toml" if name == "study" else f"{name}.csv")
        if not path.exists():
            continue
        path.write_text(data.draw(damage(path.read_text()), label="damage"), encoding="utf-8")
    for on_error in ("drop", "raise"):
        try:
            trial = ketex.load_trial(folder, on_error=on_error)
        except ketex.DataValidationError as exc:
            assert exc.report is not None or "protocol" in str(exc)
        else:
            assert isinstance(trial, ketex.Trial)
