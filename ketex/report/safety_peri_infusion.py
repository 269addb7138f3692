"""The peri-infusion ratings table: peak CADSS and BPRS positive after each infusion, by
infusion number and arm (:func:`ketex.derive.peri_infusion.peri_infusion_summary`).

Also reachable as ``ketex.tables.peri_infusion_table``; the report adds it to its safety
section when the trial has ratings timed from an infusion (``assessments.time_min``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ketex.derive.peri_infusion import TIMED_SCALES, peri_infusion_summary
from ketex.report._table import INDENT, ManuscriptTable
from ketex.study.trial import Trial

__all__ = ["peri_infusion_table"]

_NAMES = {"CADSS": "CADSS total (dissociation)",
          "BPRS-POSITIVE": "BPRS positive symptoms"}


def peri_infusion_table(
    trial: Trial,
    *,
    instruments: Sequence[str] = TIMED_SCALES,
    group_labels: Mapping[str, str] | None = None,
) -> ManuscriptTable:
    """Peak ratings after the infusions, mean (SD) by instrument, infusion number and arm.

    Parameters
    ----------
    trial : Trial
    instruments : sequence of str
        Default CADSS and BPRS-POSITIVE.
    group_labels : mapping, optional
        Arm code to the label printed.

    Returns
    -------
    ManuscriptTable
        ``data``: :func:`ketex.derive.peri_infusion.peri_infusion_summary`. Printed:
        for each instrument, one row per infusion number with the peak's mean (SD) and
        the number of participants rated, per arm.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.study.protocol import Arm, Protocol, Visit
    >>> from ketex.study.validation import build_trial
    >>> protocol = Protocol(study_id="D", arms=(Arm("A"),),
    ...                     visits=(Visit("BL", 0, (-7, 0)), Visit("INF1", 1, (1, 1))))
    >>> trial = build_trial(protocol, {
    ...     "participants": pd.DataFrame({"participant_id": ["P1", "P2"], "arm": "A"}),
    ...     "assessments": pd.DataFrame({
    ...         "participant_id": ["P1", "P1", "P2", "P2"], "day": 1, "visit": "INF1",
    ...         "instrument": "CADSS", "time_min": [-10, 40, -10, 40],
    ...         "total": [2, 25, 0, 15]}),
    ...     "infusions": pd.DataFrame({"participant_id": ["P1", "P2"], "day": 1,
    ...                                "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg"})})
    >>> table = peri_infusion_table(trial)
    >>> table.display.iloc[1].tolist()
    ['    Infusion 1', '20.0 (7.1), n=2']
    >>> table.data[["instrument", "infusion_number", "peak_mean", "peak_change_mean"]]
      instrument  infusion_number  peak_mean  peak_change_mean
    0      CADSS                1       20.0              19.0
    """
    from ketex.derive.analysis import arm_order

    data = peri_infusion_summary(trial, instruments)
    order = arm_order(trial.protocol)
    labels = {a.code: a.label or a.code for a in trial.protocol.arms} | dict(
        group_labels or {})
    big_n = trial.participants["arm"].astype(str).value_counts()
    header = {arm: f"{labels.get(arm, arm)} (N={int(big_n.get(arm, 0))})" for arm in order}
    rows = []
    for instrument, block in data.groupby("instrument", sort=False):
        rows.append({"": f"{_NAMES.get(instrument, instrument)}, peak after the infusion",
                     **dict.fromkeys(header.values(), "")})
        for number, at in block.groupby("infusion_number", sort=True):
            cells = at.set_index("arm")
            rows.append({"": f"{INDENT}Infusion {number}",
                         **{header[a]: _cell(cells.loc[a]) for a in order if a in cells.index}})
    display = pd.DataFrame(rows, columns=["", *header.values()])
    notes = [
        "Highest rating after the start of the infusion (minutes from the start in "
        "assessments.time_min), mean (SD) over the participants rated at that infusion "
        "(n); the rise from the last rating at or before the start is in the data.",
    ]
    if not len(data):
        notes.append("No ratings timed from an infusion.")
    return ManuscriptTable(data, display, "Safety table 5. Dissociation and positive "
                           "symptoms after infusions", tuple(notes),
                           "safety5_peri_infusion")


def _cell(row: pd.Series) -> str:
    n = int(row["n_participants"])
    if not n:
        return "\u2013"
    if pd.isna(row["peak_sd"]):
        return f"{row['peak_mean']:.1f}, n={n}"
    return f"{row['peak_mean']:.1f} ({row['peak_sd']:.1f}), n={n}"
