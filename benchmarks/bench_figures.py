"""Benchmark the figure files of ``ketex report`` on the bundled sample (issue #17, row 3).

``write_report`` with the default options (PDF, SVG and 600-dpi PNG of every figure, and
the PNG embedded in ``report.html``) on ``ketex/data/sample``, in a fresh process per run,
``before`` with the figure files at matplotlib's default zlib level 6 and ``after`` at
level 1 (``ketex.report.style.PNG_COMPRESS_LEVEL`` and ``PDF_COMPRESSION``: the same
pixels and drawing operations, ``tests/report/test_figure_files.py``). It records the
seconds of the whole report, its CPU seconds, the seconds inside ``save_figure`` and the
bytes of the figure files. ``before`` and ``after`` runs alternate; medians of ``--runs``.

Whole reports on a shared machine vary by more than the difference, so the figures are
also timed on their own: the 8 figures of one report are kept and written again by
``save_figure``, one format at a time, ``before`` and ``after`` alternating ``--reps``
times in one process, in CPU seconds (less disturbed by other work than wall time).
Results go to ``benchmarks/results_figures.json``.

Usage (from the repository root)::

    python benchmarks/bench_figures.py [--runs 3] [--reps 3] [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine  # benchmarks/ is the script's folder, first on sys.path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's ketex, in the parent as in the children
RESULTS = ROOT / "benchmarks" / "results_figures.json"
DOC = ROOT / "docs" / "benchmarks.md"
MODES = ("before", "after")


def child(mode: str) -> dict:
    """One report of the sample in this process; its timings."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import ketex
    import ketex.report.run as run
    from ketex.report import style

    if mode == "before":
        style.PNG_COMPRESS_LEVEL, style.PDF_COMPRESSION = 6, 6
    saving = []
    original = run.save_figure

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            saving.append(time.perf_counter() - start)

    run.save_figure = timed
    trial = ketex.load_trial(ketex.sample_study_path())
    with tempfile.TemporaryDirectory() as out, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load = os.getloadavg()[0]
        start, cpu = time.perf_counter(), time.process_time()
        ketex.write_report(trial, out)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        sizes = {}
        for path in (Path(out) / "figures").iterdir():
            sizes[path.suffix[1:]] = sizes.get(path.suffix[1:], 0) + path.stat().st_size
    return {"mode": mode, "seconds": seconds, "cpu_seconds": cpu, "figures": len(saving),
            "save_figure_seconds": sum(saving), "bytes": sizes, "load_before": load,
            "load_after": os.getloadavg()[0]}


def isolated(reps: int) -> dict:
    """The figures of one report, written again per format and mode, in this process."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import ketex
    import ketex.report.run as run
    from ketex.report import style

    figures = []
    original = run.save_figure

    def keep(fig, path, **kwargs):
        figures.append((fig, Path(path).name, kwargs))
        return original(fig, path, **kwargs)

    run.save_figure = keep
    trial = ketex.load_trial(ketex.sample_study_path())
    cpu: dict = {mode: {fmt: 0.0 for fmt in style.FIGURE_FORMATS} for mode in MODES}
    wall: dict = {mode: {fmt: 0.0 for fmt in style.FIGURE_FORMATS} for mode in MODES}
    with tempfile.TemporaryDirectory() as out, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ketex.write_report(trial, Path(out) / "report")
        run.save_figure = original
        load = os.getloadavg()[0]
        for _ in range(reps):
            for mode in MODES:
                level = 6 if mode == "before" else 1
                style.PNG_COMPRESS_LEVEL, style.PDF_COMPRESSION = level, level
                for fmt in style.FIGURE_FORMATS:
                    start, clock = time.perf_counter(), time.process_time()
                    for fig, name, kwargs in figures:
                        original(fig, Path(out) / mode / name, **{**kwargs, "formats": [fmt]})
                    cpu[mode][fmt] += time.process_time() - clock
                    wall[mode][fmt] += time.perf_counter() - start
    return {"figures": len(figures), "reps": reps, "load_before": load,
            "load_after": os.getloadavg()[0],
            "cpu_seconds": {m: {f: v / reps for f, v in d.items()} for m, d in cpu.items()},
            "wall_seconds": {m: {f: v / reps for f, v in d.items()} for m, d in wall.items()}}


def to_markdown(results: dict) -> str:
    rows = {row["mode"]: row for row in results["summary"]}
    loads = [r["load_before"] for r in results["runs"]] + [r["load_after"]
                                                           for r in results["runs"]]
    lines = [
        f"Machine: {results['machine']}; load average (1 min) {min(loads):.1f} to "
        f"{max(loads):.1f} during the runs; medians of {results['n_runs']} runs each.",
        "",
        "| figure files | report wall (s) | report CPU (s) | `save_figure` (s, 8 figures x 3 "
        "formats) | PNG MiB | PDF MiB | SVG MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, label in (("before", "zlib level 6 (matplotlib's default)"),
                        ("after", "zlib level 1")):
        r = rows[mode]
        size = {k: v / 2**20 for k, v in r["bytes"].items()}
        lines.append(f"| {mode}: {label} | {r['median_seconds']:.1f} | "
                     f"{r['median_cpu_seconds']:.1f} | {r['median_save_figure_seconds']:.1f} | "
                     f"{size.get('png', 0):.2f} | {size.get('pdf', 0):.2f} | "
                     f"{size.get('svg', 0):.2f} |")
    iso = results.get("isolated")
    if iso:
        lines += [
            "",
            f"The {iso['figures']} figures written again on their own, CPU seconds per "
            f"report (mean of {iso['reps']} alternating repetitions in one process; load "
            f"{iso['load_before']:.1f} before, {iso['load_after']:.1f} after):",
            "",
            "| figure files | PDF | SVG | PNG (600 dpi) | all three |",
            "|---|---:|---:|---:|---:|",
        ]
        for mode in MODES:
            c = iso["cpu_seconds"][mode]
            lines.append(f"| {mode} | {c['pdf']:.2f} | {c['svg']:.2f} | {c['png']:.2f} | "
                         f"{sum(c.values()):.2f} |")
    return "\n".join(lines)


def write_docs(markdown: str) -> None:
    text = DOC.read_text()
    block = f"<!-- figures:start -->\n{markdown}\n<!-- figures:end -->"
    if "<!-- figures:start -->" in text:
        text = re.sub(r"<!-- figures:start -->.*<!-- figures:end -->", lambda _: block, text,
                      flags=re.S)
    else:
        text += "\n" + block + "\n"
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite the docs block from the results file")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    if args.render:
        write_docs(to_markdown(json.loads(RESULTS.read_text())))
        return
    runs = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for i in range(args.runs):
        for mode in MODES:
            done = subprocess.run([sys.executable, __file__, "--child", mode], env=env,
                                  capture_output=True, text=True, check=True, cwd=ROOT)
            run = json.loads(done.stdout.splitlines()[-1])
            runs.append(run)
            print(f"{mode:<6} run {i + 1}: {run['seconds']:5.1f} s ({run['cpu_seconds']:5.1f}"
                  f" s CPU), save_figure {run['save_figure_seconds']:5.1f} s, load "
                  f"{run['load_before']:.1f}", flush=True)
    summary = []
    for mode in MODES:
        mine = [r for r in runs if r["mode"] == mode]
        summary.append({
            "mode": mode,
            "median_seconds": statistics.median(r["seconds"] for r in mine),
            "median_cpu_seconds": statistics.median(r["cpu_seconds"] for r in mine),
            "median_save_figure_seconds": statistics.median(r["save_figure_seconds"]
                                                            for r in mine),
            "bytes": mine[0]["bytes"],
        })
    results = {"machine": machine(), "n_runs": args.runs, "runs": runs, "summary": summary}
    if args.reps > 0:
        results["isolated"] = iso = isolated(args.reps)
        print(f"isolated: {iso['cpu_seconds']}", flush=True)
    markdown = to_markdown(results)
    print(markdown)
    RESULTS.write_text(json.dumps(results, indent=1))
    if args.write_docs:
        write_docs(markdown)


if __name__ == "__main__":
    main()
