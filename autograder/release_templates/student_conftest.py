"""Runs the public tests of this handout against YOUR code, in this process.

Nothing to edit here.  ``python run_checks.py`` (or ``python -m pytest test_public.py``)
uses it.  The tests reach your functions only through the ``student`` fixture, which
imports the module named in assignment.json from this folder (or ``--target PATH``).
The grader runs the same tests, and hidden ones, in an isolated process.
"""
from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))          # so that `shared` is the copy next to this file

from shared.adapter import InProcessStudent  # noqa: E402
from shared.handout import MARKERS  # noqa: E402  (the grader registers the same markers)
from shared.i18n import LANGUAGES, set_language  # noqa: E402

INFO = json.loads((HERE / "assignment.json").read_text(encoding="utf-8"))
GRADER_ONLY = "needs the reference solution: this check runs only in the grader"


def pytest_addoption(parser):
    parser.addoption("--target", default=None,
                     help=f"file to test (default: {INFO['module']}.py next to this conftest)")


def pytest_configure(config):
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    # the language of the feedback: DL_LANG=ko (or en), else the course's setting
    lang = os.environ.get("DL_LANG") or INFO.get("lang") or "en"
    if lang not in LANGUAGES:
        raise pytest.UsageError(f"DL_LANG={lang!r}: the feedback language is one of {', '.join(LANGUAGES)}")
    set_language(lang)


class _Namespace:
    """A module-like view of a notebook's globals (attribute writes go to the globals,
    so forbidden-API patches reach the notebook's own aliases)."""

    def __init__(self, namespace: dict):
        self.__dict__ = namespace


class NotebookStudent(InProcessStudent):
    """The functions defined in a running notebook (``run_checks.check(name, globals())``)."""

    def __init__(self, namespace: dict, module_name: str, timeout=None):
        super().__init__(HERE / f"{module_name}.ipynb", module_name, timeout=timeout)
        self._module = _Namespace(namespace)


def target_path(config) -> Path:
    chosen = config.getoption("--target") or os.environ.get("DL_CHECK_TARGET")
    path = Path(chosen) if chosen else HERE / f"{INFO['module']}.py"
    return path / f"{INFO['module']}.py" if path.is_dir() else path


@pytest.fixture(scope="module")
def student(request):
    """Your code, reached only through this adapter (``student.conv2d(x, w)``)."""
    namespace = getattr(request.config, "_dl_notebook_namespace", None)
    if namespace is not None:
        adapter = NotebookStudent(namespace, INFO["module"], timeout=INFO.get("timeout"))
    else:
        adapter = InProcessStudent(target_path(request.config), INFO["module"], timeout=INFO.get("timeout"))
    yield adapter
    adapter.close()


@pytest.fixture(scope="module")
def assignment():
    return types.SimpleNamespace(**INFO)


@pytest.fixture(scope="session")
def grading_device():
    import torch
    return "cuda" if torch.cuda.is_available() else "cpu"


@pytest.fixture(scope="module")
def reference():
    pytest.skip(GRADER_ONLY)


@pytest.fixture(scope="module")
def perf():
    pytest.skip("speed checks compare with the reference solution: they run only in the grader")
