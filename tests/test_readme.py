"""The README's "A first look" runs as written, from any directory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_first_look_runs(tmp_path, monkeypatch, capsys):
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## A first look"):text.index("## Documentation")]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)  # the sample is found wherever the user is
    namespace: dict = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)  # noqa: S102 - our own README
    assert "Study KETEX-SAMPLE" in capsys.readouterr().out
    assert namespace["primary"].estimate == pytest.approx(-1.28, abs=0.005)  # as it says
    interaction = namespace["effects"].query("effect == 'interaction' and AVISIT == 'WEEK12'")
    assert interaction["estimate"].iloc[0] == pytest.approx(1.839, abs=5e-4)  # docs/mmrm.md
