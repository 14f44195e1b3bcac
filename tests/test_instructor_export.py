"""Exports (autograder/instructor/export.py, `grade.py export`): Canvas' and Moodle's grade
import files, the plain CSV with one column per task, late penalties, CSV injection."""
from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner

from autograder import registry
from autograder.cli import main
from autograder.instructor.export import ExportError, export
from autograder.registry import LatePolicy
from tests.test_instructor_common import a1_results, make_results, make_test, write_batch

ROSTER = """student_id,name,email,canvas_id,sis_id,login,section,submitted_at
1001,"Kim, Alice",alice@uni.edu,501,S1001,akim,A,2025-04-01T20:00:00+09:00
1002,Bob Lee,bob@uni.edu,502,S1002,blee,A,2025-04-03T01:00:00+09:00
1003,=HYPERLINK("http://evil/"),+evil@uni.edu,503,-S1003,@carol,B,
1004,Dan Cho,dan@uni.edu,504,S1004,dcho,B,
1005,Nobody,nobody@uni.edu,505,S1005,nob,B,
"""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def out(tmp_path):
    results = {
        "alice": a1_results({}),                                            # 22 / 22
        "bob": a1_results({"1.2": False, "1.4-speed": False}),              # 15 / 22
        "1003_carol": a1_results({}, load_error="syntax error in a1_cnn.py at line 3"),
        "dan": make_results([make_test("1.4 conv2d speed [cuda]", "1.4.1", 0, 0, "skipped",
                                       tags=("performance",))]
                            + [make_test("1.1 conv_output_size", "1.1.1", 2, 2)]),
        "stranger": a1_results({"1.1": False}),
    }
    results["1003_carol"]["score"] = 0.0
    out = write_batch(tmp_path / "out", results)
    (tmp_path / "roster.csv").write_text(ROSTER)
    return out


def rows_of(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def assert_no_formula_cells(rows):
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START), (cell, row)


def test_plain_csv_has_one_column_per_task_and_blank_for_uncounted(out):
    res = export(out, "csv", roster=out.parent / "roster.csv")
    rows = rows_of(res.path)
    header = rows[0]
    a1 = registry.get("a1_cnn")
    task_cols = [f"{t.number} {t.function}" for t in a1.tasks]
    assert header == ["student_id", "name", "email", "submission", "status", "score", "max_score", "late_percent",
                      *task_cols, "note"]
    by_id = {r[0]: dict(zip(header, r)) for r in rows[1:]}
    assert list(by_id) == ["1001", "1002", "1003", "1004", "1005"]          # roster order
    bob = by_id["1002"]
    assert (bob["status"], bob["score"], bob["max_score"]) == ("graded", "15", "22")
    assert (bob["1.1 conv_output_size"], bob["1.2 conv_transpose_output_size"], bob["1.4 conv2d"]) == ("4", "0", "3")
    assert sum(float(bob[c]) for c in task_cols if bob[c]) == 15
    untested = [c for c in task_cols if c.split()[0] not in ("1.1", "1.2", "1.3", "1.4", "1.5")]
    assert all(bob[c] == "" for c in untested)                  # tasks with no test in these results: blank
    dan = by_id["1004"]
    assert dan["1.4 conv2d"] == "" and dan["1.1 conv_output_size"] == "2"      # skipped only: blank, not 0
    carol = by_id["1003"]
    assert carol["name"].startswith("'=HYPERLINK") and carol["email"] == "'+evil@uni.edu"
    assert carol["status"] == "could not load" and carol["score"] == "0" and "syntax error" in carol["note"]
    nobody = by_id["1005"]
    assert (nobody["status"], nobody["score"], nobody["1.1 conv_output_size"]) == ("no submission", "", "")
    assert res.unmatched_submissions == ["stranger"]
    assert [s.student_id for s in res.missing_students] == ["1005"]
    assert_no_formula_cells(rows)


def test_plain_csv_without_a_roster_lists_submissions(out):
    rows = rows_of(export(out, "csv").path)
    assert rows[0][:4] == ["submission", "status", "score", "max_score"]
    assert [r[0] for r in rows[1:]] == ["1003_carol", "alice", "bob", "dan", "stranger"]


def test_canvas_file_has_canvas_columns_and_points_possible(out):
    res = export(out, "canvas", roster=out.parent / "roster.csv", column="A1 CNN (98765)")
    rows = rows_of(res.path)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "A1 CNN (98765)"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "22"
    body = {r[1]: r for r in rows[2:]}
    assert body["501"] == ["Kim, Alice", "501", "S1001", "akim", "A", "22"]
    assert body["502"][5] == "15" and body["503"][5] == "0"
    assert body["503"][0].startswith("'=HYPERLINK") and body["503"][2] == "'-S1003" and body["503"][3] == "'@carol"
    assert "505" not in body                                   # no submission: left out, the LMS keeps its grade
    assert_no_formula_cells(rows[2:])
    zero = rows_of(export(out, "canvas", roster=out.parent / "roster.csv", missing_zero=True).path)
    assert {r[1]: r[5] for r in zero[2:]}["505"] == "0"


def test_moodle_file_has_moodle_columns(out):
    rows = rows_of(export(out, "moodle", roster=out.parent / "roster.csv").path)
    assert rows[0] == ["First name", "Last name", "ID number", "Username", "Email address", "a1_cnn"]
    by_email = {r[4]: r for r in rows[1:]}
    assert by_email["alice@uni.edu"] == ["Alice", "Kim", "S1001", "akim", "alice@uni.edu", "22"]
    assert by_email["bob@uni.edu"][:2] == ["Bob", "Lee"]
    assert "'+evil@uni.edu" in by_email
    assert_no_formula_cells(rows[1:])


def test_lms_formats_need_a_roster(out):
    with pytest.raises(ExportError, match="needs --roster"):
        export(out, "canvas")


@pytest.fixture
def with_late_policy(monkeypatch):
    a1 = registry.get("a1_cnn").model_copy(update={"late": LatePolicy(grace_minutes=10, percent_per_day=10,
                                                                        max_percent=50)})
    real = registry.get
    monkeypatch.setattr(registry, "get", lambda aid: a1 if aid == "a1_cnn" else real(aid))


def test_due_applies_the_late_policy_to_the_rosters_times(out, with_late_policy):
    res = export(out, "csv", roster=out.parent / "roster.csv", due="2025-04-01T23:59:00+09:00")
    rows = rows_of(res.path)
    by_id = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert (by_id["1001"]["score"], by_id["1001"]["late_percent"]) == ("22", "0")        # on time
    assert (by_id["1002"]["score"], by_id["1002"]["late_percent"]) == ("12", "20")       # 1 day 1 min: 2 days
    assert by_id["1002"]["1.1 conv_output_size"] == "4"         # task columns: the tests' points, before the penalty
    assert "no submitted_at" in by_id["1004"]["note"] and by_id["1004"]["late_percent"] == ""
    canvas = rows_of(export(out, "canvas", roster=out.parent / "roster.csv", due="2025-04-01T23:59:00+09:00",
                            late_due="2025-04-02T12:00:00+09:00").path)
    assert {r[1]: r[5] for r in canvas[2:]}["502"] == "0"      # after the late due date


def test_due_without_a_policy_is_an_error(out):
    with pytest.raises(ExportError, match="no late policy"):
        export(out, "csv", roster=out.parent / "roster.csv", due="2025-04-01T23:59:00+09:00")


def test_export_command(out):
    target = out.parent / "canvas.csv"
    result = CliRunner().invoke(main, ["export", str(out), "--format", "canvas", "--roster",
                                       str(out.parent / "roster.csv"), "--to", str(target)])
    assert result.exit_code == 0, result.output
    assert "stranger" in result.output and "Nobody (1005)" in result.output
    assert rows_of(target)[0][0] == "Student"
    bad = CliRunner().invoke(main, ["export", str(out), "--format", "moodle"])
    assert bad.exit_code != 0 and "needs --roster" in bad.output
    late = CliRunner().invoke(main, ["export", str(out), "--format", "csv", "--due", "tomorrow"])
    assert late.exit_code != 0 and "ISO 8601" in late.output
    assert not (out / "grades-moodle.csv").exists() and not (out / "grades-csv.csv").exists()   # nothing written
