"""The Columbia Suicide Severity Rating Scale (C-SSRS) as a categorical outcome.

The C-SSRS is not summed: each rating answers yes or no to five types of suicidal
ideation and five of suicidal behaviour (and non-suicidal self-injurious behaviour). The
C-SSRS Scoring and Data Analysis Guide [1]_ re-orders them into ten categories, 1-5
ideation (least to most severe) and 6-10 behaviour, which the FDA adopted [3]_:

===  =========================================  ===========================================
 #   column                                     category
===  =========================================  ===========================================
 1   ``wish_to_be_dead``                        Wish to be dead
 2   ``nonspecific_active_thoughts``            Non-specific active suicidal thoughts
 3   ``active_ideation_method``                 Active ideation with any methods (not plan)
                                                without intent to act
 4   ``active_ideation_intent``                 Active ideation with some intent to act,
                                                without specific plan
 5   ``active_ideation_plan_intent``            Active ideation with specific plan and intent
 6   ``preparatory_behaviour``                  Preparatory acts or behaviour
 7   ``aborted_attempt``                        Aborted or self-interrupted attempt
 8   ``interrupted_attempt``                    Interrupted attempt
 9   ``actual_attempt``                         Actual attempt (non-fatal)
10   ``completed_suicide``                      Completed suicide
===  =========================================  ===========================================

``non_suicidal_self_injury`` (self-injurious behaviour without suicidal intent) is
recorded beside them and is not a category of the ordinal scale.

:func:`cssrs_scores` gives each rating its suicidal ideation score (the highest
ideation category endorsed, 0 for none) and its worst category (0-10);
:func:`cssrs_outcomes` gives each participant the worst category after baseline and the
guide's composite and treatment-emergence endpoints.

References
----------
.. [1] Nilsson ME, Suryawanshi S, Gassmann-Mayer C, Dubrava S, McSorley P, Jiang K.
   Columbia-Suicide Severity Rating Scale Scoring and Data Analysis Guide, version 2.0.
   2013.
.. [2] Posner K, Brown GK, Stanley B, et al. The Columbia-Suicide Severity Rating Scale:
   initial validity and internal consistency findings from three multisite studies with
   adolescents and adults. Am J Psychiatry 2011;168:1266-1277.
.. [3] US FDA. Guidance for Industry. Suicidal Ideation and Behavior: Prospective
   Assessment of Occurrence in Clinical Trials. Draft guidance, revision 1, August 2012.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ketex.errors import KetexError

__all__ = [
    "CSSRS_CATEGORIES",
    "CSSRS_OUTCOME_COLUMNS",
    "SELF_INJURY",
    "cssrs_outcomes",
    "cssrs_scores",
]

#: The ten categories in the guide's order: (number, column, label).
CSSRS_CATEGORIES = (
    (1, "wish_to_be_dead", "Wish to be dead"),
    (2, "nonspecific_active_thoughts", "Non-specific active suicidal thoughts"),
    (3, "active_ideation_method", "Active suicidal ideation with any methods (not plan) "
                                  "without intent to act"),
    (4, "active_ideation_intent", "Active suicidal ideation with some intent to act, "
                                  "without specific plan"),
    (5, "active_ideation_plan_intent", "Active suicidal ideation with specific plan and "
                                       "intent"),
    (6, "preparatory_behaviour", "Preparatory acts or behaviour"),
    (7, "aborted_attempt", "Aborted or self-interrupted attempt"),
    (8, "interrupted_attempt", "Interrupted attempt"),
    (9, "actual_attempt", "Actual attempt (non-fatal)"),
    (10, "completed_suicide", "Completed suicide"),
)
#: Self-injurious behaviour without suicidal intent: recorded, not a category.
SELF_INJURY = "non_suicidal_self_injury"

#: Columns of :func:`cssrs_outcomes`.
CSSRS_OUTCOME_COLUMNS = (
    "participant_id", "arm", "n_baseline", "n_after", "baseline_ideation_score",
    "baseline_behaviour", "worst_category", "worst_label", "max_ideation_score",
    "last_ideation_score", "suicidal_ideation", "suicidal_behaviour",
    "ideation_or_behaviour", "emergent_ideation", "emergent_serious_ideation",
    "new_serious_ideation", "improved_ideation", "emergent_behaviour", "self_injury",
)  # fmt: skip

_LABELS = {0: "No suicidal ideation or behaviour"} | {n: label for n, _, label in
                                                       CSSRS_CATEGORIES}
_YES = {"1", "1.0", "y", "yes", "true"}
_NO = {"0", "0.0", "n", "no", "false"}


def _answers(frame: pd.DataFrame, column: str) -> pd.Series:
    """A yes/no column as booleans (missing kept); anything else is an error."""
    values = frame[column]
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    text = values.astype("string").str.strip().str.lower()
    yes, no = text.isin(list(_YES)), text.isin(list(_NO))
    bad = values.notna() & ~(yes | no).fillna(False).astype(bool)
    if bad.any():
        row = bad[bad].index[0]
        raise KetexError(
            f"C-SSRS ratings: row {row}, column {column}: {values[row]!r} is not a yes/no "
            f"answer; write 1/0, Y/N, yes/no or True/False ({int(bad.sum())} such value(s))")
    # numpy stubs: None is a valid choice (an object array)
    flags = np.where(values.isna(), None, yes.fillna(False))  # type: ignore[call-overload]
    return pd.Series(pd.array(flags, dtype="boolean"), index=frame.index)


def cssrs_scores(ratings: pd.DataFrame) -> pd.DataFrame:
    """Each rating's suicidal ideation score (0-5) and worst category (0-10).

    Parameters
    ----------
    ratings : pandas.DataFrame
        One row per C-SSRS rating with any of the columns of :data:`CSSRS_CATEGORIES`
        (and :data:`SELF_INJURY`), answers as 1/0, Y/N, yes/no or booleans; missing =
        not asked. Other columns are kept.

    Returns
    -------
    pandas.DataFrame
        ``ratings`` with ``ideation_score`` (the highest ideation category 1-5 answered
        yes, 0 when none; missing when no ideation question was answered),
        ``worst_category`` (the highest category 1-10 answered yes, 0 when none; missing
        when nothing was answered), ``worst_label``, ``any_ideation``,
        ``any_behaviour`` and ``self_injury`` (booleans).

    Notes
    -----
    The guide's suicidal ideation score [1]_. The C-SSRS skips questions 3-5 when 1 and 2
    are answered no, so an unanswered question counts as no once any question of its
    part (ideation or behaviour) is answered.

    Raises
    ------
    KetexError
        No category column, or an answer that is not yes/no (naming row and column).

    Examples
    --------
    >>> import pandas as pd
    >>> ratings = pd.DataFrame({"participant_id": ["P1", "P1"], "day": [0, 14],
    ...                         "wish_to_be_dead": ["Y", "Y"],
    ...                         "nonspecific_active_thoughts": ["Y", "N"],
    ...                         "active_ideation_intent": [None, "N"],
    ...                         "aborted_attempt": ["N", "Y"]})
    >>> cssrs_scores(ratings)[["day", "ideation_score", "worst_category", "worst_label"]]
       day  ideation_score  worst_category                          worst_label
    0    0               2               2  Non-specific active suicidal thoughts
    1   14               1               7  Aborted or self-interrupted attempt
    """
    given = [(n, c) for n, c, _ in CSSRS_CATEGORIES if c in ratings.columns]
    if not given:
        raise KetexError(
            "C-SSRS ratings: none of the category columns ("
            + ", ".join(c for _, c, _ in CSSRS_CATEGORIES) + ") is present; name the "
            "yes/no answers by these columns")
    answers = {n: _answers(ratings, c) for n, c in given}
    out = ratings.copy()
    out["ideation_score"] = _highest(answers, range(1, 6), ratings.index)
    out["worst_category"] = _highest(answers, range(1, 11), ratings.index)
    out["worst_label"] = out["worst_category"].map(
        lambda n: pd.NA if pd.isna(n) else _LABELS[int(n)]).astype("string")
    behaviour = _highest(answers, range(6, 11), ratings.index)
    out["any_ideation"] = (out["ideation_score"] > 0).astype("boolean")
    out["any_behaviour"] = (behaviour > 0).astype("boolean")
    out["self_injury"] = (_answers(ratings, SELF_INJURY) if SELF_INJURY in ratings.columns
                          else pd.Series(pd.NA, index=ratings.index, dtype="boolean"))
    return out


def _highest(answers: Mapping[int, pd.Series], numbers, index) -> pd.Series:
    """The highest category number answered yes among ``numbers``; 0 when none is,
    missing when none was answered."""
    score = pd.Series(0, index=index, dtype="Int64")
    asked = pd.Series(False, index=index)
    for n in numbers:
        if n not in answers:
            continue
        yes = answers[n].fillna(False).astype(bool)
        score = score.mask(yes, n)
        asked |= answers[n].notna().to_numpy(bool)
    # pandas-stubs: pd.NA is a valid replacement value
    return score.where(asked, pd.NA).astype("Int64")  # type: ignore[call-overload]


def cssrs_outcomes(
    ratings: pd.DataFrame,
    *,
    baseline_day: int = 0,
    arms: Mapping[str, str] | pd.Series | None = None,
) -> pd.DataFrame:
    """Worst C-SSRS category after baseline and the guide's endpoints, per participant.

    Parameters
    ----------
    ratings : pandas.DataFrame
        ``participant_id``, ``day`` and the answers (see :func:`cssrs_scores`). The
        ratings on or before ``baseline_day`` are the baseline (recent history, and the
        lifetime rating when given), those after it are post-baseline.
    baseline_day : int
        Last day of baseline; default 0 (randomisation).
    arms : mapping or Series, optional
        Participant to arm (``trial.arms``), for the ``arm`` column.

    Returns
    -------
    pandas.DataFrame
        :data:`CSSRS_OUTCOME_COLUMNS`, one row per participant with a rating.
        ``worst_category`` / ``worst_label``: the highest category over the post-
        baseline ratings (0: none); ``max_ideation_score`` and ``last_ideation_score``
        over them (the last by day). Booleans, missing when a needed part is missing
        (no post-baseline rating, or no baseline rating for the comparisons):

        - ``suicidal_ideation``, ``suicidal_behaviour``, ``ideation_or_behaviour``: a
          category 1-5, 6-10, 1-10 after baseline;
        - ``emergent_ideation``: the maximum ideation score after baseline above the
          maximum at baseline (the guide's treatment-emergent suicidal ideation compared
          to recent history);
        - ``emergent_serious_ideation``: a score of 4 or 5 after baseline, 0-3 at
          baseline;
        - ``new_serious_ideation``: 4 or 5 after baseline, 0 at baseline (emergence of
          serious suicidal ideation);
        - ``improved_ideation``: the last score after baseline below the baseline
          maximum;
        - ``emergent_behaviour``: a category 6-10 after baseline and none at baseline
          (emergence of suicidal behaviour compared to all prior history);
        - ``self_injury``: non-suicidal self-injurious behaviour after baseline.

    Examples
    --------
    >>> import pandas as pd
    >>> ratings = pd.DataFrame({"participant_id": ["P1", "P1", "P1"], "day": [-7, 7, 14],
    ...                         "wish_to_be_dead": [1, 1, 0],
    ...                         "nonspecific_active_thoughts": [0, 1, 0],
    ...                         "active_ideation_intent": [0, 1, 0]})
    >>> out = cssrs_outcomes(ratings).iloc[0]
    >>> print(out["worst_category"], out["worst_label"])
    4 Active suicidal ideation with some intent to act, without specific plan
    >>> print(out["emergent_ideation"], out["emergent_serious_ideation"],
    ...       out["improved_ideation"])
    True True True
    """
    for column in ("participant_id", "day"):
        if column not in ratings.columns:
            raise KetexError(f"C-SSRS ratings: no {column} column; give participant_id and "
                             "day (study day, 0 = randomisation) of each rating")
    scored = cssrs_scores(ratings)
    scored = scored.assign(_day=scored["day"].astype("float64")).sort_values(
        ["participant_id", "_day"], kind="mergesort")
    arm_of = dict(arms.items()) if arms is not None else {}
    rows = []
    for pid, mine in scored.groupby("participant_id", sort=True):
        base = mine[mine["_day"] <= baseline_day]
        after = mine[mine["_day"] > baseline_day]
        rows.append(_outcome(pid, arm_of.get(pid, pd.NA), base, after))
    out = pd.DataFrame(rows, columns=list(CSSRS_OUTCOME_COLUMNS))
    flags = CSSRS_OUTCOME_COLUMNS[CSSRS_OUTCOME_COLUMNS.index("suicidal_ideation"):]
    return out.astype({"participant_id": "string", "arm": "string", "n_baseline": "int64",
                       "n_after": "int64", "baseline_ideation_score": "Int64",
                       "baseline_behaviour": "boolean", "worst_category": "Int64",
                       "worst_label": "string", "max_ideation_score": "Int64",
                       "last_ideation_score": "Int64",
                       **dict.fromkeys(flags, "boolean")})


def _max(values: pd.Series):
    values = values.dropna()
    return int(values.max()) if len(values) else pd.NA


def _any(values: pd.Series):
    values = values.dropna()
    return bool(values.any()) if len(values) else pd.NA


def _outcome(pid, arm, base: pd.DataFrame, after: pd.DataFrame) -> dict:
    b_idea, b_behav = _max(base["ideation_score"]), _any(base["any_behaviour"])
    worst, idea = _max(after["worst_category"]), _max(after["ideation_score"])
    scores = after["ideation_score"].dropna()
    last = int(scores.iloc[-1]) if len(scores) else pd.NA
    behav = _any(after["any_behaviour"])

    def known(*values) -> bool:
        return not any(v is pd.NA for v in values)

    return {
        "participant_id": pid, "arm": arm, "n_baseline": len(base), "n_after": len(after),
        "baseline_ideation_score": b_idea, "baseline_behaviour": b_behav,
        "worst_category": worst, "worst_label": _LABELS[worst] if known(worst) else pd.NA,
        "max_ideation_score": idea, "last_ideation_score": last,
        "suicidal_ideation": idea > 0 if known(idea) else pd.NA,
        "suicidal_behaviour": behav,
        "ideation_or_behaviour": worst > 0 if known(worst) else pd.NA,
        "emergent_ideation": idea > b_idea if known(idea, b_idea) else pd.NA,
        "emergent_serious_ideation": (idea >= 4 and b_idea <= 3) if known(idea, b_idea)
        else pd.NA,
        "new_serious_ideation": (idea >= 4 and b_idea == 0) if known(idea, b_idea)
        else pd.NA,
        "improved_ideation": last < b_idea if known(last, b_idea) else pd.NA,
        "emergent_behaviour": (behav and not b_behav) if known(behav, b_behav) else pd.NA,
        "self_injury": _any(after["self_injury"]),
    }
