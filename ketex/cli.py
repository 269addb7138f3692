"""The ``ketex`` command: a thin layer over the public API.

Commands
--------
``ketex validate PATH [--format text|csv] [--out FILE]``
    Read a study folder, workbook, REDCap export folder or SDTM folder, print every
    problem; exit 1 on errors.
``ketex summary PATH``
    Participants by arm, assessments, infusions, exercise sessions, attendance.
``ketex report PATH --out DIR``
    The protocol's pre-specified analysis: every table and figure, and ``report.html``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ketex.errors import DataValidationError
from ketex.io.folder import load_trial
from ketex.io.redcap import load_redcap
from ketex.io.sdtm import load_sdtm
from ketex.study.problems import format_report
from ketex.study.summary import summarize
from ketex.study.trial import Trial

__all__ = ["main", "open_trial"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ketex", description="Analyse ketamine + exercise trials for depression."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser(
        "validate", help="check a study folder or workbook and list every problem"
    )
    validate.add_argument("path", help="study folder, .xlsx workbook, REDCap or SDTM folder")
    validate.add_argument("--format", choices=("text", "csv"), default="text")
    validate.add_argument("--out", help="write the problem table to this CSV file too")
    summary = commands.add_parser("summary", help="participants, visits, infusions, exercise")
    summary.add_argument("path", help="study folder, .xlsx workbook, REDCap or SDTM folder")
    report = commands.add_parser(
        "report", help="run the pre-specified analysis; write tables, figures, report.html"
    )
    report.add_argument("path", help="study folder, .xlsx workbook, REDCap or SDTM folder")
    report.add_argument("--out", required=True, help="folder to write the report into")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 fine, 1 data errors, 2 usage)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "report":
            return _report(args)
        return _summary(args)
    except OSError as exc:
        print(f"ketex: {exc}", file=sys.stderr)
        return 2


def open_trial(path: str | Path, on_error: str = "raise") -> Trial:
    """Load whatever ``path`` holds: a study folder or workbook, a folder with a REDCap
    export (``records.csv``, ``dictionary.csv``, ``mapping.toml``), or SDTM datasets
    (``dm.xpt`` or ``dm.csv`` and no ``participants`` table)."""
    path = Path(path)
    if path.is_dir():
        names = {p.name.lower() for p in path.iterdir()}
        if {"records.csv", "dictionary.csv", "mapping.toml"} <= names:
            return load_redcap(path / "records.csv", path / "dictionary.csv",
                               path / "mapping.toml", on_error=on_error)
        if names & {"dm.xpt", "dm.csv"} and not names & {"participants.csv",
                                                          "participants.parquet"}:
            return load_sdtm(path, on_error=on_error)
    return load_trial(path, on_error=on_error)


def _validate(args: argparse.Namespace) -> int:
    try:
        report = open_trial(args.path, on_error="drop").report
    except DataValidationError as exc:  # the protocol itself is invalid
        if exc.report is None:
            print(f"ketex: {exc}", file=sys.stderr)
            return 1
        report = exc.report
    if args.out:
        report.to_csv(args.out, index=False)
    if args.format == "csv":
        report.to_csv(sys.stdout, index=False)
    else:
        n_errors = int((report["severity"] == "error").sum())
        n_warnings = int((report["severity"] == "warning").sum())
        if len(report):
            print(format_report(report, limit=None))
        print(f"{args.path}: {n_errors} error(s), {n_warnings} warning(s)")
    return 1 if (report["severity"] == "error").any() else 0


def _summary(args: argparse.Namespace) -> int:
    try:
        trial = open_trial(args.path)
    except DataValidationError as exc:
        print(f"ketex: {exc}", file=sys.stderr)
        print(f"run `ketex validate {args.path}` for the full list", file=sys.stderr)
        return 1
    print(summarize(trial))
    return 0


def _report(args: argparse.Namespace) -> int:
    from ketex.report.cli import run_report

    try:
        trial = open_trial(args.path)
    except DataValidationError as exc:
        print(f"ketex: {exc}", file=sys.stderr)
        print(f"run `ketex validate {args.path}` for the full list", file=sys.stderr)
        return 1
    return run_report(trial, args.out, source=str(args.path))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
