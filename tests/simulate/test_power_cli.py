"""The command line: ketex simulate and ketex power."""

import dataclasses

import pandas as pd

from ketex.cli import main
from ketex.io.folder import load_trial
from ketex.simulate import AddedEffectDesign, MeasurementDesign, TrialDesign, simulate_trial
from ketex.simulate.analyses import MMRMAnalysis
from ketex.simulate.power import power


def test_simulate_writes_a_study_folder_that_reads_back_equal(tmp_path, capsys):
    design = dataclasses.replace(TrialDesign(), n_per_arm=30)
    path = design.write(tmp_path / "design.toml")
    out = tmp_path / "study"
    assert main(["simulate", str(path), "--out", str(out), "--seed", "3",
                 "--n-per-arm", "6"]) == 0
    assert "participants=12" in capsys.readouterr().out
    expected = simulate_trial(dataclasses.replace(design, n_per_arm=6), seed=3)
    assert load_trial(out).differences(expected) == []
    assert TrialDesign.read(out / "design.toml") == dataclasses.replace(design, n_per_arm=6)
    truth = pd.read_csv(out / "truth.csv")
    assert truth["participant_id"].tolist() == expected.truth["participant_id"].tolist()


def test_simulate_does_not_write_into_a_folder_with_files_without_force(tmp_path, capsys):
    path = dataclasses.replace(TrialDesign(), n_per_arm=4).write(tmp_path / "design.toml")
    out = tmp_path / "study"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["simulate", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out} is a folder that holds files" in err and "--force" in err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # nothing written
    assert main(["simulate", str(path), "--out", str(out), "--force"]) == 0
    assert (out / "participants.csv").exists() and (out / "notes.txt").exists()
    assert main(["simulate", str(path), "--out", str(tmp_path / "new")]) == 0


def test_simulate_reports_a_bad_design(tmp_path, capsys):
    path = tmp_path / "design.toml"
    path.write_text("[design]\nn_per_arm = 0\n")
    assert main(["simulate", str(path), "--out", str(tmp_path / "x")]) == 2
    assert "n_per_arm must be > 0" in capsys.readouterr().err


def test_power_prints_and_writes_the_summary_as_the_api_computes_it(tmp_path, capsys):
    design = dataclasses.replace(
        TrialDesign(), added_effects=(AddedEffectDesign("SERIES", -4.0),),
        measurement=dataclasses.replace(MeasurementDesign(), post_infusion_visits=False))
    path = design.write(tmp_path / "design.toml")
    summary, sims, figure = (tmp_path / "summary.csv", tmp_path / "sims.csv",
                             tmp_path / "curve.png")
    status = main(["power", str(path), "--n-per-arm", "10", "12", "--n-sims", "3", "--seed",
                   "9", "--backend", "serial", "--quiet", "--out", str(summary),
                   "--simulations", str(sims), "--figure", str(figure)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "rejection_rate: power (design), type I error (null)" in printed
    expected = power(design, [10, 12], 3, MMRMAnalysis(), seed=9, backend="serial",
                     progress=False)
    written = pd.read_csv(summary, keep_default_na=False, na_values=[""])
    pd.testing.assert_frame_equal(written, expected.summary, check_dtype=False)
    assert len(pd.read_csv(sims)) == 2 * 2 * 3
    assert figure.read_bytes()[:4] == b"\x89PNG"


def test_power_reports_bad_arguments(tmp_path, capsys):
    path = TrialDesign().write(tmp_path / "design.toml")
    assert main(["power", str(path), "--n-per-arm", "0", "--quiet"]) == 2
    assert "n_per_arm must be a positive whole number" in capsys.readouterr().err


def test_power_of_time_to_relapse_from_the_command_line(tmp_path, capsys):
    path = TrialDesign().write(tmp_path / "design.toml")
    assert main(["power", str(path), "--n-per-arm", "15", "--n-sims", "1", "--analysis",
                 "relapse", "--no-null", "--backend", "serial", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "RelapseAnalysis(endpoint='SUSTAIN-1', test='logrank'" in out
    assert "design" in out and "null" not in out.split("\n", 2)[2]
