"""A report for any trial: a HAM-D17 drug-placebo trial with only participants and
assessments (tests/data/hamd) gets every section that applies and no other."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pandas as pd
import pytest

import ketex
from ketex.cli import main
from ketex.report.figures.consort import consort_counts

HAMD = Path(__file__).resolve().parents[1] / "data" / "hamd"


@pytest.fixture(scope="module")
def trial():
    return ketex.load_trial(HAMD)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("hamd-report")
    assert main(["report", str(HAMD), "--out", str(out)]) == 0
    return out


def test_the_committed_study_is_what_its_script_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("make_hamd", HAMD / "make_hamd.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write(tmp_path)
    for name in ("study.toml", "participants.csv", "assessments.csv"):
        assert (tmp_path / name).read_bytes() == (HAMD / name).read_bytes(), name


def test_only_the_sections_that_apply_are_written(report):
    tables = {p.name.split(".")[0] for p in (report / "tables").iterdir()}
    figures = {p.name.split(".")[0] for p in (report / "figures").iterdir()}
    assert {"table1_baseline", "table2_mmrm", "table3_endpoints"} <= tables
    assert not tables & {"table4_survival", "table5_adherence"}
    assert figures == {"figure1_trajectories", "figure2_individual", "figure4_subgroups",
                       "figure5_swimmer", "figure6_consort"}
    endpoints = pd.read_csv(report / "tables" / "table3_endpoints_data.csv")
    assert set(endpoints["endpoint"]) == {"Response at WEEK6", "Remission (HAM-D17<=7) at WEEK6"}


def test_what_is_left_out_is_listed_with_the_reason(report):
    page = (report / "report.html").read_text(encoding="utf-8")
    section = page[page.index('id="not-analysed"'):]
    for reason in ("Relapse (SUSTAIN-1) among responders reads MADRS, which the trial does "
                   "not rate (its scales: HAM-D17)",
                   "the trial has no exercise sessions",
                   "subgroup &#x27;age&#x27;: the participants table has no such column"):
        assert reason in section, reason
    # the text only: an embedded image's base64 may spell anything ("None" included)
    text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", page)
    for absent in ("MADRS", "infusion", "log-rank", "Sustained", "None"):
        assert absent not in text[:text.index('id="not-analysed"')], absent


def test_consort_has_no_infusion_boxes_without_treatments(trial):
    allocation = consort_counts(trial).query("stage == 'allocation'")
    assert allocation["status"].tolist() == ["allocated", "allocated"]
    assert allocation["n"].tolist() == [24, 24]


def test_the_primary_contrast_is_ketex_mmrm_on_the_documented_filter(report, trial):
    ds = ketex.analysis_dataset(trial)
    ds = ds[(ds.ANL01FL == "Y") & (ds.ABLFL != "Y")]  # docs/endpoints-response-remission.md
    assert list(ds["ARM"].cat.categories) == ["PLACEBO", "DRUG"]
    fit = ketex.mmrm(ds, "CHG ~ BASE + ARM * AVISIT", subject="USUBJID", visit="AVISIT")
    expected = fit.contrast("ARM", by="AVISIT", method="trt_vs_ctrl").set_index("AVISIT")
    mmrm = pd.read_csv(report / "tables" / "table2_mmrm_data.csv")
    row = mmrm[(mmrm["kind"] == "difference") & (mmrm["visit"] == "WEEK6")].iloc[0]
    assert row["arm"] == expected.loc["WEEK6", "contrast"] == "DRUG - PLACEBO"
    for key in ("estimate", "se", "df", "ci_low", "ci_high", "p_value"):
        assert row[key] == pytest.approx(expected.loc["WEEK6", key], rel=1e-9), key
    assert ketex.primary_analysis(trial).estimate == pytest.approx(row["estimate"], rel=1e-12)


def test_dose_outcome_data_without_a_sustained_window():
    import dataclasses

    from ketex.report.analysis import dose_outcome_data

    sample = ketex.load_trial(ketex.sample_study_path())
    endpoints = dataclasses.replace(sample.protocol.endpoints, sustained_through_visit=None)
    trial = dataclasses.replace(sample, protocol=dataclasses.replace(sample.protocol,
                                                                     endpoints=endpoints))
    dose = dose_outcome_data(trial)
    assert len(dose) == 80 and dose["sustained_response"].isna().all()
    assert int(dose["CHG"].notna().sum()) == 75


def test_numbers_have_no_gaps_where_parts_are_left_out(report, check_numbering):
    page = (report / "report.html").read_text(encoding="utf-8")
    series = check_numbering(page)
    assert [c.split(".")[0] for c in series["Figure"]] == [f"Figure {n}" for n in range(1, 6)]
    assert len(series["Table"]) == 3 and "Safety table" not in series
