"""Fixtures for the framework's own tests."""
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import ROOT, registry

pytest_plugins = ["pytester"]

A1 = "a1_cnn"


@pytest.fixture(scope="session")
def a1():
    return registry.get(A1)


@pytest.fixture(scope="session")
def reference_source(a1) -> str:
    return a1.solution_path.read_text(encoding="utf-8")


def make_notebook(path: Path, code_cells: list[str], markdown: str = "# my work") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown)] + [nbformat.v4.new_code_cell(c) for c in code_cells]
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def notebook_factory():
    return make_notebook


EXAMPLES = ROOT / "examples" / "submissions"
