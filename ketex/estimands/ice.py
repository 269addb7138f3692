"""Intercurrent events from the trial: rbmi's ``data_ice`` table.

An intercurrent event (ICH E9(R1)) here is a ``discontinuation`` event of the trial's
events table (its ``description`` is the reason) or the start of a rescue medication
(``medications.rescue``).  Each gets the strategy its reason maps to; the first analysis
visit it affects is the first visit whose analysed assessment is on or after the event
day, or, when the visit has no assessment, whose target day is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ketex.errors import DataValidationError
from ketex.estimands.strategies import STRATEGIES
from ketex.study.trial import Trial

__all__ = ["ICE_COLUMNS", "OTHER_REASON", "RESCUE_REASON", "intercurrent_events"]

#: Columns after the subject and visit columns, in order.
ICE_COLUMNS = ("strategy", "ice_type", "reason", "ice_day", "arm")
#: The reason key that covers every reason not listed in the mapping.
OTHER_REASON = "other"
#: The reason of a rescue medication.
RESCUE_REASON = "rescue medication"


def _normalise(reason: object) -> str | None:
    if reason is None or (isinstance(reason, float) and np.isnan(reason)) or reason is pd.NA:
        return None
    text = re.sub(r"[\s_]+", " ", str(reason)).strip().lower()
    return text or None


def _mapping(strategies: Mapping, user_strategies: Sequence[str]) -> dict[str, str]:
    if not isinstance(strategies, Mapping) or not strategies:
        raise TypeError(
            "strategies must map each reason to a strategy, e.g. {'lack of efficacy': 'JR', "
            f"'adverse event': 'JR', 'other': 'MAR'}}; got {strategies!r}."
        )
    known = {*STRATEGIES, *user_strategies}
    mapping, problems = {}, []
    for reason, strategy in strategies.items():
        key = _normalise(reason)
        if key is None:
            problems.append(f"reason {reason!r} is empty")
        elif key in mapping:
            problems.append(f"reason {reason!r} is listed twice (reasons ignore case)")
        if strategy not in known:
            problems.append(
                f"reason {reason!r}: strategy {strategy!r} is not one of {sorted(known)} "
                "(name user-defined strategies in user_strategies)"
            )
        if key is not None:
            mapping[key] = strategy
    if problems:
        raise ValueError("Invalid strategies: " + "; ".join(problems) + ".")
    return mapping


def _events(trial: Trial) -> pd.DataFrame:
    """Every candidate ICE: participant, day, type, reason, where it came from."""
    events = trial.events
    stops = events[events["event"] == "discontinuation"]
    description = (
        stops["description"] if "description" in stops else pd.Series(None, index=stops.index)
    )
    frames = [
        pd.DataFrame({
            "participant_id": stops["participant_id"].astype(str),
            "ice_day": stops["day"].astype(float),
            "ice_type": "discontinuation",
            "reason": [_normalise(r) for r in description],
            "source": [f"events row {i} (participant {p}, day {d}, description {r!r})"
                       for i, p, d, r in zip(stops.index, stops["participant_id"],
                                             stops["day"], description, strict=True)],
        })
    ]  # fmt: skip
    meds = trial.medications
    if "rescue" in meds:
        rescue = meds[meds["rescue"].fillna(False).astype(bool)]
        if "start_day" not in rescue or rescue["start_day"].isna().any():
            rows = rescue.index if "start_day" not in rescue else rescue.index[
                rescue["start_day"].isna()]  # fmt: skip
            raise DataValidationError(
                f"medications rows {rows[:5].tolist()} (participants "
                f"{rescue.loc[rows[:5], 'participant_id'].tolist()}): a rescue medication "
                "has no start_day (column start_day), so the visit it affects is unknown; "
                "give its start day or date."
            )
        rescue = rescue[rescue["start_day"] > 0]  # started before randomisation: no ICE
        frames.append(pd.DataFrame({
            "participant_id": rescue["participant_id"].astype(str),
            "ice_day": rescue["start_day"].astype(float),
            "ice_type": "rescue_medication",
            "reason": RESCUE_REASON,
            "source": [f"medications row {i} (participant {p}, {n!r} from day {d})"
                       for i, p, n, d in zip(rescue.index, rescue["participant_id"],
                                             rescue["name"], rescue["start_day"], strict=True)],
        }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def _strategies(events: pd.DataFrame, mapping: dict[str, str]) -> pd.Series:
    other = mapping.get(OTHER_REASON)
    strategy = events["reason"].map(lambda r: mapping.get(r, other) if r is not None else other)
    unmatched = strategy.isna()
    if unmatched.any():
        where = "; ".join(events.loc[unmatched, "source"].head(5))
        reasons = sorted({str(r) for r in events.loc[unmatched, "reason"]})
        raise DataValidationError(
            f"{int(unmatched.sum())} intercurrent events have a reason the strategies do not "
            f"list ({reasons}): {where}. Add these reasons to strategies, or an "
            f"{OTHER_REASON!r} entry for every reason not listed."
        )
    return strategy


def intercurrent_events(
    trial: Trial,
    strategies: Mapping[str, str],
    *,
    scale: str | None = None,
    visits: Sequence[str] | None = None,
    subject: str = "USUBJID",
    visit: str = "AVISIT",
    user_strategies: Sequence[str] = (),
) -> pd.DataFrame:
    """The intercurrent-event table of :func:`reference_based_mi` (rbmi's ``data_ice``).

    Parameters
    ----------
    trial : Trial
    strategies : mapping of str to str
        Reason -> strategy, e.g. ``{"lack of efficacy": "JR", "adverse event": "JR",
        "other": "MAR"}``.  A discontinuation's reason is its ``description`` in the
        events table (SDTM: ``DSTERM``/``DSDECOD``), compared ignoring case, spaces and
        underscores; a rescue medication's reason is ``"rescue medication"``.  The key
        ``"other"`` covers every reason not listed (and a missing description); without
        it an unlisted reason is an error.
    scale : str, optional
        The outcome's instrument (default: the protocol's primary scale): its visits
        and assessment days decide the first visit affected.
    visits : sequence of str, optional
        The analysis visits (those in the data given to :func:`reference_based_mi`);
        default: the scale's scheduled visits after the baseline visit.
    subject, visit : str
        Names of the output's participant and visit columns: those of the analysis
        data (``USUBJID``, ``AVISIT`` for :func:`ketex.analysis_dataset`).
    user_strategies : sequence of str
        Names of user-defined strategies the mapping may use.

    Returns
    -------
    pandas.DataFrame
        ``subject, visit, strategy, ice_type, reason, ice_day, arm``: one row per
        participant with an intercurrent event that affects an analysis visit; ``visit``
        is the first visit affected, ``ice_type`` ``"discontinuation"`` or
        ``"rescue_medication"``.

    Notes
    -----
    A visit is affected when its analysed assessment (``ADY`` of
    :func:`ketex.analysis_dataset`) is on or after the event day, or, when the visit has
    no assessment, when its target day is; later visits are affected too.  An event
    after the last analysis visit affects none and gets no row.  With several events,
    the row is the first event with a non-MAR strategy, else the first event (rbmi:
    "only the first non-MAR visit should be used").  Rescue medications started on or
    before day 0 are no intercurrent events.

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> ice = intercurrent_events(trial, {"withdrew from the study": "JR", "other": "MAR"})
    >>> ice.iloc[:3, :4]
      USUBJID AVISIT strategy         ice_type
    0    P015 WEEK24       JR  discontinuation
    1    P021 WEEK10       JR  discontinuation
    2    P032  WEEK8       JR  discontinuation
    >>> len(ice), float(ice["ice_day"].iloc[1]), ice["arm"].iloc[1]
    (11, 63.0, 'SINGLE')
    """
    from ketex.derive.analysis import analysis_dataset
    from ketex.study.derivation_plan import derivation_options

    mapping = _mapping(strategies, user_strategies)
    events = _events(trial)
    events["strategy"] = _strategies(events, mapping)
    ds = analysis_dataset(trial, scale, **derivation_options(trial.protocol))
    baseline = trial.protocol.endpoints.baseline_visit
    scheduled = [str(v) for v in ds["AVISIT"].cat.categories if v != baseline]
    if visits is None:
        visits = scheduled
    else:
        visits = [str(v) for v in visits]
        unknown = [v for v in visits if v not in scheduled]
        if unknown:
            raise ValueError(
                f"visits {unknown} are not scheduled visits of the scale after baseline "
                f"({scheduled})."
            )
    rows = ds[(ds["ANL01FL"] == "Y") & ds["AVISIT"].isin(visits)].copy()
    rows["when"] = rows["ADY"].astype(float).fillna(rows["AWTARGET"].astype(float))
    rows = rows.sort_values(["USUBJID", "AVISITN"], kind="mergesort")
    days = {pid: (g["AVISIT"].astype(str).to_numpy(), g["when"].to_numpy())
            for pid, g in rows.groupby("USUBJID", sort=False)}  # fmt: skip
    first = []
    for pid, day in zip(events["participant_id"], events["ice_day"], strict=True):
        names, when = days.get(pid, (np.array([]), np.array([])))
        affected = np.flatnonzero(when >= day)
        first.append(names[affected[0]] if affected.size else None)
    events["first_visit"] = first
    events = events[events["first_visit"].notna()]
    # per participant the first non-MAR event, else the first event
    events = events.assign(mar=events["strategy"] == "MAR")
    events = events.sort_values(["participant_id", "mar", "ice_day"], kind="mergesort")
    chosen = events.drop_duplicates("participant_id", keep="first")
    arms = trial.arms
    return pd.DataFrame({
        subject: chosen["participant_id"].to_numpy(dtype=object),
        visit: chosen["first_visit"].to_numpy(dtype=object),
        "strategy": chosen["strategy"].to_numpy(dtype=object),
        "ice_type": chosen["ice_type"].to_numpy(dtype=object),
        "reason": chosen["reason"].to_numpy(dtype=object),
        "ice_day": chosen["ice_day"].to_numpy(dtype=float),
        "arm": arms.reindex(chosen["participant_id"]).astype(object).to_numpy(),
    })  # fmt: skip
