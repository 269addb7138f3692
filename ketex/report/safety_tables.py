"""Safety tables: the TEAE overview, TEAEs by system organ class and preferred term, and
blood pressure above the dose-holding thresholds after infusions.

Participants are counted, not events: a participant with two headaches counts once under
headache (``n_events`` keeps the events). Percentages are over the arm's N, the number of
participants randomised to it (the participants table), whether or not they had an
event. Only treatment-emergent events count (:func:`ketex.treatment_emergent`). The
functions are also reachable as ``ketex.tables.teae_overview_table`` and so on.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ketex.derive.adverse_events import TreatmentEmergence, treatment_emergent
from ketex.derive.vitals import InfusionVitalsOptions, infusion_vitals
from ketex.report._table import INDENT, ManuscriptTable
from ketex.study.safety_rules import DISCONTINUING_ACTIONS
from ketex.study.trial import Trial

__all__ = ["adverse_event_table", "adverse_events", "infusion_vitals_table",
           "teae_overview_table"]

OVERVIEW_COLUMNS = ("category", "arm", "n_participants", "n_events", "N", "percent")
SOC_PT_COLUMNS = ("soc", "pt", "arm", "n_participants", "n_events", "percent", "N")
VITALS_COLUMNS = (
    "test", "threshold", "arm", "n_participants", "n_measured", "N", "percent",
    "n_infusions_above", "n_infusions_measured", "peak_change_mean", "peak_change_sd",
)  # fmt: skip
NOT_CODED_SOC = "(system organ class not coded)"

# category, the column it needs, the rule on the TEAE rows
_CATEGORIES = (
    ("Any TEAE", None, lambda e: pd.Series(True, index=e.index)),
    ("Serious TEAE", "serious", lambda e: e["serious"].fillna(False).astype(bool)),
    ("Severe TEAE", ("severity", "grade"), lambda e: _severe(e)),
    ("TEAE related to the drug", "related",
     lambda e: e["related"].isin(["drug", "both"]).fillna(False).astype(bool)),
    ("TEAE related to exercise", "related",
     lambda e: e["related"].isin(["exercise", "both"]).fillna(False).astype(bool)),
    ("TEAE leading to discontinuation", "action",
     lambda e: e["action"].isin(DISCONTINUING_ACTIONS).fillna(False).astype(bool)),
    ("TEAE with fatal outcome", "outcome",
     lambda e: (e["outcome"] == "fatal").fillna(False).astype(bool)),
)  # fmt: skip


def _severe(events: pd.DataFrame) -> pd.Series:
    severe = pd.Series(False, index=events.index)
    if "severity" in events.columns:
        severe |= (events["severity"] == "severe").fillna(False).astype(bool)
    if "grade" in events.columns:
        severe |= (events["grade"] >= 3).fillna(False).astype(bool)
    return severe


def _arms(trial: Trial, group_labels: Mapping[str, str] | None):
    from ketex.derive.analysis import arm_order

    order = arm_order(trial.protocol)  # the reference arm first
    labels = {a.code: a.label or a.code for a in trial.protocol.arms} | dict(group_labels or {})
    n = trial.participants["arm"].astype(str).value_counts()
    return order, labels, {arm: int(n.get(arm, 0)) for arm in order}


def _groups(trial: Trial, by: str, group_labels: Mapping[str, str] | None):
    """Order, labels, N and the arm -> group map of ``by``: the arm, or a factor's level."""
    if by == "arm":
        order, labels, big_n = _arms(trial, group_labels)
        return order, labels, big_n, None
    from ketex.derive.analysis import arm_order

    arms = {a.code: dict(a.factors) for a in trial.protocol.arms}
    factors = sorted({f for levels in arms.values() for f in levels})
    if not factors or any(by not in levels for levels in arms.values()):
        raise ValueError(
            f"by: {by!r} is not 'arm' or a factor every arm declares (study.toml [[arms]] "
            f"factors: {', '.join(factors) or 'none'}); use by='arm' or one of the factors")
    level = {code: str(levels[by]) for code, levels in arms.items()}
    order = list(dict.fromkeys(level[a] for a in arm_order(trial.protocol)))
    labels = {lv: lv for lv in order} | dict(group_labels or {})
    n = trial.participants["arm"].astype(str).map(level).value_counts()
    return order, labels, {lv: int(n.get(lv, 0)) for lv in order}, level


def _header(order, labels, big_n) -> dict[str, str]:
    return {arm: f"{labels.get(arm, arm)} (N={big_n[arm]})" for arm in order}


def _percent(n, total) -> float:
    return 100 * n / total if total else np.nan


def _cell(n, percent) -> str:
    if pd.isna(n):
        return "not recorded"
    return f"{int(n)} ({percent:.1f}%)" if not pd.isna(percent) else f"{int(n)}"


def _teaes(trial: Trial, rule: TreatmentEmergence | None) -> pd.DataFrame:
    events = treatment_emergent(trial, rule)
    events = events[events["treatment_emergent"].fillna(False).astype(bool)].copy()
    events["arm"] = events["arm"].astype(str)
    return events


def teae_overview_table(
    trial: Trial,
    *,
    rule: TreatmentEmergence | None = None,
    group_labels: Mapping[str, str] | None = None,
) -> ManuscriptTable:
    """Participants with any TEAE, serious, severe, related, leading to discontinuation.

    Parameters
    ----------
    trial : Trial
    rule : TreatmentEmergence, optional
        How an event is judged treatment-emergent (default ``TreatmentEmergence()``).
    group_labels : mapping, optional
        Arm code to the label printed.

    Returns
    -------
    ManuscriptTable
        ``data``: ``category, arm, n_participants, n_events, N, percent``, one row per
        category and arm (every arm, zeros included); ``percent`` = 100 x
        ``n_participants`` / ``N``, ``N`` the participants of the arm. A category whose
        column the adverse events table lacks (say ``serious``) has missing counts and
        prints "not recorded".

    Notes
    -----
    Severe: ``severity`` "severe" or CTCAE ``grade`` 3 or more. Related: ``related`` is
    ``drug`` (or ``exercise``) or ``both``. Leading to discontinuation: ``action`` one of
    :data:`ketex.study.safety_rules.DISCONTINUING_ACTIONS`.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.study.protocol import Arm, Protocol, Visit
    >>> from ketex.study.validation import build_trial
    >>> protocol = Protocol(study_id="AE", arms=(Arm("A"), Arm("B")),
    ...                     visits=(Visit("BL", 0, (-7, 0)),))
    >>> trial = build_trial(protocol, {
    ...     "participants": pd.DataFrame({"participant_id": ["P1", "P2", "P3"],
    ...                                   "arm": ["A", "A", "B"]}),
    ...     "assessments": pd.DataFrame({"participant_id": ["P1"], "day": [0], "visit": ["BL"],
    ...                                  "instrument": ["MADRS"], "total": [30]}),
    ...     "infusions": pd.DataFrame({"participant_id": ["P1", "P2", "P3"], "day": 1,
    ...                                "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg"}),
    ...     "adverse_events": pd.DataFrame({"participant_id": ["P1", "P1"],
    ...                                     "term": ["nausea", "fainted"], "start_day": [1, 2],
    ...                                     "serious": [False, True]})})
    >>> t = teae_overview_table(trial)
    >>> t.display.iloc[:2]
                        A (N=2)    B (N=1)
    0      Any TEAE  1 (50.0%)   0 (0.0%)
    1  Serious TEAE  1 (50.0%)   0 (0.0%)
    """
    order, labels, big_n = _arms(trial, group_labels)
    events = _teaes(trial, rule)
    rows = []
    for category, needs, rule_of in _CATEGORIES:
        needed = (needs,) if isinstance(needs, str) else needs or ()
        recorded = not needed or any(c in events.columns for c in needed)
        hit = events[rule_of(events)] if recorded and len(events) else events.iloc[:0]
        for arm in order:
            mine = hit[hit["arm"] == arm]
            n = mine["participant_id"].nunique() if recorded else pd.NA
            rows.append({"category": category, "arm": arm, "n_participants": n,
                         "n_events": len(mine) if recorded else pd.NA, "N": big_n[arm],
                         "percent": _percent(n, big_n[arm]) if recorded else np.nan})
    data = pd.DataFrame(rows, columns=list(OVERVIEW_COLUMNS)).astype(
        {"category": "string", "arm": "string", "n_participants": "Int64",
         "n_events": "Int64", "N": "Int64", "percent": "float64"})
    header = _header(order, labels, big_n)
    display = pd.DataFrame([
        {"": category, **{header[r["arm"]]: _cell(r["n_participants"], r["percent"])
                          for _, r in block.iterrows()}}
        for category, block in data.groupby("category", sort=False)])
    notes = (
        "Participants with at least one treatment-emergent adverse event (TEAE), n (%); "
        "N = participants randomised to the arm.",
        "Severe: severity severe or CTCAE grade 3 or more. Discontinuation: drug withdrawn, "
        "exercise stopped or withdrawn from the study.",
    )
    return ManuscriptTable(data, display, "Safety table 1. Treatment-emergent adverse "
                           "events by arm", notes, "safety1_teae_overview")


def adverse_event_table(
    trial: Trial,
    *,
    by: str = "arm",
    min_percent: float | None = None,
    rule: TreatmentEmergence | None = None,
    group_labels: Mapping[str, str] | None = None,
) -> ManuscriptTable:
    """TEAEs by MedDRA system organ class and preferred term, by arm.

    Parameters
    ----------
    trial : Trial
    by : str
        ``"arm"`` (default), or a factor every arm declares (``[[arms]] factors`` in
        ``study.toml``, e.g. ``"drug"``): the columns are then the factor's levels, each
        pooling the arms at that level (``N`` their participants), and the ``arm``
        column of ``data`` holds the level.
    min_percent : float, optional
        Keep only the preferred terms reported by at least this percentage of an arm's
        participants in at least one arm (the "most common adverse events" table, e.g.
        5). None (default): every term.
    rule : TreatmentEmergence, optional
    group_labels : mapping, optional

    Returns
    -------
    ManuscriptTable
        ``data``: ``soc, pt, arm, n_participants, n_events, percent, N``. Rows with a
        missing ``pt`` are the system organ class (participants with any TEAE in it),
        the others its preferred terms; every arm has a row for every term, 0 when it
        has no such event. Classes, and terms within a class, are sorted by the number of
        participants over all arms (most first), then by name.

    Notes
    -----
    ketex does not code: an event without ``pt`` is listed under its verbatim ``term``,
    one without ``soc`` under "(system organ class not coded)", listed last. With
    ``min_percent`` the class rows still count every term of the class.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.study.protocol import Arm, Protocol, Visit
    >>> from ketex.study.validation import build_trial
    >>> protocol = Protocol(study_id="AE", arms=(Arm("A"), Arm("B")),
    ...                     visits=(Visit("BL", 0, (-7, 0)),))
    >>> trial = build_trial(protocol, {
    ...     "participants": pd.DataFrame({"participant_id": ["P1", "P2"], "arm": ["A", "B"]}),
    ...     "assessments": pd.DataFrame({"participant_id": ["P1"], "day": [0], "visit": ["BL"],
    ...                                  "instrument": ["MADRS"], "total": [30]}),
    ...     "infusions": pd.DataFrame({"participant_id": ["P1", "P2"], "day": 1,
    ...                                "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg"}),
    ...     "adverse_events": pd.DataFrame({
    ...         "participant_id": ["P1", "P1", "P2"], "term": ["queasy", "nausea", "dizzy"],
    ...         "pt": ["Nausea", "Nausea", "Dizziness"], "start_day": [1, 3, 1],
    ...         "soc": ["Gastrointestinal disorders", "Gastrointestinal disorders",
    ...                 "Nervous system disorders"]})})
    >>> t = adverse_event_table(trial)
    >>> t.data.query("pt == 'Nausea'")[["arm", "n_participants", "n_events", "percent"]]
      arm  n_participants  n_events  percent
    2   A               1         2    100.0
    3   B               0         0      0.0
    """
    if min_percent is not None and not 0 <= min_percent <= 100:
        raise ValueError(f"min_percent must be between 0 and 100, got {min_percent!r}")
    order, labels, big_n, level = _groups(trial, by, group_labels)
    events = _teaes(trial, rule)
    if level is not None:
        events["arm"] = events["arm"].map(level)
    if len(events):
        soc = events["soc"] if "soc" in events.columns else pd.Series(pd.NA, index=events.index)
        pt = events["pt"] if "pt" in events.columns else pd.Series(pd.NA, index=events.index)
        events = events.assign(soc=soc.fillna(NOT_CODED_SOC).astype(str),
                               pt=pt.fillna(events["term"]).astype(str))
    rows = []
    for soc_name, pts in _ordered(events):
        in_soc = events[events["soc"] == soc_name]
        rows += _count_rows(in_soc, soc_name, None, order, big_n)
        for pt_name in pts:
            block = _count_rows(in_soc[in_soc["pt"] == pt_name], soc_name, pt_name, order,
                                big_n)
            if min_percent is None or any(r["percent"] >= min_percent for r in block):
                rows += block
    data = pd.DataFrame(rows, columns=list(SOC_PT_COLUMNS)).astype(
        {"soc": "string", "pt": "string", "arm": "string", "n_participants": "Int64",
         "n_events": "Int64", "percent": "float64", "N": "Int64"})
    if min_percent is not None:  # a class whose terms were all filtered out goes too
        kept = set(data.loc[data["pt"].notna(), "soc"])
        data = data[data["soc"].isin(kept)].reset_index(drop=True)
    header = _header(order, labels, big_n)
    display_rows = []
    for (soc_name, pt_name), block in data.groupby(["soc", "pt"], sort=False, dropna=False):
        label = soc_name if pd.isna(pt_name) else INDENT + pt_name
        display_rows.append({"System organ class / preferred term": label,
                             **{header[r["arm"]]: _cell(r["n_participants"], r["percent"])
                                for _, r in block.iterrows()}})
    columns = ["System organ class / preferred term", *header.values()]
    display = pd.DataFrame(display_rows, columns=columns)
    notes = [
        "Participants with at least one treatment-emergent adverse event, n (%); a "
        "participant is counted once per term and once per class. N = participants "
        "randomised to the arm. MedDRA terms as coded in the data.",
    ]
    if min_percent is not None:
        notes.append(f"Preferred terms reported by at least {min_percent:g}% of the "
                     "participants of at least one arm; class rows count every term.")
    if not len(data):
        notes.append("No treatment-emergent adverse events.")
    return ManuscriptTable(data, display, "Safety table 2. Treatment-emergent adverse events "
                           "by system organ class and preferred term", tuple(notes),
                           "safety2_teae_soc_pt")  # fmt: skip


def _ordered(events: pd.DataFrame) -> list[tuple[str, list[str]]]:
    if not len(events):
        return []

    def by_count(frame, column):
        n = frame.groupby(column)["participant_id"].nunique()
        return sorted(n.index, key=lambda name: (name == NOT_CODED_SOC, -n[name], name))

    return [(soc, by_count(events[events["soc"] == soc], "pt"))
            for soc in by_count(events, "soc")]


def _count_rows(events, soc, pt, order, big_n) -> list[dict]:
    rows = []
    for arm in order:
        mine = events[events["arm"] == arm]
        n = mine["participant_id"].nunique()
        rows.append({"soc": soc, "pt": pd.NA if pt is None else pt, "arm": arm,
                     "n_participants": n, "n_events": len(mine),
                     "percent": _percent(n, big_n[arm]), "N": big_n[arm]})
    return rows


def infusion_vitals_table(
    trial: Trial,
    *,
    options: InfusionVitalsOptions | None = None,
    group_labels: Mapping[str, str] | None = None,
) -> ManuscriptTable:
    """Participants and infusions with blood pressure above the thresholds, by arm.

    Parameters
    ----------
    trial : Trial
    options : InfusionVitalsOptions, optional
        The thresholds (default SBP > 180 mmHg, DBP > 110 mmHg).
    group_labels : mapping, optional

    Returns
    -------
    ManuscriptTable
        ``data``: ``test, threshold, arm, n_participants, n_measured, N, percent,
        n_infusions_above, n_infusions_measured, peak_change_mean, peak_change_sd``,
        one row per thresholded test and arm. ``n_participants``: participants with a
        value above the threshold after the start of at least one infusion;
        ``percent`` over ``N``, the arm's participants; ``n_measured``: participants
        with any value after the start of an infusion. ``n_infusions_above`` of
        ``n_infusions_measured`` infusions; the peak rise from the pre-infusion value
        (mean and SD over infusions with a baseline). The printed table leaves out a
        test measured after no infusion at all.

    Notes
    -----
    Built on :func:`ketex.infusion_vitals` and its rules (``docs/safety.md``).

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.study.protocol import Arm, Protocol, Visit
    >>> from ketex.study.validation import build_trial
    >>> protocol = Protocol(study_id="VS", arms=(Arm("A"),), visits=(Visit("BL", 0, (-7, 0)),))
    >>> trial = build_trial(protocol, {
    ...     "participants": pd.DataFrame({"participant_id": ["P1", "P2"], "arm": "A"}),
    ...     "assessments": pd.DataFrame({"participant_id": ["P1"], "day": [0], "visit": ["BL"],
    ...                                  "instrument": ["MADRS"], "total": [30]}),
    ...     "infusions": pd.DataFrame({"participant_id": ["P1", "P2"], "day": 1,
    ...                                "drug": "ketamine", "dose": 0.5, "dose_unit": "mg/kg"}),
    ...     "vitals": pd.DataFrame({"participant_id": ["P1", "P1", "P2", "P2"], "day": 1,
    ...                             "time_min": [-5, 40, -5, 40], "test": "SBP",
    ...                             "unit": "mmHg", "value": [130, 185, 120, 150]})})
    >>> t = infusion_vitals_table(trial)
    >>> t.display
                                                  A (N=2)
    0             SBP > 180 mmHg after an infusion  1 (50.0%)
    1                     Infusions with SBP > 180  1/2 (50.0%)
    2  Peak SBP rise from pre-infusion, mean (SD)  42.5 (17.7)
    """
    options = options if options is not None else InfusionVitalsOptions()
    order, labels, big_n = _arms(trial, group_labels)
    per_infusion = infusion_vitals(trial, options=options)
    per_infusion = per_infusion.assign(arm=per_infusion["arm"].astype(str))
    measured = per_infusion[per_infusion["n_after"].fillna(0) > 0]
    rows = []
    for test, threshold in options.thresholds.items():
        of_test = measured[measured["test"] == test]
        for arm in order:
            mine = of_test[of_test["arm"] == arm]
            above = mine[mine["above_threshold"].fillna(False).astype(bool)]
            rise = mine["peak_change"].dropna()
            n = above["participant_id"].nunique()
            rows.append({"test": test, "threshold": float(threshold), "arm": arm,
                         "n_participants": n, "n_measured": mine["participant_id"].nunique(),
                         "N": big_n[arm], "percent": _percent(n, big_n[arm]),
                         "n_infusions_above": len(above), "n_infusions_measured": len(mine),
                         "peak_change_mean": rise.mean() if len(rise) else np.nan,
                         "peak_change_sd": rise.std(ddof=1) if len(rise) > 1 else np.nan})
    data = pd.DataFrame(rows, columns=list(VITALS_COLUMNS)).astype(
        {"test": "string", "arm": "string", "n_participants": "Int64", "n_measured": "Int64",
         "N": "Int64", "n_infusions_above": "Int64", "n_infusions_measured": "Int64"})
    header = _header(order, labels, big_n)
    display_rows = []
    for test, block in data.groupby("test", sort=False):
        block = block.set_index("arm")
        if not block["n_measured"].sum():
            continue  # not measured in this trial: no rows of zeros
        limit = f"{test} > {block['threshold'].iloc[0]:g}"
        unit = _unit(measured, test)
        display_rows += [
            {"": f"{limit}{unit} after an infusion",
             **{header[a]: _cell(block.loc[a, "n_participants"], block.loc[a, "percent"])
                if block.loc[a, "n_measured"] else "not measured" for a in order}},
            {"": f"Infusions with {limit}",
             **{header[a]: _fraction(block.loc[a, "n_infusions_above"],
                                     block.loc[a, "n_infusions_measured"]) for a in order}},
            {"": f"Peak {test} rise from pre-infusion, mean (SD)",
             **{header[a]: _mean_sd(block.loc[a, "peak_change_mean"],
                                    block.loc[a, "peak_change_sd"]) for a in order}},
        ]
    display = pd.DataFrame(display_rows, columns=["", *header.values()])
    notes = (
        "Participants with a value above the threshold after the start of at least one "
        "infusion, n (%); N = participants randomised to the arm. Infusions: n above / "
        "infusions with a measurement after the start.",
        "Peak rise: highest value after the start minus the last value at or before the "
        "start, over infusions with both. A test not measured after any infusion has "
        "no rows.",
    )
    return ManuscriptTable(data, display, "Safety table 3. Blood pressure after infusions "
                           "by arm", notes, "safety3_infusion_vitals")


def _unit(measured: pd.DataFrame, test: str) -> str:
    units = measured.loc[measured["test"] == test, "unit"].dropna().unique()
    return f" {units[0]}" if len(units) == 1 else ""


def _fraction(n, total) -> str:
    return f"{int(n)}/{int(total)} ({100 * n / total:.1f}%)" if total else "\u2013"


def _mean_sd(mean, sd) -> str:
    if pd.isna(mean):
        return "\u2013"
    return f"{mean:.1f} ({sd:.1f})" if not pd.isna(sd) else f"{mean:.1f}"


def adverse_events(trial: Trial, by: str = "arm", min_percent: float | None = None,
                   **options) -> ManuscriptTable:
    """TEAEs by system organ class and preferred term: :func:`adverse_event_table`.

    The spelling of issue #14 (``ketex.tables.adverse_events(trial, by="arm",
    min_percent=None)``); ``options`` are ``rule`` and ``group_labels``.

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path(study="factorial"))
    >>> table = adverse_events(trial, by="drug", min_percent=20)
    >>> table.data.query("pt == 'Dissociation'")[["arm", "n_participants", "N"]]
             arm  n_participants   N
    8  midazolam              12  80
    9   ketamine              73  80
    """
    return adverse_event_table(trial, by=by, min_percent=min_percent, **options)
