"""The report's training-load table: what the device recordings of exercise sessions say,
by arm, beside what the sessions' summary rows say (:func:`ketex.stream_dose`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from ketex.report._table import ManuscriptTable
from ketex.report.applicability import Skipped, not_analysed
from ketex.study.trial import Trial

__all__ = ["STREAM_LOAD_DATA_COLUMNS", "stream_load_part", "stream_load_table"]

#: The columns of :attr:`ManuscriptTable.data` of :func:`stream_load_table`.
STREAM_LOAD_DATA_COLUMNS = ("measure", "label", "arm", "n", "estimate", "sd", "of")
_PART = "Training load from device recordings (table)"


def stream_load_table(
    trial: Trial, *, group_labels: Mapping[str, str] | None = None, digits: int = 1
) -> ManuscriptTable:
    """Sessions recorded, training load and minutes in the prescribed zone, by arm.

    Parameters
    ----------
    trial : Trial
        With an exercise table and device streams (``trial.streams``).
    group_labels : mapping, optional
        Column headings of the arms (default: the protocol's labels).
    digits : int

    Returns
    -------
    ManuscriptTable
        ``data`` (:data:`STREAM_LOAD_DATA_COLUMNS`), one row per measure and arm:
        ``participants`` (``n`` with a recording, ``of`` randomised), ``sessions``
        (recorded, ``of`` attended while on the programme), ``minutes`` (recorded
        minutes per session: ``estimate`` mean, ``sd``), ``trimp_banister``,
        ``trimp_edwards`` and ``work_kj`` per recorded session (mean, SD),
        ``zone_stream`` (share of the recorded, monitored minutes inside the prescribed
        zone, second by second) and ``zone_summary`` (the same sessions' share by their
        summary mean heart rate: a whole session in or out), and ``zone_difference``
        (stream - summary, percentage points). Shares are fractions in ``estimate``.

    Raises
    ------
    ketex.KetexError
        The trial has no device streams.

    Notes
    -----
    Only sessions that count towards the dose (on the programme) are summarised; the
    numbers are :func:`ketex.stream_dose`'s (``by="session"``), whose rules are in
    ``docs/exercise-dose.md``.

    Examples
    --------
    >>> import ketex
    >>> t = stream_load_table(ketex.load_trial(ketex.sample_study_path()))
    >>> print(t.display.iloc[:2].to_string(index=False))
                                          Single ketamine infusion + exercise Six ketamine infusions over two weeks + exercise
    Participants with recordings, n/N (%)                         4/40 (10.0)                                      4/40 (10.0)
        Sessions recorded, n/attended (%)                       38/1013 (3.8)                                    45/1070 (4.2)
    """  # noqa: E501
    from ketex.derive.analysis import arm_order
    from ketex.streams.dose import stream_dose

    sessions = stream_dose(trial, "session")
    sessions = sessions[sessions["counted"]]
    arms = arm_order(trial.protocol)
    labels = {a.code: a.label or a.code for a in trial.protocol.arms} | dict(group_labels or {})
    randomised = trial.participants["arm"].astype(str).value_counts()
    rows = []
    for arm in arms:
        mine = sessions[sessions["arm"] == arm]
        rec = mine[mine["source"] == "stream"]
        people = rec["participant_id"].nunique()
        rows.append(_row("participants", arm, people, people / randomised.get(arm, np.nan),
                         of=randomised.get(arm, 0)))  # fmt: skip
        rows.append(_row("sessions", arm, len(rec), len(rec) / max(len(mine), 1), of=len(mine)))
        for measure, column in (("minutes", "duration_min_stream"),
                                ("trimp_banister", "trimp_banister"),
                                ("trimp_edwards", "trimp_edwards"), ("work_kj", "work_kj")):
            values = rec[column].dropna()
            rows.append(_row(measure, arm, len(values),
                             values.mean() if len(values) else np.nan,
                             values.std(ddof=1) if len(values) > 1 else np.nan))  # fmt: skip
        monitored = rec["minutes_monitored"].sum()
        known = rec["minutes_in_zone_summary"].notna()
        stream_share = rec["minutes_in_zone"].sum() / monitored if monitored > 0 else np.nan
        summary_min = rec.loc[known, "duration_min_summary"].sum()
        summary_share = (rec.loc[known, "minutes_in_zone_summary"].sum() / summary_min
                         if summary_min > 0 else np.nan)  # fmt: skip
        rows.append(_row("zone_stream", arm, len(rec), stream_share))
        rows.append(_row("zone_summary", arm, int(known.sum()), summary_share))
        rows.append(_row("zone_difference", arm, len(rec), stream_share - summary_share))
    data = pd.DataFrame(rows, columns=list(STREAM_LOAD_DATA_COLUMNS))
    data["label"] = data["measure"].map(_LABELS)
    if data.loc[data["measure"] == "work_kj", "n"].sum() == 0:
        data = data[data["measure"] != "work_kj"]
    display = _display(data, arms, labels, digits)
    notes = (
        "Sessions on the programme with a device recording (streams/ of the study folder). "
        "TRIMP: Banister (sex-specific weighting of heart-rate reserve, second by second) "
        "and Edwards (minutes in 50-100 % HRmax zones x 1-5), per recorded session, mean "
        "(SD).",
        "Minutes in zone: the arm's prescribed Karvonen zone; from recordings, each second "
        "placed (gaps, dropouts and spikes not monitored); by mean heart rate, each "
        "session's summary avg_hr places all its minutes in or out of the zone, as the "
        "adherence table does. Difference in percentage points.",
    )
    return ManuscriptTable(data.reset_index(drop=True), display, "Table 6. Training load "
                           "from device recordings by arm", notes, "table6_stream_load")


_LABELS = {
    "participants": "Participants with recordings, n/N (%)",
    "sessions": "Sessions recorded, n/attended (%)",
    "minutes": "Minutes recorded per session, mean (SD)",
    "trimp_banister": "Banister TRIMP per session, mean (SD)",
    "trimp_edwards": "Edwards TRIMP per session, mean (SD)",
    "work_kj": "Work per session, kJ, mean (SD)",
    "zone_stream": "Minutes in prescribed zone, % (second by second)",
    "zone_summary": "Same sessions by mean heart rate, %",
    "zone_difference": "Difference, percentage points",
}


def _row(measure: str, arm: str, n: int, estimate: float, sd: float = np.nan,
         of: float = np.nan) -> dict[str, object]:  # fmt: skip
    return {"measure": measure, "label": "", "arm": arm, "n": int(n),
            "estimate": float(estimate), "sd": float(sd), "of": float(of)}  # fmt: skip


def _display(data: pd.DataFrame, arms: list[str], labels: Mapping[str, str],
             digits: int) -> pd.DataFrame:  # fmt: skip
    def cell(r: pd.Series) -> str:
        if r["measure"] in ("participants", "sessions"):
            return f"{r['n']}/{r['of']:.0f} ({100 * r['estimate']:.{digits}f})"
        if not np.isfinite(r["estimate"]):
            return "-"
        if r["measure"].startswith("zone_"):
            return f"{100 * r['estimate']:.{digits}f}"
        sd = f"{r['sd']:.{digits}f}" if np.isfinite(r["sd"]) else "-"
        return f"{r['estimate']:.{digits}f} ({sd})"

    out = {"": list(dict.fromkeys(data["label"]))}
    for arm in arms:
        mine = data[data["arm"] == arm]
        out[labels.get(arm, arm)] = [cell(r) for _, r in mine.iterrows()]
    return pd.DataFrame(out)


def stream_load_part(trial: Trial, keep: Callable[[ManuscriptTable], ManuscriptTable],
                     group_labels: Mapping[str, str] | None = None) -> list[Skipped]:
    """The report's training-load table when the trial has device streams.

    Calls ``keep`` with :func:`stream_load_table`; returns what was not analysed: the
    table, with the reason, when the trial has exercise sessions but no streams, or when
    the table cannot be made. A trial without exercise returns nothing (the adherence
    part says so).

    Examples
    --------
    >>> import ketex
    >>> kept = []
    >>> stream_load_part(ketex.load_trial(ketex.sample_study_path()), kept.append)
    []
    >>> kept[0].name
    'table6_stream_load'
    >>> stream_load_part(ketex.load_trial(ketex.sample_study_path(study="factorial")), print)
    [Skipped(part='Training load from device recordings (table)', reason='the study folder has no streams/ folder of device recordings')]
    """  # noqa: E501
    if len(trial.exercise) == 0:
        return []
    if trial.streams is None or len(trial.streams) == 0:
        return [Skipped(_PART, "the study folder has no streams/ folder of device recordings")]
    skipped: list[Skipped] = []
    with not_analysed(skipped, _PART):
        keep(stream_load_table(trial, group_labels=group_labels))
    return skipped
