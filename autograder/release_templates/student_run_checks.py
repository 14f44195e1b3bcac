"""Run the public tests of this handout on your work.

    python run_checks.py                         # every public test, on <module>.py in this folder
    python run_checks.py conv2d                  # only the public tests of conv2d
    python run_checks.py --target other.py       # another file (or a folder holding <module>.py)
    python run_checks.py --notebook <module>.ipynb   # the SAVED notebook, converted as the grader does

In the notebook handout every check cell calls ``check("<function>", globals())``: that runs
the public tests of one function on the definitions in the running kernel (save and use
``--notebook`` to check the file you will submit).

Passing the public tests does not mean full marks: the grader also runs hidden tests.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))          # so that `shared` is the copy next to this file

from shared.handout import HandoutError, notebook_to_source  # noqa: E402

INFO = json.loads((HERE / "assignment.json").read_text(encoding="utf-8"))


def public_test_files() -> list[Path]:
    return sorted(HERE.glob("test_*.py"))


def tests_for(function: str) -> list[str]:
    """Node ids of the public tests that call ``student.<function>`` (or are named after it)."""
    ids = []
    for path in public_test_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                uses = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
                        and isinstance(n.value, ast.Name) and n.value.id == "student"}
                uses |= {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)
                         and isinstance(n.value, str)}          # student.forbid("conv2d", ...), perf.check("conv2d")
                if function in uses or node.name == f"test_{function}" or node.name.startswith(f"test_{function}_"):
                    ids.append(f"{path.name}::{node.name}")
    return ids


def notebook_to_module(notebook: Path, dest: Path) -> Path:
    """The saved notebook as the module the grader makes of it (the same code:
    ``shared/handout.py``): code cells only; check cells, ``%magic`` / ``!shell`` lines,
    ``x = !cmd``, ``get_ipython()`` calls and ``%%`` cells left out."""
    source = notebook_to_source(Path(notebook).read_bytes(), Path(notebook).name)
    dest.write_text(source, encoding="utf-8")
    return dest


def _run(selection: list[str], target: Path | None = None, namespace: dict | None = None,
         quiet: bool = True) -> int:
    import pytest

    class _Plugin:
        def pytest_configure(self, config):
            config._dl_notebook_namespace = namespace

    args = [*selection, "-p", "no:cacheprovider", "--strict-markers", "--tb=short", "--rootdir", str(HERE),
            "-c", str(HERE / "pytest.ini")]
    if quiet:
        args.append("-q")
    if target is not None:
        args += ["--target", str(target)]
    previous = os.getcwd()
    os.chdir(HERE)
    try:
        return int(pytest.main(args, plugins=[_Plugin()] if namespace is not None else []))
    finally:
        os.chdir(previous)


def _selection(functions: list[str]) -> list[str] | None:
    if not functions:
        return [p.name for p in public_test_files()]
    ids = []
    for fn in functions:
        found = tests_for(fn)
        if not found:
            print(f"No public test for {fn}; the grader's hidden tests still check it.")
        ids += found
    return ids or None


def check(function: str | None = None, namespace: dict | None = None) -> bool | None:
    """Run the public tests (of one function) on the notebook's definitions.  Does nothing
    while a submission is being graded or when not called from a notebook / script."""
    if os.environ.get("DL_AUTOGRADER_GRADING"):
        return None
    if namespace is not None and namespace.get("__name__") != "__main__":
        return None
    selection = _selection([function] if function else [])
    if selection is None:
        return None
    rc = _run(selection, namespace=namespace)
    what = f"for {function}" if function else ""
    if rc == 0:
        print(f"Public tests {what} passed (the grader also runs hidden tests).".replace("  ", " "))
    else:
        print(f"Public tests {what} did not pass: read the messages above.".replace("  ", " "))
    return rc == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("functions", nargs="*", help="only the public tests of these functions")
    parser.add_argument("--target", help=f"file or folder to test (default: {INFO['module']}.py here)")
    parser.add_argument("--notebook", help="a saved notebook to test, converted as the grader does")
    args = parser.parse_args(argv)
    selection = _selection(args.functions)
    if selection is None:
        return 0
    if not public_test_files():
        print("This handout has no public tests.")
        return 0
    if args.notebook:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                module = notebook_to_module(Path(args.notebook).resolve(), Path(tmp) / f"{INFO['module']}.py")
            except (HandoutError, OSError) as exc:
                print(f"Cannot check {args.notebook}: {exc}")
                return 2
            return _run(selection, target=module)
    target = Path(args.target).resolve() if args.target else None
    return _run(selection, target=target)


if __name__ == "__main__":
    sys.exit(main())
