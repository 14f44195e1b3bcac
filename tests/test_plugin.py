"""The pytest plugin: task markers are required, failures become curated feedback."""
import json

import pytest

from autograder import registry
from autograder.plugin import feedback_text
from shared.feedback import Feedback


def test_hidden_test_without_task_marker_is_a_collection_error(pytester, monkeypatch):
    suites = pytester.mkdir("suites")
    suite = suites / "x1"
    suite.mkdir()
    (suite / "test_x.py").write_text("def test_ungraded():\n    assert True\n")
    monkeypatch.setattr(registry, "SUITES_DIR", suites)
    result = pytester.runpytest_inprocess("-p", "autograder.plugin", str(suite))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "without a task marker" in "\n".join(result.errlines + result.outlines)


def test_failure_output_hides_inputs_source_and_hypothesis_examples(pytester):
    pytester.makepyfile(test_h='''
        import pytest
        from hypothesis import given, strategies as st
        from shared.compare import assert_close

        SECRET_INPUT = 987654321

        @pytest.mark.task("2.1")
        @pytest.mark.points(3)
        @given(x=st.integers(min_value=SECRET_INPUT, max_value=SECRET_INPUT))
        def test_secret(x):
            """2.1 the title"""
            assert_close(x + 1, x, name="value", hint="add nothing")

        @pytest.mark.task("2.2")
        @pytest.mark.points(1)
        def test_crash():
            """2.2 crash in test code"""
            out = (1,)
            a, b = out
    ''')
    res_path = pytester.path / "results.json"
    result = pytester.runpytest_inprocess("-p", "autograder.plugin", f"--ag-results={res_path}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    res = json.loads(res_path.read_text())
    first, second = res["tests"]
    assert first["name"] == "2.1 the title" and first["max_score"] == 3 and first["status"] == "failed"
    assert "Hint: add nothing" in first["output"]
    for text in (first["output"], second["output"], res["output"]):
        assert "Falsifying" not in text and "SECRET_INPUT" not in text and "def test_" not in text
    assert "ValueError" in second["output"] and "return type" in second["output"]


def test_feedback_text_prefers_curated_messages():
    assert feedback_text(Feedback("your x differs", "look at y")) == "your x differs\nHint: look at y"
    group = ExceptionGroup("many", [Feedback("first"), Feedback("second")])
    assert feedback_text(group) == "first"
    assert "could not set up" in feedback_text(RuntimeError("fixture"), when="setup")
