"""Builders of results.json / source.py fixtures for the instructor's tools (imported by the
other tests/test_instructor_*.py), the headless-Chromium helper, and tests of
autograder/instructor/batch.py: task and kind of a test, points per task, CSV injection."""
from __future__ import annotations

import csv
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from autograder.instructor.batch import (csv_safe, describe_test, fmt_number, kind_of, load_batch, task_of,
                                         task_scores)

A1_TASKS = ["1.1", "1.2", "1.3", "1.4", "1.5"]
CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium is not installed "
                                    "(/usr/bin/chromium; Debian package 'chromium', .ci/run installs it)")


def make_test(name, number, score, max_score, status="passed", *, visibility="visible", output="",
              tags=("correctness",), extra=None) -> dict:
    test = {"name": name, "number": number, "score": float(score), "max_score": float(max_score), "status": status,
            "output": output, "visibility": visibility, "tags": list(tags)}
    if extra is not None:
        test["extra_data"] = extra
    return test


def make_results(tests, *, assignment="a1_cnn", output=None, load_error=None, execution_time=2.0,
                 visibility="visible") -> dict:
    score = round(sum(t["score"] for t in tests), 6)
    max_score = round(sum(t["max_score"] for t in tests), 6)
    extra = {"assignment": assignment, "grader_version": "test", "device": "cpu", "execution_time": execution_time}
    if load_error:
        extra["load_error"] = load_error
    return {"score": score, "max_score": max_score, "execution_time": execution_time,
            "output": output if output is not None else f"Score: {score:g} / {max_score:g}.",
            "visibility": visibility, "stdout_visibility": "hidden", "tests": tests, "extra_data": extra}


def a1_results(passed: dict[str, bool], *, cuda_skipped=True, ratio=None, **kw) -> dict:
    """An a1_cnn-like results.json: two tests per task 1.1-1.3 and 1.5, conv2d (1.4) with a
    correctness test, a speed check (cpu) and a skipped CUDA speed check."""
    tests = []
    for task, fn in (("1.1", "conv_output_size"), ("1.2", "conv_transpose_output_size"), ("1.3", "receptive_field"),
                     ("1.5", "separable_conv_params")):
        for i in (1, 2):
            ok = passed.get(task, True)
            tests.append(make_test(f"{task} {fn} case {i}", f"{task}.{i}", 2 if ok else 0, 2,
                                   "passed" if ok else "failed", output="" if ok else f"{fn} differs; hint",
                                   visibility="after_due_date" if i == 2 else "visible",
                                   extra={"id": f"{fn}-{i}", "task": task, "kind": "correctness"}))
    ok = passed.get("1.4", True)
    tests.append(make_test("1.4 conv2d matches F.conv2d", "1.4.1", 3 if ok else 0, 3, "passed" if ok else "failed",
                           extra={"id": "conv2d-values", "task": "1.4", "kind": "correctness"}))
    fast = passed.get("1.4-speed", True)
    speed_extra = {"id": "conv2d-speed-cpu", "task": "1.4", "kind": "performance"}
    if ratio is not None:
        speed_extra["speed"] = {"function": "conv2d", "ratio": ratio, "threshold": 4.0}
    tests.append(make_test("1.4 conv2d is vectorized [cpu]", "1.4.2", 3 if fast else 0, 3,
                           "passed" if fast else "failed", tags=("performance",), extra=speed_extra))
    if cuda_skipped:
        tests.append(make_test("1.4 conv2d is vectorized [cuda]", "1.4.3", 0, 0, "skipped",
                               output="skipped: no CUDA device (not counted: 0 of 3 points)", tags=("performance",),
                               extra={"id": "conv2d-speed-cuda", "task": "1.4", "kind": "performance",
                                      "speed": {"function": "conv2d", "ratio": None, "threshold": 4.0}}))
    return make_results(tests, **kw)


def write_batch(out: Path, results: dict[str, dict], sources: dict[str, str] | None = None,
                grader_errors=()) -> Path:
    """OUT/<name>/results.json (+ source.py) and OUT/gradebook.csv, as grade.py writes them."""
    out.mkdir(parents=True, exist_ok=True)
    for name, res in results.items():
        (out / name).mkdir(exist_ok=True)
        (out / name / "results.json").write_text(json.dumps(res, indent=1))
    for name, src in (sources or {}).items():
        (out / name).mkdir(exist_ok=True)
        (out / name / "source.py").write_text(src)
    with (out / "gradebook.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "score", "max_score"])
        for name, res in results.items():
            w.writerow([name, res["score"], res["max_score"]])
        for name in grader_errors:
            w.writerow([name, "", ""])
    return out


def run_chromium(url: str, tmp: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    profile = tmp / f"chromium-profile-{len(list(tmp.glob('chromium-profile-*')))}"
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", *args, url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    shutil.rmtree(profile, ignore_errors=True)
    return proc


PROBE = """<script>
(function () {
  const box = (el) => { const r = el.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)]; };
  const out = {
    plots: Array.from(document.querySelectorAll('.plot')).map((p) => {
      const s = p.querySelector('svg');
      return {id: p.id, size: s ? box(s) : [0, 0],
              shapes: s ? s.querySelectorAll('path, rect, use, line, polyline').length : 0,
              texts: s ? Array.from(s.querySelectorAll('text')).map((t) => t.textContent).join('|') : '',
              blue: s ? s.querySelectorAll('[style*="#0969da"]').length : 0};
    }),
    rows: Array.from(document.querySelectorAll('#student-table tbody tr')).map(
      (tr) => Array.from(tr.cells).map((td) => td.innerText.trim())),
    links: Array.from(document.querySelectorAll('#student-table a')).map((a) => a.getAttribute('href')),
    scripts: document.querySelectorAll('script').length,
    text: document.body.innerText,
  };
  document.body.setAttribute('data-probe', JSON.stringify(out));
})();
</script>"""


def probe_page(page: Path, tmp: Path) -> dict:
    """Open a copy of ``page`` (same folder, so relative links resolve) with a probe script
    appended, in headless Chromium; return what the probe measured in the rendered page."""
    probe = page.with_name(page.stem + ".probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "\n</body>"), encoding="utf-8")
    try:
        proc = run_chromium(probe.as_uri(), tmp, "--dump-dom")
    finally:
        probe.unlink()
    m = re.search(r'data-probe="([^"]*)"', proc.stdout)
    assert m, f"Chromium rendered nothing (exit {proc.returncode}): {proc.stderr[-1500:]}"
    return json.loads(html.unescape(m.group(1)))


# ---- tests of batch.py --------------------------------------------------------------------
def test_task_comes_from_extra_data_then_the_registry_numbers_then_the_name():
    assert task_of({"number": "9.9", "extra_data": {"task": "1.4"}}, A1_TASKS) == "1.4"
    assert task_of({"number": "1.4.17", "name": "x"}, A1_TASKS) == "1.4"
    assert task_of({"number": "1.10.2"}, ["1.1", "1.10"]) == "1.10"        # longest prefix, not 1.1
    assert task_of({"number": "1.1"}, ["1.1", "1.10"]) == "1.1"
    assert task_of({"number": "", "name": "1.3 receptive_field of a stack"}, A1_TASKS) == "1.3"
    assert task_of({"number": "2.4.1", "name": "no number"}, []) == "2.4"


def test_kind_comes_from_extra_data_else_the_tags():
    assert kind_of({"tags": ["performance"]}) == "performance"
    assert kind_of({"tags": ["forbidden-api"]}) == "forbidden-api"
    assert kind_of({"tags": ["correctness", "dilation"]}) == "correctness"
    assert kind_of({"tags": [], "extra_data": {"kind": "summary"}}) == "summary"
    assert kind_of({"tags": ["correctness"], "extra_data": {"speed": {"ratio": 1.0}}}) == "performance"


def test_points_per_task_sum_to_the_score_and_skipped_tasks_are_blank():
    res = a1_results({"1.2": False, "1.4-speed": False})
    per = task_scores(res, A1_TASKS)
    assert per == {"1.1": 4.0, "1.2": 0.0, "1.3": 4.0, "1.4": 3.0, "1.5": 4.0}
    assert sum(per.values()) == res["score"]
    only_skipped = make_results([make_test("1.4 speed [cuda]", "1.4.1", 0, 0, "skipped")])
    assert task_scores(only_skipped, A1_TASKS)["1.4"] is None                 # blank, not 0
    assert task_scores(only_skipped, A1_TASKS)["1.1"] is None                 # no test at all: blank
    skipped = describe_test(only_skipped["tests"][0], A1_TASKS)
    assert (skipped.counted, skipped.task) == (False, "1.4")


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"http://x\")"])
def test_csv_cells_starting_a_formula_are_neutralised(text):
    assert csv_safe(text) == "'" + text


def test_csv_cells_that_are_plain_stay_as_they_are():
    assert csv_safe("Jane Doe") == "Jane Doe"
    assert csv_safe("a=b") == "a=b"
    assert csv_safe(None) == ""
    assert csv_safe(52.0) == "52" and csv_safe(1 / 3) == "0.3333" and csv_safe(0.5) == "0.5"
    assert fmt_number(-0.0) == "0"


def test_load_batch_lists_results_and_grader_failures(tmp_path):
    out = write_batch(tmp_path / "out", {"bob": a1_results({}), "amy": a1_results({}, load_error="syntax error")},
                      grader_errors=["crashed"])
    (tmp_path / "out" / "junk").mkdir()                                     # not a submission
    batch = load_batch(out)
    assert [s.name for s in batch.submissions] == ["amy", "bob", "crashed"]
    assert batch.assignment_id == "a1_cnn"
    status = {s.name: s.status for s in batch.submissions}
    assert status == {"amy": "could not load", "bob": "graded", "crashed": "grader error"}
    assert batch.task_numbers()[:5] == A1_TASKS
