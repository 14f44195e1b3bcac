"""End to end through grade.py: grade a small real batch of a1_cnn examples, then the
instructor's commands on it (report, roster, export, similarity) and the report in Chromium."""
from __future__ import annotations

import csv
import json
import shutil

import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.instructor.batch import task_scores
from tests.conftest import EXAMPLES
from tests.test_instructor_common import needs_chromium, probe_page

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory, a1):
    subs = tmp_path_factory.mktemp("subs")
    for name in ("correct", "partial", "stub"):
        shutil.copy(EXAMPLES / "a1_cnn" / f"{name}.py", subs / f"{name}.py")
    shutil.copy(EXAMPLES / "a1_cnn" / "correct.py", subs / "kimalice_LATE_501_9001_a1_cnn.py")   # Canvas name
    (subs / "broken.py").write_text("def conv2d(:\n")
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(main, ["grade", "a1_cnn", *map(str, sorted(subs.iterdir())), "--out", str(out),
                                       "--jobs", "2"])
    assert result.exit_code == 0, result.output
    roster = out.parent / "roster.csv"
    roster.write_text("student_id,name,email,submission,canvas_id\n"
                      "1,Alice Kim,alice@uni.edu,,501\n2,Bob Lee,bob@uni.edu,partial.py,502\n"
                      "3,Cho Dan,dan@uni.edu,correct,503\n4,Eun Ha,eun@uni.edu,,504\n")
    return out, roster


def results_of(out, name):
    return json.loads((out / name / "results.json").read_text())


def test_report_of_a_real_batch(graded, tmp_path):
    out, roster = graded
    result = CliRunner().invoke(main, ["report", str(out), "--roster", str(roster)])
    assert result.exit_code == 0, result.output
    assert "broken" in result.output and "stub" in result.output            # match no roster row
    assert "Eun Ha (4)" in result.output                                    # no submission
    text = (out / "report.html").read_text()
    assert "syntax error" in text                                           # why broken could not load
    for name in ("correct", "partial", "stub", "broken", "kimalice_LATE_501_9001_a1_cnn"):
        assert (out / name / "feedback.html").is_file()
        assert f'href="{name}/feedback.html"' in text


@needs_chromium
def test_real_report_renders_in_chromium(graded, tmp_path):
    out, _ = graded
    if not (out / "report.html").is_file():
        CliRunner().invoke(main, ["report", str(out)])
    seen = probe_page(out / "report.html", tmp_path)
    ids = {p["id"] for p in seen["plots"]}
    assert {"plot-scores", "plot-tasks", "plot-tests"} <= ids
    assert all(p["shapes"] > 10 for p in seen["plots"])
    assert len(seen["rows"]) == 5


def test_export_of_a_real_batch(graded):
    out, roster = graded
    target = out.parent / "grades.csv"
    result = CliRunner().invoke(main, ["export", str(out), "--format", "csv", "--roster", str(roster),
                                       "--to", str(target)])
    assert result.exit_code == 0, result.output
    with target.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_id = {r["student_id"]: r for r in rows}
    assert by_id["1"]["submission"] == "kimalice_LATE_501_9001_a1_cnn"     # Canvas download name
    assert by_id["2"]["submission"] == "partial" and by_id["3"]["submission"] == "correct"
    assert by_id["4"]["status"] == "no submission" and by_id["4"]["score"] == ""
    partial = results_of(out, "partial")
    assert float(by_id["2"]["score"]) == partial["score"]
    tasks = [k for k in rows[0] if k[:1].isdigit()]
    per_task = task_scores(partial, [k.split()[0] for k in tasks])
    assert sum(float(by_id["2"][k]) for k in tasks if by_id["2"][k]) == pytest.approx(partial["score"])
    for k in tasks:                                  # blank exactly where no test of the task counted
        assert (by_id["2"][k] == "") == (per_task[k.split()[0]] is None)
    canvas = CliRunner().invoke(main, ["export", str(out), "--format", "canvas", "--roster", str(roster)])
    assert canvas.exit_code == 0, canvas.output
    with (out / "grades-canvas.csv").open(newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert {r[1]: float(r[5]) for r in lines[2:]} == {"501": results_of(out, "kimalice_LATE_501_9001_a1_cnn")["score"],
                                                      "502": partial["score"],
                                                      "503": results_of(out, "correct")["score"]}


def test_similarity_of_a_real_batch(graded):
    out, _ = graded
    result = CliRunner().invoke(main, ["similarity", str(out), "--top", "3"])
    if any(out.glob("*/source.py")):
        assert result.exit_code == 0, result.output
        # the Canvas copy of correct.py is the same file: the top pair, score 1
        assert "correct <-> kimalice_LATE_501_9001_a1_cnn" in result.output and "1.00" in result.output
    else:                                            # an engine that keeps no source.py
        assert result.exit_code != 0 and "no submission with a source.py" in result.output
