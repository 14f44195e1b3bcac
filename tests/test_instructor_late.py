"""The late policy (autograder/instructor/late.py), Gradescope's submission_metadata.json,
and its wiring into the Gradescope run script (release_templates/dl_run.py)."""
from __future__ import annotations

import importlib.util
import json
import sys
from datetime import datetime, timedelta

import pytest

from autograder import ROOT, registry
from autograder.instructor.late import (LATE_PREFIX, apply_gradescope_late_policy, apply_late_policy,
                                        from_gradescope_metadata, late_penalty, parse_time)
from autograder.registry import LatePolicy
from tests.test_instructor_common import a1_results

DUE = "2025-04-01T23:59:00+09:00"
LATE_DUE = "2025-04-08T23:59:00+09:00"
POLICY = LatePolicy(grace_minutes=15, percent_per_day=10, max_percent=50, zero_after_late_due=True)


def after_due(**delta) -> str:
    return (parse_time(DUE) + timedelta(**delta)).isoformat()


@pytest.fixture
def results():
    res = a1_results({"1.2": False})          # 18 of 22 points
    assert res["score"] == 18.0
    return res


def test_on_time_and_within_grace_change_nothing_but_record_it(results):
    for when in (after_due(hours=-3), after_due(minutes=14, seconds=59)):
        new = apply_late_policy(results, POLICY, when, DUE, LATE_DUE)
        assert new["score"] == 18.0
        assert new["extra_data"]["late"]["percent"] == 0 and new["extra_data"]["late"]["days_late"] == 0
        assert LATE_PREFIX not in new["output"]
    assert results["extra_data"].get("late") is None                 # the input is not modified


@pytest.mark.parametrize("delta, days, percent, score", [
    ({"minutes": 16}, 1, 10, 16.2),          # just past the grace period: one started day
    ({"hours": 24, "minutes": 15}, 1, 10, 16.2),   # 24 h after the grace period ends: still day 1
    ({"hours": 24, "minutes": 16}, 2, 20, 14.4),
    ({"days": 3, "hours": 5}, 4, 40, 10.8),
    ({"days": 6, "hours": 1}, 7, 50, 9.0),  # 70% capped at 50%
])
def test_penalty_per_started_day_after_the_grace_period_is_capped(results, delta, days, percent, score):
    new = apply_late_policy(results, POLICY, after_due(**delta), DUE, LATE_DUE)
    late = new["extra_data"]["late"]
    assert (late["days_late"], late["percent"]) == (days, percent)
    assert new["score"] == pytest.approx(score)
    assert late["score_before"] == 18.0 and late["score_after"] == pytest.approx(score)
    first = new["output"].split("\n")[0]
    assert first.startswith(LATE_PREFIX) and f"{percent}" in first and "18 -> " in first
    assert ("capped at 50%" in first) == (percent == 50)
    assert new["output"].endswith(results["output"])                  # the rest of the output is kept


def test_past_the_late_due_date_scores_zero(results):
    new = apply_late_policy(results, POLICY, after_due(days=7, minutes=30), DUE, LATE_DUE)
    assert new["score"] == 0.0
    assert new["extra_data"]["late"]["past_late_due"] is True and new["extra_data"]["late"]["percent"] == 100
    assert "late due date" in new["output"].split("\n")[0]
    lenient = LatePolicy(grace_minutes=15, percent_per_day=10, max_percent=50, zero_after_late_due=False)
    kept = apply_late_policy(results, lenient, after_due(days=7, minutes=30), DUE, LATE_DUE)
    assert kept["score"] == 9.0 and kept["extra_data"]["late"]["past_late_due"] is True


def test_applying_again_starts_from_the_score_before_the_penalty(results):
    once = apply_late_policy(results, POLICY, after_due(days=1, hours=1), DUE, LATE_DUE)      # 20%
    again = apply_late_policy(once, POLICY, after_due(hours=2), DUE, LATE_DUE)                # 10%
    assert once["score"] == pytest.approx(14.4) and again["score"] == pytest.approx(16.2)
    assert again["output"].count(LATE_PREFIX) == 1
    on_time = apply_late_policy(once, POLICY, after_due(hours=-1), DUE, LATE_DUE)
    assert on_time["score"] == 18.0 and LATE_PREFIX not in on_time["output"]


def test_missing_policy_or_dates_leave_results_alone(results):
    assert apply_late_policy(results, None, after_due(days=2), DUE) == results
    assert apply_late_policy(results, POLICY, None, DUE) == results
    assert apply_late_policy(results, POLICY, after_due(days=2), None) == results


def test_times_without_an_offset_are_utc_and_bad_ones_are_named():
    assert parse_time("2025-04-01T14:59:00") == parse_time("2025-04-01T23:59:00+09:00")
    assert parse_time("2025-04-01T14:59:00Z") == parse_time(datetime(2025, 4, 1, 14, 59))
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_time("next tuesday")
    info = late_penalty({"percent_per_day": 5}, "2025-04-02T00:00:00Z", "2025-04-01T00:00:00Z")
    assert (info["days_late"], info["percent"]) == (1, 5)


# ---- Gradescope's submission_metadata.json ----------------------------------------------------
def gradescope_metadata(created_at: str, *, due=DUE, late_due=LATE_DUE, own_due=None) -> dict:
    """Shaped like Gradescope's documented submission_metadata.json."""
    user_assignment = {"release_date": "2025-03-20T09:00:00.000000+09:00", "due_date": own_due or due,
                       "late_due_date": late_due}
    return {"id": 123456, "created_at": created_at, "assignment_id": 4321,
            "users": [{"email": "jane@uni.edu", "id": 1234, "name": "Jane Doe", "sid": "20230001",
                       "assignment": user_assignment}],
            "assignment": {"id": 4321, "title": "A1 CNN", "release_date": "2025-03-20T09:00:00.000000+09:00",
                           "due_date": due, "late_due_date": late_due, "total_points": "52.0",
                           "group_submission": False, "group_size": None, "course_id": 99},
            "submission_method": "upload", "previous_submissions": []}


@pytest.mark.parametrize("created, expected_percent", [
    ("2025-04-01T20:00:00.000000+09:00", 0),          # on time
    ("2025-04-02T03:10:00.123456+09:00", 10),         # late (3 h 11 min)
    ("2025-04-09T08:00:00.000000+09:00", 100),        # past the late due date
])
def test_gradescope_metadata_gives_the_dates(tmp_path, results, created, expected_percent):
    path = tmp_path / "submission_metadata.json"
    path.write_text(json.dumps(gradescope_metadata(created)))
    dl = from_gradescope_metadata(path)
    assert dl.submitted_at == parse_time(created) and dl.due == parse_time(DUE) and dl.late_due == parse_time(LATE_DUE)
    assert dl.submitted_at.tzinfo is not None
    new = apply_late_policy(results, POLICY, *dl)
    assert new["extra_data"]["late"]["percent"] == expected_percent


def test_a_students_extension_wins_over_the_assignment_due_date(tmp_path):
    path = tmp_path / "submission_metadata.json"
    path.write_text(json.dumps(gradescope_metadata("2025-04-03T10:00:00+09:00", own_due="2025-04-04T23:59:00+09:00")))
    dl = from_gradescope_metadata(path)
    assert dl.due == parse_time("2025-04-04T23:59:00+09:00")
    assert late_penalty(POLICY, *dl)["percent"] == 0


@pytest.fixture
def a1_with_policy(monkeypatch):
    a1 = registry.get("a1_cnn")
    with_policy = a1.model_copy(update={"late": POLICY})
    real_get = registry.get
    monkeypatch.setattr(registry, "get", lambda aid: with_policy if aid == "a1_cnn" else real_get(aid))
    return with_policy


def test_apply_gradescope_late_policy_rewrites_results_json(tmp_path, results, a1_with_policy):
    res_path = tmp_path / "results.json"
    res_path.write_text(json.dumps(results))
    meta = tmp_path / "submission_metadata.json"
    assert apply_gradescope_late_policy(meta, "a1_cnn", res_path) is None            # no metadata: nothing
    meta.write_text(json.dumps(gradescope_metadata("2025-04-03T01:00:00+09:00")))     # 1 day 1 h late: 20%
    apply_gradescope_late_policy(meta, "a1_cnn", res_path)
    written = json.loads(res_path.read_text())
    assert written["score"] == pytest.approx(14.4) and written["extra_data"]["late"]["percent"] == 20


def test_no_late_policy_means_no_change_on_gradescope(tmp_path, results):
    assert registry.get("a2_lstm").late is None
    res_path = tmp_path / "results.json"
    res_path.write_text(json.dumps(results))
    meta = tmp_path / "submission_metadata.json"
    meta.write_text(json.dumps(gradescope_metadata("2025-04-09T08:00:00+09:00")))
    assert apply_gradescope_late_policy(meta, "a2_lstm", res_path) is None
    assert json.loads(res_path.read_text()) == results


# ---- dl_run.py (Gradescope's run script) applies it after grading -----------------------------
@pytest.fixture
def dl_run(tmp_path, monkeypatch):
    """release_templates/dl_run.py loaded as in an archive (release.json beside it), with the
    engine's grade_submission replaced by one that writes a fixed results.json."""
    archive = tmp_path / "source"
    archive.mkdir()
    (archive / "dl_run.py").write_text((ROOT / "autograder" / "release_templates" / "dl_run.py").read_text())
    (archive / "release.json").write_text(json.dumps({"assignment": "a1_cnn", "module": "a1_cnn"}))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("PYTHONPATH", "")
    monkeypatch.setenv("DL_AUTOGRADER_GRADING", "0")
    spec = importlib.util.spec_from_file_location("dl_run_under_test", archive / "dl_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import autograder.engine

    def fake_grade(assignment, submission, results_path, **kw):
        from autograder.results import write_json
        write_json(results_path, a1_results({"1.2": False}))

    monkeypatch.setattr(autograder.engine, "grade_submission", fake_grade)
    return module


@pytest.mark.parametrize("created, score", [("2025-04-01T20:00:00+09:00", 18.0),      # on time
                                            ("2025-04-03T01:00:00+09:00", 14.4),      # 20% off
                                            ("2025-04-09T08:00:00+09:00", 0.0)])      # past the late due date
def test_dl_run_applies_the_policy_from_submission_metadata(tmp_path, dl_run, a1_with_policy, created, score):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    (root / "submission" / "a1_cnn.py").write_text("def conv2d(*a):\n    return None\n")
    (root / "submission_metadata.json").write_text(json.dumps(gradescope_metadata(created)))
    assert dl_run.main(["--root", str(root)]) == 0
    written = json.loads((root / "results" / "results.json").read_text())
    assert written["score"] == pytest.approx(score)
    assert (written["extra_data"]["late"]["percent"] > 0) == (score < 18.0)


def test_dl_run_without_metadata_keeps_the_score(tmp_path, dl_run, a1_with_policy):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    (root / "submission" / "a1_cnn.py").write_text("x = 1\n")
    assert dl_run.main(["--root", str(root)]) == 0
    written = json.loads((root / "results" / "results.json").read_text())
    assert written["score"] == 18.0 and "late" not in written["extra_data"]
