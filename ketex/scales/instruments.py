"""Instrument definitions (items, item ranges, scored units, severity bands) and their lookup."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["INSTRUMENTS", "Instrument", "get_instrument"]


@dataclass(frozen=True)
class Instrument:
    """Definition of a rating scale: items, their ranges, scored units and severity bands.

    Parameters
    ----------
    code : str
        Canonical code, e.g. ``"MADRS"``.
    name : str
        Full name of the scale.
    n_items : int
        Number of items.
    item_max : tuple of int
        Maximum score of each item (every item's minimum is 0); ``len(item_max) == n_items``.
    total_max : int
        Maximum total score (the minimum is 0).
    bands : tuple of (int, int, str)
        Severity bands ``(low, high, label)``, inclusive, covering ``0..total_max`` in order.
    domains : tuple of tuple of int
        1-based item numbers of each scored unit. A unit scores as the highest of its answered
        items and the total is the sum of the units; plain-sum scales have one unit per item.
    lettered_items : tuple of int, optional
        Items whose options carry a letter (BDI-II 16 and 18: 0, 1a, 1b, 2a, 2b, 3a, 3b),
        scored by the number.
    aliases : tuple of str, optional
        Other names accepted by :func:`get_instrument`.

    Raises
    ------
    ValueError
        If the parts do not fit together (wrong number of item maxima, domains that do not
        cover every item once, bands with gaps, a total maximum the domains cannot reach).

    Examples
    --------
    >>> from ketex.scales import INSTRUMENTS
    >>> qids = INSTRUMENTS["QIDS-SR16"]
    >>> qids.n_items, len(qids.domains), qids.total_max
    (16, 9, 27)
    >>> qids.item_columns[:3]
    ('item_1', 'item_2', 'item_3')
    """

    code: str
    name: str
    n_items: int
    item_max: tuple[int, ...]
    total_max: int
    bands: tuple[tuple[int, int, str], ...]
    domains: tuple[tuple[int, ...], ...]
    lettered_items: tuple[int, ...] = ()
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        if len(self.item_max) != self.n_items:
            problems.append(f"{len(self.item_max)} item maxima for {self.n_items} items")
        numbers_in_domains = sorted(item for domain in self.domains for item in domain)
        if numbers_in_domains != list(range(1, self.n_items + 1)):
            problems.append("domains must hold each item number 1..n_items exactly once")
        elif not problems and self.total_max != sum(
            max(self.item_max[i - 1] for i in domain) for domain in self.domains
        ):
            problems.append(f"total_max {self.total_max} is not the sum of the domain maxima")
        lows = [low for low, _, _ in self.bands]
        highs = [high for _, high, _ in self.bands]
        if lows != [0] + [high + 1 for high in highs[:-1]] or highs[-1:] != [self.total_max]:
            problems.append(f"bands must cover 0..{self.total_max} without gaps or overlaps")
        if not set(self.lettered_items) <= set(range(1, self.n_items + 1)):
            problems.append("lettered_items must be item numbers")
        if problems:
            raise ValueError(f"instrument {self.code!r} is inconsistent: " + "; ".join(problems))

    @property
    def item_columns(self) -> tuple[str, ...]:
        """Names of the item columns :func:`score` reads: ``item_1`` .. ``item_K``."""
        return tuple(f"item_{i}" for i in range(1, self.n_items + 1))


def _singletons(n_items: int) -> tuple[tuple[int, ...], ...]:
    return tuple((i,) for i in range(1, n_items + 1))


_HAMD17_ITEM_MAX = (4, 4, 4, 2, 2, 2, 4, 4, 4, 4, 4, 2, 2, 2, 4, 2, 2)

INSTRUMENTS: Mapping[str, Instrument] = MappingProxyType({
    inst.code: inst
    for inst in (
        Instrument(
            code="MADRS", name="Montgomery-Åsberg Depression Rating Scale",
            n_items=10, item_max=(6,) * 10, total_max=60,
            bands=((0, 6, "none"), (7, 19, "mild"), (20, 34, "moderate"), (35, 60, "severe")),
            domains=_singletons(10),
        ),
        Instrument(
            code="HAM-D17", name="Hamilton Rating Scale for Depression, 17 items",
            n_items=17, item_max=_HAMD17_ITEM_MAX, total_max=52,
            bands=((0, 7, "none"), (8, 16, "mild"), (17, 23, "moderate"), (24, 52, "severe")),
            domains=_singletons(17),
            aliases=("HAMD17", "HAM-D", "HAMD", "HDRS17", "HRSD17", "HDRS", "HRSD"),
        ),
        Instrument(
            code="QIDS-SR16",
            name="Quick Inventory of Depressive Symptomatology, Self-Report, 16 items",
            n_items=16, item_max=(3,) * 16, total_max=27,
            bands=((0, 5, "none"), (6, 10, "mild"), (11, 15, "moderate"), (16, 20, "severe"),
                   (21, 27, "very severe")),
            # sleep, sad mood, appetite/weight, concentration, self-view, suicidal ideation,
            # interest, energy, psychomotor
            domains=((1, 2, 3, 4), (5,), (6, 7, 8, 9), (10,), (11,), (12,), (13,), (14,),
                     (15, 16)),
            aliases=("QIDS", "QIDS-SR", "QIDSSR16"),
        ),
        Instrument(
            code="PHQ-9", name="Patient Health Questionnaire-9",
            n_items=9, item_max=(3,) * 9, total_max=27,
            bands=((0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"),
                   (15, 19, "moderately severe"), (20, 27, "severe")),
            domains=_singletons(9),
            aliases=("PHQ9",),
        ),
        Instrument(
            code="BDI-II", name="Beck Depression Inventory-II",
            n_items=21, item_max=(3,) * 21, total_max=63,
            bands=((0, 13, "minimal"), (14, 19, "mild"), (20, 28, "moderate"), (29, 63, "severe")),
            domains=_singletons(21),
            lettered_items=(16, 18),
            aliases=("BDI2", "BDI-2", "BDIII"),
        ),
    )
})


def _normalise_code(code: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", code.upper())


def _build_lookup() -> dict[str, Instrument]:
    lookup: dict[str, Instrument] = {}
    for inst in INSTRUMENTS.values():
        for name in (inst.code, *inst.aliases):
            key = _normalise_code(name)
            if lookup.setdefault(key, inst) is not inst:
                raise RuntimeError(f"alias {name!r} names both {lookup[key].code} and {inst.code}")
    return lookup


_LOOKUP = _build_lookup()


def get_instrument(code: str | Instrument) -> Instrument:
    """Look an instrument up by its code or an alias, ignoring case and punctuation.

    Parameters
    ----------
    code : str or Instrument
        ``"MADRS"``, ``"HAM-D17"``, ``"QIDS-SR16"``, ``"PHQ-9"``, ``"BDI-II"`` or an alias
        (``"hamd"``, ``"HDRS17"``, ``"QIDS"``, ``"PHQ9"``, ``"BDI2"``, ...). An
        :class:`Instrument` is returned unchanged.

    Returns
    -------
    Instrument

    Raises
    ------
    ValueError
        If the code is not known; the message lists the known codes.

    Examples
    --------
    >>> get_instrument("bdi-2").code
    'BDI-II'
    >>> get_instrument("HAMD21")
    Traceback (most recent call last):
    ...
    ValueError: unknown instrument 'HAMD21'; known instruments: MADRS, HAM-D17, QIDS-SR16, ...
    """
    if isinstance(code, Instrument):
        return code
    if not isinstance(code, str):
        raise TypeError(f"an instrument code must be a string, got {code!r}")
    inst = _LOOKUP.get(_normalise_code(code))
    if inst is None:
        raise ValueError(
            f"unknown instrument {code!r}; known instruments: {', '.join(INSTRUMENTS)} "
            "(case and punctuation are ignored; aliases such as HAMD, QIDS, PHQ9 and BDI2 "
            "are accepted)"
        )
    return inst

