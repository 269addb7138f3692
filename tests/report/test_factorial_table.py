"""The CONSORT-factorial table: every number is an LS-mean or a factorial contrast of the fit."""

from __future__ import annotations

import pandas as pd
import pytest

import ketex
from ketex.errors import DataValidationError
from ketex.primary import primary_dataset
from ketex.report.factorial_table import FACTORIAL_TABLE_COLUMNS, consort_factorial_table

VISITS = ["WEEK4", "WEEK12"]
KET, MID, AEX, STR = "ketamine", "midazolam", "aerobic", "stretching"
NUMBERS = ["estimate", "se", "df", "ci_low", "ci_high", "p_value"]


@pytest.fixture(scope="module")
def data():
    ds = primary_dataset(ketex.load_trial(ketex.sample_study_path(study="factorial")))
    ds = ds[ds["AVISIT"].isin(VISITS)].copy()
    ds["AVISIT"] = ds["AVISIT"].cat.remove_unused_categories()
    return ds


@pytest.fixture(scope="module")
def fit(data):
    return ketex.mmrm(data, "CHG ~ BASE + DRUG * EXERCISE * AVISIT", subject="USUBJID",
                      visit="AVISIT")


@pytest.fixture(scope="module")
def table(fit):
    return consort_factorial_table(fit, visit="WEEK12", reference_a=MID, reference_b=STR)


def _text(row) -> str:
    return f"{row['estimate']:.1f} ({row['ci_low']:.1f} to {row['ci_high']:.1f})"


def test_cells_and_margins_are_the_lsmeans(fit, table):
    d = table.data
    assert list(d.columns) == list(FACTORIAL_TABLE_COLUMNS)
    assert (d["visit"] == "WEEK12").all()
    cells = fit.lsmeans(["DRUG", "EXERCISE"], by="AVISIT")
    cells = cells[cells["AVISIT"] == "WEEK12"].set_index(["DRUG", "EXERCISE"])
    got = d[d["part"] == "cell"]
    assert got[["level_a", "level_b"]].values.tolist() == [
        [MID, STR], [MID, AEX], [KET, STR], [KET, AEX]]  # the references first
    for _, row in got.iterrows():
        expected = cells.loc[(row["level_a"], row["level_b"])]
        assert row[NUMBERS].tolist() == expected[NUMBERS].tolist()  # the same numbers
    for factor, level_column in (("DRUG", "level_a"), ("EXERCISE", "level_b")):
        margins = fit.lsmeans(factor, by="AVISIT")
        margins = margins[margins["AVISIT"] == "WEEK12"].set_index(factor)
        got = d[(d["part"] == "margin") & (d["factor"] == factor)]
        assert len(got) == 2
        for _, row in got.iterrows():
            assert row[NUMBERS].tolist() == margins.loc[row[level_column], NUMBERS].tolist()


def test_effects_are_the_factorial_contrasts(fit, table):
    contrasts = ketex.factorial_contrasts(fit, reference_a=MID, reference_b=STR)
    contrasts = contrasts[contrasts["AVISIT"] == "WEEK12"].set_index("contrast")
    effects = table.data[~table.data["part"].isin(["cell", "margin"])]
    assert sorted(effects["contrast"]) == sorted(contrasts.index)
    for _, row in effects.iterrows():
        assert row[NUMBERS].tolist() == contrasts.loc[row["contrast"], NUMBERS].tolist()
    where = effects.set_index(["part", "factor", "level_a", "level_b"], drop=False)
    assert where.loc[("simple effect", "DRUG", f"{KET} - {MID}", AEX), "contrast"] == (
        f"{KET} - {MID} | EXERCISE = {AEX}")
    assert where.loc[("simple effect", "EXERCISE", MID, f"{AEX} - {STR}"),
                     "contrast"] == f"{AEX} - {STR} | DRUG = {MID}"
    inter = effects[effects["part"] == "interaction"].iloc[0]
    assert (inter["level_a"], inter["level_b"]) == (f"{KET} - {MID}", f"{AEX} - {STR}")
    # and the arithmetic of the grid: interaction = difference of the simple effects
    cell = table.data[table.data["part"] == "cell"].set_index(["level_a", "level_b"])["estimate"]
    assert inter["estimate"] == pytest.approx(
        cell[KET, AEX] - cell[KET, STR] - cell[MID, AEX] + cell[MID, STR], rel=1e-12)


def test_n_counts_the_participants_with_an_outcome_at_the_visit(data, table):
    rows = data[(data["AVISIT"] == "WEEK12") & data["CHG"].notna() & data["BASE"].notna()]
    n = rows.groupby(["DRUG", "EXERCISE"], observed=True)["USUBJID"].nunique()
    d = table.data.set_index(["part", "level_a", "level_b"])
    for (a, b), count in n.items():
        assert d.loc[("cell", a, b), "n"] == count
    assert d.loc[("margin", KET, None), "n"].item() == n[KET].sum()
    assert table.data.loc[table.data["part"] == "interaction", "n"].item() == n.sum()
    assert table.data.loc[table.data["part"] == "main effect", "n"].tolist() == [n.sum()] * 2


def test_display_is_the_grid(table):
    d = table.data
    display = table.display
    assert list(display.columns) == ["Drug", "Exercise: stretching", "Exercise: aerobic",
                                     "Mean over exercise", "Exercise: aerobic - stretching"]
    assert display["Drug"].tolist() == [MID, "    n", KET, "    n", "Mean over drug", "    n",
                                        f"{KET} - {MID}"]
    grid = display.set_index("Drug")

    def one(**where):
        mask = pd.Series(True, index=d.index)
        for column, value in where.items():
            mask &= d[column].isna() if value is None else d[column] == value
        assert mask.sum() == 1, where
        return d[mask].iloc[0]

    cell = one(part="cell", level_a=KET, level_b=AEX)
    assert grid.loc[KET, "Exercise: aerobic"] == _text(cell)
    assert grid.iloc[3]["Exercise: aerobic"] == str(cell["n"])
    margin = one(part="margin", factor="EXERCISE", level_b=STR)
    assert grid.loc["Mean over drug", "Exercise: stretching"] == _text(margin)
    main = one(part="main effect", factor="DRUG")
    assert grid.loc[f"{KET} - {MID}", "Mean over exercise"] == (
        f"{_text(main)}; p = {main['p_value']:.3f}")
    simple = one(part="simple effect", factor="EXERCISE", level_a=MID)
    assert grid.loc[MID, "Exercise: aerobic - stretching"].startswith(_text(simple) + "; p = ")
    inter = one(part="interaction")
    assert grid.loc[f"{KET} - {MID}", "Exercise: aerobic - stretching"].startswith(
        _text(inter) + "; p = ")
    # the corner of the margins: everyone analysed at the visit, no mean
    assert grid.loc["Mean over drug", "Mean over exercise"] == ""
    assert grid.iloc[5]["Mean over exercise"] == str(inter["n"])
    assert "(Kahan et al., JAMA 2023)" in table.notes[-1]
    assert "ketamine:aerobic - ketamine:stretching" in table.notes[2]


def test_labels_and_default_references(fit):
    table = consort_factorial_table(fit, visit="WEEK4", labels={
        "DRUG": "Infusion", AEX: "Aerobic cycling", MID: "Midazolam"})
    assert list(table.display.columns)[1:3] == ["Exercise: Aerobic cycling",
                                                "Exercise: stretching"]
    # default references: the first levels (ketamine, aerobic)
    assert table.display["Infusion"].tolist()[-1] == "Midazolam - ketamine"
    assert list(table.display.columns)[-1] == "Exercise: stretching - Aerobic cycling"
    assert table.title == ("Change from baseline at WEEK4 by infusion and exercise: "
                           "factorial analysis")
    assert (table.data["visit"] == "WEEK4").all()


def test_writes_every_format(table, tmp_path):
    pytest.importorskip("docx")
    paths = table.save(tmp_path)
    assert sorted(p.name for p in paths) == sorted(
        ["table_factorial.csv", "table_factorial_data.csv", "table_factorial.md",
         "table_factorial.tex", "table_factorial.html", "table_factorial.docx"])
    html = (tmp_path / "table_factorial.html").read_text(encoding="utf-8")
    assert '<td class="level">n</td>' in html and "<caption>Change from baseline" in html
    back = pd.read_csv(tmp_path / "table_factorial_data.csv")
    assert back["estimate"].tolist() == pytest.approx(table.data["estimate"].tolist(), rel=1e-12)


def test_says_what_is_wrong(fit, data):
    with pytest.raises(DataValidationError, match="visit='WEEK8' is not a level of 'AVISIT'"):
        consort_factorial_table(fit, visit="WEEK8")
    with pytest.raises(DataValidationError, match="reference_a='saline' is not a level"):
        consort_factorial_table(fit, visit="WEEK12", reference_a="saline")
    additive = ketex.mmrm(data, "CHG ~ BASE + (DRUG + EXERCISE) * AVISIT", subject="USUBJID",
                          visit="AVISIT")
    with pytest.raises(DataValidationError, match="no DRUG x EXERCISE interaction"):
        consort_factorial_table(additive, visit="WEEK12")
