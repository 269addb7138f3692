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
        Highest response of each item; ``len(item_max) == n_items``.
    total_max : int
        Maximum total score.
    bands : tuple of (int, int, str)
        Severity bands ``(low, high, label)``, inclusive, covering ``total_min..total_max``
        in order; empty when the instrument's source defines none (:func:`severity` then
        refuses). On single-item global ratings (CGI-S, CGI-I, PGI-I) each response is its
        own band, labelled with the rating's wording.
    domains : tuple of tuple of int
        1-based item numbers of each scored unit. A unit scores as the highest of its answered
        items and the total is the sum of the units; plain-sum scales have one unit per item.
    lettered_items : tuple of int, optional
        Items whose options carry a letter (BDI-II 16 and 18: 0, 1a, 1b, 2a, 2b, 3a, 3b),
        scored by the number.
    aliases : tuple of str, optional
        Other names accepted by :func:`get_instrument`.
    item_min : int, default 0
        Lowest response of every item (1 on the BPRS, SHAPS and global ratings).
    total_min : int, default 0
        Minimum total score: the sum of the domains' lowest scores.
    response_scores : tuple of int, optional
        Score of each response ``item_min..item_max`` when it is not the response itself:
        the dichotomous SHAPS records responses 1-4 and scores them ``(0, 0, 1, 1)``.
    prorating : bool, default True
        Whether the instrument's manual allows prorating a total with missing items. If
        False, :func:`score` never prorates it, whatever its options.
    subscales : tuple of (str, tuple of int), optional
        Named item groups scored as sums beside the total (the PCL-5's DSM-5 clusters
        ``"B"`` .. ``"E"``).
    source : str, optional
        Where the definition (items, ranges, bands, rules) comes from.

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
    item_min: int = 0
    total_min: int = 0
    response_scores: tuple[int, ...] = ()
    prorating: bool = True
    subscales: tuple[tuple[str, tuple[int, ...]], ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        problems = []
        if len(self.item_max) != self.n_items:
            problems.append(f"{len(self.item_max)} item maxima for {self.n_items} items")
        if self.response_scores and (
            len(set(self.item_max)) != 1
            or len(self.response_scores) != self.item_max[0] - self.item_min + 1
        ):
            problems.append("response_scores needs one score per response item_min..item_max")
        numbers_in_domains = sorted(item for domain in self.domains for item in domain)
        if numbers_in_domains != list(range(1, self.n_items + 1)):
            problems.append("domains must hold each item number 1..n_items exactly once")
        elif not problems:
            if self.total_max != sum(
                max(self.score_max(i) for i in domain) for domain in self.domains
            ):
                problems.append(f"total_max {self.total_max} is not the sum of the domain "
                                "maxima")
            if self.total_min != sum(
                max(self.score_min(i) for i in domain) for domain in self.domains
            ):
                problems.append(f"total_min {self.total_min} is not the sum of the domain "
                                "minima")
        lows = [low for low, _, _ in self.bands]
        highs = [high for _, high, _ in self.bands]
        if self.bands and (lows != [self.total_min] + [high + 1 for high in highs[:-1]]
                           or highs[-1:] != [self.total_max]):
            problems.append(f"bands must cover {self.total_min}..{self.total_max} without "
                            "gaps or overlaps")
        in_subscales = [i for _, items in self.subscales for i in items]
        if not set(self.lettered_items) | set(in_subscales) <= set(range(1, self.n_items + 1)):
            problems.append("lettered_items and subscales must hold item numbers")
        if problems:
            raise ValueError(f"instrument {self.code!r} is inconsistent: " + "; ".join(problems))

    def score_max(self, item: int) -> int:
        """Highest score of a 1-based item (its highest response unless rescored)."""
        if self.response_scores:
            return max(self.response_scores)
        return self.item_max[item - 1]

    def score_min(self, item: int) -> int:
        """Lowest score of a 1-based item (``item_min`` unless rescored)."""
        if self.response_scores:
            return min(self.response_scores)
        return self.item_min

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
        Instrument(
            code="GAD-7", name="Generalized Anxiety Disorder 7-item scale",
            n_items=7, item_max=(3,) * 7, total_max=21,
            bands=((0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")),
            domains=_singletons(7), prorating=False, aliases=("GAD7",),
            source="Spitzer, Kroenke, Williams & Löwe 2006 (items, range and bands); no "
                   "prorating rule",
        ),
        Instrument(
            code="HAM-A", name="Hamilton Anxiety Rating Scale",
            n_items=14, item_max=(4,) * 14, total_max=56, bands=(),
            domains=_singletons(14), prorating=False, aliases=("HAMA", "HARS", "HAM-A14"),
            source="Hamilton 1959 (14 items 0-4); no severity bands and no prorating rule in "
                   "the source",
        ),
        Instrument(
            code="CADSS", name="Clinician-Administered Dissociative States Scale, 23 items",
            n_items=23, item_max=(4,) * 23, total_max=92, bands=(),
            domains=_singletons(23), prorating=False, aliases=("CADSS23",),
            source="Bremner et al. 1998 (items 0-4); total of the 23 subject-rated items "
                   "as used in ketamine trials; no bands and no prorating rule",
        ),
        Instrument(
            code="BPRS-POSITIVE",
            name="Brief Psychiatric Rating Scale, positive symptom subscale (4 items)",
            n_items=4, item_max=(7,) * 4, item_min=1, total_min=4, total_max=28, bands=(),
            # suspiciousness, hallucinatory behaviour, unusual thought content, conceptual
            # disorganisation (BPRS-18 items 11, 12, 15 and 4)
            domains=_singletons(4), prorating=False, aliases=("BPRS-POS", "BPRS-P"),
            source="Overall & Gorham 1962 (items 1-7); no bands and no prorating rule",
        ),
        Instrument(
            code="YMRS", name="Young Mania Rating Scale",
            n_items=11, item_max=(4, 4, 4, 4, 8, 8, 4, 8, 8, 4, 4), total_max=60, bands=(),
            domains=_singletons(11), prorating=False,
            source="Young, Biggs, Ziegler & Meyer 1978 (items 5, 6, 8, 9 are 0-8, the rest "
                   "0-4); no bands and no prorating rule",
        ),
        Instrument(
            code="PCL-5", name="PTSD Checklist for DSM-5",
            n_items=20, item_max=(4,) * 20, total_max=80, bands=(),
            domains=_singletons(20), prorating=False, aliases=("PCL5",),
            subscales=(("B", (1, 2, 3, 4, 5)), ("C", (6, 7)),
                       ("D", (8, 9, 10, 11, 12, 13, 14)), ("E", (15, 16, 17, 18, 19, 20))),
            source="Weathers et al. 2013 (items 0-4, DSM-5 clusters B 1-5, C 6-7, D 8-14, "
                   "E 15-20, provisional diagnosis, cut-off 31-33); no prorating rule",
        ),
        Instrument(
            code="SHAPS", name="Snaith-Hamilton Pleasure Scale, dichotomous scoring",
            n_items=14, item_max=(4,) * 14, item_min=1, response_scores=(0, 0, 1, 1),
            total_max=14, bands=((0, 2, "normal"), (3, 14, "abnormal")),
            domains=_singletons(14), prorating=False,
            source="Snaith et al. 1995 (responses 1-4 from strongly agree to strongly "
                   "disagree; disagree or strongly disagree scores 1; above 2 abnormal); no "
                   "prorating rule",
        ),
        Instrument(
            code="SHAPS-LIKERT", name="Snaith-Hamilton Pleasure Scale, Likert scoring",
            n_items=14, item_max=(4,) * 14, item_min=1, total_min=14, total_max=56, bands=(),
            domains=_singletons(14), prorating=False, aliases=("SHAPS-L",),
            source="Franken, Rassin & Muris 2007 (responses scored 1-4, total 14-56); no "
                   "bands and no prorating rule",
        ),
        Instrument(
            code="CGI-S", name="Clinical Global Impression, Severity of illness",
            n_items=1, item_max=(7,), item_min=1, total_min=1, total_max=7,
            bands=((1, 1, "normal, not at all ill"), (2, 2, "borderline mentally ill"),
                   (3, 3, "mildly ill"), (4, 4, "moderately ill"), (5, 5, "markedly ill"),
                   (6, 6, "severely ill"), (7, 7, "among the most extremely ill patients")),
            domains=_singletons(1), prorating=False, aliases=("CGIS",),
            source="Guy 1976, ECDEU Assessment Manual (1-7; 0 'not assessed' is entered as "
                   "missing)",
        ),
        Instrument(
            code="CGI-I", name="Clinical Global Impression, Global improvement",
            n_items=1, item_max=(7,), item_min=1, total_min=1, total_max=7,
            bands=((1, 1, "very much improved"), (2, 2, "much improved"),
                   (3, 3, "minimally improved"), (4, 4, "no change"), (5, 5, "minimally worse"),
                   (6, 6, "much worse"), (7, 7, "very much worse")),
            domains=_singletons(1), prorating=False, aliases=("CGII",),
            source="Guy 1976, ECDEU Assessment Manual (1-7; 0 'not assessed' is entered as "
                   "missing)",
        ),
        Instrument(
            code="PGI-I", name="Patient Global Impression of Improvement",
            n_items=1, item_max=(7,), item_min=1, total_min=1, total_max=7,
            bands=((1, 1, "very much better"), (2, 2, "much better"), (3, 3, "a little better"),
                   (4, 4, "no change"), (5, 5, "a little worse"), (6, 6, "much worse"),
                   (7, 7, "very much worse")),
            domains=_singletons(1), prorating=False, aliases=("PGII",),
            source="Yalcin & Bump 2003 (1-7)",
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

