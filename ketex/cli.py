"""The ``ketex`` command: a thin layer over the public API.

Commands
--------
``ketex validate PATH [--format text|csv] [--out FILE]``
    Read a study folder, workbook, REDCap export folder or SDTM folder, print every
    problem; exit 1 on errors.
``ketex summary PATH``
    Participants by arm, assessments, infusions, exercise sessions, attendance.
``ketex report PATH --out DIR [--plan PLAN.toml] [--subgroups NAME ...] ...``
    The protocol's pre-specified analysis (or that of a plan file's ``[analysis]``):
    every table and figure, and ``report.html``; ``ketex report --help`` lists the
    options (plan file, subgroups, file formats, PNG resolution, Table 1 p-values,
    missing binary outcomes).
``ketex simulate DESIGN.toml --out FOLDER [--seed N] [--n-per-arm N] [--force]``
    Simulate a trial from the ``[design]`` section of a TOML file and write it as a
    study folder (plus ``design.toml`` and the latent truth, ``truth.csv``).
``ketex power DESIGN.toml --n-per-arm 30 40 50 [--n-sims 1000] [--out summary.csv] ...``
    Simulation-based power (and type I error, bias, coverage) of the primary MMRM or of
    time to relapse; ``ketex power --help`` lists the options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ketex.errors import DataValidationError
from ketex.io.escape import csv_safe
from ketex.io.folder import load_trial
from ketex.io.redcap import load_redcap
from ketex.io.sdtm import load_sdtm
from ketex.study.problems import format_report
from ketex.study.protocol import ProtocolError
from ketex.study.summary import summarize
from ketex.study.trial import Trial

__all__ = ["main", "open_trial"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ketex", description="Analyse ketamine + exercise trials for depression."
    )
    from ketex import __version__

    parser.add_argument("--version", action="version", version=f"ketex {__version__}",
                        help="print the version of ketex and exit")
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser(
        "validate", help="check a study folder or workbook and list every problem"
    )
    validate.add_argument("path", help="study folder, .xlsx workbook, REDCap or SDTM folder")
    validate.add_argument("--format", choices=("text", "csv"), default="text")
    validate.add_argument("--out", help="write the problem table to this CSV file too")
    summary = commands.add_parser("summary", help="participants, visits, infusions, exercise")
    summary.add_argument("path", help="study folder, .xlsx workbook, REDCap or SDTM folder")
    _report_parser(commands)
    _simulate_parser(commands)
    _power_parser(commands)
    return parser


def _report_parser(commands) -> None:
    report = commands.add_parser(
        "report", help="run the pre-specified analysis; write tables, figures, report.html"
    )
    report.add_argument("path", help="study folder, .xlsx workbook, REDCap or SDTM folder")
    report.add_argument("--out", required=True, help="folder to write the report into")
    report.add_argument("--subgroups", nargs="*", metavar="NAME",
                        help="subgroups of the forest plot, overriding [analysis.subgroups] "
                        "of study.toml: participants columns and 'baseline' (numeric ones "
                        "split at the plan's cut points, else at the median); default: the "
                        "plan's columns, else sex age baseline site; none: no forest plot")
    report.add_argument("--plan", metavar="PATH",
                        help="analysis plan file: a TOML file with an [analysis] table "
                        "(primary, derivation, secondary, subgroups) used for this run in "
                        "place of study.toml's [analysis]; checked as study.toml is")
    report.add_argument("--table-formats", nargs="+", metavar="FORMAT",
                        help="table files to write, among csv md tex html docx (default: all)")
    report.add_argument("--figure-formats", nargs="+", metavar="FORMAT",
                        help="figure files to write, among pdf svg png (default: all)")
    report.add_argument("--png-dpi", type=int, help="resolution of the PNG files "
                        "(default 600)")
    report.add_argument("--table-one-pvalues", action="store_true",
                        help="add p-values to Table 1 (off by default: CONSORT item 15)")
    report.add_argument("--endpoint-missing", choices=("exclude", "failure"),
                        help="missing binary outcomes: observed cases (exclude, default) or "
                        "counted as not met (failure)")


def _report_options(args: argparse.Namespace):
    """The ReportOptions the command line asks for (defaults where it says nothing)."""
    from ketex.report.run import ReportOptions

    given = {"subgroups": args.subgroups, "table_formats": args.table_formats,
             "figure_formats": args.figure_formats, "png_dpi": args.png_dpi,
             "endpoint_missing": args.endpoint_missing}  # fmt: skip
    chosen: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                              for k, v in given.items() if v is not None}
    if args.table_one_pvalues:
        chosen["table_one_pvalues"] = True
    return ReportOptions(**chosen)


def _simulate_parser(commands) -> None:
    simulate = commands.add_parser(
        "simulate", help="simulate a trial from a design and write it as a study folder")
    simulate.add_argument("design", help="TOML file with a [design] section")
    simulate.add_argument("--out", required=True, help="study folder to write")
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.add_argument("--n-per-arm", type=int, help="participants per arm (default: "
                          "the design's)")
    simulate.add_argument("--force", action="store_true", help="write into --out even when "
                          "it is a folder that holds files (they are replaced or kept)")


def _power_parser(commands) -> None:
    power = commands.add_parser(
        "power", help="simulation-based power of the primary MMRM or of time to relapse")
    power.add_argument("design", help="TOML file with a [design] section; state the effect "
                       "to detect with [[design.added_effects]]")
    power.add_argument("--n-per-arm", type=int, nargs="+", required=True,
                       help="sample sizes, participants per arm")
    power.add_argument("--n-sims", type=int, default=1000,
                       help="simulated trials per size (default 1000)")
    power.add_argument("--analysis", choices=("mmrm", "relapse"), default="mmrm",
                       help="mmrm: difference in MADRS change at the primary visit "
                       "(default); relapse: log-rank test of time to relapse (SUSTAIN-1)")
    power.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    power.add_argument("--alpha", type=float, default=0.05, help="two-sided level (0.05)")
    power.add_argument("--no-null", action="store_true",
                       help="skip the null design (no type I error)")
    power.add_argument("--backend", choices=("processes", "serial", "dask"),
                       default="processes")
    power.add_argument("--jobs", type=int, help="worker processes (default: all CPUs)")
    power.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 "
                       "(implies --backend dask)")
    power.add_argument("--simulations", help="CSV of every simulation; resumes from it "
                       "when it exists")
    power.add_argument("--out", help="write the summary table to this CSV file")
    power.add_argument("--figure", help="save the power curve (PNG, PDF or SVG)")
    power.add_argument("--quiet", action="store_true", help="no progress bar")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 fine, 1 data errors, 2 usage)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "report":
            return _report(args)
        if args.command == "simulate":
            return _simulate(args)
        if args.command == "power":
            return _power(args)
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
        csv_safe(report).to_csv(args.out, index=False)
    if args.format == "csv":
        csv_safe(report).to_csv(sys.stdout, index=False)
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


def _one_line(exc: BaseException) -> str:
    """An error as one line: its problems joined, or its first line."""
    problems = getattr(exc, "problems", None)
    if problems:
        return "; ".join(str(p) for p in problems)
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _report(args: argparse.Namespace) -> int:
    """Exit 1 only for errors of the input (data, protocol, plan), each one line; a part
    of the report that cannot be analysed is listed in its "Not analysed" section."""
    from ketex.report.cli import run_report

    try:
        options = _report_options(args)
    except ValueError as exc:
        print(f"ketex: {exc}", file=sys.stderr)
        return 2
    try:
        trial = open_trial(args.path)
    except (DataValidationError, ProtocolError) as exc:
        errors = getattr(exc, "errors", None)
        if errors is not None and len(errors):
            first = " ".join(str(errors["message"].iloc[0]).split())
            what = (f"{len(errors)} error(s) in {args.path}, so no report was written; the "
                    f"first: {first}")
        else:
            what = _one_line(exc)
        print(f"ketex: {what}. Run `ketex validate {args.path}` for the full list.",
              file=sys.stderr)
        return 1
    if args.plan is not None:
        from ketex.study.plan_file import with_analysis_plan

        try:
            trial = with_analysis_plan(trial, args.plan)
        except ProtocolError as exc:
            print(f"ketex: {_one_line(exc)}", file=sys.stderr)
            return 1
    try:
        return run_report(trial, args.out, source=str(args.path), options=options)
    except (DataValidationError, ProtocolError) as exc:  # the plan does not fit the data
        what = _one_line(exc)
        if args.plan is not None:  # every [analysis] key came from the plan file
            what = what.replace("study.toml: analysis", f"{args.plan}: analysis")
        print(f"ketex: {what}", file=sys.stderr)
        return 1
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - never a traceback on the console
        print(f"ketex: the report could not be written: {type(exc).__name__}: "
              f"{_one_line(exc)} (an error inside ketex; please report it)", file=sys.stderr)
        return 1
def _read_design(path: str):
    from ketex.simulate import TrialDesign

    return TrialDesign.read(path)


def _simulate(args: argparse.Namespace) -> int:
    import dataclasses

    from ketex.io.folder import write_trial
    from ketex.simulate import simulate_trial

    out = Path(args.out)
    if out.exists() and not args.force and (not out.is_dir() or any(out.iterdir())):
        what = "a folder that holds files" if out.is_dir() else "a file"
        print(f"ketex: {out} is {what}; choose an empty or new folder for --out, or add "
              "--force to write into it", file=sys.stderr)
        return 2
    try:
        design = _read_design(args.design)
        if args.n_per_arm is not None:
            design = dataclasses.replace(design, n_per_arm=args.n_per_arm)
        trial = simulate_trial(design, seed=args.seed)
    except ValueError as exc:
        print(f"ketex: {exc}", file=sys.stderr)
        return 2
    folder = write_trial(trial, args.out, format="csv")
    design.write(folder / "design.toml")
    if trial.truth is not None:  # always set by simulate_trial
        csv_safe(trial.truth).to_csv(folder / "truth.csv", index=False, lineterminator="\n")
    print(f"{folder}: {trial!r}")
    return 0


def _power(args: argparse.Namespace) -> int:
    from ketex.simulate.analyses import MMRMAnalysis, RelapseAnalysis
    from ketex.simulate.power import power

    analysis = MMRMAnalysis() if args.analysis == "mmrm" else RelapseAnalysis()
    try:
        design = _read_design(args.design)
        result = power(
            design, args.n_per_arm, args.n_sims, analysis, seed=args.seed,
            null=not args.no_null, alpha=args.alpha,
            backend="dask" if args.scheduler else args.backend,
            n_jobs=args.jobs, client=args.scheduler, results_file=args.simulations,
            progress=not args.quiet,
        )
    except ValueError as exc:
        print(f"ketex: {exc}", file=sys.stderr)
        return 2
    columns = ["scenario", "n_per_arm", "n_sims", "n_failed", "rejection_rate",
               "rejection_ci_low", "rejection_ci_high", "true_effect", "bias", "coverage"]
    print(f"{result.analysis}\nrejection_rate: power (design), type I error (null); "
          f"alpha = {result.alpha}")
    print(result.summary[columns].to_string(index=False, float_format="{:.3f}".format))
    if args.out:
        csv_safe(result.summary).to_csv(args.out, index=False)
    if args.figure:
        import matplotlib

        matplotlib.use("Agg")
        ax = result.plot()
        # the plot's axes are on a Figure (matplotlib types ax.figure as Figure | SubFigure)
        ax.figure.savefig(args.figure, dpi=150, bbox_inches="tight")  # type: ignore[union-attr]
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
