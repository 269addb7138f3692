"""Fixtures shared by the report tests: the sample trial, loaded once."""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import pytest

import ketex

matplotlib.use("Agg")

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless check needs Debian's chromium at /usr/bin/chromium (apt-get install "
    "chromium)")  # fmt: skip

_MEASURE = """<script>window.addEventListener("load", () => {
  const body = document.body, box = body.getBoundingClientRect();
  const right = box.right - parseFloat(getComputedStyle(body).paddingRight);
  const rows = [...document.querySelectorAll("table.ketex-table")].map(t => [
    t.querySelector("caption").textContent, t.getBoundingClientRect().right - right]);
  const out = document.createElement("pre");
  out.id = "overflow";
  out.textContent = JSON.stringify(rows);
  body.appendChild(out);
});</script>"""


def table_overflow(html: Path, tmp_path: Path) -> list[tuple[str, float]]:
    """Each table of the report ``html`` as headless Chromium lays it out at 1280 px:
    (caption, pixels its right edge lies past the text column). A probe script is added to
    a copy; the report itself has none."""
    page = html.read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
               "--window-size=1280,4000", "--dump-dom", probe.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="overflow">(.*?)</pre>', done.stdout, flags=re.S)
    assert found, done.stdout[-2000:]
    return [tuple(row) for row in json.loads(found.group(1))]


@pytest.fixture(scope="session")
def sample_trial():
    return ketex.load_trial(ketex.sample_study_path())


@pytest.fixture(scope="session")
def sample_fit(sample_trial):
    from ketex.report.analysis import primary_mmrm

    return primary_mmrm(sample_trial)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


class _Numbered(HTMLParser):
    """Captions of tables and figures and the text outside them, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.captions: list[str] = []  # "Table 1. ...", "Figure 1. ...", in order
        self.mentions: list[tuple[str, bool]] = []  # (label, is the caption's own)
        self._caption: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("caption", "figcaption"):
            self._caption = []
        elif tag in ("style", "title"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("caption", "figcaption") and self._caption is not None:
            text = "".join(self._caption)
            self.captions.append(text)
            own = _LABEL.match(text)
            if own:
                self.mentions.append((own.group(0), True))
            self._caption = None
        elif tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, data):
        if self._caption is not None:
            self._caption.append(data)
        elif not self._skip:
            self.mentions += [(m.group(0), False) for m in _LABEL.finditer(data)]


_LABEL = re.compile(r"\b(?:Safety table|Table|Figure) \d+")


def _check_numbering(page: str) -> dict[str, list[str]]:
    """Assert that tables and figures are numbered in order of first citation; return the
    captions by series."""
    parser = _Numbered()
    parser.feed(page)
    series: dict[str, list[str]] = {}
    for caption in parser.captions:
        label = _LABEL.match(caption)
        assert label, f"caption without a number: {caption[:60]!r}"
        kind = label.group(0).rsplit(" ", 1)[0]
        series.setdefault(kind, []).append(caption)
    for kind, captions in series.items():
        for n, caption in enumerate(captions, start=1):
            assert caption.startswith(f"{kind} {n}. "), (kind, n, caption[:60])
    labels = {_LABEL.match(c).group(0) for c in parser.captions}
    cited = [label for label, own in parser.mentions if not own]
    assert set(cited) <= labels, f"cited but not in the report: {set(cited) - labels}"
    first = list(dict.fromkeys(label for label, _ in parser.mentions))
    for kind in series:
        numbers = [int(label.rsplit(" ", 1)[1]) for label in first
                   if label.rsplit(" ", 1)[0] == kind]
        assert numbers == list(range(1, len(series[kind]) + 1)), (kind, numbers)
    return series


@pytest.fixture(scope="session")
def check_numbering():
    return _check_numbering
