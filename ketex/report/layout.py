"""The report's layout: the tables and figures of each section in document order, and
their numbers, given in the order they are first cited.

Each result section opens with a sentence citing its tables and figures in the order
they follow, so the order of first citation is the order of appearance: the first table
of the report is Table 1, the first figure Figure 1, whatever the trial leaves out. The
safety tables are a series of their own ("Safety table 1", ...).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["PARTS", "Part", "citation", "numbers", "renumbered"]


@dataclass(frozen=True)
class Part:
    """A result section: heading, anchor, and its tables then figures (by name)."""

    title: str
    anchor: str
    tables: tuple[str, ...]
    figures: tuple[str, ...]


#: The result sections in document order.
PARTS = (
    Part("Participants", "participants", ("table1_baseline",), ("figure6_consort",)),
    Part("Primary analysis", "primary", ("table2_mmrm",),
         ("figure1_trajectories", "figure2_individual", "figure4_subgroups")),
    Part("Factorial analysis", "factorial", ("table_factorial",),
         ("figure_factorial_interaction", "figure_factorial_forest")),
    Part("Estimands and sensitivity analyses", "estimands",
         ("table_estimand_ice", "table_estimand_sensitivity"), ("figure_tipping_point",)),
    Part("Response, remission, sustained response and relapse", "endpoints",
         ("table3_endpoints", "table4_survival"), ("figure3_relapse_km", "figure5_swimmer")),
    Part("Treatment adherence and exercise dose", "adherence",
         ("table5_adherence", "table6_stream_load"),
         ("figure7_adherence", "figure8_dose_response")),
    Part("Safety", "safety",
         ("safety1_teae_overview", "safety2_teae_soc_pt", "safety3_infusion_vitals",
          "safety4_serious_listing", "safety5_peri_infusion"),
         ("figure_safety_blood_pressure", "figure_safety_peri_infusion")),
)

#: What each table and figure shows, as the sentence citing it says.
CITED = {
    "table1_baseline": "baseline characteristics by arm",
    "figure6_consort": "the flow of participants from randomisation",
    "table2_mmrm": "the primary MMRM's LS means by visit and arm and their differences",
    "figure1_trajectories": "mean scores and LS-mean changes by visit",
    "figure2_individual": "individual trajectories",
    "figure4_subgroups": "the difference within subgroups",
    "table_factorial": "the factorial cell means, main effects and interaction at the "
                       "primary visit",
    "figure_factorial_interaction": "the cell means over visits (interaction plot)",
    "figure_factorial_forest": "the main effects, simple effects and interaction",
    "table_estimand_ice": "the intercurrent events by arm, type and strategy",
    "table_estimand_sensitivity": "the primary analysis beside the analyses under other "
                                  "missing-data assumptions",
    "figure_tipping_point": "the tipping-point analysis",
    "table3_endpoints": "the binary endpoints by arm",
    "table4_survival": "time to relapse",
    "figure3_relapse_km": "its Kaplan-Meier curves",
    "figure5_swimmer": "each participant's course",
    "table5_adherence": "adherence to exercise and infusions",
    "table6_stream_load": "the training load and zone minutes of the recorded sessions",
    "figure7_adherence": "weekly exercise attendance per participant",
    "figure8_dose_response": "the exercise dose achieved against the outcome",
    "safety1_teae_overview": "participants with treatment-emergent adverse events",
    "safety2_teae_soc_pt": "the adverse events by system organ class and preferred term",
    "safety3_infusion_vitals": "blood pressure after infusions",
    "safety4_serious_listing": "each serious adverse event",
    "safety5_peri_infusion": "the peak dissociation and positive symptoms after each "
                             "infusion",
    "figure_safety_blood_pressure": "blood pressure over the minutes after the start of "
                                    "the infusions",
    "figure_safety_peri_infusion": "the ratings over the minutes after the start of each "
                                   "infusion",
}

_NUMBERED = re.compile(r"^(Safety table|Table) \d+\.\s*")


def numbers(present: Iterable[str]) -> dict[str, str]:
    """The label of each table and figure: ``"Table 2"``, ``"Figure 1"``, ``"Safety table 1"``.

    Parameters
    ----------
    present : iterable of str
        The names of the tables and figures the report holds (others are left out).

    Returns
    -------
    dict of str to str
        Numbered in document order (:data:`PARTS`), one series each for tables, figures
        and safety tables.

    Examples
    --------
    >>> numbers(["figure1_trajectories", "figure6_consort", "table1_baseline"])
    {'table1_baseline': 'Table 1', 'figure6_consort': 'Figure 1',
     'figure1_trajectories': 'Figure 2'}
    """
    present = set(present)
    counts: Counter[str] = Counter()
    found = {}
    for part in PARTS:
        for name in (*part.tables, *part.figures):
            if name in present:
                series = ("Safety table" if name.startswith("safety") else
                          "Table" if name.startswith("table") else "Figure")
                counts[series] += 1
                found[name] = f"{series} {counts[series]}"
    return found


def renumbered(title: str, label: str) -> str:
    """A table title with its number replaced (or added).

    Examples
    --------
    >>> renumbered("Table 4. Time to relapse", "Table 3")
    'Table 3. Time to relapse'
    """
    return f"{label}. {_NUMBERED.sub('', title)}"


def citation(names: Iterable[str], labels: Mapping[str, str]) -> str:
    """The sentence opening a section: what its tables and figures show, cited in order.

    Examples
    --------
    >>> citation(["table1_baseline", "figure6_consort"],
    ...          {"table1_baseline": "Table 1", "figure6_consort": "Figure 1"})
    'This section gives baseline characteristics by arm (Table 1) and the flow of
    participants from randomisation (Figure 1).'
    """
    cited = [f"{CITED.get(n, n)} ({labels[n]})" for n in names]
    if len(cited) > 1:
        cited = [", ".join(cited[:-1]) + " and " + cited[-1]]
    return f"This section gives {cited[0]}." if cited else ""
