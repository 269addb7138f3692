"""The report's safety section: present with the safety data, and a "Not analysed" list
without them."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from ketex.report.run import ReportOptions, write_report
from ketex.study.tables import canonical

OPTIONS = ReportOptions(table_formats=("csv",), figure_formats=("png",), png_dpi=40,
                        html_dpi=30, subgroups=("sex",))


@pytest.fixture(scope="module")
def safety_trial(sample_trial):
    first = sample_trial.infusions.groupby("participant_id")["day"].min()
    a, b = first.index[0], first.index[-1]
    events = pd.DataFrame({
        "participant_id": [a, a, b], "term": ["nausea", "nausea", "headache"],
        "pt": ["Nausea", "Nausea", "Headache"],
        "soc": ["Gastrointestinal disorders", "Gastrointestinal disorders",
                "Nervous system disorders"],
        "start_day": [first[a], first[a] + 1, first[b]], "serious": [False, False, True]})
    vitals = pd.DataFrame({"participant_id": a, "day": first[a], "time_min": [-5.0, 40.0],
                           "test": "SBP", "value": [128.0, 186.0], "unit": "mmHg"})
    timed = pd.DataFrame([(p, first[p], "CADSS", minute, total)
                          for p, totals in ((a, (1, 24, 5)), (b, (0, 3, 1)))
                          for minute, total in zip((-10, 40, 120), totals, strict=True)],
                         columns=["participant_id", "day", "instrument", "time_min",
                                  "total"]).assign(visit="BASELINE")
    ratings = canonical("assessments", pd.concat([sample_trial.assessments, timed],
                                                 ignore_index=True))
    return dataclasses.replace(sample_trial,
                               adverse_events=canonical("adverse_events", events),
                               vitals=canonical("vitals", vitals), assessments=ratings)


def test_safety_section_with_the_safety_data(safety_trial, tmp_path):
    result = write_report(safety_trial, tmp_path, options=OPTIONS)
    assert {"safety1_teae_overview", "safety2_teae_soc_pt", "safety3_infusion_vitals",
            "safety4_serious_listing", "safety5_peri_infusion"} <= set(result.tables)
    page = result.html.read_text(encoding="utf-8")
    assert '<section id="safety"><h2>Safety</h2>' in page
    assert "Safety table 2. Treatment-emergent adverse events by system organ class" in page
    assert "Participants with a treatment-emergent adverse event:" in page
    assert "Safety table 4. Listing of serious adverse events" in page  # the headache
    listing = result.tables["safety4_serious_listing"].data
    assert listing["pt"].tolist() == ["Headache"]
    not_analysed = page[page.index('<section id="not-analysed">'):]
    not_analysed = not_analysed[:not_analysed.index("</section>")]
    assert "Safety" not in not_analysed  # only the estimands line (no [estimands] table)
    assert not_analysed.count("<p>") == 1 and "no [estimands] table" in not_analysed
    soc_pt = result.tables["safety2_teae_soc_pt"].data
    nausea = soc_pt[(soc_pt["pt"] == "Nausea") & (soc_pt["n_events"] > 0)]
    assert nausea[["n_participants", "n_events"]].values.tolist() == [[1, 2]]
    assert (tmp_path / "tables" / "safety1_teae_overview.csv").exists()
    assert (tmp_path / "figures" / "figure_safety_blood_pressure.png").exists()
    assert "Systolic (a) blood pressure around infusions" in page  # SBP only
    assert (tmp_path / "figures" / "figure_safety_peri_infusion.png").exists()
    assert "Safety table 5. Dissociation and positive symptoms after infusions" in page
    peri = result.tables["safety5_peri_infusion"].data
    assert peri[["n_participants", "peak_mean"]].sum().tolist() == [2, 24 + 3]


def test_not_analysed_without_the_safety_data(sample_trial, tmp_path):
    assert not sample_trial.has_safety_data
    result = write_report(sample_trial, tmp_path, options=OPTIONS)
    assert not any(name.startswith("safety") for name in result.tables)
    page = result.html.read_text(encoding="utf-8")
    assert 'id="safety"' not in page
    assert '<section id="not-analysed"><h2>Not analysed</h2>' in page
    assert "the data hold no adverse events table" in page
