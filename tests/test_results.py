"""results.json in Gradescope's documented format, the visibility policy, and the gradebook."""
import csv
import json

import jsonschema
import pytest

from autograder import registry, runspec
from autograder.plugin import Outcome
from autograder.results import (RESULTS_SCHEMA, build, failure_results, rebuild_gradebook, safe_cell, write_gradebook,
                                write_json)

A1 = registry.get("a1_cnn")


def outcomes():
    return [
        Outcome("1.1/sizes", "1.1 sizes", "1.1", 2.0, "after_due_date", "correctness", ["arithmetic"]),
        Outcome("1.4/conv[a]", "1.4 conv2d [a]", "1.4", 1.0, "after_due_date", "correctness", [], status="failed",
                output="your conv2d output differs ..."),
        Outcome("1.4/conv[b]", "1.4 conv2d [b]", "1.4", 1.0, "after_due_date", "correctness", []),
        Outcome("1.4/speed[cpu]", "1.4 speed [cpu]", "1.4", 3.0, "visible", "performance", ["performance"],
                output="conv2d: 1.00 ms vs 1.00 ms, ratio 1.10x", speed={"function": "conv2d", "ratio": 1.1,
                                                                     "threshold": 4.0, "summary": "x"}),
        Outcome("1.4/speed[cuda]", "1.4 speed [cuda]", "1.4", 3.0, "visible", "performance", ["performance"],
                status="skipped", output="no CUDA device"),
    ]


def results(**kw):
    spec = runspec.make(A1, "reference")
    return build(outcomes(), assignment=A1, spec=spec, execution_time=1.5, **kw)


def test_scores_numbers_statuses_and_a_test_that_did_not_run():
    res = results()
    jsonschema.validate(res, RESULTS_SCHEMA)
    assert res["score"] == 6.0 and res["max_score"] == 7.0            # the CUDA test is left out
    graded = [t for t in res["tests"] if t["extra_data"]["kind"] != "summary"]
    assert [t["number"] for t in graded] == ["1.1.1", "1.4.1", "1.4.2", "1.4.3"]
    assert {t["status"] for t in res["tests"]} <= {"passed", "failed"}   # Gradescope knows no "skipped"
    assert "no CUDA device" in res["output"] and "not counted" in res["output"]
    assert res["extra_data"]["not_run"] == ["1.4 speed [cuda]: no CUDA device"]
    assert graded[3]["extra_data"]["speed"] == {"function": "conv2d", "ratio": 1.1, "threshold": 4.0}
    assert res["leaderboard"] == [{"name": "conv2d", "value": 1.1, "order": "asc"}]


def test_one_visible_summary_per_task_with_the_first_failing_message():
    res = results()
    summaries = [t for t in res["tests"] if t["extra_data"]["kind"] == "summary"]
    assert [s["number"] for s in summaries] == ["1.1", "1.4"]
    assert all(s["visibility"] == "visible" and s["max_score"] == 0 for s in summaries)
    assert summaries[1]["name"] == "Task 1.4 conv2d: 4 of 5 points" and summaries[1]["status"] == "failed"
    assert "your conv2d output differs" in summaries[1]["output"]
    assert summaries[0]["status"] == "passed" and "all 1 tests passed" in summaries[0]["output"]


def test_honest_summary_never_says_all_tests_passed():
    res = results()
    assert "all tests passed" not in res["output"].lower() and "3 of 4 graded tests passed" in res["output"]


def test_failure_results_list_every_test_when_the_inventory_is_known():
    inventory = [{"id": "1.1/a", "name": "1.1 a", "task": "1.1", "number": "1.1.1", "points": 2.0,
                  "visibility": "after_due_date", "kind": "correctness", "tags": []}]
    res = failure_results("a1_cnn", "grading took longer than 600 s and was stopped", inventory=inventory)
    jsonschema.validate(res, RESULTS_SCHEMA)
    assert res["score"] == 0 and res["max_score"] == 2.0 and res["tests"][0]["status"] == "failed"
    assert "took longer" in res["output"] and "took longer" in res["tests"][0]["output"]


def test_gradebook_keys_on_stable_ids_and_neutralises_formulas(tmp_path):
    write_gradebook(tmp_path / "g.csv", [("=HYPERLINK(1)", results()), ("bob", failure_results("a1_cnn", "bad zip"))])
    rows = list(csv.reader(open(tmp_path / "g.csv")))
    assert rows[0] == ["name", "score", "max_score", "1.1/sizes", "1.4/conv[a]", "1.4/conv[b]", "1.4/speed[cpu]"]
    assert rows[1][:3] == ["'=HYPERLINK(1)", "6.0", "7.0"] and rows[2][:2] == ["bob", "0.0"]
    assert rows[2][3:] == ["", "", "", ""]
    assert [safe_cell(x) for x in ("+1", "-1", "@x", "\tx", "ok", 3)] == ["'+1", "'-1", "'@x", "'\tx", "ok", 3]


def test_gradebook_is_rebuilt_from_every_results_json(tmp_path):
    for name in ("alice", "bob", "carol"):
        write_json(tmp_path / name / "results.json", results())
    (tmp_path / "dave").mkdir()                                    # no result yet: not a row
    rebuild_gradebook(tmp_path)
    rows = list(csv.reader(open(tmp_path / "gradebook.csv")))
    assert [r[0] for r in rows[1:]] == ["alice", "bob", "carol"]


def test_results_are_written_atomically(tmp_path, monkeypatch):
    path = tmp_path / "r" / "results.json"
    write_json(path, {"score": 1})
    monkeypatch.setattr(json, "dump", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        write_json(path, {"score": 2})
    assert json.loads(path.read_text()) == {"score": 1}            # the old one is intact
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]
