"""The analysis dataset: one row per participant x scheduled visit (ADaM BDS-like).

Assessments are placed in the protocol's visit windows, one record per participant and
visit is chosen for analysis (``ANL01FL = "Y"``), the others are kept and say why they
are not analysed, and missing visits stay as rows with a missing ``AVAL``
(``DTYPE = "PHANTOM"``), so that MMRM and missing-data summaries see them. The rules are
written out in ``docs/endpoints-response-remission.md``.
"""

from __future__ import annotations

import dataclasses
import re
from types import MappingProxyType
from typing import cast

import numpy as np
import pandas as pd

from ketex.derive._cache import cached, copy_frame
from ketex.derive.endpoints import DEFAULT_REMISSION, PRESETS, Remission, Response
from ketex.scales import get_instrument
from ketex.study.protocol import Protocol, Visit
from ketex.study.trial import Trial

__all__ = [
    "ANALYSIS_COLUMNS",
    "COVARIATE_NAMES",
    "PARAMCD",
    "analysis_dataset",
    "covariates",
    "factor_columns",
    "scheduled_visits",
]

#: ADaM-style parameter code (<= 8 characters, letters and digits) of each instrument.
PARAMCD = MappingProxyType({
    "MADRS": "MADRS", "HAM-D17": "HAMD17", "QIDS-SR16": "QIDSSR16", "PHQ-9": "PHQ9",
    "BDI-II": "BDIII", "GAD-7": "GAD7", "HAM-A": "HAMA", "CADSS": "CADSS",
    "BPRS-POSITIVE": "BPRSPOS", "YMRS": "YMRS", "PCL-5": "PCL5", "SHAPS": "SHAPS",
    "SHAPS-LIKERT": "SHAPSL", "CGI-S": "CGIS", "CGI-I": "CGII", "PGI-I": "PGII",
})

#: Names the baseline covariates take in the analysis dataset (other columns keep theirs).
COVARIATE_NAMES = MappingProxyType({
    "site": "SITEID", "age": "AGE", "sex": "SEX", "weight_kg": "WEIGHTBL",
    "height_cm": "HEIGHTBL", "resting_hr": "HRRESTBL", "max_hr": "HRMAXBL",
    "beta_blocker": "BBLOCKFL", "randomization_date": "RANDDT",
})

#: Columns of :func:`analysis_dataset`, in order, with their meaning (covariates follow).
ANALYSIS_COLUMNS = MappingProxyType({
    "STUDYID": "study identifier (study.toml [study] id)",
    "USUBJID": "participant identifier (participants.participant_id, as given)",
    "ARM": "arm code (ordered Categorical: the primary analysis's reference arm first)",
    "PARAMCD": "parameter code: the instrument, <= 8 characters (MADRS, HAMD17, QIDSSR16, "
               "PHQ9, BDIII, GAD7, ...: ketex.derive.analysis.PARAMCD)",
    "PARAM": "parameter: '<instrument> total score'",
    "AVISIT": "analysis visit: ordered Categorical of the scale's scheduled visits, "
              "protocol order; missing for a record outside every window",
    "AVISITN": "position of AVISIT among all protocol visits (1 = first)",
    "VISIT": "visit as collected (assessments.visit); missing on phantom rows",
    "ADY": "study day of the assessment; missing on phantom rows",
    "AWTARGET": "target day of AVISIT",
    "AWLO": "first day of the AVISIT window",
    "AWHI": "last day of the AVISIT window",
    "AVAL": "total score; missing on phantom rows and for unscorable ratings",
    "BASE": "baseline total score (see ABLFL)",
    "CHG": "AVAL - BASE, on records after the baseline day",
    "PCHG": "100 x CHG / BASE (missing when BASE is 0)",
    "ABLFL": "'Y' on the baseline record (flags: Categoricals of 'Y' / 'N', missing NaN; "
             "a missing flag compares as not 'Y')",
    "ANL01FL": "'Y' on the one record analysed per participant and visit (a phantom row "
               "when the visit is missing)",
    "ANL01RSN": "why a record is not analysed (ketex variable, not CDISC)",
    "DTYPE": "'PHANTOM' on the row standing for a missing visit",
    "CRIT1": "response criterion, in words",
    "CRIT1FL": "'Y' / 'N': response at this record (records after baseline with AVAL "
               "and BASE)",
    "CRIT2": "remission criterion, in words (missing when the scale has none)",
    "CRIT2FL": "'Y' / 'N': remission at this record (records with AVAL)",
})

#: The ADaM flags of the dataset: Categoricals of FLAG_LEVELS (see :func:`as_flag`).
FLAG_COLUMNS = ("ABLFL", "ANL01FL", "CRIT1FL", "CRIT2FL")
FLAG_LEVELS = ("Y", "N")
BASELINE_METHODS = ("last", "visit")
TIE_RULES = ("later", "earlier")
PHANTOM = "PHANTOM"


def scheduled_visits(protocol: Protocol, scale: str, arm: str | None = None) -> list[Visit]:
    """The protocol visits that rate ``scale`` (for ``arm`` when given), in protocol order.

    A visit rates a scale when it lists it in ``instruments``, or lists none and the scale
    is the primary scale; it applies to an arm when its ``arms`` is empty or names it.

    Examples
    --------
    >>> import ketex
    >>> protocol = ketex.load_trial(ketex.sample_study_path()).protocol
    >>> [v.name for v in scheduled_visits(protocol, "QIDS-SR16")]
    ['BASELINE', 'WEEK4', 'WEEK8', 'WEEK12', 'WEEK24']
    >>> len(scheduled_visits(protocol, "MADRS", "SINGLE")), len(scheduled_visits(protocol, "MADRS"))
    (11, 16)
    """
    code = get_instrument(scale).code
    primary = get_instrument(protocol.primary_scale).code
    return [
        visit for visit in protocol.visits
        if (code in visit.instruments or (not visit.instruments and code == primary))
        and (arm is None or not visit.arms or arm in visit.arms)
    ]


def analysis_dataset(
    trial: Trial,
    scale: str | None = None,
    *,
    baseline: str = "last",
    baseline_day: int = 0,
    tie: str = "later",
    response: Response | None = None,
    remission: Remission | None = None,
) -> pd.DataFrame:
    """One row per participant x scheduled visit of a scale, in the ADaM BDS shape.

    Parameters
    ----------
    trial : Trial
    scale : str, optional
        Instrument (code or alias); None means the protocol's primary scale.
    baseline : {"last", "visit"}
        ``"last"``: the baseline is the last assessment with a total on or before
        ``baseline_day``, wherever it lies; it becomes the record of the protocol's
        baseline visit. ``"visit"``: the analysed record of the baseline visit.
    baseline_day : int
        Last study day a baseline may have (day 0 = randomisation).
    tie : {"later", "earlier"}
        Which of two records equally far from a visit's target day is analysed.
    response : Response, optional
        Criterion of ``CRIT1FL``; None means ``Response(protocol.endpoints.response_reduction)``.
    remission : Remission, optional
        Criterion of ``CRIT2FL``; None means the protocol's ``remission_preset`` when it
        is for this scale, else the scale's usual preset (MADRS<=10, HAM-D17<=7,
        QIDS-SR16<=5, PHQ-9<5), else none (``CRIT2FL`` missing).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ANALYSIS_COLUMNS`, then one column per factor the arms declare
        (``factors`` in ``[[arms]]``, see :func:`factor_columns`: named as the factor in
        upper case, e.g. ``DRUG``, ``EXERCISE``; an ordered Categorical of the levels in
        the order the arms first declare them, holding the level of the participant's
        arm), then the participants' baseline covariates
        (``site`` as ``SITEID``, ``age`` as ``AGE``, ... see :data:`COVARIATE_NAMES`;
        other columns keep their names). Rows: for each participant, every scheduled
        visit of the scale for the participant's arm, plus records not analysed,
        sorted by participant and time.

    Raises
    ------
    ValueError
        When the scale is unknown or no protocol visit rates it, or an option is invalid,
        or a factor's column would repeat another column of the dataset.

    Notes
    -----
    Visit assignment. A record whose day lies in exactly one window of the
    participant's scheduled visits belongs to that visit. In overlapping windows it
    belongs to the visit it was collected at when that is one of them, else to the visit
    with the nearest target day (the earlier visit on a tie). A record in no window keeps
    a missing ``AVISIT`` (``ANL01RSN`` says so).

    Selection. Per participant and visit the analysed record is, in order of
    preference: one with a total; the nearest to the target day; on equal distance the
    later (``tie="later"``) or earlier day; on the same day, the record collected at that
    visit; then the first in the trial's assessments order.

    Baseline. With ``baseline="last"`` the baseline record is the analysed record of the
    baseline visit whatever window it lies in; other records of the baseline window are
    kept with ``ANL01RSN = "not the baseline record"``. ``CHG``, ``PCHG`` and
    ``CRIT1FL`` are computed on records after ``baseline_day``.

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> ds = analysis_dataset(trial)
    >>> ds[["USUBJID", "AVISIT", "ADY", "AVAL", "BASE", "CHG", "ABLFL", "ANL01FL"]].head(3)
      USUBJID    AVISIT  ADY  AVAL  BASE  CHG ABLFL ANL01FL
    0    P001  BASELINE   -1  49.0  49.0  NaN     Y       Y
    1    P001  INF1_24H    2  46.0  49.0 -3.0   NaN       Y
    2    P001     WEEK2   14  43.0  49.0 -6.0   NaN       Y
    >>> analysed = ds[ds["ANL01FL"] == "Y"]
    >>> analysed.groupby("ARM").size().to_dict()  # 40 x 11 visits, 40 x 16 visits
    {'SINGLE': 440, 'SERIES': 640}
    >>> week12 = analysed[analysed["AVISIT"] == "WEEK12"]
    >>> week12["CRIT1FL"].value_counts().to_dict()
    {'N': 52, 'Y': 23}
    """
    protocol = trial.protocol
    code = get_instrument(scale if scale is not None else protocol.primary_scale).code
    if baseline not in BASELINE_METHODS:
        raise ValueError(f"baseline must be one of {', '.join(BASELINE_METHODS)}, "
                         f"got {baseline!r}")
    if tie not in TIE_RULES:
        raise ValueError(f"tie must be one of {', '.join(TIE_RULES)}, got {tie!r}")
    if isinstance(baseline_day, bool) or not isinstance(baseline_day, int | np.integer):
        raise ValueError(f"baseline_day must be a whole study day, got {baseline_day!r}")
    return cached(trial, "analysis_dataset",
                  (code, baseline, int(baseline_day), tie, response, remission),
                  lambda: _analysis_dataset(trial, code, baseline, int(baseline_day), tie,
                                            response, remission), copy_frame)


def _analysis_dataset(trial: Trial, code: str, baseline: str, baseline_day: int, tie: str,
                      response: Response | None, remission: Remission | None) -> pd.DataFrame:
    """:func:`analysis_dataset` of a checked scale code and options, computed."""
    protocol = trial.protocol
    visits = scheduled_visits(protocol, code)
    if not visits:
        raise ValueError(
            f"scale: no protocol visit rates {code}; list it in a visit's instruments in "
            f"study.toml, or choose one of the rated scales"
        )
    response, remission = _criteria(protocol, code, response, remission)
    response = dataclasses.replace(response, scale=code)
    records = _records(trial, code)
    records = _assign_visits(records, protocol, visits)
    records = _mark_baseline(records, protocol, visits, baseline, int(baseline_day))
    records = _select(records, tie)
    if baseline == "visit":
        records = _baseline_from_visit(records, protocol.endpoints.baseline_visit)
    rows = _with_phantoms(records, trial, protocol, visits)
    rows = _changes(rows, int(baseline_day), response, remission)
    return _finish(rows, trial, protocol, code, visits)


# -- steps --------------------------------------------------------------------------


def _criteria(protocol: Protocol, code: str, response: Response | None,
              remission: Remission | None) -> tuple[Response, Remission | None]:
    if response is None:
        response = Response(protocol.endpoints.response_reduction)
    elif not isinstance(response, Response):
        raise ValueError(f"response must be a Response rule, got {response!r}")
    elif response.scale not in (None, code):
        raise ValueError(f"response is for {response.scale} but the dataset is for {code}; "
                         "give Response(scale=None) or the same scale")
    if remission is None:
        preset = PRESETS.get(protocol.endpoints.remission_preset)
        if isinstance(preset, Remission) and preset.scale == code:
            remission = preset
        elif code in DEFAULT_REMISSION:
            remission = cast(Remission, PRESETS[DEFAULT_REMISSION[code]])  # Remission presets
    elif not isinstance(remission, Remission):
        raise ValueError(f"remission must be a Remission rule, got {remission!r}")
    elif remission.scale != code:
        raise ValueError(f"remission is a {remission.scale} cut-off ({remission.cutoff}) but "
                         f"the dataset is for {code}; give a {code} cut-off")
    return response, remission


def _records(trial: Trial, code: str) -> pd.DataFrame:
    a = trial.assessments
    a = a[a["instrument"] == code]
    if "time_min" in a.columns:  # timed ratings belong to an infusion, not to a visit
        a = a[a["time_min"].isna()]
    total = a["total"] if "total" in a.columns else pd.Series(np.nan, index=a.index)
    arm = a["participant_id"].map(trial.arms)
    return pd.DataFrame({
        "participant_id": a["participant_id"].astype("string"),
        "arm": arm.astype("string"),
        "VISIT": a["visit"].astype("string"),
        "ADY": a["day"].astype("Int64"),
        "AVAL": total.astype("float64"),
        "order": np.arange(len(a)),
    }).reset_index(drop=True)


def _assign_visits(records: pd.DataFrame, protocol: Protocol, visits: list[Visit]) -> pd.DataFrame:
    """Give each record the visit whose window holds it (see Notes of analysis_dataset)."""
    position = {v.name: k for k, v in enumerate(protocol.visits)}
    table = pd.DataFrame({
        "AVISIT": [v.name for v in visits],
        "AWTARGET": [v.day for v in visits],
        "AWLO": [v.window[0] for v in visits],
        "AWHI": [v.window[1] for v in visits],
        "visit_arms": [v.arms for v in visits],
        "AVISITN": [position[v.name] + 1 for v in visits],
    })
    pairs = records.merge(table, how="cross")
    day = pairs["ADY"].astype("float64")
    applies = np.array([not arms or arm in arms
                        for arms, arm in zip(pairs["visit_arms"], pairs["arm"], strict=True)],
                       dtype=bool)
    inside = applies & (day >= pairs["AWLO"]).to_numpy(bool) & (day <= pairs["AWHI"]).to_numpy(
        bool)
    pairs = pairs[inside].assign(
        collected=lambda f: (f["VISIT"] == f["AVISIT"]).astype(bool),
        distance=lambda f: (f["ADY"].astype("float64") - f["AWTARGET"]).abs(),
    )
    pairs = pairs.sort_values(["order", "collected", "distance", "AVISITN"],
                              ascending=[True, False, True, True], kind="mergesort")
    chosen = pairs.drop_duplicates("order").set_index("order")
    out = records.copy()
    for column in ("AVISIT", "AWTARGET", "AWLO", "AWHI", "AVISITN"):
        out[column] = out["order"].map(chosen[column])
    out["AVISIT"] = out["AVISIT"].astype("string")
    for column in ("AWTARGET", "AWLO", "AWHI", "AVISITN"):
        out[column] = out[column].astype("Int64")
    out["ANL01RSN"] = pd.Series(
        # numpy stubs: None is a valid choice (an object array)
        np.where(out["AVISIT"].isna(),  # type: ignore[call-overload]
                 "outside every scheduled visit window of the arm", None), dtype="string")
    return out


def _mark_baseline(records: pd.DataFrame, protocol: Protocol, visits: list[Visit],
                   method: str, baseline_day: int) -> pd.DataFrame:
    out = records.assign(ABLFL=pd.Series(pd.NA, index=records.index, dtype="string"))
    name = protocol.endpoints.baseline_visit
    base_visit = next((v for v in visits if v.name == name), None)
    if method == "visit":
        if base_visit is None:
            raise ValueError(f"baseline='visit': the baseline visit {name!r} "
                             "([endpoints] baseline_visit) does not rate this scale; use "
                             "baseline='last'")
        return out  # chosen in _select, among the records of the baseline visit
    candidates = out[out["AVAL"].notna() & (out["ADY"] <= baseline_day)]
    candidates = candidates.assign(
        collected=(candidates["VISIT"] == name).astype(bool)
    ).sort_values(["participant_id", "ADY", "collected", "order"],
                  ascending=[True, False, False, True], kind="mergesort")
    chosen = candidates.drop_duplicates("participant_id")["order"]
    is_base = out["order"].isin(chosen)
    out.loc[is_base, "ABLFL"] = "Y"
    if base_visit is not None:
        # pandas-stubs: .loc[mask, columns] = one value per column is valid
        out.loc[is_base, ["AVISIT", "AWTARGET", "AWLO", "AWHI"]] = [  # type: ignore[index,assignment]
            base_visit.name, base_visit.day, base_visit.window[0], base_visit.window[1]]
        out.loc[is_base, "AVISITN"] = protocol.visit_names.index(base_visit.name) + 1
        out.loc[is_base, "ANL01RSN"] = pd.NA
        others = (out["AVISIT"] == base_visit.name) & ~is_base
        out.loc[others, "ANL01RSN"] = "not the baseline record"
    return out


def _baseline_from_visit(records: pd.DataFrame, name: str) -> pd.DataFrame:
    is_base = ((records["AVISIT"] == name) & (records["ANL01FL"] == "Y")
               & records["AVAL"].notna()).fillna(False).astype(bool)
    out = records.copy()
    out.loc[is_base, "ABLFL"] = "Y"
    return out


def _select(records: pd.DataFrame, tie: str) -> pd.DataFrame:
    """Choose the analysed record of each participant and visit."""
    out = records.assign(
        ANL01FL=pd.Series(pd.NA, index=records.index, dtype="string"),
        has_value=records["AVAL"].notna(),
        distance=(records["ADY"].astype("float64") - records["AWTARGET"].astype("float64")).abs(),
        signed_day=records["ADY"].astype("float64") * (-1 if tie == "later" else 1),
        collected=(records["VISIT"] == records["AVISIT"]).fillna(False).astype(bool),
        is_base=(records["ABLFL"] == "Y").fillna(False).astype(bool),
    )
    eligible = out[out["AVISIT"].notna() & out["ANL01RSN"].isna()]
    eligible = eligible.sort_values(
        ["participant_id", "AVISIT", "is_base", "has_value", "distance", "signed_day",
         "collected", "order"],
        ascending=[True, True, False, False, True, True, False, True], kind="mergesort",
    )
    first = ~eligible.duplicated(["participant_id", "AVISIT"])
    winners = eligible[first].set_index(["participant_id", "AVISIT"])
    out.loc[eligible.index[first], "ANL01FL"] = "Y"
    losers = eligible[~first]
    reasons = []
    for _, row in losers.iterrows():
        best = winners.loc[(row["participant_id"], row["AVISIT"])]
        reasons.append(_reason(row, best, tie))
    out.loc[losers.index, "ANL01RSN"] = pd.array(reasons, dtype="string")
    return out.drop(columns=["has_value", "distance", "signed_day", "collected", "is_base"])


def _reason(row: pd.Series, best: pd.Series, tie: str) -> str:
    where = f"day {best['ADY']} is analysed for {row['AVISIT']}"
    if pd.isna(row["AVAL"]) and not pd.isna(best["AVAL"]):
        return f"no total score; {where}"
    if row["distance"] > best["distance"]:
        return f"farther from the target day {row['AWTARGET']}; {where}"
    if row["distance"] == best["distance"] and row["ADY"] != best["ADY"]:
        return f"as far from the target day as day {best['ADY']}; the {tie} record is analysed"
    return f"same day as another record of the visit; {where}"


def _with_phantoms(records: pd.DataFrame, trial: Trial, protocol: Protocol,
                   visits: list[Visit]) -> pd.DataFrame:
    """Add a row with missing AVAL for each scheduled visit without an analysed record."""
    position = {v.name: k + 1 for k, v in enumerate(protocol.visits)}
    cells = []
    for pid, arm in zip(trial.participants["participant_id"], trial.participants["arm"],
                        strict=True):
        for visit in visits:
            if not visit.arms or arm in visit.arms:
                cells.append((pid, arm, visit.name, visit.day, visit.window[0],
                              visit.window[1], position[visit.name]))
    grid = pd.DataFrame(cells, columns=["participant_id", "arm", "AVISIT", "AWTARGET",
                                       "AWLO", "AWHI", "AVISITN"])
    analysed = records.loc[records["ANL01FL"] == "Y", ["participant_id", "AVISIT"]]
    missing = grid.merge(analysed, how="left", indicator=True)
    missing = missing[missing["_merge"] == "left_only"].drop(columns="_merge")
    phantoms = missing.assign(ANL01FL="Y", DTYPE=PHANTOM)
    # pandas-stubs: a scalar pd.NA is a valid column value for assign
    observed = records.assign(DTYPE=pd.NA)  # type: ignore[arg-type]
    rows = pd.concat([observed, phantoms], ignore_index=True)
    for column in ("participant_id", "arm", "AVISIT", "ANL01FL", "DTYPE", "VISIT", "ABLFL",
                   "ANL01RSN"):
        rows[column] = rows[column].astype("string")
    for column in ("ADY", "AWTARGET", "AWLO", "AWHI", "AVISITN"):
        rows[column] = rows[column].astype("Int64")
    rows["AVAL"] = rows["AVAL"].astype("float64")
    return rows


def _changes(rows: pd.DataFrame, baseline_day: int, response: Response,
             remission: Remission | None) -> pd.DataFrame:
    base = rows.loc[rows["ABLFL"] == "Y"].set_index("participant_id")["AVAL"]
    out = rows.assign(BASE=rows["participant_id"].map(base).astype("float64"))
    after = (out["ADY"] > baseline_day).fillna(False).to_numpy(bool)
    chg = (out["AVAL"] - out["BASE"]).where(after)
    out["CHG"] = chg
    out["PCHG"] = (100 * chg / out["BASE"].where(out["BASE"] != 0)).astype("float64")
    out["CRIT1"] = pd.Series(response.label, index=out.index, dtype="string")
    out["CRIT1FL"] = _flag([response.met(v, b) if a else None
                            for v, b, a in zip(out["AVAL"], out["BASE"], after, strict=True)])
    if remission is None:
        out["CRIT2"] = pd.Series(pd.NA, index=out.index, dtype="string")
        out["CRIT2FL"] = pd.Series(pd.NA, index=out.index, dtype="string")
    else:
        out["CRIT2"] = pd.Series(remission.label, index=out.index, dtype="string")
        out["CRIT2FL"] = _flag([remission.met(v) for v in out["AVAL"]])
    return out


def _flag(values: list[bool | None]) -> pd.Series:
    return pd.Series(["Y" if v else "N" if v is not None else pd.NA for v in values],
                     dtype="string")


def _finish(rows: pd.DataFrame, trial: Trial, protocol: Protocol, code: str,
            visits: list[Visit]) -> pd.DataFrame:
    time = rows["ADY"].astype("Float64").fillna(rows["AWTARGET"].astype("Float64"))
    rows = rows.assign(
        _time=time, _analysed=(rows["ANL01FL"] != "Y").fillna(True).astype(bool),
    ).sort_values(["participant_id", "_time", "AVISITN", "_analysed", "order"],
                  kind="mergesort", na_position="last")
    out = pd.DataFrame({
        "STUDYID": pd.Series(protocol.study_id, index=rows.index, dtype="string"),
        "USUBJID": rows["participant_id"],
        "ARM": pd.Categorical(rows["arm"].astype(object).where(rows["arm"].notna()),
                              categories=arm_order(protocol), ordered=True),
        "PARAMCD": pd.Series(PARAMCD[code], index=rows.index, dtype="string"),
        "PARAM": pd.Series(f"{code} total score", index=rows.index, dtype="string"),
        "AVISIT": pd.Categorical(rows["AVISIT"].astype(object).where(rows["AVISIT"].notna()),
                                 categories=[v.name for v in visits], ordered=True),
    })
    for column in list(ANALYSIS_COLUMNS)[6:]:
        if column not in out:
            out[column] = rows[column]
    for column in FLAG_COLUMNS:
        out[column] = as_flag(out[column])
    out = out.reset_index(drop=True)
    extra = covariates(trial.participants).reindex(out["USUBJID"].astype(object))
    extra = extra.reset_index(drop=True)
    factors = _factor_frame(protocol, out["ARM"], [*out.columns, *extra.columns])
    return pd.concat([out, factors, extra], axis=1)


def factor_columns(protocol: Protocol) -> dict[str, str]:
    """Column name -> factor name, for every factor the arms declare (``[[arms]] factors``).

    The column is the factor's name in upper case, other characters than letters, digits
    and ``_`` replaced by ``_`` (the names ADSL, ADQS and :func:`analysis_dataset` use).

    Raises
    ------
    ValueError
        When two factors give the same column name.

    Examples
    --------
    >>> from ketex.study.protocol import Arm, Protocol, Visit
    >>> arms = (Arm("KA", factors={"drug": "ketamine", "exercise": "aerobic"}),
    ...         Arm("MS", factors={"drug": "midazolam", "exercise": "stretching"}))
    >>> factor_columns(Protocol("F", arms, (Visit("BASELINE", 0, (-7, 0)),)))
    {'DRUG': 'drug', 'EXERCISE': 'exercise'}
    """
    columns: dict[str, str] = {}
    for factor in protocol.factors:
        name = re.sub(r"[^A-Z0-9_]", "_", factor.upper())
        if name in columns:
            raise ValueError(
                f"study.toml: factors {columns[name]!r} and {factor!r} of [[arms]] factors "
                f"both give the column {name}; rename one of them"
            )
        columns[name] = factor
    return columns


def _factor_frame(protocol: Protocol, arms: pd.Series, taken: list[str]) -> pd.DataFrame:
    """One ordered Categorical per declared factor: the level of each row's arm."""
    out = pd.DataFrame(index=arms.index)
    levels_of = protocol.factors
    for column, factor in factor_columns(protocol).items():
        if column in taken:
            raise ValueError(
                f"study.toml: factor {factor!r} of [[arms]] factors gives the analysis "
                f"dataset column {column}, which another column already has; rename the "
                "factor"
            )
        level = {arm.code: dict(arm.factors).get(factor) for arm in protocol.arms}
        values = arms.astype(object).map(level)
        out[column] = pd.Categorical(values.where(values.notna(), None),
                                     categories=list(levels_of[factor]), ordered=True)
    return out


def arm_order(protocol: Protocol) -> list[str]:
    """The arm codes with the primary analysis's reference arm first (then protocol order)."""
    arms = list(protocol.arm_codes)
    if not arms:
        return []
    reference = protocol.analysis.primary.reference_arm or arms[0]
    return [reference, *(a for a in arms if a != reference)]


def as_flag(values: pd.Series) -> pd.Series:
    """An ADaM flag as a Categorical of "Y" / "N" (missing: NaN).

    Comparisons give plain booleans, a missing flag being "not Y", under pandas 2 and 3
    alike (a nullable string would give NA, and a filter on it no rows or an error).

    Examples
    --------
    >>> flag = as_flag(pd.Series(["Y", None, "N"], dtype="string"))
    >>> (flag != "Y").tolist(), list(flag.cat.categories)
    ([False, True, True], ['Y', 'N'])
    """
    plain = values.astype(object).where(values.notna(), None)
    return pd.Series(pd.Categorical(plain, categories=list(FLAG_LEVELS)), index=values.index,
                     name=values.name)


def covariates(participants: pd.DataFrame) -> pd.DataFrame:
    """The participants' baseline covariates under their ADaM-style names, indexed by
    participant_id (``beta_blocker`` becomes the flag ``BBLOCKFL``, "Y" / "N")."""
    people = participants.set_index("participant_id")
    people = people.drop(columns=[c for c in ("arm",) if c in people.columns])
    people = people.rename(columns=dict(COVARIATE_NAMES))
    if "BBLOCKFL" in people:
        people["BBLOCKFL"] = people["BBLOCKFL"].map({True: "Y", False: "N"}).astype("string")
    return people
