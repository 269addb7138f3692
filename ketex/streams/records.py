"""How long each record of a stream holds, and which records count.

One rule shared by :func:`ketex.training_load`, the checks :func:`ketex.load_trial` runs on
a ``streams/`` folder and :func:`ketex.stream_adherence`: record i holds its values for
``dt_i = elapsed_i - elapsed_(i-1)`` seconds (the first record only marks the start); an
interval longer than ``max_gap_s`` is a gap (missing); a heart rate missing or <= 0 is a
dropout and one above ``hr_max + spike_margin_bpm`` a spike, neither counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RecordClasses", "classify_records"]

#: Defaults shared by every user of the rule.
MAX_GAP_S = 5.0
SPIKE_MARGIN_BPM = 20.0


@dataclass(frozen=True)
class RecordClasses:
    """Per record (arrays of one session's length, in time order).

    ``dt``: seconds the record holds; ``gap``: its interval is a gap; ``held``: it holds
    for a positive time and is no gap; ``dropout``, ``spike``: held with a heart rate
    missing/<= 0 or above the spike limit; ``valid``: held with a usable heart rate.
    """

    dt: np.ndarray
    gap: np.ndarray
    held: np.ndarray
    dropout: np.ndarray
    spike: np.ndarray
    valid: np.ndarray


def classify_records(elapsed_s: np.ndarray, heart_rate_bpm: np.ndarray, hr_max: float, *,
                     max_gap_s: float = MAX_GAP_S,
                     spike_margin_bpm: float = SPIKE_MARGIN_BPM) -> RecordClasses:  # fmt: skip
    """Classify the records of one session sorted by time (see the module docstring).

    ``hr_max`` may be NaN: nothing is then a spike.

    Examples
    --------
    >>> import numpy as np
    >>> c = classify_records(np.array([0., 1, 2, 10, 11]), np.array([120., 0, 250, 130, 131]),
    ...                      190)
    >>> c.dt.tolist(), c.valid.tolist()
    ([0.0, 1.0, 1.0, 8.0, 1.0], [False, False, False, False, True])
    >>> c.dropout.tolist(), c.spike.tolist(), c.gap.tolist()
    ([False, True, False, False, False], [False, False, True, False, False], [False, False, False, True, False])
    """  # noqa: E501
    t = np.asarray(elapsed_s, dtype=float)
    hr = np.asarray(heart_rate_bpm, dtype=float)
    dt = np.diff(t, prepend=t[0]) if t.size else t
    gap = dt > max_gap_s
    held = ~gap & (dt > 0)
    dropout = held & ~(hr > 0)  # NaN or <= 0
    spike = held & (hr > hr_max + spike_margin_bpm)
    valid = held & ~dropout & ~spike
    return RecordClasses(dt=dt, gap=gap, held=held, dropout=dropout, spike=spike, valid=valid)
