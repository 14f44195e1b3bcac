"""results.json in Gradescope's format and the gradebook."""
import csv

import jsonschema

from autograder.plugin import Outcome
from autograder.results import RESULTS_SCHEMA, build_results, failure_results, write_gradebook


def outcomes():
    return [
        Outcome("1.1 sizes", "1.1", 2.0, "visible", ["arithmetic"], status="passed"),
        Outcome("1.4 conv2d [a]", "1.4", 1.0, "hidden", [], status="failed", output="your conv2d ..."),
        Outcome("1.4 conv2d [b]", "1.4", 1.0, "hidden", [], status="passed"),
        Outcome("1.9 speed [cuda]", "1.9", 3.0, "hidden", ["performance"], status="skipped", output="no CUDA device"),
    ]


def test_scores_numbers_and_skipped_cuda():
    res = build_results(outcomes(), assignment="a1_cnn", execution_time=1.5, device="cpu")
    jsonschema.validate(res, RESULTS_SCHEMA)
    assert res["score"] == 3.0 and res["max_score"] == 4.0      # the skipped 3 points are left out
    assert [t["number"] for t in res["tests"]] == ["1.1", "1.4.1", "1.4.2", "1.9"]
    skipped = res["tests"][3]
    assert skipped["max_score"] == 0 and skipped["status"] == "skipped"
    assert "no CUDA device" in skipped["output"] and "not counted" in skipped["output"]
    assert "no CUDA device" in res["output"]
    assert res["extra_data"]["assignment"] == "a1_cnn" and res["extra_data"]["device"] == "cpu"


def test_honest_summary_never_says_all_tests_passed():
    res = build_results(outcomes()[:1], assignment="a1_cnn", execution_time=0.1, device="cpu")
    assert "all tests passed" not in res["output"].lower()
    assert "1 of 1 graded tests passed" in res["output"]


def test_failure_results_are_schema_valid():
    res = failure_results("a1_cnn", "syntax error in x.py at line 3", max_score=10)
    jsonschema.validate(res, RESULTS_SCHEMA)
    assert res["score"] == 0 and "syntax error in x.py" in res["output"]


def test_gradebook_has_one_row_per_submission_and_a_column_per_test(tmp_path):
    res = build_results(outcomes(), assignment="a1_cnn", execution_time=1.0, device="cpu")
    write_gradebook(tmp_path / "g.csv", [("alice", res), ("bob", failure_results("a1_cnn", "bad zip"))])
    rows = list(csv.reader(open(tmp_path / "g.csv")))
    assert rows[0][:3] == ["name", "score", "max_score"] and len(rows[0]) == 3 + 4
    assert rows[1][:3] == ["alice", "3.0", "4.0"] and rows[2][0] == "bob" and rows[2][1] == "0.0"
