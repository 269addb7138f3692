"""Tests of the REDCap reader and writer (ketex.io.redcap).

The fixture in tests/data/redcap/ is written by hand (not by write_redcap): two
participants, three events, repeating infusion, exercise and adverse-event forms, a
checkbox that splits into rows, coded choices kept, decoded or recoded, an incomplete
form and a form the mapping does not read.
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from ketex.errors import DataValidationError
from ketex.io.folder import load_trial
from ketex.io.redcap import DICTIONARY_COLUMNS, load_redcap, read_dictionary, write_redcap
from ketex.io.redcap.dictionary import FIELD_TYPES
from ketex.io.redcap.read import read_redcap_tables
from ketex.study.validation import build_trial

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DATA = Path(__file__).parents[1] / "data"
FIXTURE = DATA / "redcap"
MINI = DATA / "mini"
KEY = ["table", "source_file", "line", "participant_id", "column", "value", "rule", "severity"]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A private copy of the hand-made export, to corrupt."""
    for name in ("records.csv", "dictionary.csv", "mapping.toml", "study.toml"):
        shutil.copy(FIXTURE / name, tmp_path / name)
    return tmp_path


def load(folder: Path, mapping=None, **kwargs):
    return load_redcap(folder / "records.csv", folder / "dictionary.csv",
                       mapping if mapping is not None else folder / "mapping.toml", **kwargs)


def mapping_dict(folder: Path = FIXTURE) -> dict:
    data = tomllib.loads((folder / "mapping.toml").read_text())["redcap"]
    data["study_toml"] = str(folder / "study.toml")
    return data


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def set_cell(path: Path, line: int, column: str, value: str) -> None:
    """Set one cell of a CSV file; ``line`` is the file line (the header is line 1)."""
    rows = read_rows(path)
    rows[line - 1][rows[0].index(column)] = value
    write_rows(path, rows)


def rows_of(report: pd.DataFrame) -> list[tuple]:
    return [tuple(None if pd.isna(v) else v for v in row)
            for row in report[KEY].itertuples(index=False)]


# -- the hand-made export ---------------------------------------------------------------


def test_fixture_loads_participants_with_recoded_arm_and_sex_and_kept_extra():
    trial = load(FIXTURE)
    participants = trial.participants
    assert list(participants["participant_id"]) == ["R01", "R02"]
    assert list(participants["arm"]) == ["SINGLE", "SERIES"]
    assert list(participants["sex"]) == ["F", "M"]
    assert list(participants["weight_kg"]) == [70.5, 82.0]
    # unmapped field of the mapped form: kept with its code; ignored field: left out
    assert participants["education"].tolist()[0] == 2.0
    assert "consent_notes" not in participants.columns


def test_fixture_repeating_instruments_dates_constants_and_decoded_choices():
    trial = load(FIXTURE)
    infusions = trial.infusions
    assert infusions[["participant_id", "day"]].values.tolist() == [["R01", 1], ["R02", 1],
                                                                     ["R02", 3]]
    assert set(infusions["drug"]) == {"ketamine"} and set(infusions["dose_unit"]) == {"mg/kg"}
    assert set(infusions["route"]) == {"IV"}  # decoded from code 1
    assert set(infusions["duration_min"]) == {40.0}
    exercise = trial.exercise
    assert exercise["completed"].tolist() == [True, False]  # yesno codes kept: 1/0
    assert exercise["problems"].tolist()[1] == "Knee pain;Dizziness"  # checkbox, decoded


def test_fixture_checkbox_split_gives_one_event_per_ticked_option():
    events = load(FIXTURE).events
    assert events[["participant_id", "day", "event"]].values.tolist() == [
        ["R02", 10, "hospitalisation"],
        ["R02", 10, "other"],
    ]


def test_fixture_scales_from_events_and_shared_visit_date():
    assessments = load(FIXTURE).assessments
    got = assessments[["participant_id", "visit", "instrument", "day", "total"]]
    assert got.values.tolist() == [
        ["R01", "BASELINE", "MADRS", -2, 30.0],
        ["R01", "BASELINE", "PHQ-9", -2, 10.0],
        ["R01", "WEEK1", "MADRS", 7, 16.0],
        ["R01", "WEEK2", "MADRS", 14, 12.0],
        ["R01", "WEEK2", "PHQ-9", 14, 3.0],
        ["R02", "BASELINE", "MADRS", 0, 34.0],
        ["R02", "WEEK1", "MADRS", 7, 23.0],
    ]
    assert assessments.loc[1, "item_9"] == 0.0 and pd.isna(assessments.loc[1, "item_10"])


def test_fixture_report_warns_about_incomplete_and_unmapped_forms():
    report = load(FIXTURE).report
    assert rows_of(report) == [
        ("exercise", "records.csv", 5, "R01", "exercise_session_complete", "0",
         "incomplete_form", "warning"),
        ("redcap", "records.csv", 6, "R01", "staff_notes_complete", None,
         "unmapped_form", "warning"),
    ]
    assert "staff_notes" in report.loc[1, "message"]


def test_mapping_as_dict_and_embedded_protocol_give_the_same_trial():
    from_file = load(FIXTURE)
    from_dict = load(FIXTURE, mapping_dict())
    assert from_file.differences(from_dict) == []
    embedded = mapping_dict()
    del embedded["study_toml"]
    embedded["protocol"] = tomllib.loads((FIXTURE / "study.toml").read_text())
    assert from_file.differences(load(FIXTURE, {"redcap": embedded})) == []
    embedded["protocol"] = from_file.protocol
    assert from_file.differences(load(FIXTURE, embedded)) == []


# -- problems with records rows: exact report rows --------------------------------------


def test_code_not_among_the_choices_is_an_error_with_line_column_value(export):
    set_cell(export / "records.csv", 8, "study_arm", "3")
    with pytest.raises(DataValidationError) as caught:
        load(export)
    errors = caught.value.errors
    assert rows_of(errors.head(1)) == [
        ("participants", "records.csv", 8, "R02", "study_arm", "3", "invalid_choice", "error"),
    ]
    message = errors.loc[0, "message"]
    assert "1, Single infusion | 2, Infusion series" in message and "correct" in message
    # the blanked arm is not reported a second time as missing
    assert not ((errors["rule"] == "missing_value") & (errors["line"] == 8)).any()
    # rows of the rejected participant point back at the participants row
    others = errors[errors["rule"] == "unknown_participant"]
    assert set(others["line"]) == {8, 9, 10, 11, 12}  # line 8 also holds a MADRS
    assert others["message"].str.contains("was rejected in participants").all()


def test_bad_codes_in_items_checkboxes_and_form_status(export):
    records = export / "records.csv"
    set_cell(records, 2, "madrs_03", "7")
    set_cell(records, 4, "ex_problems___2", "2")
    set_cell(records, 7, "madrs_complete", "5")
    trial = load(export, on_error="drop")
    errors = trial.report[trial.report["severity"] == "error"]
    assert rows_of(errors) == [
        ("assessments", "records.csv", 2, "R01", "madrs_03", "7", "invalid_choice", "error"),
        ("exercise", "records.csv", 4, "R01", "ex_problems___2", "2", "invalid_choice", "error"),
        ("assessments", "records.csv", 7, "R01", "madrs_complete", "5", "invalid_choice",
         "error"),
    ]
    assert len(trial.assessments) == 5 and len(trial.exercise) == 1


def test_validation_problems_name_the_redcap_field(export):
    set_cell(export / "records.csv", 9, "inf_dose_mgkg", "5")
    with pytest.raises(DataValidationError) as caught:
        load(export)
    assert rows_of(caught.value.errors) == [
        ("infusions", "records.csv", 9, "R02", "inf_dose_mgkg", "5", "implausible_dose", "error"),
    ]


def test_code_missing_from_the_mapping_values_is_an_error(export):
    mapping = mapping_dict()
    mapping["participants"]["columns"]["arm"]["values"] = {"1": "SINGLE"}
    trial = load(export, mapping, on_error="drop")
    first = trial.report.iloc[0]
    assert (first["rule"], first["line"], first["column"], first["value"]) == (
        "unmapped_code", 8, "study_arm", "2")
    assert "redcap.participants.columns.arm.values" in first["message"]


def test_event_without_a_visit_is_an_error(export):
    set_cell(export / "records.csv", 12, "redcap_event_name", "week_3_arm_1")
    with pytest.raises(DataValidationError) as caught:
        load(export)
    assert rows_of(caught.value.errors) == [
        ("assessments", "records.csv", 12, "R02", "redcap_event_name", "week_3_arm_1",
         "unmapped_event", "error"),
    ]
    assert "[redcap.visits]" in caught.value.errors.loc[0, "message"]


def test_rows_the_mapping_does_not_read_are_warnings(export):
    rows = read_rows(export / "records.csv")
    header = rows[0]
    empty = [""] * len(header)
    empty[:2] = ["R02", "week_2_arm_1"]
    rows.append(empty)  # line 13: no data at all
    other_event = list(rows[7])  # R02 baseline demographics, again in week 1: not read there
    other_event[1] = "week_1_arm_1"
    for column in header[header.index("visit_date"):]:
        other_event[header.index(column)] = "0" if "___" in column else ""
    rows.append(other_event)  # line 14
    write_rows(export / "records.csv", rows)
    report = load(export).report
    warnings = report[report["line"] >= 13]
    assert rows_of(warnings) == [
        ("redcap", "records.csv", 13, "R02", None, None, "empty_row", "warning"),
        ("redcap", "records.csv", 14, "R02", "demographics_complete", None, "unmapped_form",
         "warning"),
    ]


# -- bad mappings, dictionaries and files -------------------------------------------------


def test_mapping_naming_a_field_absent_from_the_dictionary(export):
    text = (export / "mapping.toml").read_text().replace('dose = "inf_dose_mgkg"',
                                                         'dose = "inf_dose"')
    (export / "mapping.toml").write_text(text)
    with pytest.raises(DataValidationError) as caught:
        load(export)
    message = str(caught.value)
    assert "mapping.toml: redcap.infusions.columns.dose: field 'inf_dose' is not in " \
           "dictionary.csv" in message
    report = caught.value.report
    assert rows_of(report) == [
        ("mapping", "mapping.toml", None, None, "redcap.infusions.columns.dose", None,
         "bad_mapping", "error"),
    ]


def _set(path: list, value):
    def edit(mapping: dict) -> None:
        target = mapping
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return edit


_DELETE = object()


@pytest.mark.parametrize(
    ("edit", "key", "words"),
    [
        (_set(["unknown"], 1), "redcap", "unknown key(s) unknown"),
        (_set(["participants"], _DELETE), "redcap.participants", "missing"),
        (_set(["scales", 0, "instrument"], "MADRS-X"), "redcap.scales[0].instrument",
         "not a known instrument"),
        (_set(["scales", 0, "items"], ["madrs_01"]), "redcap.scales[0].items",
         "MADRS has 10 items; the mapping lists 1"),
        (_set(["visits", "week_1_arm_1"], "WEEK9"), "redcap.visits.week_1_arm_1",
         "not a visit of the protocol"),
        (_set(["decode"], "yes"), "redcap.decode", "must be true or false"),
        (_set(["protocol"], {"study": {"id": "X"}}), "redcap", "give exactly one of"),
        (_set(["infusions", "columns", "drug"], _DELETE), "redcap.infusions.columns",
         "required column 'drug' is not mapped"),
        (_set(["exercise", "columns", "avg_hr"], {"field": "ex_hr_avg", "split": True}),
         "redcap.exercise.columns.avg_hr.split", "only checkbox fields split"),
        (_set(["participants", "columns", "sex", "values"], {"9": "F"}),
         "redcap.participants.columns.sex.values", "code(s) 9 are not choices of sex"),
        (_set(["participants", "form"], "demographix"), "redcap.participants.form",
         "'demographix' is not a form"),
        (_set(["participants", "columns", "age"], 42), "redcap.participants.columns.age",
         "must be a field name or a table"),
        (_set(["scales"], _DELETE), "redcap.scales", "missing"),
        (_set(["record_id"], "subject"), "redcap.record_id", "not a field"),
    ],
)
def test_malformed_mappings_raise_naming_the_key(edit, key, words):
    mapping = mapping_dict()
    edit(mapping)
    with pytest.raises(DataValidationError) as caught:
        load(FIXTURE, mapping)
    message = str(caught.value)
    assert f"mapping: {key}: " in message and words in message


def test_mapping_file_problems(export):
    (export / "mapping.toml").write_text("[redcap\n")
    with pytest.raises(DataValidationError, match="mapping.toml: not valid TOML"):
        load(export)
    (export / "mapping.toml").write_text("[other]\n")
    with pytest.raises(DataValidationError, match="mapping.toml: redcap: missing"):
        load(export)
    (export / "mapping.toml").write_text('[redcap]\nstudy_toml = "nowhere.toml"\n')
    with pytest.raises(FileNotFoundError, match="nowhere.toml"):
        load(export)


def test_missing_files_raise_oserror(export):
    with pytest.raises(OSError):
        load_redcap(export / "nope.csv", export / "dictionary.csv", export / "mapping.toml")
    with pytest.raises(OSError):
        load_redcap(export / "records.csv", export / "nope.csv", export / "mapping.toml")
    with pytest.raises(OSError):
        load_redcap(export / "records.csv", export / "dictionary.csv", export / "nope.toml")


def test_dictionary_without_a_needed_column(export):
    rows = read_rows(export / "dictionary.csv")
    write_rows(export / "dictionary.csv", [row[:3] + row[4:] for row in rows])
    with pytest.raises(DataValidationError) as caught:
        load(export)
    assert "'Field Type'" in str(caught.value)
    assert caught.value.report.loc[0, "rule"] == "missing_column"


@pytest.mark.parametrize(
    ("line", "column", "value", "rule"),
    [
        (3, "Field Type", "radiobutton", "unknown_field_type"),
        (3, "Choices, Calculations, OR Slider Labels", "1 Single | 2, Series", "bad_choices"),
        (3, "Choices, Calculations, OR Slider Labels", "", "bad_choices"),
        (4, "Variable / Field Name", "study_arm", "duplicate_field"),
    ],
)
def test_bad_dictionary_rows(export, line, column, value, rule):
    set_cell(export / "dictionary.csv", line, column, value)
    with pytest.raises(DataValidationError) as caught:
        load(export)
    report = caught.value.report
    assert (report.loc[0, "rule"], report.loc[0, "source_file"]) == (rule, "dictionary.csv")
    assert report.loc[0, "line"] in (3, 4)


def test_api_metadata_header_is_accepted(export):
    rows = read_rows(export / "dictionary.csv")
    rows[0] = ["field_name", "form_name", "section_header", "field_type", "field_label",
               "select_choices_or_calculations", *rows[0][6:]]
    write_rows(export / "dictionary.csv", rows)
    assert load(export).differences(load(FIXTURE)) == []


def test_records_missing_a_mapped_field(export):
    rows = read_rows(export / "records.csv")
    drop = rows[0].index("ex_hr_avg")
    write_rows(export / "records.csv", [row[:drop] + row[drop + 1:] for row in rows])
    with pytest.raises(DataValidationError, match="no column ex_hr_avg"):
        load(export)


def test_records_column_unknown_to_the_dictionary_is_a_warning(export):
    rows = read_rows(export / "records.csv")
    write_rows(export / "records.csv", [[*row, "x" if k else "mystery"]
                                        for k, row in enumerate(rows)])
    report = load(export).report
    assert rows_of(report[report["rule"] == "unknown_field"]) == [
        ("redcap", "records.csv", 1, None, "mystery", None, "unknown_field", "warning"),
    ]


# -- row accounting -------------------------------------------------------------------------


def corrupt(export: Path) -> None:
    """Damage the export in every way a records line can go wrong."""
    records = export / "records.csv"
    set_cell(records, 2, "sex", "7")  # bad code
    set_cell(records, 3, "record_id", "")  # no record id
    set_cell(records, 4, "ex_minutes", "forty")  # not a number
    set_cell(records, 6, "redcap_event_name", "week_9_arm_1")  # event without a visit
    set_cell(records, 9, "record_id", "R99")  # unknown participant
    set_cell(records, 11, "ae_day", "")  # required value missing
    lines = records.read_text().splitlines()
    lines[9] = lines[9] + ",extra,fields"  # line 10: malformed
    lines.append("R02,week_2_arm_1" + "," * (lines[0].count(",") - 1))  # line 13: empty row
    records.write_text("\n".join(lines) + "\n")


def test_row_accounting_on_a_corrupted_export(export):
    corrupt(export)
    tables = read_redcap_tables(export / "records.csv", export / "dictionary.csv",
                                export / "mapping.toml")
    trial = build_trial(tables.protocol, tables.raw, on_error="drop", log=tables.log)
    lines_in_file = set(range(2, 14))
    used = {int(line) for frame in tables.raw.values() if frame is not None
            for line in frame["_line"]}
    reported = set(trial.report["line"].dropna().astype(int))
    assert lines_in_file <= used | reported
    for name, frame in tables.raw.items():
        if frame is None:
            continue
        rejected = tables.log.rejected.get(name, set())
        assert len(getattr(trial, name)) == len(frame) - len(rejected), name
    assert set(trial.report["rule"]) >= {"invalid_choice", "missing_value", "non_numeric",
                                         "unmapped_event", "unknown_participant",
                                         "malformed_row", "empty_row"}


# -- the writer ---------------------------------------------------------------------------


def test_round_trip_of_the_mini_study(tmp_path):
    trial = load_trial(MINI)
    paths = write_redcap(trial, tmp_path / "export")
    again = load_redcap(paths["records"], paths["dictionary"], paths["mapping"])
    assert trial.differences(again) == []
    assert again.report.empty


def test_round_trip_of_the_sample_study(tmp_path):
    from ketex.datasets import sample_study_path

    trial = load_trial(sample_study_path())
    paths = write_redcap(trial, tmp_path)
    again = load_redcap(paths["records"], paths["dictionary"], paths["mapping"])
    assert trial.differences(again) == []
    assert list(again.report["rule"]) == list(trial.report["rule"])  # the same warnings


def test_round_trip_of_the_hand_made_export(tmp_path):
    trial = load(FIXTURE)
    paths = write_redcap(trial, tmp_path)
    assert trial.differences(load_redcap(paths["records"], paths["dictionary"],
                                         paths["mapping"])) == []


def test_written_export_is_a_valid_redcap_project(tmp_path):
    paths = write_redcap(load_trial(MINI), tmp_path)
    dictionary = pd.read_csv(paths["dictionary"], dtype=str, keep_default_na=False)
    assert tuple(dictionary.columns) == DICTIONARY_COLUMNS
    assert set(dictionary["Field Type"]) <= set(FIELD_TYPES)
    assert {"radio", "dropdown", "checkbox", "yesno", "text", "notes"} <= set(
        dictionary["Field Type"])
    coded = dictionary["Field Type"].isin(["radio", "dropdown", "checkbox"])
    assert (dictionary.loc[coded, "Choices, Calculations, OR Slider Labels"] != "").all()
    assert dictionary["Variable / Field Name"].str.fullmatch(r"[a-z][a-z0-9_]*").all()
    assert dictionary.iloc[0]["Variable / Field Name"] == "record_id"
    records = pd.read_csv(paths["records"], dtype=str, keep_default_na=False)
    assert list(records.columns[:4]) == ["record_id", "redcap_event_name",
                                         "redcap_repeat_instrument", "redcap_repeat_instance"]
    assert set(records["redcap_event_name"]) == {
        "baseline_arm_1", "inf1_24h_arm_1", "inf2_24h_arm_1", "week2_arm_1", "week4_arm_1"}
    assert set(records["redcap_repeat_instrument"]) == {"", "infusion", "exercise_session",
                                                        "clinical_event"}
    assert "ev_event___1" in records.columns  # the event type is a checkbox
    dictionary_read = read_dictionary(paths["dictionary"])
    assert dictionary_read.fields["arm"].type == "radio"


def test_duplicate_visits_of_one_scale_become_a_repeating_form(tmp_path):
    trial = load_trial(MINI)
    extra = trial.assessments.iloc[[0]].assign(day=-2)  # M01 MADRS again at BASELINE
    assessments = pd.concat([trial.assessments, extra]).sort_values(
        ["participant_id", "day", "instrument", "visit"], kind="mergesort").reset_index(drop=True)
    from dataclasses import replace

    doubled = replace(trial, assessments=assessments)
    paths = write_redcap(doubled, tmp_path)
    records = pd.read_csv(paths["records"], dtype=str, keep_default_na=False)
    assert (records["redcap_repeat_instrument"] == "madrs").sum() == len(
        trial.assessments.query("instrument == 'MADRS'")) + 1
    again = load_redcap(paths["records"], paths["dictionary"], paths["mapping"])
    assert doubled.differences(again) == []


# -- a project without events or repeating forms ------------------------------------------


def test_classic_project_without_events_takes_the_visit_from_a_field(tmp_path):
    (tmp_path / "records.csv").write_text(
        "study_id,redcap_repeat_instrument,redcap_repeat_instance,arm,demographics_complete,"
        "visit,madrs_day,madrs_total,madrs_complete\n"
        "A1,,,1,2,,,,\n"
        "A1,madrs,1,,,1,0,31,2\n"
        "A1,madrs,2,,,2,14,20,2\n"
        "A2,,,2,2,,,,\n"
        "A2,madrs,1,,,1,-1,28,1\n"
    )
    (tmp_path / "dictionary.csv").write_text(
        "Variable / Field Name,Form Name,Field Type,Field Label,"
        '"Choices, Calculations, OR Slider Labels"\n'
        "study_id,demographics,text,Study ID,\n"
        'arm,demographics,radio,Arm,"1, SINGLE | 2, SERIES"\n'
        'visit,madrs,dropdown,Visit,"1, BASELINE | 2, WEEK2"\n'
        "madrs_day,madrs,text,Day,\n"
        "madrs_total,madrs,text,MADRS total,\n"
    )
    mapping = {
        "protocol": tomllib.loads((MINI / "study.toml").read_text()),
        "decode": True,
        "participants": {"columns": {"arm": "arm"}},
        "scales": [{"instrument": "MADRS",
                    "columns": {"day": "madrs_day", "total": "madrs_total", "visit": "visit"}}],
    }
    trial = load_redcap(tmp_path / "records.csv", tmp_path / "dictionary.csv", mapping)
    assert trial.participants[["participant_id", "arm"]].values.tolist() == [
        ["A1", "SINGLE"], ["A2", "SERIES"]]
    assert trial.assessments[["participant_id", "visit", "day", "total"]].values.tolist() == [
        ["A1", "BASELINE", 0, 31.0], ["A1", "WEEK2", 14, 20.0], ["A2", "BASELINE", -1, 28.0]]
    assert trial.report.empty


# -- property: random corruption never escapes as anything but DataValidationError ---------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_NASTY = ["", " ", "x", "-1", "0", "1", "2", "3", "7", "999", "1.5", "1e9", "nan", "NA",
          "2024-13-45", "2024-03-01", ",", '"', "a,b", "baseline_arm_1", "week_9_arm_1",
          "madrs", "infusion", "M01", "M99", "Checked", "\u0663", "1, Yes | 0, No"]


@pytest.fixture(scope="module")
def mini_export(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mini_export")
    write_redcap(load_trial(MINI), folder)
    return folder


def _corrupted_copy(source: Path, name: str, edits, drop_fields) -> Path:
    import tempfile

    folder = Path(tempfile.mkdtemp())
    for file in ("records.csv", "dictionary.csv", "mapping.toml", "study.toml"):
        shutil.copy(source / file, folder / file)
    rows = read_rows(folder / name)
    for (row, column, value) in edits:
        target = rows[1 + row % (len(rows) - 1)]
        target[column % len(target)] = value
    for row in drop_fields:
        target = rows[1 + row % (len(rows) - 1)]
        del target[-1]
    write_rows(folder / name, rows)
    return folder


_edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000),
                            st.sampled_from(_NASTY)), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(edits=_edits, drop_fields=st.lists(st.integers(0, 10_000), max_size=2))
def test_corrupted_records_give_a_trial_or_a_data_validation_error(mini_export, edits,
                                                                   drop_fields):
    folder = _corrupted_copy(mini_export, "records.csv", edits, drop_fields)
    try:
        tables = read_redcap_tables(folder / "records.csv", folder / "dictionary.csv",
                                    folder / "mapping.toml")
    except DataValidationError:
        return  # a structural problem (e.g. a header cell damaged)
    trial = build_trial(tables.protocol, tables.raw, on_error="drop", log=tables.log)
    lines = range(2, len(read_rows(folder / "records.csv")) + 1)
    used = {int(line) for frame in tables.raw.values() if frame is not None
            for line in frame["_line"]}
    reported = set(trial.report["line"].dropna().astype(int))
    assert set(lines) <= used | reported
    try:
        load(folder)
    except DataValidationError:
        pass


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(edits=_edits, drop_fields=st.lists(st.integers(0, 10_000), max_size=1))
def test_corrupted_dictionaries_give_a_trial_or_a_data_validation_error(mini_export, edits,
                                                                        drop_fields):
    folder = _corrupted_copy(mini_export, "dictionary.csv", edits, drop_fields)
    try:
        load(folder, on_error="drop")
    except DataValidationError:
        pass


def test_an_item_the_form_lacks_is_unanswered_and_the_total_prorated(export):
    mapping = mapping_dict()
    mapping["scales"][0]["items"][9] = ""  # the form has no MADRS item 10
    mapping["scales"][0]["ignore"] = ["madrs_10"]
    del mapping["scales"][0]["columns"]["total"]
    mapping["scales"][0]["ignore"].append("madrs_total")
    assessments = load(export, mapping).assessments
    madrs = assessments[assessments["instrument"] == "MADRS"]
    assert "item_10" not in madrs.columns  # entirely empty optional columns are dropped
    assert madrs["total"].iloc[0] == pytest.approx(28 / 9 * 10)  # prorated from 9 items


def test_participant_fields_read_in_no_row_leave_every_row_unplaced_not_a_crash(export):
    mapping = mapping_dict()
    mapping["participants"]["event"] = "week_9_arm_1"
    trial = load(export, mapping, on_error="drop")
    assert trial.participants.empty
    report = trial.report
    assert "unknown_participant" in set(report["rule"])
    unplaced = report[report["rule"] == "unmapped_form"]
    assert set(unplaced.loc[unplaced["column"] == "demographics_complete", "line"]) == {2, 8}


def test_a_date_that_parses_to_an_impossible_year_is_a_bad_date(export):
    set_cell(export / "records.csv", 2, "visit_date", "-3")
    report = load(export, on_error="drop").report
    assert rows_of(report[report["rule"] == "bad_date"]) == [
        ("assessments", "records.csv", 2, "R01", "visit_date", "-3", "bad_date", "error"),
    ] * 2  # the MADRS and the PHQ-9 of that visit share the date


def test_writer_keeps_extra_columns_clear_of_redcap_names(tmp_path):
    from dataclasses import replace

    from ketex.study.tables import canonical

    trial = load_trial(MINI)
    participants = trial.participants.assign(
        enrolment_complete=[1.0, 2.0, 3.0, 4.0], record_id=["a", "b", "c", "d"],
        redcap_event_name=["x", "y", "z", "w"])
    odd = replace(trial, participants=canonical("participants", participants))
    paths = write_redcap(odd, tmp_path)
    again = load_redcap(paths["records"], paths["dictionary"], paths["mapping"])
    assert odd.differences(again) == []


def test_round_trip_of_the_safety_tables(tmp_path):
    # adverse events, vital signs and medications become repeating forms of their own
    # (every code of docs/safety.md, vitals in lb and F, ongoing medications)
    from tests.io.test_sdtm_safety import ADVERSE_EVENTS, MEDICATIONS, VITALS

    folder = tmp_path / "mini"
    shutil.copytree(MINI, folder)
    for name, text in (("adverse_events", ADVERSE_EVENTS), ("vitals", VITALS),
                       ("medications", MEDICATIONS)):
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    trial = load_trial(folder)
    assert trial.report.empty and trial.has_safety_data
    paths = write_redcap(trial, tmp_path / "export")
    mapping = tomllib.loads(paths["mapping"].read_text(encoding="utf-8"))["redcap"]
    assert {name: mapping[name]["form"] for name in ("adverse_events", "vitals",
                                                     "medications")} == {
        "adverse_events": "adverse_event", "vitals": "vital_signs",
        "medications": "medication"}
    dictionary = pd.read_csv(paths["dictionary"], dtype=str, keep_default_na=False)
    types = dictionary.set_index("Variable / Field Name")["Field Type"]
    assert types[["ae_severity", "ae_related", "ae_serious", "vs_test"]].tolist() == [
        "radio", "radio", "yesno", "dropdown"]
    again = load_redcap(paths["records"], paths["dictionary"], paths["mapping"])
    assert trial.differences(again) == []
    assert again.report.empty
    assert len(again.adverse_events) == 8 and len(again.vitals) == 9


def test_safety_table_mapping_missing_a_required_column_names_the_key(export):
    mapping = mapping_dict(export)
    mapping["medications"] = {"form": "adverse_event", "columns": {"start_day": "ae_day"}}
    with pytest.raises(DataValidationError) as caught:
        load(export, mapping)
    report = caught.value.report
    problem = report[report["rule"] == "bad_mapping"]
    assert len(problem) == 1
    assert problem["column"].iloc[0] == "redcap.medications.columns"
    assert "required column 'name' is not mapped" in problem["message"].iloc[0]
