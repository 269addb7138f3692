"""``[analysis.derivation]`` of study.toml: the analysis-dataset options the plan
pre-specifies, used alike by ``ketex.primary_analysis``, the power analysis's
``MMRMAnalysis`` and every part of the report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import ketex
from ketex.derive.endpoints import Response
from ketex.report.run import ReportOptions, write_report
from ketex.simulate.analyses import MMRMAnalysis
from ketex.study.derivation_plan import DerivationPlan
from ketex.study.protocol import Protocol, ProtocolError
from tests.conftest import MINI

HAMD = Path(__file__).resolve().parents[1] / "data" / "hamd"
# HAM-D17 baselines lie on days -5 to 0: with baseline_day = -1 those on day 0 are none
DERIVATION = "\n[analysis.derivation]\nbaseline_day = -1\n"
OPTIONS = ReportOptions(table_formats=("csv",), figure_formats=("png",), png_dpi=40,
                        html_dpi=30, subgroups=())


@pytest.fixture(scope="module")
def mini_text():
    return (MINI / "study.toml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def trials(tmp_path_factory):
    """The HAM-D17 test study as committed, and with a non-default derivation."""
    folder = tmp_path_factory.mktemp("hamd") / "hamd"
    shutil.copytree(HAMD, folder)
    toml = folder / "study.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + DERIVATION, encoding="utf-8")
    return ketex.load_trial(HAMD), ketex.load_trial(folder)


@pytest.fixture(scope="module")
def report(trials, tmp_path_factory):
    return write_report(trials[1], tmp_path_factory.mktemp("report"), options=OPTIONS)


def test_the_options_are_read_and_written_back(mini_text, tmp_path):
    text = mini_text + '[analysis.derivation]\nbaseline = "visit"\nbaseline_day = -1\n' \
        'tie = "earlier"\n'
    protocol = Protocol.from_toml_text(text)
    assert protocol.analysis.derivation == DerivationPlan("visit", -1, "earlier")
    assert Protocol.read(protocol.write(tmp_path / "study.toml")) == protocol
    default = Protocol.from_toml_text(mini_text)
    assert default.analysis.derivation == DerivationPlan()
    assert "derivation" not in default.to_toml()


def test_every_bad_option_is_reported_with_its_key(mini_text):
    text = mini_text + '[analysis.derivation]\nbaseline = "first"\ntie = "nearest"\n'
    with pytest.raises(ProtocolError) as caught:
        Protocol.from_toml_text(text, source="trial/study.toml")
    assert caught.value.problems == (
        "trial/study.toml: analysis.derivation.baseline: 'first' must be one of last, visit",
        "trial/study.toml: analysis.derivation.tie: 'nearest' must be one of later, earlier")
    with pytest.raises(ProtocolError, match=r"analysis.derivation: unknown key\(s\) ties"):
        Protocol.from_toml_text(mini_text + '[analysis.derivation]\nties = "later"\n')
    with pytest.raises(ProtocolError, match=r"analysis.derivation.baseline_day"):
        Protocol.from_toml_text(mini_text + '[analysis.derivation]\nbaseline_day = "0"\n')


def test_the_primary_analysis_analyses_the_rows_the_derivation_gives(trials):
    default, derived = trials
    rows = ketex.primary_analysis(derived).data
    by_hand = ketex.analysis_dataset(derived, baseline_day=-1)
    by_hand = by_hand[(by_hand["ANL01FL"] == "Y") & by_hand["AVISIT"].isin(rows["AVISIT"])]
    assert rows["CHG"].notna().sum() == by_hand["CHG"].notna().sum()
    assert rows["CHG"].notna().sum() < ketex.primary_analysis(default).data["CHG"].notna().sum()


def test_report_primary_analysis_and_power_analysis_agree_on_another_derivation(trials, report):
    default, derived = trials
    primary = ketex.primary_analysis(derived).contrast.iloc[0]
    assert primary["estimate"] != pytest.approx(
        ketex.primary_analysis(default).contrast.iloc[0]["estimate"], rel=1e-3)
    table = report.tables["table2_mmrm"].data
    printed = table[(table["kind"] == "difference")
                    & (table["visit"] == primary["visit"])].iloc[0]
    for key in ("estimate", "se", "p_value", "ci_low", "ci_high"):
        assert printed[key] == pytest.approx(primary[key], rel=1e-10), key
    power = MMRMAnalysis(fast=False)(derived)
    assert power["estimate"] == pytest.approx(primary["estimate"], rel=1e-10)
    assert power["se"] == pytest.approx(primary["se"], rel=1e-10)


def test_the_report_endpoints_use_the_derivation_too(trials, report):
    _, derived = trials
    endpoints = report.tables["table3_endpoints"].data
    rates = endpoints[(endpoints["kind"] == "rate")
                      & endpoints["endpoint"].str.startswith("Response")]
    met = ketex.evaluate_endpoint(derived, Response(), baseline_day=-1)
    met = met[met["eligible"].fillna(False).astype(bool) & met["met"].notna()]
    by_arm = met.groupby(met["arm"].astype(str))["met"].agg(["sum", "size"])
    default = ketex.evaluate_endpoint(derived, Response())
    assert default["met"].notna().sum() > len(met)  # the derivation matters here
    for _, r in rates.iterrows():
        assert (r["events"], r["n"]) == tuple(by_arm.loc[r["group"]]), r["group"]
