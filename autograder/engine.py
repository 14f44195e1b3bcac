"""Grading one submission: load it, write the run spec, run the hidden suite, and leave
a complete results.json whatever happens.

The suite runs in a trusted pytest process with the grading plugin: a child forked from a
warm slot (:mod:`autograder.warm`, the default for batches) or a fresh ``python -m
pytest`` (``slot=None``).  Every student call inside it goes to an isolated worker
(:mod:`autograder.isolation`).  A submission that cannot load is graded as a stand-in
whose every call fails with the load problem, so the student sees it on every test and
the max score is right.  Whatever else fails (the grading process dies, runs out of
time) the submission gets a results.json with score 0 and a message, and every process
and folder of the run is removed.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from autograder import ROOT, registry, runspec
from autograder.isolation import confine
from autograder.results import failure_results, write_json
from shared.i18n import N_, gettext, translator

GRADER_MEMORY_MB = 8192        # address space of the trusted grading process (CPU grading)
LOAD_TIMEOUT = 120             # seconds to unpack, convert and check one submission
GRADER_FAILED = N_("the grader failed on this submission; please tell the course staff")


class GraderError(RuntimeError):
    """The grader itself failed (not the submission)."""


class Cancelled(Exception):
    """The batch was interrupted while this submission was graded: nothing was written."""


def suite_timeout(spec: runspec.RunSpec) -> float:
    """A last resort: the budget bounds the student's time, this the whole run."""
    return max(600.0, 6 * spec.budget)


# pytest's own plugins a grading run does not use (with PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 for the
# third-party ones): about a fifth of a warm submission's time
UNUSED_PLUGINS = ("cacheprovider", "unraisableexception", "threadexception", "logging", "faulthandler", "junitxml",
                  "pastebin", "doctest", "stepwise")
GRADING_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def pytest_args(assignment: registry.Assignment, spec_path: Path, tests: list[str] | None = None) -> list[str]:
    disabled = [arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")]
    return [*(tests or [str(assignment.suite_dir)]), "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT),
            "-p", "autograder.plugin", "-q", "--tb=no", *disabled, "-W", "ignore", "--ag-run", str(spec_path)]


def limit_grader_memory(device: str) -> None:
    """A hostile reply must not be able to take the grading machine down with it."""
    if device == "cpu":
        limit = GRADER_MEMORY_MB << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def load(assignment: registry.Assignment, submission: Path, target_dir: Path,
         lang: str | None = None, slot=None) -> tuple[str | None, dict]:
    """Materialize the submission and run the static check, in a short-lived process of its
    own (autograder/loading.py; with a warm ``slot``, a fresh child of the slot): a hostile
    upload (a zip bomb, an expression 200,000 deep that leaves CPython's parser in a bad
    state) never touches the batch's process.
    Returns (load problem or None, static findings), their text in ``lang``."""
    tr = gettext if lang is None else translator(lang)
    if slot is not None:
        try:
            data = slot.load(assignment.id, submission, target_dir, lang, target_dir.parent / "load.json",
                             LOAD_TIMEOUT)
            return data["load_error"], data["static"]
        except TimeoutError:
            return tr(N_("the submission could not be read ({error})")).format(error="timeout"), {}
        except (GraderError, KeyError, TypeError):
            shutil.rmtree(target_dir, ignore_errors=True)       # the slot failed: a process of its own
    try:
        proc = subprocess.run([sys.executable, "-m", "autograder.loading", assignment.id, str(submission),
                               str(target_dir), lang or ""], cwd=ROOT, capture_output=True, timeout=LOAD_TIMEOUT,
                              env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        data = json.loads(proc.stdout.decode("utf-8").strip().splitlines()[-1])
        return data["load_error"], data["static"]
    except subprocess.TimeoutExpired:
        return tr(N_("the submission could not be read ({error})")).format(error="timeout"), {}
    except (ValueError, KeyError, IndexError, UnicodeDecodeError):
        return tr(N_("the submission is too large to be read")), {}


def run_cold(assignment: registry.Assignment, spec_path: Path, run_root: Path, timeout: float,
             zygote_first: bool = True) -> int:
    """A fresh pytest process for this submission (no warm slot).  With isolated workers its
    zygote starts first, importing torch on one core while the pytest process imports its
    own on the other (as the warm process does); ``zygote_first=False`` is the path as it
    was before, the zygote after pytest's imports (kept for benchmarks/batch_speed.py)."""
    env = {**os.environ, **GRADING_ENV, "TMPDIR": str(run_root)}
    spec = runspec.RunSpec.read(spec_path)
    first = ("from autograder.isolation.zygote import Zygote; Zygote.get(); "
             if zygote_first and spec.isolation == "worker" else "")
    proc = subprocess.Popen([sys.executable, "-c", f"import sys; {first}from shared.tuning import keep_freed_memory as "
                             "k; k(); import pytest; from autograder.engine import "
                             "limit_grader_memory as m; m(sys.argv[1]); sys.exit(pytest.main(sys.argv[2:]))",
                             spec.device, *pytest_args(assignment, spec_path)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        raise TimeoutError from None
    if proc.returncode not in (0, 1):
        raise GraderError(f"pytest exit {proc.returncode}: {err.decode('utf-8', 'replace')[-2000:]}")
    return proc.returncode


def grade_submission(assignment_id: str, submission: Path, results_path: Path, *, timeout: float | None = None,
                     device: str = "auto", isolation: str = "worker", hide: list[Path] = (), slot=None,
                     lang: str | None = None, keep_source: bool = True, cancel=None,
                     budget: float | None = None, zygote_first: bool = True) -> dict:
    """Grade one submission; write and return its results.json (atomically: an earlier
    results.json stays until the new one is complete).  Raises :class:`GraderError` only
    when the grader itself failed; results.json is written even then."""
    assignment = registry.get(assignment_id)
    submission, results_path = Path(submission), Path(results_path)
    started = time.monotonic()
    run_root = Path(tempfile.mkdtemp(prefix="ag-run-"))
    os.chmod(run_root, 0o711)
    run_id = uuid.uuid4().hex[:12]
    spec = runspec.make(assignment, "", isolation=isolation, device=device, timeout=timeout, budget=budget,
                        lang=lang, run_id=run_id, cpu=getattr(slot, "cpu", None))
    try:
        target_dir = run_root / "submission"
        spec.load_error, spec.static = load(assignment, submission, target_dir, lang=spec.lang, slot=slot)
        module_file = target_dir / f"{assignment.module}.py"
        spec.target = str(module_file)
        if target_dir.exists():
            os.chmod(target_dir, 0o700)
        spec.results = str(run_root / "out" / "results.json")
        spec.limits["hide"] = [str(results_path.parent.resolve()), *map(str, hide), str(ROOT / "solutions"),
                               str(registry.SUITES_DIR), str(ROOT / "tests"), str(ROOT / "examples"),
                               str(ROOT / ".git")]
        spec_path = spec.write(run_root / "run.json")
        error = None
        try:
            if slot is not None:
                slot.run(spec_path, run_root, suite_timeout(spec))
            else:
                run_cold(assignment, spec_path, run_root, suite_timeout(spec), zygote_first=zygote_first)
        except TimeoutError:
            error = f"grading took longer than {suite_timeout(spec):.0f} s and was stopped"
        except GraderError as exc:
            error = str(exc)
        if cancel is not None and cancel.is_set():
            raise Cancelled(submission.name)
        produced = Path(spec.results)
        if error is None and produced.is_file():
            results = json.loads(produced.read_text(encoding="utf-8"))
        else:
            problem = error or "the grading process ended without results"       # for the course staff
            tr = translator(spec.lang)              # the student's words, in the batch's language
            if error and "took longer" in error:
                shown = tr(N_("grading took longer than {seconds:.0f} s and was stopped")).format(
                    seconds=suite_timeout(spec))
            else:
                shown = tr(GRADER_FAILED)
            results = failure_results(assignment.id, shown, execution_time=time.monotonic() - started,
                                      device=spec.device, inventory=inventory(assignment.id), lang=spec.lang)
            results["extra_data"]["grader_error"] = problem
        write_json(results_path, results)
        _side_files(produced.parent, results_path.parent, module_file if keep_source else None, results, spec.lang)
        if error is not None and "took longer" not in error:
            raise GraderError(f"the grader failed on {submission.name}: {error}")
        return results
    finally:
        confine.sweep(run_id)
        shutil.rmtree(run_root, ignore_errors=True)


def _side_files(produced: Path, out: Path, module_file: Path | None, results: dict, lang: str | None = None) -> None:
    printed = produced / "student_output.txt"
    if printed.is_file():
        shutil.copyfile(printed, out / "student_output.txt")
    if module_file is not None and module_file.is_file() and not module_file.is_symlink():
        shutil.copyfile(module_file, out / "source.py")
    try:
        from autograder.instructor.feedback_page import write_feedback_page
    except ImportError:
        return
    try:
        write_feedback_page(results, out / "feedback.html", lang=lang)
    except Exception:  # noqa: BLE001  a page that cannot be drawn never costs a result
        pass


_INVENTORY: dict[str, list[dict]] = {}

_COLLECT = r"""
import json, sys
import pytest
from autograder import plugin
found = []
class Collector:
    def pytest_collection_finish(self, session):
        state = session.config._autograder
        counters = {}
        for item in session.items:
            o = state._describe(item)
            counters[o.task] = counters.get(o.task, 0) + 1
            found.append({"id": o.id, "name": o.name, "task": o.task, "number": f"{o.task}.{counters[o.task]}",
                          "points": o.points, "visibility": o.visibility, "kind": o.kind, "tags": o.tags,
                          "cuda": item.get_closest_marker("cuda") is not None})
rc = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "-p", "autograder.plugin",
                  "--ag-target", "stub", sys.argv[1]], plugins=[Collector()])
json.dump({"rc": int(rc), "items": found}, open(sys.argv[2], "w"))
"""


def inventory(assignment_id: str) -> list[dict]:
    """The graded items of the hidden suite in results.json's order and numbering, found by
    collecting it (nothing runs); CUDA items are left out (not counted without a GPU)."""
    if assignment_id not in _INVENTORY:
        a = registry.get(assignment_id)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "items.json"
            subprocess.run([sys.executable, "-c", _COLLECT, str(a.suite_dir), str(out)], cwd=ROOT,
                           capture_output=True, timeout=600)
            data = json.loads(out.read_text()) if out.is_file() else {"rc": 1, "items": []}
        _INVENTORY[assignment_id] = [i for i in data["items"] if not i["cuda"]] if data["rc"] == 0 else []
    return _INVENTORY[assignment_id]
