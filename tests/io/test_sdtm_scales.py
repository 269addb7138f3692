"""Every instrument ketex scores has an SDTM mapping that writes and reads back.

Fixture: ``tests/data/mini`` with its assessments replaced by one rating of every
instrument in ``ketex.scales.INSTRUMENTS`` (items varied over each item's range), so a new
instrument without a mapping in ``ketex.io.sdtm.terms.SCALES`` fails here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from ketex.errors import KetexError
from ketex.io.folder import load_trial
from ketex.io.sdtm import load_sdtm, sdtm_datasets, terms, write_sdtm
from ketex.scales import INSTRUMENTS

MINI = Path(__file__).resolve().parents[1] / "data" / "mini"
# clinician-rated classifications (RS, as the CDISC QRS supplements since 2016 put them)
RS_SCALES = {"HAM-D17", "HAM-A", "YMRS", "CGI-S", "CGI-I"}


def _item_values(code: str) -> dict[str, str]:
    inst = INSTRUMENTS[code]
    return {f"item_{k}": str(inst.item_min + k % (inst.item_max[k - 1] - inst.item_min + 1))
            for k in range(1, inst.n_items + 1)}


@pytest.fixture(scope="module")
def every_scale(tmp_path_factory) -> object:
    folder = tmp_path_factory.mktemp("every") / "mini"
    shutil.copytree(MINI, folder)
    rows = [{"participant_id": "M01", "day": "-3", "visit": "BASELINE", "instrument": code,
             **_item_values(code)} for code in INSTRUMENTS]
    rows[list(INSTRUMENTS).index("PHQ-9")]["item_9"] = "0"  # no self-harm warning
    pd.DataFrame(rows, dtype=str).to_csv(folder / "assessments.csv", index=False)
    return load_trial(folder)


def test_the_fixture_holds_a_scored_rating_of_every_instrument(every_scale):
    frame = every_scale.assessments
    assert sorted(frame["instrument"]) == sorted(INSTRUMENTS)
    assert frame["total"].notna().all()
    assert every_scale.report.empty


@pytest.mark.parametrize("format", ["csv", "xpt"])
def test_every_instrument_round_trips(every_scale, tmp_path, format):
    loaded = load_sdtm(write_sdtm(every_scale, tmp_path / "sdtm", format=format))
    assert loaded.differences(every_scale) == []
    assert loaded.report.empty


def test_every_instrument_has_codes_that_read_back():
    for code, inst in INSTRUMENTS.items():
        assert code in terms.SCALES, f"{code} has no SDTM mapping in terms.SCALES"
        codes = terms.SCALES[code]
        assert codes.domain == ("RS" if code in RS_SCALES else "QS"), code
        assert terms.scale_of_category(code) == code
        assert code in terms.scales_of_category(codes.category)
        for item in (*range(1, inst.n_items + 1), None):
            written = terms.scale_test_code(code, item)
            assert len(written) <= 8, written
            assert terms.parse_test_code(written) == (code, item)
            assert terms.parse_test_code(written, codes.category) == (code, item)


def test_written_domains_and_categories(every_scale):
    datasets = sdtm_datasets(every_scale)
    assert set(datasets["RS"]["RSCAT"]) == {"HAMD 17", "HAMA", "YMRS", "CGI"}
    assert set(datasets["QS"]["QSCAT"]) == {
        "MADRS", "QIDS-SR16", "PHQ-9", "BDI-II", "GAD-7", "PCL-5", "PGI-I", "SHAPS",
        "SHAPS LIKERT", "CADSS", "BPRS POSITIVE"}
    cgi = datasets["RS"][datasets["RS"]["RSCAT"] == "CGI"]
    assert set(cgi["RSTESTCD"]) == {"CGI01", "CGISTOT", "CGI02", "CGIITOT"}


@pytest.mark.parametrize(("code", "category", "expected"), [
    ("GAD0201", "GAD-7 V2", ("GAD-7", 1)), ("GAD701", "GAD-7", ("GAD-7", 1)),
    ("GAD07", None, ("GAD-7", 7)), ("HAMA114", "HAMA", ("HAM-A", 14)),
    ("HAMA01", "HAM-A", ("HAM-A", 1)), ("YMRS0111", "YMRS", ("YMRS", 11)),
    ("PCL520", "PCL-5", ("PCL-5", 20)), ("CGI0101", "CGI", ("CGI-S", 1)),
    ("CGI0202", "CGI", ("CGI-I", 1)), ("CGI02", None, ("CGI-I", 1)),
    ("SHAPS14", "SHAPS", ("SHAPS", 14)), ("SHAPL14", "SHAPS LIKERT", ("SHAPS-LIKERT", 14)),
    ("HAMA115", "HAMA", None), ("SHAPS01", "SHAPS LIKERT", None), ("CGI03", "CGI", None),
])
def test_cdisc_qrs_code_variants_are_read(code, category, expected):
    assert terms.parse_test_code(code, category) == expected


def test_a_cdisc_cgi_dataset_is_read_into_both_ratings(every_scale, tmp_path):
    folder = write_sdtm(every_scale, tmp_path / "sdtm", format="csv")
    rs = pd.read_csv(folder / "rs.csv", dtype=str, keep_default_na=False)
    cgi = rs["RSCAT"] == "CGI"
    rs.loc[cgi, "RSTESTCD"] = rs.loc[cgi, "RSTESTCD"].map(
        {"CGI01": "CGI0201", "CGI02": "CGI0202", "CGISTOT": "CGISTOT",
         "CGIITOT": "CGIITOT"})
    rs.to_csv(folder / "rs.csv", index=False)
    assert load_sdtm(folder).differences(every_scale) == []


def test_a_scale_without_sdtm_mapping_is_a_ketex_error(every_scale, tmp_path, monkeypatch):
    monkeypatch.delitem(terms.SCALES, "YMRS")
    with pytest.raises(KetexError, match=r"'YMRS' has no SDTM mapping.*Add it to"):
        write_sdtm(every_scale, tmp_path / "sdtm", format="csv")
    assert not (tmp_path / "sdtm" / "qs.csv").exists()
