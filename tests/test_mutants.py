"""Mutants are overlays on the reference (autograder/mutants.py): the builder replaces
definitions in place, adds imports and declared helpers, and refuses overlays that drift
from today's reference or change nothing."""
import ast
from types import SimpleNamespace

import pytest

from autograder import registry
from autograder.mutant_edits import Edit, compact, format_edits
from autograder.mutants import MutantError, build, build_file, build_mutant, normalised, parse_header
from autograder.mutants_cli import compact_overlay
from autograder.validate import allowed_tasks
from autograder.mutants_cli import main as _main

REFERENCE = '''"""A tiny reference module."""
import math

import torch

SCALE = 2.0      # a module constant


def _helper(x):
    # the helper's own comment
    return x * SCALE


@staticmethod
def area(r):
    """Area of a circle."""
    return math.pi * r ** 2


def scaled(x):
    return _helper(x) + 1


class Box:
    def size(self):
        return 3
'''


def run(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "<built>", "exec"), namespace)
    return namespace


def test_a_definition_replaces_the_reference_one_in_place_and_keeps_the_rest_verbatim():
    overlay = "# mutant: area without pi\n# expect: pi\n\ndef area(r):\n    return r ** 2\n"
    built = build_mutant(REFERENCE, overlay, "no_pi")
    assert built.changed == ("area",)
    module = run(built.source)
    assert module["area"](3.0) == 9.0 and module["scaled"](1.0) == 3.0
    # untouched text survives, comments and line numbers up to the change included
    ref_lines, out_lines = REFERENCE.splitlines(), built.source.splitlines()
    first = ref_lines.index("@staticmethod")
    assert out_lines[:first] == ref_lines[:first]
    assert "    # the helper's own comment" in out_lines
    assert out_lines[first] == "def area(r):"                 # the decorator went with the old definition
    assert out_lines[first + 2:first + 2 + 9] == ref_lines[first + 4:first + 4 + 9]
    # the definitions keep their order
    names = [n.name for n in ast.parse(built.source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert names == ["_helper", "area", "scaled", "Box"]


def test_classes_and_simple_assignments_are_replaced_too():
    overlay = "# mutant: m\n# expect: e\nSCALE = 5.0\n\nclass Box:\n    def size(self):\n        return 4\n"
    module = run(build(REFERENCE, overlay, "consts"))
    assert module["SCALE"] == 5.0 and module["Box"]().size() == 4 and module["scaled"](1.0) == 6.0
    assert build(REFERENCE, overlay, "consts").count("SCALE =") == 1


def test_adds_appends_new_helpers_after_the_definitions():
    overlay = ("# mutant: scaled via a new helper\n# expect: scale\n# adds: _twice, _thrice\n"
               "def scaled(x):\n    return _twice(x) + _thrice(x)\n\n"
               "def _twice(x):\n    return 2 * x\n\n"
               "# a comment above the helper travels with it\n"
               "def _thrice(x):\n    return 3 * x\n")
    built = build_mutant(REFERENCE, overlay, "helpers")
    assert built.changed == ("scaled",) and built.adds == ("_twice", "_thrice")
    assert run(built.source)["scaled"](1.0) == 5.0
    body = ast.parse(built.source).body
    names = [n.name for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert names == ["_helper", "area", "scaled", "Box", "_twice", "_thrice"]
    assert "# a comment above the helper travels with it\ndef _thrice" in built.source


def test_adds_must_name_new_definitions_of_the_overlay():
    with pytest.raises(MutantError, match=r"mutant bad_adds: .*reference defines _helper"):
        build(REFERENCE, "# adds: _helper\ndef _helper(x):\n    return x\n", "bad_adds")
    with pytest.raises(MutantError, match=r"'# adds: _ghost', but the overlay does not define _ghost"):
        build(REFERENCE, "# adds: _ghost\ndef area(r):\n    return r\n", "ghost")


def test_imports_go_after_the_reference_imports_without_duplicates():
    overlay = ("# mutant: m\n# expect: e\nimport math\nimport torch\nimport numpy as np\n"
               "from collections import OrderedDict, deque\n\n"
               "def area(r):\n    return float(np.pi) * r ** 2 + len(deque()) + len(OrderedDict())\n")
    source = build(REFERENCE, overlay, "imports")
    assert source.count("import math") == 1 and source.count("import torch") == 1
    lines = source.splitlines()
    torch_at = lines.index("import torch")
    assert lines[torch_at + 1:torch_at + 3] == ["import numpy as np", "from collections import OrderedDict, deque"]
    assert run(source)["area"](1.0) == pytest.approx(3.141592653589793)
    # a from-import is de-duplicated name by name
    source = build(REFERENCE + "from os import path\n", "from os import path, sep\n\ndef area(r):\n    return sep\n",
                   "partial")
    assert source.count("from os import path\n") == 1 and "from os import sep\n" in source
    # a __future__ import must stay first: it goes right after the module docstring
    source = build(REFERENCE, "from __future__ import annotations\n\ndef area(r: Box) -> float:\n    return r\n",
                   "future")
    assert source.splitlines()[1] == "from __future__ import annotations"
    compile(source, "<future>", "exec")


def test_a_name_the_reference_no_longer_defines_is_refused():
    with pytest.raises(MutantError) as info:
        build(REFERENCE, "# mutant: m\n# expect: e\ndef volume(r):\n    return r\n", "stale")
    assert "mutant stale" in str(info.value) and "volume" in str(info.value)
    assert "no longer defines" in str(info.value)


def test_a_definition_copied_unchanged_is_refused_even_with_other_docstring_or_layout():
    copied = ('def area(r):\n    return r\n\n'
              'def scaled(x: float) -> float:\n    """Another docstring."""\n    return (_helper(x)\n            + 1)\n')
    with pytest.raises(MutantError, match=r"mutant copier: copies scaled unchanged: drop it from the overlay"):
        build(REFERENCE, copied, "copier")
    decorated = 'def scaled(x):\n    return x\n\n@staticmethod\ndef area(r):\n    return math.pi * r ** 2\n'
    with pytest.raises(MutantError, match="copies area unchanged"):
        build(REFERENCE, decorated, "decorated")


def test_a_mutant_that_changes_nothing_is_refused():
    with pytest.raises(MutantError, match="changes nothing"):
        build(REFERENCE, "# mutant: nothing\n# expect: e\nimport math\n", "noop")


def test_an_overlay_holds_only_imports_and_definitions():
    with pytest.raises(MutantError, match=r"mutant loose: line 3: .*not Expr statements"):
        build(REFERENCE, "def area(r):\n    return r\nprint('hello')\n", "loose")
    with pytest.raises(MutantError, match="defines area twice"):
        build(REFERENCE, "def area(r):\n    return r\n\ndef area(r):\n    return 2 * r\n", "twice")
    with pytest.raises(MutantError, match="mutant broken: not valid Python"):
        build(REFERENCE, "def area(r:\n", "broken")


LOOPS = REFERENCE + '''

def running_sum(xs, scale=1.0):
    """Prefix sums, scaled."""
    out, total = [], 0.0
    for x in xs:
        total = total + x       # the running total
        out.append(total * scale)
    return out
'''


def test_an_edit_changes_a_piece_of_one_line_and_keeps_the_rest_verbatim():
    overlay = '# mutant: no scale\n# expect: scale\nedit("running_sum", "out.append(total * scale)", "out.append(total)")\n'
    built = build_mutant(LOOPS, overlay, "no_scale")
    assert built.changed == ("running_sum",)
    assert run(built.source)["running_sum"]([1, 2], scale=2.0) == [1.0, 3.0]
    assert run(LOOPS)["running_sum"]([1, 2], scale=2.0) == [2.0, 6.0]
    ref_lines, out_lines = LOOPS.splitlines(), built.source.splitlines()
    changed = [i for i, (a, b) in enumerate(zip(ref_lines, out_lines)) if a != b]
    assert changed == [ref_lines.index("        out.append(total * scale)")]
    assert "        total = total + x       # the running total" in out_lines       # comments kept


BLOCK_OVERLAY = '''# mutant: m
# expect: e
edit("running_sum", r"""
total = total + x       # the running total
out.append(total * scale)
""", r"""
if x > 0:
    total = total + x
out.append(total * scale)
""")
'''


def test_a_block_edit_is_found_at_any_indentation_and_new_lines_take_that_indentation():
    source = build(LOOPS, BLOCK_OVERLAY, "block")
    assert "        if x > 0:\n            total = total + x\n        out.append(total * scale)\n" in source
    assert run(source)["running_sum"]([1, -5, 2]) == [1.0, 1.0, 3.0]
    # an empty NEW deletes the lines; several edits apply one after the other
    overlay = ('edit("running_sum", "total = total + x       # the running total\\n", "")\n'
               'edit("running_sum", "out.append(total * scale)", "out.append(x * scale)")\n')
    source = build(LOOPS, overlay, "delete")
    assert "running total" not in source and run(source)["running_sum"]([1, 2]) == [1.0, 2.0]


def test_an_edit_whose_old_text_is_gone_or_ambiguous_is_refused_with_the_text():
    with pytest.raises(MutantError) as info:
        build(LOOPS, 'edit("running_sum", "total * scales", "total")\n', "stale_text")
    message = str(info.value)
    assert "mutant stale_text" in message and "running_sum" in message and "'total * scales'" in message
    assert "no longer contains" in message
    with pytest.raises(MutantError, match=r"'total' occurs [0-9]+ times in running_sum"):
        build(LOOPS, 'edit("running_sum", "total", "t")\n', "ambiguous")
    with pytest.raises(MutantError, match="edits volume, which the reference no longer defines"):
        build(LOOPS, 'edit("volume", "r", "2 * r")\n', "gone")


def test_edits_that_change_nothing_or_collide_or_are_not_literals_are_refused():
    with pytest.raises(MutantError, match="the edits of running_sum change only comments or layout"):
        build(LOOPS, 'edit("running_sum", "# the running total", "# a total")\n', "comment_only")
    with pytest.raises(MutantError, match="both redefines and edits area"):
        build(LOOPS, 'edit("area", "math.pi", "3")\n\ndef area(r):\n    return r\n', "both")
    with pytest.raises(MutantError, match="three string literals"):
        build(LOOPS, 'edit("area", "math.pi")\n', "two_args")
    with pytest.raises(MutantError, match="three string literals"):
        build(LOOPS, 'OLD = "math.pi"\nedit("area", OLD, "3")\n', "not_literal")
    with pytest.raises(MutantError, match="leave it invalid Python"):
        build(LOOPS, 'edit("running_sum", "for x in xs:", "for x in xs")\n', "syntax")


def test_a_fix_of_the_reference_reaches_an_edit_mutant():
    overlay = 'edit("running_sum", "out.append(total * scale)", "out.append(total)")\n'
    fixed = LOOPS.replace("out, total = [], 0.0", "out, total = [], 10.0")
    assert run(build(fixed, overlay, "after_fix"))["running_sum"]([1]) == [11.0]


def test_compact_turns_a_whole_definition_into_the_smallest_edits_that_build_the_same_module():
    whole = ('# mutant: skips negatives\n# expect: negative\nimport torch\n\n\n'
             'def running_sum(xs, scale=1.0):\n    out, total = [], 0.0\n    for x in xs:\n'
             '        if x > 0:\n            total = total + x\n'
             '        out.append(total * scale)   # another comment\n    return out\n')
    compacted = compact_overlay(LOOPS, whole, "skips")
    assert compacted is not None and compacted.startswith("# mutant: skips negatives\n# expect: negative\n")
    assert "import torch" not in compacted and "def running_sum" not in compacted      # the reference has both
    assert len(compacted.splitlines()) < len(whole.splitlines())
    # the docstring the copy dropped and the comments it changed are not carried as edits
    assert "Prefix sums" not in compacted and "another comment" not in compacted
    before, after = build(LOOPS, whole, "skips"), build(LOOPS, compacted, "skips")
    assert normalised(ast.parse(before)) == normalised(ast.parse(after))
    assert run(after)["running_sum"]([1, -5, 2]) == [1.0, 1.0, 3.0]
    # a one-line change becomes a one-line edit
    edits = compact("area", "def area(r):\n    return math.pi * r ** 2\n", "def area(r):\n    return r ** 2\n")
    assert edits == [Edit("area", "return math.pi * r ** 2", "return r ** 2")]
    assert format_edits(edits) == 'edit("area", "return math.pi * r ** 2", "return r ** 2")\n'
    # nothing shorter to say: None
    assert compact_overlay(LOOPS, 'edit("area", "math.pi", "3")\n', "already") is None


def test_the_header_is_parsed_and_repeated_at_the_end():
    header = parse_header("# mutant: conv2d adds the bias per tap\n# expect: bias | tap\n# adds: _a, _b _c\nimport x\n")
    assert header.mutant == "conv2d adds the bias per tap" and header.expect == "bias | tap"
    assert header.adds == ("_a", "_b", "_c")
    source = build(REFERENCE, "# mutant: area without pi\n# expect: pi\ndef area(r):\n    return r\n", "tail")
    assert source.rstrip().endswith("# mutant: area without pi\n# expect: pi")


def _tasks(**numbers):
    return [SimpleNamespace(number=n, function=f) for f, n in numbers.items()]


def test_allowed_tasks_follow_private_helpers_but_stop_at_other_tasks():
    reference = ("LIMIT = 3\n"
                 "def _norm(x):\n    return _clip(x)\n"
                 "def _clip(x):\n    return min(x, LIMIT)\n"
                 "def f(x):\n    return _norm(x)\n"
                 "def g(x):\n    return f(x) + 1\n"
                 "def h(x):\n    return x\n")
    tasks = _tasks(f="1.1", g="1.2", h="1.3")
    assert allowed_tasks(tasks, reference, ["f"]) == {"1.1": "f"}
    assert allowed_tasks(tasks, reference, ["_clip"]) == {"1.1": "f"}        # through _norm, not through g
    assert allowed_tasks(tasks, reference, ["LIMIT", "h"]) == {"1.1": "f", "1.3": "h"}
    assert allowed_tasks(tasks, reference, ["g", "_unused"]) == {"1.2": "g"}


def test_allowed_tasks_of_a_real_helper_mutant():
    a3 = registry.get("a3_attention")
    built = build_file(a3, a3.mutants_dir / "mask_inverted.py")
    assert built.changed == ("_allowed",)
    allowed = allowed_tasks(a3.tasks, a3.solution_path.read_text(encoding="utf-8"), built.changed)
    assert allowed == {"1.1": "scaled_dot_product_attention"}


MUTANTS = [(a.id, m) for a in registry.all_assignments() for m in a.mutants()]


@pytest.mark.parametrize("assignment_id,path", MUTANTS, ids=[f"{a}/{m.stem}" for a, m in MUTANTS])
def test_every_mutant_builds_against_todays_reference(assignment_id, path):
    assignment = registry.get(assignment_id)
    header = parse_header(path.read_text(encoding="utf-8"))
    assert header.mutant and header.expect, f"{path.name} needs '# mutant:' and '# expect:' lines"
    built = build_file(assignment, path)
    compile(built.source, str(path), "exec")
    tree = ast.parse(built.source)
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert {t.function for t in assignment.tasks} <= names        # a full module: every graded name is there
    assert built.changed, f"{path.name} replaces nothing of the reference"


def test_mutant_folders_are_an_order_of_magnitude_smaller_than_copies_of_the_reference():
    """Issue 13's measure: the mutants as overlays take a tenth of the lines that full
    copies of today's references would (a whole copy per mutant was the old layout)."""
    overlays = copies = 0
    for assignment in registry.all_assignments():
        reference = len(assignment.solution_path.read_text(encoding="utf-8").splitlines())
        for path in assignment.mutants():
            overlays += len(path.read_text(encoding="utf-8").splitlines())
            copies += reference
    assert copies >= 10 * overlays, f"{overlays} overlay lines against {copies} for full copies"


def test_mutant_folders_hold_overlays_not_copies():
    """An overlay is much smaller than the reference it changes."""
    for assignment in registry.all_assignments():
        reference = len(assignment.solution_path.read_text(encoding="utf-8").splitlines())
        for path in assignment.mutants():
            lines = len(path.read_text(encoding="utf-8").splitlines())
            assert lines < 0.7 * reference, f"{path} has {lines} lines: a copy of the reference ({reference})?"


def test_the_build_command_prints_the_full_module(capsys):
    assert _main(["build", "a1_cnn", "bias_per_tap"]) == 0
    out = capsys.readouterr().out
    a1 = registry.get("a1_cnn")
    assert out == build_file(a1, a1.mutants_dir / "bias_per_tap.py").source
    assert "bias.view(1, -1, 1, 1) * (kh * kw)" in out
    assert _main(["build", "a1_cnn", "no_such_mutant"]) == 1
    assert "no mutant 'no_such_mutant'" in capsys.readouterr().err


def test_the_compact_command_finds_nothing_left_to_compact(capsys):
    """Every committed mutant is already as small as compact can make it; compact --dry-run
    writes nothing."""
    before = {p: p.read_text(encoding="utf-8") for a in registry.all_assignments() for p in a.mutants()}
    assert _main(["compact", "--dry-run"]) == 0
    assert capsys.readouterr().out == ""
    assert all(p.read_text(encoding="utf-8") == text for p, text in before.items())


def test_a_block_edit_keeps_blank_and_whitespace_only_lines_in_step():
    from autograder.mutant_edits import apply_edits
    text = "def f():\n    x = 1\n\n    return x\n"
    out = apply_edits(text, [Edit("f", "x = 1\n   \nreturn x\n", "x = 2\n\nreturn -x\n")])
    assert out == "def f():\n    x = 2\n\n    return -x\n"
    out = apply_edits(text, [Edit("f", "    x = 1\n      ", "    x = 3\n")])      # a trailing blank line in OLD
    assert out == "def f():\n    x = 3\n    return x\n"
