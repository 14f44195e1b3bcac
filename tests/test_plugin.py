"""The pytest plugin: task markers are required and must name declared tasks, failures
become curated feedback, visibility follows the assignment's policy, and everything about
a run comes from the run spec."""
import json

import pytest

from autograder import registry, runspec
from autograder.results import feedback_text
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


def _spec(tmp_path, **extra):
    spec = runspec.make(registry.get("a1_cnn"), "reference", results=str(tmp_path / "results.json"), **extra)
    return spec.write(tmp_path / "run.json")


def test_a_marker_must_name_a_declared_task(pytester):
    pytester.makepyfile(test_u='''
        import pytest
        @pytest.mark.task("9.9")
        def test_x():
            """9.9 nothing"""
    ''')
    result = pytester.runpytest_inprocess("-p", "autograder.plugin", f"--ag-run={_spec(pytester.path)}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "['9.9'] name no task of a1_cnn" in "\n".join(result.errlines + result.outlines)


def test_failure_output_hides_inputs_source_and_hypothesis_examples(pytester):
    pytester.makepyfile(test_h='''
        import pytest
        from hypothesis import given, strategies as st
        from shared.compare import assert_close

        SECRET_INPUT = 987654321

        @pytest.mark.task("1.1")
        @pytest.mark.points(3)
        @given(x=st.integers(min_value=SECRET_INPUT, max_value=SECRET_INPUT))
        def test_secret(x):
            """1.1 the title"""
            assert_close(x + 1, x, name="value", hint="add nothing")

        @pytest.mark.task("1.2")
        @pytest.mark.points(1)
        @pytest.mark.tags("performance")
        def test_crash():
            """1.2 crash in test code"""
            out = (1,)
            a, b = out
    ''')
    result = pytester.runpytest_inprocess("-p", "autograder.plugin", f"--ag-run={_spec(pytester.path)}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    res = json.loads((pytester.path / "results.json").read_text())
    summaries = [t for t in res["tests"] if t["extra_data"]["kind"] == "summary"]
    first, second = [t for t in res["tests"] if t["extra_data"]["kind"] != "summary"]
    assert first["name"] == "1.1 the title" and first["max_score"] == 3 and first["status"] == "failed"
    assert first["extra_data"]["id"] == "1.1/secret" and first["number"] == "1.1.1"
    assert "Hint: add nothing" in first["output"]
    for text in (first["output"], second["output"], res["output"], *(s["output"] for s in summaries)):
        assert "Falsifying" not in text and "SECRET_INPUT" not in text and "def test_" not in text
    assert "ValueError" in second["output"] and "return type" in second["output"]
    policy = registry.get("a1_cnn").visibility
    assert first["visibility"] == policy.correctness and second["visibility"] == policy.performance
    assert [s["visibility"] for s in summaries] == [policy.summary] * 2
    assert "Hint: add nothing" in summaries[0]["output"] and summaries[0]["score"] == summaries[0]["max_score"] == 0


def test_feedback_text_prefers_curated_messages():
    assert feedback_text(Feedback("your x differs", "look at y")) == "your x differs\nHint: look at y"
    group = ExceptionGroup("many", [Feedback("first"), Feedback("second")])
    assert feedback_text(group) == "first"
    assert "could not set up" in feedback_text(RuntimeError("fixture"), when="setup")


def test_the_device_is_resolved_without_importing_a_cpu_only_torch(tmp_path, monkeypatch):
    """The batch process decides the device once; on a CPU-only torch build it reads
    torch/version.py instead of importing torch (a second per grade command)."""
    import importlib.util
    import subprocess
    import sys
    from types import SimpleNamespace

    package = tmp_path / "torch"
    package.mkdir()
    (package / "__init__.py").write_text("")

    def build(cuda, hip="None"):
        (package / "version.py").write_text(f"from typing import Optional\n__version__ = '9.9'\n"
                                            f"cuda: Optional[str] = {cuda}\nhip: Optional[str] = {hip}\n")
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name: SimpleNamespace(origin=str(package / "__init__.py")))
        return runspec._gpu_build()
    assert build("None") is False
    assert build("'12.4'") is True
    assert build("None", hip="'6.2'") is True
    monkeypatch.undo()
    code = ("import sys; from autograder import batch, cli, runspec; "
            "print(runspec.resolve_device('auto'), runspec.resolve_device('cuda'), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    import torch
    assert out == (["cuda", "cuda", "True"] if torch.version.cuda or torch.version.hip else ["cpu", "cuda", "False"])
