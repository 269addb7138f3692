"""``ketex report``: every table and figure written, one self-contained report.html that
a browser renders."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import ketex
from ketex.cli import main
from ketex.report.cli import ProgressBar
from ketex.report.run import ReportOptions
from tests.report.conftest import table_overflow

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    """The real command on the bundled sample, as `make demo` runs it."""
    out = tmp_path_factory.mktemp("report")
    assert main(["report", str(ketex.sample_study_path()), "--out", str(out)]) == 0
    return out


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster", "action") and value:
                self.refs.append((tag, name, value))


def test_every_table_and_figure_is_written(report_dir):
    tables = {p.name for p in (report_dir / "tables").iterdir()}
    for stem in ("table1_baseline", "table2_mmrm", "table3_endpoints", "table4_survival",
                 "table5_adherence", "table6_stream_load"):  # the sample has streams/
        for ext in ("csv", "md", "tex", "html", "docx"):
            assert f"{stem}.{ext}" in tables
        assert f"{stem}_data.csv" in tables
    figures = {p.name for p in (report_dir / "figures").iterdir()}
    stems = ["figure1_trajectories", "figure2_individual", "figure3_relapse_km",
             "figure4_subgroups", "figure5_swimmer", "figure6_consort", "figure7_adherence",
             "figure8_dose_response"]
    for stem in stems:
        for ext in ("pdf", "svg", "png"):
            assert f"{stem}.{ext}" in figures, f"{stem}.{ext}"
    from PIL import Image

    with Image.open(report_dir / "figures" / "figure3_relapse_km.png") as png:
        assert round(png.info["dpi"][0]) == 600
        assert png.size[0] == int(85 / 25.4 * 600)


def test_report_html_is_self_contained(report_dir):
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    parser = _Refs()
    parser.feed(page)
    assert "link" not in parser.tags and "script" not in parser.tags
    for tag, name, value in parser.refs:
        assert value.startswith(("data:", "#")), (tag, name, value[:80])
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", page, flags=re.I)
    assert "@import" not in page and "url(" not in page
    images = [v for t, n, v in parser.refs if t == "img"]
    assert len(images) == 8
    from PIL import Image

    for uri in images:
        assert uri.startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as img:
            assert img.size[0] > 300


def test_report_html_holds_the_tables_and_the_key_numbers(report_dir):
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    for caption in ("Table 1. Baseline characteristics by arm", "Table 3. Response",
                    "Table 5. Adherence"):
        assert caption in page
    mmrm = pd.read_csv(report_dir / "tables" / "table2_mmrm_data.csv")
    d = mmrm[(mmrm["kind"] == "difference") & (mmrm["visit"] == "WEEK12")].iloc[0]
    assert f"difference SERIES - SINGLE {d['estimate']:.1f}" in page


def test_progress_bar_lines_and_cli_output(report_dir, capsys):
    stream = io.StringIO()
    bar = ProgressBar(stream, width=4)
    bar(1, 2, "first")
    bar(2, 2, "second")
    bar(3, 2, "done")
    lines = stream.getvalue().splitlines()
    assert lines[0] == "[    ]  0/2  first" and lines[1] == "[##  ]  1/2  second"
    assert lines[2].startswith("[####] 2/2  finished in")


def test_report_options_are_checked():
    with pytest.raises(ValueError, match="unknown table formats"):
        ReportOptions(table_formats=("xls",))
    with pytest.raises(ValueError, match="endpoint_missing"):
        ReportOptions(endpoint_missing="locf")


def test_cli_report_on_invalid_data_says_what_to_do(tmp_path, mini_folder, capsys):
    (mini_folder / "participants.csv").write_text("participant_id,arm\nP1,NOPE\n")
    assert main(["report", str(mini_folder), "--out", str(tmp_path / "out")]) == 1
    assert "ketex validate" in capsys.readouterr().err


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless check needs Debian's chromium at "
                    "/usr/bin/chromium (apt-get install chromium)")
def test_headless_chromium_renders_the_report(report_dir, tmp_path):
    from PIL import Image

    shot = tmp_path / "report.png"
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
               "--hide-scrollbars", "--window-size=1280,6000", f"--screenshot={shot}",
               (report_dir / "report.html").resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
        assert rgb.size == (1280, 6000)
        small = rgb.resize((320, 1500))
        colours = {small.getpixel((x, y)) for x in range(320) for y in range(1500)}
    # the figures are drawn: Okabe-Ito blue and vermillion (the two arms) are on the page
    def near(target):
        return any(sum(abs(a - b) for a, b in zip(c, target, strict=True)) < 40
                   for c in colours)
    assert near((0x00, 0x72, 0xB2)) and near((0xD5, 0x5E, 0x00))
    assert len(colours) > 200  # not a blank page
    shutil.copy(shot, report_dir / "screenshot.png")


def test_report_primary_analysis_and_power_analysis_give_the_same_number(report_dir,
                                                                         sample_trial):
    mmrm = pd.read_csv(report_dir / "tables" / "table2_mmrm_data.csv")
    row = mmrm[(mmrm["kind"] == "difference") & (mmrm["visit"] == "WEEK12")].iloc[0]
    assert row["arm"] == "SERIES - SINGLE"
    primary = ketex.primary_analysis(sample_trial)
    power = ketex.MMRMAnalysis()(sample_trial)
    assert primary.estimate == pytest.approx(-1.2757, abs=5e-5)  # the report before plans
    assert row["estimate"] == pytest.approx(primary.estimate, rel=1e-12)
    assert power["estimate"] == primary.estimate
    for key in ("se", "df", "p_value", "ci_low", "ci_high"):
        assert row[key] == pytest.approx(primary.contrast[key].iloc[0], rel=1e-12), key
        assert power[key] == primary.contrast[key].iloc[0], key


def test_a_plan_in_study_toml_is_what_report_api_and_power_analysis_run(tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(ketex.sample_study_path(), folder)
    toml = folder / "study.toml"
    text = toml.read_text(encoding="utf-8").split("[analysis.primary]")[0]
    toml.write_text(text + '[analysis.primary]\nreference_arm = "SERIES"\n'
                    'df = "kenward_roger_linear"\nvisits = ["WEEK2", "WEEK4", "WEEK8", '
                    '"WEEK12"]\ncovariance = ["us", "toeph"]\n', encoding="utf-8")
    trial = ketex.load_trial(folder)
    out = tmp_path / "report"
    assert main(["report", str(folder), "--out", str(out)]) == 0
    mmrm = pd.read_csv(out / "tables" / "table2_mmrm_data.csv")
    assert set(mmrm["visit"]) == {"WEEK2", "WEEK4", "WEEK8", "WEEK12"}
    row = mmrm[(mmrm["kind"] == "difference") & (mmrm["visit"] == "WEEK12")].iloc[0]
    assert row["arm"] == "SINGLE - SERIES"
    primary = ketex.primary_analysis(trial)
    assert primary.plan.df == "kenward_roger_linear"
    assert primary.contrast["contrast"].tolist() == ["SINGLE - SERIES"]
    assert row["estimate"] == pytest.approx(primary.estimate, rel=1e-12)
    assert row["df"] == pytest.approx(primary.contrast["df"].iloc[0], rel=1e-12)
    assert ketex.MMRMAnalysis()(trial)["estimate"] == primary.estimate
    default = ketex.primary_analysis(ketex.load_trial(ketex.sample_study_path()))
    assert primary.estimate != pytest.approx(-default.estimate, rel=1e-3)  # not just a sign
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Kenward-Roger degrees of freedom (SAS DDFM=KR)" in page
    assert "contrasts are arm - SERIES at WEEK12" in page
    # the reference arm first in the tables, and the reference of the forest plot
    table_one = pd.read_csv(out / "tables" / "table1_baseline.csv")
    assert table_one.columns[1].startswith("Six ketamine infusions")
    assert "Difference SINGLE - SERIES in LS-mean change" in page


def test_tables_and_figures_are_numbered_in_order_of_first_citation(report_dir,
                                                                    check_numbering):
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    series = check_numbering(page)
    # six tables: the sample's streams/ gives Table 6, the training load
    assert len(series["Figure"]) == 8 and len(series["Table"]) == 6
    assert series["Figure"][0].startswith("Figure 1. CONSORT flow")  # the first one shown
    assert "Figure 1: figure6_consort" in page  # which file is which figure
    assert (report_dir / "tables" / "table1_baseline.md").read_text(
        encoding="utf-8").startswith("**Table 1. Baseline")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless check needs Debian's chromium at "
                    "/usr/bin/chromium (apt-get install chromium)")
def test_every_table_fits_the_page_width_in_chromium(report_dir, tmp_path):
    """Long cells (Table 3's NNT with its interval) wrap instead of widening the table past
    the text column."""
    overflow = table_overflow(report_dir / "report.html", tmp_path)
    assert len(overflow) == 6  # Table 6: the sample's device recordings
    assert any(caption.startswith("Table 3. ") for caption, _ in overflow)
    assert {caption: px for caption, px in overflow if px > 0.5} == {}
