"""The C-SSRS table: the worst category after baseline and the scoring guide's endpoints,
n (%) by arm (:func:`ketex.cssrs_outcomes`).

Also reachable as ``ketex.tables.cssrs_table``. C-SSRS ratings are not a trial table, so
the report does not make it: call it with the outcomes.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ketex.report._table import INDENT, ManuscriptTable
from ketex.scales.cssrs import CSSRS_CATEGORIES
from ketex.study.trial import Trial

__all__ = ["CSSRS_TABLE_COLUMNS", "cssrs_table"]

#: Columns of ``cssrs_table(...).data``.
CSSRS_TABLE_COLUMNS = ("row", "arm", "n", "denominator", "percent")

_ENDPOINTS = (
    ("suicidal_ideation", "Suicidal ideation (categories 1-5)"),
    ("suicidal_behaviour", "Suicidal behaviour (categories 6-10)"),
    ("ideation_or_behaviour", "Suicidal ideation or behaviour (1-10)"),
    ("emergent_ideation", "Treatment-emergent suicidal ideation"),
    ("emergent_serious_ideation", "Treatment-emergent serious suicidal ideation (4-5)"),
    ("new_serious_ideation", "Emergence of serious suicidal ideation (from 0)"),
    ("improved_ideation", "Improvement in suicidal ideation at endpoint"),
    ("emergent_behaviour", "Emergence of suicidal behaviour"),
    ("self_injury", "Self-injurious behaviour without suicidal intent"),
)


def cssrs_table(outcomes: pd.DataFrame, trial: Trial, *,
                group_labels: Mapping[str, str] | None = None) -> ManuscriptTable:
    """Participants by worst C-SSRS category after baseline, and the guide's endpoints.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        :func:`ketex.cssrs_outcomes` with ``arms=trial.arms``.
    trial : Trial
        For the arms, their order and labels, and N.
    group_labels : mapping, optional

    Returns
    -------
    ManuscriptTable
        ``data``: ``row, arm, n, denominator, percent``. The worst-category rows count
        the participants with a rating after baseline (the denominator); each endpoint
        counts over the participants for whom it is known (those with a baseline rating
        too, for the comparisons), as the scoring guide recommends.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketex.scales.cssrs import cssrs_outcomes
    >>> from ketex.study.protocol import Arm, Protocol, Visit
    >>> from ketex.study.validation import build_trial
    >>> protocol = Protocol(study_id="S", arms=(Arm("A"),), visits=(Visit("BL", 0, (-7, 0)),))
    >>> trial = build_trial(protocol, {
    ...     "participants": pd.DataFrame({"participant_id": ["P1", "P2"], "arm": "A"}),
    ...     "assessments": pd.DataFrame({"participant_id": ["P1"], "day": [0], "visit": ["BL"],
    ...                                  "instrument": ["MADRS"], "total": [30]})})
    >>> ratings = pd.DataFrame({"participant_id": ["P1", "P1", "P2", "P2"],
    ...                         "day": [0, 7, 0, 7], "wish_to_be_dead": [0, 1, 0, 0]})
    >>> table = cssrs_table(cssrs_outcomes(ratings, arms=trial.arms), trial)
    >>> table.data.query("row == 'Wish to be dead'")[["n", "denominator", "percent"]]
       n  denominator  percent
    1  1            2     50.0
    """
    from ketex.derive.analysis import arm_order

    order = arm_order(trial.protocol)
    labels = {a.code: a.label or a.code for a in trial.protocol.arms} | dict(
        group_labels or {})
    big_n = trial.participants["arm"].astype(str).value_counts()
    header = {a: f"{labels.get(a, a)} (N={int(big_n.get(a, 0))})" for a in order}
    outcomes = outcomes.assign(arm=outcomes["arm"].astype(str))
    rated = outcomes[outcomes["n_after"] > 0]
    rows, display = [], []
    worst = [(0, "No suicidal ideation or behaviour")] + [(n, label) for n, _, label in
                                                          CSSRS_CATEGORIES]
    display.append({"": "Worst category after baseline", **dict.fromkeys(header.values(), "")})
    for number, label in worst:
        cells = {}
        for arm in order:
            mine = rated[rated["arm"] == arm]
            n = int((mine["worst_category"] == number).fillna(False).sum())
            rows.append(_row(label, arm, n, len(mine)))
            cells[header[arm]] = _cell(n, len(mine))
        display.append({"": f"{INDENT}{number}  {label}", **cells})
    for column, label in _ENDPOINTS:
        cells = {}
        for arm in order:
            known = outcomes.loc[outcomes["arm"] == arm, column].dropna()
            n = int(known.astype(bool).sum())
            rows.append(_row(label, arm, n, len(known)))
            cells[header[arm]] = _cell(n, len(known))
        display.append({"": label, **cells})
    data = pd.DataFrame(rows, columns=list(CSSRS_TABLE_COLUMNS)).astype(
        {"row": "string", "arm": "string", "n": "int64", "denominator": "int64"})
    notes = (
        "C-SSRS categories as ordered by the Scoring and Data Analysis Guide (Nilsson et "
        "al. 2013): n (%) of the participants with a rating after baseline; endpoints over "
        "the participants for whom they are known (with a baseline rating, for the "
        "comparisons with baseline).",
    )
    return ManuscriptTable(data, pd.DataFrame(display, columns=["", *header.values()]),
                           "Safety table 6. Suicidal ideation and behaviour (C-SSRS)",
                           notes, "safety6_cssrs")


def _row(label, arm, n, denominator) -> dict:
    return {"row": label, "arm": arm, "n": n, "denominator": denominator,
            "percent": 100 * n / denominator if denominator else float("nan")}


def _cell(n: int, denominator: int) -> str:
    return f"{n}/{denominator} ({100 * n / denominator:.1f}%)" if denominator else "\u2013"
