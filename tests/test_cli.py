"""The command line end to end (click's CliRunner): grade a batch of real and broken
a1_cnn submissions, check results.json against the schema, the gradebook, check, list."""
import csv
import json
import shutil
import zipfile

import jsonschema
import pytest
from click.testing import CliRunner

from autograder import registry
from autograder.cli import main
from autograder.results import RESULTS_SCHEMA
from tests.conftest import EXAMPLES, make_notebook

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def batch(tmp_path_factory, a1, reference_source):
    subs = tmp_path_factory.mktemp("subs")
    (subs / "reference.py").write_text(reference_source)
    shutil.copy(a1.stub_path, subs / "stub.py")
    shutil.copy(EXAMPLES / "a1_cnn" / "partial.py", subs / "partial.py")
    folder = subs / "folder_sub" / "work"
    folder.mkdir(parents=True)
    (folder / "a1_cnn.py").write_text(reference_source)
    with zipfile.ZipFile(subs / "zipped.zip", "w") as zf:
        zf.writestr("mine/a1_cnn.py", reference_source)
    make_notebook(subs / "notebook.ipynb", ["%matplotlib inline\n!pip install torch", reference_source])
    (subs / "syntax.py").write_text(reference_source + "\ndef broken(:\n")
    (subs / "notjson.ipynb").write_text("{ this is not json")
    (subs / "corrupt.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (subs / "missing_function.py").write_text(reference_source.replace("def conv2d(", "def conv2d_renamed("))
    order = ["reference.py", "stub.py", "partial.py", "folder_sub", "zipped.zip", "notebook.ipynb", "syntax.py",
             "notjson.ipynb", "corrupt.zip", "missing_function.py", "partial.py"]
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(main, ["grade", "a1_cnn", *[str(subs / n) for n in order], "--out", str(out),
                                       "--jobs", "2"])
    return result, out


def load(out, name):
    return json.loads((out / name / "results.json").read_text())


def test_grade_exits_zero_and_prints_a_table(batch):
    result, _ = batch
    assert result.exit_code == 0, result.output
    assert "reference" in result.output and "gradebook.csv" in result.output


@pytest.mark.parametrize("name", ["reference", "stub", "partial", "folder_sub", "zipped", "notebook", "syntax",
                                  "notjson", "corrupt", "missing_function", "partial-2"])
def test_every_results_json_follows_the_schema(batch, name):
    res = load(batch[1], name)
    jsonschema.validate(res, RESULTS_SCHEMA)
    assert res["extra_data"]["assignment"] == "a1_cnn"


@pytest.mark.parametrize("name", ["reference", "folder_sub", "zipped", "notebook"])
def test_correct_code_in_every_form_gets_full_marks(batch, name):
    res = load(batch[1], name)
    assert res["max_score"] > 0 and res["score"] == res["max_score"]


@pytest.mark.parametrize("name, problem", [
    ("syntax", "syntax error in syntax.py"),
    ("notjson", "not a valid notebook: it is not JSON"),
    ("corrupt", "not a valid zip file"),
])
def test_broken_submissions_score_zero_and_name_the_problem(batch, name, problem):
    res = load(batch[1], name)
    assert res["score"] == 0 and res["max_score"] == load(batch[1], "reference")["max_score"]
    assert problem in res["output"]
    assert all(problem in t["output"] for t in res["tests"] if t["status"] == "failed")


def test_missing_function_is_named_in_feedback(batch):
    res = load(batch[1], "missing_function")
    conv = [t for t in res["tests"] if "conv2d" in t["name"] and t["status"] == "failed"]
    assert conv and all("conv2d is not defined in your a1_cnn.py" in t["output"] for t in conv)
    assert 0 < res["score"] < res["max_score"]          # the other functions still earn their points


def test_stub_scores_zero_and_says_not_implemented(batch):
    res = load(batch[1], "stub")
    assert res["score"] == 0 and any("NotImplementedError" in t["output"] for t in res["tests"])


def test_partial_submission_is_reproducible(batch):
    first, second = load(batch[1], "partial"), load(batch[1], "partial-2")
    assert 0 < first["score"] < first["max_score"]
    assert first["score"] == second["score"]
    assert [t["status"] for t in first["tests"]] == [t["status"] for t in second["tests"]]


def test_gradebook(batch):
    rows = list(csv.reader((batch[1] / "gradebook.csv").open()))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["name", "score", "max_score"] and len(header) > 20
    # rebuilt from every results.json under --out: one row per folder, in name order
    assert [r[0] for r in body] == sorted(["reference", "stub", "partial", "folder_sub", "zipped", "notebook",
                                           "syntax", "notjson", "corrupt", "missing_function", "partial-2"])
    scores = {r[0]: float(r[1]) for r in body}
    assert scores["reference"] == float(next(r for r in body if r[0] == "reference")[2]) and scores["stub"] == 0 and scores["syntax"] == 0


def test_list_and_help():
    runner = CliRunner()
    listing = runner.invoke(main, ["list"])
    assert listing.exit_code == 0
    for aid in ("a1_cnn", "a2_lstm", "a3_attention", "a4_diffusion", "a5_gan", "a6_xai"):
        assert aid in listing.output
    assert "--timeout" in runner.invoke(main, ["grade", "--help"]).output
    unknown = runner.invoke(main, ["grade", "a9_nope", "x.py", "--out", "o"])
    assert unknown.exit_code == 2 and "unknown assignment 'a9_nope'" in unknown.output


def test_check_runs_public_tests(tmp_path, a1, reference_source):
    runner = CliRunner()
    good = tmp_path / "a1_cnn.py"
    good.write_text(reference_source)
    passed = runner.invoke(main, ["check", "a1_cnn", str(good)])
    assert passed.exit_code == 0, passed.output
    failed = runner.invoke(main, ["check", "a1_cnn"])          # the untouched stub
    assert failed.exit_code == 1


def _view(res, after_due):
    from autograder.results import student_view
    return student_view(res, after_due=after_due)


def test_what_a_student_sees_before_and_after_the_due_date(batch):
    """The visibility policy (README "What students see"): before the due date one summary per
    task and the speed checks; after it, every correctness test too; never a hidden input."""
    a1 = registry.get("a1_cnn")
    tasks = {t.number for t in a1.tasks}
    for name in ("stub", "partial", "reference"):
        res = load(batch[1], name)
        before, after = _view(res, False), _view(res, True)
        kinds = {t["extra_data"]["kind"] for t in before}
        assert kinds <= {"summary", "performance"} and "summary" in kinds
        assert {t["number"] for t in before if t["extra_data"]["kind"] == "summary"} == tasks
        assert len(after) == len(res["tests"]) and set(map(id, before)) <= set(map(id, after))
        for t in before:
            assert "Falsifying" not in t["output"] and "def test_" not in t["output"]
    stub_summaries = [t for t in _view(load(batch[1], "stub"), False) if t["extra_data"]["kind"] == "summary"]
    assert all(t["status"] == "failed" and "NotImplementedError" in t["output"] for t in stub_summaries)
    partial = {t["number"]: t for t in _view(load(batch[1], "partial"), False) if t["extra_data"]["kind"] == "summary"}
    assert any(t["status"] == "passed" for t in partial.values()) and any(t["status"] == "failed"
                                                                          for t in partial.values())
    reference = [t for t in _view(load(batch[1], "reference"), False) if t["extra_data"]["kind"] == "summary"]
    assert all(t["status"] == "passed" and "tests passed" in t["output"] for t in reference)
