"""Metabolic equivalents (METs) of exercise sessions, with the source of every value.

A session's MET value comes from the first source in :attr:`MetOptions.sources` that can
give one:

``given``
    The ``met`` column of the exercise table (measured, or computed by the study).
``acsm_cycling``
    The ACSM leg-cycling equation from the session's mean power and the participant's body
    mass: VO2 (mL/kg/min) = 10.8 x watts / kg + 7, METs = VO2 / 3.5 (ACSM's Guidelines for
    Exercise Testing and Prescription, metabolic equations). Cycling sessions only.
``compendium_2011``
    The Compendium of Physical Activities (Ainsworth et al., Med Sci Sports Exerc
    2011;43:1575-81) by modality and intensity: for stationary cycling, the watts band of
    the session, else "bicycling, stationary, general" when no power was recorded. The
    source name carries the Compendium version (``compendium_2011``); a table for another
    version (the 2024 update revises these values) gives ``compendium_<version>``.

A session no source can serve gets NaN, and ``met_reference`` says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "COMPENDIUM_2011",
    "CompendiumEntry",
    "CompendiumTable",
    "MET_SOURCES",
    "MetOptions",
    "acsm_cycling_met",
    "normalise_modality",
    "session_mets",
]

#: The sources a MET value can come from, in the default order of preference.
MET_SOURCES = ("given", "acsm_cycling", "compendium")

#: Oxygen uptake of one MET, mL/kg/min.
ML_O2_PER_KG_MIN_PER_MET = 3.5

# Names researchers write for stationary (leg) cycling; compared after normalise_modality.
_CYCLING_NAMES = frozenset(
    {
        "cycling",
        "bicycling",
        "stationary cycling",
        "stationary bicycling",
        "stationary bike",
        "stationary bicycle",
        "bike",
        "cycle",
        "cycle ergometer",
        "cycle ergometry",
        "ergometer",
        "leg cycling",
        "cycling ergometer",
    }
)


def normalise_modality(modality: object) -> str | None:
    """The canonical name of an exercise modality: lower case, ``cycling`` for its synonyms.

    Parameters
    ----------
    modality : str or missing

    Returns
    -------
    str or None
        None for a missing value.

    Examples
    --------
    >>> normalise_modality("Stationary_Bike"), normalise_modality("Walking")
    ('cycling', 'walking')
    """
    # pandas-stubs: isna takes any scalar
    if modality is None or (not isinstance(modality, str)
                            and pd.isna(modality)):  # type: ignore[call-overload]
        return None
    name = " ".join(str(modality).strip().lower().replace("_", " ").replace("-", " ").split())
    if not name:
        return None
    return "cycling" if name in _CYCLING_NAMES else name


def acsm_cycling_met(watts: float | np.ndarray, weight_kg: float | np.ndarray) -> np.ndarray:
    """METs of leg cycling by the ACSM equation.

    VO2 (mL/kg/min) = 10.8 x watts / body mass (kg) + 7, and METs = VO2 / 3.5. The 7
    mL/kg/min are 3.5 for rest and 3.5 for moving the legs unloaded.

    Parameters
    ----------
    watts : float or array
        Mean power on the cycle ergometer.
    weight_kg : float or array
        Body mass.

    Returns
    -------
    numpy.ndarray
        METs; NaN where either input is missing or the mass is not positive.

    Examples
    --------
    100 W at 80 kg: VO2 = 10.8 x 100 / 80 + 7 = 20.5 mL/kg/min, so 20.5 / 3.5 METs.

    >>> round(float(acsm_cycling_met(100, 80)), 3)
    5.857
    """
    watts = np.asarray(watts, dtype=float)
    weight = np.asarray(weight_kg, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        vo2 = 10.8 * watts / np.where(weight > 0, weight, np.nan) + 7.0
    return vo2 / ML_O2_PER_KG_MIN_PER_MET


@dataclass(frozen=True)
class CompendiumEntry:
    """One activity of the Compendium of Physical Activities.

    Parameters
    ----------
    code : str
        The Compendium's five-digit activity code (``"02012"``).
    modality : str
        The canonical modality it applies to (see :func:`normalise_modality`).
    description : str
        The Compendium's wording.
    met : float
    watts : tuple of int or None
        Inclusive whole-watt band ``(low, high)`` for ergometer activities; None for the
        entry used when no power was recorded (the "general" entry).
    """

    code: str
    modality: str
    description: str
    met: float
    watts: tuple[int, int] | None = None


@dataclass(frozen=True)
class CompendiumTable:
    """A version of the Compendium, as data: its entries and its citation.

    Watts are rounded to the nearest whole watt (halves up) and looked up in the
    inclusive bands, so 50.4 W is in 30-50 W and 50.5 W in 51-89 W. Power outside every
    band has no Compendium value (NaN); so has a modality without entries.

    Examples
    --------
    >>> entry = COMPENDIUM_2011.lookup("cycling", 95.0)
    >>> entry.code, entry.met
    ('02012', 6.8)
    >>> COMPENDIUM_2011.lookup("cycling", None).description
    'bicycling, stationary, general'
    >>> COMPENDIUM_2011.lookup("cycling", 300.0) is None
    True
    """

    version: str
    citation: str
    entries: tuple[CompendiumEntry, ...]

    def __post_init__(self) -> None:
        if not self.version.strip() or " " in self.version:
            raise ValueError(
                f"CompendiumTable.version must be a word such as '2011', got {self.version!r}"
            )
        for entry in self.entries:
            if entry.watts is not None and not entry.watts[0] <= entry.watts[1]:
                raise ValueError(
                    f"CompendiumTable: entry {entry.code}: watts must be (low, high), "
                    f"got {entry.watts}"
                )

    @property
    def source(self) -> str:
        """The ``met_source`` label of values taken from this table."""
        return f"compendium_{self.version}"

    def lookup(self, modality: str | None, watts: float | None) -> CompendiumEntry | None:
        """The entry for a session of this modality and mean power (None: no entry)."""
        if modality is None:
            return None
        candidates = [e for e in self.entries if e.modality == modality]
        if watts is None or pd.isna(watts):
            general = [e for e in candidates if e.watts is None]
            return general[0] if general else None
        whole = np.floor(float(watts) + 0.5)
        for entry in candidates:
            if entry.watts is not None and entry.watts[0] <= whole <= entry.watts[1]:
                return entry
        return None


#: Stationary cycling in the 2011 Compendium (Ainsworth et al. 2011, codes 02010-02017).
COMPENDIUM_2011 = CompendiumTable(
    version="2011",
    citation=(
        "Ainsworth BE, Haskell WL, Herrmann SD, et al. 2011 Compendium of Physical "
        "Activities: a second update of codes and MET values. Med Sci Sports Exerc. "
        "2011;43(8):1575-1581."
    ),
    entries=(
        CompendiumEntry("02010", "cycling", "bicycling, stationary, general", 7.0),
        CompendiumEntry(
            "02011",
            "cycling",
            "bicycling, stationary, 30-50 watts, very light to light effort",
            3.5,
            (30, 50),
        ),
        CompendiumEntry(
            "02017",
            "cycling",
            "bicycling, stationary, 51-89 watts, light-to-moderate effort",
            4.8,
            (51, 89),
        ),
        CompendiumEntry(
            "02012",
            "cycling",
            "bicycling, stationary, 90-100 watts, moderate to vigorous effort",
            6.8,
            (90, 100),
        ),
        CompendiumEntry(
            "02013",
            "cycling",
            "bicycling, stationary, 101-160 watts, vigorous effort",
            8.8,
            (101, 160),
        ),
        CompendiumEntry(
            "02014",
            "cycling",
            "bicycling, stationary, 161-200 watts, vigorous effort",
            11.0,
            (161, 200),
        ),
        CompendiumEntry(
            "02015",
            "cycling",
            "bicycling, stationary, 201-270 watts, very vigorous effort",
            14.0,
            (201, 270),
        ),
    ),
)


@dataclass(frozen=True)
class MetOptions:
    """Where session MET values come from.

    Parameters
    ----------
    sources : tuple of str
        Sources to try, in order, among ``"given"``, ``"acsm_cycling"`` and
        ``"compendium"``; the first that gives a value wins. Leave one out to never use
        it: ``("acsm_cycling", "compendium")`` recomputes every MET from power.
    compendium : CompendiumTable
        The Compendium version to use (default: 2011).

    Examples
    --------
    >>> MetOptions().sources
    ('given', 'acsm_cycling', 'compendium')
    >>> MetOptions(sources=("walking",))
    Traceback (most recent call last):
    ...
    ValueError: MetOptions.sources: unknown source(s) walking; choose among ...
    """

    sources: tuple[str, ...] = MET_SOURCES
    compendium: CompendiumTable = field(default=COMPENDIUM_2011)

    def __post_init__(self) -> None:
        sources = tuple(self.sources)
        unknown = [s for s in sources if s not in MET_SOURCES]
        if unknown:
            raise ValueError(
                f"MetOptions.sources: unknown source(s) {', '.join(map(str, unknown))}; "
                f"choose among {', '.join(MET_SOURCES)}"
            )
        if not sources or len(set(sources)) != len(sources):
            raise ValueError(
                f"MetOptions.sources: give each source once, at least one, got {sources}"
            )
        object.__setattr__(self, "sources", sources)


def session_mets(
    sessions: pd.DataFrame,
    weight_kg: Sequence[float] | pd.Series | np.ndarray,
    *,
    default_modality: str | None = None,
    options: MetOptions | None = None,
) -> pd.DataFrame:
    """The MET value of every session, its source, and the reference it was read from.

    Parameters
    ----------
    sessions : pandas.DataFrame
        Rows of an exercise table; the optional columns ``met``, ``watts`` and
        ``modality`` are used when present.
    weight_kg : array-like
        Body mass of each session's participant, aligned with the rows (NaN if unknown).
    default_modality : str, optional
        Modality of sessions whose ``modality`` is missing (the protocol's).
    options : MetOptions, optional

    Returns
    -------
    pandas.DataFrame
        Same index as ``sessions``; columns ``met`` (float), ``met_source`` (``given``,
        ``acsm_cycling``, ``compendium_<version>`` or ``none``) and ``met_reference``
        (text: the column, equation or Compendium code used, or why there is no value).

    Examples
    --------
    >>> import pandas as pd
    >>> sessions = pd.DataFrame({"met": [6.0, None, None, None],
    ...                          "watts": [None, 100.0, 95.0, None],
    ...                          "modality": ["cycling", "cycling", "cycling", "walking"]})
    >>> out = session_mets(sessions, [80.0, 80.0, None, 70.0])
    >>> out[["met", "met_source"]].round(3)
         met      met_source
    0  6.000           given
    1  5.857    acsm_cycling
    2  6.800 compendium_2011
    3    NaN            none
    """
    options = options or MetOptions()
    n = len(sessions)
    weight = np.asarray(weight_kg, dtype=float)
    if weight.shape != (n,):
        raise ValueError(f"weight_kg must give one value per session ({n}), got {weight.shape}")
    given = _column(sessions, "met")
    watts = _column(sessions, "watts")
    modality_column = (
        sessions["modality"] if "modality" in sessions.columns else pd.Series([None] * n)
    )
    default = normalise_modality(default_modality)
    modality = [normalise_modality(m) or default for m in modality_column]
    acsm = acsm_cycling_met(watts, weight)

    met = np.full(n, np.nan)
    source = np.array(["none"] * n, dtype=object)
    reference = np.array([""] * n, dtype=object)
    for k in range(n):
        met[k], source[k], reference[k] = _one_session(
            given[k], watts[k], weight[k], acsm[k], modality[k], options
        )
    return pd.DataFrame(
        {
            "met": met,
            "met_source": pd.array(source, dtype="string"),
            "met_reference": pd.array(reference, dtype="string"),
        },
        index=sessions.index,
    )


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _one_session(
    given: float,
    watts: float,
    weight: float,
    acsm: float,
    modality: str | None,
    options: MetOptions,
) -> tuple[float, str, str]:
    """(met, source, reference) of one session, by the first source that serves."""
    why_not = []
    for name in options.sources:
        if name == "given":
            if np.isfinite(given):
                return given, "given", "exercise.met"
            why_not.append("no met given")
        elif name == "acsm_cycling":
            if modality != "cycling":
                why_not.append(f"ACSM cycling equation not for modality {modality!r}")
            elif not np.isfinite(acsm):
                why_not.append("ACSM equation needs watts and weight_kg")
            else:
                return acsm, "acsm_cycling", "ACSM leg cycling: (10.8 x watts / kg + 7) / 3.5"
        else:
            table = options.compendium
            entry = table.lookup(modality, watts if np.isfinite(watts) else None)
            if entry is not None:
                return (
                    entry.met,
                    table.source,
                    (f"Compendium {table.version} {entry.code}: {entry.description}"),
                )
            if modality is None:
                why_not.append("no modality for the Compendium")
            elif np.isfinite(watts):
                why_not.append(
                    f"{watts:g} W is outside the Compendium {table.version} bands for {modality}"
                )
            else:
                why_not.append(f"no Compendium {table.version} entry for {modality}")
    return np.nan, "none", "; ".join(why_not)
