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
