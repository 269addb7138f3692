"""Benchmark the figure files of ``ketex report`` on the bundled sample (issue #17, row 3).

``write_report`` with the default options (PDF, SVG and 600-dpi PNG of every figure, and
the PNG embedded in ``report.html``) on ``ketex/data/sample``, in a fresh process per run,
``before`` with a layout per file (every format, and the embedded image, laid out by its
own ``savefig``, as ``save_figure`` did until one layout per figure) and ``after`` with
``save_figure`` as it is (two layout passes at the PNG's dpi, then the layout frozen for
every file and the embedded image). Both write at zlib level 1. It records the seconds
of the whole report, its CPU seconds, the seconds inside ``save_figure`` and the bytes
of the figure files. ``before`` and ``after`` runs alternate; medians of ``--runs``.

Whole reports on a shared machine vary by more than the difference, so the figures are
also timed on their own: the 8 figures of one report are kept and written again (the
three files and the embedded image), ``before`` and ``after`` alternating ``--reps``
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


def per_format_save(fig, path, *, width=None, height_mm=None, formats=("pdf", "svg", "png"),
                    dpi=600, freeze_layout=False):
    """``save_figure`` before one layout per figure: every format laid out by its own
    ``savefig`` (``freeze_layout`` ignored, so the embedded image is laid out again)."""
    import matplotlib as mpl

    from ketex.report import style

    if width is not None:
        w_in, h_in = fig.get_size_inches()
        w = style._width_mm(width) / style.MM_PER_INCH
        h = height_mm / style.MM_PER_INCH if height_mm is not None else h_in * w / w_in
        fig.set_size_inches(w, h)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    with style.publication_style(), mpl.rc_context({"pdf.compression": style.PDF_COMPRESSION}):
        for fmt in formats:
            target = path.with_suffix(f".{fmt}")
            if fmt == "png":
                fig.savefig(target, format=fmt, dpi=dpi,
                            pil_kwargs={"compress_level": style.PNG_COMPRESS_LEVEL})
            else:
                fig.savefig(target, format=fmt, metadata={"Creator": "ketex"})
            written.append(target)
    return written


def child(mode: str) -> dict:
    """One report of the sample in this process; its timings."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import ketex
    import ketex.report.run as run

    saving = []
    original = per_format_save if mode == "before" else run.save_figure

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
    """The figures of one report, written again per mode (files and embedded image)."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import ketex
    import ketex.report.run as run
    from ketex.report import style
    from ketex.report.html import embed_png

    figures = []
    original = run.save_figure

    def keep(fig, path, **kwargs):
        figures.append((fig, Path(path).name, fig.get_layout_engine()))
        return original(fig, path, **kwargs)

    run.save_figure = keep
    trial = ketex.load_trial(ketex.sample_study_path())
    cpu = {mode: 0.0 for mode in MODES}
    wall = {mode: 0.0 for mode in MODES}
    save = {"before": per_format_save, "after": original}
    with tempfile.TemporaryDirectory() as out, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ketex.write_report(trial, Path(out) / "report")
        run.save_figure = original
        load = os.getloadavg()[0]
        for _ in range(reps):
            for mode in MODES:
                start, clock = time.perf_counter(), time.process_time()
                for fig, name, engine in figures:
                    fig.set_layout_engine(engine)  # as the report's code left it
                    with style.publication_style():
                        save[mode](fig, Path(out) / mode / name, freeze_layout=True)
                        embed_png(fig, 160)
                cpu[mode] += time.process_time() - clock
                wall[mode] += time.perf_counter() - start
    return {"figures": len(figures), "reps": reps, "load_before": load,
            "load_after": os.getloadavg()[0],
            "cpu_seconds": {m: v / reps for m, v in cpu.items()},
            "wall_seconds": {m: v / reps for m, v in wall.items()}}


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
    for mode, label in (("before", "a layout per file"),
                        ("after", "one layout per figure")):
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
            f"The {iso['figures']} figures written again on their own (PDF, SVG, 600-dpi PNG "
            f"and the embedded 160-dpi PNG), seconds per report (mean of {iso['reps']} "
            f"alternating repetitions in one process; load "
            f"{iso['load_before']:.1f} before, {iso['load_after']:.1f} after):",
            "",
            "| figure files | CPU (s) | wall (s) |",
            "|---|---:|---:|",
        ]
        for mode in MODES:
            lines.append(f"| {mode} | {iso['cpu_seconds'][mode]:.2f} | "
                         f"{iso['wall_seconds'][mode]:.2f} |")
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
