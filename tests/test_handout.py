"""shared/handout.py: one notebook conversion, one discovery rule, one marker table, one list
of handout files, shared by the grader and the student handout (issue 13.5)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import plugin, registry, submission
from autograder.release import student_entries
from autograder.submission import LoadError, materialize
from shared import handout
from shared.handout import HandoutError, clean_cell, copy_regular_files, find_module, notebook_to_source

AID = "a1_cnn"


def _nb(cells: list[tuple[str, list[str]]]) -> str:
    """A notebook (nbformat 4 JSON) with these (source, tags) code cells and a markdown cell."""
    out = [{"cell_type": "markdown", "metadata": {}, "source": "# my work\n!not code either"}]
    for source, tags in cells:
        out.append({"cell_type": "code", "metadata": {"tags": tags} if tags else {}, "execution_count": None,
                    "outputs": [], "source": source.splitlines(keepends=True)})
    return json.dumps({"cells": out, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


# Every kind of IPython-only line, a check cell and Python that merely looks like a magic.
NOTEBOOK_CELLS = [
    ("%matplotlib inline\n!pip install numpy\nimport math\nx = !ls\nfiles, more = %sx ls\n%time y = 2", []),
    ("%%bash\necho this is shell, not Python\n", []),
    ("\n%%time\nz = 3\n", []),
    ("get_ipython().run_line_magic('load_ext', 'autoreload')\n"
     "out = get_ipython().getoutput('ls')\n"
     "get_ipython().run_cell_magic('bash', '',\n    'echo hi\\n')\n"
     "SCALE = (10\n         % 7)\n", []),
    ('def area(r):\n    """Area of a circle.\n%  not a magic: inside the docstring\n!  nor this\n"""\n'
     "    for _ in range(2):\n        !echo looping\n    return math.pi * r ** 2 * SCALE\n", []),
    ("if __name__ == '__main__':\n    from run_checks import check\n    check('area', globals())\n",
     ["check", "otter_ignore"]),
    ("raise SystemExit('an otter-only cell')\n", ["otter_ignore"]),
]

EXPECTED_MODULE = (                 # the kept cells, one blank line between them
    "import math\n"
    "\n"
    "SCALE = (10\n         % 7)\n"
    "\n"
    'def area(r):\n    """Area of a circle.\n%  not a magic: inside the docstring\n!  nor this\n"""\n'
    "    for _ in range(2):\n        pass\n    return math.pi * r ** 2 * SCALE\n"
)


@pytest.fixture(scope="module")
def handout_dir(tmp_path_factory) -> Path:
    """The student handout of a1_cnn as the release writes it (no zip needed)."""
    folder = tmp_path_factory.mktemp("handout")
    for entry in student_entries(registry.get(AID)):
        path = folder / entry.arcname
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(entry.data)
    return folder / AID


def _run_checks_conversion(folder: Path, notebook: Path, dest: Path) -> str:
    """What the handout's run_checks.py --notebook grades, computed by the shipped files."""
    script = ("import sys, run_checks, shared.handout as h\n"
              "from pathlib import Path\n"
              "run_checks.notebook_to_module(Path(sys.argv[1]), Path(sys.argv[2]))\n"
              "print(h.__file__)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", script, str(notebook), str(dest)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert Path(proc.stdout.strip()).parent == folder / "shared", "the handout's own copy of shared/handout.py"
    return dest.read_text(encoding="utf-8")


def test_grader_and_run_checks_make_the_same_module(handout_dir, tmp_path):
    nb = tmp_path / "mine.ipynb"
    nb.write_text(_nb(NOTEBOOK_CELLS))
    graded = materialize(nb, AID, tmp_path / "graded").read_text(encoding="utf-8")
    checked = _run_checks_conversion(handout_dir, nb, tmp_path / "checked.py")
    assert graded == checked == EXPECTED_MODULE
    namespace: dict = {"__name__": "submission"}
    exec(compile(graded, "mine", "exec"), namespace)
    assert namespace["area"](1.0) == pytest.approx(3.0 * 3.141592653589793)


def test_run_checks_refuses_a_broken_notebook_with_the_graders_message(handout_dir, tmp_path):
    nb = tmp_path / "broken.ipynb"
    nb.write_text('{"cells": [}')
    with pytest.raises(LoadError) as graded:
        materialize(nb, AID, tmp_path / "graded")
    proc = subprocess.run([sys.executable, "run_checks.py", "--notebook", str(nb)], cwd=handout_dir,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "broken.ipynb is not a valid notebook: it is not JSON" in str(graded.value)
    assert str(graded.value) in proc.stdout


@pytest.mark.parametrize("cell, expected", [
    ("%%capture\nimport os", ""),                                  # cell magic: the whole cell
    ("!ls\nimport os", "import os"),
    ("  %time f()\nv = 1", "v = 1"),                              # indented top-level magic: dropped
    ("x = !ls\nx2=%env HOME\nk = 1", "k = 1"),
    ("a.b, c = !ls\nk = 1", "k = 1"),
    ("if a != b:\n    c = a % b", "if a != b:\n    c = a % b"),   # Python operators stay
    ("t = (1,\n     % 2)\n!x", "t = (1,\n     % 2)"),             # continuation line of an expression
    ("s = 'it''s'\n%who", "s = 'it''s'"),
    ("s = 'a \\' b'\n!x", "s = 'a \\' b'"),
    ("u = 1 + \\\n    2\n%who", "u = 1 + \\\n    2"),
    ("!echo a \\\n  b\nk = 1", "k = 1"),                          # a shell line continued
    ("q = '''\n!x\n'''", "q = '''\n!x\n'''"),
    ("w = 1  # !not a command\n%x", "w = 1  # !not a command"),
    ("def f():\n    get_ipython().system(\n        'ls')\n    return 1",
     "def f():\n    pass\n    return 1"),
])
def test_clean_cell(cell, expected):
    assert clean_cell(cell) == expected


def test_notebook_errors_name_the_problem():
    cases = {"not json": "it is not JSON", "[1, 2]": "it is not a JSON object", '{"nbformat": 4}': "no list of cells",
             '{"cells": [{"cell_type": "code", "source": 3}]}': "cell 1: its source is not text"}
    for text, message in cases.items():
        with pytest.raises(HandoutError, match=message):
            notebook_to_source(text, "nb.ipynb")
    with pytest.raises(HandoutError, match="not a text file"):
        notebook_to_source(b"\xff\xfe\x00binary", "nb.ipynb")


def test_nbformat3_notebook_and_source_as_one_string():
    v3 = {"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "import math\n%pylab inline", "outputs": []},
        {"cell_type": "markdown", "source": "text"},
        {"cell_type": "code", "input": ["r = ", "2"]}]}]}
    assert notebook_to_source(json.dumps(v3)) == "import math\n\nr = 2\n"


# ---- which file is graded --------------------------------------------------------------
def _files(root: Path, names: dict[str, str]) -> Path:
    for rel, text in names.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_find_module_rule(tmp_path):
    handout_names = {"conftest.py": "", "run_checks.py": "", "grade.py": "", "test_public.py": "",
                     "shared/compare.py": "", "__init__.py": ""}
    # the module wins, the shallowest first
    one = _files(tmp_path / "one", {"deep/er/a1_cnn.py": "", "deep/a1_cnn.py": "", "x.ipynb": "{}", **handout_names})
    assert find_module(one, AID) == one / "deep" / "a1_cnn.py"
    # else the only notebook (handout files and caches are no candidates)
    two = _files(tmp_path / "two", {"work.ipynb": "{}", ".ipynb_checkpoints/work-checkpoint.ipynb": "{}",
                                    "helper.py": "", **handout_names})
    assert find_module(two, AID) == two / "work.ipynb"
    # else the only .py, even next to the handout's own .py files
    three = _files(tmp_path / "three", {"mine.py": "", "__MACOSX/._mine.py": "", **handout_names})
    assert find_module(three, AID) == three / "mine.py"
    # two candidates and no module: the message lists what is there
    four = _files(tmp_path / "four", {"a.py": "", "b.py": "", "notes.txt": ""})
    with pytest.raises(HandoutError, match=r"no a1_cnn\.py found in the submission \(it contains: a\.py, b\.py"):
        find_module(four, AID)
    # the grader applies the same rule (a submitted shared/ never counts)
    assert submission._find_module_in(three, AID) == three / "mine.py"
    with pytest.raises(LoadError, match="no a1_cnn.py found"):
        submission._find_module_in(four, AID)


def test_links_are_refused_or_never_followed(tmp_path):
    secret = _files(tmp_path / "outside", {"a1_cnn.py": "SECRET = 1\n", "other.py": ""})
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "a1_cnn.py").symlink_to(secret / "a1_cnn.py")
    with pytest.raises(HandoutError, match="a1_cnn.py is a symbolic link"):
        find_module(linked, AID)
    through_dir = tmp_path / "through_dir"
    through_dir.mkdir()
    (through_dir / "sub").symlink_to(secret, target_is_directory=True)
    with pytest.raises(HandoutError, match="no a1_cnn.py found"):     # a linked folder is not entered
        find_module(through_dir, AID)
    # copying an upload: the regular files come along, a link anywhere refuses it
    upload = _files(tmp_path / "upload", {"a1_cnn.py": "x = 1\n", "pkg/helper.py": "y = 2\n", "tests/t.py": ""})
    copy = copy_regular_files(upload, tmp_path / "copy", skip=("tests",))
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()) == \
        ["a1_cnn.py", "pkg/helper.py"]
    (upload / "pkg" / "data").symlink_to(secret / "other.py")
    with pytest.raises(HandoutError, match="pkg/data is a symbolic link"):
        copy_regular_files(upload, tmp_path / "copy2")


# ---- one table each ------------------------------------------------------------------
def test_grader_and_handout_share_markers_and_handout_files(handout_dir):
    assert plugin.MARKERS is handout.MARKERS
    assert set(handout.MARKERS) == {"task", "points", "visibility", "tags", "cuda", "slow"}
    assert submission.HANDOUT_FILES is handout.HANDOUT_FILES
    # every generated handout file is one the grader ignores when a student hands it back
    shipped = {p.name for p in handout_dir.iterdir()}
    assert set(handout.GENERATED_FILES) <= shipped and set(handout.GENERATED_FILES) <= handout.HANDOUT_FILES
    # the shipped conftest registers exactly the grader's markers (pytest --markers lists them)
    proc = subprocess.run([sys.executable, "-m", "pytest", "--markers", "-p", "no:cacheprovider"],
                          cwd=handout_dir, capture_output=True, text=True, timeout=120)
    for name, text in handout.MARKERS.items():
        assert f"@pytest.mark.{name}: {text}" in proc.stdout, name


def test_handout_module_needs_only_the_standard_library(handout_dir):
    proc = subprocess.run([sys.executable, "-S", "-c", "import sys; sys.path.insert(0, '.'); import shared.handout"],
                          cwd=handout_dir, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
