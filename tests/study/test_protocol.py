from __future__ import annotations

import pytest

from ketex.study.protocol import Protocol, ProtocolError
from tests.conftest import MINI


def test_mini_protocol_reads_with_every_part():
    protocol = Protocol.read(MINI / "study.toml")
    assert protocol.study_id == "MINI"
    assert protocol.arm_codes == ("SINGLE", "SERIES")
    assert protocol.arm("SERIES").infusions.days == (1, 3, 5, 8, 10, 12)
    assert protocol.visit("INF2_24H").arms == ("SERIES",)
    assert protocol.visit("WEEK2").window == (11, 17)
    assert protocol.exercise.hrr_fraction == (0.4, 0.59)
    assert protocol.endpoints.primary_visit == "WEEK4"
    assert protocol.scoring.min_answered == 0.8  # default


def test_toml_round_trip_is_exact():
    protocol = Protocol.read(MINI / "study.toml")
    assert Protocol.from_toml_text(protocol.to_toml()) == protocol


def test_unknown_arm_and_visit_lookups_name_the_known_ones():
    protocol = Protocol.read(MINI / "study.toml")
    with pytest.raises(KeyError, match="arms: SINGLE, SERIES"):
        protocol.arm("PLACEBO")
    with pytest.raises(KeyError, match="visits: BASELINE, INF1_24H"):
        protocol.visit("WEEK99")


BASE = """
[study]
id = "X"
[[arms]]
code = "A"
[[visits]]
name = "BASELINE"
day = 0
window = [-7, 0]
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[arms]]\ncode='A'", r"study: missing; add a \[study\] table"),
        ("[study]\nid='X'\n[[visits]]\nname='B'\nday=0\nwindow=[0,0]", r"arms: missing"),
        (BASE + "[[visits]]\nname='BASELINE'\nday=1\nwindow=[0,2]", "visits: duplicated name"),
        (BASE.replace("window = [-7, 0]", "window = [1, 7]"), r"visits\[0\].window"),
        (BASE.replace('day = 0', 'day = "zero"'), r"visits\[0\].day: must be a number"),
        (BASE + "[scoring]\nmin_answered = 0.3", "never prorate from fewer than half"),
        (BASE.replace("window = [-7, 0]", 'window = ["-7", 0]'),
         r"visits\[0\].window\[0\]: must be a number"),
        (BASE.replace("window = [-7, 0]", "window = [-7.5, 0]"),
         r"visits\[0\].window\[0\]: must be a whole number"),
        (BASE + "[scoring]\nbogus = 1", r"scoring: unknown key\(s\) bogus"),
        (BASE.replace('code = "A"', 'code = "A"\n[arms.infusions]\ndose_unit = "ml"'),
         r"arms\[0\].infusions.dose_unit: 'ml' is not a known unit"),
        (BASE.replace('name = "BASELINE"\n', ''), r"visits\[0\]: missing required key\(s\) name"),
        ("[study\nid=1", "not valid TOML"),
        (BASE + "[[visits]]\nname='W1'\nday=7\nwindow=[5,9]\narms=['Z']", "arm 'Z' is not"),
    ],
)
def test_invalid_protocols_name_file_and_key(text, message):
    with pytest.raises(ProtocolError, match=message) as caught:
        Protocol.from_toml_text(text, source="trial/study.toml")
    assert str(caught.value).startswith("trial/study.toml: ")


def test_protocol_error_is_a_ketex_error_and_a_value_error():
    from ketex.errors import KetexError
    from ketex.study.protocol import ProtocolError

    assert issubclass(ProtocolError, KetexError) and issubclass(ProtocolError, ValueError)
