"""Endpoint rules as pieces: ``Sustained``, ``Stable``, ``Consistent`` around any criterion.

1. Each piece gives the same table as the preset by its published name
   (``SustainedResponse``, ``StableRemission``, ...), for every criterion: the protocol's
   response and remission (the class ``Response`` / ``Remission``), an explicit response
   on another scale, explicit remission cut-offs on two scales; on a simulated trial
   against today's presets, and on the bundled sample against the presets' outcomes as
   ketex computed them before the rules were pieces
   (``tests/reference/endpoint_presets/``: every column, reason strings included,
   exactly). The class resolves to the protocol's ``[endpoints]`` setting.
2. ``ConsistentResponse`` on hand-worked participants (weekly visits, baseline 30, so a
   response is a total <= 15).
3. The one ``missing=`` vocabulary, with the old spelling as a deprecated alias; a new
   rule needs one registered evaluator and no edit elsewhere; no rule module imports
   ``evaluate.py``.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pandas as pd
import pytest

import ketex
from ketex.derive import _context
from ketex.derive.endpoints import (
    Achieved,
    Consistent,
    ConsistentRemission,
    ConsistentResponse,
    EndpointRule,
    RelapseRule,
    Remission,
    Response,
    Stable,
    StableRemission,
    StableResponse,
    Sustained,
    SustainedRemission,
    SustainedResponse,
    endpoint_preset,
)
from ketex.derive.evaluate import evaluate_endpoint
from ketex.derive.time_to_event import time_to_event
from tests.derive.build import trial
from tests.derive.test_sustained import MISSING, evaluate, weekly

CRITERIA = {
    "protocol response": Response,
    "QIDS-SR16 response 40%": Response(0.4, scale="QIDS-SR16"),
    "protocol remission": Remission,
    "MADRS<=12": endpoint_preset("MADRS<=12"),
    "QIDS-SR16<=5": endpoint_preset("QIDS-SR16<=5"),
}


REFERENCE = Path(__file__).parents[1] / "reference" / "endpoint_presets"
DTYPES = {"participant_id": "string", "arm": "string", "endpoint": "string",
          "eligible": "boolean", "met": "boolean", "start_day": "Int64", "day": "Int64",
          "visit": "string", "last_day": "Int64", "reason": "string"}


@pytest.fixture(scope="module")
def simulated():
    design = dataclasses.replace(ketex.TrialDesign(), n_per_arm=30)
    return ketex.simulate_trial(design, seed=5)


def _old(criterion):
    """What the preset's old field takes: None for the protocol's."""
    return None if isinstance(criterion, type) else criterion


def _pairs(criterion):
    """(piece, preset) pairs of every pattern, with non-default settings."""
    response = criterion is Response or isinstance(criterion, Response)
    sustained = SustainedResponse if response else SustainedRemission
    stable = StableResponse if response else StableRemission
    consistent = ConsistentResponse if response else ConsistentRemission
    old = _old(criterion)
    return [
        (Sustained(criterion), sustained(old)),  # through the protocol's WEEK24
        (Sustained(criterion, "WEEK8", "WEEK24", missing="skip"),
         sustained(old, "WEEK8", "WEEK24", "skip")),
        (Stable(criterion, last=3, at_least=2, last_required=1),
         stable(old, last=3, at_least=2, last_required=1)),
        (Stable(criterion, last=2, at_least=2, through_visit="WEEK24"),
         stable(old, "WEEK24", last=2, at_least=2)),
        (Consistent(criterion), consistent(old)),
        (Consistent(criterion, 3, from_visit="WEEK4", missing="skip", event_day="last"),
         consistent(old, 3, "WEEK4", missing="skip", event_day="last")),
    ]


@pytest.mark.parametrize("name", CRITERIA)
def test_pieces_equal_the_presets_on_a_simulated_trial(simulated, name):
    for piece, preset in _pairs(CRITERIA[name]):
        got = evaluate_endpoint(simulated, piece)
        pd.testing.assert_frame_equal(got, evaluate_endpoint(simulated, preset))
        # the rule is not trivial on this trial: some participants meet it, some do not
        met = got["met"].dropna().astype(bool)
        assert met.any() and not met.all(), (name, piece)


def test_pieces_give_the_outcomes_the_presets_gave_before_they_were_pieces():
    reference = pd.read_csv(REFERENCE / "preset_outcomes.csv", dtype={"case": str} | DTYPES)
    cases = dict(tuple(reference.groupby("case", sort=False)))
    sample = ketex.load_trial(ketex.sample_study_path())
    pieces = {f"{name}/{k}": piece for name, criterion in CRITERIA.items()
              for k, (piece, _) in enumerate(_pairs(criterion))}
    pieces["relapse after stable remission"] = RelapseRule(entry=Stable(
        endpoint_preset("MADRS<=12"), last=4, at_least=3, last_required=2))
    compared = 0
    for case, expected in cases.items():
        got = evaluate_endpoint(sample, pieces[case])
        pd.testing.assert_frame_equal(got, expected.drop(columns="case").reset_index(drop=True))
        compared += 1
    assert compared == 27  # 5 criteria x 4 + 3 remission criteria x 2 (consistent) + 1


@pytest.mark.parametrize(("kind", "explicit"), [
    (Response, Response(0.5)),  # the simulated protocol: response_reduction 0.5,
    (Remission, endpoint_preset("MADRS<=10")),  # remission_preset MADRS<=10
])
def test_the_class_is_the_protocols_criterion(simulated, kind, explicit):
    assert simulated.protocol.endpoints.response_reduction == 0.5
    assert simulated.protocol.endpoints.remission_preset == "MADRS<=10"
    for rule in (Sustained(kind, through_visit="WEEK24"), Stable(kind, last=3, at_least=2),
                 Consistent(kind), Achieved(kind, "WEEK8")):
        by_class = evaluate_endpoint(simulated, rule).drop(columns="endpoint")
        given = evaluate_endpoint(simulated, dataclasses.replace(rule, criterion=explicit))
        pd.testing.assert_frame_equal(by_class, given.drop(columns="endpoint"))


def test_a_piece_as_the_entry_of_a_relapse_rule(simulated):
    piece = RelapseRule(entry=Stable(endpoint_preset("MADRS<=12"), last=4, at_least=3,
                                     last_required=2))
    preset = RelapseRule(entry=endpoint_preset("SUSTAIN-1 stable remission"))
    got = evaluate_endpoint(simulated, piece)
    pd.testing.assert_frame_equal(got, evaluate_endpoint(simulated, preset))
    assert got["eligible"].sum() > 0


def test_labels_name_the_criterion():
    assert Consistent(Response()).label == "consistent response at 2 consecutive visits"
    assert (Stable(Remission("PHQ-9", below=5), last=3, at_least=3).label
            == "stable remission (PHQ-9 < 5) in >= 3 of the last 3 visits through the "
               "primary visit")
    assert Achieved(Remission).label == "remission (the protocol's) at the primary visit"


# -- consistent response, by hand ----------------------------------------------------------


@pytest.mark.parametrize(("totals", "missing", "event_day", "met", "day", "reason"), [
    ([20, 15, 14, 20], "failure", "first", True, 14,
     "met at WEEK2 (day 14, MADRS 15), WEEK3 (day 21, MADRS 14)"),
    ([20, 15, 14, 20], "failure", "last", True, 21,
     "met at WEEK2 (day 14, MADRS 15), WEEK3 (day 21, MADRS 14)"),
    ([15, MISSING, 15, 20], "failure", "first", False, None,
     "never met at 2 consecutive visits (3 observed)"),
    ([15, MISSING, 15, 20], "skip", "first", True, 7,
     "met at WEEK1 (day 7, MADRS 15), WEEK3 (day 21, MADRS 15)"),
    ([16, 15, 16, 15], "failure", "first", False, None,
     "never met at 2 consecutive visits (4 observed)"),
])
def test_consistent_response_by_hand(totals, missing, event_day, met, day, reason):
    rule = ConsistentResponse(Response(), missing=missing, event_day=event_day)
    out = evaluate(rule, {"P1": totals}).loc["P1"]
    assert bool(out["met"]) is met
    assert out["reason"] == reason
    assert (out["day"] == day) if met else pd.isna(out["day"])
    assert out["endpoint"] == "consistent response at 2 consecutive visits"


def test_consistent_response_takes_the_protocols_reduction_and_needs_a_baseline():
    people = {"P1": [13, 12, 12, 20]}  # 60 % of 30 is a total <= 12: met at WEEK2-WEEK3
    out = evaluate(ConsistentResponse(), people, response_reduction=0.6).loc["P1"]
    assert (bool(out["met"]), out["day"]) == (True, 14)
    out = evaluate(ConsistentResponse(Response(0.5)), people, response_reduction=0.6)
    assert out.loc["P1", "day"] == 7  # explicit 50 %: 13 and 12 are both <= 15
    rows = weekly("P2", [10, 10], baseline=None)
    nobase = evaluate_endpoint(trial(rows), ConsistentResponse()).iloc[0]
    assert (bool(nobase["eligible"]), pd.isna(nobase["met"])) == (False, True)
    assert nobase["reason"] == "no baseline MADRS (nothing on or before day 0); left out"


def test_time_to_consistent_response():
    rows = weekly("early", [15, 15, 30]) + weekly("never", [15, 20, 15])
    tte = time_to_event(trial(rows), ConsistentResponse())
    table = tte.table.set_index("USUBJID")
    assert tte.paramcd == "TTCRESP"
    assert table.loc["early", ["ADY", "CNSR"]].tolist() == [7, 0]
    assert table.loc["never", ["ADY", "CNSR"]].tolist() == [21, 1]
    assert time_to_event(trial(rows), ConsistentRemission()).paramcd == "TTCREMIS"


def test_presets_refuse_the_other_criterion_and_keep_their_fields():
    with pytest.raises(ValueError, match="ConsistentResponse.response must be a Response"):
        ConsistentResponse(Remission("MADRS", max_score=12))
    with pytest.raises(ValueError, match="Stable.criterion must be a Response or Remission"):
        Stable("MADRS<=12", last=2, at_least=2)
    rule = StableRemission(endpoint_preset("MADRS<=12"), last=4, at_least=3)
    assert rule.remission == endpoint_preset("MADRS<=12") and StableResponse().response is None
    moved = dataclasses.replace(rule, through_visit="WEEK8")
    assert type(moved) is StableRemission and moved.remission == rule.remission
    assert isinstance(moved, Stable) and moved.through_visit == "WEEK8"
    # a preset prints in its own fields, and the print builds it again
    text = repr(StableResponse(last=3))
    assert text == ("StableResponse(response=None, last=3, at_least=2, through_visit=None, "
                    "last_required=0)")
    assert eval(text) == StableResponse(last=3)  # noqa: S307 (a test of the repr)


# -- one missing= vocabulary ---------------------------------------------------------------


def test_missing_has_one_vocabulary_and_the_old_spelling_warns():
    with pytest.warns(FutureWarning, match="write missing='exclude'"):
        old = Achieved(Response(), missing="missing")
    assert old == Achieved(Response(), missing="exclude") == Achieved(Response())
    with pytest.raises(ValueError, match="missing must be one of failure, skip, got 'exclude'"):
        Sustained(Response(), missing="exclude")
    with pytest.raises(ValueError, match="missing must be one of exclude, failure, got 'skip'"):
        Achieved(Response(), missing="skip")
    with pytest.raises(ValueError, match="missing must be one of failure, skip, got 'missing'"):
        Consistent(Response(), missing="missing")


# -- a new rule is one registered evaluator ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _EveryVisit(EndpointRule):
    """A test-only rule: the criterion met at every observed scheduled visit (the day:
    the first of them)."""

    criterion: Response

    @property
    def label(self) -> str:
        return "response at every observed visit"


@_context.evaluates(_EveryVisit)
def _every_visit(context, rule, pid, arm):
    rows = context.post_baseline(context.rows("MADRS", pid))
    observed = [r for r in rows if not _context.na(r["AVAL"])]
    marks = [_context.is_met(rule.criterion, r) for r in observed]
    met = bool(marks) and all(marks)
    return _context.Outcome(True, met, f"{sum(marks)} of {len(marks)}",
                            day=int(observed[0]["ADY"]) if met else None)


def test_a_new_rule_needs_only_its_registered_evaluator():
    out = evaluate(_EveryVisit(Response()), {"yes": [15, 10], "no": [15, 16]})
    assert out["met"].tolist() == [False, True]
    assert out.loc["no", "reason"] == "1 of 2"
    assert out.loc["yes", "endpoint"] == "response at every observed visit"
    # and it can be the entry condition of a relapse rule: at risk from day 7 (WEEK1)
    relapse = evaluate(RelapseRule(entry=_EveryVisit(Response())),
                       {"yes": [15, 10], "no": [15, 16]})
    assert (bool(relapse.loc["yes", "eligible"]), relapse.loc["yes", "start_day"]) == (True, 7)
    assert relapse.loc["yes", "reason"] == ("no relapse after entry on day 7; 1 MADRS "
                                            "assessments after entry")
    assert relapse.loc["no", "reason"] == "entry condition not met (1 of 2); left out"
    with pytest.raises(ValueError, match="rule must be an endpoint rule"):
        evaluate(object(), {"yes": [15]})


def test_no_rule_module_imports_evaluate():
    derive = Path(ketex.__file__).parent / "derive"
    for name in ("_context", "achieved", "sustained", "relapse", "endpoints"):
        tree = ast.parse((derive / f"{name}.py").read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import)
                     for a in n.names}
        assert "ketex.derive.evaluate" not in imported, name
