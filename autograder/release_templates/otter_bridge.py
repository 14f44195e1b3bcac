"""otter-grader -> dl-autograder bridge.

Every case of the OK-format test files next to this folder runs
``runpy.run_path(<this file>)["passed"](number, name)``.  The first call grades the
submission once with our engine (``dl_run.py`` of the otter archive, in a fresh process,
so student code runs in the engine's isolated workers) and caches results.json; each
case then reads whether its hidden test passed.  Failed cases print the test's feedback.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent          # <ag>/submission/tests/dl_bridge
SUBMISSION_DIR = HERE.parents[1]                # <ag>/submission (otter copies tests/ there)


def source_dir() -> Path:
    candidates = [os.environ.get("DL_AUTOGRADER_SOURCE"), SUBMISSION_DIR.parent / "source"]
    for c in candidates:
        if c and (Path(c) / "dl_run.py").is_file():
            return Path(c)
    raise RuntimeError("dl-autograder source not found next to the submission (is this an otter run?)")


def submission_path() -> Path:
    """The file otter grades: the only notebook, else the only .py (otter's own rule)."""
    notebooks = sorted(SUBMISSION_DIR.glob("*.ipynb"))
    if notebooks:
        return notebooks[0]
    scripts = sorted(p for p in SUBMISSION_DIR.glob("*.py") if p.name != "__init__.py")
    return scripts[0] if scripts else SUBMISSION_DIR


def results() -> dict:
    sub = submission_path()
    digest = hashlib.sha256(sub.read_bytes() if sub.is_file() else str(sub).encode()).hexdigest()[:16]
    folder = SUBMISSION_DIR.parent / "results"
    if not folder.is_dir():
        folder = Path(tempfile.gettempdir())
    cache = folder / f"dl_autograder_{digest}.json"
    if not cache.is_file():
        source = source_dir()
        env = dict(os.environ, DL_AUTOGRADER_GRADING="1",
                   PYTHONPATH=os.pathsep.join(p for p in (str(source), os.environ.get("PYTHONPATH", "")) if p))
        # the submission is copied alone, so nothing otter put next to it is graded
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / sub.name
            if sub.is_file():
                target.write_bytes(sub.read_bytes())
            else:
                target = sub
            subprocess.run([sys.executable, str(source / "dl_run.py"), "--submission", str(target),
                            "--results", str(cache), "--root", str(SUBMISSION_DIR.parent)],
                           cwd=source, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"tests": [], "output": "the dl-autograder engine did not produce results"}


def passed(number: str, name: str) -> bool:
    res = results()
    tests = res.get("tests", [])
    match = ([t for t in tests if t.get("number") == number and t.get("name") == name]
             or [t for t in tests if t.get("name") == name]
             or [t for t in tests if t.get("number") == number])
    if not match:
        print(res.get("output") or "this test was not graded")
        return False
    t = match[0]
    if t.get("status") == "passed" and t.get("score", 0) >= t.get("max_score", 0):
        return True
    print(t.get("output") or "failed")
    return False
