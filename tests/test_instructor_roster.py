"""The roster (autograder/instructor/roster.py): reading it, and matching submission names
from grade.py, Canvas' and Gradescope's bulk downloads to students; OUT/roster.json."""
from __future__ import annotations

import json

import pytest

from autograder.instructor.roster import RosterError, attach, read_roster
from tests.test_instructor_common import a1_results, write_batch

ROSTER = """\ufeffStudent_ID,Name,Email,Submission,Canvas_ID,SIS_ID,Login,Section,Submitted_At,Notes
20230001,Alice Kim,alice@uni.edu,alice_final.py,,,,S1,,likes conv
20230002,"Doe, Jane",jane.doe@uni.edu,,12345,SIS-2,jdoe,S1,,
20230003,Bob Smith,bob@uni.edu,,23456,,,S2,,
20230004,Kim Lee,klee@uni.edu,,,,,S2,,
20230005,Carol White,carol.white@uni.edu,,,,,S1,,
20230006,Dave Brown,dbrown@uni.edu,,,,,S1,,
20230007,Eve Park,eve@uni.edu,,,,evep,S2,,
20230008,Frank Moon,frank@uni.edu,,,,,S2,,
20230009,Grace Han,grace@uni.edu,,,,,S1,,
20230010,Chris Park,chris1@uni.edu,,,,,S1,,
20230011,Chris Park,chris2@uni.edu,,,,,S2,,
20230012,Nobody Here,nobody@uni.edu,,,,,S2,,
"""

GRADESCOPE_YML = """\
submission_1001:
  :submitters:
  - :name: Eve Park
    :sid: '20230007'
    :email: eve@uni.edu
  - :name: Frank Moon
    :sid: ''
    :email: FRANK@uni.edu
  :created_at: 2025-04-01 22:10:05.123456000 +09:00
  :score: 18.0
submission_1002:
  :submitters:
  - :name: Grace Han
    :sid:
    :email: someone-else@other.edu
  :created_at: 2025-04-02 09:00:00.000000000 +09:00
"""

NAMES = {
    "alice_final": "submission",                                # roster's submission column (file name)
    "doejane_LATE_12345_678901_a1_cnn": "canvas",               # Canvas, by canvas_id, marked LATE
    "smithbob_23456_789012_a1_cnn-1": "canvas",                 # Canvas resubmission suffix
    "leekim_34567_111222_a1_cnn": "canvas",                     # Canvas, no canvas_id: by lastfirst
    "submission_1001": "gradescope",                            # group: Eve (by sid) + Frank (by e-mail)
    "submission_1002": "gradescope",                            # Grace by name
    "carol.white@uni.edu": "name",                              # an e-mail address as the name
    "a1_cnn_20230006": "name",                                  # the student id as a part
}


@pytest.fixture
def batch(tmp_path):
    names = list(NAMES) + ["mystery_person", "chris_park"]
    out = write_batch(tmp_path / "out", {n: a1_results({}) for n in names})
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    meta = tmp_path / "submission_metadata.yml"
    meta.write_text(GRADESCOPE_YML)
    return out, roster, meta


def test_roster_columns_are_case_insensitive_and_extra_ones_ignored(tmp_path, batch):
    students = read_roster(batch[1])
    assert len(students) == 12
    jane = students[1]
    assert (jane.student_id, jane.canvas_id, jane.sis_id, jane.login, jane.section) == \
           ("20230002", "12345", "SIS-2", "jdoe", "S1")
    assert jane.first_last == ("Jane", "Doe") and students[0].first_last == ("Alice", "Kim")


@pytest.mark.parametrize("text, problem", [
    ("name,email\nA,a@x\n", "no student_id column"),
    ("student_id,email\n1,a@x\n", "no name column"),
    ("student_id,name\n1,A\n1,B\n", "appears twice"),
    ("student_id,name\n,A\n", "line 2: no student_id"),
    ("", "empty"),
])
def test_bad_rosters_are_refused_with_the_reason(tmp_path, text, problem):
    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(RosterError, match=problem):
        read_roster(path)


def test_attach_matches_every_naming_scheme(batch):
    out, roster, meta = batch
    result = attach(out, roster, gradescope_metadata=meta)
    rules = {name: m.rule for name, m in result.matches.items()}
    assert rules == NAMES
    students = {name: m.students for name, m in result.matches.items()}
    assert students["alice_final"] == ["20230001"]
    assert students["doejane_LATE_12345_678901_a1_cnn"] == ["20230002"]
    assert students["smithbob_23456_789012_a1_cnn-1"] == ["20230003"]
    assert students["leekim_34567_111222_a1_cnn"] == ["20230004"]
    assert students["submission_1001"] == ["20230007", "20230008"]
    assert students["submission_1002"] == ["20230009"]
    assert students["carol.white@uni.edu"] == ["20230005"]
    assert students["a1_cnn_20230006"] == ["20230006"]
    assert result.matches["doejane_LATE_12345_678901_a1_cnn"].late is True
    assert result.matches["smithbob_23456_789012_a1_cnn-1"].late is False
    assert result.matches["submission_1001"].submitted_at.startswith("2025-04-01T22:10:05")
    # "chris_park" fits two students of that name: it decides nothing
    assert result.unmatched_submissions == ["chris_park", "mystery_person"]
    assert sorted(s.student_id for s in result.missing_students) == ["20230010", "20230011", "20230012"]


def test_attach_writes_roster_json(batch):
    out, roster, meta = batch
    attach(out, roster, gradescope_metadata=meta)
    data = json.loads((out / "roster.json").read_text())
    assert data["unmatched_submissions"] == ["chris_park", "mystery_person"]
    assert data["missing_students"] == ["20230010", "20230011", "20230012"]
    assert data["submissions"]["submission_1001"]["students"] == ["20230007", "20230008"]
    by_id = {s["student_id"]: s for s in data["students"]}
    assert by_id["20230008"]["matched_submission"] == "submission_1001"
    assert by_id["20230012"]["matched_submission"] is None


def test_without_gradescope_metadata_export_folders_stay_unmatched(batch):
    out, roster, _ = batch
    result = attach(out, roster)
    assert {"submission_1001", "submission_1002"} <= set(result.unmatched_submissions)


def test_a_student_with_two_submissions_gets_the_latest(tmp_path):
    out = write_batch(tmp_path / "out", {"jane": a1_results({}), "jane-2": a1_results({"1.1": False})})
    roster = tmp_path / "r.csv"
    roster.write_text("student_id,name,email,submitted_at\n7,Jane Roe,jane@uni.edu,2025-04-01T10:00:00Z\n")
    result = attach(out, roster)
    assert result.duplicates == {"7": ["jane", "jane-2"]}
    assert result.submission_of("7") == "jane-2"           # same known time: the later name (grade.py's -2)


def test_roster_command_lists_matches_and_gaps(batch):
    from click.testing import CliRunner
    from autograder.cli import main
    out, roster, meta = batch
    result = CliRunner().invoke(main, ["roster", str(out), str(roster), "--gradescope-metadata", str(meta)])
    assert result.exit_code == 0, result.output
    assert "submission_1001 -> Eve Park (20230007), Frank Moon (20230008)  [gradescope]" in result.output
    assert "doejane_LATE_12345_678901_a1_cnn -> Doe, Jane (20230002)  [canvas, LATE]" in result.output
    assert "2 submission(s) match no roster row: chris_park, mystery_person" in result.output
    assert "Nobody Here (20230012)" in result.output
    assert (out / "roster.json").is_file()
    plain = CliRunner().invoke(main, ["roster", str(out), str(roster)])
    assert plain.exit_code == 0 and "pass its submission_metadata.yml with --gradescope-metadata" in plain.output
    bad = out.parent / "bad.csv"
    bad.write_text("name\nx\n")
    result = CliRunner().invoke(main, ["roster", str(out), str(bad)])
    assert result.exit_code != 0 and "no student_id column" in result.output
