"""ADaM export: ADSL, the questionnaire BDS (ADQS), ADTTE and the safety datasets (ADAE,
ADVS, ADCM) as CSV and SAS XPORT.

:func:`write_adam` writes what :func:`ketex.analysis_dataset` and
:func:`ketex.time_to_event` derive, in the dataset shapes SAS programmers expect, with a
define-style table (``define.csv``) describing every variable of every dataset. The
safety datasets are built in :mod:`ketex.io.adam_safety`.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from ketex.derive.analysis import (
    ANALYSIS_COLUMNS,
    COVARIATE_NAMES,
    analysis_dataset,
    covariates,
    factor_columns,
    scheduled_visits,
)
from ketex.derive.endpoints import PRESETS, Remission, Response
from ketex.derive.time_to_event import TTE_COLUMNS, time_to_event
from ketex.io.escape import csv_safe
from ketex.study.trial import Trial

__all__ = ["DEFINE_COLUMNS", "adsl", "actual_treatment", "write_adam"]

#: Columns of ``define.csv``.
DEFINE_COLUMNS = MappingProxyType({
    "dataset": "ADSL, ADQS, ADTTE, ADAE, ADVS or ADCM",
    "variable": "column name in the CSV file",
    "xpt_name": "name in the XPORT file (<= 8 characters, upper case)",
    "label": "variable label (<= 40 characters, as in the XPORT file)",
    "type": "text, integer, number or date",
    "description": "what the variable holds and how it is derived",
})

_ADSL_COLUMNS = MappingProxyType({
    "STUDYID": ("Study Identifier", "study.toml [study] id"),
    "USUBJID": ("Unique Subject Identifier", "participants.participant_id, as given"),
    "SUBJID": ("Subject Identifier for the Study", "participants.participant_id"),
    "ARM": ("Description of Planned Arm", "arm code (participants.arm)"),
    "TRT01P": ("Planned Treatment for Period 01", "arm label from study.toml, else the code"),
    "TRT01A": ("Actual Treatment for Period 01", "TRT01P when every infusion received is of a "
               "drug the planned arm gives; the label of the one arm giving exactly the drugs "
               "received (same exercise as planned when several) when not; else the drugs "
               "received, joined by ' + '; empty when the arm prescribes an infusion or "
               "exercise and the participant has neither (not treated)"),
    "ITTFL": ("Intent-To-Treat Population Flag", "'Y' for every randomised participant"),
    "SAFFL": ("Safety Population Flag", "'Y' when the participant received an infusion or "
              "attended an exercise session (any study intervention)"),
})

_LABELS = MappingProxyType({
    "STUDYID": "Study Identifier", "USUBJID": "Unique Subject Identifier",
    "ARM": "Description of Planned Arm", "PARAMCD": "Parameter Code", "PARAM": "Parameter",
    "AVISIT": "Analysis Visit", "AVISITN": "Analysis Visit (N)", "VISIT": "Visit Name",
    "ADY": "Analysis Relative Day", "AWTARGET": "Analysis Window Target",
    "AWLO": "Analysis Window Beginning Timepoint", "AWHI": "Analysis Window Ending Timepoint",
    "AVAL": "Analysis Value", "BASE": "Baseline Value", "CHG": "Change from Baseline",
    "PCHG": "Percent Change from Baseline", "ABLFL": "Baseline Record Flag",
    "ANL01FL": "Analysis Flag 01", "ANL01RSN": "Reason Not Analysed (ketex)",
    "DTYPE": "Derivation Type", "CRIT1": "Analysis Criterion 1",
    "CRIT1FL": "Criterion 1 Evaluation Result Flag", "CRIT2": "Analysis Criterion 2",
    "CRIT2FL": "Criterion 2 Evaluation Result Flag", "STARTDY": "Time-to-Event Origin Day",
    "CNSR": "Censor", "event": "Event (1 = event; ketex)", "EVNTDESC": "Event or Censoring "
    "Description", "CNSDTDSC": "Censor Date Description", "SITEID": "Study Site Identifier",
    "AGE": "Age", "SEX": "Sex", "WEIGHTBL": "Weight at Baseline (kg)",
    "HEIGHTBL": "Height at Baseline (cm)", "HRRESTBL": "Resting Heart Rate (beats/min)",
    "HRMAXBL": "Maximal Heart Rate (beats/min)", "BBLOCKFL": "Beta-Blocker Flag",
    "RANDDT": "Date of Randomization",
})


def adsl(trial: Trial) -> pd.DataFrame:
    """The subject-level dataset: one row per participant with the baseline covariates.

    Columns ``STUDYID, USUBJID, SUBJID, ARM, TRT01P, TRT01A``, then one column per factor
    the arms declare (``factors`` in ``[[arms]]``; named as the factor in upper case, e.g.
    ``DRUG``, ``EXERCISE``, holding the participant's arm's level), ``ITTFL, SAFFL`` and
    the baseline covariates. ``TRT01A`` follows :func:`actual_treatment`.

    Raises
    ------
    ValueError
        When a factor's column name would repeat another ADSL column.

    Examples
    --------
    >>> import ketex
    >>> table = adsl(ketex.load_trial(ketex.sample_study_path()))
    >>> table[["USUBJID", "ARM", "AGE", "SEX", "ITTFL", "SAFFL"]].head(2)
      USUBJID     ARM   AGE SEX ITTFL SAFFL
    0    P001  SINGLE  27.0   F     Y     Y
    1    P002  SERIES  28.0   F     Y     Y
    """
    people = trial.participants
    protocol = trial.protocol
    labels = {arm.code: arm.label or arm.code for arm in protocol.arms}
    treated = set(trial.infusions["participant_id"]) | set(trial.exercise["participant_id"])
    actual = actual_treatment(trial)
    out = pd.DataFrame({
        "STUDYID": pd.Series(protocol.study_id, index=people.index, dtype="string"),
        "USUBJID": people["participant_id"].astype("string"),
        "SUBJID": people["participant_id"].astype("string"),
        "ARM": people["arm"].astype("string"),
        "TRT01P": people["arm"].map(labels).astype("string"),
        "TRT01A": people["participant_id"].map(actual).astype("string"),
    })
    for column, factor in _factor_columns(protocol).items():
        levels = {arm.code: dict(arm.factors).get(factor) for arm in protocol.arms}
        out[column] = people["arm"].map(levels).astype("string")
    out["ITTFL"] = pd.Series("Y", index=people.index, dtype="string")
    out["SAFFL"] = people["participant_id"].map(
        lambda p: "Y" if p in treated else "N").astype("string")
    extra = covariates(people).reset_index(drop=True)
    extra.index = out.index
    clash = sorted(set(out.columns) & set(extra.columns))
    if clash:
        raise ValueError(
            f"study.toml: factor(s) {', '.join(clash)} of [[arms]] factors would repeat the "
            "ADSL column(s) of the same name; rename the factor(s)"
        )
    return pd.concat([out, extra], axis=1)


def _factor_columns(protocol) -> dict[str, str]:
    """ADSL column name -> factor name, for every factor the arms declare.

    Examples
    --------
    >>> from ketex.study.protocol import Arm, Protocol, Visit
    >>> arms = (Arm("KA", factors={"drug": "ketamine", "exercise": "aerobic"}),
    ...         Arm("MS", factors={"drug": "midazolam", "exercise": "stretching"}))
    >>> _factor_columns(Protocol("F", arms, (Visit("BASELINE", 0, (-7, 0)),)))
    {'DRUG': 'drug', 'EXERCISE': 'exercise'}
    """
    columns = factor_columns(protocol)
    for name, factor in columns.items():
        if name in _ADSL_COLUMNS:
            raise ValueError(
                f"study.toml: factor {factor!r} of [[arms]] factors gives the ADSL column "
                f"{name}, which another column already has; rename the factor"
            )
    return columns


def actual_treatment(trial: Trial) -> pd.Series:
    """The treatment each participant actually received (ADSL ``TRT01A``), by participant.

    The rule, in order:

    1. Every infusion the participant received is of a drug their arm gives (or their
       arm gives no drug and they received none): the planned arm's label (``TRT01P``).
       Missed infusions or sessions do not change it: adherence is measured by
       :func:`ketex.infusion_exposure` and :func:`ketex.exercise_dose`. Exercise
       sessions are attendance of the arm's own programme, so they do not change it
       either.
    2. An arm prescribes infusions or exercise and the participant has neither an
       infusion nor a session: missing (not treated).
    3. Otherwise (a drug the arm does not give was received, see the ``drug_not_in_arm``
       warning): the label of the one arm whose drugs are exactly the drugs received,
       preferring, when several arms give them, the one with the planned arm's exercise
       prescription; when no single arm matches, the drugs received joined by ``" + "``.

    Examples
    --------
    >>> import ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> actual_treatment(trial).head(2)
    participant_id
    P001                 Single ketamine infusion + exercise
    P002    Six ketamine infusions over two weeks + exercise
    Name: TRT01A, dtype: string
    """
    protocol = trial.protocol
    labels = {arm.code: arm.label or arm.code for arm in protocol.arms}
    infusions = trial.infusions
    received = (
        infusions.groupby("participant_id")["drug"].agg(
            lambda d: tuple(dict.fromkeys(str(v).lower() for v in d.dropna())))
        if len(infusions) else pd.Series(dtype=object)
    )
    sessions = set(trial.exercise["participant_id"]) if len(trial.exercise) else set()
    out = {}
    for pid, code in zip(trial.participants["participant_id"], trial.participants["arm"],
                         strict=True):
        arm = protocol.arm(code)
        drugs = received.get(pid, ())
        prescribes = bool(arm.treatments) or protocol.exercise_for(code) is not None
        if not drugs and pid not in sessions and prescribes:
            out[pid] = pd.NA
        elif set(drugs) <= set(arm.drugs):
            out[pid] = labels[code]
        else:
            out[pid] = _matching_arm(protocol, code, drugs, labels)
    index = pd.Index(trial.participants["participant_id"], name="participant_id")
    return pd.Series([out[p] for p in index], index=index, dtype="string", name="TRT01A")


def _matching_arm(protocol, planned: str, drugs: tuple[str, ...], labels) -> str:
    same = [a for a in protocol.arms if set(a.drugs) == set(drugs)]
    if len(same) > 1:
        exercise = protocol.exercise_for(planned)
        same = [a for a in same if protocol.exercise_for(a.code) == exercise]
    return labels[same[0].code] if len(same) == 1 else " + ".join(drugs)


def write_adam(trial: Trial, folder: str | Path, *, xpt: bool = False) -> dict[str, Path]:
    """Write ADSL, ADQS, ADTTE, the safety datasets and ``define.csv`` (CSV, and SAS XPORT
    v5 when asked).

    Parameters
    ----------
    trial : Trial
    folder : str or Path
        Created if needed; nothing is written outside it. Existing files of the same
        names are replaced.
    xpt : bool
        Also write ``adsl.xpt``, ``adqs.xpt``, ``adtte.xpt``, ... (SAS transport version 5:
        names of at most 8 characters, labels of at most 40; needs ``pyreadstat``).

    Returns
    -------
    dict of str to Path
        Each file written, by name (``"adsl.csv"``, ...).

    Notes
    -----
    - ADQS: :func:`ketex.analysis_dataset` of every scale the protocol schedules and the
      trial rated, stacked (one ``PARAMCD`` per scale), with the default options; it
      carries the factor columns of ADSL (``DRUG``, ``EXERCISE``, ...) when the arms
      declare factors.
    - ADTTE: time to relapse (the protocol's ``relapse_preset``, ``TTRELAPS``), to
      response (``TTRESP``) and to remission (the protocol's ``remission_preset``,
      ``TTREMIS``) on the primary scale; participants left out are listed with their
      reason in ``adtte_excluded.csv``.
    - ADAE, ADVS, ADCM (:mod:`ketex.io.adam_safety`): written when the trial's
      ``adverse_events``, ``vitals`` or ``medications`` table has rows; ``TRTEMFL`` by
      :func:`ketex.treatment_emergent` with its default rule, ``BASE`` of ADVS per
      infusion. Adverse events without any infusion or exercise record raise the
      ``ValueError`` of :func:`ketex.treatment_emergent` (no event could be judged).
    - In the XPORT files, booleans are 1/0, dates are SAS dates (``DATE9.``), missing
      text is blank, and a name longer than 8 characters is cut to 8 (``define.csv``
      gives the mapping).

    Examples
    --------
    >>> import tempfile, ketex
    >>> trial = ketex.load_trial(ketex.sample_study_path())
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sorted(write_adam(trial, folder))
    ['adqs.csv', 'adsl.csv', 'adtte.csv', 'adtte_excluded.csv', 'define.csv']
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"folder: {folder} exists and is not a folder; give a folder path")
    if xpt:
        try:
            import pyreadstat  # noqa: F401
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("xpt=True needs pyreadstat; install it with "
                              "'pip install pyreadstat'") from None
    folder.mkdir(parents=True, exist_ok=True)
    datasets = {"ADSL": adsl(trial), "ADQS": _adqs(trial)}
    adtte, excluded = _adtte(trial)
    datasets["ADTTE"] = adtte
    datasets |= _safety_datasets(trial)
    written: dict[str, Path] = {}
    define = []
    factors = _factor_columns(trial.protocol)
    for name, frame in datasets.items():
        names = _xpt_names(frame.columns)
        define += _define(name, frame, names, factors if name in ("ADSL", "ADQS") else {})
        path = folder / f"{name.lower()}.csv"
        csv_safe(_csv(frame)).to_csv(path, index=False)
        written[path.name] = path
        if xpt:
            path = folder / f"{name.lower()}.xpt"
            _write_xpt(frame, names, name, path,
                       factors if name in ("ADSL", "ADQS") else {})
            written[path.name] = path
    path = folder / "adtte_excluded.csv"
    csv_safe(excluded).to_csv(path, index=False)
    written[path.name] = path
    path = folder / "define.csv"
    csv_safe(pd.DataFrame(define, columns=list(DEFINE_COLUMNS))).to_csv(path, index=False)
    written[path.name] = path
    return dict(sorted(written.items()))


def _safety_datasets(trial: Trial) -> dict[str, pd.DataFrame]:
    from ketex.io import adam_safety

    made = {}
    for name, table, build in (("ADAE", trial.adverse_events, adam_safety.adae),
                               ("ADVS", trial.vitals, adam_safety.advs),
                               ("ADCM", trial.medications, adam_safety.adcm)):
        if len(table):
            made[name] = build(trial)
    return made


def _safety_columns(dataset: str):
    from ketex.io import adam_safety

    return {"ADAE": adam_safety.ADAE_COLUMNS, "ADVS": adam_safety.ADVS_COLUMNS,
            "ADCM": adam_safety.ADCM_COLUMNS}.get(dataset, {})


def _adqs(trial: Trial) -> pd.DataFrame:
    rated = set(trial.assessments["instrument"].dropna())
    scales = []
    for code in ["MADRS", "HAM-D17", "QIDS-SR16", "PHQ-9", "BDI-II"]:
        if code in rated and scheduled_visits(trial.protocol, code):
            scales.append(code)
    frames = [analysis_dataset(trial, code) for code in scales]
    for frame in frames:
        frame["AVISIT"] = frame["AVISIT"].astype("string")
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=list(ANALYSIS_COLUMNS))


def _adtte(trial: Trial) -> tuple[pd.DataFrame, pd.DataFrame]:
    ends = trial.protocol.endpoints
    rules = [PRESETS.get(ends.relapse_preset), Response(ends.response_reduction)]
    remission = PRESETS.get(ends.remission_preset)
    if isinstance(remission, Remission):
        rules.append(remission)
    tables, excluded = [], []
    for rule in rules:
        if rule is None:
            continue
        result = time_to_event(trial, rule)
        tables.append(result.table)
        excluded.append(result.excluded.assign(PARAMCD=result.paramcd))
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(
        columns=list(TTE_COLUMNS))
    gone = pd.concat(excluded, ignore_index=True) if excluded else pd.DataFrame(
        columns=["USUBJID", "ARM", "reason", "PARAMCD"])
    return table, gone[["PARAMCD", "USUBJID", "ARM", "reason"]]


def _csv(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype("string")
    return out


def _xpt_names(columns) -> dict[str, str]:
    names: dict[str, str] = {}
    for column in columns:
        base = re.sub(r"[^A-Z0-9_]", "", str(column).upper())[:8] or "VAR"
        name, k = base, 1
        while name in names.values():
            suffix = str(k)
            name, k = base[: 8 - len(suffix)] + suffix, k + 1
        names[column] = name
    return names


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if pd.api.types.is_bool_dtype(series):
        return "integer"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    return "text"


def _describe(dataset: str, column: str, factors: dict[str, str]) -> str:
    if dataset in ("ADSL", "ADQS") and column in factors:
        return (f"factor '{factors[column]}': the level of the participant's arm "
                "(study.toml [[arms]] factors)")
    if dataset == "ADSL" and column in _ADSL_COLUMNS:
        return _ADSL_COLUMNS[column][1]
    if dataset == "ADQS" and column in ANALYSIS_COLUMNS:
        return ANALYSIS_COLUMNS[column]
    if dataset == "ADTTE" and column in TTE_COLUMNS:
        return TTE_COLUMNS[column]
    if column in _safety_columns(dataset):
        return _safety_columns(dataset)[column][1]
    source = {v: k for k, v in COVARIATE_NAMES.items()}.get(column, column)
    return f"participants.{source} (baseline covariate)"


def _define(dataset: str, frame: pd.DataFrame, names: dict[str, str],
            factors: dict[str, str]) -> list[tuple]:
    rows = []
    for column in frame.columns:
        rows.append((dataset, column, names[column], _label(column, factors, dataset),
                     _kind(frame[column]), _describe(dataset, column, factors)))
    return rows


def _label(column: str, factors: dict[str, str], dataset: str = "") -> str:
    if column in factors:
        return f"Factor: {factors[column]}"[:40]
    if column in _safety_columns(dataset):
        return _safety_columns(dataset)[column][0][:40]
    label = _LABELS.get(column) or (_ADSL_COLUMNS[column][0] if column in _ADSL_COLUMNS
                                    else str(column))
    return label[:40]


def _write_xpt(frame: pd.DataFrame, names: dict[str, str], dataset: str, path: Path,
               factors: dict[str, str]) -> None:
    import pyreadstat

    out = pd.DataFrame(index=frame.index)
    formats = {}
    for column in frame.columns:
        values = frame[column]
        name = names[column]
        kind = _kind(values)
        if kind == "date":
            out[name] = [v.date() if pd.notna(v) else None for v in values]
            formats[name] = "DATE9"
        elif pd.api.types.is_bool_dtype(values):
            out[name] = values.astype("Float64").astype("float64")
        elif kind in ("integer", "number"):
            out[name] = values.astype("Float64").astype("float64")
        else:
            out[name] = values.astype("string").fillna("").astype(object)
    labels = [_label(c, factors, dataset) for c in frame.columns]
    pyreadstat.write_xport(out, str(path), table_name=dataset, column_labels=labels,
                           file_format_version=5, variable_format=formats or None)
