"""Benchmark device streams: a whole trial's per-second recordings read and summarised.

Issue #16's size: 80 participants x 12 weeks x 3 sessions at 1 Hz, about 8 million stream
rows. The bundled sample's 80 participants get a full schedule (36 sessions each, days
1, 3, 5 of every week) of 2,777-second sessions (45 prescribed minutes plus warm-up):
2,880 sessions x 2,778 records = 8,000,640 rows, one Parquet file per session in the
study folder's ``streams/`` with its ``manifest.csv``. Heart rate: a 3-minute warm-up
ramp to the participant's target (inside the arm's zone for most, above or below for a
few), then noise; a few short strap dropouts; power and cadence for the ergometer.

Each stage runs in a fresh process (``--stage``); wall time, CPU time (user + system; the
machine is shared, so wall time is noisy) and the process's peak resident memory are
measured:

1. ``load_trial``: the tables plus every recording checked once (manifest, participant,
   exercise day, clock, gaps, dropouts, spikes), one summary row per session kept;
2. ``training_load`` for every session, one participant's recordings in memory at a time
   (``trial.streams.read(participant_id)``), concatenated into one table;
3. ``stream_adherence(by="participant")``;
4. for comparison, ``trial.streams.read()``: every row in memory at once.

Usage (from the repository root)::

    python benchmarks/bench_streams.py               # write the folder, run the stages
    python benchmarks/bench_streams.py --write-docs  # and update docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from _machine import machine  # benchmarks/ is the script's folder, first on sys.path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "benchmarks" / "results_streams.json"
SESSION_S = 2777
DAYS = [1 + 7 * week + d for week in range(12) for d in (0, 2, 4)]
STAGES = ("load_trial", "training_load", "stream_adherence", "read_all")


def write_study(folder: Path, seed: int = 16) -> dict:
    """The sample study with a full exercise schedule and one Parquet file per session."""
    import ketex

    rng = np.random.default_rng(seed)
    shutil.copytree(ketex.sample_study_path(), folder, ignore=shutil.ignore_patterns("streams"))
    people = pd.read_csv(folder / "participants.csv")
    hr_max = 208 - 0.7 * people["age"].to_numpy()
    hr_max = np.where(people["beta_blocker"].astype(bool), 164 - 0.7 * people["age"], hr_max)
    rest = people["resting_hr"].to_numpy()
    rows, manifest = [], []
    streams = folder / "streams"
    streams.mkdir()
    t = np.arange(SESSION_S + 1, dtype=float)
    n_rows = 0
    start = time.perf_counter()
    for k, pid in enumerate(people["participant_id"]):
        share = rng.choice([0.5, 0.5, 0.5, 0.3, 0.7])  # of heart-rate reserve
        target = rest[k] + share * (hr_max[k] - rest[k])
        randomised = pd.Timestamp(people["randomization_date"].iloc[k], tz="UTC")
        for day in DAYS:
            ramp = np.minimum(t / 180.0, 1.0)
            hr = rest[k] + (target + rng.normal(0, 3) - rest[k]) * ramp + rng.normal(0, 2, t.size)
            if rng.random() < 0.1:  # a short strap dropout
                at = rng.integers(200, SESSION_S - 30)
                hr[at:at + rng.integers(3, 20)] = 0
            power = np.clip(60 + 1.2 * (hr - rest[k]) + rng.normal(0, 8, t.size), 0, None)
            stamp = randomised + pd.Timedelta(days=day, hours=10)
            table = pa.table({
                "timestamp": pa.array(stamp + pd.to_timedelta(t, unit="s")),
                "heart_rate_bpm": np.round(hr), "power_w": np.round(power),
                "cadence_rpm": np.round(80 + rng.normal(0, 3, t.size)),
            })  # fmt: skip
            name = f"{pid}/day{day:03d}.parquet"
            (streams / pid).mkdir(exist_ok=True)
            pq.write_table(table, streams / name)
            n_rows += t.size
            manifest.append({"file": name, "participant_id": pid, "day": day})
            rows.append({"participant_id": pid, "day": day,
                         "duration_min": round(SESSION_S / 60, 2), "modality": "cycling",
                         "completed": True, "avg_hr": round(float(np.mean(hr[hr > 0]))),
                         "rpe": 13.0})  # fmt: skip
    pd.DataFrame(manifest).to_csv(streams / "manifest.csv", index=False)
    pd.DataFrame(rows).to_csv(folder / "exercise.csv", index=False)
    size = sum(p.stat().st_size for p in streams.rglob("*.parquet"))
    return {"sessions": len(manifest), "rows": n_rows, "parquet_mib": size / 2**20,
            "write_s": time.perf_counter() - start}  # fmt: skip


def run_stage(stage: str, folder: Path) -> dict:
    """One stage, in this process; returns its figures."""
    import ketex

    start = time.perf_counter()
    cpu_before = 0.0  # the process's CPU time from its start (imports included) ...
    out: dict = {"stage": stage}
    if stage == "load_trial":
        trial = ketex.load_trial(folder)
        out["sessions"] = len(trial.streams)
        out["warnings"] = int((trial.report["table"] == "streams").sum())
    else:
        trial = ketex.load_trial(folder)
        start = time.perf_counter()  # the load is stage 1's figure
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu_before = usage.ru_utime + usage.ru_stime  # ... or from after the load
        if stage == "training_load":
            zones = ketex.derive.heart_rate.heart_rate_zones(trial).set_index("participant_id")
            people = trial.participants.set_index("participant_id")
            parts = []
            for pid in trial.streams.sessions["participant_id"].unique():
                stream = trial.streams.read(pid)  # one participant's 36 sessions at a time
                parts.append(ketex.training_load(
                    stream, hr_rest=people.at[pid, "resting_hr"],
                    hr_max=zones.at[pid, "max_hr_bpm"], sex=people.at[pid, "sex"]))
            loads = pd.concat(parts, ignore_index=True)
            out["sessions"] = len(loads)
            out["mean_trimp_banister"] = float(loads["trimp_banister"].mean())
        elif stage == "stream_adherence":
            adherence = ketex.stream_adherence(trial, by="participant")
            out["participants"] = len(adherence)
            out["median_fidelity"] = float(adherence["intensity_fidelity"].median())
        elif stage == "read_all":
            whole = trial.streams.read()
            out["rows"] = len(whole)
    out["seconds"] = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_seconds"] = usage.ru_utime + usage.ru_stime - cpu_before
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def markdown(setup: dict, stages: list[dict]) -> str:
    lines = [
        f"Machine: {machine()}; pandas {pd.__version__}, pyarrow {pa.__version__}.",
        "",
        f"{setup['sessions']:,} sessions, {setup['rows']:,} stream rows, "
        f"{setup['parquet_mib']:.0f} MiB of Parquet (written in {setup['write_s']:.0f} s).",
        "",
        "| stage | wall seconds | CPU seconds | peak memory (MiB) | result |",
        "|---|---:|---:|---:|---|",
    ]
    what = {
        "load_trial": "`load_trial`: tables + every recording checked, summaries kept",
        "training_load": "`training_load` of every session, one participant at a time",
        "stream_adherence": "`stream_adherence(by=\"participant\")`",
        "read_all": "`trial.streams.read()`: every row in memory (for comparison)",
    }
    for s in stages:
        result = ", ".join(f"{k} {v:,.3g}" if isinstance(v, float) else f"{k} {v:,}"
                           for k, v in s.items()
                           if k not in ("stage", "seconds", "cpu_seconds", "peak_mib"))
        lines.append(f"| {what[s['stage']]} | {s['seconds']:.1f} | {s['cpu_seconds']:.1f} | "
                     f"{s['peak_mib']:.0f} | {result} |")
    return "\n".join(lines)


def write_docs(text: str) -> None:
    doc = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    block = f"<!-- streams:start -->\n{text}\n<!-- streams:end -->"
    if "<!-- streams:start -->" in doc:
        doc = re.sub(r"<!-- streams:start -->.*<!-- streams:end -->", lambda _: block, doc,
                     flags=re.S)
    else:
        doc += "\n" + block + "\n"
    DOC.write_text(doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help="an existing benchmark study folder")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(run_stage(args.stage, args.folder)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp) / "study"
        setup = (json.loads((folder / "setup.json").read_text()) if args.folder
                 else write_study(folder))  # fmt: skip
        (folder / "setup.json").write_text(json.dumps(setup))
        print(setup, flush=True)
        stages = []
        for stage in STAGES:
            done = subprocess.run([sys.executable, __file__, "--stage", stage, "--folder",
                                   str(folder)], capture_output=True, text=True, check=True,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
            stages.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(stages[-1], flush=True)
    RESULTS.write_text(json.dumps({"machine": machine(), "setup": setup, "stages": stages},
                                  indent=2) + "\n")  # fmt: skip
    text = markdown(setup, stages)
    print(text)
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
