"""``[analysis.primary]`` of study.toml: read, written back, checked against the protocol."""

from __future__ import annotations

import pytest

from ketex.study.plan import AnalysisPlan, PrimaryAnalysis, check_plan
from ketex.study.protocol import Protocol, ProtocolError
from tests.conftest import MINI

PLAN = """
[analysis.primary]
scale = "MADRS"
outcome = "AVAL"
formula = "AVAL ~ BASE + SITEID + ARM * AVISIT"
covariance = ["us", "toeph", "ar1h", "csh", "cs"]
method = "ml"
df = "kenward_roger_linear"
visits = ["WEEK2", "WEEK4"]
primary_visit = "WEEK4"
reference_arm = "SERIES"
"""


@pytest.fixture(scope="module")
def mini_text():
    return (MINI / "study.toml").read_text(encoding="utf-8")


def test_a_study_without_a_plan_gets_the_default_plan(mini_text):
    protocol = Protocol.from_toml_text(mini_text)
    assert protocol.analysis == AnalysisPlan()
    plan = protocol.analysis.primary.resolve(protocol)
    assert plan == PrimaryAnalysis(
        scale="MADRS", outcome="CHG", formula="CHG ~ BASE + ARM * AVISIT", covariance=("us",),
        method="reml", df="satterthwaite", visits=("INF1_24H", "WEEK2", "WEEK4"),
        primary_visit="WEEK4", reference_arm="SINGLE")


def test_every_key_is_read_and_written_back(mini_text, tmp_path):
    protocol = Protocol.from_toml_text(mini_text + PLAN)
    assert protocol.analysis.primary == PrimaryAnalysis(
        scale="MADRS", outcome="AVAL", formula="AVAL ~ BASE + SITEID + ARM * AVISIT",
        covariance=("us", "toeph", "ar1h", "csh", "cs"), method="ml",
        df="kenward_roger_linear", visits=("WEEK2", "WEEK4"), primary_visit="WEEK4",
        reference_arm="SERIES")
    path = protocol.write(tmp_path / "study.toml")
    assert "[analysis.primary]" in path.read_text(encoding="utf-8")
    assert Protocol.read(path) == protocol
    default = Protocol.from_toml_text(mini_text)
    assert Protocol.from_toml_text(default.to_toml()) == default


def test_a_single_covariance_may_be_a_string(mini_text):
    protocol = Protocol.from_toml_text(mini_text + '[analysis.primary]\ncovariance = "cs"\n')
    assert protocol.analysis.primary.covariance == ("cs",)


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ('visits = ["WEEK2", "WEEK99"]', r"analysis.primary.visits\[1\]: visit 'WEEK99' is not"),
        ('visits = ["BASELINE", "WEEK4"]', r"visits\[0\]: BASELINE is the baseline visit"),
        ('visits = ["INF2_24H", "WEEK4"]', r"visits\[0\]: INF2_24H is scheduled for SERIES"),
        ('primary_visit = "WEEK8"', r"analysis.primary.primary_visit: visit 'WEEK8' is not"),
        ('visits = ["WEEK2"]', r"endpoints.primary_visit: visit 'WEEK4' is not among the "),
        ('scale = "MADRAS"', r"analysis.primary.scale: 'MADRAS' is not a known scale"),
        ('scale = "PHQ-9"', r"analysis.primary.visits: no visit after BASELINE"),
        ('reference_arm = "PLACEBO"', r"reference_arm: arm 'PLACEBO' is not among \[\[arms\]\]"),
        ('outcome = "PCHG"', r"analysis.primary.outcome: 'PCHG' must be one of CHG, AVAL"),
        ('formula = "AVAL ~ ARM * AVISIT"', r"formula: its left side 'AVAL' must be the outco"),
        ('formula = "CHG ~ BASE + ARM"', r"formula: 'CHG ~ BASE \+ ARM' lacks AVISIT"),
        ('formula = "CHG BASE"', r"formula: 'CHG BASE' must read"),
        ('covariance = ["us", "unstruct"]', r"covariance\[1\]: 'unstruct' is not a covariance"),
        ('method = "mle"', r"analysis.primary.method: 'mle' must be one of reml, ml"),
        ('df = "kr"', r"analysis.primary.df: 'kr' must be one of satterthwaite"),
        ('dof = "kr"', r"analysis.primary: unknown key\(s\) dof"),
        ('visits = "WEEK4"', r"analysis.primary.visits: must be an array"),
    ],
)
def test_a_plan_naming_what_the_protocol_lacks_names_file_and_key(mini_text, plan, message):
    with pytest.raises(ProtocolError, match=message) as caught:
        Protocol.from_toml_text(f"{mini_text}\n[analysis.primary]\n{plan}\n",
                                source="trial/study.toml")
    assert str(caught.value).startswith("trial/study.toml: ")


def test_unknown_analysis_tables_are_named(mini_text):
    with pytest.raises(ProtocolError, match=r"analysis: unknown table\(s\) secondry"):
        Protocol.from_toml_text(mini_text + "[analysis.secondry]\nx = 1\n")


def test_every_problem_of_a_plan_is_reported_at_once(mini_text):
    text = mini_text + '[analysis.primary]\nreference_arm = "PBO"\ndf = "kr"\nmethod = "x"\n'
    with pytest.raises(ProtocolError) as caught:
        Protocol.from_toml_text(text)
    assert len(caught.value.problems) == 3


def test_a_plan_given_in_python_is_checked_with_its_defaults(mini_text):
    protocol = Protocol.from_toml_text(mini_text)
    with pytest.raises(ProtocolError, match="my plan: analysis.primary.visits: no visit after"):
        check_plan(PrimaryAnalysis(scale="PHQ-9"), protocol, "my plan")
    check_plan(PrimaryAnalysis(), protocol)
