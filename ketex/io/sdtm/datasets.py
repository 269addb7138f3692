"""Finding SDTM datasets in a folder and reading them (CSV or SAS XPORT v5) with provenance.

Every dataset becomes a :class:`Dataset`: a frame with upper-case variable names, values
as read (text, or numbers for XPORT numeric variables; None where empty) and the
provenance columns ``_source_file`` and ``_line`` (the CSV line, or the 1-based record
number of an XPORT file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ketex.io.files import read_csv_table, rows_to_frame
from ketex.io.sdtm.xport import XportError, read_xport
from ketex.study.problems import LINE, PARSE_ERROR, SOURCE_FILE, ProblemLog

__all__ = ["DOMAIN_TABLES", "Dataset", "find_datasets", "numbers", "texts"]

# the ketex table each domain's records go to (named in the report)
DOMAIN_TABLES = {
    "DM": "participants",
    "VS": "participants, vitals",
    "EX": "infusions, exercise",
    "QS": "assessments",
    "RS": "assessments",
    "HO": "events",
    "CE": "events",
    "AE": "adverse_events",
    "DS": "events",
    "CM": "medications",
}
SUPPORTED = (*DOMAIN_TABLES, *(f"SUPP{d}" for d in DOMAIN_TABLES))
TRIAL_DESIGN = ("TA", "TE", "TV", "TI", "TS", "TD", "TM")
FORMATS = (".csv", ".xpt")


@dataclass(frozen=True)
class Dataset:
    """One SDTM dataset as read: its domain, file name and records."""

    domain: str
    file: str
    frame: pd.DataFrame
    _texts: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def table(self) -> str:
        """The ketex table its records go to (SUPP-- datasets: their parent's)."""
        return DOMAIN_TABLES.get(self.domain.removeprefix("SUPP"), self.domain)

    def column(self, name: str) -> pd.Series:
        """A variable's values; all None when the dataset lacks the variable."""
        if name in self.frame.columns:
            return self.frame[name]
        return pd.Series(None, index=self.frame.index, dtype=object)

    def text(self, name: str) -> pd.Series:
        """A variable's values as text (see :func:`texts`); all NA when absent."""
        if name not in self._texts:
            self._texts[name] = texts(self.column(name))
        return self._texts[name]

    def subset(self, mask: pd.Series) -> Dataset:
        """The same dataset with only the records where ``mask`` is true."""
        return Dataset(self.domain, self.file, self.frame[mask.fillna(False).astype(bool)])

    def first_column(self, *names: str) -> str | None:
        """The first of ``names`` the dataset has, or None."""
        return next((n for n in names if n in self.frame.columns), None)

    def missing(self, *required: str | tuple[str, ...]) -> list[str]:
        """The required variables the dataset lacks; a tuple means 'one of these'."""
        absent = []
        for need in required:
            options = need if isinstance(need, tuple) else (need,)
            if not any(o in self.frame.columns for o in options):
                absent.append(" or ".join(options))
        return absent


def find_datasets(folder: Path, log: ProblemLog) -> dict[str, Dataset]:
    """Read every ``.csv`` and ``.xpt`` dataset of a folder, keyed by upper-case domain.

    Files of domains ketex does not read, unreadable files and a domain given twice
    are reported in ``log``; other files (``study.toml``, ``define.xml``) are ignored.
    """
    by_domain: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        domain = path.stem.upper()
        if path.suffix.lower() not in FORMATS:
            if domain in SUPPORTED and path.suffix.lower() in (".sas7bdat", ".xlsx", ".parquet"):
                log.add(DOMAIN_TABLES.get(domain.removeprefix("SUPP"), domain),
                        "unsupported_format",
                        f"{path.name}: ketex reads SDTM datasets as .xpt (SAS XPORT v5) or "
                        ".csv; none of its records were loaded. Export it as XPORT or CSV",
                        source_file=path.name, severity="warning")
            continue
        by_domain.setdefault(domain, []).append(path)
    datasets = {}
    for domain, paths in by_domain.items():
        table = DOMAIN_TABLES.get(domain.removeprefix("SUPP"), domain)
        if len(paths) > 1:
            log.add(table, "ambiguous_table",
                    f"{' and '.join(p.name for p in paths)} hold the same domain {domain}; "
                    "keep only one of them. None of their records were loaded",
                    source_file=paths[0].name)
            log.unreadable.add(table)
            continue
        path = paths[0]
        if domain not in SUPPORTED:
            _report_unread(path, domain, log)
            continue
        frame = _read(path, table, log)
        if frame is not None:
            datasets[domain] = Dataset(domain, path.name, frame)
    return datasets


def _report_unread(path: Path, domain: str, log: ProblemLog) -> None:
    if domain in TRIAL_DESIGN:
        message = (f"{path.name}: trial design dataset {domain} is not read; the protocol "
                   "(arms, visits) comes from study.toml")
        rule = "trial_design_not_read"
    else:
        message = (f"{path.name}: ketex does not read the {domain} domain (it reads "
                   f"{', '.join(DOMAIN_TABLES)} and their SUPP-- datasets); none of its "
                   "records were loaded")
        rule = "unknown_domain"
    log.add(domain, rule, message, source_file=path.name, severity="warning")


def _read(path: Path, table: str, log: ProblemLog) -> pd.DataFrame | None:
    if path.suffix.lower() == ".csv":
        frame = read_csv_table(path, table, log)
    else:
        frame = _read_xpt(path, table, log)
    if frame is None:
        return None
    return _normalise(frame, path.name, table, log)


def _read_xpt(path: Path, table: str, log: ProblemLog) -> pd.DataFrame | None:
    try:
        names, records, members = read_xport(path)
    except (XportError, OSError) as exc:
        log.add(table, "malformed_file",
                f"{path.name} cannot be read as a SAS XPORT v5 file ({exc}); none of its "
                "records were loaded. Export the dataset again",
                source_file=path.name)
        log.unreadable.add(table)
        return None
    if members > 1:
        log.add(table, "extra_member",
                f"{path.name} holds {members} datasets; only the first was read. Put each "
                "domain in its own file", source_file=path.name, severity="warning")
    return rows_to_frame(names, records, list(range(1, len(records) + 1)), path.name, table,
                         log)


def _normalise(frame: pd.DataFrame, file: str, table: str, log: ProblemLog) -> pd.DataFrame | None:
    """Upper-case variable names, None for empty values; malformed records reported."""
    names = [c if c.startswith("_") else c.strip().upper() for c in frame.columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        log.add(table, "duplicate_column",
                f"{file} has the variable(s) {', '.join(duplicated)} more than once (names "
                "are not case-sensitive); none of its records were loaded. Remove the "
                "duplicates", source_file=file, column=", ".join(duplicated))
        log.unreadable.add(table)
        return None
    frame = frame.set_axis(names, axis=1)
    if PARSE_ERROR in frame.columns:
        log.flag(table, frame, frame[PARSE_ERROR].notna(), None, "malformed_row",
                 lambda row: row[PARSE_ERROR])
        frame = frame[frame[PARSE_ERROR].isna()].drop(columns=PARSE_ERROR)
    data = {c: (frame[c] if c in (SOURCE_FILE, LINE) else _cleaned(frame[c])) for c in names
            if c != PARSE_ERROR}
    out = pd.DataFrame(data, index=frame.index).reset_index(drop=True)
    if "USUBJID" in out.columns:  # named in the report's participant_id column
        out["participant_id"] = texts(out["USUBJID"])
    return out


def _cleaned(values: pd.Series) -> pd.Series:
    """Numbers (XPORT numeric variables) as float64; text stripped, None where empty."""
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("floating", "integer", "mixed-integer-float"):
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if kind in ("string", "empty"):
        text = values.astype("string").str.strip()
        text = text.mask(text == "")
        return text.astype(object).where(text.notna(), None)
    return values.map(_clean).astype(object)


def _clean(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def texts(values: pd.Series) -> pd.Series:
    """Values as stripped text (numbers as written: 3 not 3.0), NA where empty.

    Examples
    --------
    >>> texts(pd.Series(["a ", 3.0, None], dtype=object)).tolist()
    ['a', '3', <NA>]
    >>> texts(pd.Series([1.0, 2.5, np.nan])).tolist()
    ['1', '2.5', <NA>]
    """
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "empty"):
        text = values.astype("string").str.strip()
        return text.mask(text == "")
    if kind == "floating" or values.dtype.kind == "f":
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        out = pd.Series(pd.NA, index=values.index, dtype="string")
        whole = numbers.notna() & (numbers == numbers.round()) & (numbers.abs() < 2**53)
        out[whole] = numbers[whole].astype("int64").astype("string")
        rest = numbers.notna() & ~whole
        out[rest] = numbers[rest].map(repr).astype("string")
        return out

    def one(value: object) -> object:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return pd.NA
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else repr(value)
        return str(value).strip() or pd.NA

    return values.map(one).astype("string")


def numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Values as floats, and the mask of values that are given but not numbers.

    Examples
    --------
    >>> parsed, bad = numbers(pd.Series(["1", 2.5, "x", None], dtype=object))
    >>> parsed.tolist(), bad.tolist()
    ([1.0, 2.5, nan, nan], [False, False, True, False])
    """
    if values.dtype.kind == "f":
        return values, pd.Series(False, index=values.index)
    parsed = pd.to_numeric(texts(values), errors="coerce").astype("float64")
    return parsed, values.notna() & parsed.isna()
