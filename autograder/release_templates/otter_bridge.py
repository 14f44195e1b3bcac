"""otter-grader -> dl-autograder bridge.

Every case of the OK-format test files next to this folder runs
``runpy.run_path(<this file>)["passed"](number, name)``.  The first call grades the
submission once with our engine (``dl_run.py`` of the otter archive, in a fresh process,
so student code runs in the engine's isolated workers) and caches results.json; each
case then reads whether its hidden test passed.  Failed cases print the test's feedback.
"""
import functools
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent          # <ag>/submission/tests/dl_bridge
SUBMISSION_DIR = HERE.parents[1]                # <ag>/submission (otter copies tests/ there)
OTTER_FILES = ("tests", "__init__.py")          # what otter itself puts into the submission folder


def source_dir() -> Path:
    candidates = [os.environ.get("DL_AUTOGRADER_SOURCE"), SUBMISSION_DIR.parent / "source"]
    for c in candidates:
        if c and (Path(c) / "dl_run.py").is_file():
            return Path(c)
    raise RuntimeError("dl-autograder source not found next to the submission (is this an otter run?)")


@functools.lru_cache(maxsize=None)
def _handout(source: Path):
    """``shared/handout.py`` of the otter archive, loaded once under a private name (the rules
    for which file is graded and for copying an upload without following links)."""
    spec = importlib.util.spec_from_file_location("_dl_autograder_handout", source / "shared" / "handout.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def submission_path(source: Path | None = None) -> Path:
    """The file that is graded, by the handout rule (``shared/handout.py: find_module``):
    ``<module>.py``, else the only notebook, else the only .py; otter's own files left out.
    A chosen file that is a symbolic link is refused (``HandoutError``)."""
    source = source or source_dir()
    module = json.loads((source / "release.json").read_text(encoding="utf-8"))["module"]
    return _handout(source).find_module(SUBMISSION_DIR, module, skip=OTTER_FILES)


def _grade(source: Path) -> dict:
    """Grade the submission once (cached by content) with dl_run.py in a fresh process, on a
    private copy of its regular files: a symbolic link anywhere refuses the submission, so
    nothing outside it is read."""
    handout = _handout(source)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            submission_path(source)
            copy = handout.copy_regular_files(SUBMISSION_DIR, Path(tmp) / "submission", skip=OTTER_FILES)
        except (handout.HandoutError, OSError) as exc:
            return {"tests": [], "output": f"Your submission could not be graded: {exc}"}
        digest = hashlib.sha256()
        for path in sorted(p for p in copy.rglob("*") if p.is_file()):
            digest.update(path.relative_to(copy).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        folder = SUBMISSION_DIR.parent / "results"
        if not folder.is_dir():
            folder = Path(tempfile.gettempdir())
        cache = folder / f"dl_autograder_{digest.hexdigest()[:16]}.json"
        if not cache.is_file():
            env = dict(os.environ, DL_AUTOGRADER_GRADING="1",
                       PYTHONPATH=os.pathsep.join(p for p in (str(source), os.environ.get("PYTHONPATH", "")) if p))
            subprocess.run([sys.executable, str(source / "dl_run.py"), "--submission", str(copy),
                            "--results", str(cache), "--root", str(SUBMISSION_DIR.parent)],
                           cwd=source, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"tests": [], "output": "the dl-autograder engine did not produce results"}


def results() -> dict:
    return _grade(source_dir())


def passed(test_id: str) -> bool:
    """Did the hidden test with this stable id (results.json ``extra_data.id``, e.g.
    ``1.4/conv2d_basic``) pass?  Ids do not shift when tests are added to the suite."""
    res = results()
    tests = res.get("tests", [])
    match = [t for t in tests if (t.get("extra_data") or {}).get("id") == test_id]
    if not match:
        print(res.get("output") or "this test was not graded")
        return False
    t = match[0]
    if t.get("status") == "passed" and t.get("score", 0) >= t.get("max_score", 0):
        return True
    print(t.get("output") or "failed")
    return False
