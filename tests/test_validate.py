"""`grade.py validate`: every assignment's reference gets full marks, its stub 0, and each
mutant loses points with feedback naming its concept - through the real grading path."""
import pytest
from click.testing import CliRunner

from autograder import registry
from autograder.cli import main
from autograder.validate import check_mutant, jobs_for, mutant_header

pytestmark = pytest.mark.slow

IDS = [a.id for a in registry.all_assignments() if a.id.startswith("a")]


@pytest.mark.parametrize("assignment_id", IDS)
def test_validate_passes(assignment_id):
    assignment = registry.get(assignment_id)
    mutants = assignment.mutants()
    assert len(mutants) >= 6, f"{assignment_id} needs at least 6 mutants"
    assert all(mutant_header(m).get("expect") for m in mutants)
    result = CliRunner().invoke(main, ["validate", assignment_id, "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert f"{2 + len(mutants)} of {2 + len(mutants)} expectations met" in result.output


def test_a_mutant_that_keeps_full_marks_or_hides_its_concept_is_reported():
    full = {"score": 5.0, "max_score": 5.0, "tests": []}
    assert check_mutant(full, "dilation") == (False, "did not lose any points")
    vague = {"score": 3.0, "max_score": 5.0, "tests": [{"status": "failed", "output": "values differ"}]}
    ok, problem = check_mutant(vague, "dilation")
    assert not ok and "dilation" in problem
    named = {"score": 3.0, "max_score": 5.0, "tests": [{"status": "failed", "output": "Hint: Dilation spreads taps"}]}
    assert check_mutant(named, "dilation") == (True, "")


def test_validate_exits_non_zero_when_an_expectation_fails(monkeypatch):
    """A stub that earned points makes validate fail (the reference stands in for the stub)."""
    import autograder.validate as validate
    original = validate.jobs_for

    def stub_is_reference(assignment):
        return [(label, assignment.solution_path if kind == "zero" else path, kind, expect)
                for label, path, kind, expect in original(assignment) if kind in ("zero",)]
    monkeypatch.setattr(validate, "jobs_for", stub_is_reference)
    result = CliRunner().invoke(main, ["validate", "a1_cnn"])
    assert result.exit_code == 1 and "the stub earned points" in result.output


def test_jobs_cover_reference_stub_and_mutants():
    a1 = registry.get("a1_cnn")
    labels = [label for label, *_ in jobs_for(a1)]
    assert labels[:2] == ["reference", "stub"] and len(labels) == 2 + len(a1.mutants())


# ---- mutants as overlays: built before grading, tasks that lost points, charged once ------
from pathlib import Path  # noqa: E402

from autograder.mutants import build_file  # noqa: E402
from autograder.validate import lost_tasks, task_of_test  # noqa: E402


def _test(number, score, max_score=1.0, output="", **extra):
    status = "passed" if score >= max_score else "failed"
    return {"number": number, "score": score, "max_score": max_score, "status": status, "output": output, **extra}


def test_tasks_that_lost_points_come_from_test_numbers_or_the_engines_task():
    assert task_of_test({"number": "1.4.3"}, ["1.1", "1.4"]) == "1.4"
    assert task_of_test({"number": "1.4"}, ["1.1", "1.4"]) == "1.4"
    assert task_of_test({"number": "2.10.1"}) == "2.10"
    assert task_of_test({"number": "1.4.3", "extra_data": {"task": "2.1"}}, ["1.4"]) == "2.1"
    results = {"tests": [_test("1.4.1", 0.0), _test("1.4.2", 1.0), _test("1.10.3", 0.5), _test("1.2", 2.0, 2.0),
                         {"number": "1.3.1", "score": 0.0, "max_score": 0.0, "status": "skipped", "output": ""}]}
    assert lost_tasks(results, ["1.2", "1.3", "1.4", "1.10"]) == ["1.4", "1.10"]


def test_a_mutant_that_loses_points_outside_its_tasks_is_reported():
    res = {"score": 1.0, "max_score": 4.0,
           "tests": [_test("1.1.1", 0.0, output="Hint: scale by sqrt(d)"), _test("2.1.1", 0.0, output="differs"),
                     _test("2.2.1", 1.0)]}
    functions = {"1.1": "scaled_dot_product_attention", "2.1": "multi_head_attention"}
    ok, problem = check_mutant(res, "sqrt", allowed={"1.1": "scaled_dot_product_attention"}, functions=functions)
    assert not ok
    assert problem == "lost points in task 2.1 (multi_head_attention), which it does not change"
    assert check_mutant(res, "sqrt", allowed=functions, functions=functions) == (True, "")
    assert check_mutant(res, "sqrt") == (True, "")          # no allowed tasks given: not checked


def _fake_grader(charge_task_1_1: bool):
    """Stands in for the real grading path: full marks for the reference, 0 for the stub,
    and for a built mutant a failed 1.4 test whose feedback names its expect word."""
    a1 = registry.get("a1_cnn")
    reference = a1.solution_path.read_text(encoding="utf-8")
    stub = a1.stub_path.read_text(encoding="utf-8")
    seen = []

    def grade(assignment_id, path, results_path, **kwargs):
        source = Path(path).read_text(encoding="utf-8")
        seen.append((Path(path).name, source))
        if source == reference:
            return {"score": 4.0, "max_score": 4.0, "tests": [_test("1.4.1", 4.0, 4.0)]}
        if source == stub:
            return {"score": 0.0, "max_score": 4.0, "tests": [_test("1.4.1", 0.0, 4.0, output="stub")]}
        expect = source.rsplit("# expect: ", 1)[-1].strip()      # the built module repeats the header at its end
        tests = [_test("1.4.1", 0.0, 2.0, output=f"Hint: {expect}"), _test("1.5.1", 1.0)]
        if charge_task_1_1:
            tests.append(_test("1.1.2", 0.0, output="differs"))
        return {"score": 1.0, "max_score": 4.0, "tests": tests}
    return grade, seen


def test_validate_builds_mutants_keeps_them_and_lists_the_tasks_that_lost_points(monkeypatch, tmp_path):
    import autograder.validate as validate
    grade, seen = _fake_grader(charge_task_1_1=False)
    monkeypatch.setattr(validate, "grade_submission", grade)
    # the mutants that change conv2d (task 1.4) or a helper only conv2d reaches (_same_padding)
    conv2d_mutants = {"bias_per_tap", "dilation_ignored", "groups_interleaved", "same_padding_left", "slow_loops"}
    original = validate.jobs_for
    monkeypatch.setattr(validate, "jobs_for", lambda a: [job for job in original(a) if job[2] != "mutant"
                                                         or job[1].stem in conv2d_mutants])
    result = CliRunner().invoke(main, ["validate", "a1_cnn", "--keep", str(tmp_path / "kept")],
                                env={"COLUMNS": "250"})
    a1 = registry.get("a1_cnn")
    assert result.exit_code == 0, result.output
    assert "tasks that lost points" in result.output
    assert f"{2 + len(conv2d_mutants)} of {2 + len(conv2d_mutants)} expectations met" in result.output
    mutants = [m for m in a1.mutants() if m.stem in conv2d_mutants]
    assert len(mutants) == len(conv2d_mutants)
    assert sorted(p.name for p in (tmp_path / "kept" / "a1_cnn").iterdir()) == sorted(m.name for m in mutants)
    for mutant in mutants:
        kept = tmp_path / "kept" / "a1_cnn" / mutant.name
        built = build_file(a1, mutant).source
        assert kept.read_text(encoding="utf-8") == built
        assert (mutant.name, built) in seen                  # what was graded is the built full module
    mutant_rows = [line for line in result.output.splitlines() if "mutant" in line and "│" in line]
    assert len(mutant_rows) == len(conv2d_mutants) and all("│ 1.4 " in line for line in mutant_rows)


def test_validate_fails_a_mutant_charged_outside_its_tasks_unless_strict_tasks_is_off(monkeypatch):
    import autograder.validate as validate
    grade, _ = _fake_grader(charge_task_1_1=True)
    monkeypatch.setattr(validate, "grade_submission", grade)
    a1 = registry.get("a1_cnn")
    rows = validate.run_validation([a1], jobs=1)
    by_label = {row.label: row for row in rows}
    conv = by_label["mutant bias_per_tap"]                       # changes conv2d (task 1.4) only
    assert not conv.ok and conv.lost_tasks == ["1.1", "1.4"]
    assert conv.problem == "lost points in task 1.1 (conv_output_size), which it does not change"
    size = by_label["mutant output_size_ceil"]                   # changes conv_output_size (1.1): 1.4 is not its
    assert not size.ok and "task 1.4 (conv2d)" in size.problem
    monkeypatch.setattr(validate, "STRICT_TASKS", False)
    rows = validate.run_validation([a1], jobs=1)
    conv = {row.label: row for row in rows}["mutant bias_per_tap"]
    assert conv.ok and conv.note == "lost points in task 1.1 (conv_output_size), which it does not change"


def test_a_mutant_that_does_not_build_fails_its_row(monkeypatch, tmp_path):
    import autograder.validate as validate
    bad = tmp_path / "stale.py"
    bad.write_text("# mutant: m\n# expect: e\ndef volume(r):\n    return r\n", encoding="utf-8")
    monkeypatch.setattr(validate, "jobs_for", lambda a: [("mutant stale", bad, "mutant", "e")])
    monkeypatch.setattr(validate, "grade_submission", lambda *a, **k: pytest.fail("graded a mutant that cannot build"))
    [row] = validate.run_validation([registry.get("a1_cnn")], jobs=1)
    assert not row.ok and row.problem.startswith("cannot build: mutant a1_cnn/stale: redefines volume")
