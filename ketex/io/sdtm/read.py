"""Reading a folder of SDTM datasets into a validated :class:`~ketex.study.trial.Trial`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from ketex.errors import DataValidationError
from ketex.io.folder import read_protocol
from ketex.io.sdtm.datasets import Dataset, find_datasets
from ketex.io.sdtm.provenance import RawTable, relocate, relocated_error
from ketex.io.sdtm.records import read_events, read_ex, read_scales
from ketex.io.sdtm.safety_read import finish_adverse_events, read_ae, read_cm, read_vitals
from ketex.io.sdtm.subjects import Subjects, read_dm, read_randomisation, read_vs
from ketex.io.sdtm.supp import attach_supp
from ketex.study.problems import ProblemLog
from ketex.study.protocol import Protocol
from ketex.study.tables import SAFETY_TABLES
from ketex.study.trial import Trial
from ketex.study.validation import ON_ERROR, build_trial

__all__ = ["load_sdtm"]

_EVENT_DOMAINS = ("HO", "CE", "DS")


def load_sdtm(folder: str | Path, *, protocol: Protocol | str | Path | None = None,
              on_error: str = "raise") -> Trial:
    """Load a trial from CDISC SDTM datasets (``.xpt`` or ``.csv``), validating everything.

    Parameters
    ----------
    folder : str or Path
        A folder of SDTM datasets, one file per domain, named after the domain in any
        case (``dm.xpt``, ``DM.csv``): DM (required), DS, VS, EX, QS and/or RS, HO, CE,
        AE, CM and their SUPP-- datasets. Other domains are reported and not read.
    protocol : Protocol or path, optional
        The study protocol; by default ``study.toml`` in ``folder``.
    on_error : {"raise", "drop"}
        ``"raise"`` (default): any error raises :class:`ketex.DataValidationError` with
        the whole report. ``"drop"``: records with errors are left out and listed in
        ``trial.report``.

    Returns
    -------
    Trial
        Every record is either in the trial or in ``trial.report`` (with its file and
        line: the CSV line, or the record number of an XPORT file).

    Raises
    ------
    DataValidationError
        The datasets or the protocol break a rule, DM is missing or unusable, or there
        is no protocol; ``exc.report`` lists every problem.
    OSError
        ``folder`` (or the ``protocol`` file given) does not exist.

    Notes
    -----
    The mapping (which variable fills which column, study days, test codes) is described
    in ``docs/loading-data.md``, section "CDISC SDTM".

    Examples
    --------
    >>> import tempfile
    >>> from ketex.io.folder import load_trial
    >>> from ketex.io.sdtm import write_sdtm
    >>> trial = load_trial("tests/data/mini")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_sdtm(trial, folder, format="xpt")
    ...     loaded = load_sdtm(folder)
    >>> loaded.differences(trial)
    []
    >>> loaded.assessments.loc[0, ["participant_id", "day", "visit", "instrument", "total"]]
    participant_id         M01
    day                     -3
    visit             BASELINE
    instrument           MADRS
    total                 32.0
    Name: 0, dtype: object
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    folder = Path(folder)
    if not folder.is_dir():
        if folder.exists():
            raise DataValidationError(f"{folder} is a file; give the folder of SDTM datasets")
        raise FileNotFoundError(f"{folder} does not exist; give the folder of SDTM datasets")
    protocol, raw, log, everything = read_sdtm_tables(folder, protocol)
    try:
        trial = build_trial(protocol, raw, on_error=on_error, source=str(folder), log=log)
    except DataValidationError as exc:
        raise relocated_error(exc, everything, str(folder)) from None
    return replace(trial, report=relocate(trial.report, everything))


def read_sdtm_tables(folder: Path, protocol: Protocol | str | Path | None = None
                     ) -> tuple[Protocol, dict, ProblemLog, list[RawTable]]:
    """The protocol, the raw trial tables, the problems found reading them, and the
    :class:`RawTable` of each table (the records every row came from)."""
    protocol = _protocol(folder, protocol)
    log = ProblemLog()
    datasets = find_datasets(folder, log)
    subjects, randomised = _participants(datasets, log)
    tables = _records(datasets, subjects, randomised, protocol, log)
    raw = {table.name: table.frame() if table.rows else None for table in tables}
    raw["participants"] = subjects.table.frame()
    everything = [subjects.table, *tables]
    if "assessments" not in log.unreadable and raw.get("assessments") is None:
        raw["assessments"] = RawTable("assessments").frame()
    # the readers left out every record they reported as an error; the rows their
    # errors marked are dataset records, not rows of the tables built from them (they
    # would reject unrelated rows: SUPPDM record 3 would drop participant 3 unnamed)
    log.rejected.clear()
    return protocol, raw, log, everything


def _protocol(folder: Path, protocol: Protocol | str | Path | None) -> Protocol:
    if isinstance(protocol, Protocol):
        return protocol
    if protocol is not None:
        return read_protocol(protocol)
    path = folder / "study.toml"
    if not path.exists():
        log = ProblemLog()
        message = (f"{folder} has no study.toml: SDTM datasets do not hold the protocol "
                   "(arms, visit windows, scales) that ketex validates against. Pass "
                   "protocol=Protocol(...) or the path of a study.toml, or add study.toml to "
                   "the folder (see docs/study-folder.md)")
        log.add("study", "missing_protocol", message, source_file="study.toml")
        raise DataValidationError(message, log.report())
    return read_protocol(path)


def _participants(datasets: dict[str, Dataset],
                  log: ProblemLog) -> tuple[Subjects, pd.Series | None]:
    """DM, then randomisation dates from DS, baseline vitals from VS, then SUPPDM.

    Also returns the mask of the DS records used as randomisation dates.
    """
    if "DM" not in datasets:
        if "participants" not in log.unreadable:
            log.add("participants", "missing_dataset",
                    "there is no DM dataset (dm.xpt or dm.csv, any case): DM lists the "
                    "participants and their arms, so nothing can be loaded. Add DM",
                    source_file="dm.xpt")
        raise DataValidationError(
            "no usable DM dataset; nothing was loaded:\n"
            + "\n".join(log.report()["message"].astype(str)), log.report())
    subjects = read_dm(datasets["DM"], log)
    randomised = None
    if "DS" in datasets:
        randomised = read_randomisation(datasets["DS"], subjects, log)
    if "VS" in datasets:
        read_vs(datasets["VS"], subjects, log)
    if "SUPPDM" in datasets:
        attach_supp(datasets["SUPPDM"], datasets["DM"], {}, subjects, log)
    return subjects, randomised


def _records(datasets: dict[str, Dataset], subjects: Subjects,
             randomised: pd.Series | None, protocol: Protocol,
             log: ProblemLog) -> list[RawTable]:
    """EX, QS, RS, event and safety domains, each followed by its SUPP-- dataset."""
    tables = {name: RawTable(name) for name in ("infusions", "exercise", "assessments",
                                                 "events", *SAFETY_TABLES)}
    placements: dict[str, dict] = {}
    if "EX" in datasets:
        placements["EX"] = read_ex(datasets["EX"], subjects, tables["infusions"],
                                   tables["exercise"], log)
    scales: list[str] = [d for d in ("QS", "RS") if d in datasets]
    if not scales and "assessments" not in log.unreadable:
        log.add("assessments", "missing_dataset",
                "there is no QS or RS dataset (qs.xpt, rs.xpt, or .csv): the trial has no "
                "scale assessments. Add the QS (or RS) dataset", source_file="qs.xpt")
        log.unreadable.add("assessments")
    for domain in scales:
        placements[domain] = read_scales(datasets[domain], subjects, protocol,
                                         tables["assessments"], log)
    for domain in _EVENT_DOMAINS:
        if domain in datasets:
            placements[domain] = read_events(datasets[domain], subjects, tables["events"], log,
                                             skip=randomised if domain == "DS" else None)
    _safety(datasets, subjects, tables, placements, log)
    for domain in ("EX", "QS", "RS", *_EVENT_DOMAINS, "AE", "VS", "CM"):
        if f"SUPP{domain}" in datasets:
            attach_supp(datasets[f"SUPP{domain}"], datasets.get(domain),
                        placements.get(domain, {}), subjects, log)
    finish_adverse_events(tables["adverse_events"])
    return list(tables.values())


def _safety(datasets: dict[str, Dataset], subjects: Subjects, tables: dict[str, RawTable],
            placements: dict[str, dict], log: ProblemLog) -> None:
    """AE (after the event domains: suicidal AEs become events unless already there), VS, CM."""
    if "AE" in datasets:
        placements["AE"] = read_ae(datasets["AE"], subjects, tables["adverse_events"],
                                   tables["events"], log)
    if "VS" in datasets:
        placements["VS"] = read_vitals(datasets["VS"], subjects, tables["vitals"], log)
    if "CM" in datasets:
        placements["CM"] = read_cm(datasets["CM"], subjects, tables["medications"], log)
