"""Manuscript tables: numbers checked against values computed here from the raw tables."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import ketex
from ketex.report import ManuscriptTable
from ketex.report.tables import (
    TableOneOptions,
    Variable,
    adherence_table,
    endpoint_table,
    mmrm_table,
    survival_table,
    table_one,
)


def _row(table: ManuscriptTable, variable: str, group: str, level=None) -> pd.Series:
    d = table.data
    mask = (d["variable"] == variable) & (d["group"] == group)
    if level is not None:
        mask &= d["level"] == level
    (index,) = np.flatnonzero(mask.to_numpy())
    return d.iloc[index]


def _baseline_madrs(trial) -> pd.Series:
    """Last MADRS total on or before day 0, per participant (the documented rule)."""
    a = trial.assessments
    a = a[(a["instrument"] == "MADRS") & a["total"].notna() & (a["day"] <= 0)]
    return a.sort_values(["participant_id", "day"]).groupby("participant_id")["total"].last()


# -- Table 1 -----------------------------------------------------------------------------------


def test_table_one_means_counts_and_smd_match_hand_computation(sample_trial):
    t1 = table_one(sample_trial)
    p = sample_trial.participants
    for arm in ("SINGLE", "SERIES"):
        age = p.loc[p["arm"] == arm, "age"]
        row = _row(t1, "age", arm)
        assert row["summary"] == "mean_sd"
        assert row["mean"] == pytest.approx(age.mean(), abs=1e-12)
        assert row["sd"] == pytest.approx(age.std(), abs=1e-12)
        assert row["n"] == age.notna().sum()
        women = int((p.loc[p["arm"] == arm, "sex"] == "F").sum())
        sex = _row(t1, "sex", arm, "F")
        assert sex["count"] == women
        assert sex["percent"] == pytest.approx(100 * women / (p["arm"] == arm).sum())
    overall = _row(t1, "age", "Overall")
    assert overall["mean"] == pytest.approx(p["age"].mean())
    # SMD of age by hand
    a, b = (p.loc[p["arm"] == arm, "age"] for arm in ("SINGLE", "SERIES"))
    smd = abs(b.mean() - a.mean()) / math.sqrt((a.var() + b.var()) / 2)
    assert _row(t1, "age", "SINGLE")["smd"] == pytest.approx(smd)
    # binary SMD for sex: proportions of women
    q = [float((p.loc[p["arm"] == arm, "sex"] == "F").mean()) for arm in ("SINGLE", "SERIES")]
    binary = abs(q[1] - q[0]) / math.sqrt((q[0] * (1 - q[0]) + q[1] * (1 - q[1])) / 2)
    assert _row(t1, "sex", "SINGLE", "F")["smd"] == pytest.approx(binary)


def test_table_one_baseline_score_is_the_last_rating_on_or_before_day_0(sample_trial):
    t1 = table_one(sample_trial)
    base = _baseline_madrs(sample_trial)
    arms = sample_trial.participants.set_index("participant_id")["arm"]
    for arm in ("SINGLE", "SERIES"):
        values = base[arms.reindex(base.index) == arm]
        assert _row(t1, "baseline_MADRS", arm)["mean"] == pytest.approx(values.mean())


def test_table_one_display_layout(sample_trial):
    t1 = table_one(sample_trial)
    d = t1.display
    assert list(d.columns) == [
        "", "Single ketamine infusion + exercise (N = 40)",
        "Six ketamine infusions over two weeks + exercise (N = 40)", "Overall (N = 80)", "SMD",
    ]
    age = t1.data.query("variable == 'age' and group == 'SINGLE'").iloc[0]
    assert d.iloc[0, 1] == f"{age['mean']:.1f} ({age['sd']:.1f})"
    assert "    Female" in d[""].tolist()  # levels indented under their variable, decoded
    assert set(t1.data.query("variable == 'sex'")["level"]) == {"F", "M"}  # data keep codes
    assert "p" not in d.columns and t1.data["p_value"].isna().all()


def test_table_one_skewed_numbers_get_median_iqr_and_missing_rows():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "arm": ["A"] * 30 + ["B"] * 30,
        "days_ill": rng.lognormal(3, 1.2, 60),
        "score": rng.normal(30, 5, 60),
        "smoker": ["yes", "no", None] * 20,
    })
    frame.loc[[0, 1, 35], "score"] = np.nan
    t = table_one(frame, group="arm")
    assert _row(t, "days_ill", "A")["summary"] == "median_iqr"
    a = frame.loc[frame["arm"] == "A", "days_ill"]
    q1, med, q3 = np.quantile(a, [0.25, 0.5, 0.75])
    row = _row(t, "days_ill", "A")
    assert (row["median"], row["q1"], row["q3"]) == pytest.approx((med, q1, q3))
    assert _row(t, "score", "A")["n_missing"] == 2 and _row(t, "score", "B")["n_missing"] == 1
    labels = t.display[""].tolist()
    assert labels.count("    Missing, n") == 2  # score and smoker
    assert t.display.loc[labels.index("days_ill, median [IQR]"), "A (N = 30)"].startswith(
        f"{med:.1f} [")
    smoker = _row(t, "smoker", "A", "yes")
    assert smoker["n"] == 20 and smoker["count"] == 10  # % of participants with a value


def test_table_one_p_values_only_when_asked():
    frame = pd.DataFrame({"arm": ["A"] * 6 + ["B"] * 6,
                          "x": [1.0, 2, 3, 4, 5, 6, 4, 5, 6, 7, 8, 9],
                          "flag": [True] * 5 + [False] + [False] * 5 + [True]})
    t = table_one(frame, variables=[Variable("x", "x"), Variable("flag", "flag")],
                  options=TableOneOptions(pvalues=True))
    assert _row(t, "x", "A")["p_value"] == pytest.approx(
        stats.ttest_ind([1, 2, 3, 4, 5, 6], [4, 5, 6, 7, 8, 9], equal_var=False).pvalue)
    assert _row(t, "flag", "A", True)["p_value"] == pytest.approx(
        stats.fisher_exact([[5, 1], [1, 5]]).pvalue)
    assert list(t.display.columns)[-1] == "p"


def test_table_one_rejects_unknown_variable_and_bad_options(sample_trial):
    with pytest.raises(ValueError, match="'weight' is not a column"):
        table_one(sample_trial, variables=[Variable("weight", "Weight")])
    with pytest.raises(ValueError, match="skew_threshold"):
        TableOneOptions(skew_threshold=0)


# -- exports ---------------------------------------------------------------------------------


def test_every_export_format_is_written_and_holds_the_cells(sample_trial, tmp_path):
    import docx

    t1 = table_one(sample_trial)
    paths = t1.save(tmp_path)
    names = sorted(p.name for p in paths)
    assert names == sorted(["table1_baseline.csv", "table1_baseline_data.csv",
                            "table1_baseline.md", "table1_baseline.tex",
                            "table1_baseline.html", "table1_baseline.docx"])
    first_cell = t1.display.iloc[0, 1]
    csv = pd.read_csv(tmp_path / "table1_baseline.csv", keep_default_na=False)
    assert csv.iloc[0, 1] == first_cell
    assert len(pd.read_csv(tmp_path / "table1_baseline_data.csv")) == len(t1.data)
    md = (tmp_path / "table1_baseline.md").read_text()
    assert f"| {first_cell} |" in md and md.startswith("**Table 1.")
    tex = (tmp_path / "table1_baseline.tex").read_text()
    assert "\\toprule" in tex and "67.5\\%" in tex and "\\quad F" in tex
    html = (tmp_path / "table1_baseline.html").read_text()
    assert "<caption>Table 1." in html and "67.5%" in html
    document = docx.Document(str(tmp_path / "table1_baseline.docx"))
    (table,) = document.tables
    assert len(table.rows) == len(t1.display) + 1
    assert table.cell(1, 1).text == first_cell
    with pytest.raises(ValueError, match="unknown table formats"):
        t1.save(tmp_path, formats=["pdf"])


# -- MMRM ------------------------------------------------------------------------------------


def test_mmrm_table_matches_the_fit(sample_fit):
    t = mmrm_table(sample_fit, primary_visit="WEEK12")
    ls = sample_fit.lsmeans("ARM", by="AVISIT")
    week12 = ls[ls["AVISIT"].astype(str) == "WEEK12"].set_index("ARM")["estimate"]
    diff = t.data.query("kind == 'difference' and visit == 'WEEK12'").iloc[0]
    assert diff["arm"] == "SERIES - SINGLE"
    assert diff["estimate"] == pytest.approx(week12["SERIES"] - week12["SINGLE"], abs=1e-10)
    assert diff["ci_low"] < diff["estimate"] < diff["ci_high"]
    row = t.display[t.display["Visit"] == "WEEK12*"].iloc[0]
    assert row["Difference (95% CI)"].startswith(f"{diff['estimate']:.1f} (")
    assert len(t.display) == sample_fit.lsmeans("ARM", by="AVISIT")["AVISIT"].nunique()


# -- endpoints -------------------------------------------------------------------------------


def _wilson(x, n, z=1.959963984540054):
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_endpoint_table_response_counts_and_wilson_intervals(sample_trial):
    t = endpoint_table(sample_trial)
    ds = ketex.analysis_dataset(sample_trial)
    week12 = ds[(ds["AVISIT"].astype(str) == "WEEK12") & (ds["ANL01FL"] == "Y")]
    rates = t.data[(t.data["kind"] == "rate") & (t.data["endpoint"] == "Response at WEEK12")]
    for arm in ("SINGLE", "SERIES"):
        rows = week12[week12["ARM"] == arm]
        responders = int(((rows["BASE"] - rows["AVAL"]) >= 0.5 * rows["BASE"] - 1e-9).sum())
        observed = int(rows["AVAL"].notna().sum())
        r = rates.set_index("group").loc[arm]
        assert (r["events"], r["n"]) == (responders, observed)
        assert (r["ci_low"], r["ci_high"]) == pytest.approx(_wilson(responders, observed))
    d = t.data.query("kind == 'risk difference'").iloc[0]
    r = rates.set_index("group")["estimate"]
    assert d["estimate"] == pytest.approx(r["SERIES"] - r["SINGLE"])
    assert d["nnt"].startswith(("NNTB", "NNTH", "no difference"))


def test_endpoint_table_prints_the_nnt_rounded_up_and_keeps_it_unrounded_in_data(sample_trial):
    """Altman (1998): the printed NNT and its limits are whole numbers rounded up,
    infinity as the symbol; the tidy data keep the unrounded NNT."""
    t = endpoint_table(sample_trial)
    data = t.data.query("kind == 'risk difference'").reset_index(drop=True)
    printed = t.display["NNT"].tolist()
    assert len(printed) == len(data) > 0
    number = r"(\d+|\u221e)"
    pattern = (rf"^(NNT[BH] \d+|no difference \(NNT \u221e\)) \(95% CI "
               rf"(NNT[BH] {number} to {number}|NNTH {number} to \u221e to NNTB {number})\)$")
    for cell, unrounded in zip(printed, data["nnt"], strict=True):
        assert re.fullmatch(pattern, cell), cell
        assert re.search(r"\d\.\d", unrounded), unrounded  # one decimal in the data
        kind, value = unrounded.split(" (")[0].split(" ")
        if kind != "no":
            assert cell.startswith(f"{kind} {math.ceil(float(value) - 1e-9)} ")
    if any("\u221e" in cell for cell in printed):
        assert "$\\infty$" in t.to_latex() and "\u221e" not in t.to_latex()


def test_endpoint_table_missing_as_failure_keeps_everyone_in_the_denominator(sample_trial):
    t = endpoint_table(sample_trial, missing="failure")
    rates = t.data[(t.data["kind"] == "rate") & (t.data["endpoint"] == "Response at WEEK12")]
    assert rates["n"].tolist() == [40, 40]
    with pytest.raises(ValueError, match="missing must be"):
        endpoint_table(sample_trial, missing="locf")


# -- survival --------------------------------------------------------------------------------


def test_survival_table_events_median_and_hazard_ratio(sample_trial):
    tte = ketex.time_to_event(sample_trial, "SUSTAIN-1").table
    t = survival_table(tte, order=["SINGLE", "SERIES"])
    medians = t.data[t.data["kind"] == "median"].set_index("group")
    for arm in ("SINGLE", "SERIES"):
        rows = tte[tte["ARM"] == arm]
        assert medians.loc[arm, "n"] == len(rows)
        assert medians.loc[arm, "events"] == int((rows["CNSR"] == 0).sum())
    frame = tte.assign(ARM=pd.Categorical(tte["ARM"], ["SINGLE", "SERIES"]),
                       event=tte["event"].astype(int))
    fit = ketex.cox(frame, ["ARM"], time="AVAL", event="event")
    hr = t.data[t.data["kind"] == "hazard ratio"].iloc[0]
    assert hr["estimate"] == pytest.approx(float(np.exp(fit.coef["estimate"].iloc[0])))
    assert t.display["Hazard ratio (95% CI)"].iloc[0] == "1 (reference)"


# -- adherence -------------------------------------------------------------------------------


def test_adherence_table_counts_infusions_from_the_raw_table(sample_trial):
    t = adherence_table(sample_trial)
    counts = sample_trial.infusions.groupby("participant_id").size()
    arms = sample_trial.participants.set_index("participant_id")["arm"]
    for arm in ("SINGLE", "SERIES"):
        expected = counts[arms.reindex(counts.index) == arm].median()
        assert _row(t, "infusions_received", arm)["median"] == expected
    dose = ketex.exercise_dose(sample_trial, by="participant")
    attendance = 100 * dose.loc[dose["arm"] == "SERIES", "attendance"]
    assert _row(t, "attendance_pct", "SERIES")["mean"] == pytest.approx(attendance.mean())
    assert "smd" not in t.data.columns


def test_long_cells_may_wrap_in_html_short_ones_do_not():
    from ketex.report._table import WRAP_CHARS
    from ketex.report.html import _CSS

    nnt = "NNTB 18.0 (95% CI NNTH 6.6 to infinity to NNTB 4.0)"
    table = ManuscriptTable(pd.DataFrame(), pd.DataFrame({"": ["Response"], "Risk": ["5.6"],
                                                          "NNT": [nnt]}), "T", (), "t")
    fragment = table.to_html()
    assert f'<td class="wrap">{nnt}</td>' in fragment
    assert "<td>5.6</td>" in fragment and "<td>Response</td>" in fragment
    assert len("10/36 (27.8%) [15.8, 44.0]") > WRAP_CHARS >= len("-1.3 (-4.5 to 1.9)")
    assert "table.ketex-table td.wrap { white-space: normal;" in _CSS
    # the rule for wrapping cells comes after the one keeping numbers on one line
    assert _CSS.index("td.wrap") > _CSS.index("td:not(:first-child) { white-space: nowrap")
