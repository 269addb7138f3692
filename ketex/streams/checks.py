"""Problems in one recorded stream: clock jumps, gaps, heart-rate dropouts and spikes.

Each problem is a dict with the columns of the validation report (``line`` is the 0-based
``record_index`` of the record where it starts). Nothing is changed or dropped here: the
load and adherence functions leave gaps, dropouts and spikes out by the one rule of
:mod:`ketex.streams.records`, and these rows say where that happened.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketex.streams.records import MAX_GAP_S, SPIKE_MARGIN_BPM, classify_records

__all__ = ["stream_problems"]


def stream_problems(
    stream: pd.DataFrame,
    *,
    file: str,
    hr_max: float,
    participant_id: str | None = None,
    max_gap_s: float = MAX_GAP_S,
    spike_margin_bpm: float = SPIKE_MARGIN_BPM,
) -> list[dict[str, object]]:
    """The problems of one recording, as :func:`ketex.read_stream` returned it.

    - ``clock_jump`` (error): a record whose time is not after the previous one's;
    - ``stream_gap`` (warning): more than ``max_gap_s`` seconds between two records;
    - ``hr_dropout`` (warning): a run of records with heart rate 0 or missing, in a
      stream that has heart rate;
    - ``hr_spike`` (warning): a run of records above ``hr_max + spike_margin_bpm``
      (not checked when ``hr_max`` is NaN).

    Examples
    --------
    >>> import pandas as pd
    >>> stream = pd.DataFrame({"elapsed_s": [0., 1, 2, 3, 12, 11],
    ...                        "heart_rate_bpm": [120., 0, 0, 250, 130, 131]})
    >>> for p in stream_problems(stream, file="a.csv", hr_max=190):
    ...     print(p["severity"], p["rule"], p["line"], p["value"])
    error clock_jump 5 11.0
    warning stream_gap 4 9.0
    warning hr_dropout 1 2.0
    warning hr_spike 3 250.0
    """  # noqa: E501
    t = stream["elapsed_s"].to_numpy(dtype=float)
    hr = stream["heart_rate_bpm"].to_numpy(dtype=float)
    base = {"table": "streams", "source_file": file, "participant_id": participant_id}
    found: list[dict[str, object]] = []
    for i in np.flatnonzero(np.diff(t) <= 0) + 1:
        found.append({**base, "line": int(i), "column": "elapsed_s", "value": float(t[i]),
                      "rule": "clock_jump", "severity": "error",
                      "message": f"{file} record {i}: time {t[i]:g} s is not after the "
                                 f"previous record's {t[i - 1]:g} s (the device clock jumped "
                                 "back or repeated); fix or split the file"})  # fmt: skip
    c = classify_records(t, hr, hr_max, max_gap_s=max_gap_s,
                         spike_margin_bpm=spike_margin_bpm)  # fmt: skip
    for i in np.flatnonzero(c.gap):
        found.append({**base, "line": int(i), "column": "elapsed_s", "value": float(c.dt[i]),
                      "rule": "stream_gap", "severity": "warning",
                      "message": f"{file} records {i - 1}-{i}: no record for {c.dt[i]:g} s "
                                 f"(more than {max_gap_s:g} s); counted as missing, not as "
                                 "exercise"})  # fmt: skip
    if np.isfinite(hr).any():
        for start, stop in _runs(c.dropout):
            seconds = float(c.dt[start:stop].sum())
            found.append({**base, "line": start, "column": "heart_rate_bpm",
                          "value": seconds, "rule": "hr_dropout", "severity": "warning",
                          "message": f"{file} records {start}-{stop - 1}: heart rate 0 or "
                                     f"missing for {seconds:g} s (strap contact lost?); left "
                                     "out of heart-rate loads and zones"})  # fmt: skip
    for start, stop in _runs(c.spike):
        peak = float(np.max(hr[start:stop]))
        found.append({**base, "line": start, "column": "heart_rate_bpm", "value": peak,
                      "rule": "hr_spike", "severity": "warning",
                      "message": f"{file} records {start}-{stop - 1}: heart rate up to "
                                 f"{peak:g} bpm, above HRmax {hr_max:g} + "
                                 f"{spike_margin_bpm:g}; left out of heart-rate loads and "
                                 "zones"})  # fmt: skip
    return found


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
